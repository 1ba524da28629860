/// Why an event was rejected: the first problem found, e.g.
/// `crossing.goods[1].hs: not an HS code (4 to 10 digits): "07A3"`.
///
/// `path` is `message` for the size limit, `json` for any problem with the
/// JSON itself (syntax, UTF-8, duplicate keys, nesting), and otherwise the
/// field's dotted path: common fields (`v`, `id`, `kind`, `time`, `source`)
/// bare, kind-specific fields prefixed by the kind, array elements by index.
///
/// Which problem is first: JSON problems take precedence over contract
/// problems; within each class the first in byte order wins. A missing
/// required field counts as found at the end of its object, in the
/// contract's field order.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// A rejection on its way up the decoder, with a path relative to the value
/// being decoded; `isSyntax` marks JSON problems, whose path is final.
struct DecodeFailure: Error {
    var rejection: EventRejection
    var isSyntax: Bool

    static func syntax(_ reason: String) -> DecodeFailure {
        DecodeFailure(rejection: EventRejection(path: "json", reason: reason), isSyntax: true)
    }

    /// A contract problem with the value itself; the enclosing member adds its name.
    static func value(_ reason: String) -> DecodeFailure {
        DecodeFailure(rejection: EventRejection(path: "", reason: reason), isSyntax: false)
    }

    static func field(_ path: String, _ reason: String) -> DecodeFailure {
        DecodeFailure(rejection: EventRejection(path: path, reason: reason), isSyntax: false)
    }

    /// Puts `parent` (a member name or `[index]`) in front of the path.
    func under(_ parent: String) -> DecodeFailure {
        var copy = self
        let inner = rejection.path
        copy.rejection.path =
            inner.isEmpty ? parent : inner.utf8.first == UInt8(ascii: "[") ? parent + inner : parent + "." + inner
        return copy
    }
}

/// `bytes` as a JSON-style quoted string for a message: quotes, backslashes and
/// control characters escaped, cut at about 64 bytes on a character boundary.
func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
    let limit = 64
    var cut = bytes.count
    if cut > limit {
        cut = limit
        // Back up over continuation bytes so the cut lands on a character boundary.
        while cut > 0, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
    }
    var text = "\""
    for scalar in String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<cut]), as: UTF8.self).unicodeScalars {
        switch scalar {
        case "\"": text += "\\\""
        case "\\": text += "\\\\"
        case "\u{00}"..."\u{1F}", "\u{7F}":
            let hex = String(scalar.value, radix: 16, uppercase: true)
            text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: text.unicodeScalars.append(scalar)
        }
    }
    text += "\""
    return cut < bytes.count ? text + "…" : text
}
