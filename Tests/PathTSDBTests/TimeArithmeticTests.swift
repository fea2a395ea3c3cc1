import Testing
@testable import PathTSDB

@Suite struct TimeArithmeticTests {
    /// (a, b, ⌊a / b⌋, largest multiple of b not above a).
    static let cases: [(Int64, Int64, Int64, Int64)] = [
        (7, 3, 2, 6), (6, 3, 2, 6), (0, 3, 0, 0), (-1, 3, -1, -3), (-3, 3, -1, -3), (-4, 3, -2, -6),
        (Int64.max, 1, Int64.max, Int64.max), (Int64.min, 1, Int64.min, Int64.min),
        (Int64.min, 2, Int64.min / 2, Int64.min),
        (Int64.min + 1, 10, Int64.min / 10 - 1, Int64.min),  // the multiple would lie below the range
        (Int64.max, 3_600_000_000, Int64.max / 3_600_000_000, Int64.max / 3_600_000_000 * 3_600_000_000),
    ]

    @Test func floorsRoundDownOverTheWholeRange() {
        for (a, b, quotient, multiple) in TimeArithmeticTests.cases {
            #expect(TimeArithmetic.floorDivide(a, by: b) == quotient, "\(a) / \(b)")
            #expect(TimeArithmetic.floorMultiple(a, of: b) == multiple, "\(a) to a multiple of \(b)")
        }
    }
}
