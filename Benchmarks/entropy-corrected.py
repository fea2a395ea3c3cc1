#!/usr/bin/env python3
"""The per-series RTT entropy of a corpus, with and without the Miller-Madow correction.

    Benchmarks/entropy-corrected.py CORPUS.jsonl [SHARED_BENCH_DIR]

../shared/bench/entropy_limit.py's "ideal per-series static model" is the plug-in entropy of each
series' own residuals. A series of the standard corpus has about 4,300 values in a day, most of
them occurring once, and the plug-in estimate then runs low. The Miller-Madow correction adds
(distinct values - 1) / (2 ln 2) bits per series. This prints both, in bytes per RTT sample, with
entropy_limit.py's own series and residuals (imported from SHARED_BENCH_DIR, default
../shared/bench beside the checkout). Needs numpy and orjson; the standard corpus takes about
2 minutes and 4 GB.
"""
import collections
import math
import os
import sys

import numpy as np
import orjson


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "shared", "bench")
    sys.path.insert(0, shared)
    from entropy_limit import entropy_bits, residuals

    series = collections.defaultdict(list)
    with open(sys.argv[1], "rb") as f:
        for line in f:
            r = orjson.loads(line)
            for hop in r["result"]:
                probes = hop.get("result", [])
                rtts = [round(p["rtt"] * 1000) if "rtt" in p else None for p in probes]
                addr = next((p["from"] for p in probes if "from" in p), "*")
                series[(r.get("dst_name") or r["dst_addr"], hop["hop"], addr)].append(rtts)
    per_series = [a for a in (residuals(runs) for runs in series.values()) if len(a)]
    n = sum(len(a) for a in per_series)
    plug_in = sum(entropy_bits(a) for a in per_series)
    corrected = plug_in + sum((len(np.unique(a)) - 1) / (2 * math.log(2)) for a in per_series)
    print(f"RTT samples: {n}")
    print(f"ideal per-series static model, plug-in: {plug_in / 8 / n:.4f} B/sample")
    print(f"the same with the Miller-Madow correction: {corrected / 8 / n:.4f} B/sample")


if __name__ == "__main__":
    main()
