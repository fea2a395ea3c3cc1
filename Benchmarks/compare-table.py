#!/usr/bin/env python3
"""Prints compare.sh's figures: every store side by side with PathTSDB's ratio against each, then
PathTSDB's own in-process figures. Also writes the side-by-side table as JSON beside the results.

  compare-table.py RESULTS_DIR PATHTSDB_RESULTS IMPORT_TXT
"""
import json
import os
import re
import sys

results_dir, own_path, import_txt = sys.argv[1:4]
STORES = [("prometheus", "Prometheus"), ("victoriametrics", "VictoriaMetrics"),
          ("influxdb", "InfluxDB"), ("sqlite", "SQLite")]
stores = {k: json.load(open(os.path.join(results_dir, k + ".json")))
          for k, _ in STORES + [("pathtsdb", "")] if os.path.exists(os.path.join(results_dir, k + ".json"))}
if "pathtsdb" not in stores:
    raise SystemExit("no pathtsdb.json in %s: the PathTSDB run failed" % results_dir)
ours = stores["pathtsdb"]
own = {}
for line in open(own_path):
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        own[d["measure"] + "".join("_" + d[k] for k in ("source", "name", "fields") if k in d)] = d
imp = open(import_txt).read()
file_rate = int(re.search(r"\(([\d,]+) samples/s\)", imp).group(1).replace(",", ""))


def peak(d):
    return max(v for v in (d.get("peak_rss_kb"), d.get("query_server_peak_rss_kb")) if v) / 1024


# (measure, ours, {store: value}, smaller is better)
rows = [
    ("bytes on disk per RTT sample, after compaction", ours["bytes_per_rtt_sample"],
     {k: d.get("bytes_per_rtt_sample") for k, d in stores.items()}, True),
    ("ingest over HTTP, RTT samples/s (until queryable)", ours["samples_per_s_rtt"],
     {k: stores[k].get("samples_per_s_rtt") for k in ("victoriametrics", "influxdb") if k in stores}, False),
    ("ingest from a file, RTT samples/s (stserver import)", file_rate,
     {k: stores[k].get("samples_per_s_rtt") for k in ("prometheus", "sqlite") if k in stores}, False),
    ("peak RSS, MiB (load, compaction and queries)", peak(ours),
     {k: peak(d) for k, d in stores.items()}, True),
    ("per-hop query, ms (PathTSDB from rollups)", ours["query"]["median_s"] * 1000,
     {k: d["query"]["median_s"] * 1000 for k, d in stores.items() if "query" in d}, True),
    ("per-hop query, ms (PathTSDB exact, from raw data)", ours["query_raw"]["median_s"] * 1000,
     {k: d["query"]["median_s"] * 1000 for k, d in stores.items() if "query" in d}, True),
]
table = []
print()
print("Side by side, one run (ratio: how many times better PathTSDB is; below 1, worse)")
print(f"{'measure':52} {'PathTSDB':>11}" + "".join(f" {n:>22}" for _, n in STORES))
for name, v, others, smaller in rows:
    cells, entry = [], {"measure": name, "pathtsdb": v, "others": {}}
    for key, _ in STORES:
        o = others.get(key)
        if key == "pathtsdb" or o is None:
            cells.append(f" {'-':>22}")
            continue
        ratio = o / v if smaller else v / o
        entry["others"][key] = {"value": o, "ratio": ratio}
        cells.append(f" {o:>13,.3f} {ratio:6.2f}x ")
    table.append(entry)
    print(f"{name:52} {v:11,.3f}" + "".join(cells))
print(f"queries: PathTSDB {ours['query']['rows']} rows ({ours['query']['q']});")
for key, n in STORES:
    if key in stores and "query" in stores[key]:
        q = stores[key]["query"]
        print(f"  {n}: {q.get('result_points') or q.get('rows') or q.get('groups')} points/rows/groups")
print("SQLite's query runs in process (it has no server); the others' and PathTSDB's through the same HTTP client.")
with open(os.path.join(results_dir, "side-by-side.json"), "w") as f:
    json.dump(table, f, indent=1)

print()
print("PathTSDB alone, in process, on the store stserver import wrote:")
for key, label in [("query_rollup", "per-hop query from rollups, ms"), ("query_raw", "the same from raw data, ms")]:
    if key in own:
        print(f"  {label:58} {own[key]['median_ms']:10.3f}")
if "append" in own:
    print(f"  {'append from decoded runs, samples/s':58} {own['append']['samples_per_s']:10,.0f}")
for key, label in [("scan_timing", "raw scan, one core, TTL, address, RTT, samples/s"),
                   ("scan_all", "raw scan, one core, every field, samples/s")]:
    if key in own:
        print(f"  {label:58} {own[key]['samples_per_s']:10,.0f}")
if "export" in own:
    e = own["export"]
    print(f"  {'export as CSV (+fdatasync) against dd of the same bytes':58} "
          f"{e['bytes'] / e['export_s'] / 1e6:8,.1f} MB/s vs {e['bytes'] / e['dd_s'] / 1e6:,.1f} MB/s")
    print(f"  {'export rendered to /dev/null':58} {e['bytes'] / e['render_s'] / 1e6:8,.1f} MB/s")
print("  query language, median ms:")
for k, d in own.items():
    if k.startswith("language_"):
        print(f"    {d['name']:30} {d['median_ms']:10.3f} ms  {d['rows']:7} rows  {d['plan']}")
