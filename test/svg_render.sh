#!/usr/bin/env bash
# Renders an attribution SVG chart in headless Chromium and checks the PNG is
# not blank: enough distinct colours, non-white pixels, and the first model's
# bar colour (#4e79a7) present.  Usage: test/svg_render.sh [file.svg]
# Without a file it builds and installs the extension (under the install
# lock) and makes a chart from a small data set.  Installs Debian's chromium
# when it is missing.  Not part of test/run.sh (it needs a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
svg=${1:-}
if [ -z "$svg" ]; then
  export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
  make -s >/dev/null
  svg="$work/chart.svg"
  (
    flock 9
    make -s install >/dev/null
    pg_virtualenv -v 15 psql -X -q -At -v ON_ERROR_STOP=1 -o "$svg" <<'SQL'
CREATE EXTENSION funnel;
CREATE TEMP TABLE tp (e int, ts timestamptz, ch text, v numeric);
INSERT INTO tp VALUES (1, '2024-01-01', 'search', NULL), (1, '2024-01-02', 'email', NULL), (1, '2024-01-03', NULL, 10),
                      (2, '2024-01-01', '<b>&"ads''</b>', NULL), (2, '2024-01-02', NULL, 5),
                      (3, '2024-01-01', 'search', NULL), (3, '2024-01-02', NULL, 5);
SELECT attribution_svg(ARRAY[(SELECT attribution('first_touch', e, ts, ch, v) FROM tp),
                             (SELECT attribution('last_touch', e, ts, ch, v) FROM tp),
                             (SELECT attribution('markov', e, ts, ch, v) FROM tp)]);
SQL
  ) 9>/tmp/funnel-install.lock
fi
[ "$svg" = "$work/chart.svg" ] || cp "$svg" "$work/chart.svg"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --screenshot="$work/out.png" --window-size=900,600 \
  "file://$work/chart.svg" >/dev/null 2>&1 || true
[ -s "$work/out.png" ] || { echo "not ok - chromium wrote no screenshot"; exit 1; }
[ -n "${KEEP_PNG:-}" ] && cp "$work/out.png" "$KEEP_PNG"
python3 - "$work/out.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, hdr = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        hdr = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
assert depth == 8 and ctype in (2, 6), 'unexpected PNG format %r' % (hdr,)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite, i = {}, 0, 0
for y in range(h):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        colours[px] = colours.get(px, 0) + 1
        if px != b'\xff\xff\xff':
            nonwhite += 1
    prev = line
ok = len(colours) >= 5 and nonwhite > 0.01 * w * h and colours.get(bytes([0x4e, 0x79, 0xa7]), 0) > 100
print('%s - svg rendered %dx%d: %d colours, %.1f%% non-white, first model colour %d px'
      % ('ok' if ok else 'not ok', w, h, len(colours), 100.0 * nonwhite / (w * h),
         colours.get(bytes([0x4e, 0x79, 0xa7]), 0)))
sys.exit(0 if ok else 1)
PY
