import Foundation

/// When MDA may stop probing a hop (Augustin et al., "Multipath tracing with Paris
/// traceroute"): after `n(k)` probes on distinct flows have shown only `k` next hops, the chance
/// that a (k+1)-th equally likely one exists unseen is below 1 − confidence. With k + 1
/// branches each missed with probability (k/(k+1))^n, n(k) = ⌈ln((1 − c)/(k + 1)) / ln(k/(k + 1))⌉,
/// which gives the paper's 6, 11, 16, 21, 27 … at 95 %. `MDAPlanner` applies it per interface
/// of the hop before (node control).
package enum MDAStopping {
    /// No hop gets more probes than this, whatever the confidence asked.
    package static let maxProbesPerHop = 128

    /// n(k): the probes on distinct flows after which `k` branches seen mean no more than `k`
    /// exist, at `confidence` (0 < confidence < 1).
    package static func probes(toRuleOutMoreThan k: Int, confidence: Double) -> Int {
        let alpha = min(max(1 - confidence, 1e-9), 0.5)
        let kk = Double(max(1, k))
        return Int((log(alpha / (kk + 1)) / log(kk / (kk + 1))).rounded(.up))
    }
}
