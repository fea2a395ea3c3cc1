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

        subscript(kind: Kind) -> [OpaquePointer] {
            get { kind == .compressor ? compressors : decompressors }
            set { if kind == .compressor { compressors = newValue } else { decompressors = newValue } }
        }
    }

    private enum Kind: Sendable { case compressor, decompressor }

    private static let pool = Mutex(Contexts())
    /// Contexts kept when given back; more than this are freed (one per core, a few spare).
    private static let keep = 8

    static func withCompressor<R>(_ body: (OpaquePointer) -> R) -> R {
        withContext(.compressor, create: { ZSTD_createCCtx() }, free: { ZSTD_freeCCtx($0) }, body)
    }

    static func withDecompressor<R>(_ body: (OpaquePointer) -> R) -> R {
        withContext(.decompressor, create: { ZSTD_createDCtx() }, free: { ZSTD_freeDCtx($0) }, body)
    }

    /// Takes a context of `kind` from the pool (or creates one), lends it to `body`, and gives it back (or
    /// frees it when the pool holds enough).
    private static func withContext<R>(_ kind: Kind, create: () -> OpaquePointer?,
                                       free: (OpaquePointer) -> Int, _ body: (OpaquePointer) -> R) -> R {
        let taken = pool.withLock { $0[kind].popLast() }
        guard let context = taken ?? create() else { preconditionFailure("creating a ZSTD context failed: out of memory") }
        defer {
            let stored = pool.withLock { p -> Bool in
                guard p[kind].count < keep else { return false }
                p[kind].append(context)
                return true
            }
            if !stored { _ = free(context) }
        }
        return body(context)
    }
}
