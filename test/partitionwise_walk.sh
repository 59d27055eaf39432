#!/usr/bin/env bash
# A partial aggregate that reads whole entities walks them where it reads
# them (src/engine/whole_entities.c): partitionwise plans over tables
# partitioned by the entity, with whole partitions per process.  For each
# layout and query: the answer is the one of the same rows in a plain table
# (serial, walked in the final function), and DEBUG1 says whether any
# partial aggregate walked early; every layout where an entity's rows may
# sit in two partitions (another key, a second level by time, a key under
# another collation, an entity that is not the key column, parallel scans
# that split a partition) must not.
# Expects the funnel extension installed (make install).
set -uo pipefail
cd "$(dirname "$0")/.."
source test/tools/own_cluster.sh
start_own_cluster -c max_worker_processes=8 -c max_parallel_workers=4

source test/tools/checks.sh

psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || exit 1
CREATE EXTENSION funnel;
-- 3,000 users, 60,000 events over 4 days on whole minutes (many ties), a
-- session key that spreads every user over all partitions, a channel, and
-- a name whose case varies per row (for the collation layout)
SELECT setseed(0.12);
CREATE TABLE ev AS
SELECT (random() * 2999)::bigint + 1 AS u,
       'sess' || (random() * 499)::int AS s,
       timestamptz '2024-03-01' + (random() * 5760)::int * interval '1 minute' AS ts,
       (ARRAY['a', 'b', 'c', 'd', 'x'])[1 + (random() * 4)::int] AS e,
       (ARRAY['ads', 'mail', 'seo'])[1 + (random() * 2)::int] AS ch
FROM generate_series(1, 60000);
ALTER TABLE ev ADD COLUMN name text;
UPDATE ev SET name = CASE WHEN random() < 0.5 THEN 'User' || u ELSE 'user' || u END;

CREATE FUNCTION whole_partitions(parent regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r regclass;
BEGIN
  FOR r IN SELECT relid FROM pg_partition_tree(parent) WHERE isleaf LOOP
    EXECUTE format('ALTER TABLE %s SET (parallel_workers = 0)', r);
  END LOOP;
END $$;

-- by the entity: hash, 4 partitions, whole partitions per worker
CREATE TABLE hp (u bigint, s text, ts timestamptz, e text, ch text, name text) PARTITION BY HASH (u);
CREATE TABLE hp0 PARTITION OF hp FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE hp1 PARTITION OF hp FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE hp2 PARTITION OF hp FOR VALUES WITH (MODULUS 4, REMAINDER 2);
-- a partition attached with its columns in another order
CREATE TABLE hp3 (name text, e text, ch text, ts timestamptz, s text, u bigint);
ALTER TABLE hp ATTACH PARTITION hp3 FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO hp (u, s, ts, e, ch, name) SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('hp');

-- the same rows with parallel scans inside each partition
CREATE TABLE hq (LIKE hp) PARTITION BY HASH (u);
CREATE TABLE hq0 PARTITION OF hq FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE hq1 PARTITION OF hq FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO hq SELECT u, s, ts, e, ch, name FROM ev;

-- mixed: one partition whole, the other scanned in parallel
CREATE TABLE hm (LIKE hp) PARTITION BY HASH (u);
CREATE TABLE hm0 PARTITION OF hm FOR VALUES WITH (MODULUS 2, REMAINDER 0) WITH (parallel_workers = 0);
CREATE TABLE hm1 PARTITION OF hm FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO hm SELECT u, s, ts, e, ch, name FROM ev;

-- by another key: every user in every partition
CREATE TABLE hs (LIKE hp) PARTITION BY HASH (s);
CREATE TABLE hs0 PARTITION OF hs FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE hs1 PARTITION OF hs FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE hs2 PARTITION OF hs FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO hs SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('hs');

-- by the user, then by time: a user's rows in two leaves
CREATE TABLE ht (LIKE hp) PARTITION BY HASH (u);
CREATE TABLE ht0 PARTITION OF ht FOR VALUES WITH (MODULUS 2, REMAINDER 0) PARTITION BY RANGE (ts);
CREATE TABLE ht1 PARTITION OF ht FOR VALUES WITH (MODULUS 2, REMAINDER 1) PARTITION BY RANGE (ts);
CREATE TABLE ht0a PARTITION OF ht0 FOR VALUES FROM (MINVALUE) TO ('2024-03-03');
CREATE TABLE ht0b PARTITION OF ht0 FOR VALUES FROM ('2024-03-03') TO (MAXVALUE);
CREATE TABLE ht1a PARTITION OF ht1 FOR VALUES FROM (MINVALUE) TO ('2024-03-03');
CREATE TABLE ht1b PARTITION OF ht1 FOR VALUES FROM ('2024-03-03') TO (MAXVALUE);
INSERT INTO ht SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('ht');

-- by time, then by the user
CREATE TABLE tu (LIKE hp) PARTITION BY RANGE (ts);
CREATE TABLE tu0 PARTITION OF tu FOR VALUES FROM (MINVALUE) TO ('2024-03-03') PARTITION BY HASH (u);
CREATE TABLE tu1 PARTITION OF tu FOR VALUES FROM ('2024-03-03') TO (MAXVALUE) PARTITION BY HASH (u);
CREATE TABLE tu0a PARTITION OF tu0 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tu0b PARTITION OF tu0 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE tu1a PARTITION OF tu1 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tu1b PARTITION OF tu1 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO tu SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('tu');

-- by the user in lists, the rest in a default partition
CREATE TABLE lp (LIKE hp) PARTITION BY LIST (u);
CREATE TABLE lp0 PARTITION OF lp FOR VALUES IN (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584);
CREATE TABLE lp1 PARTITION OF lp DEFAULT;
INSERT INTO lp SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('lp');

-- by the user at both levels (hash, then list of remainders by range)
CREATE TABLE uu (LIKE hp) PARTITION BY HASH (u);
CREATE TABLE uu0 PARTITION OF uu FOR VALUES WITH (MODULUS 2, REMAINDER 0) PARTITION BY RANGE (u);
CREATE TABLE uu1 PARTITION OF uu FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE uu0a PARTITION OF uu0 FOR VALUES FROM (MINVALUE) TO (1500);
CREATE TABLE uu0b PARTITION OF uu0 FOR VALUES FROM (1500) TO (MAXVALUE);
INSERT INTO uu SELECT u, s, ts, e, ch, name FROM ev;
SELECT whole_partitions('uu');
ANALYZE;
SQL

# collation: names compared case-insensitively by the aggregate, hashed to
# partitions under "C" (so 'User7' and 'user7' sit apart), if ICU is built in
icu=$(psql -X -q -A -t -c "SELECT count(*) > 0 FROM pg_collation WHERE collprovider = 'i'")
if [ "$icu" = t ]; then
  psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || exit 1
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE evc (name text COLLATE ci, ts timestamptz, e text);
INSERT INTO evc SELECT name, ts, e FROM ev;
CREATE TABLE hc (name text COLLATE ci, ts timestamptz, e text) PARTITION BY HASH (name COLLATE "C");
CREATE TABLE hc0 PARTITION OF hc FOR VALUES WITH (MODULUS 2, REMAINDER 0) WITH (parallel_workers = 0);
CREATE TABLE hc1 PARTITION OF hc FOR VALUES WITH (MODULUS 2, REMAINDER 1) WITH (parallel_workers = 0);
INSERT INTO hc SELECT name, ts, e FROM ev;
ANALYZE evc, hc;
SQL
fi

serial="SET max_parallel_workers_per_gather = 0; SET enable_partitionwise_aggregate = off;"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
  SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
  SET enable_partitionwise_aggregate = on;"
serial_pw="SET max_parallel_workers_per_gather = 0; SET enable_partitionwise_aggregate = on;"

# case LABEL SETTINGS TABLE EXPECT SELECT-LIST [REF-TABLE] [GROUP BY]
# Each case runs twice: in a session that has not loaded the library when
# the query is planned (PostgreSQL's Partial Aggregate), and in one that has
# (LOAD: the plan node of its own, Custom Scan FunnelAggregate, where it
# applies; whole_table.md).  EXPECT is "walked" or "not walked", or
# "not walked/walked" where the two plans differ.
case_() {
  local label=$1 settings=$2 table=$3 expect_both=$4 select=$5 ref=${6:-ev} group=${7:-}
  local q="SELECT $select FROM $table $group" rq="SELECT $select FROM $ref $group"
  local out want n got load tag expect
  want=$(psql -X -q -A -t -c "$serial $rq" 2>&1)
  for load in "" "LOAD 'funnel';"; do
    if [ -z "$load" ]; then tag=""; expect=${expect_both%%/*}
    else tag=", library loaded"; expect=${expect_both##*/}; fi
    out=$(psql -X -q -A -t -c "$load $settings SET client_min_messages = debug1; $q" 2>&1)
    n=$(printf '%s\n' "$out" | grep -c "walked the entities of")
    got=$(printf '%s\n' "$out" | grep -v "^DEBUG:" | grep -v "^psql:")
    [ "$got" = "$want" ] && case "$want" in *"{"*) r=ok ;; *) r="reference $want" ;; esac || r="answer $got, reference $want"
    check "$label$tag: the plain table's answer" "$r"
    if [ "$expect" = walked ]; then [ "$n" -ge 1 ] && r=ok || r="no partial aggregate walked early"
    else [ "$n" -eq 0 ] && r=ok || r="$n partial aggregates walked early"; fi
    check "$label$tag: $expect early" "$r"
  done
}

# plan_has LABEL SETTINGS QUERY PATTERN [ABSENT]: the plan, library loaded,
# matches PATTERN (and not ABSENT)
plan_has() {
  local plan
  plan=$(psql -X -q -A -t -c "LOAD 'funnel'; $2 EXPLAIN (COSTS OFF) $3" 2>&1 | tr '\n' ' ')
  if printf '%s' "$plan" | grep -Eq "$4" && { [ -z "${5:-}" ] || ! printf '%s' "$plan" | grep -Eq "$5"; }
  then r=ok; else r="plan: $plan"; fi
  check "$1" "$r"
}

counts="funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd'])"
conv="funnel_conversion('1 day', u, ts, e = 'a', e = 'b', e = 'c')"
ordered="funnel_stage_counts('6 hours', 'strict_order', u, ts, e, ARRAY['a', 'b', 'c'])"

case_ "by the user, 2 workers, whole partitions" "$parallel" hp walked "$counts"
case_ "by the user, serial partitionwise" "$serial_pw" hp walked "$counts"
case_ "by the user, funnel_conversion, conditions" "$parallel" hp walked "$conv"
case_ "by the user, strict order" "$parallel" hp walked "$ordered"
case_ "by the user, two aggregates sharing one state" "$parallel" hp walked "$counts, funnel_conversion('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd'])"
case_ "by the user, GROUP BY channel" "$parallel" hp walked "ch, $counts" ev "GROUP BY ch ORDER BY ch"
case_ "by the user, a WHERE clause" "$parallel" "hp WHERE ch <> 'seo'" walked "$counts" "ev WHERE ch <> 'seo'"
case_ "by the user, FILTER (WHERE ...)" "$parallel" hp walked \
  "funnel_stage_counts('1 day', u, ts, e, ARRAY['a', 'b', 'c', 'd']) FILTER (WHERE ch = 'ads')"
case_ "by the user in lists and a default partition" "$parallel" lp walked "$counts"
case_ "by the user, funnel_trends (rows needed)" "$parallel" hp "not walked" \
  "funnel_trends('1 day', 'bucket day, time_zone UTC', u, ts, e, ARRAY['a', 'b', 'c'])"
case_ "by the user, entity u + 0 (an expression)" "$parallel" hp "not walked" \
  "funnel_stage_counts('1 day', u + 0, ts, e, ARRAY['a', 'b', 'c', 'd'])"
case_ "by the user, the session as entity" "$parallel" hp "not walked" \
  "funnel_stage_counts('1 day', s, ts, e, ARRAY['a', 'b', 'c', 'd'])"
# (with the library loaded, the node reads each partition whole in one
# worker, a plan of its own: walked there)
case_ "by the user, parallel scans inside partitions" "$parallel" hq "not walked/walked" "$counts"
case_ "by the user, one partition whole, one scanned in parallel" "$parallel" hm walked "$counts"
case_ "by the session" "$parallel" hs "not walked" "$counts"
case_ "by the user, then by time" "$parallel" ht "not walked" "$counts"
case_ "by the user, then by time, serial partitionwise" "$serial_pw" ht "not walked" "$counts"
case_ "by time, then by the user" "$parallel" tu "not walked" "$counts"
case_ "by the user at both levels" "$parallel" uu walked "$counts"
if [ "$icu" = t ]; then
  case_ "names compared case-insensitively, partitions hashed under C" "$parallel" hc "not walked" \
    "funnel_stage_counts('1 day', name, ts, e = 'a', e = 'b', e = 'c', e = 'd')" evc
else
  echo "skipped: no ICU collations in this build (the collation layout)"
fi
# which of these the node ran
plan_has "the node over whole partitions, 2 workers" "$parallel" "SELECT $counts FROM hp" \
  "Gather .*Parallel Append .*Custom Scan \(FunnelAggregate\) +-> +Seq Scan on hp"
plan_has "the node over whole partitions, serial partitionwise" "$serial_pw" "SELECT $counts FROM hp" \
  "Finalize Aggregate +-> +Append .*Custom Scan \(FunnelAggregate\) +-> +Seq Scan on hp"
plan_has "the node over lists and a default partition" "$parallel" "SELECT $counts FROM lp" "FunnelAggregate"
plan_has "the node over partitions that allow parallel scans: whole ones" "$parallel" "SELECT $counts FROM hq" \
  "Parallel Append .*Custom Scan \(FunnelAggregate\) +-> +Seq Scan on hq" "Parallel Seq Scan"
plan_has "two levels of partitions: PostgreSQL's partial aggregates" "$parallel" "SELECT $counts FROM uu" \
  "Partial Aggregate" "FunnelAggregate"
# the WHERE case's reference must be the filtered plain table
[ "$(psql -X -q -A -t -c "$serial SELECT $counts FROM ev WHERE ch <> 'seo'")" != \
  "$(psql -X -q -A -t -c "$serial SELECT $counts FROM ev")" ] && r=ok || r="the filter changes nothing"
check "the WHERE clause changes the answer" "$r"

checks_summary
