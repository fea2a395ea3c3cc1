import Testing

@testable import Probe

/// The one JSON reader: what it accepts as one JSON value (RFC 8259), and where and why it
/// stops on what is not.
@Suite struct JSONScannerTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a": [1, -0, 0.5, 1e9, 2E-3, -12.5e+2, true, false, null, "x"]} "#,
        #""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#, #"{"k\u00e9y": {"deeper": [[[]]]}}"#, "\"é\"", "0",
    ])
    func validDocumentsHaveNoProblem(_ text: String) {
        #expect(JSONScanner.firstProblem(in: Array(text.utf8)) == nil)
    }

    @Test(arguments: [
        ("", 1, 1, "unexpected end of input"),
        ("{\"a\": 1} x", 1, 10, "unexpected text after the JSON value"),
        ("[1,\n 012]", 2, 2, "a number with a leading zero, found '0'"),
        ("[1.]", 1, 4, "expected a digit after '.', found ']'"),
        ("[1e]", 1, 4, "expected a digit in the exponent, found ']'"),
        ("[-]", 1, 3, "expected a digit, found ']'"),
        ("[.5]", 1, 2, "expected a value, found '.'"),
        (#"["\x"]"#, 1, 4, "unknown escape in a string, found 'x'"),
        (#"["\u12g4"]"#, 1, 7, "expected four hex digits after \\u, found 'g'"),
        (#"["\udc00"]"#, 1, 8, "a \\u escape holds a lone low surrogate, found '0'"),
        (#"{"\ud800": 1}"#, 1, 8, "a \\u escape holds a lone high surrogate, found '0'"),
        ("[\"a\u{01}\"]", 1, 4, "control character in a string"),
        ("[\"abc", 1, 6, "string not terminated"),
        ("[tru]", 1, 2, "expected true"),
        ("{\"a\" 1}", 1, 6, "expected ':' after an object key, found '1'"),
        ("{\"a\": 1,}", 1, 9, "expected a string, found '}'"),
        ("[1 2]", 1, 4, "expected ',' or ']', found '2'"),
        ("{\"é\": x}", 1, 7, "expected a value, found 'x'"),
    ])
    func aProblemNamesItsLineColumnAndCause(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        #expect(JSONScanner.firstProblem(in: Array(text.utf8)) == JSONScanner.Problem(line: line, column: column, message: message))
    }

    /// Bytes that are not UTF-8 inside a string are refused at the byte that starts the bad
    /// character; every well-formed one (two, three and four bytes, the edges of each range)
    /// passes.
    @Test(arguments: [
        ([0xFF], "byte 0xff cannot start a character"),
        ([0xC0, 0xAF], "byte 0xc0 cannot start a character"),            // overlong '/'
        ([0xE0, 0x80, 0xAF], "the character starting here is malformed"), // overlong
        ([0xED, 0xA0, 0x80], "the character starting here is malformed"), // a surrogate
        ([0xF4, 0x90, 0x80, 0x80], "the character starting here is malformed"), // past U+10FFFF
        ([0xC3], "the character starting here is malformed"),            // cut short by the quote
        ([0x80], "byte 0x80 cannot start a character"),                   // a lone continuation
    ] as [([UInt8], String)])
    func invalidUTF8InAStringIsRefusedAtItsByte(_ bad: [UInt8], _ message: String) {
        let doc: [UInt8] = Array("{\"name\": \"ab".utf8) + bad + Array("cd\"}".utf8)
        #expect(JSONScanner.firstProblem(in: doc) == JSONScanner.Problem(line: 1, column: 13, message: "invalid UTF-8 in a string: " + message))
    }

    @Test func wellFormedUTF8PassesAtEveryLength() {
        for scalar in ["\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}", "é", "日本", "😀"] {
            #expect(JSONScanner.firstProblem(in: Array("[\"\(scalar)\"]".utf8)) == nil, "\(scalar)")
        }
    }

    @Test func nestingIsBoundedNotAStackOverflow() {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        let p = JSONScanner.firstProblem(in: deep)
        #expect(p?.message == "nested deeper than \(JSONScanner.maxSkipDepth) levels" && p?.column == JSONScanner.maxSkipDepth + 1)
        let fine = String(repeating: "[", count: JSONScanner.maxSkipDepth) + String(repeating: "]", count: JSONScanner.maxSkipDepth)
        #expect(JSONScanner.firstProblem(in: Array(fine.utf8)) == nil)
    }
}
