#!/usr/bin/env bash
# Export against the disk, round by round: `stserver export -o FILE` then fdatasync, `dd` of the
# same number of bytes with conv=fdatasync, and the export to /dev/null (how fast it renders
# with no disk behind it), alternating so that the machine's drift falls on all three alike.
#
#   Benchmarks/export-vs-disk.sh [ROUNDS]      (default 9)
#
# STBENCH (default: $TMPDIR/stbench) holds the store `pathtsdb` that compare.sh builds and is
# where the files are written; STSERVER=path uses an stserver built already (release).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stbench=${STBENCH:-${TMPDIR:-/tmp}/stbench}
rounds=${1:-9}
bin=${STSERVER:-}
if [[ -z $bin ]]; then
  (cd "$root" && swift build -c release --product stserver >/dev/null)
  bin=$root/.build/release/stserver
fi
data=$stbench/pathtsdb
[[ -d $data ]] || { echo "no store at $data: run Benchmarks/compare.sh first" >&2; exit 1; }
out=$stbench/export.csv
trap 'rm -f "$out" "$stbench/dd.bin"' EXIT
ms() { echo $(( ($2 - $1) / 1000000 )); }
echo "round  bytes  export+sync ms  dd+sync ms  export to /dev/null ms"
for r in $(seq "$rounds"); do
  rm -f "$out"; sync
  t0=$(date +%s%N)
  "$bin" export --data "$data" -o "$out" 2>/dev/null
  python3 -c "import os, sys; os.fdatasync(os.open(sys.argv[1], os.O_RDONLY))" "$out"
  t1=$(date +%s%N)
  bytes=$(stat -c %s "$out")
  rm -f "$out"; sync
  t2=$(date +%s%N)
  dd if=/dev/zero of="$stbench/dd.bin" bs=1M count=$(( bytes / 1048576 )) conv=fdatasync status=none
  t3=$(date +%s%N)
  rm -f "$stbench/dd.bin"; sync
  t4=$(date +%s%N)
  "$bin" export --data "$data" > /dev/null
  t5=$(date +%s%N)
  echo "$r  $bytes  $(ms "$t0" "$t1")  $(ms "$t2" "$t3")  $(ms "$t4" "$t5")"
done
