#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit/integration/golden tests, and the
# suite and contract examples through the built binary. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system packages (scripts/deps.sh)"
./scripts/deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

jspec="${CARGO_TARGET_DIR:-target}/debug/jspec"
step "jspec check specs/"
"$jspec" check specs/
step "jspec check tests/examples/ (the contract examples, unchanged)"
"$jspec" check tests/examples/
step "jspec fmt --check specs/ tests/examples/ stdlib/"
"$jspec" fmt --check specs/ tests/examples/ stdlib/
step "trcli compatibility (scripts/trcli-check.sh: TestRail's CLI reads jspec's junit.xml)"
./scripts/trcli-check.sh

step "editor support (scripts/editor-tests.sh)"
./scripts/editor-tests.sh

echo
echo "all tests passed"
