// A strict RFC 8259 scanner over raw bytes: whitespace, strings (with UTF-8
// and escape validation), numbers, literals, and an iterative skipper for
// values nobody asked for. Every read is bounds-checked against `count` by
// hand; nothing here recurses, so hostile nesting costs a counter, not stack.

/// A string's content bytes (between the quotes) in the message.
struct StringToken {
    var start: Int
    var end: Int
    /// Whether the raw bytes contain `\` escapes and differ from the value.
    var hasEscapes: Bool

    var length: Int { end - start }
}

/// A number's bytes and, when they fit, its decimal digits: value = ±mantissa × 10^exponent.
struct NumberToken {
    var start: Int
    var end: Int
    var mantissa: UInt64
    var exponent: Int
    var negative: Bool
    /// No fraction and no exponent part: an integer token.
    var isInteger: Bool
    /// A non-zero digit beyond the 19 the mantissa holds was dropped.
    var truncated: Bool
}

/// Containers deeper than this are rejected; the contract's deepest is 4.
let maximumDepth = 64

enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let zero = UInt8(ascii: "0")
}

struct Scanner {
    let base: UnsafeRawPointer
    let count: Int
    var pos = 0

    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    func byte(_ at: Int) -> UInt8 {
        base.load(fromByteOffset: at, as: UInt8.self)
    }

    /// The byte at `pos`, or nil at the end.
    @inline(__always)
    var current: UInt8? {
        pos < count ? byte(pos) : nil
    }

    func bytes(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < count {
            let b = byte(pos)
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    // MARK: - Errors

    var unexpectedEnd: DecodeFailure {
        .syntax("unexpected end of input at byte \(count)")
    }

    /// The syntax error for the byte at `at`, which is not what the grammar allows there.
    func unexpected(at: Int) -> DecodeFailure {
        guard at < count else { return unexpectedEnd }
        let b = byte(at)
        switch b {
        case 0x21...0x7E:
            return .syntax("unexpected '\(Character(Unicode.Scalar(b)))' at byte \(at)")
        case 0x80...:
            var probe = self
            probe.pos = at
            if (try? probe.scanUTF8Sequence()) == nil { return .syntax("invalid UTF-8 at byte \(at)") }
            return .syntax("unexpected non-ASCII character at byte \(at)")
        default:
            return .syntax("unexpected byte 0x\(hex(b)) at byte \(at)")
        }
    }

    // MARK: - Structure

    @inline(__always)
    mutating func expect(_ expected: UInt8) throws(DecodeFailure) {
        guard pos < count, byte(pos) == expected else { throw unexpected(at: pos) }
        pos += 1
    }

    /// After a member value: consumes `,` (returning true, more to come) or `}` (false).
    @inline(__always)
    mutating func nextMember(closing: UInt8) throws(DecodeFailure) -> Bool {
        skipWhitespace()
        guard pos < count else { throw unexpectedEnd }
        let b = byte(pos)
        pos += 1
        if b == ASCII.comma {
            skipWhitespace()
            return true
        }
        if b == closing { return false }
        throw unexpected(at: pos - 1)
    }

    /// Consumes `null` if it is next.
    @inline(__always)
    mutating func takeNull() throws(DecodeFailure) -> Bool {
        guard pos < count, byte(pos) == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws(DecodeFailure) {
        let length = word.utf8CodeUnitCount
        for i in 0..<length {
            guard pos + i < count else { throw unexpectedEnd }
            guard byte(pos + i) == word.utf8Start[i] else { throw unexpected(at: pos + i) }
        }
        pos += length
    }

    // MARK: - Strings

    /// Scans a string starting at its opening quote, validating escapes, control characters and UTF-8.
    mutating func scanString() throws(DecodeFailure) -> StringToken {
        pos += 1
        let start = pos
        var escaped = false
        while true {
            // Eight bytes at a time until one needs a look: `"`, `\`, a control character or non-ASCII.
            while pos + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
                let flagged = Scanner.specialBytes(word)
                if flagged == 0 {
                    pos += 8
                    continue
                }
                pos += flagged.trailingZeroBitCount >> 3
                break
            }
            guard pos < count else { throw unexpectedEnd }
            let b = byte(pos)
            if b == ASCII.quote {
                pos += 1
                return StringToken(start: start, end: pos - 1, hasEscapes: escaped)
            } else if b == ASCII.backslash {
                escaped = true
                try scanEscape()
            } else if b < 0x20 {
                throw .syntax("unescaped control character 0x\(hex(b)) in string at byte \(pos)")
            } else if b >= 0x80 {
                try scanUTF8Sequence()
            } else {
                pos += 1
            }
        }
    }

    /// High bit set in each byte of `word` that is `"`, `\`, below 0x20 or above 0x7F.
    /// Borrows can flag bytes above a flagged one, never below, so the lowest flag is exact.
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control | word) & highs
    }

    private mutating func scanEscape() throws(DecodeFailure) {
        let at = pos
        guard pos + 1 < count else { throw unexpectedEnd }
        switch byte(pos + 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            let unit = try hexUnit(at: pos + 2, escape: at)
            pos += 6
            if (0xDC00...0xDFFF).contains(unit) { throw .syntax("lone surrogate escape at byte \(at)") }
            if (0xD800...0xDBFF).contains(unit) {
                guard pos + 1 < count, byte(pos) == ASCII.backslash, byte(pos + 1) == UInt8(ascii: "u"),
                    (0xDC00...0xDFFF).contains(try hexUnit(at: pos + 2, escape: pos))
                else { throw .syntax("lone surrogate escape at byte \(at)") }
                pos += 6
            }
        default:
            throw .syntax("invalid escape at byte \(at)")
        }
    }

    private func hexUnit(at: Int, escape: Int) throws(DecodeFailure) -> UInt32 {
        guard at + 4 <= count else { throw unexpectedEnd }
        var unit: UInt32 = 0
        for i in at..<at + 4 {
            guard let digit = hexDigit(byte(i)) else { throw .syntax("invalid escape at byte \(escape)") }
            unit = unit << 4 | digit
        }
        return unit
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (no overlongs, surrogates or values above U+10FFFF).
    mutating func scanUTF8Sequence() throws(DecodeFailure) {
        let lead = byte(pos)
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw .syntax("invalid UTF-8 at byte \(pos)")
        }
        guard pos + length <= count else { throw .syntax("invalid UTF-8 at byte \(pos)") }
        let second = byte(pos + 1)
        var valid = second >= low && second <= high
        for i in 2..<length where byte(pos + i) & 0xC0 != 0x80 { valid = false }
        guard valid else { throw .syntax("invalid UTF-8 at byte \(pos)") }
        pos += length
    }

    /// The string's value; escapes are decoded (the token has been validated).
    func string(_ token: StringToken) -> String {
        if !token.hasEscapes {
            return String(decoding: bytes(token.start, token.end), as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: token.length) { unescape(token, into: $0) }
    }

    /// Calls `body` with the string's value as bytes, decoding escapes into a temporary buffer if needed.
    func withValue<R>(_ token: StringToken, _ body: (UnsafeRawBufferPointer) throws(DecodeFailure) -> R)
        throws(DecodeFailure) -> R
    {
        if !token.hasEscapes { return try body(bytes(token.start, token.end)) }
        let value = [UInt8](unsafeUninitializedCapacity: token.length) { $1 = unescape(token, into: $0) }
        // `withUnsafeBytes` rethrows untyped errors; carry the typed one out in a Result.
        return try value.withUnsafeBytes { raw in Result { () throws(DecodeFailure) -> R in try body(raw) } }.get()
    }

    /// Writes the decoded value of a validated string (never longer than its raw bytes) and returns its length.
    private func unescape(_ token: StringToken, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var from = token.start
        var to = 0
        func put(_ b: UInt8) {
            out[to] = b
            to += 1
        }
        func unit(at: Int) -> UInt32 {
            var unit: UInt32 = 0
            for i in at..<at + 4 { unit = unit << 4 | (hexDigit(byte(i)) ?? 0) }
            return unit
        }
        while from < token.end {
            let b = byte(from)
            guard b == ASCII.backslash else {
                put(b)
                from += 1
                continue
            }
            let escape = byte(from + 1)
            from += 2
            switch escape {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                var scalar = unit(at: from)
                from += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (unit(at: from + 2) - 0xDC00)
                    from += 6
                }
                for b in (Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8 { put(b) }
            default: put(escape)
            }
        }
        return to
    }

    // MARK: - Numbers

    /// Scans a number token per RFC 8259 (no leading zeros, no `+`, digits on both sides of `.`).
    mutating func scanNumber() throws(DecodeFailure) -> NumberToken {
        let start = pos
        var mantissa: UInt64 = 0
        var exponent = 0
        var significant = 0
        var truncated = false
        let negative = byte(pos) == ASCII.minus
        if negative { pos += 1 }
        guard pos < count, byte(pos) &- ASCII.zero < 10 else { throw invalidNumber(start) }
        if byte(pos) == ASCII.zero {
            pos += 1
            if pos < count, byte(pos) &- ASCII.zero < 10 { throw invalidNumber(start) }
        } else {
            while pos < count {
                let digit = byte(pos) &- ASCII.zero
                guard digit < 10 else { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    significant += 1
                } else {
                    // Keep 19 digits; the rest only scale the value (the slow path re-reads the text).
                    truncated = truncated || digit != 0
                    exponent += 1
                }
                pos += 1
            }
        }
        var isInteger = true
        if pos < count, byte(pos) == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < count, byte(pos) &- ASCII.zero < 10 else { throw invalidNumber(start) }
            while pos < count {
                let digit = byte(pos) &- ASCII.zero
                guard digit < 10 else { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    // Leading zeros of a fraction (0.05) are not significant.
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else {
                    truncated = truncated || digit != 0
                }
                pos += 1
            }
        }
        if pos < count, byte(pos) | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            pos += 1
            var sign = 1
            if pos < count, byte(pos) == UInt8(ascii: "+") || byte(pos) == ASCII.minus {
                sign = byte(pos) == ASCII.minus ? -1 : 1
                pos += 1
            }
            guard pos < count, byte(pos) &- ASCII.zero < 10 else { throw invalidNumber(start) }
            var value = 0
            while pos < count {
                let digit = byte(pos) &- ASCII.zero
                guard digit < 10 else { break }
                // Beyond a million the result is 0 or infinity anyway; stop growing.
                if value < 1_000_000 { value = value * 10 + Int(digit) }
                pos += 1
            }
            exponent += sign * value
        }
        return NumberToken(
            start: start, end: pos, mantissa: mantissa, exponent: exponent, negative: negative,
            isInteger: isInteger, truncated: truncated)
    }

    private func invalidNumber(_ start: Int) -> DecodeFailure {
        .syntax("invalid number at byte \(start)")
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The token's value correctly rounded, or nil if it overflows to infinity.
    func double(_ token: NumberToken) -> Double? {
        // Both operands exact (mantissa ≤ 2^53, 10^k for k ≤ 22), so one IEEE operation rounds correctly.
        if !token.truncated, token.mantissa <= 1 << 53, (-22...22).contains(token.exponent) {
            var value = Double(token.mantissa)
            if token.exponent >= 0 {
                value *= Scanner.powersOfTen[token.exponent]
            } else {
                value /= Scanner.powersOfTen[-token.exponent]
            }
            return token.negative ? -value : value
        }
        if token.mantissa == 0, !token.truncated { return token.negative ? -0.0 : 0 }
        // Rare: the standard library's parser (C locale strtod semantics, correctly rounded).
        let text = String(decoding: bytes(token.start, token.end), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The integer value of an integer token, or nil if outside Int.
    func integer(_ token: NumberToken) -> Int? {
        guard !token.truncated, token.exponent == 0 else { return nil }
        if token.negative {
            guard token.mantissa <= UInt64(Int.max) + 1 else { return nil }
            return Int(truncatingIfNeeded: 0 &- token.mantissa)
        }
        guard token.mantissa <= UInt64(Int.max) else { return nil }
        return Int(token.mantissa)
    }

    // MARK: - Skipping

    /// Validates and skips one value of any shape; `depth` counts the containers around it.
    mutating func skipValue(depth: Int) throws(DecodeFailure) {
        // Bit i set: the container at level i + 1 is an object. 64 levels fit the word.
        var objects: UInt64 = 0
        var level = 0
        var keys: [KeySet] = []
        while true {
            skipWhitespace()
            guard pos < count else { throw unexpectedEnd }
            switch byte(pos) {
            case ASCII.quote:
                _ = try scanString()
            case ASCII.minus, ASCII.zero...UInt8(ascii: "9"):
                _ = try scanNumber()
            case UInt8(ascii: "t"):
                try literal("true")
            case UInt8(ascii: "f"):
                try literal("false")
            case UInt8(ascii: "n"):
                try literal("null")
            case let open where open == ASCII.openBrace || open == ASCII.openBracket:
                guard depth + level < maximumDepth else { throw .syntax("nesting deeper than \(maximumDepth)") }
                pos += 1
                skipWhitespace()
                let isObject = open == ASCII.openBrace
                let close = isObject ? ASCII.closeBrace : ASCII.closeBracket
                if pos < count, byte(pos) == close {
                    pos += 1
                    break
                }
                level += 1
                if isObject {
                    objects |= 1 << UInt64(level - 1)
                    keys.append(KeySet())
                    try skipKey(into: &keys[keys.count - 1])
                } else {
                    objects &= ~(1 << UInt64(level - 1))
                }
                continue
            default:
                throw unexpected(at: pos)
            }
            // After a value: close finished containers, or move on to the next element or member.
            while true {
                if level == 0 { return }
                let inObject = objects & (1 << UInt64(level - 1)) != 0
                if try nextMember(closing: inObject ? ASCII.closeBrace : ASCII.closeBracket) {
                    if inObject { try skipKey(into: &keys[keys.count - 1]) }
                    break
                }
                if inObject { keys.removeLast() }
                level -= 1
            }
        }
    }

    /// Scans a member's key and colon inside a skipped object, checking it against the object's other keys.
    private mutating func skipKey(into keys: inout KeySet) throws(DecodeFailure) {
        guard pos < count, byte(pos) == ASCII.quote else { throw unexpected(at: pos) }
        let key = try scanString()
        try keys.insert(key, scanner: self)
        skipWhitespace()
        try expect(ASCII.colon)
    }

    /// Validates the whole message as JSON (one object, optional white space) and returns its first problem.
    mutating func firstSyntaxProblem() -> DecodeFailure? {
        do throws(DecodeFailure) {
            skipWhitespace()
            guard pos < count, byte(pos) == ASCII.openBrace else { return nil }
            try skipValue(depth: 0)
            skipWhitespace()
            if pos < count { throw .syntax("trailing data at byte \(pos)") }
            return nil
        } catch {
            return error
        }
    }

    /// Whether two keys have the same value.
    func sameKey(_ a: StringToken, _ b: StringToken) -> Bool {
        if !a.hasEscapes, !b.hasEscapes {
            return a.length == b.length && (a.length == 0 || memoryEqual(base + a.start, base + b.start, a.length))
        }
        return keyBytes(a) == keyBytes(b)
    }

    func keyBytes(_ key: StringToken) -> [UInt8] {
        (try? withValue(key) { Array($0) }) ?? []
    }
}

/// The keys of one object that no schema claimed, for the duplicate check.
/// Compared pairwise while few; past 16, hashed (Swift's per-process seeded
/// hashing), so a hostile object with a huge number of keys stays linear.
struct KeySet {
    private var keys: [StringToken] = []
    private var hashed: Set<[UInt8]>?

    mutating func insert(_ key: StringToken, scanner: Scanner) throws(DecodeFailure) {
        if hashed == nil, keys.count < 16 {
            for other in keys where scanner.sameKey(other, key) { throw duplicate(key, scanner) }
            keys.append(key)
            return
        }
        if hashed == nil {
            hashed = Set(keys.map(scanner.keyBytes))
            keys = []
        }
        if hashed?.insert(scanner.keyBytes(key)).inserted == false { throw duplicate(key, scanner) }
    }

    private func duplicate(_ key: StringToken, _ scanner: Scanner) -> DecodeFailure {
        let name = scanner.keyBytes(key).withUnsafeBytes { quoted($0) }
        return .syntax("duplicate key \(name)")
    }
}

@inline(__always)
private func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
    default: nil
    }
}

func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

private func memoryEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    for i in 0..<count where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) {
        return false
    }
    return true
}
