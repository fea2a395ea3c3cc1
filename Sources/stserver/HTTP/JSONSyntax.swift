/// Finds where a JSON text (RFC 8259) stops being JSON, for error messages: Foundation's
/// decoder on Linux says only that the data is "not valid JSON".
enum JSONSyntax {
    struct Problem: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The first syntax error in `bytes`, or nil when they are one valid JSON value.
    static func firstProblem(in bytes: [UInt8]) -> Problem? {
        var p = Checker(bytes: bytes)
        return p.check()
    }

    private struct Checker {
        let bytes: [UInt8]
        var i = 0
        let maxDepth = 256

        mutating func check() -> Problem? {
            do throws(Problem) {
                skipSpace()
                try value(depth: 0)
                skipSpace()
                if i < bytes.count { throw fail("unexpected text after the JSON value") }
                return nil
            } catch {
                return error
            }
        }

        func fail(_ m: String) -> Problem {
            var line = 1, column = 1
            for b in bytes[0..<min(i, bytes.count)] {
                if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            }
            let found = i < bytes.count ? "'\(String(decoding: [bytes[i]], as: UTF8.self))'" : "the end of the body"
            return Problem(line: line, column: column, message: "\(m), found \(found)")
        }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func value(depth: Int) throws(Problem) {
            guard depth < maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            guard i < bytes.count else { throw fail("expected a value") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                    try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    try value(depth: depth + 1)
                    if try listEnds(at: UInt8(ascii: "}")) { return }
                }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
                while true {
                    skipSpace()
                    try value(depth: depth + 1)
                    if try listEnds(at: UInt8(ascii: "]")) { return }
                }
            case UInt8(ascii: "\""):
                try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
            default:
                throw fail("expected a value")
            }
        }

        /// After an object's member or an array's element: consumes the closing bracket (true)
        /// or the comma before the next one (false).
        mutating func listEnds(at close: UInt8) throws(Problem) -> Bool {
            skipSpace()
            let expected = "expected ',' or '\(Character(Unicode.Scalar(close)))'"
            guard i < bytes.count else { throw fail(expected) }
            if bytes[i] == close { i += 1; return true }
            guard bytes[i] == UInt8(ascii: ",") else { throw fail(expected) }
            i += 1
            return false
        }

        mutating func literal(_ word: String) throws(Problem) {
            for c in word.utf8 {
                guard i < bytes.count, bytes[i] == c else { throw fail("expected \(word)") }
                i += 1
            }
        }

        mutating func string() throws(Problem) {
            i += 1
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; return }
                if b < 0x20 { throw fail("control character in a string") }
                if b == UInt8(ascii: "\\") {
                    i += 1
                    guard i < bytes.count else { break }
                    switch bytes[i] {
                    case UInt8(ascii: "u"):
                        let unit = try hex4()
                        if (0xDC00...0xDFFF).contains(unit) { throw fail("a \\u escape holds a lone low surrogate") }
                        if (0xD800...0xDBFF).contains(unit) {
                            // A high surrogate must be followed by a low one.
                            guard i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\\"), bytes[i + 2] == UInt8(ascii: "u") else {
                                throw fail("a \\u escape holds a lone high surrogate")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("a \\u escape holds a lone high surrogate") }
                        }
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    default:
                        throw fail("unknown escape in a string")
                    }
                }
                i += 1
            }
            throw fail("string not closed")
        }

        /// Reads the four hex digits after `\u` (`i` on the `u`), leaving `i` on the last.
        mutating func hex4() throws(Problem) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                i += 1
                guard i < bytes.count, bytes[i].isHexDigit else { throw fail("expected four hex digits after \\u") }
                let b = bytes[i]
                v = v << 4 | UInt32(b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10)
            }
            return v
        }

        mutating func number() throws(Problem) {
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            func digits() -> Int {
                let start = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                return i - start
            }
            guard digits() > 0 else { throw fail("expected a digit") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { throw fail("expected a digit after '.'") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("expected a digit in the exponent") }
            }
        }
    }
}

extension JSONSyntax.Problem: Error {}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
