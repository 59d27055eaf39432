# Sourced by the scripts that measure in the harness's kept cluster
# (bench/run.sh --keep): ab.sh, instructions.sh, scale.sh, against_1_0.sh.
# Sets BENCH_DIR, BENCH_PORT, PGBIN, PG_CONFIG, LIB (the harness's
# libraries), AS (a command prefix that runs as the cluster's owner, empty
# unless this is root) and the libpq environment of the cluster; stops the
# script when there is no such cluster.
BENCH_DIR=${BENCH_DIR:-/tmp/funnel-bench}
BENCH_PORT=${BENCH_PORT:-55499}
PGBIN=/usr/lib/postgresql/15/bin
export PG_CONFIG=$PGBIN/pg_config
export PGHOST="$BENCH_DIR" PGPORT="$BENCH_PORT" PGUSER=postgres PGDATABASE=bench
LIB="$BENCH_DIR/lib"
[ -f "$BENCH_DIR/data/PG_VERSION" ] || { echo "no harness cluster in $BENCH_DIR: run bench/run.sh --keep first" >&2; exit 1; }
AS=()
[ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
CLUSTER_STARTED=0

# cluster_running: whether the cluster runs
cluster_running() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" status >/dev/null 2>&1
}

# cluster_start: start the cluster unless it runs (with the server options
# in CLUSTER_OPTIONS, if set); cluster_stop stops it again only if
# cluster_start started it
cluster_start() {
  if ! cluster_running; then
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/postgres.log" -o "-c huge_pages=try ${CLUSTER_OPTIONS:-}" -w start >/dev/null
    CLUSTER_STARTED=1
  fi
}
cluster_stop() {
  if [ "$CLUSTER_STARTED" = 1 ]; then
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    CLUSTER_STARTED=0
  fi
}
