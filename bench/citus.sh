#!/usr/bin/env bash
# Benchmark of funnel on a Citus cluster (bash bench/run.sh --citus ...):
# the standard generated events (bench/generate.sql) in a plain table on one
# node and in a table distributed by user_id over 32 shards on a coordinator
# and 2 workers of this machine, and for each shape doc/citus.md recommends
# the median time on the cluster beside the single node, and the rows and
# bytes the coordinator receives from the workers (each task of the plan run
# on its node and its text result measured: test/tools/citus_cluster.sh).
#
#   bash bench/citus.sh [--size 1M|10M] [--runs N] [--out FILE] [--only REGEX]
#
# Builds this checkout into a private copy of PostgreSQL 15 (with Citus,
# built once per machine by the vendored build.sh) under $BENCH_CITUS_DIR
# (default /tmp/funnel-bench-citus) and stops the cluster at the end.  All
# nodes share this machine's cores: the times say what the shapes cost, not
# what a cluster of machines gains.  Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=10M
RUNS=3
OUT=""
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --citus) shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$SIZE" in
  1M) USERS=100000 ;;
  10M) USERS=1000000 ;;
  *) echo "--size must be 1M or 10M, not $SIZE" >&2; exit 2 ;;
esac
case "$RUNS" in ''|*[!0-9]*|0) echo "--runs must be a positive integer" >&2; exit 2 ;; esac
log() { echo "[bench-citus $(date -u +%H:%M:%S)] $*" >&2; }

# ---- a private PostgreSQL with Citus and this checkout's funnel
root=${BENCH_CITUS_DIR:-/tmp/funnel-bench-citus}
source test/tools/citus_cluster.sh
PG_CONFIG=$citus_system_pg_config citus_install
pgroot=$root/pg
if [ ! -x "$pgroot/usr/lib/postgresql/15/bin/postgres" ]; then
  log "copying PostgreSQL and Citus into $pgroot"
  mkdir -p "$pgroot/usr/lib/postgresql" "$pgroot/usr/share/postgresql" "$pgroot/usr/include/postgresql"
  cp -a /usr/lib/postgresql/15 "$pgroot/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$pgroot/usr/share/postgresql/"
  ln -sfn /usr/include/postgresql/15 "$pgroot/usr/include/postgresql/15"
fi
export PG_CONFIG=$pgroot/usr/lib/postgresql/15/bin/pg_config
log "building the extension"
make -s >/dev/null && make -s install >/dev/null
export PATH=$("$PG_CONFIG" --bindir):$PATH

trap citus_stop EXIT
run=$(mktemp -d "$root/run.XXXXXX")
citus_start "$run" 2 -c shared_buffers=1GB -c work_mem=256MB -c max_connections=200 \
  -c max_worker_processes=16 -c max_parallel_workers_per_gather=2 -c jit=off -c autovacuum=off \
  -c max_wal_size=20GB -c checkpoint_timeout=1h -c funnel.max_state_memory=16GB
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE EXTENSION funnel" -c "CREATE SCHEMA single" -c "CREATE SCHEMA dist"

log "generating $SIZE events ($USERS users) on one node"
t0=$(date +%s)
"${PSQL[@]}" -c "SET search_path = single, public" -v users="$USERS" -v tbl=single.events \
  -f bench/generate.sql 2>&1 | grep -v 'pg_temp\|will be created only locally' || true
"${PSQL[@]}" <<'SQL'
-- touchpoints from the events: a purchase is a conversion worth 50, every
-- other event a touchpoint of its session's channel
CREATE TABLE single.touchpoints AS
SELECT user_id, ts, CASE WHEN event = 'purchase' THEN NULL ELSE channel END AS channel,
       CASE WHEN event = 'purchase' THEN 50::numeric END AS conversion_value
FROM single.events;
VACUUM ANALYZE single.events;
VACUUM ANALYZE single.touchpoints;
SQL
log "distributing them by user_id over 32 shards ($(( $(date +%s) - t0 )) s so far)"
"${PSQL[@]}" >/dev/null <<'SQL'
SET citus.shard_count = 32;
CREATE TABLE dist.events (LIKE single.events);
CREATE TABLE dist.touchpoints (LIKE single.touchpoints);
SELECT create_distributed_table('dist.events', 'user_id');
SELECT create_distributed_table('dist.touchpoints', 'user_id', colocate_with => 'dist.events');
INSERT INTO dist.events SELECT * FROM single.events;
INSERT INTO dist.touchpoints SELECT * FROM single.touchpoints;
VACUUM ANALYZE dist.events;
VACUUM ANALYZE dist.touchpoints;
SQL
log "data ready after $(( $(date +%s) - t0 )) s"

steps="ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']"
levels="SELECT user_id, channel, window_funnel('7 days', ts, event, $steps) AS level FROM events GROUP BY user_id, channel"
summaries="SELECT user_id, channel, funnel_summary('7 days', user_id, ts, event, $steps) AS s FROM events GROUP BY user_id, channel"
attr="SELECT r.channel, sum(r.conversions), sum(r.value), sum(r.journeys)
        FROM (SELECT user_id, attribution('linear', user_id, ts, channel, conversion_value) AS a
                FROM touchpoints GROUP BY user_id) per_user, attribution_report(per_user.a) r GROUP BY r.channel"
declare -a names sqls
add() { names+=("$1"); sqls+=("$2"); }
add "funnel by channel, one pass (single node) / row-gathered (Citus)" \
  "SELECT channel, funnel_stage_counts('7 days', user_id, ts, event, $steps) FROM events GROUP BY channel"
add "funnel by channel, levels per user then funnel_stage_counts(level, 4)" \
  "SELECT channel, funnel_stage_counts(level, 4) FROM ($levels) per_user GROUP BY channel"
add "summary report by channel, one pass funnel_summary" \
  "SELECT channel, funnel_summary('7 days', user_id, ts, event, $steps) FROM events GROUP BY channel"
add "summary report by channel, rollup of per-user summaries" \
  "SELECT channel, rollup(s) FROM ($summaries) per_user GROUP BY channel"
add "attribution by channel (linear), one pass" \
  "SELECT r.* FROM (SELECT attribution('linear', user_id, ts, channel, conversion_value) a FROM touchpoints) x, attribution_report(x.a) r"
add "attribution by channel (linear), per-user summaries summed" "$attr"
markov_counts="SELECT user_id, markov_transitions(user_id, ts, channel, conversion_value) AS t FROM touchpoints GROUP BY user_id"
add "attribution markov, one pass" \
  "SELECT r.* FROM (SELECT attribution('markov', user_id, ts, channel, conversion_value) a FROM touchpoints) x, attribution_report(x.a) r"
add "attribution markov, per-user transition counts merged" \
  "SELECT r.* FROM (SELECT rollup(t) AS t FROM ($markov_counts) per_user) x, attribution_report(markov_attribution(x.t)) r"
# a pipeline of the events (terminal: purchase), each user a deal
add "pipeline_model of the events, one pass" \
  "SELECT pipeline_model(user_id, ts, event, ARRAY['purchase']) FROM events"
add "pipeline_model per user, rolled up" \
  "SELECT rollup(m) FROM (SELECT user_id, pipeline_model(user_id, ts, event, ARRAY['purchase']) AS m FROM events GROUP BY user_id) per_user"
# BG/NBD and Gamma-Gamma over per-user summaries of the purchases (days;
# the observation ends a month after the data, so that the dropout process
# shows; the spend differs between users, so that Gamma-Gamma has a maximum)
add "bgnbd_fit and gamma_gamma_fit over per-user summaries" \
  "SELECT bgnbd_fit(frequency, recency, t), gamma_gamma_fit(frequency, monetary_value)
     FROM (SELECT user_id, (customer_rfm(ts, 10 + (user_id % 50) * 5 + extract(minute FROM ts)::int % 7, '2026-03-01')).*
             FROM events WHERE event = 'purchase' GROUP BY user_id) per_user"
add "cohort_retention by day, one pass" \
  "SELECT cohort_retention(user_id, ts, 'day', 30) FROM events"
add "cohort_counts per user by day, rolled up" \
  "SELECT cohort_matrix(rollup(a)) FROM (SELECT user_id, cohort_counts(user_id, ts, 'day', 30) AS a FROM events GROUP BY user_id) per_user"

median_ms() {  # median_ms SEARCH_PATH SQL
  local i t times=()
  for ((i = 0; i < RUNS; i++)); do
    t=$(PGOPTIONS="-c search_path=$1,public" psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -c "$2" \
        | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }'
}
export CITUS_SEARCH_PATH=dist,public
report=$(mktemp)
{
  echo "| query | single node ms | Citus ms | rows received | bytes received |"
  echo "|---|---:|---:|---:|---:|"
} > "$report"
for i in "${!names[@]}"; do
  [ -z "$ONLY" ] || grep -qE "$ONLY" <<<"${names[$i]}" || continue
  log "timing: ${names[$i]}"
  single=$(median_ms single "${sqls[$i]}")
  if grep -q "one pass" <<<"${names[$i]}"; then
    # row-gathered: EXPLAIN ANALYZE works (no worker_partial_agg) and gives
    # the time, the rows of the distributed scan and the bytes received
    plan=$(PGOPTIONS='-c search_path=dist,public' psql -X -A -t -q -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sqls[$i]}")
    cit=$(sed -n 's/^Execution Time: \([0-9.]*\) ms.*/\1/p' <<<"$plan" | awk '{ printf "%.0f", $1 }')
    bytes=$(sed -n 's/.*Tuple data received from nodes: \([0-9.]* [kMG]*B\).*/\1/p' <<<"$plan" | head -1)
    rows=$(sed -n 's/.*Custom Scan (Citus Adaptive) (actual rows=\([0-9]*\).*/\1/p' <<<"$plan" | sort -n | tail -1)
    cit="$cit (1 run)"
  else
    cit=$(median_ms dist "${sqls[$i]}")
    got=$(citus_received "${sqls[$i]}")
    rows=${got% *}; bytes="${got#* } bytes"
  fi
  echo "| ${names[$i]} | $single | $cit | $rows | $bytes |" >> "$report"
done
load=$(uptime | sed 's/.*load average: //')
{
  echo
  echo "$SIZE events ($USERS users); Citus: coordinator + 2 workers on this machine, 32 shards;"
  echo "single node: the same PostgreSQL, a plain table, up to 2 parallel workers; medians of $RUNS runs;"
  echo "$(nproc) cores, load average at the end: $load; $(date -u +%Y-%m-%d)"
} >> "$report"
cat "$report"
[ -n "$OUT" ] && cp "$report" "$OUT"
rm -f "$report"
