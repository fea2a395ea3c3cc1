/// A failure of the alerting layer: a rules file that does not read, a rule test that does not
/// hold, a receiver that did not take a notification. Says what failed and where.
package struct AlertingError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that answer differently (a 400 against a 500).
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable { case invalidRules, notFound, conflict, delivery, io }
        private let kind: Kind
        /// A rules file, rule or silence that is not valid.
        package static let invalidRules = Code(kind: .invalidRules)
        /// A rule, alert or silence that does not exist.
        package static let notFound = Code(kind: .notFound)
        /// A name that is already taken.
        package static let conflict = Code(kind: .conflict)
        /// A receiver that did not take a notification.
        package static let delivery = Code(kind: .delivery)
        /// A file that could not be read or written.
        package static let io = Code(kind: .io)
        package var description: String { "\(kind)" }
    }

    package var code: Code
    package var message: String
    /// The file the failure is in, when it is in one.
    package var source: String?
    /// 1-based line and column in `source`, when known.
    package var line: Int?
    package var column: Int?

    package init(_ code: Code, _ message: String, source: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.source = source
        self.line = line
        self.column = column
    }

    package var description: String {
        var where_ = source ?? ""
        if let line { where_ += (where_.isEmpty ? "" : ":") + "\(line):\(column ?? 1)" }
        return where_.isEmpty ? message : "\(where_): \(message)"
    }
}
