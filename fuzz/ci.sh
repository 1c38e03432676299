#!/usr/bin/env bash
# The short, bounded fuzzing run of CI: builds every target of fuzz/ on the pinned stable
# toolchain (libFuzzer's coverage instrumentation, no sanitizer: see README.md) and runs each
# for FUZZ_SECS seconds (default 30) from the seeds of the spec vectors. Fails on any crash,
# panic or property violation (libFuzzer exits non-zero and writes the input to
# fuzz/artifacts/<target>/). Installs cargo-fuzz (pinned) into ~/.cargo/bin when missing.
set -euo pipefail
cd "$(dirname "$0")"
start=$SECONDS
CARGO_FUZZ_VERSION=0.13.2
SECS=${FUZZ_SECS:-30}

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi
python3 seed.py
cargo fuzz build --sanitizer none
echo "fuzz: install and build took $((SECONDS - start)) s"

for target in $(cargo fuzz list); do
    mkdir -p "corpus/$target"
    log="artifacts/$target.log"
    mkdir -p artifacts
    echo "fuzz: $target for ${SECS} s"
    if ! cargo fuzz run --sanitizer none "$target" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/, log in fuzz/$log)"
        exit 1
    fi
    grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $target: /"
done
echo "fuzz: all targets passed in $((SECONDS - start)) s"
