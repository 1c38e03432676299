#!/usr/bin/env bash
# Which lines of tessera's own code the fuzz corpora reach. Builds the targets with
# `-C instrument-coverage` (`cargo fuzz coverage`), runs each target's corpus
# (fuzz/corpus/<target>/, grown by fuzz runs; seed it with `python3 fuzz/seed.py`) through it,
# and prints llvm-cov's report restricted to the workspace's crates (the harness, the
# dependencies and std left out): one TOTAL line per target, then the per-file table of all
# targets together.
#
#   bash fuzz/coverage.sh                 # every target
#   bash fuzz/coverage.sh token_verify    # some targets
#
# Needs llvm-profdata and llvm-cov of rustc's own LLVM major version (Debian's llvm-N package,
# installed when missing). Writes fuzz/coverage/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")"
major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
triple=$(rustc -vV | sed -n 's/^host: //p')
LLVM=/usr/lib/llvm-$major/bin
[ -x "$LLVM/llvm-cov" ] || bash ../.ci/need-commands "llvm-cov-$major:llvm-$major"
# Only the workspace's sources: not the registry, std (/rustc/...) or this harness.
IGNORE='(/\.cargo/|^/rustc/|/fuzz/)'
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

mkdir -p coverage
objects=()
profiles=()
for t in "${targets[@]}"; do
    [ -d "corpus/$t" ] || { echo "coverage: no corpus for $t (run python3 fuzz/seed.py)" >&2; exit 1; }
    cargo fuzz coverage --sanitizer none --llvm-path "$LLVM" "$t" >"coverage/$t.log" 2>&1 ||
        { tail -n 30 "coverage/$t.log"; exit 1; }
    bin=target/$triple/coverage/$triple/release/$t
    objects+=("$bin")
    profiles+=("coverage/$t/coverage.profdata")
    printf '%-14s %5s inputs  ' "$t" "$(find "corpus/$t" -type f | wc -l)"
    "$LLVM/llvm-cov" report "$bin" -instr-profile="coverage/$t/coverage.profdata" \
        -ignore-filename-regex="$IGNORE" | grep '^TOTAL'
done

"$LLVM/llvm-profdata" merge -sparse "${profiles[@]}" -o coverage/all.profdata
others=()
for bin in "${objects[@]:1}"; do others+=(-object "$bin"); done
echo
echo "all targets together (regions, functions, lines, branches: total, missed, cover):"
"$LLVM/llvm-cov" report "${objects[0]}" "${others[@]}" -instr-profile=coverage/all.profdata \
    -ignore-filename-regex="$IGNORE" | sed "s|$(cd .. && pwd)/||"
