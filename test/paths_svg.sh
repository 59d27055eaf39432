#!/usr/bin/env bash
# paths_sankey_svg as a browser shows it, on a cluster of its own
# (test/tools/own_cluster.sh, binaries of $PG_CONFIG with the extension
# installed):
#   1. 3000 users after "add to cart", 30 pages: a column of more than 20
#      nodes; names with XML's special characters.  test/svg_render.sh checks
#      the document is well-formed with those labels and that headless
#      Chromium renders a non-blank image; the geometry is checked here:
#      nodes of a column do not overlap and each has a label slot of at
#      least 16 px (readable), every link starts inside its from-node and
#      ends inside its to-node, and the links leaving a node are no wider
#      than it.
#   2. a result with no path: a well-formed SVG with its title only.
#   3. a SQL_ASCII database with bytes that are not UTF-8 in the names: the
#      SVG stays well-formed, and paths_chart draws its bars with '#'.
# The last line is "N passed, M failed"; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster

out=$(mktemp -d /tmp/funnel-paths-svg.XXXXXX)
trap 'rm -rf "$out"; stop_own_cluster' EXIT
passed=0
failed=0
check() {
  if "${@:2}"; then echo "paths_svg: $1 ok"; passed=$((passed + 1))
  else echo "paths_svg: $1 FAILED"; failed=$((failed + 1)); fi
}

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
psql -X -q -A -t -v ON_ERROR_STOP=1 -o "$out/sankey.svg" <<'SQL'
CREATE TEMP TABLE ev AS
SELECT u, timestamptz '2024-01-01' + (u * 1000 + k) * interval '1 min' AS ts,
       CASE WHEN k = 0 THEN 'add <to> cart & "co"'
            ELSE 'page ''' || floor(30 * power(((u * 7919 + k * 104729) % 997) / 997.0, 2)) END AS e
FROM generate_series(1, 3000) u, generate_series(0, 4) k;
SELECT paths_sankey_svg(paths(u, ts, e, 'add <to> cart & "co"', NULL, 3, 80)) FROM ev;
SQL
check "Sankey diagram well-formed, labels escaped, rendered by Chromium" \
  bash test/svg_render.sh -s 1000,1400 "$out/sankey.svg" 'Paths after add <to> cart & "co"' 'add <to> cart & "co" 3000' "page '0" "(other)"

geometry() {
python3 - "$1" <<'PY'
import re, sys, xml.etree.ElementTree as ET
from collections import defaultdict
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
nodes = [(float(r.get('x')), float(r.get('y')), float(r.get('height')))
         for r in root.iter(ns + 'rect') if r.get('class') == 'node']
labels = [(float(t.get('x')), float(t.get('y'))) for t in root.iter(ns + 'text') if t.get('class') == 'label']
cols = defaultdict(list)
for x, y, h in nodes:
    cols[x].append((y, h))
errors = []
if max(len(c) for c in cols.values()) < 20:
    errors.append('no column has 20 nodes or more')
for x, c in cols.items():
    c.sort()
    for (y0, h0), (y1, h1) in zip(c, c[1:]):
        if y1 < y0 + max(h0, 16) + 0.05:
            errors.append(f'nodes at x={x} y={y0} and y={y1} overlap or have less than 16 px')
lcols = defaultdict(list)
for x, y in labels:
    lcols[x].append(y)
for x, ys in lcols.items():
    ys.sort()
    for a, b in zip(ys, ys[1:]):
        if b - a < 14:
            errors.append(f'labels at x={x} y={a} and y={b} are closer than 14 px')
def node_at(x, y, side):
    for nx, ny, nh in nodes:
        if abs((nx + 12 if side == 'out' else nx) - x) < 0.01 and ny - 0.2 <= y <= ny + nh + 0.2:
            return (nx, ny, nh)
    return None
out_width = defaultdict(float)
nlinks = 0
for p in root.iter(ns + 'path'):
    if p.get('class') != 'link':
        continue
    nlinks += 1
    v = [float(n) for n in re.findall(r'-?[0-9.]+', p.get('d'))]
    x0, y0, x1, y1, y1b, y0b = v[0], v[1], v[6], v[7], v[9], v[15]
    s = node_at(x0, y0, 'out'); s2 = node_at(x0, y0b, 'out')
    t = node_at(x1, y1, 'in'); t2 = node_at(x1, y1b, 'in')
    if s is None or s != s2:
        errors.append(f'link {p.get("d")} does not start inside one node')
    if t is None or t != t2:
        errors.append(f'link {p.get("d")} does not end inside one node')
    if s is not None:
        out_width[s] += y0b - y0
for s, w in out_width.items():
    if w > s[2] + 0.5:
        errors.append(f'links leaving node {s} are {w} px wide, more than the node')
if nlinks < 20:
    errors.append(f'only {nlinks} links')
if errors:
    print('\n'.join(errors[:20]))
    sys.exit(1)
print(f'paths_svg: {len(nodes)} nodes in {len(cols)} columns, {nlinks} links: geometry ok')
PY
}
check "Sankey geometry: 20+ nodes readable, links inside their nodes" geometry "$out/sankey.svg"

psql -X -q -A -t -v ON_ERROR_STOP=1 -o "$out/empty.svg" \
  -c "SELECT paths_sankey_svg(paths(u, ts, e, 'never', NULL, 3, 5), 'Nothing <here>') FROM (VALUES (1, now(), 'a')) v(u, ts, e)"
check "a result without paths is a well-formed SVG with its title" \
  python3 -c "
import sys, xml.etree.ElementTree as ET
r = ET.parse('$out/empty.svg').getroot()
t = [''.join(x.itertext()) for x in r.iter('{http://www.w3.org/2000/svg}text')]
sys.exit(0 if t == ['Nothing <here>'] else 'texts: %r' % t)"

createdb -E SQL_ASCII -T template0 --lc-collate=C --lc-ctype=C paths_ascii
psql -X -q -d paths_ascii -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
cat > "$out/ascii.sql" <<'SQL'
SET client_encoding = 'SQL_ASCII';
CREATE TEMP TABLE ev AS
SELECT * FROM (VALUES (1, timestamptz '2024-01-01 10:00', 'start'), (1, '2024-01-01 10:01', E'caf\xe9'),
                      (2, '2024-01-01 10:00', 'start'), (2, '2024-01-01 10:05', E'bad \xe9\x80 \x01 seq'),
                      (3, '2024-01-01 10:00', 'start'), (3, '2024-01-01 10:02', E'caf\xe9')) v(u, ts, e);
\o OUT/ascii.svg
SELECT paths_sankey_svg(paths(u, ts, e, 'start', NULL, 2, 10)) FROM ev;
\o OUT/ascii.txt
SELECT transition, entities, bar FROM paths_chart((SELECT paths(u, ts, e, 'start', NULL, 2, 10) FROM ev), 4);
\o
SQL
sed -i "s|OUT|$out|" "$out/ascii.sql"
psql -X -q -A -t -d paths_ascii -v ON_ERROR_STOP=1 -f "$out/ascii.sql"
# the escaper turns each byte of a bad sequence into "?" (0xe9 0x80: two) and
# 0x01 too; 2 entities: 4 columns, 1: 2
check "SQL_ASCII names: well-formed SVG" bash test/svg_render.sh "$out/ascii.svg" "caf? 2" "bad ?? ? seq 1"
printf 'start -> caf\xe9|2|####\nstart -> bad \xe9\x80 \x01 seq|1|##\n' > "$out/ascii.expected"
check "SQL_ASCII: paths_chart bars drawn with #" cmp "$out/ascii.expected" "$out/ascii.txt"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
