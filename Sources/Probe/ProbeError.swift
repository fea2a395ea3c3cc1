#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the Probe module: what could not be read or run, and where.
public struct ProbeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A broad class of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable { case malformedInput, unsupportedInput, io, tracerFailed, notFound, conflict }
        let value: Value
        /// Input that does not follow its format.
        public static let malformedInput = Code(value: .malformedInput)
        /// Well-formed input that describes something SmokeTrace cannot hold.
        public static let unsupportedInput = Code(value: .unsupportedInput)
        /// Reading a file or stream failed.
        public static let io = Code(value: .io)
        /// A tracer could not be started.
        public static let tracerFailed = Code(value: .tracerFailed)
        /// A named thing (a target) does not exist.
        public static let notFound = Code(value: .notFound)
        /// A named thing exists already.
        public static let conflict = Code(value: .conflict)
        public var description: String { value.rawValue }
    }

    /// What kind of failure this is, for callers that act on it.
    public var code: Code
    /// What failed, in words.
    public var message: String
    /// The input's name (a file path, or "<stdin>").
    public var source: String?
    /// 1-based line and column of the offending byte.
    public var line: Int?
    /// The column of that line, from 1.
    public var column: Int?
    /// 0-based byte offset in the input.
    public var offset: Int64?
    /// The `errno` of a failed system call, for a caller that tells them apart (EPERM from
    /// ENETUNREACH, say); its text is in `message` as well.
    public var systemError: Int32?

    /// An error of `code`, saying `message`, with where it was found when it was in an input.
    public init(_ code: Code, _ message: String, source: String? = nil, line: Int? = nil, column: Int? = nil, offset: Int64? = nil,
                systemError: Int32? = nil) {
        self.code = code
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.offset = offset
        self.systemError = systemError
    }

    /// An error for a failed system call: `what`, then the text of `errno`, which is kept.
    public static func system(_ code: Code, _ what: String, errno err: Int32, source: String? = nil) -> ProbeError {
        ProbeError(code, "\(what): \(String(cString: strerror(err)))", source: source, systemError: err)
    }

    public var description: String {
        var where_ = source ?? ""
        if let line { where_ += (where_.isEmpty ? "" : ":") + "\(line)" + (column.map { ":\($0)" } ?? "") }
        if let offset { where_ += " (byte \(offset))" }
        return (where_.isEmpty ? "" : where_ + ": ") + message
    }
}
