#!/usr/bin/env bash
# Traces per second and CPU per trace of the native prober, scamper and traceroute, on the same
# targets through a namespace lab (source, two routers, a destination answering for a /16), at
# the same packets-per-second cap. Needs root, iproute2, ethtool, scamper, traceroute.
#
#   Benchmarks/tracers.sh [--targets N] [--pps P] [--concurrency C] [--rounds R] [--tools native,scamper,traceroute]
#
# With --rounds, the tools take turns R times (native, scamper, native, scamper …), so that the
# machine's drift falls on both alike; every round is printed, then the median of each tool.
#
# scamper takes at most 10,000 pps. The lab is removed on exit, also on failure. Quote ratios
# from one run: the machine is noisy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=2000; pps=10000; concurrency=256; rounds=1; tools=native,scamper,traceroute
while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    --pps) pps=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    *) echo "usage: $0 [--targets N] [--pps P] [--concurrency C] [--rounds R] [--tools LIST]" >&2; exit 64 ;;
  esac
done
# shellcheck source=lab.sh
source "$root/Benchmarks/lab.sh"
lab_start

python3 -c "
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f'10.98.{(i // 250) % 250 + 1}.{i % 250 + 1}')
" "$targets" > "$work/targets.txt"

if [[ -n ${STSERVER:-} ]]; then
  bin=$STSERVER   # an stserver built already
else
  echo "== building stserver (release)"
  (cd "$root" && swift build -c release --product stserver > "$work/build.log" 2>&1) || { tail -30 "$work/build.log"; exit 70; }
  bin=$root/.build/release/stserver
fi
results=$work/results.jsonl

run_native() {
  echo "== native prober: $targets targets, $concurrency at once, $pps pps"
  ip netns exec stb-src ${PROFILE:+perf record -g -o "$PROFILE"} "$bin" bench-tracers --targets "$work/targets.txt" --tool native --concurrency "$concurrency" --pps "$pps" | tee -a "$results"
}

run_scamper() {
  echo "== scamper: the same targets, -p $pps, every attempt at every hop (-Q), as the native prober"
  local start wall
  start=$(date +%s%N)
  ip netns exec stb-src /usr/bin/time -f '%U %S %w %c' -o "$work/scamper.time" \
    scamper -O json -p "$pps" -w "$concurrency" -c "trace -P udp-paris -q 3 -Q -w 1" -f "$work/targets.txt" > "$work/scamper.json"
  wall=$(( $(date +%s%N) - start ))
  python3 - "$work/scamper.json" "$work/scamper.time" "$wall" "$targets" <<'PY' | tee -a "$results"
import json, sys
path, tfile, wall_ns, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
reached = traces = 0
for line in open(path):
    d = json.loads(line)
    if d.get("type") == "trace":
        traces += 1
        reached += d.get("stop_reason") == "COMPLETED"
u, s, vol, invol = map(float, open(tfile).read().split()[-4:])
print(json.dumps({"measure": "tracers", "tool": "scamper", "targets": n, "traces": traces, "reached": reached,
                  "wall_s": wall_ns / 1e9, "traces_per_s": n / (wall_ns / 1e9), "cpu_ms_per_trace": (u + s) * 1000 / n,
                  "switches_per_trace": (vol + invol) / n}))
PY
}

run_traceroute() {
  echo "== traceroute, one process per target, $concurrency at once"
  ip netns exec stb-src "$bin" bench-tracers --targets "$work/targets.txt" --tool traceroute --method udp --concurrency "$concurrency" | tee -a "$results"
}

IFS=, read -r -a chosen <<<"$tools"
for ((round = 1; round <= rounds; round++)); do
  for t in "${chosen[@]}"; do
    case "$t" in
      native|scamper|traceroute) "run_$t" ;;
      *) echo "unknown tool $t (native, scamper, traceroute)" >&2; exit 64 ;;
    esac
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
runs = {}
for d in map(json.loads, open(sys.argv[1])):
    runs.setdefault(d["tool"], []).append(d)
med = {t: {k: statistics.median(d[k] for d in rs) for k in ("traces_per_s", "cpu_ms_per_trace", "switches_per_trace", "reached")} for t, rs in runs.items()}
print()
print(f"{'tool':12} {'runs':>5} {'traces/s':>10} {'CPU ms/trace':>13} {'switches/trace':>15} {'reached':>8}   (medians; CPU of every run)")
for t in ["native", "scamper", "traceroute"]:
    if t in med:
        m = med[t]
        every = " ".join(f"{d['cpu_ms_per_trace']:.3f}" for d in runs[t])
        print(f"{t:12} {len(runs[t]):5} {m['traces_per_s']:10.1f} {m['cpu_ms_per_trace']:13.3f} {m['switches_per_trace']:15.2f} {m['reached']:8.0f}   {every}")
if "native" in med and "scamper" in med:
    n, s = med["native"], med["scamper"]
    print(f"native vs scamper: {n['traces_per_s'] / s['traces_per_s']:.2f}x the traces/s, {n['cpu_ms_per_trace'] / s['cpu_ms_per_trace']:.2f}x the CPU per trace")
    pairs = list(zip(runs["native"], runs["scamper"]))
    lower = sum(a["cpu_ms_per_trace"] < b["cpu_ms_per_trace"] for a, b in pairs)
    print(f"native used less CPU than scamper in {lower} of {len(pairs)} rounds")
if "native" in med:
    print(f"10,000 targets every 5 minutes needs {10000 / 300:.1f} traces/s; the native prober did {med['native']['traces_per_s']:.1f}")
PY
