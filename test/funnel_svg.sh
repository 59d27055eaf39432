#!/usr/bin/env bash
# funnel_svg as a browser shows it: a throwaway cluster computes a small
# funnel, funnel_svg draws it with step names that hold XML's special
# characters, and test/svg_render.sh checks the document is well-formed with
# those names and that headless Chromium renders a non-blank image.
# Expects the funnel extension installed (make install).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  exec pg_virtualenv -v 15 bash "$0" --inside
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
psql -X -q -A -t -v ON_ERROR_STOP=1 -o "$out/funnel.svg" <<'SQL'
SELECT funnel_svg(funnel_summary('1 hour', uid, ts, e = 'visit', e = 'view', e = 'buy'),
                  ARRAY['<visit> & "look"', 'view ''n'' pick', 'caf' || chr(233) || ' & pay </svg>'])
FROM (VALUES (1, '2024-01-01 10:00'::timestamptz, 'visit'), (1, '2024-01-01 10:05', 'view'),
             (1, '2024-01-01 10:20', 'buy'), (2, '2024-01-01 11:00', 'visit'),
             (2, '2024-01-01 11:30', 'view'), (3, '2024-01-01 12:00', 'visit')) v(uid, ts, e);
SQL
bash test/svg_render.sh "$out/funnel.svg" '<visit> & "look"' "view 'n' pick" "café & pay </svg>" "3 (100.0%)" "1 (33.3%)"
echo "1 passed, 0 failed"
