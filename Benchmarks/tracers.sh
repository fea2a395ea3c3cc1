#!/usr/bin/env bash
# Traces per second and CPU per trace of the native prober, scamper and traceroute, on the same
# targets through a namespace lab (source, two routers, a destination answering for a /16), at
# the same packets-per-second cap. Needs root, iproute2, ethtool, scamper, traceroute.
#
#   Benchmarks/tracers.sh [--targets N] [--pps P] [--concurrency C]
#
# scamper takes at most 10,000 pps. The lab is removed on exit, also on failure. Quote ratios
# from one run: the machine is noisy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=2000; pps=10000; concurrency=256
while [[ $# -gt 0 ]]; do
  case "$1" in
    --targets) targets=$2; shift 2 ;;
    --pps) pps=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    *) echo "usage: $0 [--targets N] [--pps P] [--concurrency C]" >&2; exit 64 ;;
  esac
done
ns=(stb-src stb-r1 stb-r2 stb-dst)
work=$(mktemp -d)
cleanup() { for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cleanup; work=$(mktemp -d)

for n in "${ns[@]}"; do
  ip netns add "$n"; ip -n "$n" link set lo up
  # No ICMP rate limits in the lab, or loss appears from nowhere.
  ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.ip_forward=1 \
    net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
done
link() { # a b subnet-index
  ip link add "$1-$2" netns "$1" type veth peer name "$2-$1" netns "$2"
  for end in "$1:$2:1" "$2:$1:2"; do IFS=: read -r x y h <<<"$end"
    ip -n "$x" addr add "10.97.$3.$h/24" dev "$x-$y"
    ip -n "$x" link set "$x-$y" up
    ip netns exec "$x" ethtool -K "$x-$y" tx off >/dev/null
  done
}
link stb-src stb-r1 1; link stb-r1 stb-r2 2; link stb-r2 stb-dst 3
ip -n stb-src route add default via 10.97.1.2
ip -n stb-r1 route add 10.98.0.0/16 via 10.97.2.2; ip -n stb-r1 route add 10.97.3.0/24 via 10.97.2.2
ip -n stb-r2 route add 10.97.1.0/24 via 10.97.2.1; ip -n stb-r2 route add 10.98.0.0/16 via 10.97.3.2
ip -n stb-dst route add default via 10.97.3.1
# The destination answers for every address of 10.98.0.0/16.
ip -n stb-dst route add local 10.98.0.0/16 dev lo

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

echo "== native prober: $targets targets, $concurrency at once, $pps pps"
ip netns exec stb-src ${PROFILE:+perf record -g -o "$PROFILE"} "$bin" bench-tracers --targets "$work/targets.txt" --tool native --concurrency "$concurrency" --pps "$pps" | tee -a "$results"

echo "== scamper: the same targets, -p $pps, every attempt at every hop (-Q), as the native prober"
start=$(date +%s%N)
ip netns exec stb-src /usr/bin/time -f '%U %S' -o "$work/scamper.time" \
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
u, s = map(float, open(tfile).read().split()[-2:])
print(json.dumps({"measure": "tracers", "tool": "scamper", "targets": n, "traces": traces, "reached": reached,
                  "wall_s": wall_ns / 1e9, "traces_per_s": n / (wall_ns / 1e9), "cpu_ms_per_trace": (u + s) * 1000 / n}))
PY

echo "== traceroute, one process per target, $concurrency at once"
ip netns exec stb-src "$bin" bench-tracers --targets "$work/targets.txt" --tool traceroute --method udp --concurrency "$concurrency" | tee -a "$results"

python3 - "$results" <<'PY'
import json, sys
r = {d["tool"]: d for d in map(json.loads, open(sys.argv[1]))}
print()
print(f"{'tool':12} {'traces/s':>10} {'CPU ms/trace':>13} {'reached':>8}")
for t in ["native", "scamper", "traceroute"]:
    d = r[t]
    print(f"{t:12} {d['traces_per_s']:10.1f} {d['cpu_ms_per_trace']:13.3f} {d['reached']:8}")
n, s = r["native"], r["scamper"]
print(f"native vs scamper: {n['traces_per_s'] / s['traces_per_s']:.2f}x the traces/s, {n['cpu_ms_per_trace'] / s['cpu_ms_per_trace']:.2f}x the CPU per trace")
print(f"10,000 targets every 5 minutes needs {10000 / 300:.1f} traces/s; the native prober did {n['traces_per_s']:.1f}")
PY
