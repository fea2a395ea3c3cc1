#!/usr/bin/env bash
# PathTSDB beside Prometheus's TSDB, VictoriaMetrics, InfluxDB 1.x and SQLite (all from Debian's
# packages: `scripts/setup --bench`), in one run, on one freshly generated corpus:
#
#   Benchmarks/compare.sh [--targets N]     (default 200: about 10.6 M RTT samples, ~15 minutes)
#
# Every store is started here, on 127.0.0.1 only, and stopped by its own pid. The other stores are
# loaded and queried by the scripts of ../shared/bench/anchors (copied to $STBENCH, since shared/
# is read-only); PathTSDB by Benchmarks/pathtsdb-http.py, which measures it the way those scripts
# measure VictoriaMetrics and InfluxDB: the corpus written over HTTP in batches on one
# connection, the per-hop query (p50, p95 and loss per hop, 24 x 1 h, one target) timed through
# the anchors' own HTTP client (one warm-up, median of five). SQLite has no server: its query is
# timed in process, which favours it. The table prints each store's figure and PathTSDB's ratio
# against it; ratios above 1 favour PathTSDB. Then PathTSDB's own in-process figures (query
# language, scan, append, export against the disk), which have nothing to compare with.
#
# STBENCH (default: $TMPDIR/stbench) holds the corpus and the stores; STSERVER=path uses an
# stserver built already (release) instead of building one. The machine is noisy: only ratios
# measured in one run mean much.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
stbench=${STBENCH:-${TMPDIR:-/tmp}/stbench}
targets=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    *) echo "usage: $0 [--targets N]" >&2; exit 64 ;;
  esac
done
mkdir -p "$stbench"
corpus=$stbench/corpus.jsonl
[[ $targets == 1000 ]] || corpus=$stbench/corpus$targets.jsonl
if [[ ! -s $corpus ]]; then
  echo "== generating the corpus ($targets targets, seed 42) into $corpus"
  python3 "$shared/bench/gen_corpus.py" --targets "$targets" --interval 60 --duration 86400 --probes 3 --seed 42 \
    --out "$corpus" --counts "$corpus.counts.json"
fi

if [[ -n ${STSERVER:-} ]]; then
  bin=$STSERVER
else
  echo "== building stserver (release)"
  (cd "$root" && swift build -c release --product stserver > "$stbench/build.log" 2>&1) || { tail -30 "$stbench/build.log"; exit 70; }
  bin=$root/.build/release/stserver
fi
for tool in promtool prometheus victoria-metrics influxd sqlite3 /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: run scripts/setup --bench" >&2; exit 69; }
done

# The anchors read the corpus's counts from the folder above theirs, and write results beside them.
anchors=$stbench/anchors-run
rm -rf "$anchors" && cp -r "$shared/bench/anchors" "$anchors" && chmod -R u+w "$anchors" && rm -rf "$anchors/results"
cp "$corpus.counts.json" "$stbench/corpus.counts.json"
echo "== converting the corpus for the other stores"
(cd "$anchors" && STBENCH=$stbench python3 convert.py "$corpus" "$stbench/full" "$stbench/corpus.counts.json" > "$stbench/convert.log")

echo "== PathTSDB (stserver serve, over HTTP)"
STBENCH=$stbench ANCHORS=$anchors python3 "$root/Benchmarks/pathtsdb-http.py" "$bin" "$corpus" > "$stbench/pathtsdb-http.log"
for s in prom vm influx sqlite_load; do
  echo "== $s"
  (cd "$anchors" && STBENCH=$stbench python3 "$s.py" > "$stbench/$s.log")
done
echo "== PathTSDB, import from the file (stserver import --sync never: as promtool's backfill)"
data=$stbench/pathtsdb
rm -rf "$data"
results=$stbench/pathtsdb.results
: > "$results"
/usr/bin/time -f '{"measure":"import_process","wall_s":%e,"peak_rss_kb":%M}' -a -o "$results" \
  "$bin" import --data "$data" --sync never "$corpus" | tee "$stbench/import.txt"
"$bin" compact --data "$data" --all

echo "== in-process measurements"
"$bin" bench --data "$data" --what query --target t0007.targets.example.net | tee -a "$results"
"$bin" bench --data "$data" --what scan --repeat 3 | tee -a "$results"
rm -rf "$stbench/pathtsdb-append"
"$bin" bench --data "$stbench/pathtsdb-append" --what append --corpus "$corpus" --limit 200000 | tee -a "$results"
rm -rf "$stbench/pathtsdb-append"
echo "== query language: representative queries (relative times from the newest data)"
"$bin" bench --data "$data" --what language --target t0007.targets.example.net --repeat 9 | tee -a "$results"
echo "== export of everything as CSV, beside what the disk writes (dd, the same bytes): each with"
echo "   fdatasync, three rounds, alternating, best of three (the page cache makes single runs"
echo "   noisy); and the export to /dev/null, how fast it renders with no disk behind it"
export_best=0; dd_best=0; null_best=0; export_bytes=0
for round in 1 2 3; do
  rm -f "$stbench/export.csv"
  start_ns=$(date +%s%N)
  "$bin" export --data "$data" -o "$stbench/export.csv"
  python3 -c "import os; fd = os.open('$stbench/export.csv', os.O_RDONLY); os.fdatasync(fd)"
  ns=$(( $(date +%s%N) - start_ns ))
  (( export_best == 0 || ns < export_best )) && export_best=$ns
  export_bytes=$(stat -c %s "$stbench/export.csv")
  rm -f "$stbench/export.csv"
  start_ns=$(date +%s%N)
  dd if=/dev/zero of="$stbench/dd.bin" bs=1M count=$(( export_bytes / 1048576 )) conv=fdatasync status=none
  ns=$(( $(date +%s%N) - start_ns ))
  (( dd_best == 0 || ns < dd_best )) && dd_best=$ns
  rm -f "$stbench/dd.bin"
  start_ns=$(date +%s%N)
  "$bin" export --data "$data" > /dev/null
  ns=$(( $(date +%s%N) - start_ns ))
  (( null_best == 0 || ns < null_best )) && null_best=$ns
done
python3 -c "import json; print(json.dumps({'measure': 'export', 'bytes': $export_bytes, 'export_s': $export_best / 1e9, 'dd_s': $dd_best / 1e9, 'render_s': $null_best / 1e9}))" | tee -a "$results"

python3 "$root/Benchmarks/compare-table.py" "$anchors/results" "$results" "$stbench/import.txt" | tee "$stbench/compare.txt"
