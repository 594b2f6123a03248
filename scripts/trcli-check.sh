#!/usr/bin/env bash
# trcli compatibility: feeds the junit.xml `jspec run` writes to TestRail's own CLI (trcli, from
# PyPI) against a local fake TestRail (scripts/trcli-fake-testrail.py), then checks that the
# results trcli posted carry the same case ids, statuses and step statuses as jspec's own
# testrail-results.json (JUnit has no Blocked: trcli sends Retest, 4, as docs/testrail.md says).
#
#   scripts/trcli-check.sh [JUNIT_RUN_FOLDER]     default: tests/testrail/run-sample
#
# Needs python3 with venv (scripts/deps.sh installs python3-venv) and PyPI for the first
# `pip install`; nothing else leaves the machine. The venv is kept in
# ${CARGO_TARGET_DIR:-target}/trcli-venv and reused. Environment: TRCLI_VERSION (pip spec,
# default ">=1.15,<1.16").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
run=${1:-tests/testrail/run-sample}
junit=$run/junit.xml
expected=$run/testrail-results.json
for file in "$junit" "$expected"; do
    [[ -f $file ]] || { echo "error: $file is missing (see tests/testrail/sample.jspec)" >&2; exit 2; }
done

venv=${CARGO_TARGET_DIR:-$root/target}/trcli-venv
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        echo "error: python3 cannot create a venv; install python3-venv (scripts/deps.sh)" >&2
        exit 3
    fi
fi
# `trcli --version` exits 2: ask the package instead.
if ! "$venv/bin/python" -c 'import trcli' >/dev/null 2>&1 || [[ ! -x $venv/bin/trcli ]]; then
    echo "installing trcli${TRCLI_VERSION:->=1.15,<1.16} from PyPI into $venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "trcli${TRCLI_VERSION:->=1.15,<1.16}"
fi
echo "trcli $("$venv/bin/python" -c 'import trcli; print(trcli.__version__)')"

work=$(mktemp -d -t jspec-trcli.XXXXXX)
fake_pid=
cleanup() {
    if [[ -n $fake_pid ]]; then kill "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The case ids the fake TestRail knows: those jspec has results for.
mapfile -t ids < <("$venv/bin/python" -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]: print(r["case_id"])' "$expected")
"$venv/bin/python" scripts/trcli-fake-testrail.py "$work/requests.jsonl" "$work/port" "${ids[@]}" &
fake_pid=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { echo "error: the fake TestRail did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"

# trcli writes its own files next to the working directory: run it in the scratch folder.
(cd "$work" && timeout 300 "$venv/bin/trcli" -n -h "$url" --project jspec -u ci@example.invalid \
    -k not-a-key parse_junit -f "$root/$junit" --case-matcher property --suite-id 1 \
    --title "jspec trcli check") > "$work/trcli.log" 2>&1 || {
    cat "$work/trcli.log" >&2
    echo "error: trcli failed on $junit" >&2
    exit 1
}

"$venv/bin/python" - "$work/requests.jsonl" "$expected" <<'PY'
import json, sys

requests = [json.loads(line) for line in open(sys.argv[1])]
expected = {r["case_id"]: r for r in json.load(open(sys.argv[2]))["results"]}
problems = []

def retest(status):
    # JUnit cannot say Blocked: jspec writes <skipped>, trcli sends Retest.
    return 4 if status == 2 else status

runs = [r for r in requests if r["api"].startswith("add_run/")]
if len(runs) != 1 or sorted(runs[0]["body"]["case_ids"]) != sorted(expected):
    problems.append(f"add_run: expected one run with cases {sorted(expected)}, got {runs}")
posted = [x for r in requests if r["api"].startswith("add_results_for_cases/")
          for x in r["body"]["results"]]
got = {x["case_id"]: x for x in posted}
if sorted(got) != sorted(expected) or len(posted) != len(got):
    problems.append(f"results for cases {sorted(got)} ({len(posted)} sent), expected {sorted(expected)}")
for case_id, want in expected.items():
    have = got.get(case_id)
    if have is None:
        continue
    if have["status_id"] != retest(want["status_id"]):
        problems.append(f"C{case_id}: status {have['status_id']}, expected {retest(want['status_id'])}")
    steps = [(s["content"], s["status_id"]) for s in have.get("custom_step_results", [])]
    want_steps = [(s["content"], retest(s["status_id"])) for s in want["custom_step_results"]]
    if steps != want_steps:
        problems.append(f"C{case_id}: steps {steps}, expected {want_steps}")
    if have.get("version") != want["version"]:
        problems.append(f"C{case_id}: version {have.get('version')!r}, expected {want['version']!r}")
if problems:
    print("trcli check FAILED:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"trcli check passed: {len(posted)} results, statuses and steps as jspec reported them")
PY
