#!/usr/bin/env bash
# Tests the editor support under editors/: the Vim syntax, ftplugin and indentation (headless
# Vim), the VS Code grammar (its JSON is up to date, snapshots of every contract example match)
# and the .vsix build. Needs vim, node and npm (scripts/deps.sh installs them); the keyword lists
# themselves are checked by `cargo test -p jspec-lang --test editors`.
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
