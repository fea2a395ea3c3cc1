package import PathTSDB

/// The two DNS messages of a reverse lookup (RFC 1035 §4; names under `in-addr.arpa` and
/// `ip6.arpa`, RFC 1035 §3.5 and RFC 3596 §2.5): the PTR question for an address, and the answer
/// read back: the name and its TTL, or that there is none.
package enum PTRMessage {
    /// What an answer says.
    package enum Answer: Sendable, Equatable {
        /// The address's name, and how long it may be kept (seconds).
        case name(String, ttl: UInt32)
        /// No name (NXDOMAIN, or an answer without a PTR record).
        case none
    }

    /// The owner name of `address`'s PTR record: `4.3.2.1.in-addr.arpa`, or the 32 nibbles of an
    /// IPv6 address reversed under `ip6.arpa`.
    package static func reverseName(of address: IPAddress) -> String {
        if let v4 = address.v4Value {
            return "\(v4 & 0xFF).\((v4 >> 8) & 0xFF).\((v4 >> 16) & 0xFF).\(v4 >> 24).in-addr.arpa"
        }
        let hex = Array("0123456789abcdef")
        var labels = [String]()
        for b in address.bytes.reversed() {
            labels.append(String(hex[Int(b & 0x0F)]))
            labels.append(String(hex[Int(b >> 4)]))
        }
        return labels.joined(separator: ".") + ".ip6.arpa"
    }

    /// The query: header with `id` and recursion desired, one question, PTR, class IN.
    package static func query(id: UInt16, address: IPAddress) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in reverseName(of: address).split(separator: ".") {
            out.append(UInt8(label.utf8.count))
            out += label.utf8
        }
        out += [0, 0, 12, 0, 1]
        return out
    }

    /// Reads the answer to the query `id`.
    /// - Throws: `ProbeError` (`.malformedInput`) naming the offset and what is wrong: a message cut
    ///   short, another id, a name that loops or runs past the message, a server failure.
    package static func answer(_ bytes: [UInt8], id: UInt16) throws(ProbeError) -> Answer {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 12 else { throw r.error("a DNS message is at least 12 bytes, this one \(bytes.count)") }
        let gotID = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard gotID == id else { throw r.error("the answer's id \(gotID) is not the query's \(id)") }
        guard bytes[2] & 0x80 != 0 else { throw r.error("not an answer (QR is 0)") }
        guard bytes[2] & 0x02 == 0 else { throw r.error("the answer is truncated (TC)") }
        let rcode = bytes[3] & 0x0F
        if rcode == 3 { return .none }
        guard rcode == 0 else { throw r.error("the server answered with rcode \(rcode)") }
        let questions = Int(bytes[4]) << 8 | Int(bytes[5]), answers = Int(bytes[6]) << 8 | Int(bytes[7])
        r.offset = 12
        for _ in 0..<questions {
            _ = try r.name()
            try r.skip(4)
        }
        for _ in 0..<answers {
            _ = try r.name()
            let type = try r.u16(), _ = try r.u16()
            let ttl = UInt32(try r.u16()) << 16 | UInt32(try r.u16())
            let length = Int(try r.u16())
            guard r.offset + length <= bytes.count else { throw r.error("a record of \(length) bytes runs past the message") }
            if type == 12 {
                let name = try r.name()
                // A TTL with its top bit set is read as 0 (RFC 2181 §8).
                return .name(name, ttl: ttl > 0x7FFF_FFFF ? 0 : ttl)
            }
            try r.skip(length)
        }
        return .none
    }

    /// A cursor over the message, reading names with compression pointers (RFC 1035 §4.1.4).
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        func error(_ what: String) -> ProbeError { ProbeError(.malformedInput, what, source: "DNS answer", offset: Int64(offset)) }

        mutating func skip(_ n: Int) throws(ProbeError) {
            guard offset + n <= bytes.count else { throw error("cut short") }
            offset += n
        }

        mutating func u16() throws(ProbeError) -> UInt16 {
            guard offset + 2 <= bytes.count else { throw error("cut short") }
            defer { offset += 2 }
            return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }

        /// A name, its labels joined by dots; a byte outside printable ASCII (or a dot or
        /// backslash inside a label) written as `\DDD`, as zone files write it.
        mutating func name() throws(ProbeError) -> String {
            var labels = [String]()
            var at = offset, jumped = false, jumps = 0, length = 0
            while true {
                guard at < bytes.count else { throw error("a name runs past the message") }
                let n = Int(bytes[at])
                if n & 0xC0 == 0xC0 {
                    guard at + 1 < bytes.count else { throw error("a name's pointer is cut short") }
                    jumps += 1
                    guard jumps <= 64 else { throw error("a name's pointers loop") }
                    if !jumped { offset = at + 2 }
                    jumped = true
                    at = (n & 0x3F) << 8 | Int(bytes[at + 1])
                    continue
                }
                guard n & 0xC0 == 0 else { throw error("a label type \(n >> 6) this reader does not know") }
                if n == 0 {
                    if !jumped { offset = at + 1 }
                    break
                }
                guard at + 1 + n <= bytes.count else { throw error("a label runs past the message") }
                length += n + 1
                guard length <= 255 else { throw error("a name longer than 255 bytes") }
                var label = ""
                for b in bytes[(at + 1)...(at + n)] {
                    if b > 0x20 && b < 0x7F && b != UInt8(ascii: ".") && b != UInt8(ascii: "\\") {
                        label.unicodeScalars.append(Unicode.Scalar(b))
                    } else {
                        let d = String(b)
                        label += "\\" + String(repeating: "0", count: 3 - d.count) + d
                    }
                }
                labels.append(label)
                at += 1 + n
            }
            return labels.joined(separator: ".")
        }
    }
}
