/// A bounds-checked reader over bytes: every read that would run past the end throws a
/// corruption error naming the offset, so a damaged file can never crash a reader.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Added to `position` in error messages, so that offsets name the place in the file.
    let fileOffset: Int64

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil, fileOffset: Int64 = 0) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
        self.fileOffset = fileOffset
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    func corruption(_ message: String) -> StorageError {
        StorageError(.corruption, message, offset: fileOffset + Int64(position))
    }

    mutating func readByte() throws(StorageError) -> UInt8 {
        guard position < end else { throw corruption("unexpected end of data") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readVarint() throws(StorageError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw corruption("varint runs past the end") }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            guard shift < 64 else { throw corruption("varint longer than 10 bytes") }
        }
    }

    mutating func readVarintInt(max: Int = Int(Int32.max)) throws(StorageError) -> Int {
        let v = try readVarint()
        guard v <= UInt64(max) else { throw corruption("value \(v) exceeds the limit \(max)") }
        return Int(v)
    }

    mutating func readZigzag() throws(StorageError) -> Int64 { zigzagDecode(try readVarint()) }

    mutating func readLE32() throws(StorageError) -> UInt32 {
        guard remaining >= 4 else { throw corruption("unexpected end of data") }
        defer { position += 4 }
        return bytes.loadLE32(at: position)
    }

    mutating func readLE64() throws(StorageError) -> UInt64 {
        guard remaining >= 8 else { throw corruption("unexpected end of data") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return v
    }

    mutating func readBytes(_ count: Int) throws(StorageError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw corruption("a field of \(count) bytes runs past the end") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func readString() throws(StorageError) -> String {
        let n = try readVarintInt(max: 1 << 20)
        let slice = try readBytes(n)
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func skip(_ count: Int) throws(StorageError) {
        guard count >= 0, remaining >= count else { throw corruption("skip of \(count) bytes runs past the end") }
        position += count
    }
}

extension Array where Element == UInt8 {
    @inlinable func loadLE32(at i: Int) -> UInt32 {
        UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16 | UInt32(self[i + 3]) << 24
    }
    func loadLE64(at i: Int) -> UInt64 {
        UInt64(loadLE32(at: i)) | UInt64(loadLE32(at: i + 4)) << 32
    }
}
