import PathTSDB

/// One stats group's cells and the counts its loss figures come from.
struct GroupFigures {
    var cells: [ResultValue]
    /// Probes of the group, and of those lost.
    var sent: UInt64
    var lost: UInt64
    /// The runs' destination probes, for a group that pools hops (`EndToEnd`).
    var endSent: UInt64 = 0
    var endLost: UInt64 = 0
}

/// Finishes `loss`, `reply_loss` and `silent`, which a group cannot know alone (QUERY.md, "Loss"):
///
/// - a group that pools every hop of its targets: `loss` is end to end, the share of the runs'
///   destination probes that got no answer from the destination;
/// - a hop (groups keyed by TTL): `reply_loss` is its own share of probes without a reply; a hop
///   that never answered while a later hop of the same target and time bucket did is *silent*,
///   with neither figure; `loss` is the smallest reply loss of this hop and every later one that
///   answered, the loss that reaches the destination (a router that rate-limits its ICMP loses
///   nothing of what it forwards);
/// - any other group (hops chosen by a hop clause, or by address): both are the group's share
///   of probes without a reply.
struct LossFigures {
    let plan: QueryPlan

    func finish<Key: Hashable>(_ groups: inout [Key: GroupFigures], partition: (Key) -> Key, ttl: (Key) -> UInt8) {
        let loss = plan.aggregates.firstIndex(of: .loss)
        let reply = plan.aggregates.firstIndex(of: .replyLoss)
        let silent = plan.aggregates.firstIndex(of: .silent)
        guard loss != nil || reply != nil || silent != nil else { return }
        func percent(_ lost: UInt64, _ sent: UInt64) -> ResultValue { sent == 0 ? .null : .number(Double(lost) / Double(sent) * 100) }

        if plan.isEndToEnd {
            for k in groups.keys {
                guard var g = groups[k] else { continue }
                if let loss { g.cells[loss] = percent(g.endLost, g.endSent) }
                groups[k] = g
            }
            return
        }
        guard plan.keys.contains(.ttl) else { return }
        // Hops of one target and bucket, from the highest TTL down.
        var partitions = [Key: [Key]]()
        for k in groups.keys { partitions[partition(k), default: []].append(k) }
        for (_, keys) in partitions {
            let ordered = keys.sorted { ttl($0) > ttl($1) }
            var laterAnswered = false
            var laterMin: Double?
            var i = 0
            while i < ordered.count {
                // Rows of one TTL (several when split by address) see only later TTLs.
                var j = i
                while j < ordered.count && ttl(ordered[j]) == ttl(ordered[i]) { j += 1 }
                var answeredHere = false
                var minHere: Double?
                for k in ordered[i..<j] {
                    guard var g = groups[k] else { continue }
                    let isSilent = g.sent == g.lost && laterAnswered
                    let own = g.sent == 0 ? nil : Double(g.lost) / Double(g.sent) * 100
                    if let silent { g.cells[silent] = .integer(isSilent ? 1 : 0) }
                    if let reply { g.cells[reply] = isSilent ? .null : own.map { .number($0) } ?? .null }
                    if let loss {
                        let shared = [own, laterMin].compactMap { $0 }.min()
                        g.cells[loss] = isSilent ? .null : shared.map { .number($0) } ?? .null
                    }
                    groups[k] = g
                    if g.sent > g.lost, let own {
                        answeredHere = true
                        minHere = min(minHere ?? own, own)
                    }
                }
                if answeredHere {
                    laterAnswered = true
                    laterMin = [laterMin, minHere].compactMap { $0 }.min()
                }
                i = j
            }
        }
    }
}
