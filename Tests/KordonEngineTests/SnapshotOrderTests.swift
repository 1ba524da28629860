import Testing

@testable import KordonEngine

/// Snapshots list large tables in a content-defined key order, so equal states give equal bytes
/// whatever order their tables hold keys in.
@Suite struct SnapshotOrderTests {
    @Test func stringsRankByTheirBytes() {
        // Equal as `String`s, different keys to the engine's tables: ranked apart, one way only.
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)
        #expect(bytesPrecede(composed, decomposed) != bytesPrecede(decomposed, composed))
        #expect(bytesPrecede("AB", "ABC") && !bytesPrecede("ABC", "AB"))
        #expect(!bytesPrecede("AB", "AB"))
        #expect(bytesPrecede("", "A") && !bytesPrecede("A", ""))
        #expect(bytesPrecede("AZ", "B"))
        // Past 15 bytes a string lives out of line.
        let long = String(repeating: "x", count: 40)
        #expect(bytesPrecede(long + "a", long + "b") && !bytesPrecede(long + "b", long + "a"))
        #expect(bytesPrecede(long, long + "a"))
    }

    @Test func keysSortTheSameFromAnyStartingOrder() {
        var generator = SplitMix(seed: 11)
        let types: [KeyType] = [.plate, .doc, .officer, .checkpoint]
        // Values sharing their first bytes, as plates of one region do; some keys repeat.
        let keys = (0..<3000).map { _ in
            AlertKey(type: types[Int(generator.next() % 4)], value: "KZ 0\(generator.next() % 1500) AB")
        }
        let sorted = keys.sorted(by: AlertKey.precedes)
        // Reversed, then each moved to a random place before it (Fisher-Yates).
        var shuffled = Array(keys.reversed())
        for index in shuffled.indices.dropFirst() { shuffled.swapAt(index, Int(generator.next() % UInt64(index + 1))) }
        #expect(shuffled.sorted(by: AlertKey.precedes) == sorted)
        #expect(sortedForSnapshot(shuffled, key: { $0 }).map(\.1) == sorted)
        // A strict order: of two different keys exactly one precedes; types stay apart.
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(a == b ? !AlertKey.precedes(a, b) && !AlertKey.precedes(b, a) : AlertKey.precedes(a, b) && !AlertKey.precedes(b, a))
            #expect(a.type == b.type || a.type.ordinal < b.type.ordinal)
        }
        // Prefixes never contradict the order.
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.snapshotPrefix <= b.snapshotPrefix) }
    }
}
