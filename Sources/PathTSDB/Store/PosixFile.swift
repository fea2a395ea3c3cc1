#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor with the handful of calls the store needs, each failing with a
/// `StorageError` that names the file. Not shared between threads; closed when released.
final class PosixFile {
    let fd: Int32
    let path: String

    /// Opens `path` with `flags` (O_CREAT implied mode 0644).
    init(path: String, flags: Int32) throws(StorageError) {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.system("cannot open", file: path, errno: errno) }
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    /// Writes all of `bytes` at the current offset, retrying short writes.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.system("write failed", file: path, errno: errno)
            }
            done += n
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(StorageError) {
        var failure: StorageError?
        bytes.withUnsafeBytes { buf in
            do throws(StorageError) { try writeAll(buf) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` at `offset`, leaving the file offset where it was.
    func write(_ bytes: [UInt8], at offset: Int64) throws(StorageError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.pwrite(fd, buf.baseAddress.map { $0 + done }, buf.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw StorageError.system("write failed", file: path, errno: failure) }
    }

    /// Reads `count` bytes at `offset`; fewer only at end of file.
    func read(at offset: Int64, count: Int) throws(StorageError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { buf in
            while done < count {
                let n = Glibc.pread(fd, buf.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }
                done += n
            }
        }
        if failure != 0 { throw StorageError.system("read failed", file: path, errno: failure) }
        if done < count { out.removeSubrange(done...) }
        return out
    }

    func size() throws(StorageError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError.system("fstat failed", file: path, errno: errno) }
        return Int64(st.st_size)
    }

    func sync() throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw StorageError.system("fdatasync failed", file: path, errno: errno) }
    }

    func truncate(to length: Int64) throws(StorageError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw StorageError.system("ftruncate failed", file: path, errno: errno) }
    }

    func seekToEnd() throws(StorageError) -> Int64 {
        let r = lseek(fd, 0, SEEK_END)
        guard r >= 0 else { throw StorageError.system("lseek failed", file: path, errno: errno) }
        return Int64(r)
    }

    /// Reads the whole file.
    func readAll() throws(StorageError) -> [UInt8] {
        try read(at: 0, count: Int(try size()))
    }
}

/// Directory and path operations used by the store.
enum FileSystem {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw StorageError.system("cannot create directory", file: path, errno: errno)
        }
    }

    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw StorageError.system("cannot list directory", file: path, errno: errno) }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func rename(_ from: String, _ to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else { throw StorageError.system("cannot rename to \(to)", file: from, errno: errno) }
    }

    static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw StorageError.system("cannot remove", file: path, errno: errno) }
    }

    /// Makes a rename or create inside `path` durable.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let file = try PosixFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        guard fsync(file.fd) == 0 else { throw StorageError.system("fsync of directory failed", file: path, errno: errno) }
    }

    static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }
}
