import PathTSDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One trace of the native prober as a state machine: each batch of probes that ends starts the
/// next (under MDA, whatever `MDAPlanner` asks for; else the next TTL), on whichever thread
/// ended it.
/// The trace's task waits only for the finished trace, so a trace costs one task switch, not
/// one per TTL.
final class TraceProgress: Sendable {
    private struct State {
        var ttl: Int
        var batchIDs: [UInt16] = []
        var probes: [ProbeReply] = []
        var silent = 0
        var continuation: CheckedContinuation<TracerResult, any Error>?
        /// Under MDA: what was sent and answered at every TTL, and what to send next.
        var mda: MDAPlanner?
        /// The TTL and flows of the batch in flight (MDA batches can go to the TTL before).
        var batchTTL = 0
        var batchFlows: [UInt16] = []
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
        var initial = State(ttl: first)
        if let mdaConfidence {
            initial.mda = MDAPlanner(confidence: mdaConfidence, pinnedFlow: flow, destination: hop.destination)
        }
        state = Mutex(initial)
    }

    func start(_ continuation: CheckedContinuation<TracerResult, any Error>) {
        let first = state.withLock { s -> (Int, [UInt16]) in
            s.continuation = continuation
            // Paris: every probe on the pinned flow. MDA: what the planner asks for.
            return s.mda?.next(enumerating: s.ttl) ?? (s.ttl, parisFlows)
        }
        sendBatch(ttl: first.0, flows: first.1)
    }

    private var parisFlows: [UInt16] { Array(repeating: flow, count: probesPerHop) }

    private func sendBatch(ttl: Int, flows: [UInt16]) {
        do {
            let batch = try prober.prepare(hop, ttl: UInt8(ttl), flows: flows) { [self] waiter in batchEnded(waiter) }
            // The state first: the batch can end on the I/O thread as soon as it is submitted.
            state.withLock { s in
                s.batchIDs = batch.probes.map(\.id)
                s.batchTTL = ttl
                s.batchFlows = flows
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
        enum Next { case send(Int, [UInt16]), done }
        let next = state.withLock { s -> Next in
            let hopReplies: [ProbeReply?]
            if s.mda != nil {
                s.mda?.record(ttl: s.batchTTL, flows: s.batchFlows, replies: waiter.replies)
                // More probes at this TTL (or node control at the one before) until the
                // interfaces here are ruled complete.
                if let more = s.mda?.next(enumerating: s.ttl) { return .send(more.ttl, more.flows) }
                hopReplies = (s.mda?.sent[s.ttl] ?? []).map(\.reply)
            } else {
                hopReplies = waiter.replies
                for r in hopReplies { s.probes.append(r ?? .lost(ttl: UInt8(s.ttl))) }
            }
            var stop = false
            for r in hopReplies.compactMap({ $0 }) {
                if r.address == hop.destination { stop = true }
                // An unreachable from a router (!H, !N, !P, !X …) ends the trace, as traceroute's does.
                if NativeProber.isUnreachable(r, v6: hop.family == AF_INET6) && r.address != hop.destination { stop = true }
            }
            s.silent = hopReplies.allSatisfy { $0 == nil } ? s.silent + 1 : 0
            if stop || s.silent >= NativeProber.gapLimit || s.ttl >= last {
                if let mda = s.mda { s.probes = mda.probes }
                return .done
            }
            s.ttl += 1
            if let first = s.mda?.next(enumerating: s.ttl) { return .send(first.ttl, first.flows) }
            return .send(s.ttl, parisFlows)
        }
        switch next {
        case .send(let ttl, let flows): sendBatch(ttl: ttl, flows: flows)
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
