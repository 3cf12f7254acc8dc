#!/usr/bin/env bash
# `octopus report` in a real browser: Debian's headless Chromium renders the report of a small sweep
# to a PNG, which must not be blank, and its DOM must hold the charts' axis labels.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ ! -x /usr/bin/chromium ]; then
    echo "browser-test: installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi

cargo build --quiet --bin octopus
octopus="$PWD/target/debug/octopus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$octopus" sweep examples/sweep_small.ron -o "$work/small.jsonl" 2>"$work/sweep.log" || { cat "$work/sweep.log"; exit 1; }
"$octopus" report "$work/small.jsonl" -o "$work/report.html"

# No network: the flags keep Chromium from calling home (this machine refuses those connections).
chrome() {
    timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --disable-background-networking --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$(mktemp -d -p "$work")" "$@" 2>>"$work/chromium.log"
}
chrome --window-size=1280,4000 --screenshot="$work/report.png" "file://$work/report.html" >/dev/null
chrome --dump-dom "file://$work/report.html" >"$work/dom.html"

# The PNG is not blank: enough of its pixels differ from the page's background.
python3 - "$work/report.png" <<'PY'
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, head = 8, b"", None
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        head = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, colour = head[:4]
assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
rows, prev = [], bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
background = rows[0][:3]
pixels = [r[i:i + 3] for r in rows[::4] for i in range(0, stride, bpp * 4)]
differ = sum(1 for p in pixels if p != background)
colours = len(set(pixels))
print(f"browser-test: {width}x{height} PNG, {100 * differ / len(pixels):.1f}% of sampled pixels drawn, {colours} colours")
assert differ / len(pixels) > 0.02 and colours > 8, "the rendered report looks blank"
PY

# The charts' axis labels (SVG text drawn by plotters) are in the rendered DOM.
for label in "arrival rate (requests/s)" "p99 latency (s)" "speedup over static (makespan ratio)" \
    "share of TBU time (%)" "throughput (requests/s)" "tbu.reconfig_cycles" "scheduler" "workflow"; do
    grep -qF "$label" "$work/dom.html" || { echo "browser-test: no \`$label\` in the DOM"; exit 1; }
done
grep -q "<svg" "$work/dom.html"
if grep -qiE "<script|<link|src=\"http" "$work/dom.html"; then
    echo "browser-test: the report refers to something outside itself"; exit 1
fi
cp "$work/report.png" "${BROWSER_TEST_PNG:-/dev/null}" 2>/dev/null || true
echo "browser-test: ok in $((SECONDS - started)) s"
