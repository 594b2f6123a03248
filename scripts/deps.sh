#!/usr/bin/env bash
# Installs the Debian packages jspec's lab and tests need (idempotent; root on Debian/Ubuntu).
# Package scripts are not allowed to start system services: the lab starts its own servers on
# private loopback addresses, and a system Prosody listening on every address would take the
# XMPP ports they need.
set -euo pipefail

packages=(prosody gcc pkg-config nftables iptables iproute2)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: missing packages ${missing[*]}; run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 3
fi
echo "installing ${missing[*]} (apt-get)"
policy=/usr/sbin/policy-rc.d
created_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by jspec scripts/deps.sh while installing packages\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=true
fi
cleanup() { if $created_policy; then rm -f "$policy"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
