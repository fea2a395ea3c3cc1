#if canImport(Glibc)
import Glibc
#endif

/// The one error type of PathTSDB: what failed, in which file and at which byte offset, and why.
///
/// Recovery code consumes these as values (a WAL replay returns the corruption it stopped at), so
/// the fields carry what a repair needs, not just a message.
public struct StorageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A broad class of failure; new classes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable { case corruption, locked, io, diskFull, unsupportedVersion, invalidArgument, notFound, closed, readOnly }
        let value: Value
        /// Bytes on disk do not match what was written: a checksum, length or structure check failed.
        public static let corruption = Code(value: .corruption)
        /// Another process holds the data directory.
        public static let locked = Code(value: .locked)
        /// A system call failed.
        public static let io = Code(value: .io)
        /// The file system is full (ENOSPC or EDQUOT).
        public static let diskFull = Code(value: .diskFull)
        /// A file carries a format version this build cannot read.
        public static let unsupportedVersion = Code(value: .unsupportedVersion)
        /// The caller passed something the store cannot hold.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// A named thing (target, path, segment) does not exist.
        public static let notFound = Code(value: .notFound)
        /// The store was closed.
        public static let closed = Code(value: .closed)
        /// A write was asked of a store opened for reading only.
        public static let readOnly = Code(value: .readOnly)
        public var description: String { value.rawValue }
    }

    /// What kind of failure this is, for callers that act on it.
    public var code: Code
    /// The file concerned, when there is one.
    public var file: String?
    /// The byte offset in `file` where the problem was found.
    public var offset: Int64?
    /// What went wrong, in words.
    public var message: String
    /// The `errno` of a failed system call.
    public var systemError: Int32?
    /// The error this one reports the consequence of (a compaction stopped by a damaged input
    /// segment has that segment's corruption as its cause).
    public var cause: StorageError? {
        get { causeStorage.first }
        set { causeStorage = newValue.map { [$0] } ?? [] }
    }
    // An array, so that the struct can hold one of its own kind.
    private var causeStorage: [StorageError] = []

    /// An error of `code`, saying what failed in `message` and, where known, the file, the offset
    /// in it, the `errno` and the error it follows from.
    public init(_ code: Code, _ message: String, file: String? = nil, offset: Int64? = nil, systemError: Int32? = nil,
                cause: StorageError? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.systemError = systemError
        self.cause = cause
    }

    /// An error for a failed system call, classifying a full disk as `.diskFull`.
    static func system(_ what: String, file: String?, errno err: Int32) -> StorageError {
        let code: Code = (err == ENOSPC || err == EDQUOT) ? .diskFull : .io
        return StorageError(code, what, file: file, systemError: err)
    }

    public var description: String {
        var s = ""
        if let file { s += file }
        if let offset { s += (s.isEmpty ? "" : ":") + "offset \(offset)" }
        if !s.isEmpty { s += ": " }
        s += "\(code): \(message)"
        if let systemError, let cs = strerror(systemError) { s += " (\(String(cString: cs)))" }
        if let cause { s += "; because \(cause)" }
        return s
    }

    /// The same error, located in `file` at `offset` when not already located.
    func located(file: String, offset: Int64? = nil) -> StorageError {
        var copy = self
        if copy.file == nil { copy.file = file }
        if copy.offset == nil { copy.offset = offset }
        return copy
    }
}
