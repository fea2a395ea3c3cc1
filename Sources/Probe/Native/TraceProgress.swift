import PathTSDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One trace of the native prober as a state machine: each batch of probes that ends starts the
/// next (more flows at the same TTL under MDA, or the next TTL), on whichever thread ended it.
/// The trace's task waits only for the finished trace, so a trace costs one task switch, not
/// one per TTL.
final class TraceProgress: Sendable {
    private struct State {
        var ttl: Int
        /// Probes sent at this TTL so far (flows used, under MDA).
        var used = 0
        var hopReplies: [ProbeReply?] = []
        var batchIDs: [UInt16] = []
        var probes: [ProbeReply] = []
        var silent = 0
        var continuation: CheckedContinuation<TracerResult, any Error>?
    }

    private let prober: NativeProber
    private let hop: NativeProber.HopProbe
    private let flow: UInt16
    private let last: Int
    private let probesPerHop: Int
    private let mdaConfidence: Double?
    private let startMicros: Int64
    private let state: Mutex<State>

    init(prober: NativeProber, hop: NativeProber.HopProbe, flow: UInt16, first: Int, last: Int, probesPerHop: Int, mdaConfidence: Double?) {
        self.prober = prober
        self.hop = hop
        self.flow = flow
        self.last = last
        self.probesPerHop = probesPerHop
        self.mdaConfidence = mdaConfidence
        startMicros = WallClock.nowMicros()
        state = Mutex(State(ttl: first))
    }

    func start(_ continuation: CheckedContinuation<TracerResult, any Error>) {
        let ttl = state.withLock { s -> Int in
            s.continuation = continuation
            return s.ttl
        }
        // Paris: every probe on the pinned flow. MDA: one flow per probe, the pinned one first.
        sendBatch(ttl: ttl, flows: firstFlows())
    }

    private func firstFlows() -> [UInt16] {
        (0..<probesPerHop).map { mdaConfidence == nil ? flow : flow &+ UInt16($0) }
    }

    private func sendBatch(ttl: Int, flows: [UInt16]) {
        do {
            let batch = try prober.prepare(hop, ttl: UInt8(ttl), flows: flows) { [self] waiter in batchEnded(waiter) }
            // The state first: the batch can end on the I/O thread as soon as it is submitted.
            state.withLock { s in
                s.batchIDs = batch.probes.map(\.id)
                s.used += flows.count
            }
            prober.submit(batch)
        } catch {
            finish(.failure(error))
        }
    }

    private func batchEnded(_ waiter: HopWaiter) {
        let ids = state.withLock { $0.batchIDs }
        prober.release(ids)
        if let failure = waiter.failure {
            finish(.failure(failure))
            return
        }
        enum Next { case more(Int, [UInt16]), nextTTL(Int), done }
        let next = state.withLock { s -> Next in
            s.hopReplies += waiter.replies
            // MDA: more flows at this TTL until the branches seen are ruled complete.
            if let confidence = mdaConfidence, !s.hopReplies.contains(where: { $0?.address == hop.destination }) {
                let branches = Set(s.hopReplies.compactMap { $0?.address }).count
                let needed = min(MDAStopping.probes(toRuleOutMoreThan: max(1, branches), confidence: confidence), MDAStopping.maxProbesPerHop)
                if s.used < needed {
                    return .more(s.ttl, (s.used..<needed).map { flow &+ UInt16($0) })
                }
            }
            var stop = false
            for r in s.hopReplies {
                guard let r else {
                    s.probes.append(.lost(ttl: UInt8(s.ttl)))
                    continue
                }
                s.probes.append(r)
                if r.address == hop.destination { stop = true }
                // An unreachable from a router (!H, !N, !P, !X …) ends the trace, as traceroute's does.
                if NativeProber.isUnreachable(r, v6: hop.family == AF_INET6) && r.address != hop.destination { stop = true }
            }
            s.silent = s.hopReplies.allSatisfy { $0 == nil } ? s.silent + 1 : 0
            if stop || s.silent >= NativeProber.gapLimit || s.ttl >= last { return .done }
            s.ttl += 1
            s.used = 0
            s.hopReplies = []
            return .nextTTL(s.ttl)
        }
        switch next {
        case .more(let ttl, let flows): sendBatch(ttl: ttl, flows: flows)
        case .nextTTL(let ttl): sendBatch(ttl: ttl, flows: firstFlows())
        case .done:
            let probes = state.withLock { $0.probes }
            finish(.success(TracerResult(output: TracerOutput(destination: hop.destination, probes: probes), flowID: flow,
                                         startMicros: startMicros, endMicros: WallClock.nowMicros(), exitStatus: 0, standardError: "")))
        }
    }

    private func finish(_ result: Result<TracerResult, ProbeError>) {
        let c = state.withLock { s -> CheckedContinuation<TracerResult, any Error>? in
            defer { s.continuation = nil }
            return s.continuation
        }
        switch result {
        case .success(let r): c?.resume(returning: r)
        case .failure(let e): c?.resume(throwing: e)
        }
    }
}
