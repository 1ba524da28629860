import Testing

@testable import KordonEngine

/// The engine's hash table against `Dictionary` as the model, under random operations on keys whose
/// hashes collide and crowd the end of the slots (so runs wrap around), which removal must keep findable.
@Suite struct HashTableTests {
    /// Four hash values for all keys: long runs, and one home at the very last slot.
    struct CrowdedKey: Hashable {
        let value: Int

        func _rawHashValue(seed: Int) -> Int {
            let highs: [UInt64] = [0xFFFF_FFFF, 0xFFFF_FFF0, 0x8000_0000, 0x0000_0001]
            return Int(bitPattern: UInt(highs[value % 4] << 32 | UInt64(value)))
        }
    }

    @Test(arguments: [1, 2, 3])
    func behavesAsADictionary(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var table = HashTable<CrowdedKey, Int>()
        var model: [CrowdedKey: Int] = [:]
        var snapshots: [(HashTable<CrowdedKey, Int>, [CrowdedKey: Int])] = []
        for step in 0..<20_000 {
            let key = CrowdedKey(value: Int(random.next() % 300))
            switch random.next() % 7 {
            case 0, 1:
                #expect(table.updateValue(step, forKey: key) == model.updateValue(step, forKey: key))
            case 2:
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 3:
                table[key, default: 0] += 1
                model[key, default: 0] += 1
            case 4:
                if let index = table.index(forKey: key) {
                    table[valueAt: index] *= 2
                    model[key]! *= 2
                    if step % 2 == 0 { #expect(table.remove(at: index) == model.removeValue(forKey: key)) }
                } else {
                    #expect(model[key] == nil)
                }
            case 5:
                let limit = Int(random.next() % UInt64(step + 1))
                table.updateOrRemove { $0 += 1; return $0 > limit }
                model = model.mapValues { $0 + 1 }.filter { $0.value > limit }
            default:
                #expect(table[key] == model[key])
            }
            if step % 2_000 == 0 { snapshots.append((table, model)) }
            #expect(table.count == model.count)
        }
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value) }) == model)
        // Copies taken along the way were never changed by what came after.
        for (copy, expected) in snapshots {
            #expect(Dictionary(uniqueKeysWithValues: copy.map { ($0.key, $0.value) }) == expected)
        }
    }

    @Test func growsPastAMillionAtMostFourFifthsFull() {
        var table = HashTable<Int, Int>()
        for key in 0..<1_000_000 { table[key] = key }
        #expect(table.count == 1_000_000)
        #expect((0..<1_000_000).allSatisfy { table[$0] == $0 })
        #expect(table[1_000_000] == nil)
    }

    /// Sizes come from a fixed ladder, so the room a count takes does not depend on the table's history,
    /// and a table is never more than 4/5 full nor, past the small sizes, less than about 3/5.
    @Test func sizesComeFromALadder() {
        #expect(HashTable<Int, Int>.capacity(for: 1) == 16)
        #expect(HashTable<Int, Int>.capacity(for: 3_000) == 4_096)
        #expect(HashTable<Int, Int>.capacity(for: 1_000_000) == 1_310_720)
        var previous = 0
        for count in stride(from: 1, through: 3_000_000, by: 997) {
            let capacity = HashTable<Int, Int>.capacity(for: count)
            #expect(count * 5 <= capacity * 4)
            #expect(capacity >= previous)
            if count > 4_000 { #expect(Double(count) / Double(capacity) > 0.63) }
            previous = capacity
        }
    }
}
