/// A bounds-checked reader over one column of a decompressed chunk, held in a local variable by
/// the decode loop: plain pointer reads, one comparison per value, and a corruption error with
/// the file offset when a column runs out.
struct ColumnReader {
    private let base: UnsafeBufferPointer<UInt8>
    private let end: Int
    private(set) var position: Int
    /// File offset of the decompressed data's first byte, for error messages (the data is
    /// compressed on disk, so this names the block, not the exact byte).
    let fileOffset: Int64
    let name: String

    init(_ buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>, fileOffset: Int64, name: String) {
        base = buffer
        position = range.lowerBound
        end = min(range.upperBound, buffer.count)
        self.fileOffset = fileOffset
        self.name = name
    }

    var isAtEnd: Bool { position >= end }

    func corruption(_ message: String) -> StorageError {
        StorageError(.corruption, "column \(name): \(message)", offset: fileOffset)
    }

    @inline(__always) mutating func byte() throws(StorageError) -> UInt8 {
        guard position < end else { throw corruption("ends early") }
        let b = base[position]
        position += 1
        return b
    }

    /// Checks that `n` more bytes are there, so that `uncheckedByte` may read them.
    @inline(__always) func require(_ n: Int) throws(StorageError) {
        guard end - position >= n else { throw corruption("ends early") }
    }

    /// The sum of the next `n` bytes, not consumed, after `require(n)` has vouched for them.
    @inline(__always) func uncheckedSum(of n: Int) -> Int {
        var sum = 0
        for i in position..<(position + n) { sum &+= Int(base[i]) }
        return sum
    }

    /// Where the next byte is, for a loop that reads bytes `require` has vouched for and then
    /// skips them; nil for an empty column.
    var uncheckedPointer: UnsafePointer<UInt8>? { base.baseAddress.map { $0 + position } }

    /// Skips `n` bytes that `require(n)` has vouched for.
    @inline(__always) mutating func uncheckedSkip(_ n: Int) { position &+= n }

    /// The next byte, after `require` has vouched for it.
    @inline(__always) mutating func uncheckedByte() -> UInt8 {
        let b = base[position]
        position += 1
        return b
    }

    @inline(__always) mutating func varint() throws(StorageError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw corruption("ends inside a varint") }
            let b = base[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            guard shift < 64 else { throw corruption("varint longer than 10 bytes") }
        }
    }

    @inline(__always) mutating func varint32() throws(StorageError) -> UInt32 {
        let v = try varint()
        guard v <= UInt64(UInt32.max) else { throw corruption("value \(v) out of range") }
        return UInt32(v)
    }

    @inline(__always) mutating func zigzag() throws(StorageError) -> Int64 { zigzagDecode(try varint()) }

    @inline(__always) mutating func le32() throws(StorageError) -> UInt32 {
        guard end - position >= 4 else { throw corruption("ends early") }
        let v = UInt32(base[position]) | UInt32(base[position + 1]) << 8 | UInt32(base[position + 2]) << 16 | UInt32(base[position + 3]) << 24
        position += 4
        return v
    }
}
