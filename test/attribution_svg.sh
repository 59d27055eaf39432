#!/usr/bin/env bash
# attribution_svg as a browser shows it: a throwaway cluster computes credit
# under three models, with a channel name that holds XML's special
# characters; test/svg_render.sh checks the document is well-formed with
# those names and that headless Chromium renders a non-blank image.  Then
# the first model's bar colour must be in the picture.
# Expects the funnel extension installed (make install).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  exec pg_virtualenv -v 15 bash "$0" --inside
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION funnel"
psql -X -q -A -t -v ON_ERROR_STOP=1 -o "$out/attribution.svg" <<'SQL'
CREATE TEMP TABLE tp (e int, ts timestamptz, ch text, v numeric);
INSERT INTO tp VALUES (1, '2024-01-01', 'search', NULL), (1, '2024-01-02', 'email', NULL), (1, '2024-01-03', NULL, 10),
                      (2, '2024-01-01', '<b>&"ads''</b>', NULL), (2, '2024-01-02', NULL, 5),
                      (3, '2024-01-01', 'search', NULL), (3, '2024-01-02', NULL, 5);
SELECT attribution_svg(ARRAY[(SELECT attribution('first_touch', e, ts, ch, v) FROM tp),
                             (SELECT attribution('last_touch', e, ts, ch, v) FROM tp),
                             (SELECT attribution('markov', e, ts, ch, v) FROM tp)],
                       'Credit by channel & "model"');
SQL
bash test/svg_render.sh -o "$out/attribution.png" "$out/attribution.svg" \
  '<b>&"ads'"'"'</b>' 'search' 'email' 'first_touch' 'markov' 'Credit by channel & "model"' '1.50'
# the bars are drawn: the first model's colour (#4e79a7) covers many pixels
python3 - "$out/attribution.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
pos, idat, hdr = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    if kind == b'IHDR':
        hdr = struct.unpack('>IIBBBBB', data[pos + 8:pos + 8 + n])
    elif kind == b'IDAT':
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
w, h, bpp = hdr[0], hdr[1], 3 if hdr[3] == 2 else 4
raw, stride, prev, hits = zlib.decompress(idat), hdr[0] * (3 if hdr[3] == 2 else 4), None, 0
prev = bytearray(stride)
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    hits += sum(1 for x in range(0, stride, bpp) if line[x:x + 3] == b'\x4e\x79\xa7')
    prev = line
print('attribution_svg: %d pixels of the first model\'s colour' % hits)
sys.exit(0 if hits > 1000 else 'attribution_svg: the bars are missing')
PY
echo "attribution_svg: ok"
