import PathTSDB
import Testing
@testable import Probe

/// MDA with node control against simulated load-balanced topologies: each TTL maps a flow to
/// the interface that answers it, as a per-flow balancer would.
@Suite struct MDAPlannerTests {
    static func address(_ s: String) -> IPAddress { IPAddress(s) ?? IPAddress(v4: 0) }
    static let a = address("10.0.0.1"), b1 = address("10.0.1.1"), b2 = address("10.0.1.2")
    static let c1 = address("10.0.2.1"), c2 = address("10.0.2.2"), c3 = address("10.0.2.3"), c4 = address("10.0.2.4")
    static let dst = address("10.0.9.9")

    /// A well-mixed hash of a flow for one balancer.
    static func hash(_ flow: UInt16, _ salt: UInt32) -> UInt32 {
        var x = (UInt32(flow) &+ salt) &* 0x9E37_79B1
        x ^= x >> 15
        x = x &* 0x85EB_CA77
        return x ^ (x >> 13)
    }

    /// A then a balancer sending one flow in eight to B2; behind B1 two interfaces, behind B2
    /// two others; then the destination.
    static func nested(ttl: Int, flow: UInt16) -> IPAddress? {
        let viaB2 = hash(flow, 1) % 8 == 0
        switch ttl {
        case 1: return a
        case 2: return viaB2 ? b2 : b1
        case 3: return viaB2 ? (hash(flow, 2) % 2 == 0 ? c3 : c4) : (hash(flow, 3) % 2 == 0 ? c1 : c2)
        default: return dst
        }
    }

    /// Runs the planner TTL by TTL until the destination answers.
    static func run(confidence: Double, topology: (Int, UInt16) -> IPAddress?) -> MDAPlanner {
        var planner = MDAPlanner(confidence: confidence, pinnedFlow: 1000, destination: dst)
        for ttl in 1...8 {
            while let (t, flows) = planner.next(enumerating: ttl) {
                planner.record(ttl: t, flows: flows, replies: flows.map { f in
                    topology(t, f).map { ProbeReply(ttl: UInt8(t), address: $0, rttMicros: 100) } ?? nil
                })
            }
            if planner.sent[ttl]?.contains(where: { $0.reply?.address == dst }) == true { break }
        }
        return planner
    }

    @Test func nodeControlFindsTheBranchesBehindARareInterface() {
        let planner = Self.run(confidence: 0.95, topology: Self.nested)
        let sent = planner.sent
        func found(_ ttl: Int) -> Set<IPAddress> { Set((sent[ttl] ?? []).compactMap { $0.reply?.address }) }
        #expect(found(2) == [Self.b1, Self.b2])
        #expect(found(3) == [Self.c1, Self.c2, Self.c3, Self.c4])
        // Behind each interface at TTL 2, n(2) = 11 flows were probed at TTL 3: for B2, which
        // one flow in eight crosses, that took fresh flows at TTL 2 (node control).
        let viaB2 = Set((sent[2] ?? []).filter { $0.reply?.address == Self.b2 }.map(\.flow))
        #expect((sent[3] ?? []).filter { viaB2.contains($0.flow) }.count >= 11)
        #expect((sent[2] ?? []).count > 11)
        // Every TTL starts with the pinned flow, and none exceeds the budget.
        for ttl in 1...4 {
            #expect(sent[ttl]?.first?.flow == 1000)
            #expect((sent[ttl] ?? []).count <= MDAStopping.maxProbesPerHop)
        }
        // The output holds every probe, in TTL order.
        let ttls = planner.probes.map(\.ttl)
        #expect(ttls == ttls.sorted() && ttls.count == sent.values.reduce(0) { $0 + $1.count })
    }

    /// Per-hop MDA (probes spread over the hop before) misses a successor of the rare
    /// interface here: the test above would not pass without node control.
    @Test func perHopCountsAloneWouldMissThem() {
        var flows = [UInt16]()
        var seen = Set<IPAddress>()
        var next: UInt16 = 1000
        while flows.count < MDAStopping.probes(toRuleOutMoreThan: max(1, seen.count), confidence: 0.95) {
            flows.append(next)
            if let a = Self.nested(ttl: 3, flow: next) { seen.insert(a) }
            next += 1
        }
        #expect(seen != [Self.c1, Self.c2, Self.c3, Self.c4])
    }

    @Test func aSilentHopGetsTheProbesOfOneInterfaceAndTracingGoesOn() {
        let planner = Self.run(confidence: 0.95) { ttl, flow in ttl == 2 ? nil : Self.nested(ttl: ttl, flow: flow) }
        #expect(planner.sent[2]?.count == MDAStopping.probes(toRuleOutMoreThan: 1, confidence: 0.95))
        #expect(planner.sent[2]?.allSatisfy { $0.reply == nil } == true)
        let third = Set((planner.sent[3] ?? []).compactMap { $0.reply?.address })
        #expect(third.isSuperset(of: [Self.c1, Self.c2]))
        #expect(planner.sent[4]?.contains { $0.reply?.address == Self.dst } == true)
    }
}
