#!/usr/bin/env bash
# Paired comparison of two builds of the extension (doc/performance.md,
# round 11): each git revision is built in a temporary worktree, both
# libraries are loaded side by side into the harness's cluster (schemas
# ab_a and ab_b), and each case runs alternately in two open sessions, one
# per build.  Prints, per case, the ratio B / A pair by pair: its median,
# interquartile range and how many pairs B won.  A pair's two runs are a
# second apart, where the medians of bench/run.sh are minutes apart: on a
# virtual machine whose speed drifts by tens of percent from one minute to
# the next, only pairs separate a change of a few percent.
#
#   bash bench/ab.sh [--pairs N] [--table TABLE] [--case CASE]...
#                    [--new-sessions] REV_A REV_B
#
#   --pairs  pairs per case (default 30)
#   --table  the events table in schema data (default events: the data set of
#            the last `bench/run.sh --keep`, which this needs)
#   --case   names (serial event-name form, the default), conditions,
#            product (2 exclusions and an optional step), partitionwise
#            (conditions over data.events_hp, 2 workers, as the harness's
#            fsc_hp: --table does not apply), correlation
#            (funnel_correlation over the four names), paths (depth 5, top 20,
#            as the harness's paths_d5), breakdown (by channel, the purchase's:
#            the harness's bd_step4), names_p2 (the event-name
#            form with 2 workers over TABLE, as the harness's fsc_names_p2),
#            names_where (the serial event-name form over the last three of
#            the four weeks: a WHERE clause in the scan); may repeat
#   --new-sessions  each run in a new session, as bench/run.sh runs them:
#            a new backend's memory is fresh pages from the kernel, which an
#            open session's may not be (the C library keeps what it freed)
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PAIRS=30
TABLE=events
CASES=()
NEW_SESSIONS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --table) TABLE="$2"; shift 2 ;;
    --case) CASES+=("$2"); shift 2 ;;
    --new-sessions) NEW_SESSIONS=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { echo "two revisions are needed (see --help)" >&2; exit 2; }
[ ${#CASES[@]} -gt 0 ] || CASES=(names)
case "$PAIRS" in ''|*[!0-9]*|0) echo "--pairs must be a positive integer" >&2; exit 2 ;; esac
[[ "$TABLE" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "--table must be a plain table name" >&2; exit 2; }

. "$ROOT/bench/cluster.sh"

. "$ROOT/bench/builds.sh"
WORK=$(mktemp -d /tmp/funnel-ab.XXXXXX)
cleanup() {
  cluster_stop
  remove_worktrees
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---------- the two builds ----------
build_revision "$1" ab_a
build_revision "$2" ab_b

# ---------- the cluster ----------
cluster_start
psql -X -qtAc "SELECT 1 FROM data.$TABLE LIMIT 1" >/dev/null \
  || { echo "no table data.$TABLE in the harness's cluster" >&2; exit 1; }
load_revision ab_a
load_revision ab_b
# the harness puts pg_prewarm in schema data
psql -X -qtAc "SELECT data.pg_prewarm('data.$TABLE')" >/dev/null \
  || echo "[bench] data.$TABLE not read into shared_buffers first" >&2

# ---------- pairs ----------
AB_LIB="$LIB" python3 - "$PAIRS" "$TABLE" "$NEW_SESSIONS" "${CASES[@]}" <<'PY'
import statistics, subprocess, sys, os

pairs, table, new_sessions, cases = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
names = "event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']"
conditions = "event = 'visit', event = 'product_view', event = 'add_to_cart', event = 'purchase'"
sql = {
    "names": f"SELECT funnel_stage_counts('7 days', user_id, ts, {names}) FROM data.{table}",
    "conditions": f"SELECT funnel_stage_counts('7 days', user_id, ts, {conditions}) FROM data.{table}",
    "product": "SELECT funnel_stage_counts('7 days', 'optional 3, exclude 5 from 2 to 4, exclude 6 from 1 to 2', "
               "user_id, ts, event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase', 'other', 'checkout']) "
               f"FROM data.{table}",
    "partitionwise": f"SELECT funnel_stage_counts('7 days', user_id, ts, {conditions}) FROM data.events_hp",
    "correlation": f"SELECT funnel_correlation('7 days', user_id, ts, {names}) FROM data.{table}",
    "paths": f"SELECT paths(user_id, ts, event, NULL, NULL, 5, 20) FROM data.{table}",
    "breakdown": "SELECT funnel_breakdown('7 days', 'breakdown step 4', user_id, channel, ts, "
                 f"{names}) FROM data.{table}",
    "names_p2": f"SELECT funnel_stage_counts('7 days', user_id, ts, {names}) FROM data.{table}",
    "names_where": f"SELECT funnel_stage_counts('7 days', user_id, ts, {names}) FROM data.{table} "
                   "WHERE ts >= '2026-01-08'",
}
serial = ["SET max_parallel_workers_per_gather = 0", "SET enable_partitionwise_aggregate = off"]
settings = {c: serial for c in sql}
settings["partitionwise"] = ["SET max_parallel_workers_per_gather = 2", "SET parallel_leader_participation = off",
                             "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
                             "SET min_parallel_table_scan_size = 0", "SET enable_partitionwise_aggregate = on"]
# the harness's fsc_names_p2: 2 workers over the plain table, the leader only gathers
settings["names_p2"] = ["SET max_parallel_workers_per_gather = 2", "SET parallel_leader_participation = off",
                        "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
                        "SET min_parallel_table_scan_size = 0", "SET enable_partitionwise_aggregate = off"]
for c in cases:
    if c not in sql:
        sys.exit(f"unknown case {c} (names, conditions, product, partitionwise, correlation, paths, breakdown, names_p2, names_where)")

def session(schema):
    env = dict(os.environ, PGOPTIONS=f"-c search_path={schema} "
               f"-c session_preload_libraries={os.environ['AB_LIB']}/{schema}.so")
    p = subprocess.Popen(["psql", "-X", "-qtA"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
    p.stdin.write("SET max_parallel_workers_per_gather = 0;\nSET enable_indexscan = off;\n"
                  "SET enable_bitmapscan = off;\n\\timing on\n")
    return p

def run(p, q):
    """The query's answer and time (ms) in session p."""
    p.stdin.write(q + ";\n")
    p.stdin.flush()
    answer = None
    for line in p.stdout:
        line = line.strip()
        if line.startswith("Time:"):
            return answer, float(line.split()[1])
        if line and answer is None:
            answer = line
        if line.startswith("ERROR"):
            sys.exit(f"query failed: {line}")
    sys.exit("the session ended")

def run_new(schema, c):
    """The answer and time of case c in a new session of build schema."""
    p = session(schema)
    for stmt in settings[c]:
        run(p, stmt)
    got = run(p, sql[c])
    p.stdin.write("\\q\n"); p.stdin.close(); p.wait()
    return got

a, b = ("ab_a", "ab_b") if new_sessions else (session("ab_a"), session("ab_b"))
for c in cases:
    if not new_sessions:
        for p in (a, b):
            for stmt in settings[c]:
                run(p, stmt)
    ta, tb, ratios = [], [], []
    for i in range(pairs):
        order = (a, b) if i % 2 == 0 else (b, a)
        got = {}
        for p in order:
            got[p] = run_new(p, c) if new_sessions else run(p, sql[c])
        if got[a][0] != got[b][0]:
            sys.exit(f"{c}: the builds disagree: {got[a][0]} against {got[b][0]}")
        ta.append(got[a][1]); tb.append(got[b][1]); ratios.append(got[b][1] / got[a][1])
    r = sorted(ratios)
    q1, q3 = r[len(r) // 4], r[(3 * len(r)) // 4]
    print(f"{c}: A median {statistics.median(ta):.0f} ms, B median {statistics.median(tb):.0f} ms; "
          f"B/A pair by pair: median {statistics.median(r):.3f}, IQR {q1:.3f}-{q3:.3f}, "
          f"B faster in {sum(1 for x in r if x < 1)} of {len(r)}")
if not new_sessions:
    for p in (a, b):
        p.stdin.write("\\q\n"); p.stdin.close(); p.wait()
PY
