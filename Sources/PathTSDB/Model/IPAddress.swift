/// An IPv4 or IPv6 address held in 16 bytes; IPv4 is kept IPv4-mapped (`::ffff:a.b.c.d`).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first eight bytes, big-endian.
    public let high: UInt64
    /// The last eight bytes, big-endian.
    public let low: UInt64

    /// An address from its 128 bits, high and low halves (IPv4 as IPv4-mapped IPv6).
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit value (host order, `a << 24 | b << 16 | …`).
    public init(v4 value: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    /// Whether this is an IPv4 address (IPv4-mapped: `::ffff:a.b.c.d`).
    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    /// The IPv4 value, when this is an IPv4 address.
    public var v4Value: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The 16 bytes, network order.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(s))) }
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(s))) }
        return out
    }

    /// An address from 4 (IPv4) or 16 (IPv6) network-order bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        let b = Array(bytes)
        switch b.count {
        case 4:
            self.init(v4: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
        case 16:
            var h: UInt64 = 0, l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(b[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(b[i]) }
            self.init(high: h, low: l)
        default:
            return nil
        }
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an embedded IPv4 tail).
    public init?(_ text: String) {
        var utf8 = Array(text.utf8)
        if let parsed = utf8.withUnsafeMutableBufferPointer({ IPAddress(utf8: UnsafeBufferPointer($0)) }) {
            self = parsed
        } else {
            return nil
        }
    }

    /// Parses an address from UTF-8 bytes without allocating.
    public init?(utf8 s: UnsafeBufferPointer<UInt8>) {
        if let v4 = IPAddress.parseV4(s, 0, s.count) {
            self.init(v4: v4)
            return
        }
        guard let v6 = IPAddress.parseV6(s) else { return nil }
        self = v6
    }

    static func parseV4(_ s: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var i = start
        while i < end {
            let c = s[i]
            if c >= 0x30 && c <= 0x39 {
                octet = octet * 10 + UInt32(c - 0x30)
                digits += 1
                if digits > 3 || octet > 255 { return nil }
            } else if c == 0x2E {
                if digits == 0 || dots == 3 { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else {
                return nil
            }
            i += 1
        }
        if dots != 3 || digits == 0 { return nil }
        return value << 8 | octet
    }

    static func hexValue(_ c: UInt8) -> UInt16? {
        switch c {
        case 0x30...0x39: return UInt16(c - 0x30)
        case 0x61...0x66: return UInt16(c - 0x61 + 10)
        case 0x41...0x46: return UInt16(c - 0x41 + 10)
        default: return nil
        }
    }

    static func parseV6(_ s: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        // Groups before and after "::"; an IPv4 tail counts as two groups.
        var head = [UInt16](), tail = [UInt16]()
        var sawDoubleColon = false
        var i = 0
        let n = s.count
        if n < 2 { return nil }
        if s[0] == 0x3A {
            guard s[1] == 0x3A else { return nil }
            sawDoubleColon = true
            i = 2
        }
        while i < n {
            // One group: up to four hex digits, or an IPv4 tail.
            var j = i
            var group: UInt16 = 0
            var digits = 0
            while j < n, let h = hexValue(s[j]) {
                group = group << 4 | h
                digits += 1
                j += 1
                if digits > 4 { return nil }
            }
            if j < n && s[j] == 0x2E {
                guard let v4 = parseV4(s, i, n) else { return nil }
                let parts = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawDoubleColon { tail += parts } else { head += parts }
                i = n
                break
            }
            guard digits > 0 else { return nil }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            i = j
            if i == n { break }
            guard s[i] == 0x3A else { return nil }
            i += 1
            if i < n && s[i] == 0x3A {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i += 1
            } else if i == n {
                return nil
            }
        }
        let total = head.count + tail.count
        if sawDoubleColon ? total > 7 : total != 8 { return nil }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(groups[k]) }
        for k in 4..<8 { l = l << 16 | UInt64(groups[k]) }
        return IPAddress(high: h, low: l)
    }

    public var description: String {
        if let v4 = v4Value {
            return "\(v4 >> 24).\((v4 >> 16) & 255).\((v4 >> 8) & 255).\(v4 & 255)"
        }
        var groups = [UInt16]()
        for k in 0..<4 { groups.append(UInt16(truncatingIfNeeded: high >> UInt64(48 - 16 * k))) }
        for k in 0..<4 { groups.append(UInt16(truncatingIfNeeded: low >> UInt64(48 - 16 * k))) }
        // RFC 5952: compress the longest run (of two or more) of zero groups.
        var bestStart = -1, bestLen = 0, runStart = -1
        for k in 0...8 {
            if k < 8 && groups[k] == 0 {
                if runStart < 0 { runStart = k }
            } else if runStart >= 0 {
                if k - runStart > bestLen { bestStart = runStart; bestLen = k - runStart }
                runStart = -1
            }
        }
        if bestLen < 2 { bestStart = -1 }
        var out = ""
        var k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[k], radix: 16)
            k += 1
        }
        return out
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}
