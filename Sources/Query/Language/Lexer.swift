/// Splits query text into tokens. `#` starts a comment that runs to the end of the line.
///
/// Words may hold letters, digits, `_`, `-`, `.`, `/` and `:` after their first letter, so that
/// target names (`core/gw1`), host names and IPv6 addresses (`fe80::1`) need no quotes; a word
/// or literal never takes a `..`, so `3..9` is three tokens. Literals start with a digit, or
/// with `-` and a digit where a time offset (`-24h`) is meant, and take the same characters plus
/// `%` and `+`, so that `24h`, `5%`, `10.0.0.0/8` and `2026-11-01T00:00:00Z` are each one token.
package enum Lexer {
    package static func tokens(_ text: String) throws(QueryError) -> [Token] {
        let chars = Array(text)
        var out = [Token]()
        var i = 0
        var line = 1, column = 1

        func advance(_ n: Int = 1) {
            for _ in 0..<n where i < chars.count {
                if chars[i] == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                i += 1
            }
        }
        func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }
        func isWordChar(_ c: Character) -> Bool {
            c.isLetter || c.isNumber || c == "_" || c == "-" || c == "/" || c == ":" || c == "."
        }
        // Consumes word characters (plus `extra`), stopping before a `..`.
        func take(extra: (Character) -> Bool) -> String {
            var s = ""
            while let c = peek(), isWordChar(c) || extra(c) {
                if c == ".", peek(1) == "." { break }
                s.append(c)
                advance()
            }
            return s
        }

        while let c = peek() {
            let pos = SourcePosition(line: line, column: column)
            if c.isWhitespace {
                advance()
            } else if c == "#" {
                while let d = peek(), d != "\n" { advance() }
            } else if c == "\"" {
                advance()
                var s = ""
                var closed = false
                while let d = peek() {
                    if d == "\"" {
                        advance()
                        closed = true
                        break
                    }
                    if d == "\n" { break }
                    if d == "\\" {
                        advance()
                        guard let e = peek() else { break }
                        switch e {
                        case "\"", "\\": s.append(e)
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        default:
                            throw QueryError("unknown escape '\\\(e)' in a string (expected \\\" \\\\ \\n or \\t)",
                                             line: line, column: column - 1)
                        }
                        advance()
                        continue
                    }
                    s.append(d)
                    advance()
                }
                guard closed else { throw QueryError("string not closed (expected '\"' before the end of the line)", line: pos.line, column: pos.column) }
                out.append(Token(kind: .string(s), position: pos))
            } else if c.isASCII && c.isNumber || (c == "-" && (peek(1)?.isASCII ?? false) && (peek(1)?.isNumber ?? false)) {
                var s = String(c)
                advance()
                s += take { $0 == "%" || $0 == "+" }
                out.append(Token(kind: .literal(s), position: pos))
            } else if c.isLetter || c == "_" {
                out.append(Token(kind: .word(take { _ in false }), position: pos))
            } else {
                let two = peek(1).map { String(c) + String($0) }
                if let two, ["!=", "<=", ">=", "!~", ".."].contains(two) {
                    advance(2)
                    out.append(Token(kind: .symbol(two), position: pos))
                } else if "=<>~,()".contains(c) {
                    advance()
                    out.append(Token(kind: .symbol(String(c)), position: pos))
                } else {
                    throw QueryError("unexpected character '\(c)'", line: pos.line, column: pos.column)
                }
            }
        }
        out.append(Token(kind: .end, position: SourcePosition(line: line, column: column)))
        return out
    }
}
