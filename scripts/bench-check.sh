#!/usr/bin/env bash
# Times `jspec check DIR` on the generated benchmark corpus (~100,000 lines in 50 files, see
# lang/examples/gen_corpus.rs) and prints lines per second.
#
#   scripts/bench-check.sh [LINES] [FILES]        defaults: 100000 50
#
# Uses hyperfine when installed (apt-get install hyperfine), else a loop timed with date.
# Environment: CARGO_TARGET_DIR (default target), RUNS (default 10), JSPEC (a jspec binary to
# time instead of building target/release/jspec).
set -euo pipefail

lines=${1:-100000}
files=${2:-50}
runs=${RUNS:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
if [[ -n ${JSPEC:-} ]]; then
    jspec=$JSPEC
    echo "building release (gen_corpus) into $target; timing $jspec"
    cargo build --release -p jspec-lang --example gen_corpus
else
    jspec=$target/release/jspec
    echo "building release (jspec, gen_corpus) into $target"
    cargo build --release -p jspec -p jspec-lang --bin jspec --example gen_corpus
fi

# `jspec check` is a subcommand of the CLI; a CLI without it cannot be timed.
if ! help=$("$jspec" --help 2>&1) || ! grep -qE '^\s+check\b' <<<"$help"; then
    echo "error: $jspec has no \`check\` command yet (\`jspec --help\` does not list it);" >&2
    echo "       this script times \`jspec check DIR\` and needs the CLI's check command" >&2
    exit 1
fi

corpus=$(mktemp -d -t jspec-bench.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
read -r total_lines _ _ _ bytes _ _ < <("$target/release/examples/gen_corpus" "$corpus" --lines "$lines" --files "$files")
echo "corpus: $total_lines lines, $files files, $bytes bytes in $corpus"

# The corpus is valid: `jspec check` must succeed on it, or the timing measures an error path.
if ! "$jspec" check "$corpus" >/dev/null 2>&1; then
    echo "error: \`jspec check $corpus\` failed on the benchmark corpus:" >&2
    "$jspec" check "$corpus" >&2 || true
    exit 1
fi

# The goal is per core: pin to one CPU when taskset exists.
pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 0)
fi

if command -v hyperfine >/dev/null 2>&1; then
    json=$corpus/hyperfine.json
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$json" "${pin[*]} $jspec check $corpus"
    mean=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$json" 2>/dev/null \
        || grep -o '"mean": *[0-9.e-]*' "$json" | head -n 1 | sed 's/.*: *//')
else
    echo "hyperfine not found (apt-get install hyperfine); timing $runs runs with date"
    "${pin[@]}" "$jspec" check "$corpus" >/dev/null 2>&1 # warm the page cache
    start=$(date +%s.%N)
    for _ in $(seq "$runs"); do
        "${pin[@]}" "$jspec" check "$corpus" >/dev/null 2>&1
    done
    end=$(date +%s.%N)
    mean=$(awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.6f", (e - s) / n }')
fi

awk -v l="$total_lines" -v m="$mean" 'BEGIN {
    printf "mean: %.1f ms per check of %d lines\n", m * 1000, l
    printf "throughput: %.0f lines/s (goal: 1000000 lines/s on one core)\n", l / m
}'
