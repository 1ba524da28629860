import KordonEvents

/// The rules as loaded from the rulebook file (schema: see config/rules.yaml).
public struct Rulebook: Sendable {
    public var rules: [Rule]
    /// How long crossings are kept for inspections to join them (event time).
    public var crossingRetention: Int64
    /// How long an inspection waits (event time) for its crossing before join rules see it alone.
    public var inspectionWait: Int64

    public static let defaultCrossingRetention: Int64 = 24 * 3_600_000_000_000
    public static let defaultInspectionWait: Int64 = 3_600_000_000_000

    public init(
        rules: [Rule], crossingRetention: Int64 = Rulebook.defaultCrossingRetention,
        inspectionWait: Int64 = Rulebook.defaultInspectionWait
    ) {
        self.rules = rules
        self.crossingRetention = crossingRetention
        self.inspectionWait = inspectionWait
    }
}

public struct Rule: Sendable {
    public var id: String
    public var category: String
    public var severity: Severity
    var escalations: [(severity: Severity, when: Condition)]
    var title: Template
    /// The event kinds the rule looks at.
    public var on: Set<EventKind>
    /// Whether inspections are seen with the crossing they inspected.
    public var joinsCrossing: Bool
    /// Alternatives tried in order; the first the event has names the alert's key.
    public var key: [KeyType]
    var when: Condition?
    var facts: [(name: String, field: Field)]
    /// After an alert, matches for the same key within this much event time are counted, not alerted.
    public var suppress: Int64
    var kind: Kind

    enum Kind: Sendable {
        case match
        case window(WindowSpec)
        case absence(AbsenceSpec)
    }

    /// The longest span of event time the rule looks back over.
    var horizon: Int64 {
        switch kind {
        case .match: suppress
        case .window(let spec): max(spec.length, suppress)
        case .absence(let spec): max(spec.within, suppress)
        }
    }
}

/// `kind: window`: a keyed aggregate over a sliding event-time window `(t − length, t]`.
struct WindowSpec: Sendable {
    var length: Int64
    /// Separate windows per value of these fields (e.g. direction) under one alert key.
    var per: [Field]
    /// All must hold for the rule to match.
    var thresholds: [Threshold]
}

struct Threshold: Sendable {
    enum Measure: Sendable {
        case count
        case sum(Field)
        case distinct(Field)

        var name: String {
            switch self {
            case .count: "count"
            case .sum: "sum"
            case .distinct: "distinct"
            }
        }
    }

    enum Operand: Sendable {
        case literal(Double)
        /// Read from the triggering event, e.g. the checkpoint's capacity; events without it are skipped.
        case field(Field)
    }

    var measure: Measure
    /// true: `gt` (strictly above); false: `ge`.
    var strict: Bool
    var operand: Operand

    func holds(_ value: Double, limit: Double) -> Bool {
        strict ? value > limit : value >= limit
    }
}

/// `kind: absence`: a trigger event not followed by an expected event within `within`.
struct AbsenceSpec: Sendable {
    var within: Int64
    var expectOn: EventKind
    var expect: Condition?
    /// The follow-up's field must equal the trigger's field, e.g. the entry's checkpoint = the exit's paired checkpoint.
    var correlate: [(follow: Field, trigger: Field)]
}

/// A title with `{field.path}`, `{key}` and `{key.type}` placeholders.
struct Template: Sendable {
    enum Part: Sendable {
        case text(String)
        case field(Field)
        case key
        case keyType
    }

    var parts: [Part]

    func render(_ scope: Scope, key: AlertKey) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text): out += text
            case .key: out += key.value
            case .keyType: out += key.type.rawValue
            case .field(let field):
                switch field.value(in: scope) {
                case .string(let text): out += text
                case .number(let number): out += formatNumber(number)
                case .bool(let flag): out += flag ? "true" : "false"
                case nil: out += "unknown"
                }
            }
        }
        return out
    }
}

/// Numbers in titles look like numbers in the alert JSON.
func formatNumber(_ value: Double) -> String {
    var json = JSONWriter(capacity: 24)
    json.number(value)
    return String(decoding: json.bytes, as: UTF8.self)
}

extension KeyType {
    /// The key's value for this event, if it has one.
    /// `doc` is the driver's document, else a pedestrian's, else the only person's.
    func value(in scope: Scope) -> String? {
        switch self {
        case .plate: return scope.crossing?.vehicle?.plate
        case .doc:
            guard let persons = scope.crossing?.persons else { return nil }
            if let driver = persons.first(where: { $0.role == .driver }) { return driver.doc }
            if let pedestrian = persons.first(where: { $0.role == .pedestrian }) { return pedestrian.doc }
            return persons.count == 1 ? persons[0].doc : nil
        case .checkpoint: return scope.crossing?.checkpoint ?? scope.inspection?.checkpoint
        case .officer: return scope.crossing?.officer ?? scope.inspection?.officer
        case .sector:
            switch scope.event.body {
            case .patrol(let patrol): return patrol.sector
            case .sensor(let sensor): return sensor.sector
            default: return nil
            }
        case .vessel:
            if case .vessel(let vessel) = scope.event.body { return vessel.vessel }
            return nil
        case .zone:
            // Zones come with zone geography; `Rulebook.read` refuses zone keys until then.
            return nil
        }
    }
}

// MARK: - Reading

/// The alert contract's categories.
let alertCategories: Set<String> = [
    "weapons", "illegal-crossing", "contraband", "narcotics", "psychotropics", "trafficking", "poaching", "timber",
    "demarcation", "integrity", "capacity", "documents", "watchlist",
]

extension Rulebook {
    /// Parses a rulebook; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws(ConfigErrors) -> Rulebook {
        let reader = ConfigReader(file: file)
        let rulebook = reader.root(yaml: yaml).map(read) ?? Rulebook(rules: [])
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return rulebook
    }

    /// Reads `rules.yaml`; problems are recorded in the reader.
    static func read(_ root: YAMLValue) -> Rulebook {
        var rulebook = Rulebook(rules: [])
        guard let top = root.object(["lists", "joins", "rules"]) else { return rulebook }
        var lists: [String: [String]] = [:]
        if let listsValue = top.optional("lists"), let members = listsValue.members() {
            for (name, value) in members {
                guard let items = value.elements() else { continue }
                let strings = items.compactMap { $0.string() }
                if strings.count == items.count { lists[name] = strings }
            }
        }
        if let joins = top.optional("joins")?.object(["crossingRetention", "inspectionWait"]) {
            if let value = joins.optional("crossingRetention")?.duration() { rulebook.crossingRetention = value }
            if let value = joins.optional("inspectionWait")?.duration() { rulebook.inspectionWait = value }
        }
        guard let items = top.required("rules")?.elements() else { return rulebook }
        var seen: [String: Int] = [:]
        for item in items {
            guard let rule = readRule(item, lists) else { continue }
            if let line = seen[rule.id] {
                item.fail("rule id \"\(rule.id)\" is already used on line \(line)")
                continue
            }
            seen[rule.id] = item.line
            rulebook.rules.append(rule)
        }
        return rulebook
    }

    private static let ruleFields: Set<String> = [
        "id", "enabled", "category", "severity", "escalate", "title", "kind", "on", "join", "key", "when", "facts",
        "suppress", "window", "per", "fire", "within", "expect",
    ]

    /// One rule; nil when it is disabled or has problems (recorded).
    private static func readRule(_ item: YAMLValue, _ lists: [String: [String]]) -> Rule? {
        guard let fields = item.object(ruleFields) else { return nil }
        let reader = item.reader
        let errorsBefore = reader.errors.count
        let id = fields.required("id")?.string()
        let enabled = fields.optional("enabled")?.bool() ?? true
        let category = fields.required("category").flatMap { value -> String? in
            guard let category = value.string() else { return nil }
            guard alertCategories.contains(category) else {
                value.fail("expected one of \(alertCategories.sorted().joined(separator: ", ")), got \"\(category)\"")
                return nil
            }
            return category
        }
        let severity = fields.required("severity")?.oneOf(Severity.self)
        let kindName = fields.required("kind").flatMap { value -> String? in
            guard let name = value.string() else { return nil }
            guard ["match", "window", "absence"].contains(name) else {
                value.fail("expected one of match, window, absence, got \"\(name)\"")
                return nil
            }
            return name
        }
        let on = fields.required("on").flatMap(readKinds)
        let joinsCrossing = fields.optional("join").flatMap { value -> Bool? in
            guard let name = value.string() else { return nil }
            guard name == "crossing", on?.contains(.inspection) == true else {
                value.fail("only `join: crossing` on rules that see inspections is supported, got \"\(name)\"")
                return nil
            }
            return true
        } ?? false
        let context = ConditionContext(
            hasCrossing: on?.contains(.crossing) == true || joinsCrossing, hasInspection: on?.contains(.inspection) == true,
            lists: lists)
        let key = fields.required("key").flatMap(readKey)
        let when = fields.optional("when").flatMap { Condition.read($0, context) }
        // Titles, facts and escalations may name the elements `when` binds.
        var bodyContext = context
        if let when { bodyContext.bound = when.bindable }
        let title = fields.required("title").flatMap { readTemplate($0, bodyContext) }
        let escalations = fields.optional("escalate").flatMap { readEscalations($0, context) } ?? []
        let facts = fields.optional("facts").flatMap { readFacts($0, bodyContext) } ?? []
        let suppress = fields.optional("suppress")?.duration()

        var kind: Rule.Kind?
        switch kindName {
        case "match":
            for name in ["window", "per", "fire", "within", "expect"] where fields.optional(name) != nil {
                fields.optional(name)?.fail("only for window or absence rules")
            }
            kind = .match
        case "window":
            let length = fields.required("window")?.duration()
            let thresholds = fields.required("fire").flatMap { readThresholds($0, context) }
            let per = fields.optional("per").flatMap { readFields($0, context) } ?? []
            if let length, let thresholds {
                kind = .window(WindowSpec(length: length, per: per, thresholds: thresholds))
            }
        case "absence":
            let within = fields.required("within")?.duration()
            let spec = fields.required("expect").flatMap { readExpect($0, context, lists) }
            if let within, let spec {
                kind = .absence(AbsenceSpec(within: within, expectOn: spec.on, expect: spec.when, correlate: spec.correlate))
            }
        default:
            break
        }
        guard reader.errors.count == errorsBefore, enabled, let id, let category, let severity, let on, let key,
            let title, let kind
        else { return nil }
        let defaultSuppress: Int64 =
            switch kind {
            case .match: 3_600_000_000_000
            case .window(let spec): spec.length
            case .absence(let spec): spec.within
            }
        return Rule(
            id: id, category: category, severity: severity, escalations: escalations, title: title, on: on,
            joinsCrossing: joinsCrossing, key: key, when: when, facts: facts, suppress: suppress ?? defaultSuppress,
            kind: kind)
    }

    /// One event kind, or a list of them.
    private static func readKinds(_ value: YAMLValue) -> Set<EventKind>? {
        if case .scalar = value.node { return value.oneOf(EventKind.self).map { [$0] } }
        guard let items = value.elements() else { return nil }
        let kinds = items.compactMap { $0.oneOf(EventKind.self) }
        guard kinds.count == items.count, !kinds.isEmpty else {
            if items.isEmpty { value.fail("expected at least one event kind") }
            return nil
        }
        return Set(kinds)
    }

    private static func readKey(_ value: YAMLValue) -> [KeyType]? {
        let items: [YAMLValue]
        if case .scalar = value.node { items = [value] } else { guard let list = value.elements() else { return nil }; items = list }
        var keys: [KeyType] = []
        for item in items {
            guard let key = item.oneOf(KeyType.self) else { return nil }
            guard key != .zone else {
                item.fail("zone keys need zone geography, which this version does not read yet")
                return nil
            }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            value.fail("expected at least one key type")
            return nil
        }
        return keys
    }

    private static func readFields(_ value: YAMLValue, _ context: ConditionContext) -> [Field]? {
        guard let items = value.elements() else { return nil }
        var fields: [Field] = []
        for item in items {
            guard let path = item.string() else { continue }
            guard let field = Field(rawValue: path) else {
                item.fail("unknown field \"\(path)\"")
                continue
            }
            if let problem = context.allows(field) {
                item.fail("\"\(path)\" \(problem)")
                continue
            }
            fields.append(field)
        }
        return fields.count == items.count ? fields : nil
    }

    private static func readTemplate(_ value: YAMLValue, _ context: ConditionContext) -> Template? {
        guard let text = value.string() else { return nil }
        var parts: [Template.Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                value.fail("unclosed `{` in title")
                return nil
            }
            let name = String(rest[rest.index(after: open)..<close])
            switch name {
            case "key": parts.append(.key)
            case "key.type": parts.append(.keyType)
            default:
                guard let field = Field(rawValue: name) else {
                    value.fail("unknown field \"\(name)\" in title")
                    return nil
                }
                if let problem = context.allows(field) {
                    value.fail("\"\(name)\" \(problem)")
                    return nil
                }
                parts.append(.field(field))
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return Template(parts: parts)
    }

    private static func readEscalations(_ value: YAMLValue, _ context: ConditionContext)
        -> [(severity: Severity, when: Condition)]?
    {
        guard let items = value.elements() else { return nil }
        var result: [(severity: Severity, when: Condition)] = []
        for item in items {
            guard let fields = item.object(["severity", "when"]) else { continue }
            let severity = fields.required("severity")?.oneOf(Severity.self)
            let when = fields.required("when").flatMap { Condition.read($0, context) }
            if let severity, let when { result.append((severity, when)) }
        }
        return result.count == items.count ? result : nil
    }

    private static func readFacts(_ value: YAMLValue, _ context: ConditionContext) -> [(name: String, field: Field)]? {
        guard let members = value.members() else { return nil }
        var facts: [(name: String, field: Field)] = []
        for (name, pathValue) in members {
            guard let path = pathValue.string() else { continue }
            guard let field = Field(rawValue: path) else {
                pathValue.fail("unknown field \"\(path)\"")
                continue
            }
            if let problem = context.allows(field) {
                pathValue.fail("\"\(path)\" \(problem)")
                continue
            }
            facts.append((name, field))
        }
        return facts.count == members.count ? facts : nil
    }

    /// `fire: {count: {gt: N | FIELD}, sum: {of: FIELD, ge: N}, distinct: {of: FIELD, ge: N}}`.
    private static func readThresholds(_ value: YAMLValue, _ context: ConditionContext) -> [Threshold]? {
        guard let members = value.members(allowed: ["count", "sum", "distinct"]) else { return nil }
        var thresholds: [Threshold] = []
        for (name, spec) in members {
            let allowed: Set<String> = name == "count" ? ["gt", "ge"] : ["of", "gt", "ge"]
            guard let fields = spec.object(allowed) else { continue }
            var measure = Threshold.Measure.count
            if name != "count" {
                guard let ofValue = fields.required("of"), let path = ofValue.string() else { continue }
                guard let field = Field(rawValue: path) else {
                    ofValue.fail("unknown field \"\(path)\"")
                    continue
                }
                if let problem = context.allows(field) {
                    ofValue.fail("\"\(path)\" \(problem)")
                    continue
                }
                if name == "sum", field.type != .number {
                    ofValue.fail("`sum` adds numbers; \"\(path)\" is \(field.type.name)")
                    continue
                }
                measure = name == "sum" ? .sum(field) : .distinct(field)
            }
            let comparisons = ["gt", "ge"].filter { fields.optional($0) != nil }
            guard comparisons.count == 1, let comparison = comparisons.first, let operandValue = fields.optional(comparison)
            else {
                spec.fail("expected exactly one of gt, ge")
                continue
            }
            guard let operand = readOperand(operandValue, context) else { continue }
            thresholds.append(Threshold(measure: measure, strict: comparison == "gt", operand: operand))
        }
        guard thresholds.count == members.count, !thresholds.isEmpty else {
            if members.isEmpty { value.fail("expected at least one of count, sum, distinct") }
            return nil
        }
        return thresholds
    }

    private static func readOperand(_ value: YAMLValue, _ context: ConditionContext) -> Threshold.Operand? {
        guard case .scalar(let scalar) = value.node else {
            value.fail("expected a number or a numeric field, got \(value.shown)")
            return nil
        }
        if let field = Field(rawValue: scalar.string) {
            guard field.type == .number else {
                value.fail("\"\(scalar.string)\" is \(field.type.name), not a number")
                return nil
            }
            if let problem = context.allows(field) {
                value.fail("\"\(scalar.string)\" \(problem)")
                return nil
            }
            return .field(field)
        }
        return value.number().map(Threshold.Operand.literal)
    }

    private static func readExpect(_ value: YAMLValue, _ context: ConditionContext, _ lists: [String: [String]])
        -> (on: EventKind, when: Condition?, correlate: [(follow: Field, trigger: Field)])?
    {
        guard let fields = value.object(["on", "when", "correlate"]), let on = fields.required("on")?.oneOf(EventKind.self)
        else { return nil }
        let followContext = ConditionContext(hasCrossing: on == .crossing, hasInspection: on == .inspection, lists: lists)
        let when = fields.optional("when").flatMap { Condition.read($0, followContext) }
        var correlate: [(follow: Field, trigger: Field)] = []
        if let members = fields.optional("correlate")?.members() {
            for (followName, triggerValue) in members {
                guard let follow = Field(rawValue: followName), followContext.allows(follow) == nil else {
                    triggerValue.fail("\"\(followName)\" is not a field of the expected \(on.rawValue) event")
                    continue
                }
                guard let triggerName = triggerValue.string() else { continue }
                guard let trigger = Field(rawValue: triggerName), context.allows(trigger) == nil else {
                    triggerValue.fail("\"\(triggerName)\" is not a field of the triggering event")
                    continue
                }
                correlate.append((follow, trigger))
            }
        }
        return (on, when, correlate)
    }
}

extension Condition {
    /// Collections a successful evaluation may leave bound.
    var bindable: Set<Collection> {
        switch self {
        case .all(let conditions), .any(let conditions): conditions.reduce(into: []) { $0.formUnion($1.bindable) }
        case .some(let collection, let condition): condition.bindable.union([collection])
        case .not, .none, .test: []
        }
    }
}
