package import PathTSDB

/// An address prefix, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a full-length prefix.
package struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    package let address: IPAddress
    /// Prefix length in the address's own family: 0–32 for IPv4, 0–128 for IPv6.
    package let length: Int

    /// Parses `ADDRESS` or `ADDRESS/LENGTH`; host bits are cleared.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let a = IPAddress(String(parts[0])) else { return nil }
        let maxLength = a.isIPv4 ? 32 : 128
        var len = maxLength
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...maxLength).contains(l), !parts[1].hasPrefix("+") else { return nil }
            len = l
        }
        length = len
        let (h, l) = IPPrefix.mask(bits: a.isIPv4 ? 96 + len : len)
        address = IPAddress(high: a.high & h, low: a.low & l)
    }

    /// Whether `a` lies in the prefix (an IPv4 prefix holds only IPv4 addresses).
    package func contains(_ a: IPAddress) -> Bool {
        guard a.isIPv4 == address.isIPv4 else { return false }
        let (h, l) = IPPrefix.mask(bits: address.isIPv4 ? 96 + length : length)
        return a.high & h == address.high && a.low & l == address.low
    }

    package var description: String {
        length == (address.isIPv4 ? 32 : 128) ? address.description : "\(address)/\(length)"
    }

    /// The 128-bit mask with `bits` leading ones, as two halves.
    private static func mask(bits: Int) -> (UInt64, UInt64) {
        let hi: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : ~UInt64(0) << (64 - bits))
        let lo: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : ~UInt64(0) << (128 - bits))
        return (hi, lo)
    }
}
