#!/usr/bin/env bash
# Differential test of sequence_match, sequence_count and sequence_next_node
# against test/tools/sequence_reference.py, a transcription of ClickHouse's
# sequenceMatch, sequenceCount and sequenceNextNode: thousands of random
# groups (ties, several rows per timestamp, NULL conditions and values),
# serial and parallel plans, bad patterns and ClickHouse's iteration limit.
# Runs in a throwaway cluster (pg_virtualenv) with the extension installed
# (make install).  SEQUENCE_GROUPS and FUNNEL_TEST_SEED choose the size and
# the seed.  Last line: "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  exec pg_virtualenv -v 15 bash "$0" --inside
fi

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS funnel"
exec python3 test/tools/sequence_reference.py "${SEQUENCE_GROUPS:-3000}" "${FUNNEL_TEST_SEED:-$RANDOM}"
