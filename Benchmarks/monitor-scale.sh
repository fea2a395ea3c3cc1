#!/usr/bin/env bash
# The monitor at scale, in the namespace lab (Benchmarks/lab.sh): N targets every INTERVAL,
# traced by the native prober (udp-paris, max_ttl 8, 3 probes; the targets cycle over the lab's
# 62,500 destinations, each three hops away), for DURATION, with five alert rules judged after
# every run (path change, destination loss, RTT rise at any hop, unreachable destination, hop
# count). Prints one JSON line: runs expected, stored and missed, CPU per stored run (the whole
# process: scheduling, tracing, storing, alerting), peak RSS, the latest start against its slot,
# starts more than 1 s late, and how long loading the targets took.
#
#   Benchmarks/monitor-scale.sh [--targets N] [--interval 300s] [--duration 6m] [--concurrency C] [--pps P]
#
# Run it for each N of a growth table. Needs root; the lab is removed on exit, also on failure.
# STSERVER=path uses an stserver built already (release). The machine is noisy: quote ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=1000; interval=60s; duration=3m; concurrency=64; pps=10000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --pps) pps=$2; shift 2 ;;
    *) echo "usage: $0 [--targets N] [--interval 300s] [--duration 6m] [--concurrency C] [--pps P]" >&2; exit 64 ;;
  esac
done
# shellcheck source=lab.sh
source "$root/Benchmarks/lab.sh"
lab_start

if [[ -n ${STSERVER:-} ]]; then
  bin=$STSERVER
else
  echo "== building stserver (release)" >&2
  (cd "$root" && swift build -c release --product stserver > "$work/build.log" 2>&1) || { tail -30 "$work/build.log"; exit 70; }
  bin=$root/.build/release/stserver
fi

python3 - "$targets" "$interval" > "$work/targets.yaml" <<'PY'
import sys
n, interval = int(sys.argv[1]), sys.argv[2]
print(f"defaults: {{ interval: {interval}, method: udp-paris, tool: native, max_ttl: 8, probes: 3, wait: 1s }}")
print("targets:")
for i in range(n):
    print(f"  - {{ name: t{i:06d}, address: 10.98.{(i // 250) % 250 + 1}.{i % 250 + 1} }}")
PY
cat > "$work/rules.yaml" <<'YAML'
rules:
  - { name: path, when: { path_changed: { lasting: 2 } } }
  - { name: loss, when: { loss: { percent: 20, runs: 5 } } }
  - { name: slower, when: { rtt_increase: { hop: any, by_ms: 30, baseline: { runs: 10 } } } }
  - { name: unreachable, when: { destination_unreachable: true } }
  - { name: longer, when: { hop_count_grew: { by: 2 } } }
YAML

echo "== $targets targets every $interval for $duration ($concurrency at once, $pps pps)" >&2
ip netns exec stb-src /usr/bin/time -f '%U %S %M' -o "$work/time" \
  "$bin" monitor --config "$work/targets.yaml" --rules "$work/rules.yaml" --data "$work/data" \
  --duration "$duration" --concurrency "$concurrency" --pps "$pps" > "$work/out.txt" 2> "$work/log.txt"
python3 - "$work" "$targets" "$interval" "$duration" <<'PY'
import json, re, sys
work, n, interval, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def seconds(t):
    return sum(int(v) * {"s": 1, "m": 60, "h": 3600}[u] for v, u in re.findall(r"(\d+)([smh])", t))
user, system, rss_kb = open(f"{work}/time").read().split()
out = open(f"{work}/out.txt").read()
m = re.search(r"(\d+) traces started, (\d+) stored, (\d+) failed, (\d+) slots missed", out)
started, stored, failed, missed = map(int, m.groups())
# Builds before the lateness counters do not print it.
late = re.search(r"started at most (\d+) ms after the slot, (\d+) more than 1 s after", out)
late_ms, over1s = map(int, late.groups()) if late else (None, None)
log = open(f"{work}/log.txt").read()
load = re.search(r"ms=(\d+) targets=\d+ .*targets loaded", log) or re.search(r"targets loaded.*ms=(\d+)", log)
cpu = float(user) + float(system)
print(json.dumps({
    "targets": n, "interval_s": seconds(interval), "duration_s": seconds(duration),
    "runs_expected": n * seconds(duration) // seconds(interval), "started": started, "stored": stored,
    "failed": failed, "missed": missed, "cpu_s": round(cpu, 2),
    "cpu_ms_per_stored_run": round(1000 * cpu / max(stored, 1), 3),
    "core_share": round(cpu / seconds(duration), 3), "peak_rss_mib": round(int(rss_kb) / 1024, 1),
    "max_lateness_ms": late_ms, "started_over_1s_late": over1s,
    "targets_loaded_ms": int(load.group(1)) if load else None,
}))
PY
