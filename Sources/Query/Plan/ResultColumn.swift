/// One column of a query's result: its name and what its values are.
public struct ResultColumn: Sendable, Equatable {
    /// What a column's values are, which says how they are rendered.
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

    /// The column's name in the output's header.
    public var name: String
    /// What its values are.
    public var kind: Kind

    /// A column called `name` of values of `kind`.
    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}
