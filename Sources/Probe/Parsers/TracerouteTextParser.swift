public import PathTSDB

/// Reads what `traceroute` (Linux traceroute 2.1, any of its UDP, ICMP `-I` and TCP `-T`
/// modes, and `traceroute6`), the BSD and macOS traceroute, and `tcptraceroute` print, with or
/// without `-n`.
///
/// A hop line is its TTL followed by items: `*` (a probe that got no answer), an address (`ip`,
/// or `name (ip)`; an IPv6 link-local address may carry its zone, `fe80::1%eth0`, which is not
/// kept) that the following times belong to, `N.NNN ms` (one probe's answer), annotations after
/// a time (`!H`, `!N`, `!P`, `!X`, `!S`, `!F-mtu`, `!V`, `!C`, `!<code>` or `!code`: ICMP
/// unreachable codes), `[open]`/`[closed]` (tcptraceroute: the destination answered over TCP),
/// `[AS64500]` or `[*]` after an address (`-A`: its origin AS, kept in `asNumbers`), and MPLS
/// extensions (`<MPLS:L=…,E=…,S=…,T=…>`, several joined by `/`, from `-e`). Several addresses on
/// one line are several responders at one TTL; so are the indented lines without a TTL that
/// BSD's traceroute prints for them. Anything else is an error naming the line, the column and
/// what was expected there.
///
/// A trace stopped with ^C is `interrupted`: its last line is cut short (traceroute dies in the
/// middle of it, with no line end), or a terminal's `^C` is in the text, or it ends short of the
/// destination and of the header's hop limit with no unreachable annotation to stop it.
public struct TracerouteTextParser: Sendable {
    /// How the probes were sent (traceroute's output does not say).
    public let method: TraceMethod
    /// The name errors give the input.
    public let source: String
    /// The destination when the caller knows it; a header line naming it takes precedence
    /// (tcptraceroute prints its header on standard error, so its standard output has none).
    public let destination: IPAddress?

    /// A parser of traces sent by `method`, to `destination` when the output has no header naming
    /// it.
    public init(method: TraceMethod, destination: IPAddress? = nil, source: String = "traceroute") {
        self.method = method
        self.destination = destination
        self.source = source
    }

    /// The probes of `text`, or an error naming the line, the column and what was expected there.
    public func parse(_ text: String) throws(ProbeError) -> TracerOutput {
        var destination = self.destination
        var probes = [ProbeReply]()
        var names = [IPAddress: String]()
        var asNumbers = [IPAddress: UInt32]()
        var lastTTL = 0
        var maxHops: Int?
        var interrupted = false
        var lastLineIsHop = false
        for (index, textLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            var rawLine = textLine
            // A terminal echoes ^C where the user stopped the trace.
            if let caret = rawLine.indices.first(where: { rawLine[$0] == "^" && rawLine[rawLine.index(after: $0)...].first == "C" }) {
                interrupted = true
                rawLine = rawLine[..<caret]
            }
            let tokens = Token.split(rawLine)
            guard let first = tokens.first else { continue }
            lastLineIsHop = false
            if first.text == "traceroute" || first.text == "traceroute6" || first.text == "Tracing" {
                destination = try header(tokens, line: line) ?? destination
                maxHops = hopLimit(tokens)
                continue
            }
            lastLineIsHop = true
            if first.text == "Selected" { continue }  // tcptraceroute: "Selected device …"
            // BSD and macOS: another responder at the last TTL, on an indented line of its own.
            if lastTTL > 0, first.column > 1, Int(first.text) == nil, rawLine.first == " " || rawLine.first == "\t" {
                probes += try hop(tokens[...], ttl: UInt8(lastTTL), destination: destination, names: &names, asNumbers: &asNumbers, line: line)
                continue
            }
            guard let ttl = Int(first.text), ttl >= 1, ttl <= 255 else {
                throw error("expected a hop number or a header line, found \"\(first.text)\"", line, first.column)
            }
            guard ttl > lastTTL else { throw error("hop \(ttl) after hop \(lastTTL)", line, first.column) }
            lastTTL = ttl
            probes += try hop(tokens.dropFirst(), ttl: UInt8(ttl), destination: destination, names: &names, asNumbers: &asNumbers, line: line)
        }
        guard destination != nil || probes.isEmpty else {
            throw error("no header line names the destination (\"traceroute to HOST (ADDRESS), …\"): give it with --destination",
                        1, 1)
        }
        var out = TracerOutput(destination: destination, probes: probes, names: names)
        out.asNumbers = asNumbers
        // traceroute ends its lines as it finishes them: a last hop line without one, short of
        // the destination, was cut.
        if lastLineIsHop && !text.hasSuffix("\n") && !out.reached { interrupted = true }
        // It stops early only at the destination or at an unreachable annotation.
        let lastTTLProbes = probes.filter { Int($0.ttl) == lastTTL }
        let stoppedByAnnotation = lastTTLProbes.contains { p in
            guard let a = p.address, a != destination else { return false }
            return p.icmpType == (a.isIPv4 ? 3 : 1)  // unreachable (time exceeded is 11, or 3 in ICMPv6)
        }
        if let maxHops, lastTTL > 0, lastTTL < maxHops, !out.reached, !stoppedByAnnotation { interrupted = true }
        out.interrupted = interrupted
        return out
    }

    private func error(_ message: String, _ line: Int, _ column: Int) -> ProbeError {
        ProbeError(.malformedInput, message, source: source, line: line, column: column)
    }

    /// "traceroute to NAME (IP), 30 hops max, 60 byte packets" or
    /// "Tracing the path to IP on TCP port 80 (http), 30 hops max".
    private func header(_ tokens: [Token], line: Int) throws(ProbeError) -> IPAddress? {
        for t in tokens {
            let s = t.text.trimmingCharacters(in: "(),")
            if let a = IPAddress(s) { return a }
        }
        throw error("header line without the destination's address", line, tokens[0].column)
    }

    /// "30 hops max" of a header line.
    private func hopLimit(_ tokens: [Token]) -> Int? {
        for (i, t) in tokens.enumerated().dropFirst() where t.text == "hops" && i + 1 < tokens.count && tokens[i + 1].text.hasPrefix("max") {
            return Int(tokens[i - 1].text)
        }
        return nil
    }

    private func hop(_ tokens: ArraySlice<Token>, ttl: UInt8, destination: IPAddress?,
                     names: inout [IPAddress: String], asNumbers: inout [IPAddress: UInt32], line: Int) throws(ProbeError) -> [ProbeReply] {
        var out = [ProbeReply]()
        var address: IPAddress?
        var labels = [MPLSLabel]()
        var tcpAnswer = false
        var i = tokens.startIndex
        while i < tokens.endIndex {
            let t = tokens[i]
            if t.text == "*" {
                out.append(.lost(ttl: ttl))
            } else if let value = Double(t.text), i + 1 < tokens.endIndex, tokens[i + 1].text == "ms" {
                guard let from = address else { throw error("a time before any address", line, t.column) }
                // tcptraceroute stamps a reply with libpcap's (kernel) time but its probe with
                // the time it read after sending, so a busy machine shows replies before their
                // probes (10 ms early seen on 2 cores): the true RTT was below that delay. Such a
                // reply is kept, at 0 µs; more than a second early is a broken output.
                guard value > -1000, value < 4_294_967 else { throw error("time \(t.text) ms out of range", line, t.column) }
                let v6 = !from.isIPv4
                var kind = from == destination ? ReplyKind.destination(method, v6: v6) : ReplyKind.intermediate(v6: v6)
                if tcpAnswer { kind = ReplyKind.tcpAnswer }
                out.append(ProbeReply(ttl: ttl, address: from, rttMicros: UInt32((max(0, value) * 1000).rounded()),
                                      replyTTL: 0, icmpType: kind.0, icmpCode: kind.1, mplsLabels: labels))
                i += 1  // "ms"
            } else if t.text.hasPrefix("!") {
                guard let last = out.last, !last.isLoss else { throw error("annotation \(t.text) without a time before it", line, t.column) }
                // `!<10>` (Linux) and `!10` (BSD) are the same code.
                let tag = String(t.text.dropFirst()).trimmingCharacters(in: "<>")
                guard let code = unreachableCode(tag, v6: !(last.address?.isIPv4 ?? true)) else {
                    throw error("unknown annotation \(t.text) (expected !H, !N, !P, !S, !F, !X, !V, !C or !<code>)", line, t.column)
                }
                out[out.count - 1].icmpType = code.0
                out[out.count - 1].icmpCode = code.1
            } else if t.text.hasPrefix("[AS") || t.text == "[*]" {
                // `-A`: the address's origin AS, or `[*]` when the lookup found none.
                guard let a = address else { throw error("\(t.text) before any address", line, t.column) }
                if t.text != "[*]" {
                    guard t.text.hasSuffix("]"), let asn = UInt32(t.text.dropFirst(3).dropLast()) else {
                        throw error("malformed AS number \(t.text) (expected [AS64500] or [*])", line, t.column)
                    }
                    asNumbers[a] = asn
                }
            } else if t.text == "[open]" || t.text == "[closed]" {
                guard address != nil else { throw error("\(t.text) before any address", line, t.column) }
                tcpAnswer = true
            } else if t.text.hasPrefix("<") {
                labels = try mpls(t, line: line)
            } else if t.text.hasPrefix("(") {
                throw error("an address in parentheses without a name before it", line, t.column)
            } else if let a = TracerouteTextParser.address(t.text) {
                address = a
                labels = []
                tcpAnswer = false
                // "ip (ip)" when a lookup found no name: the same address twice.
                if i + 1 < tokens.endIndex, tokens[i + 1].text == "(\(t.text))" { i += 1 }
            } else if i + 1 < tokens.endIndex, tokens[i + 1].text.hasPrefix("("), tokens[i + 1].text.hasSuffix(")") {
                let inner = String(tokens[i + 1].text.dropFirst().dropLast())
                guard let a = TracerouteTextParser.address(inner) else { throw error("\"\(inner)\" is not an IP address", line, tokens[i + 1].column + 1) }
                address = a
                names[a] = t.text
                labels = []
                tcpAnswer = false
                i += 1
            } else {
                throw error("expected '*', an address, a time in ms or an annotation, found \"\(t.text)\"", line, t.column)
            }
            i += 1
        }
        return out
    }

    /// An address as traceroute prints it; an IPv6 link-local address's zone (`%eth0`) is
    /// dropped, as the store keeps addresses without one.
    static func address(_ text: String) -> IPAddress? {
        if let a = IPAddress(text) { return a }
        guard let percent = text.firstIndex(of: "%"), text.contains(":") else { return nil }
        return IPAddress(String(text[..<percent]))
    }

    /// ICMP unreachable type and code for traceroute's annotations (traceroute(8), RFC 792,
    /// RFC 4443 for IPv6).
    private func unreachableCode(_ tag: String, v6: Bool) -> (UInt8, UInt8)? {
        if v6 {
            switch tag {
            case "N": return (1, 0)
            case "X": return (1, 1)
            case "V": return (1, 2)
            case "H": return (1, 3)
            case "P": return (4, 1)
            default: return Int(tag).flatMap { $0 >= 0 && $0 <= 255 ? (1, UInt8($0)) : nil }
            }
        }
        switch tag {
        case "N": return (3, 0)
        case "H": return (3, 1)
        case "P": return (3, 2)
        case "S": return (3, 5)
        case "X": return (3, 13)
        case "V": return (3, 14)
        case "C": return (3, 15)
        default:
            if tag == "F" || tag.hasPrefix("F-") { return (3, 4) }
            return Int(tag).flatMap { $0 >= 0 && $0 <= 255 ? (3, UInt8($0)) : nil }
        }
    }

    /// `<MPLS:L=24001,E=0,S=1,T=1/L=…>`.
    private func mpls(_ t: Token, line: Int) throws(ProbeError) -> [MPLSLabel] {
        guard t.text.hasPrefix("<MPLS:"), t.text.hasSuffix(">") else {
            throw error("unknown extension \(t.text) (expected <MPLS:…>)", line, t.column)
        }
        var labels = [MPLSLabel]()
        for entry in t.text.dropFirst(6).dropLast().split(separator: "/") {
            var fields = [Character: UInt32]()
            for kv in entry.split(separator: ",") {
                let parts = kv.split(separator: "=")
                guard parts.count == 2, let key = parts[0].first, parts[0].count == 1, let v = UInt32(parts[1]) else {
                    throw error("malformed MPLS field \"\(kv)\"", line, t.column)
                }
                fields[key] = v
            }
            guard let l = fields["L"], l < 1 << 20 else { throw error("MPLS entry without a label", line, t.column) }
            labels.append(MPLSLabel(label: l, trafficClass: UInt8(clamping: fields["E"] ?? 0),
                                    bottomOfStack: (fields["S"] ?? 0) != 0, ttl: UInt8(clamping: fields["T"] ?? 0)))
        }
        return labels
    }
}

/// A whitespace-separated word of a line and its 1-based column.
struct Token: Equatable {
    let text: String
    let column: Int

    static func split(_ line: Substring) -> [Token] {
        var out = [Token]()
        var current = ""
        var start = 0
        for (i, c) in line.enumerated() {
            if c == " " || c == "\t" || c == "\r" {
                if !current.isEmpty { out.append(Token(text: current, column: start + 1)); current = "" }
            } else {
                if current.isEmpty { start = i }
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(Token(text: current, column: start + 1)) }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
