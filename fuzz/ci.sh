#!/usr/bin/env bash
# The short, bounded fuzzing run of CI: builds every target of fuzz/ on the pinned stable
# toolchain (libFuzzer's coverage instrumentation, no sanitizer: see README.md) and runs each
# for FUZZ_SECS seconds (default 30), FUZZ_JOBS targets at a time (default 2, one per core),
# from the seeds of the spec vectors, after replaying the inputs of past findings
# (regressions/<target>/). Fails on any crash, panic or property violation
# (libFuzzer exits non-zero and writes the input to fuzz/artifacts/<target>/). Installs
# cargo-fuzz (pinned) into ~/.cargo/bin when missing.
set -euo pipefail
cd "$(dirname "$0")"
start=$SECONDS
CARGO_FUZZ_VERSION=0.13.2
SECS=${FUZZ_SECS:-30}
JOBS=${FUZZ_JOBS:-2}

# libfuzzer-sys compiles libFuzzer (C++) with the machine's C++ compiler.
bash ../.ci/need-commands c++:g++
if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi
python3 seed.py
cargo fuzz build --sanitizer none
echo "fuzz: install and build took $((SECONDS - start)) s"

# Inputs that once failed a target (regressions/<target>/), each run once: a finding stays
# fixed whatever the timed runs below happen to explore.
mkdir -p artifacts
for dir in regressions/*/; do
    target=$(basename "$dir")
    if ! cargo fuzz run --sanitizer none "$target" "$dir" -- -runs=0 >"artifacts/$target-regressions.log" 2>&1; then
        tail -n 40 "artifacts/$target-regressions.log"
        echo "fuzz: $target FAILED on a regression input in fuzz/$dir"
        exit 1
    fi
    echo "fuzz: $target: $(find "$dir" -type f | wc -l) regression input(s) pass"
done

# Runs one target for SECS seconds; its log goes to artifacts/<target>.log.
run_target() {
    local target=$1
    mkdir -p "corpus/$target" artifacts
    cargo fuzz run --sanitizer none "$target" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"artifacts/$target.log" 2>&1
}

# Reports a finished target: its figures, or its log's end and where the input is.
report() {
    local target=$1 status=$2 log="artifacts/$1.log"
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/, log in fuzz/$log)"
        return 1
    fi
    grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $target: /"
}

failed=0
targets=($(cargo fuzz list))
for ((i = 0; i < ${#targets[@]}; i += JOBS)); do
    batch=("${targets[@]:i:JOBS}")
    echo "fuzz: ${batch[*]} for ${SECS} s"
    pids=()
    for target in "${batch[@]}"; do
        run_target "$target" &
        pids+=($!)
    done
    for j in "${!batch[@]}"; do
        status=0
        wait "${pids[$j]}" || status=$?
        report "${batch[$j]}" "$status" || failed=1
    done
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FAILED after $((SECONDS - start)) s"
    exit 1
fi
echo "fuzz: all targets passed in $((SECONDS - start)) s"
