#!/usr/bin/env bash
# Web page figures: the time to make a target page over 30 days of one-minute runs (30 hops,
# three probes each: 43,200 runs, 3.9 million probes) and the overview of TARGETS targets (each
# traced hourly over the last day), from a store snapshot to the page's bytes, as HTML and as
# JSON, on one core (`taskset -c 0`). From `stserver bench-pages` (release build), one JSON line
# each: the median and the lowest of REPEAT runs after a first that warms the caches.
#
#   Benchmarks/pages.sh [TARGETS] [REPEAT]      (default 10000 5)
#
# STSERVER=path uses an stserver built already. The store is made under $TMPDIR (about a
# minute) and removed; KEEP=DIR makes it there instead and keeps it for the next run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=${1:-10000}
repeat=${2:-5}
bin=${STSERVER:-}
if [[ -z $bin ]]; then
  (cd "$root" && swift build -c release --product stserver >/dev/null)
  bin=$root/.build/release/stserver
fi
if [[ -n ${KEEP:-} ]]; then
  data=$KEEP
else
  data=$(mktemp -d "${TMPDIR:-/tmp}/st-page-bench.XXXXXX")
  trap 'rm -rf "$data"' EXIT
  rmdir "$data"  # bench-pages fills a directory that holds no store yet
fi
taskset -c 0 "$bin" bench-pages --data "$data" --targets "$targets" --repeat "$repeat" 2>/dev/null | grep '"measure"'
