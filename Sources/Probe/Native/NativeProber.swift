import Foundation
package import Logging
import PathTSDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SmokeTrace's own Paris traceroute on raw sockets, IPv4 and IPv6, UDP, ICMP echo and TCP SYN
/// probes.
///
/// Every probe of a trace keeps one flow identifier (`ProbePacket`), and the identifier is
/// pinned across runs of a target: the settings' `flowID`, or one derived from the target's
/// address, so that run-to-run comparisons compare the same flow through per-flow balancers.
/// Many traces run at once over the same sockets; one receiver thread per address family
/// matches every ICMP reply to its probe by the probe id in the header it quotes, and RTTs use
/// the kernel's receive timestamp (SO_TIMESTAMPNS). All traces share a packets-per-second cap.
///
/// Trace by trace it probes hop by hop: all probes of a TTL at once, then the next TTL once they
/// are answered or the wait has passed; it stops at the destination, at an ICMP unreachable, or
/// after `gapLimit` silent TTLs in a row.
package final class NativeProber: Sendable {
    /// Silent TTLs in a row after which a trace gives up (scamper's default gap limit).
    package static let gapLimit = 5

    private let namespace: String?
    private let logger: Logger
    private let sockets = Mutex<[Int32: FamilyChannel]>([:])
    private let table: InFlightProbes
    private let handler: ReplyHandler
    private let loop: ProbeLoop
    private let sources = Mutex<[IPAddress: (IPAddress, ContinuousClock.Instant)]>([:])
    private let routeProbes = Mutex<[Int32: RawSocket]>([:])
    /// One route lookup at a time on a route-probe socket.
    private let routeLookups = Mutex(())

    /// - Parameters:
    ///   - namespace: a network namespace (a name under /var/run/netns) to trace from.
    ///   - packetsPerSecond: the cap on probes sent, all traces together.
    package init(namespace: String? = nil, packetsPerSecond: Int = 10_000, logger: Logger = Logger(label: "smoketrace.native")) {
        self.namespace = namespace
        self.logger = logger
        let table = InFlightProbes()
        self.table = table
        let handler = ReplyHandler(table: table, logger: logger)
        self.handler = handler
        loop = ProbeLoop(packetsPerSecond: packetsPerSecond, stamp: { times in
            table.withLock { t in for (id, micros) in times { t.stamp(id, sentMicros: micros) } }
        }, handle: { socket, tcp, d in
            handler.handle(socket: socket, tcp: tcp, datagram: d)
        })
    }

    deinit { shutdown() }

    /// Stops the receiver threads; traces in flight see their remaining probes as lost.
    package func shutdown() {
        loop.stop()
    }

    /// Probes sent or about to be whose answers are still awaited.
    package var probesInFlight: Int { table.withLock { $0.count } }

    /// ICMP messages that could not be read (cut short where a probe's quote should be).
    package var malformedReplies: Int { handler.malformed.load(ordering: .relaxed) }

    // MARK: - Tracing

    /// Traces `target` once with `settings` (method `udp-paris`, `icmp-paris`, or their
    /// non-Paris names, which this prober treats the same way).
    /// - Throws: `ProbeError` when the target cannot be resolved, the sockets cannot be opened,
    ///   or the method is not one this prober sends.
    package func trace(_ target: TargetName, settings s: TraceSettings) async throws(ProbeError) -> TracerResult {
        let kind: ProbeKind
        switch s.method {
        case .udpParis, .udp: kind = .udp
        case .icmpParis, .icmp: kind = .echo
        case .tcpParis, .tcp: kind = .tcp
        default: throw ProbeError(.unsupportedInput, "the native prober sends udp-paris, icmp-paris and tcp-paris probes, not \(s.method)")
        }
        let destination = try await Self.resolve(target)
        let family = destination.isIPv4 ? AF_INET : AF_INET6
        let channel = try channel(for: family)
        let source = try sourceAddress(toward: destination)
        let flow = s.flowID ?? Self.pinnedFlow(for: destination)
        let probesPerHop = max(1, min(s.probesPerHop, 10))
        let first = max(1, min(s.firstTTL, 255)), last = max(first, min(s.maxTTL, 255))
        let wait = Duration.milliseconds(max(1, s.waitMilliseconds))

        let hop = HopProbe(destination: destination, source: source, kind: kind, family: family, channel: channel, wait: wait, port: s.tcpPort)
        let progress = TraceProgress(prober: self, hop: hop, flow: flow, first: first, last: last, probesPerHop: probesPerHop,
                                     mdaConfidence: s.mdaConfidence)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                progress.start(continuation)
            }
        } catch let e as ProbeError {
            throw e
        } catch {
            throw ProbeError(.tracerFailed, "\(error)")
        }
    }

    /// What every probe of one trace shares.
    struct HopProbe: Sendable {
        var destination: IPAddress
        var source: IPAddress
        var kind: ProbeKind
        var family: Int32
        var channel: FamilyChannel
        var wait: Duration
        var port: UInt16
    }

    /// Registers one probe per flow at `ttl` and builds their packets; `submit` sends them.
    /// `onFinish` gets the waiter once every probe is answered, the wait has passed, or the send
    /// failed. The caller releases the probes' ids with `release(_:)` when it has the answers.
    func prepare(_ h: HopProbe, ttl: UInt8, flows: [UInt16], onFinish: @escaping @Sendable (HopWaiter) -> Void) throws(ProbeError) -> ProbeLoop.Batch {
        let waiter = HopWaiter(count: flows.count, onFinish: onFinish)
        var batch = [ProbeLoop.Probe]()
        for (slot, f) in flows.enumerated() {
            let pending = PendingProbe(destination: h.destination, flow: f, kind: h.kind, slot: slot, ttl: ttl,
                                       sentMicros: WallClock.nowMicros(), waiter: waiter)
            guard let id = table.withLock({ $0.allocate(pending) }) else {
                release(batch.map(\.id))
                throw ProbeError(.tracerFailed, "more than 65,000 probes in flight: lower the concurrency or the rate")
            }
            let packet = switch h.kind {
            case .udp: ProbePacket.udp(source: h.source, destination: h.destination, ttl: ttl, flow: f, probeID: id)
            case .echo: ProbePacket.echo(source: h.source, destination: h.destination, ttl: ttl, flow: f, probeID: id)
            case .tcp: ProbePacket.tcpSYN(source: h.source, destination: h.destination, ttl: ttl, flow: f, port: h.port, probeID: id)
            }
            batch.append(ProbeLoop.Probe(id: id, ttl: ttl, bytes: packet))
        }
        // IPv4 probes are whole packets for the IP_HDRINCL socket; IPv6 ones leave through the
        // raw socket of their protocol.
        let socket = h.family == AF_INET ? h.channel.send : (h.kind == .echo ? h.channel.receive : h.kind == .tcp ? h.channel.tcp : h.channel.send)
        return ProbeLoop.Batch(socket: socket, destination: h.destination, probes: batch, waiter: waiter, wait: h.wait)
    }

    /// Sends a prepared batch when the rate allows.
    func submit(_ batch: ProbeLoop.Batch) {
        loop.enqueue(batch)
    }

    /// Forgets probes whose answers are in (or will never come).
    func release(_ ids: [UInt16]) {
        table.withLock { t in for i in ids { t[i] = nil } }
    }

    /// The source address toward `destination`, asked of the kernel at most once a minute per
    /// destination (a socket, a connect and a route lookup each time otherwise).
    private func sourceAddress(toward destination: IPAddress) throws(ProbeError) -> IPAddress {
        let now = ContinuousClock.now
        if let (a, at) = sources.withLock({ $0[destination] }), now - at < .seconds(60) { return a }
        let family = destination.isIPv4 ? AF_INET : AF_INET6
        let probe: RawSocket
        if let known = routeProbes.withLock({ $0[family] }) {
            probe = known
        } else {
            let made = try RawSocket.routeProbe(family: family, namespace: namespace)
            probe = routeProbes.withLock { map in
                if let existing = map[family] { return existing }
                map[family] = made
                return made
            }
        }
        let a = try routeLookups.withLock { _ throws(ProbeError) in try probe.sourceAddress(toward: destination) }
        sources.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
            cache[destination] = (a, now)
        }
        return a
    }

    static func isUnreachable(_ r: ProbeReply, v6: Bool) -> Bool { v6 ? r.icmpType == 1 : r.icmpType == 3 }

    /// The flow a target keeps when none is configured: a hash of its address, in the upper
    /// half of the port range (and never 0), the same on every run.
    static func pinnedFlow(for destination: IPAddress) -> UInt16 {
        33_000 &+ UInt16(truncatingIfNeeded: FNV1a.hash(destination.bytes) % 30_000)
    }

    /// The target's address: itself, or its name resolved (the first address getaddrinfo gives).
    static func resolve(_ target: TargetName) async throws(ProbeError) -> IPAddress {
        if let a = IPAddress(target.text) { return a }
        let name = target.text
        let result: Result<IPAddress, ProbeError> = await withCheckedContinuation { continuation in
            Thread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let rc = getaddrinfo(name, nil, &hints, &list)
                defer { if let list { freeaddrinfo(list) } }
                guard rc == 0, let first = list, let sa = first.pointee.ai_addr else {
                    continuation.resume(returning: .failure(ProbeError(.tracerFailed, "cannot resolve \(name): \(String(cString: gai_strerror(rc)))")))
                    return
                }
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: Int(first.pointee.ai_addrlen)))
                }
                if let a = RawSocket.address(of: storage) {
                    continuation.resume(returning: .success(a))
                } else {
                    continuation.resume(returning: .failure(ProbeError(.tracerFailed, "cannot resolve \(name): no IPv4 or IPv6 address")))
                }
            }.start()
        }
        return try result.get()
    }

    // MARK: - Sockets and the receiver

    private func channel(for family: Int32) throws(ProbeError) -> FamilyChannel {
        if let c = sockets.withLock({ $0[family] }) { return c }
        let (send, receive, tcp) = try RawSocket.open(family: family, namespace: namespace)
        let channel = FamilyChannel(send: send, receive: receive, tcp: tcp)
        let (winner, created) = sockets.withLock { map -> (FamilyChannel, Bool) in
            if let existing = map[family] { return (existing, false) }
            map[family] = channel
            return (channel, true)
        }
        if created {
            loop.watch(winner.receive, tcp: false)
            loop.watch(winner.tcp, tcp: true)
        }
        return winner
    }
}

/// Reads what the reply sockets receive and hands each answer to the batch that waits for it.
final class ReplyHandler: Sendable {
    private let table: InFlightProbes
    private let logger: Logger
    /// ICMP messages that could not be read (cut short where a probe's quote should be).
    let malformed = Atomic<Int>(0)

    init(table: InFlightProbes, logger: Logger) {
        self.table = table
        self.logger = logger
    }

    func handle(socket: RawSocket, tcp: Bool, datagram d: RawSocket.Datagram) {
        let decoded: DecodedReply?
        do {
            if socket.family == AF_INET {
                decoded = tcp ? try ProbeReplyDecoder.decodeTCPv4(d.bytes) : try ProbeReplyDecoder.decodeV4(d.bytes)
            } else {
                guard let from = d.from else { return }
                decoded = tcp ? try ProbeReplyDecoder.decodeTCP(d.bytes, from: from, ttl: d.hopLimit)
                              : try ProbeReplyDecoder.decodeV6(d.bytes, from: from, hopLimit: d.hopLimit)
            }
        } catch {
            malformed.add(1, ordering: .relaxed)
            logger.debug("unreadable ICMP message", metadata: ["error": "\(error)"])
            return
        }
        guard let r = decoded, let quoted = r.probe else { return }
        deliver(r, quoted: quoted, receivedMicros: d.receivedMicros)
    }

    private func deliver(_ r: DecodedReply, quoted: DecodedReply.Quoted, receivedMicros: Int64) {
        let (flow, id, kind): (UInt16, UInt16, ProbeKind) = switch quoted {
        case .udp(let f, let i): (f, i, .udp)
        case .echo(let f, let i): (f, i, .echo)
        case .tcp(let f, let i): (f, i, .tcp)
        }
        let match = table.withLock { t -> PendingProbe? in
            guard let p = t[id], p.flow == flow, p.kind == kind, p.destination == r.probeDestination else { return nil }
            t[id] = nil
            return p
        }
        guard let p = match else { return }
        let rtt = UInt32(clamping: max(0, receivedMicros - p.sentMicros))
        p.waiter.deliver(slot: p.slot, reply: ProbeReply(ttl: p.ttl, address: r.from, rttMicros: rtt, replyTTL: r.replyTTL,
                                                         icmpType: r.icmpType, icmpCode: r.icmpCode, mplsLabels: r.mpls))
    }
}

enum ProbeKind: Sendable { case udp, echo, tcp }

/// The sockets of one address family.
struct FamilyChannel: Sendable {
    let send: RawSocket
    let receive: RawSocket
    let tcp: RawSocket
}

/// A probe waiting for its answer.
struct PendingProbe: Sendable {
    var destination: IPAddress
    var flow: UInt16
    var kind: ProbeKind
    var slot: Int
    var ttl: UInt8
    var sentMicros: Int64
    var waiter: HopWaiter
}

/// The prober's table of probes in flight, shared by the traces, the sender and the receiver.
final class InFlightProbes: Sendable {
    private let state = Mutex(PendingTable())

    func withLock<R>(_ body: (inout PendingTable) -> R) -> R { state.withLock { body(&$0) } }
}

/// Probes in flight by probe id, in a table indexed by the id itself (no hashing on the hot
/// path). Ids run through 1…65534 (0 and 0xFFFF are not valid UDP checksums), skipping those in
/// use.
struct PendingTable: Sendable {
    private var slots = [PendingProbe?](repeating: nil, count: 65_536)
    private(set) var count = 0
    private var next: UInt16 = 1

    /// The probe with `id`; setting nil releases the id.
    subscript(id: UInt16) -> PendingProbe? {
        get { slots[Int(id)] }
        set {
            let had = slots[Int(id)] != nil
            slots[Int(id)] = newValue
            count += (newValue != nil ? 1 : 0) - (had ? 1 : 0)
        }
    }

    mutating func stamp(_ id: UInt16, sentMicros: Int64) {
        slots[Int(id)]?.sentMicros = sentMicros
    }

    mutating func allocate(_ p: PendingProbe) -> UInt16? {
        guard count < 65_000 else { return nil }
        while true {
            let id = next
            next = next >= 0xFFFE ? 1 : next + 1
            if slots[Int(id)] == nil {
                slots[Int(id)] = p
                count += 1
                return id
            }
        }
    }
}

/// The answers to one batch of a TTL's probes. `onFinish` runs once, on the thread that ends
/// the batch: the receiver with the last answer, the deadline thread when the wait has passed,
/// or the sender when sending failed.
final class HopWaiter: Sendable {
    private struct State {
        var replies: [ProbeReply?]
        var remaining: Int
        var finished = false
        var failure: ProbeError?
    }

    private let state: Mutex<State>
    private let onFinish: @Sendable (HopWaiter) -> Void

    init(count: Int, onFinish: @escaping @Sendable (HopWaiter) -> Void) {
        state = Mutex(State(replies: Array(repeating: nil, count: count), remaining: count))
        self.onFinish = onFinish
    }

    var replies: [ProbeReply?] { state.withLock { $0.replies } }

    /// Why the probes could not be sent, if they could not.
    var failure: ProbeError? { state.withLock { $0.failure } }

    func deliver(slot: Int, reply: ProbeReply) {
        let done = state.withLock { s -> Bool in
            guard slot < s.replies.count, s.replies[slot] == nil, !s.finished else { return false }
            s.replies[slot] = reply
            s.remaining -= 1
            guard s.remaining == 0 else { return false }
            s.finished = true
            return true
        }
        if done { onFinish(self) }
    }

    /// Ends the batch now: its deadline has passed.
    func expire() {
        let done = state.withLock { s -> Bool in
            guard !s.finished else { return false }
            s.finished = true
            return true
        }
        if done { onFinish(self) }
    }

    /// Ends the batch with `error`.
    func fail(_ error: ProbeError) {
        state.withLock { $0.failure = error }
        expire()
    }
}
