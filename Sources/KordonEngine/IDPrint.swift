/// A 128-bit fingerprint of an event id, which the large id tables (ids seen, crossings kept for
/// joins) and their expiry queues hold instead of the string: 16 bytes in place, nothing on the heap
/// to reference-count or free, and a hash already mixed. Two ids with one print would be taken for
/// one (a redelivery); among random ids that takes around 2^64 of them. The function is fixed, not
/// seeded per process, because prints are written into snapshots.
struct IDPrint: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ id: String) {
        // In place where the string allows: a mutable copy for `withUTF8` retains it.
        if let print = id.utf8.withContiguousStorageIfAvailable({ IDPrint(bytes: UnsafeRawBufferPointer($0)) }) {
            self = print
        } else {
            var id = id
            self = id.withUTF8 { IDPrint(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// Two lanes over the bytes in 8-byte little-endian words, each finished with MurmurHash3's fmix64.
    init(bytes: UnsafeRawBufferPointer) {
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var offset = 0
        func mix(_ word: UInt64) {
            a = (a ^ (word &* 0x87C3_7B91_1142_53D5)).rotated(31) &* 0x4CF5_AD43_2745_937F
            b = (b ^ (word &* 0x52DC_E729_DA3E_D68B)).rotated(27) &* 0x38B3_4AE5_A1E3_8B93 &+ a
        }
        while offset + 8 <= bytes.count {
            mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        if offset < bytes.count {
            // The last one to seven bytes as a little-endian word, zero above them: copied in at once
            // rather than shifted in a byte at a time (the value, which snapshots hold, is the same).
            var tail: UInt64 = 0
            withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
            mix(UInt64(littleEndian: tail))
        }
        high = Self.fmix(a &+ b)
        low = Self.fmix(b ^ a.rotated(17))
    }

    static func fmix(_ value: UInt64) -> UInt64 {
        var value = value
        value ^= value >> 33
        value &*= 0xFF51_AFD7_ED55_8CCD
        value ^= value >> 33
        value &*= 0xC4CE_B9FE_1A85_EC53
        value ^= value >> 33
        return value
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(low)
    }

    /// What dictionaries use: the print is already a hash, so running SipHash over it again (a fifth of
    /// the engine's instructions went to hashing) buys nothing. Mixing in the table's per-process seed
    /// with a bijection keeps bucket positions unpredictable, as SipHash does.
    func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: Self.fmix(low ^ UInt64(truncatingIfNeeded: seed)))
    }
}

extension UInt64 {
    fileprivate func rotated(_ count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
