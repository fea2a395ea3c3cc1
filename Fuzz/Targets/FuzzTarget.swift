import Alerting
import Foundation
package import PathTSDB
import Probe
import Query

/// Every reader of bytes from outside, as a fuzz target: a name and a function that takes any
/// bytes and must return (a value or a typed error), never trap, overflow the stack or hang.
/// `smoketrace-fuzz` runs one under libFuzzer; `FuzzTests` replays the committed corpora.
package enum FuzzTarget: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A reader of a tool's output, a packet or a file an operator writes.
    case reader(Reader)
    /// A decoder of the store's own files, after one byte that picks the segment version to read
    /// them as (1 to 6).
    case stored(StoredBytesDecoder.Kind)

    package enum Reader: String, CaseIterable, Sendable {
        /// RIPE Atlas results (JSON lines or one array) through the streaming reader and its scanner.
        case atlas
        /// scamper's JSON output.
        case scamperJSON = "scamper-json"
        /// scamper's binary warts files.
        case warts
        /// traceroute and tcptraceroute text; the first byte picks the method.
        case tracerouteText = "traceroute-text"
        /// mtr `--raw`.
        case mtrRaw = "mtr-raw"
        /// mtr `--json`.
        case mtrJSON = "mtr-json"
        /// mtr `--report`.
        case mtrReport = "mtr-report"
        /// An ICMP, ICMPv6 or TCP datagram on the native prober's raw sockets; the first byte
        /// picks which.
        case icmpReply = "icmp-reply"
        /// A DNS answer to a reverse (PTR) lookup; the first two bytes are the query's id.
        case dnsAnswer = "dns-answer"
        /// A query in the language, parsed, planned and run against a small store.
        case query
        /// A targets file (YAML).
        case targetsFile = "targets-file"
        /// An alert rules file (YAML).
        case rulesFile = "rules-file"
    }

    package static var allCases: [FuzzTarget] {
        Reader.allCases.map(FuzzTarget.reader) + StoredBytesDecoder.Kind.allCases.map(FuzzTarget.stored)
    }

    /// The target called `name` (`atlas`, `segment-file`…).
    package init?(name: String) {
        if let r = Reader(rawValue: name) {
            self = .reader(r)
        } else if let k = StoredBytesDecoder.Kind(rawValue: name) {
            self = .stored(k)
        } else {
            return nil
        }
    }

    package var description: String {
        switch self {
        case .reader(let r): r.rawValue
        case .stored(let k): k.rawValue
        }
    }

    /// What one input came to.
    package enum Outcome: Equatable, Sendable {
        /// Read: how many items (runs, hops, rows, records) it held.
        case accepted(items: Int)
        /// Refused with an error, as bad input should be.
        case refused(String)
    }

    /// Runs one input. Every error a reader may throw is caught and returned: what counts is that
    /// it returns at all.
    package func run(_ bytes: [UInt8], scratch: FuzzScratch) -> Outcome {
        do {
            return .accepted(items: try items(bytes, scratch: scratch))
        } catch {
            return .refused(String(describing: error))
        }
    }

    private func items(_ bytes: [UInt8], scratch: FuzzScratch) throws -> Int {
        switch self {
        case .reader(let reader):
            return try FuzzTarget.read(reader, bytes, scratch: scratch)
        case .stored(let kind):
            // The first byte is the segment version the decoders read as (6 for any other).
            let version = (1...6).contains(bytes.first ?? 0) ? UInt16(bytes.first ?? 0) : 6
            return try StoredBytesDecoder.decode(kind, version: version, Array(bytes.dropFirst()), scratchDirectory: scratch.directory)
        }
    }

    private static func read(_ reader: Reader, _ bytes: [UInt8], scratch: FuzzScratch) throws -> Int {
        let text = String(decoding: bytes, as: UTF8.self)
        let destination = IPAddress(v4: 0x0A00_0001)
        switch reader {
        case .atlas:
            var runs = 0
            // A small chunk, so that objects straddle reads as in a large file.
            let summary = try AtlasStreamReader(chunkSize: 512).read(bytes: bytes, name: "fuzz.json", batchSize: 16) { runs += $0.count }
            return runs + summary.failures.count
        case .scamperJSON:
            return try ScamperJSONParser(source: "fuzz").parse(text).count
        case .warts:
            return try ScamperWartsParser(source: "fuzz").parse(bytes).traces.count
        case .tracerouteText:
            let method: TraceMethod = [.udp, .icmp, .tcp][Int(bytes.first ?? 0) % 3]
            return try TracerouteTextParser(method: method, destination: destination, source: "fuzz").parse(String(decoding: bytes.dropFirst(), as: UTF8.self)).probes.count
        case .mtrRaw:
            return try MtrRawParser(destination: destination, source: "fuzz").parse(text).probes.count
        case .mtrJSON:
            return try MtrJSONParser(source: "fuzz").parse(text).output(destination: destination, method: .icmp).probes.count
        case .mtrReport:
            return try MtrReportParser(source: "fuzz").parse(text).output(destination: destination, method: .icmp).probes.count
        case .icmpReply:
            let packet = Array(bytes.dropFirst())
            switch (bytes.first ?? 0) % 3 {
            case 0: return try ProbeReplyDecoder.decodeV4(packet) == nil ? 0 : 1
            case 1: return try ProbeReplyDecoder.decodeV6(packet, from: IPAddress(v4: 0x0A00_0002), hopLimit: 60) == nil ? 0 : 1
            default: return try ProbeReplyDecoder.decodeTCPv4(packet) == nil ? 0 : 1
            }
        case .dnsAnswer:
            guard bytes.count >= 2 else { return 0 }
            let id = UInt16(bytes[bytes.startIndex]) << 8 | UInt16(bytes[bytes.startIndex + 1])
            if case .name = try PTRMessage.answer(Array(bytes.dropFirst(2)), id: id) { return 1 }
            return 0
        case .query:
            var context = QueryContext(nowMicros: FuzzScratch.nowMicros)
            context.maxRows = 1000
            // The server's answer to a query that runs away: a deadline, not a hang.
            context.deadline = .now + .seconds(2)
            return try QueryEngine.table(text, snapshot: scratch.snapshot, context: context).rows.count
        case .targetsFile:
            return try TargetConfiguration.parse(text, source: "fuzz").count
        case .rulesFile:
            let file = try RulesFile.parse(text, source: "fuzz")
            return file.rules.count + file.receivers.count + file.routes.count
        }
    }
}
