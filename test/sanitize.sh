#!/usr/bin/env bash
# The regression suite, the pgTAP suite and the fuzzer against a build of
# the extension with AddressSanitizer and UndefinedBehaviorSanitizer.  Not in
# CI (about ten minutes on two cores): run it before a release or after
# changing code that reads outside bytes.  doc/testing.md says how to read it.
#
#   bash test/sanitize.sh [--cases N] [--seed S]     (fuzzer options)
#
# Nothing is installed in the system PostgreSQL: the build goes into a
# private copy of PostgreSQL 15 under /tmp (as test/tools/sandbox.sh does),
# from a copy of this checkout (the normal build's objects stay as they are).
# The server runs with libasan preloaded (postgres itself is not
# instrumented, only funnel.so) and leak detection off (PostgreSQL frees
# memory by context, not by pointer).  Every sanitizer report stops the
# backend (-fno-sanitize-recover) and lands in the server log, which is
# searched at the end; exits 1 if any report, crash or test failure.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
start=$(date +%s)
key=$(printf '%s' "$checkout" | md5sum | cut -c1-8)
root=/tmp/funnel-sanitize-$key
bin=$root/usr/lib/postgresql/15/bin
if [ ! -x "$bin/postgres" ]; then
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/usr/include/postgresql"
  cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
  ln -s /usr/include/postgresql/15 "$root/usr/include/postgresql/15"
fi
export PG_CONFIG=$bin/pg_config

asan=$(gcc -print-file-name=libasan.so)
[ -f "$asan" ] || { echo "sanitize: libasan not found (apt-get install libasan8)" >&2; exit 2; }
build=$(mktemp -d /tmp/funnel-sanitize-build.XXXXXX)
run=$(mktemp -d /tmp/funnel-sanitize-run.XXXXXX)
chmod 755 "$run"
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop() {
  as_postgres "$bin/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$run" "$build"
}
trap stop EXIT

# the checkout as it is (uncommitted files included), without build products
tar -C "$checkout" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
  --exclude=results -cf - . | tar -C "$build" -xf -
sanflags='-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1'
echo "sanitize: building with $sanflags"
make -s -C "$build" COPT="-Wall -Wextra -Werror $sanflags" >/dev/null
make -s -C "$build" install >/dev/null

server_env="LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
port=$(( 40000 + RANDOM % 20000 ))
while as_postgres "$bin/pg_isready" -q -h "$run" -p "$port" 2>/dev/null; do port=$((port + 1)); done
as_postgres "$bin/initdb" -D "$run/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres env $server_env "$bin/pg_ctl" -D "$run/data" -l "$run/log" -w \
  -o "-p $port -k $run -c listen_addresses='' -c fsync=off -c max_worker_processes=8" start >/dev/null
export PATH=$bin:$PATH PGHOST=$run PGPORT=$port PGUSER=postgres PGDATABASE=postgres

failed=0
t=$(date +%s)
if make -s -C "$build" installcheck >/dev/null 2>&1; then echo "sanitize: pg_regress ok ($(( $(date +%s) - t )) s)"
else echo "sanitize: pg_regress FAILED"; head -100 "$build/regression.diffs" 2>/dev/null; failed=1; fi

t=$(date +%s)
createdb funnel_tap
psql -X -q -d funnel_tap -c "CREATE EXTENSION pgtap"
if (cd "$build" && pg_prove -d funnel_tap --ext .sql test/) > "$run/pgtap.out" 2>&1; then
  echo "sanitize: pgTAP ok ($(tail -1 "$run/pgtap.out"); $(( $(date +%s) - t )) s)"
else echo "sanitize: pgTAP FAILED"; grep -v '^ok\|^# ' "$run/pgtap.out" | tail -40; failed=1; fi

as_postgres "$bin/pg_ctl" -D "$run/data" -m fast -w stop >/dev/null
alarms() { grep -E 'runtime error|AddressSanitizer|terminated by signal|was terminated|TRAP:' "$1" || true; }
if [ -n "$(alarms "$run/log")" ]; then
  echo "sanitize: reports in the server log of the suites:"; alarms "$run/log" | head -40
  grep -B2 -A40 -E 'runtime error|AddressSanitizer' "$run/log" | head -150
  failed=1
fi

t=$(date +%s)
if FUNNEL_SERVER_ENV="$server_env" bash test/fuzz.sh "$@"; then echo "sanitize: fuzzer ok ($(( $(date +%s) - t )) s)"
else echo "sanitize: fuzzer FAILED (findings above)"; failed=1; fi

echo "sanitize: done in $(( $(date +%s) - start )) s, $([ $failed -eq 0 ] && echo 'nothing found' || echo 'FAILURES')"
exit $failed
