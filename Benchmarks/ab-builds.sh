#!/bin/bash
# Two builds of stserver side by side, alternating, three rounds, on one corpus: import (time and
# peak RSS), bytes per RTT sample after `compact --all`, append and scan rates (`stserver bench`),
# and a target's end-to-end loss over every target from rollups and from raw data.
#   Benchmarks/ab-builds.sh OLD_STSERVER NEW_STSERVER CORPUS.jsonl [WORKDIR]
# e.g. OLD from `git worktree add /tmp/old REV && swift build -c release` there, CORPUS from
# `../shared/bench/gen_corpus.py --targets 100 …`. Each store is made anew in WORKDIR.
set -u
OLD=${1:?old stserver}
NEW=${2:?new stserver}
C=${3:?corpus}
W=${4:-$(mktemp -d)}
for round in 1 2 3; do
  for name in old new; do
    bin=$OLD; [ $name = new ] && bin=$NEW
    d=$W/store-$name
    rm -rf $d
    imp=$( { /usr/bin/time -f "%e s, peak %M KiB" $bin import --data $d --sync never $C 2>&1 >/dev/null; } 2>&1 | tail -1)
    $bin compact --data $d --all >/dev/null 2>&1
    bps=$($bin info --data $d 2>/dev/null | grep "bytes/sample")
    app=$($bin bench --data $d --what append --corpus $C --limit 100000 2>&1 | grep -o '"samples_per_s":[0-9.]*' | tail -1)
    scan=$($bin bench --data $d --what scan --only timing 2>&1 | grep -o '"samples_per_s":[0-9.]*' | tail -1)
    q=$( { /usr/bin/time -f "%e" $bin query --data $d --at newest 'stats loss, p95 of all by target order by loss desc limit 10' >/dev/null; } 2>&1 | tail -1)
    qr=$( { /usr/bin/time -f "%e" $bin query --data $d --at newest 'stats loss, p95 of all by target order by loss desc limit 10 using raw' >/dev/null; } 2>&1 | tail -1)
    echo "round $round $name | import $imp | $bps | append $app | scan $scan | loss-by-target auto ${q}s raw ${qr}s"
  done
done
