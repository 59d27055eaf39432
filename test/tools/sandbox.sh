#!/usr/bin/env bash
# Development aid: run a command against this checkout's build in a private
# PostgreSQL 15 (a copy of the system's binaries and share directory under
# /tmp, so several checkouts on one machine never load each other's library)
# and a throwaway cluster on its own port.  The suite itself (test/run.sh)
# does not use it.
#
#   bash test/tools/sandbox.sh make installcheck
#   bash test/tools/sandbox.sh pg_prove -d postgres --ext .sql test/pipeline.sql
#   bash test/tools/sandbox.sh psql -c 'SELECT 1'
#
# Inside the command PATH, PG_CONFIG, PGHOST, PGPORT, PGUSER and PGDATABASE
# point at the private server; pgtap is installable there.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkout=$(pwd)
key=$(printf '%s' "$checkout" | md5sum | cut -c1-8)
root=/tmp/funnel-sandbox-$key
bin=$root/usr/lib/postgresql/15/bin
if [ ! -x "$bin/postgres" ]; then
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
fi
# the copied pg_config names the copy's include directory: headers are shared
if [ ! -e "$root/usr/include/postgresql/15" ]; then
  mkdir -p "$root/usr/include/postgresql"
  ln -s /usr/include/postgresql/15 "$root/usr/include/postgresql/15"
fi
export PG_CONFIG=$bin/pg_config
make -s COPT='-Wall -Wextra -Werror' >/dev/null
# the copied pg_config reports the copy's own directories: install goes there
make -s install >/dev/null
run=$(mktemp -d /tmp/funnel-sandbox-run.XXXXXX)
chown postgres: "$run"
port=$(( 20000 + (0x$key % 20000) ))
while runuser -u postgres -- "$bin/pg_isready" -q -h "$run" -p "$port" 2>/dev/null; do port=$((port + 1)); done
runuser -u postgres -- "$bin/initdb" -D "$run/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$run/data" -l "$run/log" -w \
  -o "-p $port -k $run -c listen_addresses='' -c fsync=off -c max_worker_processes=16" start >/dev/null
stop() { runuser -u postgres -- "$bin/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$run"; }
trap stop EXIT
export PATH=$bin:$PATH PGHOST=$run PGPORT=$port PGUSER=postgres PGDATABASE=postgres
status=0
"$@" || status=$?
exit $status
