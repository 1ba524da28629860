import Foundation

/// A seeded 64-bit hash of a string's UTF-8 bytes for the engine's own tables, which hash alert keys,
/// correlations and checkpoint ids several times per event: SipHash over them (Swift's `Hasher`) was
/// about a tenth of the engine's instructions. The table's per-process seed goes into the state, so
/// bucket positions still differ between runs; the function is not built to resist inputs crafted
/// against it, as SipHash is, which matters less here: keys come from the border services' own systems.
func tableHash(_ text: String, seed: UInt64) -> UInt64 {
    // In place: `withUTF8` needs a mutable copy, and copying the string retains it.
    if let hash = text.utf8.withContiguousStorageIfAvailable({ tableHash(bytes: $0, seed: seed) }) { return hash }
    var text = text
    return text.withUTF8 { tableHash(bytes: $0, seed: seed) }
}

private func tableHash(bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
    var state = seed ^ 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
    let raw = UnsafeRawBufferPointer(bytes)
    var offset = 0
    func mix(_ word: UInt64) {
        state = (state ^ (word &* 0x87C3_7B91_1142_53D5)).rotatedLeft(31) &* 0x4CF5_AD43_2745_937F
    }
    while offset + 8 <= raw.count {
        mix(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
    }
    // The last bytes in one or two loads rather than one at a time; the length is in the state already.
    let left = raw.count - offset
    if left > 0 {
        if raw.count >= 8 {
            mix(raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
        } else if left >= 4 {
            let low = UInt64(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            mix(low | UInt64(raw.loadUnaligned(fromByteOffset: left - 4, as: UInt32.self)) << 32)
        } else {
            mix(UInt64(raw[0]) | UInt64(raw[left / 2]) << 8 | UInt64(raw[left - 1]) << 16)
        }
    }
    return IDPrint.fmix(state)
}

/// Byte for byte, the equality `tableHash` agrees with. String's `==` also equates canonically
/// equivalent spellings (é as one scalar or as two), which hash apart: a table holding one would then
/// find or miss the other by the chance of its per-process seed, and the same events could give
/// different alerts from one run to the next. Keys are compared as the producers' bytes, as event ids are.
func sameBytes(_ a: String, _ b: String) -> Bool {
    // The same two words are the same string: a short one (up to 15 bytes) keeps its bytes in them, and
    // a long one its storage's address. Most comparisons are of equal keys, and most keys are short.
    if unsafeBitCast(a, to: (UInt64, UInt64).self) == unsafeBitCast(b, to: (UInt64, UInt64).self) { return true }
    // With memcmp: `elementsEqual` over the buffers went a byte at a time, a tenth of the engine's instructions.
    let inPlace = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            x.count == y.count && (x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
        }
    }
    return (inPlace ?? nil) ?? a.utf8.elementsEqual(b.utf8)
}

/// Whether `a`'s UTF-8 bytes precede `b`'s: the snapshots' order for strings. `String`'s `<` ranks
/// canonically equivalent spellings as equal, which the engine's tables keep apart (`sameBytes`), so
/// their order would have followed the tables' hashing.
func bytesPrecede(_ a: String, _ b: String) -> Bool {
    let inPlace = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            let common = min(x.count, y.count)
            let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
            return order != 0 ? order < 0 : x.count < y.count
        }
    }
    return (inPlace ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Hashes what `sameBytes` compares, for `hash(into:)` (tables use `_rawHashValue(seed:)`).
func combineBytes(_ text: String, into hasher: inout Hasher) {
    hasher.combine(text.utf8.count)
    for byte in text.utf8 { hasher.combine(byte) }
}

/// A string as a table key hashed with `tableHash`: geography ids and rulebook lists, looked up per event.
struct TableKey: Hashable, Sendable {
    let text: String

    init(_ text: String) {
        self.text = text
    }

    static func == (a: TableKey, b: TableKey) -> Bool { sameBytes(a.text, b.text) }

    func hash(into hasher: inout Hasher) {
        combineBytes(text, into: &hasher)
    }

    func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: tableHash(text, seed: UInt64(truncatingIfNeeded: seed)))
    }
}

extension AlertKey {
    public static func == (a: AlertKey, b: AlertKey) -> Bool { a.type == b.type && sameBytes(a.value, b.value) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        combineBytes(value, into: &hasher)
    }

    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: tableHash(value, seed: UInt64(truncatingIfNeeded: seed) &+ UInt64(type.ordinal)))
    }
}

extension Correlation {
    static func == (a: Correlation, b: Correlation) -> Bool { a.key == b.key && sameBytes(a.values, b.values) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        combineBytes(values, into: &hasher)
    }

    func _rawHashValue(seed: Int) -> Int {
        let key = UInt64(truncatingIfNeeded: key._rawHashValue(seed: seed))
        return Int(truncatingIfNeeded: tableHash(values, seed: key))
    }
}

extension WindowKey {
    static func == (a: WindowKey, b: WindowKey) -> Bool { a.key == b.key && sameBytes(a.partition, b.partition) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        combineBytes(partition, into: &hasher)
    }

    func _rawHashValue(seed: Int) -> Int {
        let key = key.map { UInt64(truncatingIfNeeded: $0._rawHashValue(seed: seed)) } ?? UInt64(truncatingIfNeeded: seed)
        return partition.isEmpty ? Int(truncatingIfNeeded: IDPrint.fmix(key)) : Int(truncatingIfNeeded: tableHash(partition, seed: key))
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
