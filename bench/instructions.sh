#!/usr/bin/env bash
# Instructions a row, counted by valgrind's callgrind (doc/performance.md,
# round 20): the same count for the same build, data and query whatever
# else the machine is doing, where a time on this virtual machine drifts by
# tens of percent from one minute to the next.  Each git revision is built
# in a temporary worktree and loaded as bench/ab.sh loads it
# (bench/builds.sh; schemas ab_i0, ab_i1, ...); each query runs once in a
# single-user backend over the harness's cluster (stopped for the
# purpose), counting the instructions of
# the executor only (standard_ExecutorRun: the scan, the aggregate's calls,
# the transition and the final function; not the server's start).
#
#   bash bench/instructions.sh [--table TABLE] [--case CASE]... REV...
#
#   --table  the events table in schema data (default ev1m: 1M events of
#            100,000 users from the harness's generator, made here when
#            missing; callgrind runs about 50 times slower than the CPU)
#   --case   noop_names, names, noop_conditions, conditions, product,
#            partitionwise_serial (conditions over data.events_hp, serial);
#            may repeat (default: noop_names names)
# Prints, per revision and case, the instructions a row of TABLE, and for
# names and conditions their ratio to the no-op floor of the same form.
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TABLE=ev1m
CASES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --table) TABLE="$2"; shift 2 ;;
    --case) CASES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "at least one revision is needed (see --help)" >&2; exit 2; }
[ ${#CASES[@]} -gt 0 ] || CASES=(noop_names names)
[[ "$TABLE" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "--table must be a plain table name" >&2; exit 2; }
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }; }

. "$ROOT/bench/cluster.sh"

. "$ROOT/bench/builds.sh"
WORK=$(mktemp -d /tmp/funnel-instr.XXXXXX)
chmod 1777 "$WORK"  # the single-user backend (user postgres) writes its counts here
cleanup() {
  cluster_stop
  remove_worktrees
  rm -rf "$WORK"
}
trap cleanup EXIT

if cluster_running; then
  echo "the harness's cluster is running: stop it first (a single-user backend needs it stopped)" >&2
  trap - EXIT; rm -rf "$WORK"; exit 1
fi
cluster_start
if [ "$TABLE" = ev1m ] && ! psql -X -qtAc "SELECT obj_description('data.ev1m'::regclass)" 2>/dev/null | grep -qx "gen2 users=100000"; then
  # the harness's generator with a tenth of its 10M data's users
  echo "generating data.ev1m (100000 users)"
  psql -X -q -c "SET search_path = data, public" -v users=100000 -v tbl=data.ev1m -f bench/generate.sql
  psql -X -qc "VACUUM ANALYZE data.ev1m" -c "COMMENT ON TABLE data.ev1m IS 'gen2 users=100000'"
fi
psql -X -qtAc "SELECT 1 FROM data.$TABLE LIMIT 1" >/dev/null \
  || { echo "no table data.$TABLE in the harness's cluster" >&2; exit 1; }
ROWS=$(psql -X -qtAc "SELECT count(*) FROM data.$TABLE")
NOOP=$(psql -X -qtAc "SELECT count(*) FROM pg_proc WHERE proname = 'funnel_noop'")
[ "$NOOP" != 0 ] || { echo "the harness's no-op aggregate is not installed (bench/run.sh --keep installs it)" >&2; exit 1; }

# ---------- the builds, each in a schema of its own ----------
i=0
SIDES=()
for rev in "$@"; do
  side=ab_i$i
  build_revision "$rev" "$side"
  load_revision "$side"
  SIDES+=("$side:$(git -C "$WORK/$side" log --oneline -1 | cut -c1-60)")
  i=$((i + 1))
done
cluster_stop  # the single-user backends below need it stopped

# ---------- counting ----------
names="event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']"
conditions="event = 'visit', event = 'product_view', event = 'add_to_cart', event = 'purchase'"
query() {
  case "$1" in
    noop_names) echo "SELECT public.funnel_noop('7 days'::interval, user_id, ts, $names) FROM data.$TABLE" ;;
    names) echo "SELECT funnel_stage_counts('7 days', user_id, ts, $names) FROM data.$TABLE" ;;
    noop_conditions) echo "SELECT public.funnel_noop('7 days'::interval, user_id, ts, $conditions) FROM data.$TABLE" ;;
    conditions) echo "SELECT funnel_stage_counts('7 days', user_id, ts, $conditions) FROM data.$TABLE" ;;
    product) echo "SELECT funnel_stage_counts('7 days', 'optional 3, exclude 5 from 2 to 4, exclude 6 from 1 to 2', user_id, ts, event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase', 'other', 'checkout']) FROM data.$TABLE" ;;
    partitionwise_serial) echo "SELECT funnel_stage_counts('7 days', user_id, ts, $conditions) FROM data.events_hp" ;;
    *) echo "unknown case $1" >&2; return 1 ;;
  esac
}
count() {  # side case -> instructions of the executor
  local side=$1 c=$2 out="$WORK/$1.$2.cg"
  query "$c" > "$WORK/q.sql"
  "${AS[@]}" valgrind --tool=callgrind --toggle-collect=standard_ExecutorRun --callgrind-out-file="$out" \
    "$PGBIN/postgres" --single -D "$BENCH_DIR/data" -c huge_pages=off -c shared_buffers=1GB \
    -c max_parallel_workers_per_gather=0 -c search_path="$side" \
    -c session_preload_libraries="$LIB/$side.so" bench < "$WORK/q.sql" > "$WORK/out.txt" 2>&1 \
    || { cat "$WORK/out.txt" >&2; return 1; }
  grep -q 'ERROR' "$WORK/out.txt" && { cat "$WORK/out.txt" >&2; return 1; }
  sed -n 's/^summary: *//p' "$out"
}

echo "instructions a row of data.$TABLE ($ROWS rows), valgrind $(valgrind --version), $(date -u '+%Y-%m-%d %H:%M UTC')"
for s in "${SIDES[@]}"; do
  side=${s%%:*}
  echo "${side}: ${s#*:}"
  declare -A got=()
  for c in "${CASES[@]}"; do
    n=$(count "$side" "$c")
    got[$c]=$n
    line=$(awk -v n="$n" -v r="$ROWS" -v c="$c" 'BEGIN { printf "  %-22s %8.1f", c, n / r }')
    case "$c" in
      names|conditions)
        [ -n "${got[noop_$c]:-}" ] && line+=$(awk -v n="$n" -v f="${got[noop_$c]}" -v c="$c" \
          'BEGIN { printf "   %.2f x noop_%s", n / f, c }') ;;
    esac
    echo "$line"
  done
  unset got
done
