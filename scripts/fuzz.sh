#!/usr/bin/env bash
# Fuzzes the .jspec loader, checker and renderer (fuzz target `parse_check`) for a number of
# seconds, then prints libFuzzer's executions and seconds.
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]     SECONDS defaults to 600
#
# Needs a nightly toolchain (rustup toolchain install nightly); installs cargo-fuzz when missing.
# The corpus (fuzz/corpus/parse_check, not committed) is seeded from fuzz/seeds, tests/examples
# and stdlib, and grows across runs. A crash is written to fuzz/artifacts/parse_check/ and makes
# this script exit non-zero. Environment: FUZZ_TOOLCHAIN (default nightly), FUZZ_SANITIZER
# (address, the default, or none: about twice as many executions), CARGO_TARGET_DIR.
set -euo pipefail

seconds=${1:-600}
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
    echo "usage: $0 [SECONDS] [LIBFUZZER_ARGS...]   (SECONDS: a whole number > 0, default 600)" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
toolchain=${FUZZ_TOOLCHAIN:-nightly}
sanitizer=${FUZZ_SANITIZER:-address}

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "error: the $toolchain toolchain is missing; install it with: rustup toolchain install $toolchain" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus/parse_check
mkdir -p "$corpus" fuzz/artifacts/parse_check
for file in fuzz/seeds/*.jspec tests/examples/*.jspec; do
    cp "$file" "$corpus/seed-$(basename "$file")"
done
for file in stdlib/*.jspec; do
    cp "$file" "$corpus/seed-stdlib-$(basename "$file")"
done

log=$(mktemp -t jspec-fuzz.XXXXXX.log)
echo "fuzzing parse_check for ${seconds}s (sanitizer: $sanitizer, corpus: $corpus, log: $log)"
started=$(date +%s)
set +e
cargo "+$toolchain" fuzz run --sanitizer "$sanitizer" parse_check "$corpus" -- \
    -max_total_time="$seconds" -dict="$root/fuzz/jspec.dict" -print_final_stats=1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
wall=$(($(date +%s) - started))

# libFuzzer ends a clean run with "Done N runs in S second(s)"; after a crash only the stats
# (number_of_executed_units) are printed.
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
if [[ -n $done_line ]]; then
    executions=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/' <<<"$done_line")
    elapsed=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/' <<<"$done_line")
else
    executions=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n 1 | awk '{print $2}' || true)
    elapsed="$wall (wall clock, build included)"
fi
per_second=$(grep -E '^stat::average_exec_per_sec:' "$log" | tail -n 1 | awk '{print $2}' || true)
units=$(find "$corpus" -type f | wc -l)

echo
echo "== jspec fuzz summary"
echo "executions: ${executions:-?}"
echo "seconds:    ${elapsed}"
echo "exec/s:     ${per_second:-?}"
echo "corpus:     $units files"
if [[ $status -eq 0 ]]; then
    echo "result:     no crash"
else
    echo "result:     FAILED (exit $status); crash inputs:"
    ls -1 fuzz/artifacts/parse_check/ 2>/dev/null | sed 's/^/  fuzz\/artifacts\/parse_check\//'
    echo "reproduce:  cargo +$toolchain fuzz run parse_check fuzz/artifacts/parse_check/<file>"
fi
exit "$status"
