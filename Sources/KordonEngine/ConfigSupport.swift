import Yams

/// One problem in a config file, e.g.
/// `config/rules.yaml:42: rules[7].window: expected a duration like 30d, got "30 days"`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as the user would name it (the path given or resolved from the daemon config).
    public var file: String
    /// 1-based; 0 when the problem is not tied to a line (an unreadable file).
    public var line: Int
    /// Dotted path with indices, e.g. `rules[7].window`; empty for the whole file.
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}

/// Every problem found while loading config; loading goes on after a problem so
/// `kordon check` reports them all at once.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects problems while reading one YAML file.
final class ConfigReader {
    let file: String
    private(set) var errors: [ConfigError] = []

    init(file: String) {
        self.file = file
    }

    /// Parses the whole document; nil (with the problem recorded) when it is not YAML or is empty.
    func root(yaml: String) -> YAMLValue? {
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                fail(line: 0, field: "", "the file is empty")
                return nil
            }
            return YAMLValue(node: node, path: "", reader: self)
        } catch let error as YamlError {
            fail(line: Self.line(of: error), field: "", "not valid YAML: \(Self.problem(of: error))")
        } catch {
            fail(line: 0, field: "", "not valid YAML: \(error)")
        }
        return nil
    }

    /// Problems found in another file this one names (a watchlist), reported with their own place.
    func record(_ problems: [ConfigError]) {
        errors += problems
    }

    func fail(line: Int, field: String, _ message: String) {
        errors.append(ConfigError(file: file, line: line, field: field, message: message))
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 0
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            problem
        default: "\(error)"
        }
    }
}

/// A YAML node with the dotted path that leads to it, for error messages.
struct YAMLValue {
    let node: Node
    let path: String
    let reader: ConfigReader

    var line: Int { node.mark?.line ?? 0 }

    func fail(_ message: String) {
        reader.fail(line: line, field: path, message)
    }

    /// What the node is, for "expected …, got …" messages.
    var shown: String {
        switch node {
        case .scalar(let scalar): "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    func child(_ name: String, _ node: Node) -> YAMLValue {
        YAMLValue(node: node, path: path.isEmpty ? name : "\(path).\(name)", reader: reader)
    }

    // MARK: mappings

    /// The members of a mapping, in order, after checking that every key is a
    /// known, unique string; nil (recorded) when this is not a mapping.
    func members(allowed: Set<String>? = nil) -> [(name: String, value: YAMLValue)]? {
        guard case .mapping(let mapping) = node else {
            fail("expected a mapping, got \(shown)")
            return nil
        }
        var seen = Set<String>()
        var result: [(name: String, value: YAMLValue)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                reader.fail(line: keyNode.mark?.line ?? line, field: path, "keys must be plain strings")
                continue
            }
            let name = scalar.string
            let value = child(name, valueNode)
            if !seen.insert(name).inserted {
                reader.fail(line: keyNode.mark?.line ?? line, field: value.path, "appears twice")
                continue
            }
            if let allowed, !allowed.contains(name) {
                let known = allowed.sorted().joined(separator: ", ")
                reader.fail(line: keyNode.mark?.line ?? line, field: value.path, "unknown field (known: \(known))")
                continue
            }
            result.append((name, value))
        }
        return result
    }

    /// A mapping read as an object with known fields; use `required`/`optional` on the result.
    func object(_ fields: Set<String>) -> YAMLObject? {
        members(allowed: fields).map { YAMLObject(owner: self, members: Dictionary($0.map { ($0.name, $0.value) }) { a, _ in a }) }
    }

    // MARK: sequences

    func elements() -> [YAMLValue]? {
        guard case .sequence(let sequence) = node else {
            fail("expected a list, got \(shown)")
            return nil
        }
        return sequence.enumerated().map { index, node in
            YAMLValue(node: node, path: "\(path)[\(index)]", reader: reader)
        }
    }

    // MARK: scalars

    /// The scalar text, for plain strings; nil (recorded) for lists and mappings.
    func string() -> String? {
        guard case .scalar(let scalar) = node else {
            fail("expected a string, got \(shown)")
            return nil
        }
        guard !scalar.string.isEmpty else {
            fail("expected a non-empty string")
            return nil
        }
        return scalar.string
    }

    func number() -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string),
            value.isFinite
        else {
            fail("expected a number, got \(shown)")
            return nil
        }
        return value
    }

    func integer(in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            fail("expected an integer, got \(shown)")
            return nil
        }
        guard range.contains(value) else {
            fail("expected an integer in \(range.lowerBound)...\(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    func bool() -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain else {
            fail("expected true or false, got \(shown)")
            return nil
        }
        switch scalar.string {
        case "true": return true
        case "false": return false
        default:
            fail("expected true or false, got \(shown)")
            return nil
        }
    }

    /// A duration like `30d`, `6h`, `15m`, `90s` or `500ms` (one number, one unit), in nanoseconds.
    func duration() -> Int64? {
        guard case .scalar(let scalar) = node, let nanos = parseDuration(scalar.string) else {
            fail("expected a duration like 30d, got \(shown)")
            return nil
        }
        return nanos
    }

    func positiveDuration() -> Int64? {
        guard let nanos = duration() else { return nil }
        guard nanos > 0 else {
            fail("expected a duration above zero")
            return nil
        }
        return nanos
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> T? where T.RawValue == String {
        guard case .scalar(let scalar) = node, let value = T(rawValue: scalar.string) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            fail("expected one of \(names), got \(shown)")
            return nil
        }
        return value
    }
}

/// A mapping's members by name, for reading fields that may be required or optional.
struct YAMLObject {
    let owner: YAMLValue
    let members: [String: YAMLValue]

    func optional(_ name: String) -> YAMLValue? { members[name] }

    /// The member, or nil with "missing" recorded against the mapping's line.
    func required(_ name: String) -> YAMLValue? {
        if let value = members[name] { return value }
        owner.reader.fail(
            line: owner.line, field: owner.path.isEmpty ? name : "\(owner.path).\(name)", "missing (required)")
        return nil
    }
}

/// `<digits><unit>` in nanoseconds, with unit `ms`, `s`, `m`, `h`, `d` or `w`, e.g. `15m`; nil for
/// anything else or an overflow. The one duration syntax of config files and command lines.
public func parseDuration(_ text: String) -> Int64? {
    let units: [(suffix: String, nanos: Int64)] = [
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000), ("w", 604_800_000_000_000),
    ]
    for unit in units where text.hasSuffix(unit.suffix) {
        let digits = text.dropLast(unit.suffix.count)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }), let count = Int64(digits)
        else { continue }
        let (nanos, overflow) = count.multipliedReportingOverflow(by: unit.nanos)
        return overflow ? nil : nanos
    }
    return nil
}

/// Renders nanoseconds the way durations are written in config: the largest unit that divides evenly.
func formatDuration(_ nanos: Int64) -> String {
    for (suffix, unit): (String, Int64) in [
        ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
    ] where nanos != 0 && nanos % unit == 0 {
        return "\(nanos / unit)\(suffix)"
    }
    return "\(nanos / 1_000_000)ms"
}
