#!/usr/bin/env bash
# The regression suite, chosen pgTAP files and a short fuzz with every
# backend under valgrind memcheck.  Not in CI (20-50 times slower than a
# normal run); doc/testing.md says what it sees and what it cannot see.
#
#   bash test/tools/valgrind.sh [--tap FILE,FILE...|all|none] [--no-regress]
#                               [--cases N] [--seed S] (fuzzer options)
#
# --tap names test/*.sql files by base name (default: the deserialisation,
# summary input, attribution, pipeline and customer value files); --cases 0
# skips the fuzzer (default 300 cases).
#
# Nothing is installed in the system PostgreSQL: a copy of PostgreSQL 15
# under /tmp (as test/tools/sandbox.sh does) whose bin/postgres is a wrapper
# that starts the real binary under valgrind, except for initdb's
# bootstrap and single-user runs and version queries.  Backends are forked,
# not executed, so each one is checked by the postmaster's valgrind and logs
# to its own file (vg.PID.log).  funnel.so is built with -O0 -g from a copy
# of this checkout.  At the end every error whose stack or origin names our
# sources or funnel.so is printed and the run fails; errors in PostgreSQL
# alone are counted and listed by first frame (add a suppression to
# test/tools/valgrind.supp if they are false positives).
set -euo pipefail
cd "$(dirname "$0")/../.."
checkout=$(pwd)
start=$(date +%s)

tap="summary_binary,fuzz_regressions,funnel_event_input,attribution,pipeline,customer_value_cases"
regress=1
cases=300
fuzz_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=$2; shift 2;;
    --no-regress) regress=0; shift;;
    --cases) cases=$2; shift 2;;
    *) fuzz_args+=("$1"); shift;;
  esac
done
if [ "$tap" = all ]; then tap=$(cd test && ls *.sql | sed 's/\.sql$//' | paste -sd,); fi
[ "$tap" = none ] && tap=""

key=$(printf '%s' "$checkout" | md5sum | cut -c1-8)
root=/tmp/funnel-valgrind-$key
bin=$root/usr/lib/postgresql/15/bin
if [ ! -x "$bin/postgres.real" ]; then
  rm -rf "$root"
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/usr/include/postgresql"
  cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
  ln -s /usr/include/postgresql/15 "$root/usr/include/postgresql/15"
  mv "$bin/postgres" "$bin/postgres.real"
fi
export PG_CONFIG=$bin/pg_config

build=$(mktemp -d /tmp/funnel-valgrind-build.XXXXXX)
run=$(mktemp -d /tmp/funnel-valgrind-run.XXXXXX)
vglogs=$run/vg
mkdir "$vglogs"
chmod 755 "$run" "$build"
chmod 1777 "$vglogs"
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop() {
  as_postgres "$bin/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true
  if [ -n "${keep:-}" ]; then echo "valgrind: logs kept in $vglogs"; else rm -rf "$run"; fi
  rm -rf "$build"
}
trap stop EXIT

# The wrapper.  --trace-children=yes follows anything a backend executes
# (archive or COPY PROGRAM commands).  No --error-exitcode: a process that
# exits abnormally makes the postmaster restart every backend, and the rest
# of the suites would fail for nothing; the logs are the verdict.  nice: the
# machine is shared.
supp=$build/test/tools/valgrind.supp
cat > "$bin/postgres" <<EOF
#!/bin/sh
case "\$1" in
  --boot|--single|-V|--version|-C|--describe-config) exec "$bin/postgres.real" "\$@";;
esac
exec nice -n 10 valgrind --quiet --tool=memcheck --trace-children=yes \\
  --track-origins=yes --read-inline-info=yes --leak-check=no \\
  --num-callers=40 --fullpath-after= \\
  --suppressions="$supp" --gen-suppressions=all \\
  --log-file="$vglogs/vg.%p.log" "$bin/postgres.real" "\$@"
EOF
chmod 755 "$bin/postgres"

# the checkout as it is (uncommitted files included), without build products
tar -C "$checkout" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
  --exclude=results -cf - . | tar -C "$build" -xf -
# COPT comes after PostgreSQL's -O2: -O0 keeps every variable and line
echo "valgrind: building funnel.so with -O0 -g"
make -s -C "$build" COPT="-Wall -Wextra -Werror -O0 -g -fno-omit-frame-pointer" >/dev/null
make -s -C "$build" install >/dev/null

port=$(( 40000 + RANDOM % 20000 ))
while as_postgres "$bin/pg_isready" -q -h "$run" -p "$port" 2>/dev/null; do port=$((port + 1)); done
as_postgres "$bin/initdb" -D "$run/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# autovacuum off: its workers would only add slow, unrelated processes
as_postgres "$bin/pg_ctl" -D "$run/data" -l "$run/log" -w -t 300 \
  -o "-p $port -k $run -c listen_addresses='' -c fsync=off -c autovacuum=off -c max_worker_processes=8" start >/dev/null
export PATH=$bin:$PATH PGHOST=$run PGPORT=$port PGUSER=postgres PGDATABASE=postgres

failed=0
if [ $regress -eq 1 ]; then
  t=$(date +%s)
  if make -s -C "$build" installcheck >/dev/null 2>&1; then echo "valgrind: pg_regress ok ($(( $(date +%s) - t )) s)"
  else echo "valgrind: pg_regress FAILED"; head -40 "$build/regression.diffs" 2>/dev/null; failed=1; fi
fi

if [ -n "$tap" ]; then
  t=$(date +%s)
  createdb funnel_tap
  psql -X -q -d funnel_tap -c "CREATE EXTENSION pgtap"
  files=()
  for f in ${tap//,/ }; do files+=("test/$f.sql"); done
  if (cd "$build" && pg_prove -d funnel_tap --ext .sql "${files[@]}") > "$run/pgtap.out" 2>&1; then
    echo "valgrind: pgTAP ok (${#files[@]} files: $tap; $(tail -1 "$run/pgtap.out"); $(( $(date +%s) - t )) s)"
  else echo "valgrind: pgTAP FAILED"; grep -v '^ok\|^# ' "$run/pgtap.out" | tail -40; failed=1; fi
fi

as_postgres "$bin/pg_ctl" -D "$run/data" -m fast -w -t 300 stop >/dev/null
if grep -E 'terminated by signal|was terminated|TRAP:' "$run/log"; then
  echo "valgrind: abnormal process exits in the server log (above)"; failed=1
fi

if [ "$cases" -gt 0 ]; then
  t=$(date +%s)
  # the fuzzer starts its own cluster from the same copy (the same wrapper);
  # its statements need more than the usual 20 s under valgrind
  if FUNNEL_SERVER_ENV="FUNNEL_VALGRIND=1" bash test/fuzz.sh --cases "$cases" --timeout 300 "${fuzz_args[@]}"; then
    echo "valgrind: fuzzer ok ($(( $(date +%s) - t )) s)"
  else echo "valgrind: fuzzer FAILED (findings above)"; failed=1; fi
fi

# our errors: an error block naming a file of the build's src/ or funnel.so
if ! python3 - "$vglogs" "$build/src/" <<'PY'
import glob, os, re, sys
logdir, ours = sys.argv[1], sys.argv[2]
mine, others, files = [], {}, 0
for path in sorted(glob.glob(os.path.join(logdir, 'vg.*.log'))):
    files += 1
    blocks, cur = [], []
    for line in open(path, errors='replace'):
        body = re.sub(r'^==\d+== ?', '', line.rstrip('\n'))
        if not line.startswith('=='):
            continue                     # suppression text, kept out
        if body == '':
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(body)
    if cur:
        blocks.append(cur)
    for b in blocks:
        if not re.search(r'^(Invalid|Conditional|Use of uninit|Syscall param|Source and destination|Mismatched|Argument)', b[0]):
            continue
        text = '\n'.join(b)
        if ours in text or 'funnel.so' in text:
            mine.append((path, text.replace(ours, 'src/')))
        else:
            frame = next((l.strip() for l in b[1:] if l.strip().startswith(('at ', 'by '))), '?')
            key = b[0] + ' | ' + frame
            if key not in others:
                others[key] = [0, '\n'.join(b[:25])]
            others[key][0] += 1
print('valgrind: %d process logs, %d errors in funnel code, %d in PostgreSQL alone'
      % (files, len(mine), sum(n for n, _ in others.values())))
for key, (n, first) in sorted(others.items()):
    print('--- PostgreSQL alone, %d times; the first:\n%s' % (n, first))
for path, text in mine[:10]:
    lines = text.split('\n')
    print('--- %s (%d lines, the first 40)\n%s' % (os.path.basename(path), len(lines), '\n'.join(lines[:40])))
if len(mine) > 10:
    print('--- and %d more' % (len(mine) - 10))
sys.exit(1 if mine else 0)
PY
then failed=1; keep=1; fi

[ $failed -eq 0 ] || keep=1
echo "valgrind: done in $(( $(date +%s) - start )) s, $([ $failed -eq 0 ] && echo 'nothing found' || echo 'FAILURES')"
exit $failed
