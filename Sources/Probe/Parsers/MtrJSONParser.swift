import PathTSDB

/// Reads mtr's JSON report (`mtr --json`): `report.mtr.dst` and, per hop in `report.hubs`,
/// `count` (the hop number; a string in mtr before 0.93), `host` (an address, `name (address)`
/// with `-b`, a name alone without `-n`, or `???`), `Loss%`, `Snt` and the RTT figures `Last`,
/// `Avg`, `Best`, `Wrst`, `StDev` in milliseconds. It keeps one host per hop, where the text
/// report lists every host that answered, and no start time.
public struct MtrJSONParser: Sendable {
    /// The name errors give the input (a file name, or `mtr`).
    public let source: String

    /// A parser whose errors name the input `source`.
    public init(source: String = "mtr") {
        self.source = source
    }

    /// The report in `text`, or an error naming the byte and what was wrong there.
    public func parse(_ text: String) throws(ProbeError) -> MtrReport {
        let bytes = Array(text.utf8)
        var result: Result<MtrReport, JSONScanner.Failure> = .success(MtrReport(hops: []))
        bytes.withUnsafeBufferPointer { b in
            var s = JSONScanner(b)
            do throws(JSONScanner.Failure) {
                var report = MtrReport(hops: [])
                var sawReport = false
                try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                    guard key.equals("report") else { try s.skipValue(); return }
                    sawReport = true
                    try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                        if key.equals("mtr") {
                            try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                                if key.equals("dst") {
                                    report.destination = IPAddress(try s.string())
                                } else {
                                    try s.skipValue()
                                }
                            }
                        } else if key.equals("hubs") {
                            try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                                let hop = try hub(&s, names: &report.names)
                                if let last = report.hops.last, hop.ttl <= last.ttl {
                                    throw JSONScanner.Failure(offset: s.position, message: "hop \(hop.ttl) after hop \(last.ttl)")
                                }
                                report.hops.append(hop)
                            }
                        } else {
                            try s.skipValue()
                        }
                    }
                }
                guard sawReport else { throw JSONScanner.Failure(offset: 0, message: "no \"report\" object: not mtr's JSON (mtr --json)") }
                guard !report.hops.isEmpty else { throw JSONScanner.Failure(offset: 0, message: "the report has no hops (\"hubs\")") }
                result = .success(report)
            } catch {
                result = .failure(error)
            }
        }
        switch result {
        case .success(let report): return report
        case .failure(let f):
            let prefix = bytes[..<min(f.offset, bytes.count)]
            let line = prefix.filter { $0 == 0x0A }.count + 1
            let column = f.offset - (prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            throw ProbeError(.malformedInput, f.message, source: source, line: line, column: column, offset: Int64(f.offset))
        }
    }

    private func hub(_ s: inout JSONScanner, names: inout [IPAddress: String]) throws(JSONScanner.Failure) -> MtrReportHop {
        var hop = MtrReportHop(ttl: 0, hosts: [], sent: 0, received: 0)
        var lossPercent: Double = 0
        var ttl: Int64 = 0
        let at = s.position
        func micros(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> UInt32 {
            let start = s.position
            let v = try s.scaled(3)
            guard v >= 0, v < Int64(ProbeReply.untimed) else { throw JSONScanner.Failure(offset: start, message: "time out of range") }
            return UInt32(v)
        }
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("count") {
                let start = s.position
                // mtr before 0.93 wrote the hop number as a string.
                if try s.peek() == 0x22 {
                    guard let v = Int64(try s.string()) else { throw JSONScanner.Failure(offset: start, message: "\"count\" is not a hop number") }
                    ttl = v
                } else {
                    ttl = try s.integer()
                }
            } else if key.equals("host") {
                let hostAt = s.position
                let text = try s.string()
                guard text != "???" else { return }
                if let a = TracerouteTextParser.address(text) {
                    hop.hosts = [a]
                } else if text.hasSuffix(")"), let open = text.lastIndex(of: "("),
                          let a = TracerouteTextParser.address(String(text[text.index(after: open)..<text.index(before: text.endIndex)])) {
                    hop.hosts = [a]
                    names[a] = String(text[..<open]).trimmingCharacters(in: " ")
                } else {
                    throw JSONScanner.Failure(offset: hostAt, message: "host \"\(text)\" is not an address: run mtr with -n (addresses) or -b (names and addresses)")
                }
            } else if key.equals("Loss%") {
                let start = s.position
                lossPercent = Double(try s.scaled(3)) / 1000
                guard lossPercent >= 0 && lossPercent <= 100 else { throw JSONScanner.Failure(offset: start, message: "Loss% is not 0 to 100") }
            } else if key.equals("Snt") {
                let start = s.position
                let v = try s.integer()
                guard v >= 0 && v <= 1_000_000 else { throw JSONScanner.Failure(offset: start, message: "Snt \(v) is not a probe count") }
                hop.sent = Int(v)
            } else if key.equals("Last") { hop.lastMicros = try micros(&s) }
            else if key.equals("Avg") { hop.averageMicros = try micros(&s) }
            else if key.equals("Best") { hop.bestMicros = try micros(&s) }
            else if key.equals("Wrst") { hop.worstMicros = try micros(&s) }
            else if key.equals("StDev") { hop.stdDevMicros = try micros(&s) }
            else { try s.skipValue() }
        }
        guard ttl >= 1 && ttl <= 255 else { throw JSONScanner.Failure(offset: at, message: "hub without a hop number 1 to 255 (\"count\")") }
        hop.ttl = UInt8(ttl)
        hop.received = hop.sent - MtrReport.lost(sent: hop.sent, lossPercent: lossPercent)
        if hop.hosts.isEmpty && hop.received > 0 {
            throw JSONScanner.Failure(offset: at, message: "hop \(ttl) has no host (???) but \(hop.received) answered probes")
        }
        return hop
    }
}
