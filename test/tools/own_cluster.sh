# Sourced by the shell tests that need a cluster of their own (test/upgrade.sh,
# test/security.sh): start_own_cluster runs initdb and starts PostgreSQL from
# the binaries of $PG_CONFIG (the system's under test/run.sh, the private copy
# under test/tools/sandbox.sh) in a temporary folder, on a free port, unix
# socket only, and stops and removes it when the calling script exits.  It sets
# PGHOST, PGPORT, PGUSER=postgres and PGDATABASE=postgres.
#
#   source test/tools/own_cluster.sh
#   start_own_cluster [-c name=value ...]
#
# stop_own_server and start_own_server stop the server (fast shutdown) and
# start it again on the same data, port and options: a test swaps the
# installed library in between (test/upgrade.sh).

own_cluster_bin=$("${PG_CONFIG:-pg_config}" --bindir)
own_cluster_dir=""
own_cluster_opts=""
own_cluster_as=()
# initdb and postgres refuse to run as root
[ "$(id -u)" = 0 ] && own_cluster_as=(runuser -u postgres --)

stop_own_cluster() {
  [ -n "$own_cluster_dir" ] || return 0
  "${own_cluster_as[@]}" "$own_cluster_bin/pg_ctl" -D "$own_cluster_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$own_cluster_dir"
  own_cluster_dir=""
}

stop_own_server() {
  "${own_cluster_as[@]}" "$own_cluster_bin/pg_ctl" -D "$own_cluster_dir/data" -m fast -w stop >/dev/null
}

start_own_server() {
  "${own_cluster_as[@]}" "$own_cluster_bin/pg_ctl" -D "$own_cluster_dir/data" -l "$own_cluster_dir/log" -w \
    -o "$own_cluster_opts" start >/dev/null
}

start_own_cluster() {
  own_cluster_dir=$(mktemp -d /tmp/funnel-test-cluster.XXXXXX)
  [ "${#own_cluster_as[@]}" -gt 0 ] && chown postgres: "$own_cluster_dir"
  trap stop_own_cluster EXIT
  local port=$(( 40000 + RANDOM % 10000 ))
  while "$own_cluster_bin/pg_isready" -q -h "$own_cluster_dir" -p "$port" >/dev/null 2>&1 \
        || [ -e "/tmp/.s.PGSQL.$port" ]; do
    port=$((port + 1))
  done
  "${own_cluster_as[@]}" "$own_cluster_bin/initdb" -D "$own_cluster_dir/data" -U postgres -A trust \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  own_cluster_opts="-p $port -k $own_cluster_dir -c listen_addresses='' -c fsync=off $*"
  start_own_server
  export PATH="$own_cluster_bin:$PATH" PGHOST="$own_cluster_dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
}
