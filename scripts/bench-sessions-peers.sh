#!/usr/bin/env bash
# jspec's sessions benchmark (runtime/examples/sessions.rs) beside tsung doing the same work
# against the same managed Prosody, in one run: N users log in (STARTTLS, SASL PLAIN, bind), each
# sends M chat messages to the full JID of the next user (a ring), all wait for theirs, all
# close. Prints one table: sessions connected, messages received, messages/s, CPU and peak RSS
# of each tool (also per session) and Prosody's CPU while each ran. docs/benchmarks-peers.md
# has the results.
#
#   scripts/bench-sessions-peers.sh [-h] [--sessions N] [--messages M] [--concurrency C]
#       [--arrival-rate R] [--wait SECS]
#
# Defaults: N = 1000, M = 2, C = 50 (jspec's connects at a time), R = 250 (tsung's new users per
# second; tsung has no concurrency bound, only an arrival rate), wait 20 s (how long each tsung
# user stays after sending: tsung cannot wait "until received", so it waits a fixed time).
#
# How: the sessions example starts one lab Prosody (as `jspec run` does), registers the N
# accounts bench0..bench<N-1>, runs its benchmark with `--auth plain`, then (`--then`) runs
# this script again inside the lab, which runs tsung against the same server and accounts;
# then the example stops the lab. tsung's Erlang VM uses a private epmd on loopback, stopped
# (by its PID) at the end; everything started is stopped on errors and Ctrl-C too.
#
# Measured: jspec's CPU (user + sys) and peak RSS (VmHWM) from /proc/self, as the example prints
# them; tsung's from `/usr/bin/time -v` around the `tsung` command (its Erlang VM, start-up and
# report writing included); Prosody's CPU from /proc/<pid>/stat before and after each tool.
# Receipt: jspec matches every message it waits for; tsung counts the messages in the traffic
# it received (dumptraffic, counted afterwards by this script) and measures latency from the
# stamps in their bodies (its `xmpp_msg_latency`, at most one sample per socket read).
#
# BENCH_PEERS_KEEP=1 keeps the scratch folder (tsung.xml, tsung's logs and dump, outputs).
#
# Needs: prosody (apt-get install prosody), tsung (apt-get install tsung), GNU time
# (apt-get install time), target/release/examples/sessions (built with cargo when missing).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self=$root/scripts/$(basename "${BASH_SOURCE[0]}")

# ---------------------------------------------------------------------------------------------
# Inside the lab: called by the sessions example's --then with the server in the environment.
# ---------------------------------------------------------------------------------------------
inside_lab() {
    local out=$BENCH_PEERS_DIR n=$BENCH_PEERS_N m=$BENCH_PEERS_M rate=$BENCH_PEERS_RATE
    local wait=$BENCH_PEERS_WAIT domain=$JSPEC_BENCH_DOMAIN ppid=$JSPEC_BENCH_PROSODY_PID
    local logdir=$out/tsung-log
    mkdir -p "$logdir"

    # Users file: name;password;the next user (ring), in arrival order.
    awk -v n="$n" -v p="$JSPEC_BENCH_PASSWORD" 'BEGIN {
        for (i = 0; i < n; i++) printf "bench%d;%s;bench%d\n", i, p, (i + 1) % n }' >"$out/users.csv"

    # The phase ends when N users have arrived (maxnumber); its duration only bounds it, with room
    # for a launcher slowed down by a busy machine. A user that waits for the others longer than
    # the global ack timeout gives up (tsung counts a timeout), so a lost user cannot hang the run.
    local duration=$((3 * (n + rate - 1) / rate + 30))
    {
        cat <<EOF
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="error" dumptraffic="true" version="1.0">
  <clients>
    <client host="localhost" use_controller_vm="true" maxusers="$((n + 10))"/>
  </clients>
  <servers>
    <server host="$JSPEC_BENCH_HOST" port="$JSPEC_BENCH_PORT" type="tcp"/>
  </servers>
  <load>
    <arrivalphase phase="1" duration="$duration" unit="second">
      <users maxnumber="$n" arrivalrate="$rate" unit="second"/>
    </arrivalphase>
  </load>
  <options>
    <option type="ts_jabber" name="domain" value="$domain"/>
    <option type="ts_jabber" name="userid_max" value="0"/>
    <option type="ts_jabber" name="global_number" value="$n"/>
    <option name="global_ack_timeout" value="$(((duration + 60) * 1000))"/>
    <option name="file_server" id="users" value="$out/users.csv"/>
  </options>
  <sessions>
    <session probability="100" name="ring" type="ts_jabber" bidi="true">
      <setdynvars sourcetype="file" fileid="users" delimiter=";" order="iter">
        <var name="username"/>
        <var name="password"/>
        <var name="next"/>
      </setdynvars>
      <transaction name="login">
        <request subst="true"><jabber type="connect" ack="local"><xmpp_authenticate username="%%_username%%" passwd="%%_password%%"/></jabber></request>
        <request><jabber type="starttls" ack="bidi_ack"/></request>
        <request><jabber type="connect" ack="local"/></request>
        <request><jabber type="auth_sasl" ack="local"/></request>
        <request><jabber type="connect" ack="local"/></request>
        <request><jabber type="auth_sasl_bind" ack="local"/></request>
        <request><jabber type="auth_sasl_session" ack="local"/></request>
      </transaction>
      <thinktime value="wait_global"/>
EOF
        for j in $(seq "$m"); do
            cat <<EOF
      <setdynvars sourcetype="eval" code="fun({_Pid, _DynVars}) -> {Mega, Secs, Micro} = erlang:timestamp(), lists:flatten(io_lib:format(&quot;@@@~w,~w;~w;~w@@@&quot;, [erlang:phash2(node()), Mega, Secs, Micro])) end.">
        <var name="stamp"/>
      </setdynvars>
      <request subst="true"><jabber type="raw" ack="no_ack" data="&lt;message to='%%_next%%@$domain/tsung' type='chat' id='t%%_username%%-$j'&gt;&lt;body&gt;%%_stamp%%&lt;/body&gt;&lt;/message&gt;"/></request>
EOF
        done
        cat <<EOF
      <thinktime value="$wait" random="false"/>
      <request><jabber type="close" ack="no_ack"/></request>
    </session>
  </sessions>
</tsung>
EOF
    } >"$out/tsung.xml"

    # tsung's Erlang VM registers with an epmd; a private one on loopback, stopped at the end.
    epmd_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
    stop_epmd() {
        local epmd_pid
        epmd_pid=$( (ss -Hltnp "sport = :$epmd_port" 2>/dev/null || true) | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | sed -n 1p)
        if [[ -n $epmd_pid ]]; then kill "$epmd_pid" 2>/dev/null || true; fi
    }
    trap stop_epmd EXIT

    local cpu_before cpu_after start end
    prosody_cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$ppid/stat"; }
    cpu_before=$(prosody_cpu)
    start=$(date +%s.%N)
    local status=0
    /usr/bin/time -v -o "$out/tsung.time" \
        tsung -n -I 127.0.0.1 -l "$logdir" -f "$out/tsung.xml" start >"$out/tsung.out" 2>&1 || status=$?
    end=$(date +%s.%N)
    cpu_after=$(prosody_cpu)
    stop_epmd
    if [[ $status -ne 0 ]]; then
        echo "error: tsung exited with status $status:" >&2
        cat "$out/tsung.out" >&2
        return 1
    fi

    local run hz
    run=$(find "$logdir" -mindepth 1 -maxdepth 1 -type d | sed -n 1p)
    hz=$(getconf CLK_TCK)
    cp "$out/tsung.xml" "$run/" 2>/dev/null || true
    # Receipts in the traffic tsung received (its dump, one line per socket read): the chat
    # messages from bench users; the message phase runs from the first chat message sent to the
    # last one received.
    local received phase stats
    received=$( (grep '^Recv:' "$run/tsung.dump" || true) | (grep -o '<message [^>]*>' || true) |
        (grep "type='chat'" || true) | (grep -c "from='bench[0-9]*@$domain/tsung'" || true))
    phase=$(awk -F: '
        /^Send:/ && /<message / && first == "" { first = $2 }
        /^Recv:/ && /<message [^>]*from=.bench[0-9]*@/ && /type=.chat./ { last = $2 }
        END { if (first != "" && last != "") printf "%.6f", last - first; else print 0 }' "$run/tsung.dump")
    stats=$run/tsung.log
    {
        echo "wall_s=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')"
        echo "received=$received"
        echo "message_phase_s=$phase"
        echo "prosody_cpu_s=$(awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')"
        awk -F': *' '/User time/ { print "cpu_user_s=" $2 } /System time/ { print "cpu_sys_s=" $2 }
            /Maximum resident set size/ { print "hwm_kib=" $2 }' "$out/tsung.time"
        # The last `stats:` line of each name in tsung.log: count (2), mean (3), max (5), then
        # the global mean (7) and global count (8) for samples; counters: period (2), total (3).
        awk '$1 == "stats:" { last[$2] = $0 } END { for (k in last) print "stat_" last[k] }' "$stats" |
            sed 's/^stat_stats: /stat_/'
        echo "run_dir=$run"
    } >"$out/tsung.result"
}

if [[ ${1:-} == --inside-lab ]]; then
    inside_lab
    exit
fi

# ---------------------------------------------------------------------------------------------
# Outside: start the example (which starts the lab and calls back in), then print the table.
# ---------------------------------------------------------------------------------------------
usage() { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; }
n=1000 m=2 c=50 rate=250 wait=20
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --sessions) n=$2; shift 2 ;;
    --messages) m=$2; shift 2 ;;
    --concurrency) c=$2; shift 2 ;;
    --arrival-rate) rate=$2; shift 2 ;;
    --wait) wait=$2; shift 2 ;;
    *) echo "error: unknown option $1 (see -h)" >&2; exit 2 ;;
    esac
done

cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
sessions=$target/release/examples/sessions
command -v prosody >/dev/null 2>&1 || { echo "error: prosody is missing (apt-get install prosody)" >&2; exit 1; }
command -v tsung >/dev/null 2>&1 || { echo "error: tsung is missing (apt-get install tsung)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: GNU time is missing (apt-get install time)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "error: python3 is missing (apt-get install python3)" >&2; exit 1; }
if [[ ! -x $sessions ]]; then
    echo "building release sessions example into $target"
    cargo build --release -p jspec-runtime --example sessions
fi

scratch=$(mktemp -d -t jspec-sessions-peers.XXXXXX)
bench_pid=""
cleanup() {
    if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
        # SIGINT: the example closes its sessions, stops the lab and its --then command.
        kill -INT "$bench_pid" 2>/dev/null || true
        wait "$bench_pid" 2>/dev/null || true
    fi
    if [[ -n ${BENCH_PEERS_KEEP:-} ]]; then
        echo "kept: $scratch" >&2
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export BENCH_PEERS_DIR=$scratch BENCH_PEERS_N=$n BENCH_PEERS_M=$m BENCH_PEERS_RATE=$rate \
    BENCH_PEERS_WAIT=$wait
echo "load before the run: $(cut -d ' ' -f 1-3 /proc/loadavg)"
"$sessions" --sessions "$n" --accounts "$n" --messages "$m" --concurrency "$c" \
    --deadline 60 --auth plain --then "'$self' --inside-lab" >"$scratch/jspec.out" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
cat "$scratch/jspec.out"
if [[ $status -ne 0 || ! -f $scratch/tsung.result ]]; then
    echo "error: the benchmark failed (status $status)" >&2
    [[ -f $scratch/tsung.out ]] && cat "$scratch/tsung.out" >&2
    exit 1
fi

# jspec's numbers: the example's summary line.
summary=$(grep '^summary:' "$scratch/jspec.out" | tail -n 1)
j() { tr ' ' '\n' <<<"$summary" | sed -n "s/^$1=//p"; }
# tsung's: the result file written inside the lab.
t() { sed -n "s/^$1=//p" "$scratch/tsung.result" | sed -n 1p; }
tstat() { sed -n "s/^stat_$1 //p" "$scratch/tsung.result" | sed -n 1p; }

echo
echo "tsung's own statistics (last line of each in tsung.log; samples: name count mean stddev max min globalmean globalcount):"
grep '^stat_' "$scratch/tsung.result" | sed 's/^stat_/  /' | sort
echo

versions="jspec $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), $(tsung -v 2>&1 | sed -n 1p), Prosody $(dpkg-query -W -f '${Version}' prosody 2>/dev/null)"
echo "## sessions: $n users, $m messages each to the next user, one Prosody ($versions)"
echo
echo "| | jspec (sessions example) | tsung |"
echo "| --- | --- | --- |"

# tsung: sessions that finished the login transaction (global count of tr_login).
t_login=$(tstat tr_login | awk '{ print $NF }')
t_lat=$(tstat xmpp_msg_latency)
t_users=$(tstat users_count | awk '{ print $2 }')
awk -v jn="$(j connected)" -v jr="$(j requested)" -v jf="$(j connect_failures)" \
    -v je="$(j expected)" -v jrecv="$(j received)" -v jp50="$(j latency_p50_s)" \
    -v jmax="$(j latency_max_s)" -v jphase="$(j message_phase_s)" -v jcon="$(j connect_phase_s)" \
    -v jcpu="$(j cpu_s)" -v jcu="$(j cpu_user_s)" -v jcs="$(j cpu_sys_s)" -v jhwm="$(j hwm_kib)" \
    -v jpro="$(j prosody_cpu_s)" \
    -v tn="${t_login:-0}" -v tusers="${t_users:-?}" -v trecv="$(t received)" -v tlat="$t_lat" \
    -v tcu="$(t cpu_user_s)" -v tcs="$(t cpu_sys_s)" -v thwm="$(t hwm_kib)" \
    -v tpro="$(t prosody_cpu_s)" -v twall="$(t wall_s)" -v tphase="$(t message_phase_s)" -v n="$n" -v m="$m" -v wait="$wait" 'BEGIN {
    # The last line of a sample: count mean stddev (of the last period), max min (of the run),
    # mean and count of the run.
    split(tlat, l, " ")
    tmax = l[4] / 1000; tmean = l[6] / 1000; tsamples = l[7]
    te = tn * m
    tcpu = tcu + tcs
    printf "| sessions connected / requested | %d / %d (%d failed) | %d / %d (finished the login transaction) |\n", jn, jr, jf, tn, n
    printf "| messages received / expected | %d / %d (each matched by the receiving session) | %d / %d (counted in the traffic tsung dumped) |\n", jrecv, je, trecv, te
    printf "| delivery latency | p50 %.3f s, max %.3f s | mean %.3f s, max %.3f s (%d stamp samples) |\n", jp50, jmax, tmean, tmax, tsamples
    printf "| messages/s (received / max latency) | %.0f | %.0f |\n", jrecv / (jmax > 0 ? jmax : 1e-9), trecv / (tmax > 0 ? tmax : 1e-9)
    printf "| messages/s (received / message phase) | %.0f (%.3f s: all connected to all received) | %.0f (%.3f s: first message sent to last received, from its dump) |\n", jrecv / (jphase > 0 ? jphase : 1e-9), jphase, trecv / (tphase > 0 ? tphase : 1e-9), tphase
    printf "| CPU, whole process (user + sys) | %.2f s (%.2f + %.2f) | %.2f s (%.2f + %.2f), Erlang VM start and report included |\n", jcpu, jcu, jcs, tcpu, tcu, tcs
    printf "| CPU per session | %.2f ms | %.2f ms |\n", jn ? jcpu * 1000 / jn : 0, tn ? tcpu * 1000 / tn : 0
    printf "| peak RSS | %.1f MiB | %.1f MiB |\n", jhwm / 1024, thwm / 1024
    printf "| peak RSS per session | %.1f KiB | %.1f KiB |\n", jn ? jhwm / jn : 0, tn ? thwm / tn : 0
    printf "| Prosody CPU while the tool ran | %.2f s (%.2f ms per session) | %.2f s (%.2f ms per session) |\n", jpro, jn ? jpro * 1000 / jn : 0, tpro, tn ? tpro * 1000 / tn : 0
    printf "| connect phase | %.2f s (%d at a time) | arrival %d users/s |\n", jcon, '"$c"', '"$rate"'
    printf "| tool wall | see the example table | %.1f s (includes the fixed %d s wait) |\n", twall, wait
}'
