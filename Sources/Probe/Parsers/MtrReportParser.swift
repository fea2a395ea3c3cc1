import PathTSDB

/// Reads mtr's text report (`mtr --report` and `--report-wide`, mtr 0.9x):
///
/// ```
/// Start: 2026-12-04T18:56:52+0000
/// HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev
///   1.|-- 10.99.1.2                  0.0%    10    0.1   0.1   0.1   0.1   0.0
///   2.|-- 10.99.2.2                  0.0%    10    0.1   0.1   0.1   0.1   0.0
///         10.99.4.2
///   3.|-- ???                       100.0    10    0.0   0.0   0.0   0.0   0.0
/// ```
///
/// The `HOST:` line names the columns (`-o` chooses and orders them); `Snt` and one of `Loss%`,
/// `Rcv` or `Drop` are needed, the RTT figures are kept where present. A host is an address
/// (`-n`), or `name (address)` (`-b`), after an `AS…` column with `-z`; an indented line is
/// another host that answered at the hop above, and `[MPLS: Lbl … TC … S … TTL …]` lines (`-e`)
/// belong to the host above them. A host printed as a name alone cannot be stored (the address
/// it had then is not in the report): that is an error asking for `-n` or `-b`.
public struct MtrReportParser: Sendable {
    /// The name errors give the input.
    public let source: String

    /// A parser whose errors name the input `source`.
    public init(source: String = "mtr") {
        self.source = source
    }

    private enum Column: String {
        case loss = "Loss%", drop = "Drop", received = "Rcv", sent = "Snt", last = "Last", average = "Avg"
        case best = "Best", worst = "Wrst", stdDev = "StDev"
    }

    /// The report in `text`, or an error naming the line, the column and what was expected there.
    public func parse(_ text: String) throws(ProbeError) -> MtrReport {
        var report = MtrReport(hops: [])
        var columns: [Column?]?
        var lastHost: IPAddress?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let tokens = Token.split(rawLine)
            guard let first = tokens.first else { continue }
            func fail(_ message: String, _ column: Int) -> ProbeError {
                ProbeError(.malformedInput, message, source: source, line: line, column: column)
            }
            if first.text == "Start:" {
                let when = tokens.dropFirst().map(\.text).joined(separator: " ")
                report.startMicros = MtrReportParser.startTime(when)
                continue
            }
            if first.text == "HOST:" {
                // "HOST: name  Loss% Snt …": the columns follow the host name.
                columns = tokens.dropFirst(2).map { Column(rawValue: $0.text) }
                guard let c = columns, c.contains(.sent), c.contains(.loss) || c.contains(.received) || c.contains(.drop) else {
                    throw fail("the HOST line needs the Snt column and one of Loss%, Rcv or Drop (mtr -o)", first.column)
                }
                continue
            }
            guard let columns else { throw fail("expected mtr's \"HOST:\" line before the hops, found \"\(first.text)\"", first.column) }
            var rest = tokens[...]
            if first.text.hasPrefix("[MPLS:") {
                guard let host = lastHost, let hop = report.hops.indices.last else { throw fail("MPLS line before any host", first.column) }
                report.hops[hop].labels[host, default: []].append(try label(rawLine, line: line, column: first.column))
                continue
            }
            // "  1.|-- host …", "  1.|`- host", or "  1. AS??? host …" (-z).
            if let dot = first.text.firstIndex(of: "."), let ttl = Int(first.text[..<dot]),
               first.text[first.text.index(after: dot)...].isEmpty || first.text[first.text.index(after: dot)...].hasPrefix("|") {
                guard (1...255).contains(ttl) else { throw fail("hop number \(ttl) is not 1 to 255", first.column) }
                guard ttl > Int(report.hops.last?.ttl ?? 0) else { throw fail("hop \(ttl) after hop \(report.hops.last?.ttl ?? 0)", first.column) }
                rest = rest.dropFirst()
                let marker = first.text[first.text.index(after: dot)...]
                if marker.isEmpty, let m = rest.first, m.text.hasPrefix("|") { rest = rest.dropFirst() }
                var hop = MtrReportHop(ttl: UInt8(ttl), hosts: [], sent: 0, received: 0)
                var asNumber: UInt32?
                if let a = rest.first, a.text.hasPrefix("AS") {
                    asNumber = UInt32(a.text.dropFirst(2))
                    guard asNumber != nil || a.text == "AS???" else { throw fail("malformed AS number \(a.text) (expected AS64500 or AS???)", a.column) }
                    rest = rest.dropFirst()
                }
                guard rest.count >= columns.count + 1 else {
                    throw fail("hop \(ttl): expected a host and the HOST line's \(columns.count) columns, found \(rest.count) fields", first.column)
                }
                let values = rest.suffix(columns.count)
                let hostTokens = rest.dropLast(columns.count)
                if let host = try self.host(hostTokens, line: line, names: &report.names) {
                    hop.hosts = [host]
                    lastHost = host
                    if let asNumber { report.asNumbers[host] = asNumber }
                } else {
                    lastHost = nil
                }
                var lossPercent: Double?, drop: Int?, received: Int?
                for (column, token) in zip(columns, values) {
                    guard let column else { continue }
                    let text = token.text.hasSuffix("%") ? String(token.text.dropLast()) : token.text
                    guard let v = Double(text), v >= 0, v.isFinite else { throw fail("\(column.rawValue) \"\(token.text)\" is not a number", token.column) }
                    func micros() throws(ProbeError) -> UInt32 {
                        guard v < 4_294_967 else { throw fail("\(column.rawValue) \(token.text) ms out of range", token.column) }
                        return UInt32((v * 1000).rounded())
                    }
                    func count() throws(ProbeError) -> Int {
                        guard v == v.rounded(), v <= 1_000_000 else { throw fail("\(column.rawValue) \"\(token.text)\" is not a probe count", token.column) }
                        return Int(v)
                    }
                    switch column {
                    case .loss:
                        guard v <= 100 else { throw fail("Loss% \(token.text) is over 100", token.column) }
                        lossPercent = v
                    case .drop: drop = try count()
                    case .received: received = try count()
                    case .sent: hop.sent = try count()
                    case .last: hop.lastMicros = try micros()
                    case .average: hop.averageMicros = try micros()
                    case .best: hop.bestMicros = try micros()
                    case .worst: hop.worstMicros = try micros()
                    case .stdDev: hop.stdDevMicros = try micros()
                    }
                }
                hop.received = received ?? drop.map { hop.sent - $0 } ?? (hop.sent - MtrReport.lost(sent: hop.sent, lossPercent: lossPercent ?? 0))
                guard hop.received >= 0 && hop.received <= hop.sent else {
                    throw fail("hop \(ttl) received \(hop.received) of \(hop.sent) probes", first.column)
                }
                if hop.hosts.isEmpty && hop.received > 0 {
                    throw fail("hop \(ttl) shows no host (???) but \(hop.received) answered probes", first.column)
                }
                report.hops.append(hop)
                continue
            }
            // An indented line: another host that answered at the hop above.
            guard rawLine.first == " ", let hop = report.hops.indices.last else {
                throw fail("expected a hop line (\"N.|-- host …\") or another host of the hop above, found \"\(first.text)\"", first.column)
            }
            guard let host = try self.host(rest, line: line, names: &report.names) else {
                throw fail("\"???\" as another host of hop \(report.hops[hop].ttl)", first.column)
            }
            if !report.hops[hop].hosts.contains(host) { report.hops[hop].hosts.append(host) }
            lastHost = host
        }
        guard columns != nil else {
            throw ProbeError(.malformedInput, "no \"HOST:\" line: not an mtr report (mtr --report)", source: source, line: 1, column: 1)
        }
        guard !report.hops.isEmpty else {
            throw ProbeError(.malformedInput, "the report has no hops", source: source, line: 1, column: 1)
        }
        return report
    }

    /// `10.0.0.1`, `name (10.0.0.1)`, or `???`; nil for `???`.
    private func host(_ tokens: ArraySlice<Token>, line: Int, names: inout [IPAddress: String]) throws(ProbeError) -> IPAddress? {
        guard let first = tokens.first else {
            throw ProbeError(.malformedInput, "a hop without its host", source: source, line: line, column: 1)
        }
        if first.text == "???" && tokens.count == 1 { return nil }
        if tokens.count == 1, let a = TracerouteTextParser.address(first.text) { return a }
        if tokens.count == 2, let inner = Optional(tokens[tokens.startIndex + 1].text), inner.hasPrefix("("), inner.hasSuffix(")"),
           let a = TracerouteTextParser.address(String(inner.dropFirst().dropLast())) {
            names[a] = first.text
            return a
        }
        let text = tokens.map(\.text).joined(separator: " ")
        throw ProbeError(.malformedInput, "host \"\(text)\" is not an address: run mtr with -n (addresses) or -b (names and addresses)",
                         source: source, line: line, column: first.column)
    }

    /// `[MPLS: Lbl 100 TC 0 S 1 TTL 1]`.
    private func label(_ rawLine: Substring, line: Int, column: Int) throws(ProbeError) -> MPLSLabel {
        let words = rawLine.split(whereSeparator: { " []:".contains($0) })
        var fields = [String: UInt32]()
        var i = words.startIndex
        while i + 1 < words.endIndex {
            if let v = UInt32(words[i + 1]) { fields[String(words[i])] = v }
            i += 1
        }
        guard let l = fields["Lbl"], l < 1 << 20 else {
            throw ProbeError(.malformedInput, "MPLS line without a label (expected [MPLS: Lbl N TC N S N TTL N])", source: source,
                             line: line, column: column)
        }
        return MPLSLabel(label: l, trafficClass: UInt8(clamping: fields["TC"] ?? 0), bottomOfStack: (fields["S"] ?? 0) != 0,
                         ttl: UInt8(clamping: fields["TTL"] ?? 0))
    }

    /// mtr's `Start:` time, `2026-12-04T18:56:52+0000`; nil for the older `Thu Dec  4 18:56:52
    /// 2026`, which has no zone (the caller's `--time` then applies).
    static func startTime(_ text: String) -> Int64? {
        var t = text
        // "+0000" → "+00:00", as RFC 3339 writes an offset.
        if t.count >= 5, let sign = t.dropLast(4).last, sign == "+" || sign == "-", t.suffix(4).allSatisfy(\.isNumber) {
            t.insert(":", at: t.index(t.endIndex, offsetBy: -2))
        }
        return RFC3339.parse(t)
    }
}
