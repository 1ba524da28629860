/// Malformed messages for the dead-letter path: a valid line damaged in one of the ways the
/// contract names as invalid. Each damage is invalid whatever the line it is applied to.
enum Malformed {
    static let kinds = 8

    /// `line` is one valid event ending in a newline; the result also ends in one and holds no other.
    static func corrupt(_ line: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var body = Array(line.dropLast())
        switch rng.below(kinds) {
        case 0:
            // Cut short: an object missing at least its closing brace.
            body.removeLast(1 + rng.below(body.count / 2))
        case 1:
            // A trailing comma before the closing brace.
            body.insert(UInt8(ascii: ","), at: body.count - 1)
        case 2:
            // The version as a string: a wrong type for a required integer.
            body = replacing(body, #""v":1"#, with: #""v":"1""#)
        case 3:
            // An enum value in the wrong case.
            body = replacing(body, #""kind":""#, with: #""kind":"X"#)
        case 4:
            // A date that does not exist.
            if let at = find(body, #""time":""#) {
                body.replaceSubrange((at + 8)..<(at + 18), with: Array("2026-02-30".utf8))
            }
        case 5:
            // A duplicate key.
            body.insert(contentsOf: Array(#""v":1,"#.utf8), at: 1)
        case 6:
            // Trailing garbage after the object.
            body.append(contentsOf: Array(" x".utf8))
        default:
            // A byte-order mark.
            body.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 0)
        }
        body.append(0x0A)
        return body
    }

    private static func find(_ bytes: [UInt8], _ pattern: String) -> Int? {
        let needle = Array(pattern.utf8)
        guard bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    private static func replacing(_ bytes: [UInt8], _ pattern: String, with replacement: String) -> [UInt8] {
        guard let at = find(bytes, pattern) else { return bytes }
        var result = bytes
        result.replaceSubrange(at..<(at + pattern.utf8.count), with: Array(replacement.utf8))
        return result
    }
}
