#!/usr/bin/env bash
# The per-entity store's temporary files (test/entity_store.sql checks its
# answers): in a cluster of its own, funnel_stage_counts under a 1 MB
# funnel.max_state_memory spills its rows to base/pgsql_tmp; the files must
# be there while it runs, and gone after it ends, after an error in the
# middle of spilling, after an error while a spilled partition is processed,
# after an error in the leader of a parallel plan that wrote the workers'
# rows (received through shared memory) to its own file, and after a
# cancel, which must take effect within 1 second.
# Expects the funnel extension installed (make install).
set -uo pipefail
cd "$(dirname "$0")/.."
source test/tools/own_cluster.sh
start_own_cluster -c log_temp_files=0 -c log_min_messages=warning

source test/tools/checks.sh
tmpdir="$own_cluster_dir/data/base/pgsql_tmp"
tmp_files() { find "$tmpdir" -type f 2>/dev/null | wc -l; }
log_lines() { grep -c "$1" "$own_cluster_dir/log" || true; }

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel" || exit 1

# 40M rows of 200000 entities: tens of seconds, spilling all along
long_query="SET funnel.max_state_memory = '1MB';
SELECT funnel_stage_counts('1 day', g % 200000, timestamptz '2024-01-01' + g * interval '1 s', g % 3 = 0, g % 3 = 1)
FROM generate_series(1, 40000000) g;"

# a query that ends: files while it runs are gone after, no leak warning
before=$(log_lines 'temporary file: path')
out=$(psql -X -q -A -t -c "SET funnel.max_state_memory = '1MB';
  SELECT funnel_stage_counts('1 day', g % 20000, timestamptz '2024-01-01' + g * interval '1 s', g % 3 = 0, g % 3 = 1)
  FROM generate_series(1, 300000) g" 2>&1)
[ "$out" = "{20000,20000}" ] && r=ok || r="answer $out"
check "a spilling query gives its answer" "$r"
after=$(log_lines 'temporary file: path')
[ "$after" -gt "$before" ] && r=ok || r="no temporary file was logged"
check "the rows went to a temporary file" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after the query" "$r"
[ "$(log_lines 'temporary file leak')" = 0 ] && r=ok || r="leak warning in the log"
check "no temporary file leak warning" "$r"

# an error in the middle of spilling (division by zero at row 2000000)
before=$(log_lines 'temporary file: path')
out=$(psql -X -q -A -t -c "SET funnel.max_state_memory = '1MB';
  SELECT funnel_stage_counts('1 day', g % 200000, timestamptz '2024-01-01' + g * interval '1 s', 1 / (g - 2000000) > 0, g % 3 = 1)
  FROM generate_series(1, 4000000) g" 2>&1)
case "$out" in *"division by zero"*) r=ok ;; *) r="output $out" ;; esac
check "an error while spilling stops the query" "$r"
after=$(log_lines 'temporary file: path')
[ "$after" -gt "$before" ] && r=ok || r="no temporary file was logged"
check "it had spilled before the error" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after an error while spilling" "$r"

# an error while a spilled partition is processed: one entity's rows do
# not fit in 64 kB
out=$(psql -X -q -A -t -c "SET funnel.max_state_memory = '64kB';
  SELECT funnel_stage_counts('1 day', 1, timestamptz '2024-01-01' + g * interval '1 s', g % 3 = 0, g % 3 = 1)
  FROM generate_series(1, 100000) g" 2>&1)
case "$out" in *"exceeds funnel.max_state_memory"*) r=ok ;; *) r="output $out" ;; esac
check "an entity too large for the limit is an error" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after an error in the final function" "$r"

# a parallel plan: each worker's rows are more than the leader may hold, so
# the leader writes them to its own file as it receives them; an error in
# its final function (entity 1's rows do not fit) leaves no file behind, and
# the same plan without that entity gives the serial answer
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE par_rows AS
  SELECT CASE WHEN g % 4 = 0 THEN 1 ELSE g % 50000 + 2 END AS e,
         timestamptz '2024-01-01' + g * interval '1 s' AS ts, g % 3 = 0 AS c1, g % 3 = 1 AS c2
  FROM generate_series(1, 400000) g; ANALYZE par_rows" || exit 1
par="SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
  SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
  SET funnel.max_state_memory = '1MB';"
plan=$(psql -X -q -A -t -c "$par EXPLAIN (COSTS OFF) SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_rows" 2>&1)
case "$plan" in *"Partial Aggregate"*) r=ok ;; *) r="plan $plan" ;; esac
check "the parallel plan is used" "$r"
out=$(psql -X -q -A -t -c "$par SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_rows" 2>&1)
case "$out" in *"exceeds funnel.max_state_memory"*) r=ok ;; *) r="output $out" ;; esac
check "parallel: an entity too large for the limit is an error in the leader" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after an error in the leader of a parallel plan" "$r"
out=$(psql -X -q -A -t -c "$par SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_rows WHERE e > 1" 2>&1)
ref=$(psql -X -q -A -t -c "SET max_parallel_workers_per_gather = 0;
  SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_rows WHERE e > 1" 2>&1)
[ "$out" = "$ref" ] && case "$ref" in "{"*) r=ok ;; *) r="serial answer $ref" ;; esac || r="parallel $out, serial $ref"
check "parallel, 1 MB: the serial answer ($ref)" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after the parallel query" "$r"
# the workers' rows reach the leader through the query's shared memory
# (DEBUG1 says so), with and without the leader's file
for limit in 1MB 1GB; do
  out=$(psql -X -q -A -t -c "$par SET funnel.max_state_memory = '$limit'; SET client_min_messages = debug1;
    SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_rows WHERE e > 1" 2>&1)
  n=$(printf '%s\n' "$out" | grep -c "rows a parallel worker left in shared memory")
  [ "$n" -ge 1 ] && r=ok || r="no such message: $out"
  check "parallel, $limit: the workers' rows came through shared memory" "$r"
  [ "$(printf '%s\n' "$out" | tail -1)" = "$ref" ] && r=ok || r="answer $(printf '%s\n' "$out" | tail -1)"
  check "parallel, $limit, through shared memory: the serial answer" "$r"
done
# a limit above each worker's rows but below their sum: the leader takes
# the rows over in shared memory, then spills them (and frees them there).
# Two halves of the rows partitioned by time, each read whole by one worker
# (parallel_workers = 0 under a Parallel Append): two states of known size
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE par_two (e int, ts timestamptz, c1 bool, c2 bool) PARTITION BY RANGE (ts);
  CREATE TABLE par_two_a PARTITION OF par_two FOR VALUES FROM (MINVALUE) TO ('2024-01-03 07:33:20+00') WITH (parallel_workers = 0);
  CREATE TABLE par_two_b PARTITION OF par_two FOR VALUES FROM ('2024-01-03 07:33:20+00') TO (MAXVALUE) WITH (parallel_workers = 0);
  INSERT INTO par_two SELECT * FROM par_rows WHERE e > 1; ANALYZE par_two" || exit 1
two="$par SET enable_partitionwise_aggregate = on; SET client_min_messages = debug1;"
out=$(psql -X -q -A -t -c "$two SET funnel.max_state_memory = '1GB';
  SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_two" 2>&1)
kb=$(printf '%s\n' "$out" | sed -n 's/.*reading \([0-9]*\) kB of rows a parallel worker.*/\1/p' | sort -n | tail -1)
limit=$(( ${kb:-0} * 3 ))kB
out=$(psql -X -q -A -t -c "$two SET funnel.max_state_memory = '$limit';
  SELECT funnel_stage_counts('2 days', e, ts, c1, c2) FROM par_two" 2>&1)
n=$(printf '%s\n' "$out" | grep -c "rows a parallel worker left in shared memory")
s=$(printf '%s\n' "$out" | grep -c "kB of rows to a temporary file (write")
[ "${kb:-0}" -gt 0 ] && [ "$n" -eq 2 ] && [ "$s" -ge 1 ] && r=ok || r="worker states of ${kb:-?} kB, $n through shared memory, $s spills: $out"
check "parallel, $limit: workers' rows taken over in shared memory, then spilled" "$r"
[ "$(printf '%s\n' "$out" | tail -1)" = "$ref" ] && r=ok || r="answer $(printf '%s\n' "$out" | tail -1)"
check "parallel, $limit, taken over and spilled: the serial answer" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "no file left after it" "$r"

# cancel_while_spilling APPNAME PREFIX QUERY: run QUERY, cancel it once it has
# files in base/pgsql_tmp; it must end within 1 s and leave none (the checks'
# names start with PREFIX)
cancel_while_spilling() {
  local app=$1 prefix=$2 query=$3 bg seen start ms
  PGAPPNAME=$app psql -X -q -c "$query" >/dev/null 2>"$own_cluster_dir/$app.err" &
  bg=$!
  seen=0
  for _ in $(seq 1 100); do
    sleep 0.1
    if [ "$(tmp_files)" -gt 0 ]; then seen=1; break; fi
  done
  sleep 0.5
  [ "$seen" = 1 ] && r=ok || r="no file appeared in base/pgsql_tmp"
  check "${prefix}the running query has files in base/pgsql_tmp" "$r"
  start=$(date +%s%N)
  psql -X -q -A -t -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$app'" >/dev/null
  wait "$bg"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  grep -q "canceling statement due to user request" "$own_cluster_dir/$app.err" && r=ok || r="$(cat "$own_cluster_dir/$app.err")"
  check "${prefix}the query was cancelled" "$r"
  [ "$ms" -le 1000 ] && r=ok || r="${ms} ms"
  check "${prefix}cancel took effect within 1 s (${ms} ms)" "$r"
  [ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
  check "${prefix}no file left after a cancel" "$r"
}

# cancel while spilling: pg_cancel_backend, the query ends within 1 s
cancel_while_spilling estore_cancel "" "$long_query"

# the same over a plain table, where the query runs in the plan node of its
# own (Custom Scan FunnelAggregate, doc/whole_table.md): an error in an
# argument it evaluates while spilling, and a cancel, leave no file
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE node_rows AS
  SELECT g, g % 200000 AS e, timestamptz '2024-01-01' + g * interval '1 s' AS ts
  FROM generate_series(1, 12000000) g; ANALYZE node_rows" || exit 1
node_query="LOAD 'funnel'; SET max_parallel_workers_per_gather = 0; SET funnel.max_state_memory = '1MB';"
plan=$(psql -X -q -A -t -c "$node_query EXPLAIN (COSTS OFF)
  SELECT funnel_stage_counts('1 day', e, ts, 1 / (g - 2000000) > 0, g % 3 = 1) FROM node_rows" 2>&1)
case "$plan" in *"Custom Scan (FunnelAggregate)"*) r=ok ;; *) r="plan $plan" ;; esac
check "plain table: the plan node of its own runs the query" "$r"
before=$(log_lines 'temporary file: path')
out=$(psql -X -q -A -t -c "$node_query
  SELECT funnel_stage_counts('1 day', e, ts, 1 / (g - 2000000) > 0, g % 3 = 1) FROM node_rows" 2>&1)
case "$out" in *"division by zero"*) r=ok ;; *) r="output $out" ;; esac
check "plain table: an error while spilling stops the query" "$r"
after=$(log_lines 'temporary file: path')
[ "$after" -gt "$before" ] && r=ok || r="no temporary file was logged"
check "plain table: it had spilled before the error" "$r"
[ "$(tmp_files)" = 0 ] && r=ok || r="$(tmp_files) files left"
check "plain table: no file left after an error while spilling" "$r"

cancel_while_spilling node_cancel "plain table: " "$node_query
  SELECT funnel_stage_counts('1 day', e, ts, g % 3 = 0, g % 3 = 1) FROM node_rows"

checks_summary
