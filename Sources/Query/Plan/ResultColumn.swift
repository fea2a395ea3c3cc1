/// One column of a query's result: its name and what its values are.
public struct ResultColumn: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Text compared with `=`, `!=`, `~` and `!~`.
        case text
        /// An address (text) that `in PREFIX` also tests.
        case address
        /// A number in `unit`.
        case number(ValueUnit)
        /// Microseconds since the epoch.
        case time
    }

    public var name: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}
