import CChecksum

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI and ext4;
/// every WAL record, catalog record and segment block carries one.
///
/// With the CPU's CRC-32C instruction where it has one (x86-64 with SSE 4.2); otherwise
/// slicing-by-8, where eight 256-entry tables let the loop consume eight bytes per step.
package enum CRC32C {
    /// Whether `checksum` uses the CPU's instruction.
    static let usesHardware = pathtsdb_crc32c_hardware() != 0

    /// Eight tables of 256 entries, flattened: entry `k * 256 + i`.
    static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            var c = t[i]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + i] = c
            }
        }
        return t
    }()

    /// The CRC of `bytes`, continuing from `crc` (0 for a fresh checksum).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        if usesHardware, let base = bytes.baseAddress {
            return ~pathtsdb_crc32c_update(~crc, base, bytes.count)
        }
        return tableChecksum(bytes, continuing: crc)
    }

    /// The CRC by table lookups, whatever the CPU has.
    static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        var i = 0
        let n = bytes.count
        table.withUnsafeBufferPointer { tab in
            while n - i >= 8 {
                let lo = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
                let x = c ^ lo
                c = tab[7 * 256 + Int(x & 0xFF)] ^ tab[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ tab[5 * 256 + Int((x >> 16) & 0xFF)] ^ tab[4 * 256 + Int(x >> 24)]
                    ^ tab[3 * 256 + Int(hi & 0xFF)] ^ tab[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ tab[1 * 256 + Int((hi >> 16) & 0xFF)] ^ tab[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = tab[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    package static func checksum<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0), continuing: crc) }) {
            return r
        }
        return Array(bytes).withUnsafeBytes { checksum($0, continuing: crc) }
    }
}
