#!/usr/bin/env bash
# Tests the editor support under editors/: the Vim syntax, ftplugin and indentation (headless
# Vim), the tree-sitter grammar (its generated parser is up to date, corpus and highlight tests,
# every .jspec file of the project parses), the VS Code grammar (its JSON is up to date,
# snapshots of every contract example match) and the .vsix build. Needs vim, node and npm
# (scripts/deps.sh installs them), cargo and a C compiler; the keyword lists themselves are
# checked by `cargo test -p jspec-lang --test editors`.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "error: $1 not found; run scripts/deps.sh as root (it installs vim, node and npm)" >&2
  exit 3
}
need vim
need node
need npm

step "vim: syntax groups, ftplugin options, indentation (editors/vim/test/run.vim)"
# -es prints nothing; the script reports failures on stderr and exits non-zero.
vim -Nu NONE -i NONE -es -S editors/vim/test/run.vim
echo "vim checks passed"

# The tree-sitter CLI, from crates.io (the npm package downloads its binary from GitHub). The
# version is pinned: the generated parser in editors/tree-sitter-jspec/src/ depends on it. ABI 14,
# not the default 15, so that Neovim 0.10 and Helix releases built on older tree-sitter load it.
TREE_SITTER_VERSION=0.27.1
TREE_SITTER_ABI=14
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
step "tree-sitter: CLI $TREE_SITTER_VERSION"
if [ "$(tree-sitter --version 2>/dev/null | cut -d' ' -f2)" != "$TREE_SITTER_VERSION" ]; then
  need cargo
  # Once per machine (several minutes; tree-sitter-cli 0.27 needs Rust 1.90 or newer); later
  # runs find it in ~/.cargo/bin.
  cargo install tree-sitter-cli --locked --version "$TREE_SITTER_VERSION"
fi
tree-sitter --version

# The CLI warns "You have not configured any parser directories!": harmless, it takes the grammar
# of the directory it runs in (tree-sitter.json).
(
  cd editors/tree-sitter-jspec
  step "tree-sitter: src/ is generated from grammar.js"
  # Generated elsewhere, so a stale src/ is reported, not silently rewritten.
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  tree-sitter generate --abi "$TREE_SITTER_ABI" --output "$scratch/src"
  if ! diff -r src "$scratch/src"; then
    echo "error: editors/tree-sitter-jspec/src/ is stale; run" \
      "\`tree-sitter generate --abi $TREE_SITTER_ABI\` there (tree-sitter-cli" \
      "$TREE_SITTER_VERSION) and commit the result" >&2
    exit 1
  fi

  step "tree-sitter: corpus and highlight tests (test/)"
  tree-sitter test

  step "tree-sitter: every .jspec file of the project parses without errors"
  ./scripts/parse-all.sh
)

cd editors/vscode
step "vscode: npm ci"
# No install scripts: the only one (@vscode/vsce-sign) fetches a signing tool packaging never uses.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

step "vscode: jspec.tmLanguage.json is generated from the YAML"
node scripts/build-grammar.js --check

step "vscode: grammar snapshots of tests/examples/"
node scripts/snapshots.js

step "vscode: package the .vsix"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  # @vscode/vsce 3 needs Node 20; older Debian releases ship Node 18.
  echo "warning: skipped: Node $node_major is older than the Node 20 @vscode/vsce needs" >&2
else
  npx --no-install vsce package
fi
