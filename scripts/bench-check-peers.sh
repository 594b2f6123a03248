#!/usr/bin/env bash
# `jspec check` beside `tree-sitter parse` on the same generated corpus (lang/examples/gen_corpus.rs,
# ~100,000 lines in 50 files), both timed in one hyperfine invocation, pinned to one CPU; prints
# lines per second for each. docs/benchmarks-peers.md has the results.
#
#   scripts/bench-check-peers.sh [-h] [LINES] [FILES]        defaults: 100000 50
#
# The two do not do the same work: `tree-sitter parse` only parses (a GLR parse into a concrete
# syntax tree, no names resolved, nothing checked); `jspec check` parses, builds the syntax tree
# and checks it (names, references, procedures, ...), then prints its summary.
#
# Needs: target/release/jspec and target/release/examples/gen_corpus (built with cargo when
# missing), the tree-sitter CLI (TREE_SITTER, default: tree-sitter on PATH, else
# ~/.cargo/bin/tree-sitter; `cargo install tree-sitter-cli`) and a C compiler for the grammar
# (apt-get install gcc). hyperfine (apt-get install hyperfine) is used when installed, else a
# loop timed with date. Environment: RUNS (default 20), CARGO_TARGET_DIR, JSPEC (a jspec binary).
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

lines=${1:-100000}
files=${2:-50}
runs=${RUNS:-20}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
jspec=${JSPEC:-$target/release/jspec}
gen=$target/release/examples/gen_corpus

tree_sitter=${TREE_SITTER:-$(command -v tree-sitter || echo "$HOME/.cargo/bin/tree-sitter")}
if [[ ! -x $tree_sitter ]]; then
    echo "error: the tree-sitter CLI is missing (cargo install tree-sitter-cli, or TREE_SITTER=/path)" >&2
    exit 1
fi
if ! command -v cc >/dev/null 2>&1; then
    echo "error: no C compiler to build the grammar (apt-get install gcc)" >&2
    exit 1
fi
if [[ ! -x $jspec || ! -x $gen ]]; then
    echo "building release jspec and gen_corpus into $target"
    cargo build --release -p jspec -p jspec-lang --bin jspec --example gen_corpus
fi

scratch=$(mktemp -d -t jspec-bench-peers.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
corpus=$scratch/corpus
mkdir "$corpus"
read -r total_lines _ _ _ bytes _ _ < <("$gen" "$corpus" --lines "$lines" --files "$files")
echo "corpus: $total_lines lines, $files files, $bytes bytes"

# The grammar as a shared library, built once here (not in the timing).
"$tree_sitter" build -o "$scratch/jspec.so" editors/tree-sitter-jspec >/dev/null
find "$corpus" -name '*.jspec' | sort >"$scratch/paths"

check_cmd="$jspec check $corpus"
parse_cmd="$tree_sitter parse --quiet --lib-path $scratch/jspec.so --lang-name jspec --paths $scratch/paths"

# Both must succeed on the corpus, or the timing measures an error path.
if ! $check_cmd >/dev/null 2>&1; then
    echo "error: \`jspec check\` failed on the corpus:" >&2
    $check_cmd >&2 || true
    exit 1
fi
if ! errors=$($parse_cmd 2>&1); then
    echo "error: \`tree-sitter parse\` found syntax errors in the corpus:" >&2
    head -n 20 <<<"$errors" >&2
    exit 1
fi

pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 0)
fi

means=()
if command -v hyperfine >/dev/null 2>&1; then
    json=$scratch/hyperfine.json
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$json" \
        -n "jspec check" "${pin[*]} $check_cmd" \
        -n "tree-sitter parse" "${pin[*]} $parse_cmd"
    mapfile -t means < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["mean"], r["median"], r["min"], r["stddev"], r["user"], r["system"])' "$json")
else
    echo "hyperfine not found (apt-get install hyperfine); timing $runs runs of each with date"
    for cmd in "$check_cmd" "$parse_cmd"; do
        "${pin[@]}" $cmd >/dev/null 2>&1 # warm the page cache
        start=$(date +%s.%N)
        for _ in $(seq "$runs"); do "${pin[@]}" $cmd >/dev/null 2>&1; done
        end=$(date +%s.%N)
        mean=$(awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.6f", (e - s) / n }')
        means+=("$mean $mean $mean 0 0 0")
    done
fi

echo
echo "| tool | what it does | mean | median | min | user / sys | lines/s (median) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
names=("jspec check" "tree-sitter parse")
does=("parse + syntax tree + checks + summary" "parse only (concrete syntax tree)")
for i in 0 1; do
    read -r mean median min sd user sys <<<"${means[$i]}"
    awk -v n="${names[$i]}" -v w="${does[$i]}" -v l="$total_lines" -v m="$mean" -v md="$median" \
        -v mn="$min" -v sd="$sd" -v u="$user" -v s="$sys" 'BEGIN {
        printf "| %s | %s | %.1f ms ± %.1f | %.1f ms | %.1f ms | %.1f / %.1f ms | %.2f M |\n",
            n, w, m * 1000, sd * 1000, md * 1000, mn * 1000, u * 1000, s * 1000, l / md / 1e6
    }'
done
read -r _ check_median _ <<<"${means[0]}"
read -r _ parse_median _ <<<"${means[1]}"
awk -v a="$check_median" -v b="$parse_median" 'BEGIN {
    printf "\njspec check takes %.2f x the time of tree-sitter parse (medians)\n", a / b
}'
echo "$total_lines lines, $files files, $runs runs each, pinned to CPU 0 (${pin[*]:-not pinned})"
