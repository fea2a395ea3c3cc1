#!/usr/bin/env python3
"""A lower bound on the bytes per RTT sample of the standard corpus: the entropy of its RTTs given
the generator's own parameters.

    Benchmarks/entropy-oracle.py [--targets N] [--draws M] [SHARED_BENCH_DIR]

`entropy_limit.py` estimates what a per-series model could reach from the values themselves.
This script asks a stricter question: how many bits would a coder need that knew everything the
generator knows (every hop's base latency, jitter scale and shape, slow-path and spike rates, the
target's congested hop and diurnal amplitude, and the time of day)? No coder can do better on
average, since H(RTTs) >= H(RTTs | parameters).

It runs `gen_corpus.py` (imported from SHARED_BENCH_DIR, default ../shared/bench beside the
checkout, never copied) for the first N targets with the standard arguments, and reads each
target's parameters from the generator's own locals when `gen_target` returns. Per hop, one probe's
RTT above the hop's base is W = jitter + slow path + spike, whose distribution on the 1 us grid is
computed exactly (CDF differences, convolved). Hops from the congested one onwards add, per run,
C = diurnal(t) x lognormal(0, 0.3), shared by that run's probes of the hop; the joint entropy of
the run's n answered probes, -E log2 sum_c g(c) prod_i pW(x_i - c), is estimated by Monte Carlo with
M draws per hop, number of probes and diurnal level. Losses are taken as the corpus has them.

Prints the bound in bytes per RTT sample, and the same bound if each probe were coded on its own
(so what sharing the congestion term is worth). Needs numpy, scipy and orjson (which the
generator imports). 100 targets take about 16 minutes on one core.
"""
import argparse
import math
import os
import sys
import types

import numpy as np
from scipy import signal, stats

RNG = np.random.default_rng(7)


def pmf_from_cdf(cdf, length):
    """The distribution of a non-negative variable on the integer grid 0..length-1 (unit 1 us),
    each point taking the mass of [v - 0.5, v + 0.5)."""
    edges = np.arange(length + 1, dtype=np.float64) - 0.5
    edges[0] = 0.0
    p = np.diff(cdf(edges))
    return np.clip(p, 0.0, None)


def noise_pmf(hop):
    """pW for one probe of a hop: lognormal jitter, plus a slow-path exponential with
    probability 0.3 where the hop has one, plus a spike (exponential, mean 15 ms) with
    probability 0.005, all in microseconds."""
    scale_us = hop.scale * 1000.0
    jitter_max = scale_us * math.exp(5.3 * hop.sigma)
    slow_us = hop.slow * 1000.0
    length = int(jitter_max + (slow_us * 16 if hop.slow else 0) + 15000 * 16) + 2
    jitter = pmf_from_cdf(lambda x: stats.lognorm.cdf(x, hop.sigma, scale=scale_us), length)
    spike = 0.005 * pmf_from_cdf(lambda x: stats.expon.cdf(x, scale=15000.0), length)
    spike[0] += 0.995
    w = signal.fftconvolve(jitter, spike)[:length]
    if hop.slow:
        slow = 0.3 * pmf_from_cdf(lambda x: stats.expon.cdf(x, scale=slow_us), length)
        slow[0] += 0.7
        w = signal.fftconvolve(w, slow)[:length]
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def entropy_bits(p):
    q = p[p > 0]
    return float(-(q * np.log2(q)).sum())


def sample(pmf, n):
    cdf = np.cumsum(pmf)
    return np.minimum(np.searchsorted(cdf, RNG.random(n) * cdf[-1]), len(pmf) - 1)


def joint_bits(pw, level_us, probes, draws):
    """-E log2 p(x_1..x_n) for n probes sharing C = level x lognormal(0, 0.3), each adding
    its own W from pw; and the same with each probe coded alone against its marginal."""
    if level_us < 0.5:
        h = entropy_bits(pw)
        return probes * h, probes * h
    lo = level_us * math.exp(-0.3 * 5.5)
    hi = level_us * math.exp(0.3 * 5.5)
    c = np.arange(math.floor(lo), math.ceil(hi) + 1)
    g = pmf_from_cdf(lambda x: stats.lognorm.cdf(x, 0.3, scale=level_us), int(c[-1]) + 1)[c]
    g = g / g.sum()
    pw_ext = np.concatenate([pw, np.zeros(len(c) + 2)])
    total = 0.0
    true_c = c[sample(g, draws)]
    xs = true_c[:, None] + sample(pw, draws * probes).reshape(draws, probes)
    for x in xs:
        offsets = x[None, :] - c[:, None]            # (grid, probes)
        # A negative offset (the probe below that c) has probability 0, and so has the product.
        terms = np.where(offsets >= 0, pw_ext[np.clip(offsets, 0, len(pw_ext) - 1)], 0.0)
        joint = float((g * np.prod(terms, axis=1)).sum())
        total += -math.log2(joint)
    marginal = np.clip(signal.fftconvolve(g, pw), 0.0, None)  # C + W, offset by c[0]
    marginal /= marginal.sum()
    return total / draws, probes * entropy_bits(marginal)


def target_parameters(gen, index, args, prefix):
    """Runs gen_target and returns its locals as it returns."""
    captured = {}

    def profile(frame, event, arg):
        if event == "return" and frame.f_code is gen.gen_target.__code__:
            captured.update(frame.f_locals)

    sys.setprofile(profile)
    try:
        gen.gen_target(index, args, prefix)
    finally:
        sys.setprofile(None)
    return captured


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=100)
    ap.add_argument("--draws", type=int, default=150)
    ap.add_argument("--levels", type=int, default=8)
    ap.add_argument("shared", nargs="?", default=None)
    opts = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    shared = opts.shared or os.path.join(here, "..", "..", "shared", "bench")
    sys.path.insert(0, shared)
    import gen_corpus as gen

    args = types.SimpleNamespace(targets=1000, interval=60, duration=86400, probes=3,
                                 seed=42, start=gen.DEFAULT_START)
    prefix = gen.shared_prefix(args.seed)
    pw_cache, joint_cache = {}, {}
    samples = 0
    bits_joint = bits_alone = 0.0
    for i in range(opts.targets):
        v = target_parameters(gen, i, args, prefix)
        rtt, versions, bounds = v["rtt"], v["versions"], v["bounds"]
        cong_hop, amp, diurnal = v["cong_hop"], v["amp"], v["diurnal"]
        for vi, (k0, path) in enumerate(versions):
            k1 = bounds[vi + 1]
            if k1 <= k0:
                continue
            for hi, hop in enumerate(path):
                if hop.silent:
                    continue
                answered = (~np.isnan(rtt[k0:k1, hi, :])).sum(axis=1)
                samples += int(answered.sum())
                # Hops are shared by targets (the first three) and by a target's path versions:
                # one distribution each, keyed by identity. The cache holds the hop too, so that
                # its id is not reused by another object once the target's locals are gone.
                key = id(hop)
                if key not in pw_cache:
                    pw_cache[key] = (noise_pmf(hop), hop)
                pw = pw_cache[key][0]
                if hi + 1 < cong_hop or amp == 0:
                    h = entropy_bits(pw) * float(answered.sum())
                    bits_joint += h
                    bits_alone += h
                    continue
                # The diurnal level, in microseconds, quantised to a few levels per target.
                level = np.round(diurnal[k0:k1] * 1000.0 / (amp * 1000.0 / opts.levels))
                for lv in np.unique(level):
                    level_us = lv * amp * 1000.0 / opts.levels
                    for n in (1, 2, 3):
                        runs = int(((level == lv) & (answered == n)).sum())
                        if runs == 0:
                            continue
                        jkey = (key, lv, n, amp)
                        if jkey not in joint_cache:
                            joint_cache[jkey] = joint_bits(pw, level_us, n, opts.draws)
                        j, a = joint_cache[jkey]
                        bits_joint += runs * j
                        bits_alone += runs * a
        print(f"target {i}: {samples} samples, bound {bits_joint / 8 / samples:.4f} B/sample "
              f"(probes alone {bits_alone / 8 / samples:.4f})", file=sys.stderr, flush=True)
    print(f"RTT samples: {samples} ({opts.targets} targets)")
    print(f"entropy given the generator's parameters: {bits_joint / 8 / samples:.4f} B/sample")
    print(f"the same, each probe coded alone: {bits_alone / 8 / samples:.4f} B/sample")


if __name__ == "__main__":
    main()
