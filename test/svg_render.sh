#!/usr/bin/env bash
# Checks an SVG chart as a browser shows it:
#   test/svg_render.sh [-o out.png] [-s WxH] chart.svg [expected text ...]
# - the SVG is well-formed XML whose text contains every expected text;
# - headless Chromium (Debian's chromium, installed when missing) renders it
#   to a PNG (kept with -o), and the PNG is not blank: decoded here with zlib,
#   enough non-white pixels in several colours.
# Exits non-zero on any failure.
set -euo pipefail

out=""
size="900,600"
while getopts "o:s:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    s) size=$OPTARG ;;
    *) echo "usage: $0 [-o out.png] [-s W,H] chart.svg [expected text ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-o out.png] [-s W,H] chart.svg [expected text ...]" >&2; exit 2; }
svg=$(readlink -f "$1")
shift
[ -s "$svg" ] || { echo "svg_render: $svg is missing or empty" >&2; exit 1; }

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing fonts-dejavu-core
fi

# 1. well-formed XML with the expected labels
python3 - "$svg" "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, expected = sys.argv[1], sys.argv[2:]
root = ET.parse(path).getroot()          # raises on malformed XML
if root.tag != '{http://www.w3.org/2000/svg}svg':
    sys.exit('svg_render: root element is %s, not svg' % root.tag)
texts = [''.join(t.itertext()) for t in root.iter('{http://www.w3.org/2000/svg}text')]
for e in expected:
    if not any(e in t for t in texts):
        sys.exit('svg_render: no text element contains %r (texts: %r)' % (e, texts))
print('svg_render: %s is well-formed SVG with %d text elements%s'
      % (path, len(texts), ', all %d expected labels found' % len(expected) if expected else ''))
PY

# 2. render with headless Chromium
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
png=${out:-$work/out.png}
rm -f "$png"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$work/profile" --screenshot="$png" \
  --window-size="$size" "file://$svg" >"$work/chromium.log" 2>&1 || {
    echo "svg_render: chromium failed:" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }
[ -s "$png" ] || { echo "svg_render: chromium wrote no PNG" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }

# 3. the PNG is not blank
python3 - "$png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n':
    sys.exit('svg_render: not a PNG')
pos, idat, hdr = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        hdr = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
if depth != 8 or ctype not in (2, 6) or interlace:
    sys.exit('svg_render: unexpected PNG format (depth %d, colour type %d)' % (depth, ctype))
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite = set(), 0
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
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        colours.add(px)
        if px != b'\xff\xff\xff':
            nonwhite += 1
    prev = line
share = nonwhite / float(w * h)
print('svg_render: %dx%d PNG, %d colours, %.1f%% non-white pixels' % (w, h, len(colours), 100 * share))
if len(colours) < 3 or share < 0.02:
    sys.exit('svg_render: the rendered chart looks blank')
PY
echo "svg_render: ok"
