public import PathTSDB

/// Reads mtr's raw output (`mtr --raw`), which has every probe: `x POS SEQ` (probe SEQ sent
/// with TTL POS+1), `h POS ADDR` (who answers at POS), `d POS NAME` (its name), `p POS RTT SEQ`
/// (probe SEQ answered after RTT microseconds). A probe with no `p` line is lost.
///
/// mtr sends probes past the destination too, which the destination answers again; the hop
/// list ends at the first TTL the destination answered, and the probes beyond are counted in
/// `probesBeyondDestination`. mtr's reports (`--report`, `--json`) have per-hop aggregates
/// only and are read by `MtrReportParser` and `MtrJSONParser`.
public struct MtrRawParser: Sendable {
    /// The address traced, which mtr's raw output does not name.
    public let destination: IPAddress
    /// How mtr sent its probes (`-u`, `-T`; ICMP by default).
    public let method: TraceMethod
    /// The name errors give the input.
    public let source: String

    /// A parser of a trace to `destination`, sent by `method`.
    public init(destination: IPAddress, method: TraceMethod = .icmp, source: String = "mtr") {
        self.destination = destination
        self.method = method
        self.source = source
    }

    private struct Sent {
        var position: Int
        var sequence: Int
        var address: IPAddress?
        var rttMicros: UInt32?
    }

    /// The probes of `text`, or an error naming the line and what was wrong there.
    public func parse(_ text: String) throws(ProbeError) -> TracerOutput {
        var sent = [Sent]()
        var bySequence = [Int: Int]()
        var hostAt = [Int: IPAddress]()
        var names = [IPAddress: String]()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let tokens = Token.split(rawLine)
            guard let kind = tokens.first else { continue }
            func field(_ i: Int, _ what: String) throws(ProbeError) -> Token {
                guard i < tokens.count else {
                    throw ProbeError(.malformedInput, "\(kind.text) line without its \(what)", source: source, line: line,
                                     column: rawLine.count + 1)
                }
                return tokens[i]
            }
            func number(_ i: Int, _ what: String, max: Int) throws(ProbeError) -> Int {
                let t = try field(i, String(what.drop { $0 != " " }.dropFirst()))
                guard let v = Int(t.text), v >= 0, v <= max else {
                    throw ProbeError(.malformedInput, "expected \(what), found \"\(t.text)\"", source: source, line: line, column: t.column)
                }
                return v
            }
            switch kind.text {
            case "x":
                let pos = try number(1, "a position (0–254)", max: 254)
                let seq = try number(2, "a sequence number", max: Int(Int32.max))
                bySequence[seq] = sent.count
                sent.append(Sent(position: pos, sequence: seq))
            case "h":
                let pos = try number(1, "a position (0–254)", max: 254)
                let t = try field(2, "address")
                guard let a = IPAddress(t.text) else {
                    throw ProbeError(.malformedInput, "\"\(t.text)\" is not an IP address", source: source, line: line, column: t.column)
                }
                hostAt[pos] = a
            case "d":
                let pos = try number(1, "a position (0–254)", max: 254)
                let t = try field(2, "name")
                if let a = hostAt[pos] { names[a] = t.text }
            case "p":
                let pos = try number(1, "a position (0–254)", max: 254)
                let rtt = try number(2, "a round-trip time in microseconds", max: Int(ProbeReply.untimed) - 1)
                let seq = try number(3, "a sequence number", max: Int(Int32.max))
                guard let i = bySequence[seq], sent[i].position == pos else {
                    throw ProbeError(.malformedInput, "reply to probe \(seq) at position \(pos), which was not sent there",
                                     source: source, line: line, column: tokens[3].column)
                }
                guard let host = hostAt[pos] else {
                    throw ProbeError(.malformedInput, "reply at position \(pos) before any h line names who answers there",
                                     source: source, line: line, column: kind.column)
                }
                sent[i].address = host
                sent[i].rttMicros = UInt32(rtt)
            default:
                throw ProbeError(.malformedInput, "unknown line kind \"\(kind.text)\" (expected x, h, d or p)",
                                 source: source, line: line, column: kind.column)
            }
        }
        let last = sent.filter { $0.address == destination }.map(\.position).min()
        var probes = [ProbeReply]()
        var beyond = 0
        for s in sent.sorted(by: { ($0.position, $0.sequence) < ($1.position, $1.sequence) }) {
            if let last, s.position > last {
                beyond += 1
                continue
            }
            let ttl = UInt8(s.position + 1)
            guard let a = s.address, let rtt = s.rttMicros else {
                probes.append(.lost(ttl: ttl))
                continue
            }
            let kind = a == destination ? ReplyKind.destination(method, v6: !a.isIPv4) : ReplyKind.intermediate(v6: !a.isIPv4)
            probes.append(ProbeReply(ttl: ttl, address: a, rttMicros: rtt, icmpType: kind.0, icmpCode: kind.1))
        }
        return TracerOutput(destination: destination, probes: probes, names: names, probesBeyondDestination: beyond)
    }
}
