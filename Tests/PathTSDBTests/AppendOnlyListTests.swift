import Testing
@testable import PathTSDB

/// The catalog's lists and indexes: values, across chunk boundaries and merges, and copies that
/// later appends leave as they were.
@Suite struct AppendOnlyListTests {
    @Test func entriesReadBackAcrossChunksAndCopiesKeepTheirValue() {
        var list = AppendOnlyList<Int>()
        var index = AppendOnlyIndex<Int, Int>()
        var copies = [(AppendOnlyList<Int>, AppendOnlyIndex<Int, Int>, Int)]()
        let n = 5 * AppendOnlyList<Int>.chunkSize + 17
        for i in 0..<n {
            list.append(i * 3)
            index.insert(i, for: i * 7)
            if i % 997 == 0 { copies.append((list, index, i + 1)) }
        }
        #expect(list.count == n)
        #expect(Array(list) == (0..<n).map { $0 * 3 })
        #expect((0..<n).allSatisfy { index[$0 * 7] == $0 })
        #expect(index[1] == nil && index[n * 7] == nil)
        #expect(Array(list.dropFirst(n - 3)) == [(n - 3) * 3, (n - 2) * 3, (n - 1) * 3])
        for (l, ix, count) in copies {
            #expect(l.count == count && l.last == (count - 1) * 3)
            #expect(ix[(count - 1) * 7] == count - 1 && ix[count * 7] == nil, "a copy does not see later inserts")
        }
    }
}
