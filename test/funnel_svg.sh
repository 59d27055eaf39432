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

# a SQL_ASCII database holds any bytes: the SVG stays well-formed (bad
# sequences and control characters become '?'), and the chart uses '#'
createdb -E SQL_ASCII -T template0 --lc-collate=C --lc-ctype=C funnel_ascii
psql -X -q -d funnel_ascii -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
cat > "$out/ascii.sql" <<'SQL'
SET client_encoding = 'SQL_ASCII';
CREATE TEMP TABLE ev AS
SELECT * FROM (VALUES (1, '2024-01-01 10:00'::timestamptz, 1), (1, '2024-01-01 10:01', 2),
                      (2, '2024-01-01 10:00', 1), (3, '2024-01-01 10:00', 1), (3, '2024-01-01 10:00', 2),
                      (3, '2024-01-01 10:00', 3)) v(u, ts, s);
\o OUT/ascii.svg
SELECT funnel_svg(funnel_summary('1 hour', u, ts, s = 1, s = 2, s = 3),
                  ARRAY[E'caf\xe9', E'bad \xe9\x80 \x01 seq', E'ok \xc3\xa9']) FROM ev;
\o OUT/ascii.txt
SELECT funnel_chart(funnel_summary('1 hour', u, ts, s = 1, s = 2, s = 3), ARRAY['visit the shop home page today', 'b', 'c'], 50) FROM ev;
\o
SQL
sed -i "s|OUT|$out|" "$out/ascii.sql"
psql -X -q -A -t -d funnel_ascii -v ON_ERROR_STOP=1 -f "$out/ascii.sql"
# every byte of a bad sequence becomes "?" (0xe9 0x80: two), and so does 0x01
bash test/svg_render.sh "$out/ascii.svg" "caf?" "bad ?? ? seq" "ok é"
# 3 entities, bar 10 columns: 10, 2/3 * 10 = 6.7 -> 7, 1/3 * 10 = 3.3 -> 3
cat > "$out/ascii.expected" <<'TXT'
step                      entities % start  % prev
visit the sho~ ##########        3  100.0%  100.0%
b              #######           2   66.7%   66.7%
c              ###               1   33.3%   50.0%
TXT
diff "$out/ascii.expected" "$out/ascii.txt" || { echo "funnel_chart in a SQL_ASCII database differs"; exit 1; }
echo "2 passed, 0 failed"
