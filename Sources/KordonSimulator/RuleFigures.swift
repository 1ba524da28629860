import KordonEngine

/// The figures of one rule of the rulebook the simulator was given (window, thresholds, `within`,
/// speed limit, the numeric bounds of its `when`), so planted incidents clear the rule as configured
/// and near misses stay short of it. Parts of a rule (`parts`) share its id: each figure is the first
/// part's that has one.
///
/// The engine keeps the parsed rule (`Rule.kind`, its conditions) internal, so this reads it through
/// reflection, in this file only. A figure whose shape it does not recognise reads as nil, and the
/// planter needing it plants nothing rather than guess.
struct RuleFigures: Sendable {
    /// A comparison with a number, or with a field of the triggering event (`gt: crossing.capacity`).
    struct Limit: Sendable, Equatable {
        enum Operand: Sendable, Equatable {
            case number(Double)
            case field(String)
        }

        var operand: Operand
        /// `gt` or `lt` rather than `ge` or `le`.
        var strict: Bool

        var value: Double? {
            if case .number(let number) = operand { number } else { nil }
        }

        /// The fewest whole items (trips, documents, releases) that meet this lower limit.
        var least: Int? {
            value.map { strict ? Int($0.rounded(.down)) + 1 : Int($0.rounded(.up)) }
        }

        /// The most crossings a checkpoint of `capacity` may record without meeting this limit.
        func most(capacity: Int) -> Int? {
            let limit: Double
            switch operand {
            case .number(let number): limit = number
            case .field("crossing.capacity"): limit = Double(capacity)
            case .field: return nil
            }
            return strict ? Int(limit.rounded(.down)) : Int(limit.rounded(.up)) - 1
        }
    }

    /// A window rule's `window`.
    var window: Int64?
    /// An absence or velocity rule's `within`, else a window rule's `followedBy.within`.
    var within: Int64?
    var count: Limit?
    var sum: Limit?
    var distinct: Limit?
    var speed: Limit?
    /// Numeric tests in `when` (outside `not` and `none`), by field: `gt`/`ge` and `lt`/`le`.
    private var lower: [String: Limit] = [:]
    private var upper: [String: Limit] = [:]

    /// What `when` requires of `field` from below, e.g. `crossing.docsHeld.max: {ge: 3}`.
    func lowerBound(_ field: String) -> Limit? { lower[field] }
    /// What `when` requires of `field` from above, e.g. `crossing.goods.valueUsd: {lt: 1000}`.
    func upperBound(_ field: String) -> Limit? { upper[field] }

    /// The figures of every rule in `rulebook`, by id; disabled rules are not in it.
    static func read(_ rulebook: Rulebook) -> [String: RuleFigures] {
        var figures: [String: RuleFigures] = [:]
        for rule in rulebook.rules {
            figures[rule.id, default: RuleFigures()].add(rule)
        }
        return figures
    }

    private mutating func add(_ rule: Rule) {
        guard let storage = property("storage", of: rule) else { return }
        if let when = property("when", of: storage) { bounds(in: when) }
        guard let kind = property("kind", of: storage), let (name, spec) = enumCase(kind), let spec else { return }
        switch name {
        case "window":
            window = window ?? property("length", of: spec) as? Int64
            within = within ?? property("followedBy", of: spec).flatMap { property("within", of: $0) } as? Int64
            for threshold in elements(property("thresholds", of: spec)) { add(threshold: threshold) }
        case "absence":
            within = within ?? property("within", of: spec) as? Int64
        case "velocity":
            within = within ?? property("within", of: spec) as? Int64
            if speed == nil, let limit = property("limit", of: spec) as? Double, let strict = property("strict", of: spec) as? Bool {
                speed = Limit(operand: .number(limit), strict: strict)
            }
        default:
            break
        }
    }

    private mutating func add(threshold: Any) {
        guard let measure = property("measure", of: threshold).flatMap(enumCase),
            let strict = property("strict", of: threshold) as? Bool,
            let (kind, operand) = property("operand", of: threshold).flatMap(enumCase), let operand
        else { return }
        let limit: Limit
        switch kind {
        case "literal":
            guard let number = operand as? Double else { return }
            limit = Limit(operand: .number(number), strict: strict)
        case "field":
            guard let field = rawString(operand) else { return }
            limit = Limit(operand: .field(field), strict: strict)
        default:
            return
        }
        switch measure.name {
        case "count": count = count ?? limit
        case "sum": sum = sum ?? limit
        case "distinct": distinct = distinct ?? limit
        default: break
        }
    }

    /// Records the numeric tests `condition` requires; those under `not` or `none` exclude rather than require.
    private mutating func bounds(in condition: Any) {
        guard let (name, payload) = enumCase(condition), let payload else { return }
        let parts = Mirror(reflecting: payload).children.map(\.value)
        switch name {
        case "all", "any":
            for part in parts { bounds(in: part) }
        case "some":
            if parts.count == 2 { bounds(in: parts[1]) }
        case "test":
            guard parts.count == 2, let field = rawString(parts[0]), let (test, bound) = enumCase(parts[1]),
                let number = bound as? Double
            else { return }
            switch test {
            case "gt", "ge": lower[field] = lower[field] ?? Limit(operand: .number(number), strict: test == "gt")
            case "lt", "le": upper[field] = upper[field] ?? Limit(operand: .number(number), strict: test == "lt")
            default: break
            }
        default:
            break
        }
    }
}

// MARK: - Reflection

/// The stored property `name` of a struct or class instance, unwrapped if optional.
private func property(_ name: String, of value: Any) -> Any? {
    Mirror(reflecting: value).children.first { $0.label == name }.flatMap { unwrapped($0.value) }
}

private func unwrapped(_ value: Any) -> Any? {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .optional else { return value }
    return mirror.children.first.flatMap { unwrapped($0.value) }
}

/// An enum value's case and payload (nil for a case without one).
private func enumCase(_ value: Any) -> (name: String, payload: Any?)? {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .enum else { return nil }
    if let child = mirror.children.first, let label = child.label { return (label, child.value) }
    return (String(describing: value), nil)
}

private func elements(_ value: Any?) -> [Any] {
    value.map { Mirror(reflecting: $0).children.map(\.value) } ?? []
}

/// The raw value of a field (`crossing.goods.valueUsd`).
private func rawString(_ value: Any) -> String? {
    (value as? any RawRepresentable)?.rawValue as? String
}
