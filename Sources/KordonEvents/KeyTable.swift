/// A fixed set of short names (member keys or enum values, at most 16 bytes
/// each) matched against raw bytes without creating strings: the bytes are
/// loaded as two little-endian words and looked up in an open-addressed table.
///
/// Immutable after `init`, hence `@unchecked Sendable` despite the raw slot
/// storage, which keeps the per-key lookup free of array bounds and
/// reference-count traffic.
final class KeyTable: @unchecked Sendable {
    let names: [String]
    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int
    private let shift: UInt64

    private struct Slot {
        var length = 0
        var first: UInt64 = 0
        var second: UInt64 = 0
        var index = -1
    }

    init(_ names: [String]) {
        self.names = names
        var bits: UInt64 = 3
        while 1 << bits < names.count * 4 { bits += 1 }
        shift = 64 - bits
        mask = (1 << bits) - 1
        slots = .allocate(capacity: mask + 1)
        slots.initialize(repeating: Slot(), count: mask + 1)
        for (index, name) in names.enumerated() {
            let bytes = Array(name.utf8)
            precondition((1...16).contains(bytes.count), "KeyTable names are 1 to 16 bytes")
            let (first, second) = bytes.withUnsafeBytes { KeyTable.words($0) }
            var slot = KeyTable.hash(bytes.count, first, second, shift)
            while slots[slot].index >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Slot(length: bytes.count, first: first, second: second, index: index)
        }
    }

    deinit {
        slots.deallocate()
    }

    /// The index of the name equal to these words, or -1.
    @inline(__always)
    func index(length: Int, first: UInt64, second: UInt64) -> Int {
        var slot = KeyTable.hash(length, first, second, shift)
        while true {
            let candidate = slots[slot]
            if candidate.index < 0 { return -1 }
            if candidate.length == length, candidate.first == first, candidate.second == second {
                return candidate.index
            }
            slot = (slot + 1) & mask
        }
    }

    /// The index of the name equal to `bytes`, or -1.
    func index(of bytes: UnsafeRawBufferPointer) -> Int {
        guard (1...16).contains(bytes.count) else { return -1 }
        let (first, second) = KeyTable.words(bytes)
        return index(length: bytes.count, first: first, second: second)
    }

    /// Bytes 0..<8 and 8..<16 as little-endian words, zero-padded.
    static func words(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var first: UInt64 = 0
        var second: UInt64 = 0
        for (i, byte) in bytes.prefix(16).enumerated() {
            if i < 8 {
                first |= UInt64(byte) << (8 * UInt64(i))
            } else {
                second |= UInt64(byte) << (8 * UInt64(i - 8))
            }
        }
        return (first, second)
    }

    @inline(__always)
    private static func hash(_ length: Int, _ first: UInt64, _ second: UInt64, _ shift: UInt64) -> Int {
        let mixed = (first &* 0x9E37_79B9_7F4A_7C15) ^ (second &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(length)
        return Int(truncatingIfNeeded: (mixed &* 0xFF51_AFD7_ED55_8CCD) >> shift)
    }
}

/// The values of a contract enum, matched as bytes.
final class EnumTable<Value: RawRepresentable & CaseIterable & Sendable>: Sendable where Value.RawValue == String {
    let cases: [Value]
    let keys: KeyTable
    /// `exit, entry`: the allowed values for messages, in contract order.
    let list: String

    init() {
        cases = Array(Value.allCases)
        keys = KeyTable(cases.map(\.rawValue))
        list = cases.map(\.rawValue).joined(separator: ", ")
    }
}
