import Crypto

#if canImport(Glibc)
import Glibc
#endif

/// Keyed pseudonyms for plates and document numbers in alerts (events.md: HMAC-SHA-256 with a key
/// from a file). The same identifier always gives the same pseudonym, so alerts about one vehicle
/// or document stay linkable; without the key, trying every plate or document number recovers nothing.
public struct Pseudonymiser: Sendable {
    /// A key file must hold at least this many bytes: a short key could be guessed, and with it every pseudonym.
    public static let minimumKeyBytes = 32

    private let key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    /// Reads the key from a file: its bytes, less trailing white space (so an editor's final newline
    /// does not change every pseudonym). Refuses a file others may access (a group may read it, as
    /// for the other files in /etc/kordon, root:kordon 0640), one that is not a regular file, and a
    /// key shorter than `minimumKeyBytes`.
    public static func load(keyFile path: String) throws(PseudonymiserError) -> Pseudonymiser {
        func failure(_ reason: String) -> PseudonymiserError { PseudonymiserError(file: path, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw failure("not a regular file") }
        guard info.st_mode & 0o007 == 0 else {
            throw failure("others may access it (mode \(String(info.st_mode & 0o777, radix: 8))); chmod o= \(path)")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw failure(String(cString: strerror(errno))) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        while let last = bytes.last, [0x20, 0x09, 0x0A, 0x0D].contains(last) { bytes.removeLast() }
        guard !bytes.isEmpty else { throw failure("the key is empty") }
        guard bytes.count >= minimumKeyBytes else {
            throw failure(
                "the key is \(bytes.count) bytes, at least \(minimumKeyBytes) are needed (e.g. head -c 32 /dev/urandom)")
        }
        return Pseudonymiser(key: bytes)
    }

    /// `ps:` and the lowercase hex of the first 16 bytes of HMAC-SHA-256(key, type + ":" + value);
    /// the type keeps a plate and a document with the same characters apart.
    public func pseudonym(_ value: String, type: String) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: Array((type + ":" + value).utf8))
        let hex = Array("0123456789abcdef".utf8)
        var out = Array("ps:".utf8)
        for byte in mac.finalize().prefix(16) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The alert as it may be written: every plate and document number replaced by its pseudonym.
    ///
    /// - the key's value, when the key is a plate or a doc;
    /// - facts read from plate or document fields (`crossing.vehicle.plate`, `person.doc`,
    ///   `person.docHolder`, `crossing.docsHeld.holder`), and the `expected…` facts of absence rules
    ///   correlating such fields;
    /// - the same in the title, found by matching it against the rule's title template.
    ///   A title that matches no template of the rule (the rulebook changed under a pending
    ///   alert) is replaced by `RULE: KEYTYPE KEY`, so nothing raw slips through;
    /// - the id, recomputed from the pseudonymised key: the raw id hashes the raw key without a
    ///   secret, and plates and document numbers are few enough to try them all.
    ///
    /// `rulebook` must be the one that produced the alert: it says which facts carry identifiers.
    public func pseudonymise(_ alert: Alert, rulebook: Rulebook) -> Alert {
        let rules = rulebook.rules.filter { $0.id == alert.rule }
        var out = alert
        if Self.identityTypes.contains(alert.key.type) {
            out.key.value = pseudonym(alert.key.value, type: alert.key.type.rawValue)
        }
        var factTypes: [String: KeyType] = [:]
        for rule in rules {
            for fact in rule.facts {
                if let type = fact.field.identity { factTypes[fact.name] = type }
            }
            if case .absence(let spec) = rule.kind {
                for pair in spec.correlate {
                    if let type = pair.trigger.identity ?? pair.follow.identity {
                        factTypes[Self.expectedFactName(pair.follow)] = type
                    }
                }
            }
        }
        out.facts = alert.facts.map { fact in
            guard let type = factTypes[fact.name], case .string(let raw) = fact.value else { return fact }
            return (fact.name, .string(pseudonym(raw, type: type.rawValue)))
        }
        out.title =
            rules.lazy.compactMap { pseudonymiseTitle(alert.title, $0.title, key: alert.key) }.first
            ?? "\(alert.rule): \(out.key.type.rawValue) \(out.key.value)"
        out.id = Alert.id(rule: out.rule, key: out.key, evidence: out.evidence, evidenceTotal: out.evidenceTotal)
        return out
    }

    private static let identityTypes: Set<KeyType> = [.plate, .doc]

    /// As the engine names an absence rule's correlated facts: `crossing.vehicle.plate` → `expectedPlate`.
    private static func expectedFactName(_ field: Field) -> String {
        let name = field.rawValue.split(separator: ".").last.map(String.init) ?? field.rawValue
        return "expected" + name.prefix(1).uppercased() + name.dropFirst()
    }

    /// The title with the text each identifier placeholder rendered to replaced by its pseudonym,
    /// or nil when the title does not match the template.
    private func pseudonymiseTitle(_ title: String, _ template: Template, key: AlertKey) -> String? {
        let bytes = Array(title.utf8)
        guard let spans = Self.split(bytes, template.parts, key: key) else { return nil }
        var out = ""
        for (part, span) in zip(template.parts, spans) {
            let text = String(decoding: bytes[span], as: UTF8.self)
            switch part {
            case .key where Self.identityTypes.contains(key.type): out += pseudonym(text, type: key.type.rawValue)
            // `unknown` is how a title renders a field the event lacks: no identifier to hide.
            case .field(let field) where text != "unknown":
                out += field.identity.map { pseudonym(text, type: $0.rawValue) } ?? text
            default: out += text
            }
        }
        return out
    }

    /// Splits a rendered title back into its template's parts: the byte range each rendered to.
    /// Text, the key and its type must appear as rendered; a field may end only where the next
    /// fixed part starts. An identifier field takes the longest text that fits (should a value
    /// contain the text after it, more is hidden, not less), other fields the shortest.
    private static func split(_ title: [UInt8], _ parts: [Template.Part], key: AlertKey) -> [Range<Int>]? {
        func fixed(_ part: Template.Part) -> [UInt8]? {
            switch part {
            case .text(let text): Array(text.utf8)
            case .key: Array(key.value.utf8)
            case .keyType: Array(key.type.rawValue.utf8)
            case .field: nil
            }
        }
        func occurs(_ bytes: [UInt8], at position: Int) -> Bool {
            position + bytes.count <= title.count && title[position..<position + bytes.count].elementsEqual(bytes)
        }
        var spans: [Range<Int>] = []
        /// (part, position) pairs known not to lead to a match, so adjacent fields cannot make it exponential.
        var failed = Set<Int>()
        func match(_ part: Int, _ position: Int) -> Bool {
            guard part < parts.count else { return position == title.count }
            let state = part * (title.count + 1) + position
            if failed.contains(state) { return false }
            var ends: [Int]
            if let bytes = fixed(parts[part]) {
                ends = occurs(bytes, at: position) ? [position + bytes.count] : []
            } else if part + 1 == parts.count {
                ends = [title.count]
            } else if let next = fixed(parts[part + 1]) {
                ends = (position...title.count).filter { occurs(next, at: $0) }
            } else {
                ends = Array(position...title.count)
            }
            if case .field(let field) = parts[part], field.identity != nil { ends.reverse() }
            for end in ends {
                spans.append(position..<end)
                if match(part + 1, end) { return true }
                spans.removeLast()
            }
            failed.insert(state)
            return false
        }
        return match(0, 0) ? spans : nil
    }
}

public struct PseudonymiserError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var reason: String

    public var description: String { "pseudonymisation key file \(file): \(reason)" }
}
