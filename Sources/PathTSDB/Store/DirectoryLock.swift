#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An exclusive `flock` on `DIR/LOCK`, holding the pid of the process that owns the store.
///
/// `flock` is released by the kernel when the process dies, so a crashed writer never leaves a
/// stale lock; the pid in the file is only there to name the holder in the refusal.
final class DirectoryLock: Sendable {
    let path: String
    private let fd: Mutex<Int32>

    init(layout: StoreLayout) throws(StorageError) {
        let directory = layout.directory
        path = layout.lock
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.system("cannot open lock file", file: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            let holder = err == EWOULDBLOCK ? DirectoryLock.holder(fd) : nil
            if !(holder == String(getpid()) && DirectoryLock.waitForOwnRelease(fd)) {
                close(fd)
                if err == EWOULDBLOCK {
                    throw StorageError(.locked, "data directory \(directory) is locked by pid \(holder ?? "?")", file: path)
                }
                throw StorageError.system("cannot lock", file: path, errno: err)
            }
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = Mutex(fd)
    }

    /// Whether a lock this process held (the caller checked that the file names it) comes free
    /// within a second. A store closed and opened again in one process can find its own
    /// released lock still held for a moment: a child forked by another thread between the
    /// lock's open and the child's `exec` shares the open file until that `exec` closes it
    /// (`O_CLOEXEC`). Another process's lock is refused at once.
    private static func waitForOwnRelease(_ fd: Int32) -> Bool {
        for _ in 0..<100 {
            usleep(10_000)
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        }
        return false
    }

    /// The pid the lock file names: the process holding the lock.
    private static func holder(_ fd: Int32) -> String? {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingNewline() : nil
    }

    /// Releases the lock; idempotent.
    func release() {
        fd.withLock {
            if $0 >= 0 { close($0) }
            $0 = -1
        }
    }

    deinit { release() }
}

extension String {
    func trimmingNewline() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == " " || last == "\0" { s = s.dropLast() }
        return String(s)
    }
}
