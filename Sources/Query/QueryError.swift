/// The one error type of the Query module; `line` and `column` locate the problem in the text.
public struct QueryError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var line: Int?
    public var column: Int?

    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line else { return message }
        return "\(line):\(column ?? 1): \(message)"
    }
}
