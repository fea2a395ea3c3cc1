/// Appending fixed-width little-endian integers and LEB128 varints to a byte buffer.
///
/// Codecs append into a caller-owned `[UInt8]` so that one buffer serves a whole segment.
extension Array where Element == UInt8 {
    @inlinable mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable mutating func appendVarint(_ value: Int) { appendVarint(UInt64(value)) }
    @inlinable mutating func appendVarint(_ value: UInt32) { appendVarint(UInt64(value)) }

    /// A signed value as a zigzag varint: small magnitudes of either sign take one byte.
    @inlinable mutating func appendZigzag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable mutating func appendLE(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inlinable mutating func appendLE(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    @inlinable mutating func appendLE(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    @inlinable mutating func appendLE(_ value: Int64) { appendLE(UInt64(bitPattern: value)) }

    /// A length-prefixed UTF-8 string.
    mutating func appendString(_ s: String) {
        let utf8 = Array(s.utf8)
        appendVarint(utf8.count)
        append(contentsOf: utf8)
    }

    /// Overwrites four bytes at `index` with `value`, little-endian.
    mutating func storeLE(_ value: UInt32, at index: Int) {
        for i in 0..<4 { self[index + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
}

@inlinable func zigzagDecode(_ v: UInt64) -> Int64 {
    Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
}
