#!/usr/bin/env bash
# Issue #4's bounded-memory check on a 2.87 GB DICOM JSON (2 GiB InlineBinary), too big for CI:
#   tools/big_json_stdin.sh [WORKDIR]      (needs ../shared/peers/install.sh's make-big, ~8 GB of disk)
# DICOM (make-big ct 4096) -> JSON -> DICOM from stdin, into a file and into a pipe; fails unless every
# run stays at or under 32 MiB peak RSS and the DICOM converts back to the identical JSON.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/release/dcmflow"
work="${1:-/tmp/big}"
make_big="${PEERS:-/tmp/dcmflow-peers}/bin/make-big"
mkdir -p "$work"
[ -x "$bin" ] || (cd "$root" && cargo build --release -p dcmflow-cli)
[ -f "$work/ct2g.dcm" ] || "$make_big" ct 4096 "$work/ct2g.dcm"
"$bin" dcm2json -q "$work/ct2g.dcm" "$work/ct2g.json"
limit_kb=$((32 * 1024))
check() {
  local name="$1" rss="$2"
  echo "$name: peak RSS $((rss / 1024)) MiB"
  [ "$rss" -le "$limit_kb" ] || { echo "FAIL: $name above 32 MiB" >&2; exit 1; }
}
rss=$( { /usr/bin/time -f '%M' "$bin" json2dcm -q - "$work/ct2g_back.dcm" < "$work/ct2g.json"; } 2>&1 | tail -1)
check "stdin -> file" "$rss"
rss=$( { cat "$work/ct2g.json" | /usr/bin/time -f '%M' "$bin" json2dcm -q - - > /dev/null; } 2>&1 | tail -1)
check "pipe -> pipe (spooled)" "$rss"
"$bin" dcm2json -q "$work/ct2g_back.dcm" - | cmp - "$work/ct2g.json"
echo "round trip: identical JSON ($(stat -c %s "$work/ct2g.json") bytes)"
rm -f "$work/ct2g_back.dcm"
