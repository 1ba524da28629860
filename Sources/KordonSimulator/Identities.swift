/// Synthetic document numbers, plates and event ids, unique within a stream.
///
/// Each kind of identifier numbers its values and scrambles the serial with a
/// bijection on a fixed bit width, so values look random, never repeat (a planted
/// incident's key cannot collide with background traffic) and depend only on the
/// seed. They describe no real person or vehicle.
struct Identities {
    private var docs: UInt64 = 0
    private var plates: UInt64 = 0
    private var permits: UInt64 = 0
    private var events: UInt64 = 0
    private var vessels: UInt64 = 0
    private let salt: UInt64

    init(seed: UInt64) {
        var mix = SplitMix64(seed: seed ^ 0x1D_E47_171E5)
        salt = mix.next()
    }

    /// `D` and 8 characters of base 32 (40 bits).
    mutating func doc() -> String {
        String(unsafeUninitializedCapacity: Self.docLength) { out in
            doc(into: out.baseAddress!)
            return Self.docLength
        }
    }

    static let docLength = 9

    /// Writes the next `doc()` at `out`.
    mutating func doc(into out: UnsafeMutablePointer<UInt8>) {
        docs += 1
        out[0] = UInt8(ascii: "D")
        Self.base32(Self.scramble(docs ^ (salt & 0xFF_FFFF), bits: 40), into: UnsafeMutableBufferPointer(start: out + 1, count: 8))
    }

    /// Three digits, three letters, a two-digit region: the shape of a road plate.
    mutating func plate() -> String {
        String(unsafeUninitializedCapacity: Self.plateLength) { out in
            plate(into: out.baseAddress!)
            return Self.plateLength
        }
    }

    static let plateLength = 8

    /// Writes the next `plate()` at `out`.
    mutating func plate(into out: UnsafeMutablePointer<UInt8>) {
        plates += 1
        var value = Self.scramble(plates ^ (salt >> 24 & 0xFFFF), bits: 28)
        Self.decimal(value % 1000, into: UnsafeMutableBufferPointer(start: out, count: 3))
        value /= 1000
        for index in 3..<6 {
            out[index] = UInt8(65 + value % 26)
            value /= 26
        }
        Self.decimal(1 + value % 20, into: UnsafeMutableBufferPointer(start: out + 6, count: 2))
    }

    /// A trailer or rail-wagon plate: same shape, distinct serial space.
    mutating func trailer() -> String {
        "TR" + plate()
    }

    mutating func permit(_ prefix: String) -> String {
        permits += 1
        return prefix + "-" + Self.padded(Self.scramble(permits ^ (salt >> 40 & 0xFFFF), bits: 24), 8)
    }

    /// A planted vessel: with AIS an MMSI-like number of the country's digits and 9xxxxx (background
    /// liners stay below 900000), without AIS a hull id of its home port such as `KZ-ATR-04711`.
    mutating func vessel(ais: Bool, country: String) -> String {
        vessels += 1
        let serial = Self.padded(Self.scramble(vessels ^ (salt >> 8 & 0xFFFF), bits: 16), 5)
        if ais { return (country == "KZ" ? "4369" : "2739") + serial }
        return (country == "KZ" ? "KZ-ATR-" : "RU-AST-") + serial
    }

    /// The next event's serial, for `eventId`.
    mutating func eventNumber() -> UInt64 {
        events += 1
        return events
    }

    /// `PREFIX-0000000001`: a producer-side sequence; the scrambled part of the stream is the content, not the id.
    mutating func event(_ prefix: String) -> String {
        Self.eventId(prefix, eventNumber())
    }

    static func eventId(_ prefix: String, _ number: UInt64) -> String {
        // Written in one allocation, as it names every event.
        let digits = max(10, digitCount(number))
        let length = prefix.utf8.count + 1 + digits
        return String(unsafeUninitializedCapacity: length) { out in
            let dash = out.initialize(fromContentsOf: prefix.utf8)
            out[dash] = UInt8(ascii: "-")
            decimal(number, into: UnsafeMutableBufferPointer(rebasing: out[(dash + 1)..<length]))
            return length
        }
    }

    /// Invertible mixing restricted to `bits` bits: odd multiplications and xor-shifts are bijections mod 2^bits.
    static func scramble(_ value: UInt64, bits: UInt64) -> UInt64 {
        let mask: UInt64 = (1 << bits) - 1
        var x = value & mask
        x = (x &* 0x9E37_79B9_7F4A_7C15) & mask
        x ^= x >> (bits / 2)
        x = (x &* 0xBF58_476D_1CE4_E5B9) & mask
        x ^= x >> (bits / 3)
        return x
    }

    /// The low 5 × `out.count` bits of `value` in base 32, most significant first.
    static func base32(_ value: UInt64, into out: UnsafeMutableBufferPointer<UInt8>) {
        // 0-9, then A-X without I and O.
        let digits: StaticString = "0123456789ABCDEFGHJKLMNPQRSTUVWX"
        var rest = value
        for index in stride(from: out.count - 1, through: 0, by: -1) {
            out[index] = digits.utf8Start[Int(rest & 31)]
            rest >>= 5
        }
    }

    /// Decimal, zero-padded to `width`.
    static func padded(_ value: UInt64, _ width: Int) -> String {
        let count = max(width, digitCount(value))
        return String(unsafeUninitializedCapacity: count) { out in
            decimal(value, into: out)
            return count
        }
    }

    static func digitCount(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// The low `out.count` decimal digits of `value`, zero-padded.
    static func decimal(_ value: UInt64, into out: UnsafeMutableBufferPointer<UInt8>) {
        var remaining = value
        for index in stride(from: out.count - 1, through: 0, by: -1) {
            out[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
    }
}
