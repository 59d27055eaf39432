#!/usr/bin/env bash
# Benchmark harness of the funnel extension (issue 5): times the funnel
# aggregates against PostgreSQL's own floors, a plain-SQL funnel and
# (optionally) ClickHouse's windowFunnel on the same generated rows, checks
# that every answer agrees, and prints one table of medians and ratios.
#
#   bash bench/run.sh [--size 1M|10M|100M] [--runs N] [--with-clickhouse]
#                     [--quick] [--keep] [--no-plain-sql] [--out FILE]
#                     [--only REGEX] [--max-state-memory SIZE]
#
#   --size     events in the standard data set (users = events / 10); default 10M
#   --runs     timed runs of each query (the median is reported); default 5
#   --with-clickhouse  install ClickHouse from Debian if missing, start it on
#              127.0.0.1 with a throwaway configuration, load the same rows,
#              and stop it at the end
#   --quick    smoke run: 1M events, 1 run
#   --keep     keep the cluster and data in $BENCH_DIR for the next run (which
#              then skips the generation when the data set matches)
#   --no-plain-sql  leave out the plain-SQL funnel (the slowest query)
#   --out      also write the report (markdown) to FILE
#   --only     run only the cases whose key or label matches REGEX (Python
#              syntax; `python3 bench/bench.py --list --only REGEX` lists them),
#              prepare only the tables they read, and skip the checks and the
#              extra measurements that need other cases; e.g. at 100M:
#              --only 'event names, (serial|2 workers)$|conditions, serial$|no-op'
#   --max-state-memory  funnel.max_state_memory of the cluster (default 16GB:
#              nothing spills); e.g. 1GB for a run at 100M within 1 GB a backend
#   Every case's report line gives the peak private memory of its backend and
#   parallel workers (sampled from /proc).  At 100M: about 7 GB of events, as
#   much again hash-partitioned, more for the index and the journeys; use
#   --only and --no-plain-sql to leave out what is not needed.
#   --setup-only  build, start the cluster, load the extension and the no-op
#              aggregate, check that both answer, and stop (no data, no timing)
#   --citus    instead: the shapes doc/citus.md recommends on a Citus cluster
#              (coordinator + 2 workers, 32 shards) beside one node, with the
#              rows and bytes the coordinator receives (bench/citus.sh)
#
# It builds the extension from this checkout and loads it into its own
# throwaway PostgreSQL 15 cluster (port $BENCH_PORT, default 55499, unix
# socket only) from a private copy of funnel.so, so other installs of the
# extension on the machine cannot change what is measured.  Not part of the
# test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZE=10M
RUNS=5
WITH_CH=0
KEEP=0
PLAIN=1
OUT=""
SETUP_ONLY=0
ONLY=""
STATE_MEM=16GB
case " $* " in *" --citus "*) exec bash bench/citus.sh "$@" ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --with-clickhouse) WITH_CH=1; shift ;;
    --quick) SIZE=1M; RUNS=1; shift ;;
    --keep) KEEP=1; shift ;;
    --no-plain-sql) PLAIN=0; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --setup-only) SETUP_ONLY=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --max-state-memory) STATE_MEM="$2"; shift 2 ;;
    -h|--help) sed -n '2,44p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$SIZE" in
  1M) USERS=100000 ;;
  10M) USERS=1000000 ;;
  100M) USERS=10000000 ;;
  *) echo "--size must be 1M, 10M or 100M, not $SIZE" >&2; exit 2 ;;
esac
case "$RUNS" in ''|*[!0-9]*|0) echo "--runs must be a positive integer" >&2; exit 2 ;; esac
case "$STATE_MEM" in [0-9]*[kMGT]B) ;; *) echo "--max-state-memory must be like 64MB or 1GB, not $STATE_MEM" >&2; exit 2 ;; esac

# the cases to run, and so the tables to prepare
LIST_ARGS=(--list --size "$SIZE" --journeys selected)
[ "$PLAIN" = 0 ] && LIST_ARGS+=(--no-plain-sql)
[ "$WITH_CH" = 1 ] && LIST_ARGS+=(--clickhouse-port 1)
[ -n "$ONLY" ] && LIST_ARGS+=(--only "$ONLY")
SELECTED=$(python3 bench/bench.py "${LIST_ARGS[@]}")
[ -n "$SELECTED" ] || { echo "--only '$ONLY' selects no case" >&2; exit 2; }
need() { grep -qE "^($1)\$" <<<"$SELECTED"; }

BENCH_DIR=${BENCH_DIR:-/tmp/funnel-bench}
BENCH_PORT=${BENCH_PORT:-55499}
CH_PORT=${BENCH_CH_PORT:-19000}
PGBIN=/usr/lib/postgresql/15/bin
export PG_CONFIG=$PGBIN/pg_config
GEN_VERSION=2

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# ---------- packages ----------
packages="postgresql-15 postgresql-server-dev-15 make gcc python3"
[ "$WITH_CH" = 1 ] && packages="$packages clickhouse-server clickhouse-client"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  log "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---------- build (private copy of the library) ----------
log "building the extension"
make -s >/dev/null
mkdir -p "$BENCH_DIR"
AS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$BENCH_DIR"
  AS=(runuser -u postgres --)
fi
LIB="$BENCH_DIR/lib"
"${AS[@]}" mkdir -p "$LIB"
install -m 0644 funnel.so "$LIB/funnel.so.new" && mv "$LIB/funnel.so.new" "$LIB/funnel.so"
# the whole install script of the current version, pointed at the private copy
VERSION=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" funnel.control)
[ -f "funnel--$VERSION.sql" ] || { log "funnel--$VERSION.sql not found (funnel.control names $VERSION)"; exit 1; }
# (without pg_extension_config_dump, which only CREATE EXTENSION may call)
sed -e "s|MODULE_PATHNAME|$LIB/funnel.so|g" -e 's|@extschema@|public|g' -e '/^\\echo/d' \
  -e '/pg_extension_config_dump/d' \
  "funnel--$VERSION.sql" > "$LIB/funnel.sql"
# the no-op aggregate's module (bench/noop), not part of the extension
make -s -C bench/noop >/dev/null
install -m 0644 bench/noop/funnel_bench_noop.so "$LIB/funnel_bench_noop.so.new" \
  && mv "$LIB/funnel_bench_noop.so.new" "$LIB/funnel_bench_noop.so"

# ---------- cluster ----------
PGDATA="$BENCH_DIR/data"
export PGHOST="$BENCH_DIR" PGPORT="$BENCH_PORT" PGUSER=postgres PGDATABASE=bench
CH_STARTED=0
HUGEPAGES_BEFORE=
cleanup() {
  if [ "$CH_STARTED" = 1 ] && [ -f "$BENCH_DIR/ch/server.pid" ]; then
    log "stopping ClickHouse"
    kill "$(cat "$BENCH_DIR/ch/server.pid")" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$(cat "$BENCH_DIR/ch/server.pid")" 2>/dev/null || break; sleep 1; done
    rm -rf "$BENCH_DIR/ch"
  fi
  if [ -f "$PGDATA/postmaster.pid" ]; then
    log "stopping PostgreSQL"
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
  fi
  if [ -n "$HUGEPAGES_BEFORE" ]; then
    echo "$HUGEPAGES_BEFORE" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  if [ "$KEEP" = 0 ]; then rm -rf "$BENCH_DIR"; fi
}
trap cleanup EXIT

# Huge pages for shared_buffers, as a DBA sets up a server with 4 GB of
# them: with 4 kB pages every new backend and every parallel worker takes a
# page fault for each shared buffer it touches (on this virtual machine about
# 0.8 s per scan of the 10M table, more than the scan itself).  Reserved
# only when this is root, given back at the end.
HUGE_PAGES=off
if [ -w /proc/sys/vm/nr_hugepages ]; then
  HUGEPAGES_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
  need=2600   # 4 GB of shared_buffers, 512 MB for parallel workers' rows and the rest of shared memory, in 2 MB pages
  if [ "$HUGEPAGES_BEFORE" -lt "$need" ]; then
    echo "$need" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  if [ "$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)" -ge "$need" ]; then
    HUGE_PAGES=on
  else
    echo "$HUGEPAGES_BEFORE" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
    HUGEPAGES_BEFORE=
  fi
fi
export BENCH_HUGE_PAGES=$HUGE_PAGES

if [ ! -f "$PGDATA/PG_VERSION" ]; then
  log "initdb in $PGDATA"
  "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
cat > "$BENCH_DIR/bench.conf" <<CONF
listen_addresses = ''
port = $BENCH_PORT
unix_socket_directories = '$BENCH_DIR'
shared_buffers = 4GB
huge_pages = $HUGE_PAGES
# parallel workers hand their entity rows to the leader in dynamic shared
# memory: kept in the main segment (huge pages) instead of new 4 kB pages
# that fault in each process (doc/performance.md, round 8)
min_dynamic_shared_memory = 512MB
work_mem = 256MB
maintenance_work_mem = 1GB
effective_cache_size = 16GB
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
jit = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 20GB
checkpoint_timeout = 1h
autovacuum = off
random_page_cost = 1.1
funnel.max_state_memory = $STATE_MEM
shared_preload_libraries = ''
# loaded when a session starts, as doc/whole_table.md recommends: its planner
# hook then plans the conditions event = 'visit', ... of every run (each run
# is a new session) as the event-name form (fsc_bools_eval keeps a form it
# leaves to PostgreSQL)
session_preload_libraries = '$LIB/funnel.so'
CONF
chmod 0644 "$BENCH_DIR/bench.conf"
if ! grep -q "include '$BENCH_DIR/bench.conf'" "$PGDATA/postgresql.conf"; then
  echo "include '$BENCH_DIR/bench.conf'" | "${AS[@]}" tee -a "$PGDATA/postgresql.conf" >/dev/null
fi
if [ -f "$PGDATA/postmaster.pid" ]; then
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
fi
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$BENCH_DIR/postgres.log" -w start >/dev/null
psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'bench'" | grep -q 1 \
  || psql -X -q -d postgres -c "CREATE DATABASE bench"

PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# the extension's objects, from the private copy (re-created on every run)
"${PSQL[@]}" -c "DROP SCHEMA IF EXISTS public CASCADE" -c "CREATE SCHEMA public" 2>/dev/null || true
# tables live in schema data, the extension's objects in public
"${PSQL[@]}" -c "CREATE SCHEMA IF NOT EXISTS data" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA data"
"${PSQL[@]}" -f "$LIB/funnel.sql" >/dev/null
"${PSQL[@]}" <<SQL
-- the no-op floor: an aggregate that receives the funnel aggregate's
-- arguments and does nothing with them (bench/noop/funnel_bench_noop.c)
CREATE FUNCTION public.funnel_noop_sfunc(internal, VARIADIC "any") RETURNS internal
    AS '$LIB/funnel_bench_noop.so', 'funnel_bench_noop_sfunc' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION public.funnel_noop_final(internal) RETURNS bigint
    AS '$LIB/funnel_bench_noop.so', 'funnel_bench_noop_final' LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE public.funnel_noop(VARIADIC "any") (
    SFUNC = public.funnel_noop_sfunc, STYPE = internal, FINALFUNC = public.funnel_noop_final,
    PARALLEL = SAFE);
SQL
if [ "$SETUP_ONLY" = 1 ]; then
  # three rows: the no-op aggregate counts them, the funnel reaches step 2
  answer=$("${PSQL[@]}" -tAc "SELECT funnel_noop('1 day'::interval, u, t, e = 'a', e = 'b') || ' ' ||
      window_funnel('1 day', t, e = 'a', e = 'b')
    FROM (VALUES (1, timestamptz '2024-01-01', 'a'), (1, '2024-01-01 01:00', 'x'), (1, '2024-01-01 02:00', 'b')) v(u, t, e)")
  [ "$answer" = "3 2" ] || { log "set-up check: expected '3 2', got '$answer'"; exit 1; }
  log "set-up ok: funnel $VERSION and the no-op aggregate loaded"
  exit 0
fi

# ---------- data ----------
have_data() {  # table users version
  "${PSQL[@]}" -tAc "SELECT obj_description('data.$1'::regclass)" 2>/dev/null | grep -qx "gen$GEN_VERSION users=$2"
}
generate() {  # table users
  if have_data "$1" "$2"; then log "data.$1 is up to date"; return; fi
  log "generating data.$1 ($2 users)"
  "${PSQL[@]}" -c "SET search_path = data, public" -v users="$2" -v tbl="data.$1" -f bench/generate.sql
  "${PSQL[@]}" -c "COMMENT ON TABLE data.$1 IS 'gen$GEN_VERSION users=$2'"
}
generate events "$USERS"
if [ "$SIZE" != 1M ] && need fsc_1m; then generate events_1m 100000; fi

derived() {  # the tables made from data.events; redone when events changed
  local stamp
  stamp="$("${PSQL[@]}" -tAc "SELECT obj_description('data.events'::regclass)") partitions=32 whole"
  if "${PSQL[@]}" -tAc "SELECT obj_description('data.events_hp'::regclass)" 2>/dev/null | grep -qx "$stamp"; then
    log "derived tables are up to date"; return
  fi
  log "deriving the partitioned table, the journeys and the index"
  "${PSQL[@]}" <<SQL
SET search_path = data, public;
SET max_parallel_workers_per_gather = 2;
-- the same rows, hash-partitioned by user (32 partitions of about 31k users:
-- each partition's per-user states fit in cache), still appended in time order;
-- parallel_workers = 0 gives each worker whole partitions, whose entities
-- the partial aggregates then walk themselves (doc/scaling.md)
DROP TABLE IF EXISTS events_hp;
CREATE TABLE events_hp (user_id bigint, ts timestamptz, event text, channel text)
    PARTITION BY HASH (user_id);
DO \$\$ BEGIN
  FOR i IN 0..31 LOOP
    EXECUTE format('CREATE TABLE events_hp_%s PARTITION OF events_hp FOR VALUES WITH (MODULUS 32, REMAINDER %s) WITH (parallel_workers = 0)', i, i);
  END LOOP;
END \$\$;
INSERT INTO events_hp SELECT * FROM events;
-- what an analyst would index for the plain-SQL funnel
CREATE INDEX IF NOT EXISTS events_user_event_ts ON events (user_id, event, ts);
VACUUM ANALYZE events;
VACUUM ANALYZE events_hp;
COMMENT ON TABLE events_hp IS '$stamp';
SQL
}
need 'fsc_hp|fsc_hp_serial|wf_hp|wf_hp_p2|plain' && derived
# Every scanned page all-visible, as autovacuum leaves a table at rest: a
# VACUUM run while another session held an older snapshot (a query left
# running beside the harness) marks none of the new rows, and each scan then
# checks every tuple's visibility (the partitioned table's scans were 1.4 x
# slower so).  VACUUM skips pages already marked, so this is cheap.
settle_tables() {
  local t bad
  for t in data.events data.events_hp data.events_1m; do
    "${PSQL[@]}" -tAc "SELECT to_regclass('$t') IS NOT NULL" | grep -qx t || continue
    "${PSQL[@]}" -qc "VACUUM $t"
    bad=$("${PSQL[@]}" -tAc "SELECT string_agg(c.relname || ' ' || c.relallvisible || '/' || c.relpages, ', ')
      FROM pg_class c WHERE c.relkind = 'r' AND c.relallvisible < c.relpages * 0.99
       AND (c.oid = '$t'::regclass OR c.oid IN (SELECT relid FROM pg_partition_tree('$t'::regclass)))")
    [ -z "$bad" ] || log "WARNING: pages not all-visible after VACUUM (an older snapshot is held by another session?): $bad"
  done
}
settle_tables
# the DBA's precomputed form: each user's journey (only rows that match a
# step); rebuilt every run since it stores the extension's type
if need 'journeys|journeys_p2|trend_day_journeys'; then
log "building the per-user journeys"
"${PSQL[@]}" <<'SQL'
SET search_path = data, public;
SET max_parallel_workers_per_gather = 2;
DROP TABLE IF EXISTS user_journeys;
CREATE TABLE user_journeys AS
SELECT user_id,
       array_agg(funnel_event(ts, event = 'visit', event = 'product_view',
                              event = 'add_to_cart', event = 'purchase') ORDER BY ts) AS journey
FROM events
WHERE event IN ('visit', 'product_view', 'add_to_cart', 'purchase')
GROUP BY user_id;
VACUUM ANALYZE user_journeys;
SQL
fi
if [ "$SIZE" != 1M ] && need fsc_1m; then "${PSQL[@]}" -c "VACUUM ANALYZE data.events_1m"; fi

# journeys kept current (doc/journeys.md): the first 29 days of events are
# folded into kept_journeys (funnel_event[]) and kept_journeys_cj (the
# journey type) by journey_refresh, then the last day (1/30 of the rows) is
# inserted and refreshed into each: its time and the WAL it writes
# (pg_current_wal_lsn before and after; this cluster runs with
# full_page_writes = off, so no full-page images are counted).  The sizes
# compare the two tables, and each written fresh with pglz and with lz4
# (TOAST compresses only rows over 2 kB: the funnel_event[] journeys of more
# than about 120 events; the long ones, of more than 100 events, are sized
# apart).  Results go to $BENCH_DIR/journeys.txt for bench.py.
rm -f "$BENCH_DIR/journeys.txt"
if need 'kept|kept_p2|kept_summary|kept_floor|kept_cj|kept_cj_p2|kept_cj_summary|kept_cj_floor'; then
log "journeys kept current: build 29 days, refresh the last day"
"${PSQL[@]}" -At -F '|' > "$BENCH_DIR/journeys.txt" <<'SQL'
SET search_path = data, public;
SET max_parallel_workers_per_gather = 2;
DROP TABLE IF EXISTS journey_events, kept_journeys, kept_journeys_cj, kept_journeys_lz4, kept_journeys_cj_lz4,
    kept_journeys_pglz, kept_journeys_cj_pglz;
DELETE FROM journey_watermark;
CREATE TABLE journey_events (user_id bigint, ts timestamptz, event text,
                             inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
INSERT INTO journey_events (user_id, ts, event)
SELECT user_id, ts, event FROM events WHERE ts < timestamptz '2026-01-30 00:00:00+00';
CREATE INDEX ON journey_events (inserted_xid);
VACUUM ANALYZE journey_events;
CREATE TABLE kept_journeys (user_id bigint PRIMARY KEY, journey funnel_event[] NOT NULL);
CREATE TABLE kept_journeys_cj (user_id bigint PRIMARY KEY, journey journey NOT NULL);
\set event 'CASE WHEN event IN (''visit'', ''product_view'', ''add_to_cart'', ''purchase'') THEN funnel_event(ts, event = ''visit'', event = ''product_view'', event = ''add_to_cart'', event = ''purchase'') END'
SELECT clock_timestamp() AS t0 \gset
SELECT 'build_rows', journey_refresh('kept_journeys', 'journey_events', 'user_id', :'event', entity_column => 'user_id');
SELECT 'build_ms', round(extract(epoch FROM clock_timestamp() - :'t0') * 1000);
SELECT clock_timestamp() AS t0 \gset
SELECT 'cj_build_rows', journey_refresh('kept_journeys_cj', 'journey_events', 'user_id', :'event', entity_column => 'user_id');
SELECT 'cj_build_ms', round(extract(epoch FROM clock_timestamp() - :'t0') * 1000);
VACUUM ANALYZE kept_journeys;
VACUUM ANALYZE kept_journeys_cj;
SELECT pg_total_relation_size('kept_journeys') AS build_bytes \gset
SELECT 'build_bytes', :build_bytes;
-- the last day arrives
INSERT INTO journey_events (user_id, ts, event)
SELECT user_id, ts, event FROM events WHERE ts >= timestamptz '2026-01-30 00:00:00+00';
SELECT 'day_rows', count(*) FROM journey_events WHERE ts >= timestamptz '2026-01-30 00:00:00+00';
SELECT 'day_users', count(DISTINCT user_id) FROM journey_events WHERE ts >= timestamptz '2026-01-30 00:00:00+00';
CHECKPOINT;
SELECT pg_current_wal_lsn() AS lsn0, clock_timestamp() AS t0 \gset
SELECT 'refresh_rows', journey_refresh('kept_journeys', 'journey_events', 'user_id', :'event', entity_column => 'user_id');
SELECT 'refresh_ms', round(extract(epoch FROM clock_timestamp() - :'t0') * 1000);
SELECT 'refresh_wal', pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0');
SELECT 'refresh_growth', pg_total_relation_size('kept_journeys') - :build_bytes;
CHECKPOINT;
SELECT pg_current_wal_lsn() AS lsn0, clock_timestamp() AS t0 \gset
SELECT 'cj_refresh_rows', journey_refresh('kept_journeys_cj', 'journey_events', 'user_id', :'event', entity_column => 'user_id');
SELECT 'cj_refresh_ms', round(extract(epoch FROM clock_timestamp() - :'t0') * 1000);
SELECT 'cj_refresh_wal', pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0');
VACUUM ANALYZE kept_journeys;
VACUUM ANALYZE kept_journeys_cj;
-- sizes per event
SELECT 'journeys', count(*) FROM kept_journeys;
SELECT 'journey_events', sum(cardinality(journey)) FROM kept_journeys;
SELECT 'cj_same', count(*) FROM kept_journeys f JOIN kept_journeys_cj c USING (user_id)
 WHERE f.journey = c.journey::funnel_event[];
SELECT 'table_bytes', pg_table_size('kept_journeys');
SELECT 'index_bytes', pg_indexes_size('kept_journeys');
SELECT 'datum_bytes', sum(pg_column_size(journey)) FROM kept_journeys;
SELECT 'cj_table_bytes', pg_table_size('kept_journeys_cj');
SELECT 'cj_datum_bytes', sum(pg_column_size(journey)) FROM kept_journeys_cj;
SELECT 'events_table_bytes', pg_table_size('events');
-- written fresh, compressed: the sizes of the whole tables and of the
-- journeys over 2 kB (the only ones TOAST compresses)
CREATE TABLE kept_journeys_pglz (user_id bigint, journey funnel_event[] COMPRESSION pglz NOT NULL);
CREATE TABLE kept_journeys_lz4 (user_id bigint, journey funnel_event[] COMPRESSION lz4 NOT NULL);
CREATE TABLE kept_journeys_cj_pglz (user_id bigint, journey journey COMPRESSION pglz NOT NULL);
CREATE TABLE kept_journeys_cj_lz4 (user_id bigint, journey journey COMPRESSION lz4 NOT NULL);
-- new values (a copied value keeps the compression it has), and the long
-- funnel_event[] journeys uncompressed (STORAGE external) for their size as is
INSERT INTO kept_journeys_pglz SELECT user_id, journey_merge(journey, NULL) FROM kept_journeys ORDER BY user_id;
INSERT INTO kept_journeys_lz4 SELECT user_id, journey_merge(journey, NULL) FROM kept_journeys ORDER BY user_id;
INSERT INTO kept_journeys_cj_pglz SELECT user_id, journey::funnel_event[]::journey FROM kept_journeys_cj ORDER BY user_id;
INSERT INTO kept_journeys_cj_lz4 SELECT user_id, journey::funnel_event[]::journey FROM kept_journeys_cj ORDER BY user_id;
CREATE TEMP TABLE long_plain (user_id bigint, journey funnel_event[]);
ALTER TABLE long_plain ALTER journey SET STORAGE external;
INSERT INTO long_plain SELECT user_id, journey_merge(journey, NULL) FROM kept_journeys WHERE cardinality(journey) > 100;
VACUUM ANALYZE kept_journeys_pglz;
VACUUM ANALYZE kept_journeys_lz4;
VACUUM ANALYZE kept_journeys_cj_pglz;
VACUUM ANALYZE kept_journeys_cj_lz4;
SELECT 'pglz_table_bytes', pg_table_size('kept_journeys_pglz');
SELECT 'lz4_table_bytes', pg_table_size('kept_journeys_lz4');
SELECT 'cj_pglz_table_bytes', pg_table_size('kept_journeys_cj_pglz');
SELECT 'cj_lz4_table_bytes', pg_table_size('kept_journeys_cj_lz4');
SELECT 'lz4_datum_bytes', sum(pg_column_size(journey)) FROM kept_journeys_lz4;
SELECT 'cj_lz4_datum_bytes', sum(pg_column_size(journey)) FROM kept_journeys_cj_lz4;
SELECT 'long_events', coalesce(sum(cardinality(journey)), 0) FROM long_plain;
SELECT 'long_datum_bytes', coalesce(sum(pg_column_size(f.journey)), 0) || '|' || coalesce(sum(pg_column_size(p.journey)), 0) || '|' ||
       coalesce(sum(pg_column_size(l.journey)), 0) || '|' || coalesce(sum(pg_column_size(c.journey)), 0) || '|' ||
       coalesce(sum(pg_column_size(cp.journey)), 0) || '|' || coalesce(sum(pg_column_size(cl.journey)), 0)
  FROM long_plain f JOIN kept_journeys_pglz p USING (user_id) JOIN kept_journeys_lz4 l USING (user_id)
  JOIN kept_journeys_cj c USING (user_id) JOIN kept_journeys_cj_pglz cp USING (user_id) JOIN kept_journeys_cj_lz4 cl USING (user_id);
SQL
fi

# one entity with many rows, for the window-function scaling check
"${PSQL[@]}" <<'SQL'
SET search_path = data, public;
CREATE TABLE IF NOT EXISTS one_user AS
SELECT 1::bigint AS user_id,
       timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => i * 7) AS ts,
       (ARRAY['visit', 'other', 'product_view', 'other', 'add_to_cart', 'checkout', 'purchase'])[1 + (i * 5 + i / 13) % 7] AS event
FROM generate_series(1, 400000) AS i;
VACUUM ANALYZE one_user;
SQL

# ---------- ClickHouse ----------
CH_ARGS=()
if [ "$WITH_CH" = 1 ]; then
  CHD="$BENCH_DIR/ch"
  rm -rf "$CHD"; mkdir -p "$CHD"/{data,tmp,log,user_files,format_schemas}
  cat > "$CHD/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$CHD/log/server.log</log><errorlog>$CHD/log/error.log</errorlog><size>100M</size><count>2</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$CH_PORT</tcp_port>
    <path>$CHD/data/</path>
    <tmp_path>$CHD/tmp/</tmp_path>
    <user_files_path>$CHD/user_files/</user_files_path>
    <format_schema_path>$CHD/format_schemas/</format_schema_path>
    <users_config>$CHD/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <max_concurrent_queries>20</max_concurrent_queries>
    <mark_cache_size>5368709120</mark_cache_size>
    <uncompressed_cache_size>4294967296</uncompressed_cache_size>
</yandex>
XML
  cat > "$CHD/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>16000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  log "starting ClickHouse on 127.0.0.1:$CH_PORT"
  (cd "$CHD" && exec clickhouse-server --config-file="$CHD/config.xml" >"$CHD/log/stdout.log" 2>&1) &
  echo $! > "$CHD/server.pid"
  CH_STARTED=1
  CH=(clickhouse-client --host 127.0.0.1 --port "$CH_PORT")
  for _ in $(seq 60); do "${CH[@]}" --query "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
  "${CH[@]}" --query "SELECT version()" >/dev/null \
    || { log "ClickHouse did not start: $(tail -5 "$CHD/log/stdout.log" "$CHD/log/error.log" 2>/dev/null)"; exit 1; }
  log "loading the same rows into ClickHouse (MergeTree ORDER BY (user_id, ts))"
  "${CH[@]}" --query "CREATE TABLE events (user_id UInt64, ts DateTime, event String, channel String) ENGINE = MergeTree() ORDER BY (user_id, ts)"
  "${PSQL[@]}" -c "COPY (SELECT user_id, extract(epoch FROM ts)::bigint, event, channel FROM data.events) TO STDOUT" \
    | "${CH[@]}" --query "INSERT INTO events FORMAT TabSeparated"
  "${CH[@]}" --query "OPTIMIZE TABLE events FINAL"
  CH_ARGS=(--clickhouse-port "$CH_PORT")
fi

# ---------- measure ----------
"${PSQL[@]}" -c "SELECT data.pg_prewarm(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relkind IN ('r', 'i')" >/dev/null
log "measuring ($RUNS runs, size $SIZE)"
OUTARGS=()
[ -n "$OUT" ] && OUTARGS=(--out "$OUT")
[ "$PLAIN" = 0 ] && OUTARGS+=(--no-plain-sql)
[ -n "$ONLY" ] && OUTARGS+=(--only "$ONLY")
JR_ARGS=()
[ -f "$BENCH_DIR/journeys.txt" ] && JR_ARGS=(--journeys "$BENCH_DIR/journeys.txt")
python3 bench/bench.py --runs "$RUNS" --size "$SIZE" "${JR_ARGS[@]}" "${CH_ARGS[@]}" "${OUTARGS[@]}"
