/// Packs values of 0…32 bits, least significant bit first, into bytes.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var accumulator: UInt64 = 0
    /// Bits held in `accumulator`; fewer than 32 between writes.
    private var count: UInt64 = 0

    @inline(__always) mutating func write(_ value: UInt32, bits: Int) {
        guard bits > 0 else { return }
        accumulator |= (UInt64(value) & ((1 << UInt64(bits)) &- 1)) << count
        count += UInt64(bits)
        if count >= 32 {
            // Four whole bytes at a time.
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: accumulator).littleEndian) { bytes.append(contentsOf: $0) }
            accumulator >>= 32
            count -= 32
        }
    }

    /// Flushes the bits still held, the last byte padded with zeros, and returns the bytes.
    mutating func finish() -> [UInt8] {
        while count > 0 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator))
            accumulator >>= 8
            count -= min(count, 8)
        }
        accumulator = 0
        return bytes
    }
}

/// Reads what `BitWriter` wrote. Reading past the end yields zero bits and sets `overrun`, which
/// the caller checks once at the end instead of on every value.
struct BitReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position: Int = 0
    private var accumulator: UInt64 = 0
    private var count: UInt64 = 0
    private(set) var overrun = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The next `bits` (0…32) bits, consumed.
    @inline(__always) mutating func read(bits: Int) -> UInt32 {
        let v = peek(bits: bits)
        consume(bits: bits)
        return v
    }

    /// The next `bits` (0…32) bits without consuming them; zero bits past the end.
    @inline(__always) mutating func peek(bits: Int) -> UInt32 {
        let b = UInt64(bits)
        if count < b { refill() }
        return UInt32(truncatingIfNeeded: accumulator & ((1 &<< b) &- 1))
    }

    /// Consumes `bits` bits, which a `peek` of at least as many has made available.
    @inline(__always) mutating func consume(bits: Int) {
        let b = UInt64(bits)
        if count < b { overrun = true; count = b }
        accumulator &>>= b
        count &-= b
    }

    /// Whether `bits` more bits, plus a word of slack, lie ahead, so that `uncheckedRead` may
    /// take them without looking at the end.
    func hasUncheckedRoom(forBits bits: Int) -> Bool {
        bytes.count - position >= bits / 8 + 16
    }

    /// The next `bits` (0…32) bits, consumed, after `hasUncheckedRoom` has vouched for them: the
    /// accumulator is topped up by one unaligned load every time, with no branch on whether it
    /// ran low.
    @inline(__always) mutating func uncheckedRead(bits: UInt32) -> UInt32 {
        topUp(from: bytes.baseAddress.unsafelyUnwrapped)
        let b = UInt64(bits)
        let v = UInt32(truncatingIfNeeded: accumulator & ((1 &<< b) &- 1))
        accumulator &>>= b
        count &-= b
        return v
    }

    /// Fills the accumulator to at least 56 bits with one unaligned load of the 8 bytes at
    /// `position` (of `base`, the buffer's start), which must lie in the buffer; the bytes that
    /// did not fit are read again next time.
    @inline(__always) private mutating func topUp(from base: UnsafePointer<UInt8>) {
        let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
        accumulator |= word &<< count
        position &+= Int((63 &- count) &>> 3)
        // count + 8 × the bytes taken, for any count below 64; not waiting on that count of
        // bytes keeps the next read's shift off it.
        count |= 56
    }

    @inline(__always) private mutating func refill() {
        // Whole 8-byte words while they last, then byte by byte.
        if let base = bytes.baseAddress, bytes.count - position >= 8 {
            topUp(from: base)
            return
        }
        while count <= 56 && position < bytes.count {
            accumulator |= UInt64(bytes[position]) << count
            position += 1
            count += 8
        }
    }
}
