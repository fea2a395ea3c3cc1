import PathTSDB

/// Turns one RIPE Atlas traceroute result (an object of the Atlas API's JSON, any firmware) into
/// a `TraceRun`.
///
/// What is kept: every reply (address, RTT to the microsecond, reply TTL, ICMP errors from the
/// `err` field, MPLS labels from `icmpext`) and every timeout (`"x": "*"`) as a lost probe. What
/// is not a probe and is counted instead, so that nothing is dropped unseen: late replies
/// (`late`), duplicates (`dup`), hops that report an `error` instead of results, and the
/// `"hop": 255` trailer some firmware appends after a trace that ended in silence (a TTL nobody
/// probed). A result that reports an `error` instead of hops (a name that did not resolve, a
/// socket that could not send) is a failed trace, returned as such. The Paris id is the run's
/// flow id: Atlas rotates it between runs, and path-change detection compares runs flow by flow.
struct AtlasResultParser {
    /// One result: a run, or a trace that failed and why.
    enum Outcome {
        case run(TraceRun)
        case failed(MissedSlot)
    }

    /// What was read but is not a probe.
    struct Tally: Sendable, Equatable {
        var lateReplies = 0
        var duplicateReplies = 0
        var hopErrors = 0
        var trailers = 0
    }

    var tally = Tally()

    mutating func parse(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> Outcome {
        var dstName: String?
        var dstAddr: IPAddress?
        var prbID: Int64?
        var timestamp: Int64?
        var endtime: Int64?
        var proto = TraceMethod.unknown
        var parisID: Int64 = 0
        var probes = [ProbeReply]()
        var sawResult = false
        var type: String?
        var failure: String?
        var hopFailure: String?
        let objectStart = s.position

        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("result") {
                sawResult = true
                hopFailure = try parseHops(&s, into: &probes)
            } else if key.equals("dst_addr") {
                if try s.null() { return }
                let at = s.position
                let raw = try s.rawString()
                guard let a = IPAddress(utf8: raw) else { throw JSONScanner.Failure(offset: at, message: "dst_addr is not an IP address") }
                dstAddr = a
            } else if key.equals("dst_name") {
                if try s.null() { return }
                dstName = try s.string()
            } else if key.equals("timestamp") {
                timestamp = try s.unixSecondsAsMicros("timestamp")
            } else if key.equals("endtime") {
                endtime = try s.unixSecondsAsMicros("endtime")
            } else if key.equals("prb_id") {
                prbID = try s.integer()
            } else if key.equals("paris_id") {
                parisID = try s.integer()
            } else if key.equals("proto") {
                let at = s.position
                let p = try s.rawString()
                if p.equals("UDP") { proto = .udp } else if p.equals("ICMP") { proto = .icmp } else if p.equals("TCP") { proto = .tcp } else {
                    throw JSONScanner.Failure(offset: at, message: "unknown proto (expected UDP, ICMP or TCP)")
                }
            } else if key.equals("type") {
                type = try s.string()
            } else if key.equals("error") {
                failure = try errorText(&s)
            } else {
                try s.skipValue()
            }
        }
        if let type, type != "traceroute" {
            throw JSONScanner.Failure(offset: objectStart, message: "result of type \"\(type)\", not a traceroute")
        }
        if let message = failure ?? (probes.isEmpty ? hopFailure : nil) {
            // The trace did not happen: a failed run, with Atlas's reason.
            guard let timestamp else { throw JSONScanner.Failure(offset: objectStart, message: "failed traceroute result without \"timestamp\"") }
            let target = dstName.flatMap { $0.isEmpty ? nil : $0 } ?? dstAddr?.description ?? "unknown"
            return .failed(MissedSlot(target: target, vantage: prbID.map { "atlas:\($0)" } ?? "atlas", slotMicros: timestamp,
                                      reason: .failed, detail: message))
        }
        guard sawResult else { throw JSONScanner.Failure(offset: objectStart, message: "traceroute result without \"result\"") }
        guard let dstAddr else { throw JSONScanner.Failure(offset: objectStart, message: "traceroute result without \"dst_addr\"") }
        guard let timestamp else { throw JSONScanner.Failure(offset: objectStart, message: "traceroute result without \"timestamp\"") }
        guard parisID >= 0 && parisID <= 65535 else { throw JSONScanner.Failure(offset: objectStart, message: "paris_id \(parisID) out of range") }
        if parisID > 0 {
            switch proto {
            case .udp: proto = .udpParis
            case .icmp: proto = .icmpParis
            case .tcp: proto = .tcpParis
            default: break
            }
        }
        // A destination that answers: its address appears among the replies.
        var reached = false
        for p in probes where p.address == dstAddr {
            reached = true
            break
        }
        if reached { markDestinationReplies(&probes, destination: dstAddr, proto: proto) }
        let start = timestamp
        return .run(TraceRun(
            target: dstName.flatMap { $0.isEmpty ? nil : $0 } ?? dstAddr.description,
            vantage: prbID.map { "atlas:\($0)" } ?? "atlas",
            method: proto, flowID: UInt16(parisID), startMicros: start,
            endMicros: max(start, endtime ?? timestamp),
            destination: dstAddr, reached: reached, probes: probes))
    }

    /// Replies from the destination are not time-exceeded: echo replies for ICMP, port
    /// unreachable for UDP (unless `err` said otherwise).
    private func markDestinationReplies(_ probes: inout [ProbeReply], destination: IPAddress, proto: TraceMethod) {
        for i in probes.indices where probes[i].address == destination && probes[i].icmpType == 11 {
            switch proto {
            case .icmp, .icmpParis: probes[i].icmpType = 0; probes[i].icmpCode = 0
            case .udp, .udpParis: probes[i].icmpType = 3; probes[i].icmpCode = 3
            default: probes[i].icmpType = 255; probes[i].icmpCode = 0  // a TCP answer, not ICMP
            }
        }
    }

    /// The hops of `result`; returns the error a hop without a number reported instead (the
    /// whole trace failed), if any.
    private mutating func parseHops(_ s: inout JSONScanner, into probes: inout [ProbeReply]) throws(JSONScanner.Failure) -> String? {
        var lastHop: Int64 = 0
        var failure: String?
        try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in
            var hop: Int64?
            var replies = [ProbeReply]()
            var hadError = false
            var errorText: String?
            let at = s.position
            try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                if key.equals("hop") {
                    hop = try s.integer()
                } else if key.equals("result") {
                    try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                        if let r = try parseReply(&s) { replies.append(r) }
                    }
                } else if key.equals("error") {
                    hadError = true
                    errorText = try self.errorText(&s)
                } else {
                    try s.skipValue()
                }
            }
            if hop == nil, let errorText {
                failure = errorText
                tally.hopErrors += 1
                return
            }
            guard let hop else { throw JSONScanner.Failure(offset: at, message: "hop without \"hop\" number") }
            // Hop 255 after a trace that stopped lower is no TTL that was probed.
            if hop == 255 && lastHop < 254 && replies.allSatisfy(\.isLoss) {
                tally.trailers += 1
                return
            }
            guard hop >= 1 && hop <= 255 else { throw JSONScanner.Failure(offset: at, message: "hop number \(hop) out of range 1…255") }
            guard hop > lastHop else { throw JSONScanner.Failure(offset: at, message: "hop \(hop) after hop \(lastHop): hops out of order") }
            lastHop = hop
            if hadError { tally.hopErrors += 1 }
            for var r in replies {
                r.ttl = UInt8(hop)
                probes.append(r)
            }
        }
        return failure
    }

    /// One element of a hop's `result`: a reply, a timeout, or (nil) a late or duplicate packet.
    private mutating func parseReply(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> ProbeReply? {
        var from: IPAddress?
        var rttMicros: Int64?
        var ttl: Int64 = 0
        var timeout = false
        var late = false
        var dup = false
        var errType: UInt8?
        var errCode: UInt8 = 0
        var labels = [MPLSLabel]()
        let at = s.position
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            if key.equals("from") {
                let a = s.position
                let raw = try s.rawString()
                guard let ip = IPAddress(utf8: raw) else { throw JSONScanner.Failure(offset: a, message: "\"from\" is not an IP address") }
                from = ip
            } else if key.equals("rtt") {
                rttMicros = try s.scaled(3)
            } else if key.equals("ttl") {
                ttl = try s.integer()
            } else if key.equals("x") {
                timeout = true
                try s.skipValue()
            } else if key.equals("late") {
                late = true
                try s.skipValue()
            } else if key.equals("dup") {
                dup = try s.bool()
            } else if key.equals("err") {
                (errType, errCode) = try parseErr(&s)
            } else if key.equals("icmpext") {
                labels = try parseICMPExtensions(&s)
            } else {
                try s.skipValue()
            }
        }
        if late { tally.lateReplies += 1; return nil }
        if dup { tally.duplicateReplies += 1; return nil }
        if timeout { return .lost(ttl: 0) }
        guard let from else { throw JSONScanner.Failure(offset: at, message: "reply without \"from\" or \"x\"") }
        guard let rtt = rttMicros else { throw JSONScanner.Failure(offset: at, message: "reply from \(from) without \"rtt\"") }
        guard rtt >= 0 && rtt < Int64(ProbeReply.untimed) else { throw JSONScanner.Failure(offset: at, message: "rtt out of range") }
        return ProbeReply(ttl: 0, address: from, rttMicros: UInt32(rtt), replyTTL: UInt8(clamping: ttl),
                          icmpType: errType ?? 11, icmpCode: errType == nil ? 0 : errCode, mplsLabels: labels)
    }

    /// An `error` member's words: its string, or `error` when Atlas gave something else.
    private func errorText(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> String {
        guard try s.peek() == 0x22 else {
            try s.skipValue()
            return "error"
        }
        return try s.string()
    }

    /// Atlas's `err`: a letter as traceroute prints it (!N, !H, !A, !P, !p, !h…) or an ICMP
    /// unreachable code. Every unreachable is type 3.
    private func parseErr(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> (UInt8?, UInt8) {
        if try s.peek() == 0x22 {
            let at = s.position
            let v = try s.string()
            switch v {
            case "N": return (3, 0)
            case "H": return (3, 1)
            case "P": return (3, 2)
            case "p": return (3, 3)
            case "A": return (3, 13)
            case "h": return (3, 14)  // host precedence violation
            default: throw JSONScanner.Failure(offset: at, message: "unknown err value \"\(v)\"")
            }
        }
        let at = s.position
        let code = try s.integer()
        guard code >= 0 && code <= 255 else { throw JSONScanner.Failure(offset: at, message: "err code \(code) out of range") }
        return (3, UInt8(code))
    }

    /// RFC 4884 extensions as Atlas renders them: `{"obj": [{"class": 1, "type": 1, "mpls": [...]}]}`
    /// (class 1 is the MPLS label stack, RFC 4950).
    private func parseICMPExtensions(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> [MPLSLabel] {
        var labels = [MPLSLabel]()
        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
            guard key.equals("obj") else { try s.skipValue(); return }
            try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                    guard key.equals("mpls") else { try s.skipValue(); return }
                    try s.array { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                        var label: Int64 = 0, exp: Int64 = 0, bos: Int64 = 0, ttl: Int64 = 0
                        try s.object { (s: inout JSONScanner, key) throws(JSONScanner.Failure) in
                            if key.equals("label") { label = try s.integer() }
                            else if key.equals("exp") { exp = try s.integer() }
                            else if key.equals("s") { bos = try s.integer() }
                            else if key.equals("ttl") { ttl = try s.integer() }
                            else { try s.skipValue() }
                        }
                        labels.append(MPLSLabel(label: UInt32(truncatingIfNeeded: label), trafficClass: UInt8(truncatingIfNeeded: exp),
                                                bottomOfStack: bos != 0, ttl: UInt8(truncatingIfNeeded: ttl)))
                    }
                }
            }
        }
        return labels
    }
}
