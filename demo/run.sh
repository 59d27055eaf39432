#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what it needs, builds and
# installs the extension, starts a throwaway cluster and runs demo/*.sql in
# name order over deterministic generated data.  Files it writes (SVG charts)
# go to demo/out/.
set -euo pipefail
cd "$(dirname "$0")/.."

packages="postgresql-15 postgresql-server-dev-15 make gcc"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s
exec 9>/tmp/funnel-install.lock
flock 9
make -s install
mkdir -p demo/out
pg_virtualenv -v 15 bash -c '
  set -e
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
  for f in demo/[0-9]*.sql; do
    psql -X -q -v ON_ERROR_STOP=1 -v outdir="$PWD/demo/out" -f "$f"
  done
'
