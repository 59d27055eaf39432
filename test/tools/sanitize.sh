#!/usr/bin/env bash
# The regression suite, the pgTAP suite and the fuzzer against a build of
# the extension with UndefinedBehaviorSanitizer.  Not in CI (several minutes
# on two cores): run it before a release or after changing code that reads
# outside bytes or does arithmetic on them.  doc/testing.md says how to read it.
#
#   bash test/tools/sanitize.sh [--fuzz-only] [--cases N] [--seed S] (fuzzer options)
#
# It lives in test/tools/ so that test/run.sh (which runs every test/*.sh)
# does not run it.
#
# Nothing is installed in the system PostgreSQL: the build goes into a
# private copy of PostgreSQL 15 under /tmp (as test/tools/sandbox.sh does),
# from a copy of this checkout (the normal build's objects stay as they are).
# Only funnel.so is instrumented (it links libubsan itself; postgres is
# not).  AddressSanitizer is not used: it needs libasan preloaded into
# postgres, and there postgres hangs at start-up (a lock in glibc's
# bindtextdomain under the ASan runtime, Debian 12, GCC 12).  Every report
# stops the backend (-fno-sanitize-recover) and lands in the server log,
# which is searched at the end; exits 1 if any report, crash or test failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
# PostgreSQL builds with -fwrapv (signed overflow wraps): -fno-wrapv after it
# makes UBSan report our signed overflows, which would be silent wrong counts
sanflags='-fsanitize=undefined,float-cast-overflow -fno-wrapv -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1'
echo "sanitize: building with $sanflags"
make -s -C "$build" COPT="-Wall -Wextra -Werror $sanflags" >/dev/null
make -s -C "$build" install >/dev/null

server_env="UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
port=$(( 40000 + RANDOM % 20000 ))
while as_postgres "$bin/pg_isready" -q -h "$run" -p "$port" 2>/dev/null; do port=$((port + 1)); done
as_postgres "$bin/initdb" -D "$run/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres env $server_env "$bin/pg_ctl" -D "$run/data" -l "$run/log" -w \
  -o "-p $port -k $run -c listen_addresses='' -c fsync=off -c max_worker_processes=8" start >/dev/null
export PATH=$bin:$PATH PGHOST=$run PGPORT=$port PGUSER=postgres PGDATABASE=postgres

failed=0
fuzz_only=0
if [ "${1:-}" = "--fuzz-only" ]; then fuzz_only=1; shift; fi
t=$(date +%s)
if [ $fuzz_only -eq 1 ]; then echo "sanitize: pg_regress and pgTAP skipped (--fuzz-only)"
elif make -s -C "$build" installcheck >/dev/null 2>&1; then echo "sanitize: pg_regress ok ($(( $(date +%s) - t )) s)"
else echo "sanitize: pg_regress FAILED"; head -100 "$build/regression.diffs" 2>/dev/null; failed=1; fi

t=$(date +%s)
[ $fuzz_only -eq 1 ] || createdb funnel_tap
[ $fuzz_only -eq 1 ] || psql -X -q -d funnel_tap -c "CREATE EXTENSION pgtap"
if [ $fuzz_only -eq 1 ]; then :
elif (cd "$build" && pg_prove -d funnel_tap --ext .sql test/) > "$run/pgtap.out" 2>&1; then
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
