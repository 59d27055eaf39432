#!/usr/bin/env bash
# Differential test of the product-funnel options (optional steps,
# exclusions: doc/product_funnels.md) against the transcription of PostHog's
# funnel engine (test/tools/posthog_reference.py), on 3000 random entities
# with timestamp ties, every input form, per entity and over the whole
# table, serial and parallel (test/tools/posthog_differential.py).  Starts
# its own cluster (test/tools/own_cluster.sh: binaries of $PG_CONFIG, the
# extension installed there).  FUNNEL_TEST_SEED fixes the seed.  The last
# line is "N passed, M failed"; exits non-zero when a check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster
seed=${FUNNEL_TEST_SEED:-$RANDOM}
if ! psql -X -q -c "CREATE EXTENSION funnel"; then
  echo "0 passed, 1 failed"
  exit 1
fi
python3 test/tools/posthog_differential.py 3000 "$seed"
