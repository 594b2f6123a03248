#!/usr/bin/env bash
# The proxy fault plane with no fault beside HAProxy, socat and a direct connection, in one run of
# runtime/examples/proxy_bench.rs on the same loopback flow: bulk throughput (MB/s) and the round
# trip of 64-byte ping-pongs (p50/p99, and what each proxy adds to the direct one). Prints
# proxy_bench's tables, the last one with every path side by side. docs/benchmarks-peers.md has
# the results.
#
#   scripts/bench-proxy-peers.sh [-h] [--bulk-mib N] [--rounds R] [--pings P]
#
# Defaults: N = 4096, R = 5, P = 10000 (about 1.5 min). proxy_bench starts the sink and the echo
# server on two free loopback ports; this script starts, in front of each, HAProxy (TCP mode,
# `option splice-auto`, two threads) and socat (`TCP-LISTEN:PORT,bind=127.0.0.1,fork,reuseaddr,
# nodelay TCP:127.0.0.1:PORT,nodelay`), and stops them at the end (also on errors and Ctrl-C).
# The plane and a plain tokio proxy run inside proxy_bench as in docs/benchmarks-faults.md.
#
# Needs: haproxy (apt-get install haproxy), socat (apt-get install socat), python3 (free ports),
# target/release/examples/proxy_bench (built with cargo when missing; CARGO_TARGET_DIR).
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
bulk_mib=4096 rounds=5 pings=10000
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --bulk-mib) bulk_mib=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --pings) pings=$2; shift 2 ;;
    *) echo "error: unknown option $1 (see -h)" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
bench=$target/release/examples/proxy_bench
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ -x $haproxy ]] || { echo "error: haproxy is missing (apt-get install haproxy)" >&2; exit 1; }
command -v socat >/dev/null 2>&1 || { echo "error: socat is missing (apt-get install socat)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "error: python3 is missing (apt-get install python3)" >&2; exit 1; }
if [[ ! -x $bench ]]; then
    echo "building release proxy_bench into $target"
    cargo build --release -p jspec-runtime --example proxy_bench
fi

scratch=$(mktemp -d -t jspec-proxy-peers.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Six free loopback ports: the sink and echo servers, and each proxy's two listeners.
read -r sink echo ha_sink ha_echo so_sink so_echo < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

cat >"$scratch/haproxy.cfg" <<EOF
global
    nbthread 2
    maxconn 1000
defaults
    mode tcp
    option splice-auto
    timeout connect 5s
    timeout client 120s
    timeout server 120s
listen sink
    bind 127.0.0.1:$ha_sink
    server sink 127.0.0.1:$sink
listen echo
    bind 127.0.0.1:$ha_echo
    server echo 127.0.0.1:$echo
EOF
"$haproxy" -c -q -f "$scratch/haproxy.cfg"
"$haproxy" -db -f "$scratch/haproxy.cfg" >"$scratch/haproxy.log" 2>&1 &
ha_pid=$!
pids+=("$ha_pid")
socat TCP-LISTEN:"$so_sink",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$sink",nodelay &
so_pid=$!
pids+=("$so_pid")
socat TCP-LISTEN:"$so_echo",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$echo",nodelay &
pids+=("$!")

# Wait until the four listeners are up (a proxy that failed to start is an error).
for port in "$ha_sink" "$ha_echo" "$so_sink" "$so_echo"; do
    for _ in $(seq 100); do
        [[ -n $(ss -Hltn "sport = :$port") ]] && break
        sleep 0.05
    done
    if [[ -z $(ss -Hltn "sport = :$port") ]]; then
        echo "error: nothing listens on 127.0.0.1:$port; haproxy said:" >&2
        cat "$scratch/haproxy.log" >&2
        exit 1
    fi
done

haproxy_version=$("$haproxy" -v 2>&1 | sed -n 1p)
socat_version=$(socat -V 2>&1 | sed -n '/socat version/p')
echo "haproxy: $haproxy_version (pid $ha_pid, nbthread 2, option splice-auto)"
echo "socat: $socat_version (pid $so_pid for the sink path; fork, nodelay)"
echo "load before the run: $(cut -d ' ' -f 1-3 /proc/loadavg)"

"$bench" --bulk-mib "$bulk_mib" --rounds "$rounds" --pings "$pings" --no-faults \
    --sink-port "$sink" --echo-port "$echo" \
    --through "haproxy=127.0.0.1:$ha_sink,127.0.0.1:$ha_echo,$ha_pid" \
    --through "socat=127.0.0.1:$so_sink,127.0.0.1:$so_echo,$so_pid"
