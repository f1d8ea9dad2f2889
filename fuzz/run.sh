#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 30).
# Usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
CC=clang cmake -S . -B build-fuzz -DKEEL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target fuzz_wire fuzz_stack >/dev/null
for target in fuzz_wire fuzz_stack; do
    mkdir -p "build-fuzz/corpus/$target"
    echo "fuzz: $target for ${secs}s"
    log="build-fuzz/$target.log"
    if ! "./build-fuzz/$target" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 \
        -artifact_prefix="build-fuzz/$target-" "build-fuzz/corpus/$target" >"$log" 2>&1; then
        grep -A30 -E "ERROR|runtime error|invariant|internal rule" "$log" | head -60
        echo "fuzz: $target FAILED; the input is in build-fuzz/$target-crash-*"
        exit 1
    fi
    grep -E "^stat::(number_of_executed_units|new_units_added)" "$log"
done
