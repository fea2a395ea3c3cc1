/// The probes of a run that say whether it got through to its destination: a target's loss is
/// the loss there, not at the routers on the way (a router that does not answer, or rate-limits
/// its ICMP, loses nothing of the traffic it forwards).
///
/// A run's destination probes are those sent at the destination's TTL: the lowest TTL it
/// answered from in this run, where a probe answered by another address did not reach it. Two
/// cases need the runs before it, so a tracker walks a target's runs in time order:
///
/// - every probe at the destination's TTL was lost, and the tracer went on, and the destination
///   answered one TTL or more later (traceroute sends every TTL at once): the run's destination
///   TTL is still the one the last run reached it at, when nothing answered there now;
/// - the destination never answered: the probes at that same TTL, or, with no run before it,
///   those at the run's highest TTL, all lost.
package struct EndToEnd: Sendable {
    /// The destination's TTL in the last run that reached it.
    var lastTTL: UInt8 = 0

    package init() {}

    /// The TTL the last run's destination probes were sent at: where it reached the destination,
    /// or where it last did when nothing answered there now. 0 before any run reached it.
    package var destinationTTL: Int { Int(lastTTL) }

    /// Calls `body(reached, rttMicros)` for each destination probe of the next run. A run that
    /// was stopped before it finished (`interrupted`) and did not reach the destination has no
    /// destination probes: it did not wait for them.
    ///
    /// A slice, not any collection: a generic entry point was called unspecialised from other
    /// modules, and the alert engine summarises every new run of every target with it.
    package mutating func forEachProbe(destination: AddressID, probes: ArraySlice<ProbeRecord>, interrupted: Bool = false,
                                      _ body: (_ reached: Bool, _ rttMicros: UInt32) -> Void) {
        var reachedAt: UInt8 = 0
        if !destination.isNone {
            for p in probes where p.address == destination {
                reachedAt = p.ttl
                break
            }
        }
        if interrupted && reachedAt == 0 { return }
        let known = lastTTL
        if known != 0 && (reachedAt == 0 || known < reachedAt) {
            // Nothing answered at the TTL the destination had: its probes there were lost.
            var sent = 0, answered = false
            for p in probes where p.ttl == known {
                sent += 1
                if !p.isLoss { answered = true }
            }
            if sent > 0 && !answered {
                for _ in 0..<sent { body(false, 0) }
                return
            }
        }
        if reachedAt != 0 {
            lastTTL = reachedAt
            for p in probes where p.ttl == reachedAt { body(p.address == destination, p.rttMicros) }
            return
        }
        guard let last = probes.max(by: { $0.ttl < $1.ttl })?.ttl else { return }
        for p in probes where p.ttl == last { body(false, 0) }
    }
}
