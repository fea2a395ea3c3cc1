#!/usr/bin/env bash
# Alerting figures: the time to judge one round of runs of every target against five rules
# each (path change, loss, RTT rise at any hop, unreachable destination, hop count), one core,
# on a store already holding HOURS of those targets — the runs handed to the engine as the
# monitor does (`alert_round`) and read back from the store as for runs ingested through the API
# (`alert_round_read_back`); and the time from storing the run that
# shows a path change to a webhook on loopback receiving the alert, through the engine's own
# loop (rules with `for: 1`). Both from `stserver alert-bench` (release build), one JSON line each.
#
#   Benchmarks/alerts.sh [TARGETS] [HOURS] [INTERVAL_S]      (default 10000 24 300)
#
# STSERVER=path uses an stserver built already; the store is made under $TMPDIR and removed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=${1:-10000}
hours=${2:-24}
interval=${3:-300}
bin=${STSERVER:-}
if [[ -z $bin ]]; then
  (cd "$root" && swift build -c release --product stserver >/dev/null)
  bin=$root/.build/release/stserver
fi
data=$(mktemp -d "${TMPDIR:-/tmp}/st-alert-bench.XXXXXX")
trap 'rm -rf "$data"' EXIT
# One core, as the figure is stated.
taskset -c 0 "$bin" alert-bench --data "$data" --targets "$targets" --hours "$hours" --interval "$interval" --rounds 5 2>/dev/null \
  | grep '"measure"'
