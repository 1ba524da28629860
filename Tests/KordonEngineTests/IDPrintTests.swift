import Testing

@testable import KordonEngine

/// Id prints are written into snapshots: the function must not change from one build to the next.
@Suite struct IDPrintTests {
    /// The function as first written, a byte at a time, to hold faster versions to.
    func reference(_ bytes: [UInt8]) -> IDPrint {
        func rotated(_ value: UInt64, _ count: UInt64) -> UInt64 { value << count | value >> (64 - count) }
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        func mix(_ word: UInt64) {
            a = rotated(a ^ (word &* 0x87C3_7B91_1142_53D5), 31) &* 0x4CF5_AD43_2745_937F
            b = rotated(b ^ (word &* 0x52DC_E729_DA3E_D68B), 27) &* 0x38B3_4AE5_A1E3_8B93 &+ a
        }
        for start in stride(from: 0, to: bytes.count, by: 8) {
            var word: UInt64 = 0
            for (shift, byte) in bytes[start..<min(start + 8, bytes.count)].enumerated() { word |= UInt64(byte) << (8 * shift) }
            mix(word)
        }
        return IDPrint(high: IDPrint.fmix(a &+ b), low: IDPrint.fmix(b ^ rotated(a, 17)))
    }

    @Test func printsAreThoseSnapshotsHold() {
        #expect(IDPrint("ru-veseloyarsk-1-0000000003") == IDPrint(high: 0x8d62_f66e_8504_a7f6, low: 0xa901_d620_9d1d_49b5))
        #expect(IDPrint("e-1") == IDPrint(high: 0x8fd0_8f19_be41_bc7e, low: 0xbc62_ed9e_fcd4_11af))
        #expect(IDPrint("12345678") == IDPrint(high: 0x748b_bc8f_d2fd_8131, low: 0x49f6_429a_a307_c2c5))
        #expect(IDPrint("") == IDPrint(high: 0xaf2a_5908_4670_eb50, low: 0x7a56_bc47_29c7_b09e))
    }

    @Test func everyLengthMatchesTheReference() {
        var random = SystemRandomNumberGenerator()
        for length in 0...40 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                let print = bytes.withUnsafeBytes { IDPrint(bytes: $0) }
                #expect(print == reference(bytes), "length \(length): \(bytes)")
            }
        }
    }
}
