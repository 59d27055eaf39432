#!/usr/bin/env bash
# Issue 12's target "attribution, ltv and cohort_retention over 10M rows: no
# slower than today, memory bounded the same way": the 1.0 release
# (a6c87e5) against a build of REV (default HEAD), both loaded side by side
# into the harness's cluster (schemas v1_0 and build, as bench/ab.sh loads
# its builds), over rows made from the harness's 10M events:
#   data.ab_touch       every event a touchpoint of its channel; purchases
#                       are conversions worth 10 to 137
#   data.ab_orders      the purchases as orders
#   data.ab_orders_all  every event as an order
# Each query runs in a new session of one build, a warm-up round, then
# --rounds timed rounds with the builds alternating.  Prints the medians,
# REV / 1.0, the peak private memory of the backend (and its workers), and
# whether the answers agree (attribution's credits to 9 significant digits:
# 1.1 sums money exactly and in an order that does not depend on the plan).
#
#   bash bench/against_1_0.sh [--rounds N] [--max-state-memory SIZE] [REV]
#
# Needs the harness's kept cluster (bench/run.sh --keep, 10M).  Not part of
# the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=5
STATE_MEM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --max-state-memory) STATE_MEM="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
REV=${1:-HEAD}
case "$ROUNDS" in ''|*[!0-9]*|0) echo "--rounds must be a positive integer" >&2; exit 2 ;; esac
[ -z "$STATE_MEM" ] || [[ "$STATE_MEM" =~ ^[0-9]+[kMG]B$ ]] \
  || { echo "--max-state-memory must be a size such as 64MB" >&2; exit 2; }

. "$ROOT/bench/cluster.sh"

. "$ROOT/bench/builds.sh"
WORK=$(mktemp -d /tmp/funnel-v1_0.XXXXXX)
cleanup() {
  cluster_stop
  remove_worktrees
  rm -rf "$WORK"
}
trap cleanup EXIT

build_revision a6c87e5 v1_0
build_revision "$REV" build

cluster_start
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
[ "$("${PSQL[@]}" -tAc "SELECT obj_description(to_regclass('data.events'), 'pg_class')")" = "gen2 users=1000000" ] \
  || { echo "data.events is not the 10M data set of bench/run.sh --keep" >&2; exit 1; }
load_revision v1_0
load_revision build

if [ "$("${PSQL[@]}" -tAc "SELECT obj_description(to_regclass('data.ab_orders_all'), 'pg_class')")" != "from gen2 users=1000000" ]; then
  echo "[bench] making data.ab_touch, data.ab_orders, data.ab_orders_all" >&2
  "${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS data.ab_touch, data.ab_orders, data.ab_orders_all;
CREATE TABLE data.ab_touch AS
SELECT user_id, ts, channel,
       CASE WHEN event = 'purchase' THEN (10 + (hashint8(user_id) & 127))::numeric END AS value
FROM data.events;
CREATE TABLE data.ab_orders AS
SELECT user_id, ts, value AS amount FROM data.ab_touch WHERE value IS NOT NULL;
CREATE TABLE data.ab_orders_all AS
SELECT user_id, ts, (10 + (hashint8(user_id) & 127))::numeric AS amount FROM data.events;
VACUUM ANALYZE data.ab_touch;
VACUUM ANALYZE data.ab_orders;
VACUUM ANALYZE data.ab_orders_all;
COMMENT ON TABLE data.ab_orders_all IS 'from gen2 users=1000000';
SQL
fi

STATE_MEM="$STATE_MEM" LIB="$LIB" python3 - "$ROUNDS" <<'PY'
import os, re, statistics, subprocess, sys, tempfile
sys.path.insert(0, "bench")
import bench

rounds = int(sys.argv[1])
lib = os.environ["LIB"]
serial = list(bench.SERIAL)
par2 = list(bench.PAR2)
if os.environ.get("STATE_MEM"):
    serial.append("SET funnel.max_state_memory = '%s'" % os.environ["STATE_MEM"])
    par2.append("SET funnel.max_state_memory = '%s'" % os.environ["STATE_MEM"])
queries = [
    ("attribution('linear', ...), serial", "SELECT attribution('linear', user_id, ts, channel, value) FROM data.ab_touch", serial),
    ("attribution('markov', ...), serial", "SELECT attribution('markov', user_id, ts, channel, value) FROM data.ab_touch", serial),
    ("attribution('linear', ...), 2 workers", "SELECT attribution('linear', user_id, ts, channel, value) FROM data.ab_touch", par2),
    ("ltv_report, the 0.3M purchases", "SELECT ltv_report(user_id, ts, amount) FROM data.ab_orders", serial),
    ("ltv_report, all 10M rows as orders", "SELECT ltv_report(user_id, ts, amount) FROM data.ab_orders_all", serial),
    ("cohort_retention(user_id, ts, 'week', 4)", "SELECT cohort_retention(user_id, ts, 'week', 4) FROM data.ab_orders_all", serial),
]
builds = ["v1_0", "build"]


def run(build, sql, settings, peak):
    """Time (ms) and answer of sql in a new session of build."""
    fd, pidfile = tempfile.mkstemp(prefix="bench-pid-")
    os.close(fd)
    os.unlink(pidfile)
    env = dict(os.environ, PGOPTIONS="-c search_path=%s,data -c session_preload_libraries=%s/%s.so"
               % (build, lib, build))
    script = "".join(s + ";\n" for s in settings) + \
        "SELECT pg_backend_pid() \\g %s\n\\timing on\n%s;\n" % (pidfile, sql)
    sampler = bench.PeakMemory(pidfile)
    sampler.start()
    try:
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=script,
                           capture_output=True, text=True, env=env)
    finally:
        sampler.done.set()
        sampler.join()
        if os.path.exists(pidfile):
            os.unlink(pidfile)
    if p.returncode != 0:
        # 1.0 under a small limit: its memory error is the answer
        err = [l for l in p.stderr.splitlines() if l.startswith("psql:") or "ERROR" in l]
        return None, "ERROR: " + (err[-1].split("ERROR:", 1)[-1].strip() if err else p.stderr.strip())
    ms, rows = None, []
    for line in p.stdout.splitlines():
        m = re.match(r"^Time: ([0-9.]+) ms", line)
        if m:
            ms = float(m.group(1))
        elif line.strip():
            rows.append(line)
    if sampler.peak_kb is not None:
        peak[build] = max(peak.get(build, 0), sampler.peak_kb / 1024.0)
    return ms, "\n".join(rows)


def rounded(text):
    return re.sub(r"-?\d+\.\d+(e[-+]?\d+)?", lambda m: "%.9g" % float(m.group(0)), text)


print("| query | 1.0 median ms (min-max) | build median ms (min-max) | build / 1.0 | peak MB 1.0 / build | answers |")
print("|---|---:|---:|---:|---:|---|")
for label, sql, settings in queries:
    times = {b: [] for b in builds}
    answers, peak = {}, {}
    for b in builds:
        run(b, sql, settings, peak)          # warm-up
    for r in range(rounds):
        for b in (builds if r % 2 == 0 else builds[::-1]):
            ms, ans = run(b, sql, settings, peak)
            times[b].append(ms)
            answers[b] = ans
    if any(answers[b].startswith("ERROR: ") for b in builds):
        same = "-"
    else:
        same = "the same" if answers["v1_0"] == answers["build"] else \
            ("the same to 9 digits" if rounded(answers["v1_0"]) == rounded(answers["build"]) else "DIFFER")
    def cell(b):
        t = [x for x in times[b] if x is not None]
        if not t:
            return answers[b].splitlines()[0]
        return "%.0f (%.0f-%.0f)" % (statistics.median(t), min(t), max(t))
    a = [x for x in times["v1_0"] if x is not None]
    b = [x for x in times["build"] if x is not None]
    ratio = "%.2f" % (statistics.median(b) / statistics.median(a)) if a and b else "-"
    print("| %s | %s | %s | %s | %.0f / %.0f | %s |" % (
        label, cell("v1_0"), cell("build"), ratio, peak.get("v1_0", 0), peak.get("build", 0), same),
        flush=True)
PY
