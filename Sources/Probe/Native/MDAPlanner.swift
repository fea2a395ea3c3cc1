import PathTSDB

/// The multipath detection algorithm with node control (Augustin, Friedman and Teixeira,
/// "Multipath tracing with Paris traceroute", 2007; Veitch et al., "Failure control in multipath
/// route tracing", 2009): which probes to send next while the interfaces at one TTL are
/// enumerated.
///
/// Per hop, MDA would send `n(k)` probes on distinct flows and stop once they show only `k`
/// interfaces. That is too few behind a load balancer: probes spread over the hop before, and
/// an interface there that few of them crossed has its successors found with less confidence
/// than asked. Node control enumerates the successors of each interface `r` at TTL h − 1 on its
/// own: flows known to cross `r` are probed at TTL h until `n(k_r)` of them have shown only `k_r`
/// successors. When too few known flows cross `r`, fresh flows are sent at TTL h − 1 first to
/// find more that do — unless `r` is the only interface there and every probe found it, when
/// fresh flows go straight to TTL h.
///
/// The first flow of every TTL is the pinned one, so the run's first answer at each TTL is the
/// Paris path. Every TTL gets at most `MDAStopping.maxProbesPerHop` probes; an interface whose
/// successors that budget cannot rule complete is left as far as it got.
struct MDAPlanner: Sendable {
    /// One probe sent: its flow and what came back (nil: nothing).
    struct Sent: Sendable {
        var flow: UInt16
        var reply: ProbeReply?
    }

    let confidence: Double
    let pinnedFlow: UInt16
    let destination: IPAddress
    /// Probes sent per TTL, in the order sent.
    private(set) var sent: [Int: [Sent]] = [:]
    /// Flows handed out so far: `pinnedFlow`, `pinnedFlow + 1`, …
    private var flowsUsed = 0

    init(confidence: Double, pinnedFlow: UInt16, destination: IPAddress) {
        self.confidence = confidence
        self.pinnedFlow = pinnedFlow
        self.destination = destination
    }

    /// Notes what a batch at `ttl` got back (`replies[i]` for `flows[i]`).
    mutating func record(ttl: Int, flows: [UInt16], replies: [ProbeReply?]) {
        for (i, f) in flows.enumerated() {
            sent[ttl, default: []].append(Sent(flow: f, reply: i < replies.count ? replies[i] : nil))
        }
    }

    /// The next batch while the interfaces at `ttl` are enumerated, as the TTL to send it at
    /// (`ttl`, or `ttl − 1` for node control) and its flows; nil once they are ruled complete,
    /// the destination has answered there, or the budget is spent.
    mutating func next(enumerating ttl: Int) -> (ttl: Int, flows: [UInt16])? {
        let here = sent[ttl] ?? []
        if here.contains(where: { $0.reply?.address == destination }) { return nil }
        let usedHere = Set(here.map(\.flow))
        let budgetHere = MDAStopping.maxProbesPerHop - here.count
        guard budgetHere > 0 else { return nil }
        let before = sent[ttl - 1] ?? []
        // Interfaces at the TTL before, in order of first answer (so the pinned flow's first).
        var nodes = [IPAddress]()
        for s in before { if let a = s.reply?.address, !nodes.contains(a) { nodes.append(a) } }

        // One interface before that every probe found: each flow crosses it, so there is nothing
        // to control.
        let single = nodes.count == 1 && before.allSatisfy { $0.reply != nil }
        guard !nodes.isEmpty && !single else {
            // The first TTL, nothing answered before it, or one interface there: MDA per hop,
            // reusing the flows of the TTL before (the pinned one first) ahead of fresh ones.
            let need = needed(seen: Set(here.compactMap { $0.reply?.address }).count)
            guard here.count < need else { return nil }
            var flows = before.map(\.flow).filter { !usedHere.contains($0) }
            flows = Array(flows.prefix(need - here.count))
            if flows.count < need - here.count { flows += fresh(need - here.count - flows.count) }
            return (ttl, Array(flows.prefix(budgetHere)))
        }

        // The run's first probe at each TTL rides the pinned flow, even when it was lost before.
        if here.isEmpty && !before.contains(where: { $0.flow == pinnedFlow && $0.reply != nil }) {
            return (ttl, [pinnedFlow])
        }
        let answersHere = Dictionary(here.map { ($0.flow, $0.reply?.address) }, uniquingKeysWith: { first, _ in first })
        for node in nodes {
            let through = before.filter { $0.reply?.address == node }.map(\.flow)
            let probed = through.filter { usedHere.contains($0) }
            let successors = Set(probed.compactMap { answersHere[$0] ?? nil })
            let need = needed(seen: successors.count)
            guard probed.count < need else { continue }
            let unprobed = through.filter { !usedHere.contains($0) }
            if !unprobed.isEmpty {
                return (ttl, Array(unprobed.prefix(min(need - probed.count, budgetHere))))
            }
            // Node control: fresh flows at the TTL before, some of which will cross `node`.
            let budgetBefore = MDAStopping.maxProbesPerHop - before.count
            guard budgetBefore > 0 else { continue }
            return (ttl - 1, fresh(min((need - probed.count) * nodes.count, budgetBefore)))
        }
        return nil
    }

    /// The probes in TTL order and, within a TTL, in the order sent; a lost probe as `.lost`.
    var probes: [ProbeReply] {
        sent.keys.sorted().flatMap { ttl in (sent[ttl] ?? []).map { $0.reply ?? .lost(ttl: UInt8(ttl)) } }
    }

    /// n(k) at this planner's confidence, for `seen` interfaces (at least one assumed).
    private func needed(seen: Int) -> Int {
        min(MDAStopping.probes(toRuleOutMoreThan: max(1, seen), confidence: confidence), MDAStopping.maxProbesPerHop)
    }

    /// `count` flows never used before.
    private mutating func fresh(_ count: Int) -> [UInt16] {
        let flows = (0..<count).map { pinnedFlow &+ UInt16(truncatingIfNeeded: flowsUsed + $0) }
        flowsUsed += count
        return flows
    }
}
