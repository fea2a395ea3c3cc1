public import PathTSDB

/// One trace from scamper's JSON output (`scamper -O json`), with what scamper says of it.
public struct ScamperTrace: Sendable, Equatable {
    /// The trace's probes, lost ones rebuilt from scamper's counts.
    public var output: TracerOutput
    /// How scamper sent its probes.
    public var method: TraceMethod
    /// The address scamper sent from.
    public var source: IPAddress?
    /// The flow scamper held constant: the UDP or TCP source port, or the ICMP checksum.
    public var flowID: UInt16
    /// Start, microseconds since the Unix epoch.
    public var startMicros: Int64
    /// scamper's reason for stopping: COMPLETED, UNREACH, GAPLIMIT, LOOP…
    public var stopReason: String
}

/// Reads scamper's JSON output: one object per line, `cycle-start`, `trace` and `cycle-stop`
/// (lines that are no scamper object, such as the metadata line M-Lab's traceroute-caller puts
/// first, are passed over). A file that is one JSON document instead, with scamper's objects
/// nested in other objects or arrays (as archives such as M-Lab's wrap them), is read whole and
/// every `trace` object in it is taken. Objects of other measurements (`ping`, `tracelb`, …) are
/// counted in `otherMeasurements`, not read.
///
/// scamper lists only the probes that were answered. Lost probes are rebuilt from its counts:
/// with all attempts sent (`trace -Q`) each TTL got `attempts` probes; otherwise probing a TTL
/// stopped at its first answer, and a silent TTL got `attempts`. Whichever reading adds up to the
/// trace's `probe_count` is used; if neither does, the trace is an error rather than a guess.
public struct ScamperJSONParser: Sendable {
    /// The name errors give the input.
    public let source: String

    /// A parser whose errors name the input `source`.
    public init(source: String = "scamper") {
        self.source = source
    }

    /// scamper's method names (its `trace -P` values as it reports them).
    static let methods: [String: TraceMethod] = [
        "udp": .udp, "udp-paris": .udpParis, "icmp-echo": .icmp, "icmp-echo-paris": .icmpParis,
        "tcp": .tcp, "tcp-ack": .tcp, "tcp-ack-sport": .tcpParis, "tcp-sport": .tcpParis,
    ]

    /// The traces in `text`, or an error naming the line and what was wrong there.
    public func parse(_ text: String) throws(ProbeError) -> [ScamperTrace] {
        var others = [String: Int]()
        return try parse(text, otherMeasurements: &others)
    }

    /// The traces of `text`; `otherMeasurements` counts objects of other measurement types.
    public func parse(_ text: String, otherMeasurements: inout [String: Int]) throws(ProbeError) -> [ScamperTrace] {
        do {
            return try parseLines(text, others: &otherMeasurements)
        } catch {
            // One document over several lines: its first line alone is no whole value.
            let first = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
            guard error.line == 1, first.first == "{" || first.first == "[", text.contains("\n") else { throw error }
            otherMeasurements = [:]
            return try parseDocument(text, others: &otherMeasurements)
        }
    }

    /// Every `trace` object anywhere in one JSON document.
    private func parseDocument(_ text: String, others: inout [String: Int]) throws(ProbeError) -> [ScamperTrace] {
        let bytes = Array(text.utf8)
        var traces = [ScamperTrace]()
        var failure: JSONScanner.Failure?
        var counted = others
        bytes.withUnsafeBufferPointer { b in
            var s = JSONScanner(b)
            do throws(JSONScanner.Failure) {
                try walk(&s, depth: 0, into: &traces, others: &counted)
                s.skipWhitespace()
                if s.position < b.count { throw s.fail("data after the document") }
            } catch {
                failure = error
            }
        }
        others = counted
        if let f = failure {
            let prefix = bytes[..<min(f.offset, bytes.count)]
            let line = prefix.filter { $0 == 0x0A }.count + 1
            let column = f.offset - (prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            throw ProbeError(.malformedInput, f.message, source: source, line: line, column: column, offset: Int64(f.offset))
        }
        return traces
    }

    /// A value of the document: an object that is a scamper object is read as one; any other
    /// object or array is looked into, at most `JSONScanner.maxSkipDepth` levels deep.
    private func walk(_ s: inout JSONScanner, depth: Int, into traces: inout [ScamperTrace], others: inout [String: Int]) throws(JSONScanner.Failure) {
        guard depth < JSONScanner.maxSkipDepth else { throw s.fail("nested deeper than \(JSONScanner.maxSkipDepth) levels") }
        switch try s.peek() {
        case 0x5B:
            try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in try walk(&s, depth: depth + 1, into: &traces, others: &others) }
        case 0x7B:
            let start = s.position
            var type: String?
            if let t = try object(&s, type: &type) {
                traces.append(t)
                return
            }
            if let type {
                if !ScamperJSONParser.framing.contains(type) { others[type, default: 0] += 1 }
                return
            }
            // Not a scamper object: look into its members.
            s.position = start
            try s.object { (s: inout JSONScanner, _) throws(JSONScanner.Failure) in try walk(&s, depth: depth + 1, into: &traces, others: &others) }
        default:
            try s.skipValue()
        }
    }

    /// Object types that frame traces rather than measure anything.
    static let framing: Set<String> = ["cycle-start", "cycle-stop", "cycle-def", "list"]

    private func parseLines(_ text: String, others: inout [String: Int]) throws(ProbeError) -> [ScamperTrace] {
        var traces = [ScamperTrace]()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line.utf8)
            guard bytes.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            var result: Result<ScamperTrace?, JSONScanner.Failure> = .success(nil)
            bytes.withUnsafeBufferPointer { b in
                var s = JSONScanner(b)
                do throws(JSONScanner.Failure) {
                    var type: String?
                    let t = try object(&s, type: &type)
                    if t == nil, let type, !ScamperJSONParser.framing.contains(type) { others[type, default: 0] += 1 }
                    result = .success(t)
                    s.skipWhitespace()
                    if s.position < b.count { throw s.fail("data after the object") }
                } catch {
                    result = .failure(error)
                }
            }
            switch result {
            case .success(let t?): traces.append(t)
            case .success(nil): break
            case .failure(let f):
                throw ProbeError(.malformedInput, f.message, source: source, line: index + 1, column: f.offset + 1)
            }
        }
        return traces
    }

    /// A trace, or nil for the cycle and list objects around traces.
    private func object(_ s: inout JSONScanner, type: inout String?) throws(JSONScanner.Failure) -> ScamperTrace? {
        var methodName: (String, Int)?
        var src: IPAddress?, dst: IPAddress?
        var sport: Int64 = 0, icmpSum: Int64 = 0
        // Kept apart so that a repeated key replaces its value instead of adding to it.
        var startSecondsMicros: Int64 = 0, startUsec: Int64 = 0
        var stopReason = ""
        var attempts: Int64 = 1, probeCount: Int64 = -1, hopCount: Int64 = 0, firstHop: Int64 = 1
        var hops = [ScamperHop]()
        let start = s.position
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("type") { type = try s.string() }
            else if key.equals("method") {
                let at = s.position
                methodName = (try s.string(), at)
            }
            else if key.equals("src") { src = try address(&s) }
            else if key.equals("dst") { dst = try address(&s) }
            else if key.equals("sport") { sport = try s.integer() }
            else if key.equals("icmp_sum") { icmpSum = try s.integer() }
            else if key.equals("stop_reason") { stopReason = try s.string() }
            else if key.equals("attempts") { attempts = try s.integer() }
            else if key.equals("probe_count") { probeCount = try s.integer() }
            else if key.equals("hop_count") { hopCount = try s.integer() }
            else if key.equals("firsthop") { firstHop = try s.integer() }
            else if key.equals("start") {
                try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                    if key.equals("sec") { startSecondsMicros = try s.unixSecondsAsMicros("start.sec") }
                    else if key.equals("usec") {
                        let at = s.position
                        let usec = try s.integer()
                        guard (0..<1_000_000).contains(usec) else {
                            throw JSONScanner.Failure(offset: at, message: "start.usec \(usec) is not 0 to 999999")
                        }
                        startUsec = usec
                    }
                    else { try s.skipValue() }
                }
            } else if key.equals("hops") {
                try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in hops.append(try hop(&s)) }
            } else {
                try s.skipValue()
            }
        }
        // Other measurements (ping, tracelb, …) have methods of their own; only a trace's is read.
        guard type == "trace" else { return nil }
        var method = TraceMethod.unknown
        if let (m, at) = methodName {
            guard let known = ScamperJSONParser.methods[m] else { throw JSONScanner.Failure(offset: at, message: "unknown method \"\(m)\"") }
            method = known
        }
        guard let dst else { throw JSONScanner.Failure(offset: start, message: "trace without \"dst\"") }
        guard probeCount >= 0 else { throw JSONScanner.Failure(offset: start, message: "trace without \"probe_count\"") }
        guard attempts >= 1, attempts <= 255, firstHop >= 1, hopCount <= 255 else {
            throw JSONScanner.Failure(offset: start, message: "attempts, firsthop or hop_count out of range")
        }
        let probes: [ProbeReply]
        do {
            probes = try ScamperHop.probes(hops, attempts: Int(attempts), probeCount: Int(probeCount), hopCount: Int(hopCount),
                                           firstHop: Int(firstHop))
        } catch {
            throw JSONScanner.Failure(offset: start, message: error.message)
        }
        let flow = method == .icmpParis || method == .icmp ? icmpSum : sport
        return ScamperTrace(output: TracerOutput(destination: dst, probes: probes), method: method, source: src,
                            flowID: UInt16(truncatingIfNeeded: flow), startMicros: startSecondsMicros + startUsec, stopReason: stopReason)
    }

    private func address(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> IPAddress {
        let at = s.position
        let raw = try s.rawString()
        guard let a = IPAddress(utf8: raw) else { throw JSONScanner.Failure(offset: at, message: "not an IP address") }
        return a
    }

    private func hop(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> ScamperHop {
        var addr: IPAddress?
        var ttl: Int64 = 0, probeID: Int64 = 1, replyTTL: Int64 = 0
        var icmpType: Int64 = -1, icmpCode: Int64 = 0
        var rtt: Int64?
        var tcp = false
        var labels = [MPLSLabel]()
        let at = s.position
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("addr") { addr = try address(&s) }
            else if key.equals("probe_ttl") { ttl = try s.integer() }
            else if key.equals("probe_id") { probeID = try s.integer() }
            else if key.equals("rtt") { rtt = try s.scaled(3) }
            else if key.equals("reply_ttl") { replyTTL = try s.integer() }
            else if key.equals("icmp_type") { icmpType = try s.integer() }
            else if key.equals("icmp_code") { icmpCode = try s.integer() }
            else if key.equals("tcp_flags") { tcp = true; try s.skipValue() }
            else if key.equals("icmpext") { labels = try mplsLabels(&s) }
            else { try s.skipValue() }
        }
        guard let addr else { throw JSONScanner.Failure(offset: at, message: "hop without \"addr\"") }
        guard ttl >= 1 && ttl <= 255 else { throw JSONScanner.Failure(offset: at, message: "probe_ttl \(ttl) out of range") }
        guard var rtt, rtt >= 0, rtt <= Int64(UInt32.max) else { throw JSONScanner.Failure(offset: at, message: "hop without a valid \"rtt\"") }
        // scamper subtracts times in 32-bit microseconds: a reply stamped (by the kernel) before
        // its probe's send time (read after sending) prints as just under 2^32 µs. Seen in the
        // lab on 2 busy cores; the true RTT was below that delay, so it is kept at 0 µs, as a
        // tcptraceroute reply that arrives "early" is. A second or more early is not this.
        if rtt > Int64(UInt32.max) - ScamperHop.earlyReplyMicros { rtt = 0 }
        guard probeID >= 1 && probeID <= 255 else { throw JSONScanner.Failure(offset: at, message: "probe_id \(probeID) out of range") }
        let kind: (UInt8, UInt8) = tcp || icmpType < 0 ? ReplyKind.tcpAnswer : (UInt8(clamping: icmpType), UInt8(clamping: icmpCode))
        return ScamperHop(ttl: Int(ttl), probeID: Int(probeID), reply: ProbeReply(
            ttl: UInt8(ttl), address: addr, rttMicros: UInt32(rtt), replyTTL: UInt8(clamping: replyTTL),
            icmpType: kind.0, icmpCode: kind.1, mplsLabels: labels))
    }

    /// MPLS label stack entries anywhere in an `icmpext` value (`mpls_label`, `mpls_exp`,
    /// `mpls_s`, `mpls_ttl` keys of one object per entry).
    private func mplsLabels(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> [MPLSLabel] {
        var labels = [MPLSLabel]()
        func walk(_ s: inout JSONScanner) throws(JSONScanner.Failure) {
            switch try s.peek() {
            case 0x5B: try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in try walk(&s) }
            case 0x7B:
                var label: Int64?, exp: Int64 = 0, bos: Int64 = 0, ttl: Int64 = 0
                try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                    if key.equals("mpls_label") { label = try s.integer() }
                    else if key.equals("mpls_exp") { exp = try s.integer() }
                    else if key.equals("mpls_s") { bos = try s.integer() }
                    else if key.equals("mpls_ttl") { ttl = try s.integer() }
                    else { try walk(&s) }
                }
                if let label {
                    labels.append(MPLSLabel(label: UInt32(truncatingIfNeeded: label), trafficClass: UInt8(truncatingIfNeeded: exp),
                                            bottomOfStack: bos != 0, ttl: UInt8(truncatingIfNeeded: ttl)))
                }
            default: try s.skipValue()
            }
        }
        try walk(&s)
        return labels
    }
}
