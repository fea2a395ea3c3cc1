import CZstd
import Synchronization

/// Reusable ZSTD compression and decompression contexts. `ZSTD_compress` and `ZSTD_decompress`
/// allocate a context per call (hundreds of kilobytes of fresh, zero-filled pages); a segment
/// writes and reads thousands of small blocks, so contexts are kept and lent out instead.
///
/// The pool is shared by every thread; a context is used by one thread at a time, between
/// taking it and giving it back.
enum ZstdContextPool {
    /// `OpaquePointer`s are not `Sendable`; they are only ever touched by the thread that took
    /// them from the pool, under the pool's lock while they are in it.
    private struct Contexts: @unchecked Sendable {
        var compressors: [OpaquePointer] = []
        var decompressors: [OpaquePointer] = []
    }

    private static let pool = Mutex(Contexts())
    /// Contexts kept when given back; more than this are freed (one per core, a few spare).
    private static let keep = 8

    static func withCompressor<R>(_ body: (OpaquePointer) -> R) -> R {
        let taken = pool.withLock { $0.compressors.popLast() }
        guard let context = taken ?? ZSTD_createCCtx() else {
            preconditionFailure("ZSTD_createCCtx failed: out of memory")
        }
        defer {
            let stored = pool.withLock { p -> Bool in
                guard p.compressors.count < keep else { return false }
                p.compressors.append(context)
                return true
            }
            if !stored { ZSTD_freeCCtx(context) }
        }
        return body(context)
    }

    static func withDecompressor<R>(_ body: (OpaquePointer) -> R) -> R {
        let taken = pool.withLock { $0.decompressors.popLast() }
        guard let context = taken ?? ZSTD_createDCtx() else {
            preconditionFailure("ZSTD_createDCtx failed: out of memory")
        }
        defer {
            let stored = pool.withLock { p -> Bool in
                guard p.decompressors.count < keep else { return false }
                p.decompressors.append(context)
                return true
            }
            if !stored { ZSTD_freeDCtx(context) }
        }
        return body(context)
    }
}
