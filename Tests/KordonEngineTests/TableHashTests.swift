import Testing

@testable import KordonEngine

/// The engine's own hash for string keys: equal strings hash alike under one seed, and every byte and
/// the length count, whatever the length (whole words, overlapping last words, short strings).
@Suite struct TableHashTests {
    @Test func everyByteAndTheLengthMoveTheHash() {
        let seed: UInt64 = 0x1234_5678
        for length in 0...40 {
            let text = String((0..<length).map { Character(UnicodeScalar(UInt8(65 + $0 % 26))) })
            let hash = tableHash(text, seed: seed)
            #expect(tableHash(String(text), seed: seed) == hash)
            #expect(tableHash(text + "A", seed: seed) != hash, "length \(length) then one more byte")
            for position in 0..<length {
                var bytes = Array(text.utf8)
                bytes[position] ^= 0x20
                #expect(tableHash(String(decoding: bytes, as: UTF8.self), seed: seed) != hash, "length \(length), byte \(position)")
            }
        }
    }

    @Test func theSeedMovesTheHash() {
        for text in ["", "M10000001", "D-1234567890-XYZ"] {
            #expect(tableHash(text, seed: 1) != tableHash(text, seed: 2))
        }
    }

    @Test func keysFindTheirEntries() {
        var table: [Correlation: Int] = [:]
        for index in 0..<2_000 {
            table[Correlation(key: AlertKey(type: index % 2 == 0 ? .plate : .doc, value: "K\(index / 2)"), values: "\(index % 7)")] = index
        }
        #expect(table.count == 2_000)
        for index in 0..<2_000 {
            #expect(table[Correlation(key: AlertKey(type: index % 2 == 0 ? .plate : .doc, value: "K\(index / 2)"), values: "\(index % 7)")] == index)
        }
        let windows = Dictionary(uniqueKeysWithValues: (0..<500).map { (WindowKey(key: $0 == 0 ? nil : AlertKey(type: .plate, value: "P\($0)"), partition: $0 % 3 == 0 ? "" : "\u{0}\($0)"), $0) })
        for index in 0..<500 {
            #expect(windows[WindowKey(key: index == 0 ? nil : AlertKey(type: .plate, value: "P\(index)"), partition: index % 3 == 0 ? "" : "\u{0}\(index)")] == index)
        }
    }

    /// Keys are the producers' bytes: é written as one scalar and as e with a combining accent are two
    /// keys in every table, whatever its seed, as their hashes differ.
    @Test func canonicallyEquivalentSpellingsAreDifferentKeys() {
        let (composed, decomposed) = ("PL\u{E9}-1", "PLe\u{301}-1")
        #expect(composed == decomposed)
        #expect(AlertKey(type: .plate, value: composed) != AlertKey(type: .plate, value: decomposed))
        #expect(AlertKey(type: .plate, value: composed) == AlertKey(type: .plate, value: "PL\u{E9}-1"))
        #expect(TableKey(composed) != TableKey(decomposed))
        #expect(Correlation(key: AlertKey(type: .doc, value: "D"), values: composed) != Correlation(key: AlertKey(type: .doc, value: "D"), values: decomposed))
        #expect(WindowKey(key: nil, partition: composed) != WindowKey(key: nil, partition: decomposed))
        for round in 0..<50 {
            // Many tables, so many seeds and bucket layouts: each holds both, and finds each.
            var table: [AlertKey: Int] = [:]
            for index in 0..<round { table[AlertKey(type: .plate, value: "P\(index)")] = index }
            table[AlertKey(type: .plate, value: composed)] = -1
            table[AlertKey(type: .plate, value: decomposed)] = -2
            #expect(table.count == round + 2)
            #expect(table[AlertKey(type: .plate, value: composed)] == -1)
            #expect(table[AlertKey(type: .plate, value: decomposed)] == -2)
        }
        var hashers = (Hasher(), Hasher())
        AlertKey(type: .plate, value: composed).hash(into: &hashers.0)
        AlertKey(type: .plate, value: "PL\u{E9}-1").hash(into: &hashers.1)
        #expect(hashers.0.finalize() == hashers.1.finalize())
    }
}
