/// A position in a query's text: 1-based line and column (columns count characters).
package struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    package var line: Int
    package var column: Int

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    package var description: String { "\(line):\(column)" }
}

/// One lexical unit of the query language.
package struct Token: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A bare word: a keyword, an aggregate, a column or an unquoted name (`stats`, `p95`, `gw1`).
        case word(String)
        /// A double-quoted string, escapes resolved.
        case string(String)
        /// A number with an optional unit suffix (`24h`, `50ms`, `5%`, `3`, `1.5`): the text as written.
        case literal(String)
        /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `~`, `!~`, `,`, `(`, `)`, `..`.
        case symbol(String)
        case end
    }

    package var kind: Kind
    package var position: SourcePosition

    /// How the token reads in an error message.
    package var display: String {
        switch kind {
        case .word(let w): "'\(w)'"
        case .string(let s): "\"\(s)\""
        case .literal(let l): "'\(l)'"
        case .symbol(let s): "'\(s)'"
        case .end: "the end of the query"
        }
    }
}
