import Foundation
import Probe

#if canImport(Glibc)
import Glibc
#endif

/// A whole file as text ("-": standard input), or a `ProbeError` naming it.
func readFile(_ path: String) throws -> String {
    String(decoding: try readFileBytes(path), as: UTF8.self)
}

/// A whole file's bytes ("-": standard input), or a `ProbeError` naming it.
func readFileBytes(_ path: String) throws -> [UInt8] {
    let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ProbeError.system(.io, "cannot open", errno: errno, source: path) }
    defer { if fd != 0 { close(fd) } }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw ProbeError.system(.io, "read failed", errno: errno, source: path) }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

/// When the file at `path` was last written, microseconds since the epoch; nil for standard
/// input ("-") or a file that cannot be looked at.
func modificationMicros(_ path: String) -> Int64? {
    var st = stat()
    guard path != "-", stat(path, &st) == 0 else { return nil }
    return Int64(st.st_mtim.tv_sec) * 1_000_000 + Int64(st.st_mtim.tv_nsec) / 1000
}

/// The API tokens of a token file: one per line, blank lines and `#` comments skipped.
func readTokens(_ path: String) throws -> [String] {
    try readFile(path).split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
}

/// All of standard input as text.
func readStandardInput() throws -> String { try readFile("-") }

/// Standard output through a 64 KiB buffer: a large answer goes out in few write(2) calls.
final class StandardOutput {
    private var buffer = [UInt8]()

    init() { buffer.reserveCapacity(1 << 16) }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return Glibc.write(1, base + offset, b.count - offset)
            }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                break
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
