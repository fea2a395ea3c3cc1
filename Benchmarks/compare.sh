#!/usr/bin/env bash
# Runs the standard traceroute corpus through PathTSDB and prints its figures beside those of
# Prometheus's TSDB, VictoriaMetrics, InfluxDB and SQLite on the same corpus, as ratios.
#
#   Benchmarks/compare.sh [--targets N] [--run-anchors]
#
#   --targets N     corpus size (default 1000: the standard corpus, 52.85 M RTT samples, ~4 GB;
#                   100 makes a tenth, for a quick look)
#   --run-anchors   also re-run the other stores' loaders from ../shared/bench/anchors (copied to
#                   $STBENCH, since shared/ is read-only; needs `scripts/setup --bench`, ~30 GB of
#                   disk and most of an hour). Without it, their recorded results are used.
#
# STBENCH (default: $TMPDIR/stbench) holds the corpus and the stores; STSERVER=path uses an
# stserver built already (release) instead of building one. Needs numpy and orjson for the
# generator (`scripts/setup --bench`). The machine is noisy: compare ratios from one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
stbench=${STBENCH:-${TMPDIR:-/tmp}/stbench}
targets=1000
run_anchors=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    --run-anchors) run_anchors=1; shift ;;
    *) echo "usage: $0 [--targets N] [--run-anchors]" >&2; exit 64 ;;
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
data=$stbench/pathtsdb
rm -rf "$data"
results=$stbench/pathtsdb.results
: > "$results"

echo "== import (WAL sync: never, as the other stores' bulk loads)"
/usr/bin/time -f '{"measure":"import_process","wall_s":%e,"peak_rss_kb":%M}' -a -o "$results" \
  "$bin" import --data "$data" --sync never "$corpus" | tee "$stbench/import.txt"
echo "== compaction"
/usr/bin/time -f '{"measure":"compact_process","wall_s":%e,"peak_rss_kb":%M}' -a -o "$results" \
  "$bin" compact --data "$data" --all
"$bin" info --data "$data" --breakdown | tee "$stbench/info.txt"
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

anchors=$shared/bench/anchors/results
if [[ $run_anchors == 1 ]]; then
  work=$stbench/anchors-run
  rm -rf "$work" && cp -r "$shared/bench/anchors" "$work" && cp "$shared/bench/corpus.counts.json" "$stbench/"
  chmod -R u+w "$work"
  echo "== re-running the other stores' loaders (this takes a long while)"
  (cd "$work" && STBENCH=$stbench python3 convert.py "$corpus" "$stbench/full" "$shared/bench/corpus.counts.json" \
     && for s in prom vm influx sqlite_load zstd_ref; do STBENCH=$stbench python3 "$s.py"; done)
  anchors=$work/results
fi

python3 - "$results" "$stbench/import.txt" "$stbench/info.txt" "$anchors" "$targets" <<'PY'
import json, os, re, sys
res_path, import_txt, info_txt, anchors, targets = sys.argv[1:]
m = {}
for line in open(res_path):
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        key = d["measure"] + "".join("_" + d[k] for k in ("source", "name", "fields") if k in d)
        m[key] = d
info = open(info_txt).read()
bytes_total = int(re.search(r"^bytes:\s+([\d,]+)", info, re.M).group(1).replace(",", ""))
samples = int(re.search(r"^RTT samples:\s+([\d,]+)", info, re.M).group(1).replace(",", ""))
imp = open(import_txt).read()
import_rate = int(re.search(r"\(([\d,]+) samples/s\)", imp).group(1).replace(",", ""))
ours = {
    "bytes per RTT sample": bytes_total / samples,
    "import, RTT samples/s (JSON file to store)": import_rate,
    "peak RSS of the import, MiB": m["import_process"]["peak_rss_kb"] / 1024,
    "query median ms (raw, exact)": m["query_raw"]["median_ms"],
    "query median ms (rollups)": m["query_rollup"]["median_ms"],
}
others = {}
for name in ["prometheus", "victoriametrics", "influxdb", "sqlite"]:
    p = os.path.join(anchors, name + ".json")
    if os.path.exists(p):
        others[name] = json.load(open(p))
def best(key, smaller=True):
    vals = [(v, n) for n, d in others.items() if (v := key(d)) is not None]
    return (min if smaller else max)(vals) if vals else (None, None)
rows = [
    ("bytes per RTT sample", ours["bytes per RTT sample"], best(lambda d: d.get("bytes_per_rtt_sample")), True, 1.3),
    ("import, RTT samples/s (JSON file to store)", ours["import, RTT samples/s (JSON file to store)"], best(lambda d: d.get("samples_per_s_rtt"), False), False, 2.5e6),
    ("peak RSS of the import, MiB", ours["peak RSS of the import, MiB"], best(lambda d: d["peak_rss_kb"] / 1024 if d.get("peak_rss_kb") else None), True, 128),
    ("query median ms (raw, exact)", ours["query median ms (raw, exact)"], best(lambda d: d.get("query", {}).get("median_s", 0) * 1000 or None), True, 1.0),
    ("query median ms (rollups)", ours["query median ms (rollups)"], best(lambda d: d.get("query", {}).get("median_s", 0) * 1000 or None), True, 1.0),
]
print()
print(f"PathTSDB on the {targets}-target corpus ({samples:,} RTT samples) beside the best other store" +
      ("" if targets == "1000" else " (the others were measured on the 1000-target corpus: compare with care)"))
print(f"{'measure':46} {'PathTSDB':>12} {'best other':>12} {'store':>16} {'ratio':>9} {'target':>9}")
for name, v, (o, on), smaller, target in rows:
    ratio = (o / v if smaller else v / o) if o else None
    print(f"{name:46} {v:12,.3f} {o if o is not None else float('nan'):12,.3f} {on or '-':>16} "
          f"{(f'{ratio:.2f}x' if ratio else '-'):>9} {target:9,}")
print(f"{'append from decoded runs, samples/s':46} {m['append']['samples_per_s']:12,.0f} {'':>12} {'':>16} {'':>9} {10e6:9,.0f}")
print(f"{'raw scan, samples/s (one core; TTL, address, RTT)':46} {m['scan_timing']['samples_per_s']:12,.0f} {'':>12} {'':>16} {'':>9} {100e6:9,.0f}")
print(f"{'raw scan, samples/s (one core; every field)':46} {m['scan_all']['samples_per_s']:12,.0f}")
e = m["export"]
print(f"{'export of everything as CSV (+sync), MB/s':46} {e['bytes'] / e['export_s'] / 1e6:12,.1f} {e['bytes'] / e['dd_s'] / 1e6:12,.1f} {'dd (disk)':>16} "
      f"{(e['bytes'] / e['export_s']) / (e['bytes'] / e['dd_s']):8.2f}x {'≥ disk':>9}")
print(f"{'export rendered to /dev/null, MB/s':46} {e['bytes'] / e['render_s'] / 1e6:12,.1f} {e['bytes'] / e['dd_s'] / 1e6:12,.1f} {'dd (disk)':>16} "
      f"{e['dd_s'] / e['render_s']:8.2f}x {'≥ disk':>9}")
print("ratio > 1 means PathTSDB is better by that factor.")
print()
vm_query = others.get("victoriametrics", {}).get("query", {}).get("median_s")
print("query language, median ms (stserver bench --what language):")
for k, d in m.items():
    if k.startswith("language_"):
        extra = f"   {vm_query * 1000 / d['median_ms']:.1f}x faster than VictoriaMetrics' 12 ms" if vm_query and d["name"].startswith("hop_stats") else ""
        print(f"  {d['name']:30} {d['median_ms']:10.3f} ms  {d['rows']:7} rows  {d['plan']}{extra}")
PY
