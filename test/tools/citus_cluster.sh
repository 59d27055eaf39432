# Sourced by test/citus.sh and bench/citus.sh: a Citus cluster of a
# coordinator and N workers on localhost, each its own data directory under
# a folder and its own port, shared_preload_libraries = 'citus', run as the
# postgres user from the PostgreSQL of $PG_CONFIG.
#
#   citus_install                 build and install Citus (vendored source,
#                                 once per machine) if it is missing
#   citus_start DIR WORKERS [OPTIONS]  initdb and start every node (OPTIONS:
#                                 more "-c name=value" for each server), create
#                                 the citus extension and register the nodes;
#                                 sets citus_ports, PGHOST, PGPORT, PGUSER,
#                                 PGDATABASE (the coordinator)
#   citus_stop                    stop every node and remove DIR
#   citus_received SQL            "rows bytes" the coordinator receives from
#                                 the workers for SQL: every task of its
#                                 distributed plan (EXPLAIN VERBOSE with
#                                 citus.explain_all_tasks) run on its node,
#                                 its text result measured.  EXPLAIN ANALYZE
#                                 would say it too, but Citus 13.2 cannot
#                                 EXPLAIN ANALYZE a query whose workers run
#                                 worker_partial_agg (its wrapper declares the
#                                 partial state's cstring column and fails)
# The search_path of citus_received's queries is $CITUS_SEARCH_PATH.

citus_system_pg_config=/usr/lib/postgresql/15/bin/pg_config
PG_CONFIG=${PG_CONFIG:-$citus_system_pg_config}

citus_install() {
  local vendor="" d
  [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ] && return 0
  for d in "${CITUS_VENDOR:-}" ../shared/vendor/citus ../../shared/vendor/citus /work/shared/vendor/citus; do
    if [ -n "$d" ] && [ -f "$d/build.sh" ]; then vendor=$d; break; fi
  done
  [ -n "$vendor" ] || { echo "the vendored Citus source (shared/vendor/citus/build.sh) was not found" >&2; return 1; }
  PG_CONFIG=$citus_system_pg_config bash "$vendor/build.sh" >&2
  if [ ! -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then
    # a private copy of PostgreSQL (test/tools/sandbox.sh): take the system's Citus
    cp -a "$("$citus_system_pg_config" --pkglibdir)"/citus* "$("$PG_CONFIG" --pkglibdir)/"
    cp -a "$("$citus_system_pg_config" --sharedir)"/extension/citus* "$("$PG_CONFIG" --sharedir)/extension/"
  fi
}

citus_as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

citus_port_free() {
  ! citus_as_pg "$citus_bin/pg_isready" -q -h 127.0.0.1 -p "$1" 2>/dev/null \
    && ! (ss -ltn 2>/dev/null | grep -q ":$1 ")
}

citus_start() {  # citus_start DIR WORKERS [OPTIONS...]
  citus_dir=$1
  local workers=$2 base i
  shift 2
  citus_bin=$("$PG_CONFIG" --bindir)
  [ "$(id -u)" = 0 ] && chown postgres: "$citus_dir"
  base=$(( 41000 + ($$ % 500) * 8 ))
  while true; do
    citus_ports=()
    for ((i = 0; i <= workers; i++)); do citus_port_free $((base + i)) && citus_ports+=($((base + i))); done
    [ ${#citus_ports[@]} -eq $((workers + 1)) ] && break
    base=$((base + 8))
  done
  for ((i = 0; i <= workers; i++)); do
    citus_as_pg "$citus_bin/initdb" -D "$citus_dir/node$i" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    if ! citus_as_pg "$citus_bin/pg_ctl" -D "$citus_dir/node$i" -l "$citus_dir/node$i.log" -w -o "-p ${citus_ports[$i]} \
      -k $citus_dir -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off $*" start >/dev/null; then
      echo "node $i (port ${citus_ports[$i]}) did not start:" >&2
      tail -5 "$citus_dir/node$i.log" >&2
      return 1
    fi
  done
  export PGHOST=$citus_dir PGUSER=postgres PGDATABASE=postgres PGPORT=${citus_ports[0]}
  for ((i = 1; i <= workers; i++)); do
    psql -X -q -v ON_ERROR_STOP=1 -p "${citus_ports[$i]}" -c "CREATE EXTENSION citus"
  done
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION citus" \
    -c "SELECT citus_set_coordinator_host('127.0.0.1', ${citus_ports[0]})" >/dev/null
  for ((i = 1; i <= workers; i++)); do
    psql -X -q -v ON_ERROR_STOP=1 -c "SELECT citus_add_node('127.0.0.1', ${citus_ports[$i]})" >/dev/null
  done
}

citus_stop() {
  local d
  [ -n "${citus_dir:-}" ] || return 0
  for d in "$citus_dir"/node*; do
    [ -f "$d/postmaster.pid" ] && citus_as_pg "$citus_bin/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  rm -rf "$citus_dir"
  citus_dir=""
}

citus_received() {  # citus_received SQL -> "rows bytes"
  local plan rows=0 bytes=0 query="" port out
  plan=$(PGOPTIONS="-c search_path=${CITUS_SEARCH_PATH:-public} -c citus.explain_all_tasks=on" \
    psql -X -A -t -q -v ON_ERROR_STOP=1 -c "EXPLAIN (VERBOSE, COSTS OFF) $1") || return 1
  while IFS= read -r line; do
    case "$line" in
      *"Query: "*) query=${line#*Query: } ;;
      *"Node: host="*)
        port=${line#*port=}; port=${port%% *}
        out=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -p "$port" -c "$query") || return 1
        if [ -n "$out" ]; then
          rows=$((rows + $(printf '%s\n' "$out" | wc -l)))
          bytes=$((bytes + $(printf '%s' "$out" | wc -c)))
        fi
        query="" ;;
    esac
  done <<<"$plan"
  echo "$rows $bytes"
}
