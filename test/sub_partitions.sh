#!/usr/bin/env bash
# A large entity partition is processed in sub-partitions (by the next bits
# of the entity's hash, src/engine/entity_store.c process_large_part) when
# its entities are by value and their keys fit with room to spare under
# funnel.max_state_memory.  funnel.debug_sub_partition_rows makes the
# partitions of a small table "large".  For each case: the answer is the
# one processed whole (the default setting; for funnel_stage_counts also
# the two-level form), and DEBUG1 says whether sub-partitions were used.
# Expects the funnel extension installed (make install).
set -uo pipefail
cd "$(dirname "$0")/.."
source test/tools/own_cluster.sh
start_own_cluster

source test/tools/checks.sh

psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || exit 1
CREATE EXTENSION funnel;
-- 3,000 users, 60,000 events over 4 days on whole minutes (many ties),
-- a channel and an order value
SELECT setseed(0.34) \g /dev/null
CREATE TABLE ev AS
SELECT (random() * 2999)::bigint + 1 AS u,
       timestamptz '2024-03-01' + (random() * 5760)::int * interval '1 minute' AS ts,
       (ARRAY['a', 'b', 'c', 'd', 'x'])[1 + (random() * 4)::int] AS e,
       (ARRAY['ads', 'mail', 'seo'])[1 + (random() * 2)::int] AS ch,
       round((random() * 100)::numeric, 2) AS amount
FROM generate_series(1, 60000);
ANALYZE ev;
SQL

base="SET max_parallel_workers_per_gather = 0;"
sub="$base SET funnel.debug_sub_partition_rows = 16;"

# case LABEL SETTINGS EXPECT(used|not used) QUERY [REFERENCE-QUERY]
case_() {
  local label=$1 settings=$2 expect=$3 q=$4 rq=${5:-$4}
  local out want n got r
  out=$(psql -X -q -A -t -c "$settings SET client_min_messages = debug1; $q" 2>&1)
  want=$(psql -X -q -A -t -c "$base $rq" 2>&1)
  n=$(printf '%s\n' "$out" | grep -c "processed in sub-partitions")
  got=$(printf '%s\n' "$out" | grep -v "^DEBUG:" | grep -v "^psql:")
  if [ -n "$want" ] && [ "$got" = "$want" ] && ! printf '%s' "$want" | grep -q ERROR; then r=ok
  else r="answer $got, reference $want"; fi
  check "$label: the answer processed whole" "$r"
  if [ "$expect" = used ]; then [ "$n" -ge 1 ] && r=ok || r="no sub-partitions"
  else [ "$n" -eq 0 ] && r=ok || r="sub-partitions used"; fi
  check "$label: sub-partitions $expect" "$r"
  LAST_OUT=$out
}

counts="SELECT funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev"
two_level="SELECT funnel_stage_counts(level, 4) FROM
  (SELECT window_funnel('1 day', ts, e = 'a', e = 'b', e = 'c', e = 'd') AS level FROM ev GROUP BY u) s"

case_ "bigint entities" "$sub" used "$counts" "$two_level"
case_ "bigint entities, 256 sub-partitions a partition" "$base SET funnel.debug_sub_partition_rows = 1;" used \
  "$counts" "$two_level"
case_ "integer entities" "$sub" used \
  "SELECT funnel_stage_counts('1 day', u::int, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev" "$two_level"
case_ "date entities (by value, hashed by their type)" "$sub" used \
  "SELECT funnel_stage_counts('1 day', date '2000-01-01' + u::int, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev" "$two_level"
case_ "text entities (by reference: processed whole)" "$sub" "not used" \
  "SELECT funnel_stage_counts('1 day', 'user' || u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev" "$two_level"
case_ "the default setting (partitions of ~230 rows)" "$base" "not used" "$counts" "$two_level"
case_ "a 384 kB limit (the rows spill)" "$sub SET funnel.max_state_memory = '384kB';" used "$counts" "$two_level"
printf '%s\n' "$LAST_OUT" | grep -q "read back from a temporary file" && r=ok || r="no spill"
check "a 384 kB limit: the rows spilled" "$r"
case_ "a 64 kB limit (no room for the keys)" "$sub SET funnel.max_state_memory = '64kB';" "not used" \
  "$counts" "$two_level"
case_ "GROUP BY channel" "$sub" used \
  "SELECT ch, funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev GROUP BY ch ORDER BY ch"
case_ "funnel_summary (trends, times)" "$sub" used \
  "SELECT funnel_summary('1 day', u, ts, e = 'a', e = 'b', e = 'c')::text FROM ev"
case_ "breakdown by channel" "$sub" used \
  "SELECT funnel_breakdown('1 day', 'breakdown first_touch', u, ch, ts, e = 'a', e = 'b', e = 'c')::text FROM ev"
case_ "attribution (a journey per entity, walked in hash order)" "$sub" used \
  "SELECT attribution('markov', u, ts, ch, CASE WHEN e = 'd' THEN amount END)::text FROM ev"
case_ "ltv_report (sums over customers in hash order)" "$sub" used \
  "SELECT ltv_report(u, ts, amount)::text FROM ev WHERE e = 'd'"
case_ "cohort_retention" "$sub" used \
  "SELECT cohort_retention(u, ts, 'day', 3)::text FROM ev"

# Each row is decoded straight into the room of its sub-partition (a
# quarter more than its share of the partition's rows, and 8).  A
# sub-partition that outgrows it (here: one entity with 15,000 rows; a few
# entities of 20 rows each in most sub-partitions of this small table) has
# its partition read again to count its sub-partitions' rows, then once
# more to put them in place.  Both kinds of partition occur here.
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE ev_heavy AS SELECT * FROM ev UNION ALL
  SELECT 7, timestamptz '2024-03-01' + (i % 5760) * interval '1 minute', (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4], 'ads', 1
  FROM generate_series(1, 15000) i" || exit 1
# counted SUBBED COUNTED: the numbers in the last DEBUG line
counted() {
  printf '%s\n' "$LAST_OUT" | sed -n 's/.*: \([0-9]*\) partitions of up to [0-9]* rows processed in sub-partitions, \([0-9]*\) of them counted first.*/\1 \2/p' | tail -1
}
for q in "SELECT funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev_heavy" \
         "SELECT funnel_summary('1 day', u, ts, e = 'a', e = 'b', e = 'c')::text FROM ev_heavy"; do
  case_ "a heavy entity: ${q:7:20}" "$sub" used "$q"
  read -r nsub ncount <<<"$(counted)"
  [ "${ncount:-0}" -ge 1 ] && [ "${ncount:-0}" -lt "${nsub:-0}" ] && r=ok || r="partitions in sub-partitions ${nsub:-?}, counted first ${ncount:-?}"
  check "a heavy entity: ${q:7:20}: some partitions counted first, some read once" "$r"
done
case_ "a heavy entity, two-level form" "$sub" used \
  "SELECT funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev_heavy" \
  "SELECT funnel_stage_counts(level, 4) FROM
  (SELECT window_funnel('1 day', ts, e = 'a', e = 'b', e = 'c', e = 'd') AS level FROM ev_heavy GROUP BY u) s"
case_ "a heavy entity, 256 sub-partitions" "$base SET funnel.debug_sub_partition_rows = 1;" used \
  "SELECT funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev_heavy"
# rows read three times from the temporary file: an entity of 400 rows,
# small enough for the partition's work to fit beside the rows that stay
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE ev_heavy2 AS SELECT * FROM ev UNION ALL
  SELECT 7, timestamptz '2024-03-01' + (i * 13 % 5760) * interval '1 minute', (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4], 'ads', 1
  FROM generate_series(1, 400) i" || exit 1
case_ "a heavy entity, a 448 kB limit (the rows spill)" "$sub SET funnel.max_state_memory = '448kB';" used \
  "SELECT funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev_heavy2" \
  "SELECT funnel_stage_counts(level, 4) FROM
  (SELECT window_funnel('1 day', ts, e = 'a', e = 'b', e = 'c', e = 'd') AS level FROM ev_heavy2 GROUP BY u) s"
printf '%s\n' "$LAST_OUT" | grep -q "read back from a temporary file" && r=ok || r="no spill"
check "a heavy entity, a 448 kB limit: the rows spilled" "$r"
read -r nsub ncount <<<"$(counted)"
[ "${ncount:-0}" -ge 1 ] && r=ok || r="counted first ${ncount:-?}"
check "a heavy entity, a 448 kB limit: partitions counted first from the file" "$r"
case_ "a heavy entity, date entities, 256 sub-partitions" "$base SET funnel.debug_sub_partition_rows = 1;" used \
  "SELECT funnel_stage_counts('1 day', date '2000-01-01' + u::int, ts, e, ARRAY['a', 'b', 'c', 'd']) FROM ev_heavy2" \
  "SELECT funnel_stage_counts(level, 4) FROM
  (SELECT window_funnel('1 day', ts, e = 'a', e = 'b', e = 'c', e = 'd') AS level FROM ev_heavy2 GROUP BY u) s"

checks_summary
