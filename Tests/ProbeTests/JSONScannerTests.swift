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

    @Test func nestingIsBoundedNotAStackOverflow() {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        let p = JSONScanner.firstProblem(in: deep)
        #expect(p?.message == "nested deeper than \(JSONScanner.maxSkipDepth) levels" && p?.column == JSONScanner.maxSkipDepth + 1)
        let fine = String(repeating: "[", count: JSONScanner.maxSkipDepth) + String(repeating: "]", count: JSONScanner.maxSkipDepth)
        #expect(JSONScanner.firstProblem(in: Array(fine.utf8)) == nil)
    }
}
