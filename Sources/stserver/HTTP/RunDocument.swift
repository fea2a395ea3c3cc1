import HTTPTypes
import PathTSDB
import Query

/// A traceroute run as the API takes it (`POST /api/v1/runs`), for results traced elsewhere.
///
/// ```json
/// {"target": "core/gw", "vantage": "lon1", "method": "udp-paris", "flow": 33434,
///  "start": "2026-11-21T18:00:00Z", "end": "2026-11-21T18:00:02Z", "destination": "192.0.2.1",
///  "reached": true,
///  "probes": [{"ttl": 1, "address": "10.0.0.1", "rtt_us": 480, "reply_ttl": 63, "icmp_type": 11},
///             {"ttl": 2}]}
/// ```
/// A probe without an address was lost. `"interrupted": true` marks a trace stopped before it
/// finished: it is kept, but says nothing about the path past its last probe.
struct RunDocument: Codable, Sendable {
    struct Probe: Codable, Sendable {
        var ttl: Int
        var address: String?
        var rttMicros: Int64?
        var replyTTL: Int?
        var icmpType: Int?
        var icmpCode: Int?
        var mpls: [Int64]?

        enum CodingKeys: String, CodingKey {
            case ttl, address, mpls
            case rttMicros = "rtt_us", replyTTL = "reply_ttl", icmpType = "icmp_type", icmpCode = "icmp_code"
        }
    }

    var target: String
    var vantage: String?
    var method: String?
    var flow: Int?
    var start: String
    var end: String?
    var destination: String
    var reached: Bool?
    var interrupted: Bool?
    var probes: [Probe]

    /// The run, checked; errors name the run's index and the field.
    func traceRun(index: Int) throws(APIError) -> TraceRun {
        func fail(_ m: String) -> APIError { APIError(.badRequest, "run [\(index)]: \(m)") }
        guard let startMicros = RFC3339.parse(start) else { throw fail("start \"\(start)\" is not an RFC 3339 time") }
        let endMicros = try end.map { e throws(APIError) -> Int64 in
            guard let t = RFC3339.parse(e) else { throw fail("end \"\(e)\" is not an RFC 3339 time") }
            return t
        } ?? startMicros
        guard let dest = IPAddress(destination) else { throw fail("destination \"\(destination)\" is not an address") }
        let m = try method.map { name throws(APIError) -> TraceMethod in
            guard let m = TraceMethod(name: name) else { throw fail("unknown method \"\(name)\"") }
            return m
        } ?? .unknown
        func fits<T: FixedWidthInteger>(_ v: (some BinaryInteger)?, _ type: T.Type, _ what: String) throws(APIError) -> T? {
            guard let v else { return nil }
            guard let t = T(exactly: v) else { throw fail("\(what) \(v) is not \(T.min) to \(T.max)") }
            return t
        }
        let flowID = try fits(flow, UInt16.self, "flow") ?? 0
        var replies = [ProbeReply]()
        for (i, p) in probes.enumerated() {
            guard (1...255).contains(p.ttl) else { throw fail("probe [\(i)]: ttl \(p.ttl) is not 1 to 255") }
            let rtt = try fits(p.rttMicros, UInt32.self, "probe [\(i)]: rtt_us")
            let replyTTL = try fits(p.replyTTL, UInt8.self, "probe [\(i)]: reply_ttl")
            let icmpType = try fits(p.icmpType, UInt8.self, "probe [\(i)]: icmp_type")
            let icmpCode = try fits(p.icmpCode, UInt8.self, "probe [\(i)]: icmp_code")
            var labels = [MPLSLabel]()
            for l in p.mpls ?? [] {
                guard let raw = UInt32(exactly: l) else { throw fail("probe [\(i)]: mpls entry \(l) is not a 32-bit label stack entry") }
                labels.append(MPLSLabel(rawValue: raw))
            }
            var address: IPAddress?
            if let text = p.address {
                guard let a = IPAddress(text) else { throw fail("probe [\(i)]: \"\(text)\" is not an address") }
                address = a
            }
            if address != nil && rtt == nil { throw fail("probe [\(i)]: an answered probe needs rtt_us") }
            replies.append(ProbeReply(ttl: UInt8(p.ttl), address: address, rttMicros: rtt ?? 0, replyTTL: replyTTL ?? 0,
                                      icmpType: icmpType ?? 11, icmpCode: icmpCode ?? 0, mplsLabels: labels))
        }
        var run = TraceRun(target: target, vantage: vantage ?? "api", method: m, flowID: flowID, startMicros: startMicros,
                           endMicros: endMicros, destination: dest, reached: reached ?? replies.contains { $0.address == dest },
                           probes: replies)
        run.interrupted = interrupted ?? false
        do {
            try run.validate()
        } catch {
            throw fail(error.message)
        }
        return run
    }
}
