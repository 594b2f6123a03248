#!/usr/bin/env bash
# Installs the Debian packages jspec's lab and tests need (idempotent; root on Debian/Ubuntu).
# Package scripts are not allowed to start system services: the lab starts its own servers on
# private loopback addresses, and a system Prosody listening on every address would take the
# XMPP ports they need; a system KDC would serve a realm the lab does not own (the lab runs its
# own krb5kdc from private files, see docs/kerberos.md).
set -euo pipefail

packages=(prosody gcc pkg-config nftables iptables iproute2
  # Kerberos single sign-on: the lab KDC, kinit, GSSAPI for the client (libgssapi builds against
  # libkrb5-dev through bindgen, hence libclang-dev) and Prosody's Cyrus SASL GSSAPI backend.
  krb5-kdc krb5-admin-server krb5-user libkrb5-dev libclang-dev
  prosody-modules lua-cyrussasl libsasl2-modules-gssapi-mit
  # Clocks of lab servers (`skew clock of a by 3s`): libfaketime, preloaded into the servers.
  faketime libfaketime
  # Clusters in the lab: ejabberd nodes on a private PostgreSQL (no system service is started:
  # the lab runs its own epmd, nodes and postgres from private folders).
  ejabberd erlang-p1-pgsql postgresql-15 postgresql-client-15
  # Replicated databases (`databases pg with nodes pg1, pg2`): Patroni agents on one etcd
  # member, HAProxy routing to the primary; the lab runs its own, never the system services.
  patroni etcd-server etcd-client haproxy
  # scripts/trcli-check.sh installs TestRail's CLI (PyPI trcli) into a venv.
  python3 python3-venv
  # The test that renders report.html in a headless browser (cli/tests/report_html.rs).
  chromium)
# The packages enable krb5-kdc, krb5-admin-server, ejabberd, postgresql, etcd, haproxy and
# patroni at boot; the lab runs its own KDC, nodes and databases, never the system's (a system
# ejabberd on every address would take the lab's XMPP ports), so they are disabled, and stopped
# should one be running (by its init script, which goes by the system PID file, never by name).
# Idempotent, so it also runs when nothing is new.
keep_system_services_off() {
  [ "$(id -u)" = 0 ] || return 0
  for service in krb5-kdc krb5-admin-server ejabberd postgresql etcd haproxy patroni; do
    [ -e "/etc/init.d/$service" ] || [ -e "/lib/systemd/system/$service.service" ] || continue
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
      update-rc.d "$service" disable >/dev/null 2>&1 || true
      # ejabberd's init script calls ejabberdctl, which starts an epmd on every address when
      # none runs; the package never started ejabberd here (policy-rc.d), so skip its stop.
      [ "$service" = ejabberd ] || "/etc/init.d/$service" stop >/dev/null 2>&1 || true
    fi
  done
}

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# The editor tests (scripts/editor-tests.sh) need vim, node and npm. They go by command: a Node
# from elsewhere (NodeSource bundles npm) would conflict with Debian's npm package.
command -v vim >/dev/null 2>&1 || missing+=(vim-nox)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  keep_system_services_off
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
# krb5-config asks for a default realm and its servers; the lab never uses /etc/krb5.conf (it
# points KRB5_CONFIG at its own file), so any answer works as long as nothing is asked.
debconf-set-selections <<'PRESEED'
krb5-config krb5-config/default_realm string TEST.REALM
krb5-config krb5-config/kerberos_servers string localhost
krb5-config krb5-config/admin_server string localhost
krb5-config krb5-config/add_servers_realm string TEST.REALM
krb5-config krb5-config/add_servers boolean false
krb5-config krb5-config/read_conf boolean true
krb5-admin-server krb5-admin-server/newrealm note
krb5-admin-server krb5-admin-server/kadmind boolean false
krb5-kdc krb5-kdc/debconf boolean false
PRESEED
apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
keep_system_services_off
