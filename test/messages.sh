#!/usr/bin/env bash
# Every error message of the C sources and of the current install script
# follows PostgreSQL's message style (test/tools/check_messages.py says which
# rules); a new message that breaks one fails the suite.
set -uo pipefail
cd "$(dirname "$0")/.."
if python3 test/tools/check_messages.py; then
  echo "1 passed, 0 failed"
else
  echo "0 passed, 1 failed"
  exit 1
fi
