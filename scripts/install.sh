#!/usr/bin/env bash
# Installs jspec from this checkout and runs the main job on the built-in local lab.
# Today the main job is `jspec check specs/` (the run command comes with the runtime); this
# script grows with the lab (Prosody, ejabberd, PostgreSQL, KDC) as those parts land.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found. jspec needs Rust 1.88 or newer (https://rustup.rs)." >&2
  exit 3
fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  step "Installing build tools (apt-get)"
  missing=()
  for pkg in gcc pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

step "Building and installing jspec (cargo install --path cli)"
cargo install --locked --path cli --quiet
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
echo "installed: $(command -v jspec) ($(jspec --version))"

step "Checking the JChat resilience suite: jspec check specs/"
jspec check specs/
