import PathTSDB

/// One answered probe of a scamper trace, as its JSON and warts outputs both list them.
struct ScamperHop: Sendable {
    var ttl: Int
    /// The attempt at this TTL, from 1.
    var probeID: Int
    var reply: ProbeReply

    /// How early a reply may be stamped and still be taken as a wrapped 32-bit time difference:
    /// scamper subtracts times in 32-bit microseconds, so a reply stamped (by the kernel) before
    /// its probe's send time (read after sending) shows as just under 2^32 µs.
    static let earlyReplyMicros: Int64 = 1_000_000

    /// A failure to rebuild a trace's probes, said in scamper's own terms.
    struct Mismatch: Error {
        var message: String
    }

    /// Every probe of a trace, lost ones included. scamper lists only the probes that were
    /// answered; lost probes are rebuilt from its counts: with all attempts sent (`trace -Q`)
    /// each TTL got `attempts` probes; otherwise probing a TTL stopped at its first answer, and
    /// a silent TTL got `attempts`. Whichever reading adds up to the trace's `probeCount` is used;
    /// if neither does, the trace is an error rather than a guess.
    static func probes(_ hops: [ScamperHop], attempts: Int, probeCount: Int, hopCount: Int, firstHop: Int) throws(Mismatch) -> [ProbeReply] {
        guard probeCount >= 0 else { throw Mismatch(message: "trace without a probe count") }
        guard attempts >= 1, attempts <= 255, firstHop >= 1, hopCount <= 255 else {
            throw Mismatch(message: "attempts, firsthop or hop_count out of range")
        }
        let lastTTL = max(hopCount, hops.map(\.ttl).max() ?? 0)
        var byTTL = [Int: [ScamperHop]]()
        for h in hops { byTTL[h.ttl, default: []].append(h) }
        let ttls = lastTTL >= firstHop ? Array(firstHop...lastTTL) : []
        func sentCount(_ ttl: Int, allAttempts: Bool) -> Int {
            guard let replies = byTTL[ttl], !replies.isEmpty, !allAttempts else { return attempts }
            return replies.map(\.probeID).max() ?? attempts
        }
        let total = { (all: Bool) in ttls.reduce(0) { $0 + sentCount($1, allAttempts: all) } }
        let allAttempts: Bool
        if total(true) == probeCount {
            allAttempts = true
        } else if total(false) == probeCount {
            allAttempts = false
        } else {
            throw Mismatch(message: "probe_count \(probeCount) fits neither all \(attempts) attempts per hop (\(total(true))) nor stopping at the first answer (\(total(false)))")
        }
        var probes = [ProbeReply]()
        for ttl in ttls {
            let replies = byTTL[ttl, default: []]
            for id in 1...max(1, sentCount(ttl, allAttempts: allAttempts)) {
                if let r = replies.first(where: { $0.probeID == id }) { probes.append(r.reply) } else { probes.append(.lost(ttl: UInt8(ttl))) }
            }
        }
        return probes
    }
}
