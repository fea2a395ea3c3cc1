import Probe

#if canImport(Glibc)
import Glibc
#endif

/// A whole file as text ("-": standard input), or a `ProbeError` naming it.
func readFile(_ path: String) throws -> String {
    let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ProbeError(.io, "cannot open: \(String(cString: strerror(errno)))", source: path) }
    defer { if fd != 0 { close(fd) } }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw ProbeError(.io, "read failed: \(String(cString: strerror(errno)))", source: path) }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
