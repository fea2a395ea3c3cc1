/// The one error type of the Query module; `line` and `column` locate the problem in the text.
public struct QueryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Why the query failed, for callers that answer differently (the HTTP API's status codes).
    public enum Reason: Sendable, Equatable {
        /// The text is malformed or asks for something the store cannot answer.
        case invalid
        /// A target it names does not exist.
        case notFound
        /// The answer outgrew the caller's row bound.
        case tooManyRows
        /// The query ran past the caller's deadline.
        case timeout
    }

    public var message: String
    public var line: Int?
    public var column: Int?
    public var reason: Reason

    public init(_ message: String, line: Int? = nil, column: Int? = nil, reason: Reason = .invalid) {
        self.message = message
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        guard let line else { return message }
        return "\(line):\(column ?? 1): \(message)"
    }
}
