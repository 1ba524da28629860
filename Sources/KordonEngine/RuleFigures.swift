/// The figures of one rule of the rulebook the simulator was given (window, thresholds, `within`,
/// speed limit, the numeric bounds of its `when`), so planted incidents clear the rule as configured
/// and near misses stay short of it. Parts of a rule (`parts`) share its id: each figure is the first
/// part's that has one.
///
/// Read-only: the simulator plants incidents at these figures; the rule's own representation stays internal.
public struct RuleFigures: Sendable {
    /// A comparison with a number, or with a field of the triggering event (`gt: crossing.capacity`).
    public struct Limit: Sendable, Equatable {
        public enum Operand: Sendable, Equatable {
            case number(Double)
            case field(String)
        }

        public var operand: Operand
        /// `gt` or `lt` rather than `ge` or `le`.
        public var strict: Bool

        public init(operand: Operand, strict: Bool) {
            self.operand = operand
            self.strict = strict
        }

        public var value: Double? {
            if case .number(let number) = operand { number } else { nil }
        }

        /// The fewest whole items (trips, documents, releases) that meet this lower limit.
        public var least: Int? {
            value.map { strict ? Int($0.rounded(.down)) + 1 : Int($0.rounded(.up)) }
        }

        /// The most crossings a checkpoint of `capacity` may record without meeting this limit.
        public func most(capacity: Int) -> Int? {
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
    public var window: Int64?
    /// An absence or velocity rule's `within`, else a window rule's `followedBy.within`.
    public var within: Int64?
    public var count: Limit?
    public var sum: Limit?
    public var distinct: Limit?
    public var speed: Limit?
    /// Numeric tests in `when` (outside `not` and `none`), by field: `gt`/`ge` and `lt`/`le`.
    private var lower: [String: Limit] = [:]
    private var upper: [String: Limit] = [:]

    /// What `when` requires of `field` from below, e.g. `crossing.docsHeld.max: {ge: 3}`.
    public func lowerBound(_ field: String) -> Limit? { lower[field] }
    /// What `when` requires of `field` from above, e.g. `crossing.goods.valueUsd: {lt: 1000}`.
    public func upperBound(_ field: String) -> Limit? { upper[field] }

    /// The figures of every rule in `rulebook`, by id; disabled rules are not in it.
    public static func read(_ rulebook: Rulebook) -> [String: RuleFigures] {
        var figures: [String: RuleFigures] = [:]
        for rule in rulebook.rules {
            figures[rule.id, default: RuleFigures()].add(rule)
        }
        return figures
    }

    private mutating func add(_ rule: Rule) {
        if let when = rule.when { bounds(in: when) }
        switch rule.kind {
        case .window(let spec):
            window = window ?? spec.length
            within = within ?? spec.followedBy?.within
            for threshold in spec.thresholds { add(threshold) }
        case .absence(let spec):
            within = within ?? spec.within
        case .velocity(let spec):
            within = within ?? spec.within
            speed = speed ?? Limit(operand: .number(spec.limit), strict: spec.strict)
        case .match:
            break
        }
    }

    private mutating func add(_ threshold: Threshold) {
        let limit: Limit
        switch threshold.operand {
        case .literal(let number): limit = Limit(operand: .number(number), strict: threshold.strict)
        case .field(let field): limit = Limit(operand: .field(field.rawValue), strict: threshold.strict)
        }
        switch threshold.measure {
        case .count: count = count ?? limit
        case .sum: sum = sum ?? limit
        case .distinct: distinct = distinct ?? limit
        }
    }

    /// Records the numeric tests `condition` requires; those under `not` or `none` exclude rather than require.
    private mutating func bounds(in condition: Condition) {
        switch condition {
        case .all(let parts), .any(let parts):
            for part in parts { bounds(in: part) }
        case .some(_, let inner):
            bounds(in: inner)
        case .test(let field, let test):
            let name = field.rawValue
            switch test {
            case .gt(let number), .ge(let number):
                let strict = if case .gt = test { true } else { false }
                lower[name] = lower[name] ?? Limit(operand: .number(number), strict: strict)
            case .lt(let number), .le(let number):
                let strict = if case .lt = test { true } else { false }
                upper[name] = upper[name] ?? Limit(operand: .number(number), strict: strict)
            default:
                break
            }
        case .not, .none:
            break
        }
    }
}
