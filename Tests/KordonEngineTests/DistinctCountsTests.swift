import Testing

@testable import KordonEngine

/// A window's distinct counts, in a small array or past it in a table, against a plain table.
@Suite struct DistinctCountsTests {
    @Test func countsAsATableWouldThroughAndPastTheArray() {
        var random = SystemRandomNumberGenerator()
        for values in [3, 8, 9, 30] {
            var counts = DistinctCounts()
            var model: [String: Int] = [:]
            for _ in 0..<2_000 {
                let value = "v\(Int.random(in: 0..<values, using: &random))"
                if Bool.random(using: &random) {
                    counts.add(value)
                    model[value, default: 0] += 1
                } else {
                    // Removing a value not counted changes nothing, as a window's entries never do that.
                    counts.remove(value)
                    if let count = model[value] { model[value] = count > 1 ? count - 1 : nil }
                }
                #expect(counts.count == model.count, "\(values) values")
            }
        }
    }

    /// As the engine's keys: canonically equivalent spellings are different values, in the array and in the table.
    @Test func valuesCompareByteForByte() {
        for padding in [0, 10] {
            var counts = DistinctCounts()
            for index in 0..<padding { counts.add("v\(index)") }
            counts.add("caf\u{E9}")
            counts.add("cafe\u{301}")
            #expect(counts.count == padding + 2)
            counts.remove("caf\u{E9}")
            #expect(counts.count == padding + 1)
        }
    }
}
