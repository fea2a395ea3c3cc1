/// The one error type of the Query module; `line` and `column` locate the problem in the text.
public struct QueryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Why the query failed, for callers that answer differently (the HTTP API's status codes).
    /// A struct over a hidden enum, so that new kinds of failure (alert rules, BGP data) can be
    /// added without breaking a caller's `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable { case invalid, notFound, tooManyRows, timeout }
        let value: Value
        /// The text is malformed or asks for something the store cannot answer.
        public static let invalid = Code(value: .invalid)
        /// A target it names does not exist.
        public static let notFound = Code(value: .notFound)
        /// The answer outgrew the caller's row bound.
        public static let tooManyRows = Code(value: .tooManyRows)
        /// The query ran past the caller's deadline.
        public static let timeout = Code(value: .timeout)
        public var description: String { value.rawValue }
    }

    /// What is wrong, in words.
    public var message: String
    /// The line of the query text where it is, from 1, when the error is in the text.
    public var line: Int?
    /// The column of that line, from 1.
    public var column: Int?
    /// What kind of error this is, for callers that act on it (an HTTP status, an exit code).
    public var code: Code

    /// An error saying `message`, at `line` and `column` of the query text when it is in it.
    public init(_ message: String, line: Int? = nil, column: Int? = nil, code: Code = .invalid) {
        self.message = message
        self.line = line
        self.column = column
        self.code = code
    }

    public var description: String {
        guard let line else { return message }
        return "\(line):\(column ?? 1): \(message)"
    }
}
