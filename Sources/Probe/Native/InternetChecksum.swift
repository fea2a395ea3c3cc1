import PathTSDB

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit
/// words, and the arithmetic Paris probing needs to make a checksum come out as a chosen value.
enum InternetChecksum {
    /// The one's complement sum of `bytes` as big-endian 16-bit words (an odd last byte padded
    /// with zero), folded to 16 bits, added to `initial`.
    static func sum(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt16 {
        var acc = UInt64(initial)
        var high = true
        for b in bytes {
            acc += high ? UInt64(b) << 8 : UInt64(b)
            high.toggle()
        }
        return fold(acc)
    }

    static func fold(_ value: UInt64) -> UInt16 {
        var v = value
        while v > 0xFFFF { v = (v & 0xFFFF) + (v >> 16) }
        return UInt16(v)
    }

    /// One's complement addition of two 16-bit words.
    static func add(_ a: UInt16, _ b: UInt16) -> UInt16 { fold(UInt64(a) + UInt64(b)) }

    /// The checksum of data whose sum is `s`.
    static func checksum(sum s: UInt16) -> UInt16 { ~s }

    /// The word to put in a zeroed adjust slot so that data whose current sum (adjust slot and
    /// checksum field zero) is `s` gets the checksum `target`.
    static func adjustment(sum s: UInt16, target: UInt16) -> UInt16 {
        // ~(s + a) = target  ⇒  a = ~target − s = ~target + ~s
        add(~target, ~s)
    }

    /// The pseudo-header's sum (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6) straight from the
    /// addresses' words, without building the header: what a probe needs once per packet.
    static func pseudoHeader(source: IPAddress, destination: IPAddress, protocol proto: UInt8, length: Int) -> UInt32 {
        func words(_ a: IPAddress) -> UInt64 {
            if let v4 = a.v4Value { return UInt64(v4 >> 16) + UInt64(v4 & 0xFFFF) }
            var t: UInt64 = 0
            for shift in stride(from: 48, through: 0, by: -16) {
                t += (a.high >> UInt64(shift)) & 0xFFFF
                t += (a.low >> UInt64(shift)) & 0xFFFF
            }
            return t
        }
        // IPv4: protocol and 16-bit length; IPv6: 32-bit length and next header — the same sum.
        return UInt32(fold(words(source) + words(destination) + UInt64(proto) + UInt64(length >> 16) + UInt64(length & 0xFFFF)))
    }
}
