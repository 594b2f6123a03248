#!/usr/bin/env bash
# Parses every .jspec file of the project (tests/examples/, specs/, stdlib/, and the examples of
# docs/language.md and docs/stdlib.md) with the tree-sitter grammar; fails on any ERROR or
# MISSING node. Needs the tree-sitter CLI on PATH and node.
set -euo pipefail
cd "$(dirname "$0")/.."
root=../..

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
node scripts/doc-examples.js "$scratch"

mapfile -d '' files < <(find "$root/tests/examples" "$root/specs" "$root/stdlib" "$scratch" \
  -name '*.jspec' -print0 | sort -z)
# --quiet prints only the files with errors; the exit status is non-zero if there are any.
tree-sitter parse --quiet "${files[@]}"
echo "${#files[@]} files parse without errors"
