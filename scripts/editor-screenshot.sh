#!/usr/bin/env bash
# Renders editors/screenshot-vim.png: a contract example highlighted by editors/vim, exported by
# Vim's :TOhtml (headless) and photographed by headless Chromium (apt-get install chromium).
# Usage: scripts/editor-screenshot.sh [EXAMPLE.jspec]
set -euo pipefail
cd "$(dirname "$0")/.."

example=${1:-tests/examples/pki-expired.jspec}
out=editors/screenshot-vim.png
for tool in vim chromium; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found (apt-get install $tool)" >&2; exit 3; }
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# -u NONE loads no plugins, so :TOhtml is sourced by hand; termguicolors gives it the GUI colours.
cat > "$scratch/tohtml.vim" <<VIM
set runtimepath^=$PWD/editors/vim
runtime plugin/tohtml.vim
set termguicolors background=light
filetype plugin indent on
syntax on
" The file was read before filetype detection was on: read it again.
edit
colorscheme default
let g:html_no_progress = 1
let g:html_number_lines = 1
TOhtml
write! $scratch/example.html
qall!
VIM
vim -Nu NONE -i NONE -es -S "$scratch/tohtml.vim" "$example" >/dev/null || true
[ -s "$scratch/example.html" ] || { echo "error: :TOhtml wrote nothing" >&2; exit 1; }

# The window fits the example: 15 px per line plus margins.
lines=$(wc -l < "$example")
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=900,$((lines * 15 + 30)) --screenshot="$PWD/$out" \
  "file://$scratch/example.html" 2>/dev/null
echo "wrote $out ($(wc -c < "$out") bytes) from $example"
