import PathTSDB

/// One hop of mtr's JSON report: aggregates only, one host per hop.
public struct MtrHopSummary: Sendable, Equatable {
    public var ttl: Int
    /// nil where mtr printed `???` (nothing answered).
    public var host: IPAddress?
    public var lossPercent: Double
    public var sent: Int
    public var lastMicros: UInt32, averageMicros: UInt32, bestMicros: UInt32, worstMicros: UInt32, stdDevMicros: UInt32
}

/// Reads mtr's JSON report (`mtr --json`). It holds per-hop aggregates, not probes, so it is for
/// showing and checking; the store keeps what `MtrRawParser` reads from `mtr --raw`.
public struct MtrReportParser: Sendable {
    public let source: String

    public init(source: String = "mtr") {
        self.source = source
    }

    public func parse(_ text: String) throws(ProbeError) -> [MtrHopSummary] {
        let bytes = Array(text.utf8)
        var result: Result<[MtrHopSummary], JSONScanner.Failure> = .success([])
        bytes.withUnsafeBufferPointer { b in
            var s = JSONScanner(b)
            do throws(JSONScanner.Failure) {
                var hops = [MtrHopSummary]()
                try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                    guard key.equals("report") else { try s.skipValue(); return }
                    try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                        guard key.equals("hubs") else { try s.skipValue(); return }
                        try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in hops.append(try hub(&s)) }
                    }
                }
                result = .success(hops)
            } catch {
                result = .failure(error)
            }
        }
        switch result {
        case .success(let hops): return hops
        case .failure(let f):
            let prefix = bytes[..<min(f.offset, bytes.count)]
            let line = prefix.filter { $0 == 0x0A }.count + 1
            let column = f.offset - (prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            throw ProbeError(.malformedInput, f.message, source: source, line: line, column: column, offset: Int64(f.offset))
        }
    }

    private func hub(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> MtrHopSummary {
        var h = MtrHopSummary(ttl: 0, host: nil, lossPercent: 0, sent: 0, lastMicros: 0, averageMicros: 0, bestMicros: 0,
                              worstMicros: 0, stdDevMicros: 0)
        let at = s.position
        func micros(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> UInt32 { UInt32(clamping: max(0, try s.scaled(3))) }
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("count") { h.ttl = Int(try s.integer()) }
            else if key.equals("host") {
                let hostAt = s.position
                let name = try s.string()
                if name != "???" {
                    guard let a = IPAddress(name) else {
                        throw JSONScanner.Failure(offset: hostAt, message: "host \"\(name)\" is not an address (run mtr with -n)")
                    }
                    h.host = a
                }
            }
            else if key.equals("Loss%") { h.lossPercent = Double(try s.scaled(3)) / 1000 }
            else if key.equals("Snt") { h.sent = Int(try s.integer()) }
            else if key.equals("Last") { h.lastMicros = try micros(&s) }
            else if key.equals("Avg") { h.averageMicros = try micros(&s) }
            else if key.equals("Best") { h.bestMicros = try micros(&s) }
            else if key.equals("Wrst") { h.worstMicros = try micros(&s) }
            else if key.equals("StDev") { h.stdDevMicros = try micros(&s) }
            else { try s.skipValue() }
        }
        guard h.ttl >= 1 && h.ttl <= 255 else { throw JSONScanner.Failure(offset: at, message: "hub without a hop number (\"count\")") }
        return h
    }
}
