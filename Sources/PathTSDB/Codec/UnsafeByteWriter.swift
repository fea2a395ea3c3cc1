/// Writes bytes through a pointer into memory sized beforehand for the most the encoder can
/// write: an encoder's inner loop without an array's uniqueness and capacity checks on every
/// byte. Writing past the capacity is a programming error in the bound, and stops the process
/// rather than touching memory beyond it.
struct UnsafeByteWriter {
    private let base: UnsafeMutableBufferPointer<UInt8>
    private let capacity: Int
    /// Bytes written so far.
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer
        capacity = buffer.count
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        precondition(count < capacity, "encoder wrote past the bound it computed")
        base[count] = b
        count &+= 1
    }

    @inline(__always) mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) mutating func le32(_ value: UInt32) {
        precondition(capacity - count >= 4, "encoder wrote past the bound it computed")
        UnsafeMutableRawBufferPointer(base).storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
        count &+= 4
    }

    @inline(__always) mutating func le64(_ value: UInt64) {
        precondition(capacity - count >= 8, "encoder wrote past the bound it computed")
        UnsafeMutableRawBufferPointer(base).storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self)
        count &+= 8
    }

    /// A varint length, then the bytes.
    mutating func string(_ s: String) {
        varint(UInt64(s.utf8.count))
        for b in s.utf8 { byte(b) }
    }

    /// The most bytes `string` writes for `s`.
    static func stringBound(_ s: String) -> Int { 10 + s.utf8.count }
}
