import CLZ4
import CZstd

/// The general-purpose compressor applied to a block after its column codecs: LZ4 where speed
/// matters (WAL batches), ZSTD where size does (segments). Both come from the system libraries.
package enum BlockCompression: UInt8, Sendable, CaseIterable {
    case none = 0
    case lz4 = 1
    case zstd = 2

    /// Compresses `input`; `level` applies to ZSTD only.
    func compress(_ input: [UInt8], level: Int32 = 3) -> [UInt8] {
        switch self {
        case .none:
            return input
        case .lz4:
            let bound = Int(LZ4_compressBound(Int32(input.count)))
            return [UInt8](unsafeUninitializedCapacity: max(bound, 1)) { out, count in
                // Acceleration 4: WAL batches are written once and read only after a crash, so
                // speed matters more than the last few percent of size.
                let n = input.withUnsafeBytes { src in
                    LZ4_compress_fast(
                        src.baseAddress?.assumingMemoryBound(to: CChar.self),
                        UnsafeMutableRawPointer(out.baseAddress)?.assumingMemoryBound(to: CChar.self),
                        Int32(input.count), Int32(bound), 4)
                }
                count = Int(max(n, 0))
            }
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            return [UInt8](unsafeUninitializedCapacity: max(bound, 1)) { out, count in
                let n = ZstdContextPool.withCompressor { context in
                    input.withUnsafeBytes { src in
                        ZSTD_compressCCtx(context, out.baseAddress, bound, src.baseAddress, input.count, level)
                    }
                }
                // ZSTD only fails for a too-small destination, which compressBound rules out.
                precondition(ZSTD_isError(n) == 0, "ZSTD_compressCCtx failed with a bound-sized buffer")
                count = n
            }
        }
    }

    /// Decompresses `input`, which must expand to exactly `rawLength` bytes.
    func decompress(_ input: ArraySlice<UInt8>, rawLength: Int) throws(StorageError) -> [UInt8] {
        if self == .none {
            guard input.count == rawLength else {
                throw StorageError(.corruption, "stored block is \(input.count) bytes, header says \(rawLength)")
            }
            return Array(input)
        }
        guard rawLength >= 0, rawLength <= 1 << 31 else {
            throw StorageError(.corruption, "implausible decompressed length \(rawLength)")
        }
        var produced = -1
        let out = [UInt8](unsafeUninitializedCapacity: max(rawLength, 1)) { dst, count in
            produced = input.withUnsafeBytes { src -> Int in
                switch self {
                case .lz4:
                    return Int(LZ4_decompress_safe(
                        src.baseAddress?.assumingMemoryBound(to: CChar.self),
                        UnsafeMutableRawPointer(dst.baseAddress)?.assumingMemoryBound(to: CChar.self),
                        Int32(src.count), Int32(rawLength)))
                case .zstd:
                    let r = ZstdContextPool.withDecompressor { context in
                        ZSTD_decompressDCtx(context, dst.baseAddress, rawLength, src.baseAddress, src.count)
                    }
                    return ZSTD_isError(r) != 0 ? -1 : r
                case .none:
                    return -1
                }
            }
            // Only what the library wrote counts as initialised.
            count = max(0, min(produced, rawLength))
        }
        guard produced == rawLength else {
            throw StorageError(.corruption, "\(self) block does not decompress to the \(rawLength) bytes its header states")
        }
        return out
    }
}
