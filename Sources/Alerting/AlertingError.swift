/// A failure of the alerting layer: a rules file that does not read, a rule test that does not
/// hold, a receiver that did not take a notification. Says what failed and where.
public struct AlertingError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that answer differently (a 400 against a 500).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable { case invalidRules, notFound, conflict, delivery, io }
        private let kind: Kind
        /// A rules file, rule or silence that is not valid.
        public static let invalidRules = Code(kind: .invalidRules)
        /// A rule, alert or silence that does not exist.
        public static let notFound = Code(kind: .notFound)
        /// A name that is already taken.
        public static let conflict = Code(kind: .conflict)
        /// A receiver that did not take a notification.
        public static let delivery = Code(kind: .delivery)
        /// A file that could not be read or written.
        public static let io = Code(kind: .io)
        public var description: String { "\(kind)" }
    }

    public var code: Code
    public var message: String
    /// The file the failure is in, when it is in one.
    public var source: String?
    /// 1-based line and column in `source`, when known.
    public var line: Int?
    public var column: Int?

    public init(_ code: Code, _ message: String, source: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.source = source
        self.line = line
        self.column = column
    }

    public var description: String {
        var where_ = source ?? ""
        if let line { where_ += (where_.isEmpty ? "" : ":") + "\(line):\(column ?? 1)" }
        return where_.isEmpty ? message : "\(where_): \(message)"
    }
}
