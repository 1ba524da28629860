import Foundation
import KordonEvents

/// The rules as loaded from the rulebook file (schema: see config/rules.yaml).
public struct Rulebook: Sendable {
    public var rules: [Rule]
    /// How long crossings are kept for inspections to join them (event time).
    public var crossingRetention: Int64
    /// How long an inspection waits (event time) for its crossing before join rules see it alone.
    public var inspectionWait: Int64
    /// Watchlists by name, as read when the rulebook was loaded.
    public var watchlists: [String: Watchlist] = [:]

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

/// Copy-on-write: the engine reads rules on every event, and a copy is then one retain, not one per field.
public struct Rule: Sendable {
    /// Mutated only through the setters below, and only when uniquely referenced.
    private final class Storage: @unchecked Sendable {
        var id: String
        var category: String
        var severity: Severity
        var escalations: [Escalation]
        var title: Template
        var on: Set<EventKind>
        var joinsCrossing: Bool
        var key: [KeyType]
        var keyFields: [Field?]
        var forEach: Collection?
        var when: Condition?
        var facts: [(name: String, field: Field)]
        var suppress: Int64
        var kind: Kind

        init(
            id: String, category: String, severity: Severity, escalations: [Escalation], title: Template,
            on: Set<EventKind>, joinsCrossing: Bool, key: [KeyType], keyFields: [Field?], forEach: Collection?,
            when: Condition?, facts: [(name: String, field: Field)], suppress: Int64, kind: Kind
        ) {
            self.id = id
            self.category = category
            self.severity = severity
            self.escalations = escalations
            self.title = title
            self.on = on
            self.joinsCrossing = joinsCrossing
            self.key = key
            self.keyFields = keyFields
            self.forEach = forEach
            self.when = when
            self.facts = facts
            self.suppress = suppress
            self.kind = kind
        }

        func copy() -> Storage {
            Storage(
                id: id, category: category, severity: severity, escalations: escalations, title: title, on: on,
                joinsCrossing: joinsCrossing, key: key, keyFields: keyFields, forEach: forEach, when: when, facts: facts,
                suppress: suppress, kind: kind)
        }
    }

    private var storage: Storage

    /// The storage, copied first when another rule shares it.
    private var unique: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    init(
        id: String, category: String, severity: Severity, escalations: [Escalation], title: Template,
        on: Set<EventKind>, joinsCrossing: Bool, key: [KeyType], keyFields: [Field?], forEach: Collection?,
        when: Condition?, facts: [(name: String, field: Field)], suppress: Int64, kind: Kind
    ) {
        storage = Storage(
            id: id, category: category, severity: severity, escalations: escalations, title: title, on: on,
            joinsCrossing: joinsCrossing, key: key, keyFields: keyFields, forEach: forEach, when: when, facts: facts,
            suppress: suppress, kind: kind)
    }

    public var id: String {
        get { storage.id }
        set { unique.id = newValue }
    }
    public var category: String {
        get { storage.category }
        set { unique.category = newValue }
    }
    public var severity: Severity {
        get { storage.severity }
        set { unique.severity = newValue }
    }
    var escalations: [Escalation] {
        get { storage.escalations }
        set { unique.escalations = newValue }
    }
    var title: Template {
        get { storage.title }
        set { unique.title = newValue }
    }
    /// The event kinds the rule looks at.
    public var on: Set<EventKind> {
        get { storage.on }
        set { unique.on = newValue }
    }
    /// Whether inspections are seen with the crossing they inspected.
    public var joinsCrossing: Bool {
        get { storage.joinsCrossing }
        set { unique.joinsCrossing = newValue }
    }
    /// Alternatives tried in order; the first the event has names the alert's key.
    public var key: [KeyType] {
        get { storage.key }
        set { unique.key = newValue }
    }
    /// Per `key` alternative: the field whose value is the key, instead of the type's usual source.
    var keyFields: [Field?] {
        get { storage.keyFields }
        set { unique.keyFields = newValue }
    }
    /// The rule runs once per element of this collection, with the element bound.
    var forEach: Collection? {
        get { storage.forEach }
        set { unique.forEach = newValue }
    }
    var when: Condition? {
        get { storage.when }
        set { unique.when = newValue }
    }
    var facts: [(name: String, field: Field)] {
        get { storage.facts }
        set { unique.facts = newValue }
    }
    /// After an alert, matches for the same key within this much event time are counted, not alerted.
    public var suppress: Int64 {
        get { storage.suppress }
        set { unique.suppress = newValue }
    }
    var kind: Kind {
        get { storage.kind }
        set { unique.kind = newValue }
    }

    enum Kind: Sendable {
        case match
        case window(WindowSpec)
        case absence(AbsenceSpec)
        case velocity(VelocitySpec)
    }

    /// The longest span of event time the rule looks back over.
    var horizon: Int64 {
        let recent = escalations.reduce(suppress) { max($0, $1.recent?.length ?? 0) }
        switch kind {
        case .match: return recent
        case .window(let spec): return max(spec.length.plus(spec.followedBy?.within ?? 0), recent)
        case .absence(let spec): return max(spec.within, recent)
        case .velocity(let spec): return max(spec.within, recent)
        }
    }
}

/// `escalate:` entry: the severity replaces the rule's when its condition holds and,
/// with `recent`, enough of the rule's recent matches (this one included) meet the thresholds.
struct Escalation: Sendable {
    var severity: Severity
    var when: Condition?
    var recent: RecentSpec?
}

/// Severity escalation from window counts: the rule's own matches in the last `length`.
struct RecentSpec: Sendable {
    var length: Int64
    /// Only matches within this distance of the triggering event's position count.
    var withinKm: Double?
    /// Count matches under every key, not only the alert's (a track crosses sector lines).
    var anyKey: Bool
    var thresholds: [Threshold]
}

/// `kind: window`: a keyed aggregate over a sliding event-time window `(t − length, t]`.
///
/// A class, as are `AbsenceSpec` and `FollowSpec`: the per-event loop takes a rule's spec out of its plan,
/// and a struct's copy retained and released each of its lists and conditions every time.
final class WindowSpec: Sendable {
    let length: Int64
    /// Separate windows per value of these fields (e.g. direction) under one alert key.
    let per: [Field]
    /// All must hold for the rule to match.
    let thresholds: [Threshold]
    /// A matching event enters the window only once a follow-up confirms it.
    let followedBy: FollowSpec?

    init(length: Int64, per: [Field], thresholds: [Threshold], followedBy: FollowSpec?) {
        self.length = length
        self.per = per
        self.thresholds = thresholds
        self.followedBy = followedBy
    }

    /// Whether a threshold reads the window's sum, which takes a pass over its entries.
    var sums: Bool {
        thresholds.contains { if case .sum = $0.measure { true } else { false } }
    }
}

/// `followedBy:` a trigger counts when a later event (within `within`) shares one of its identities.
/// A class for the reason `WindowSpec` is one.
final class FollowSpec: Sendable {
    let on: EventKind
    let joinsCrossing: Bool
    let within: Int64
    let when: Condition?
    /// Identities of the trigger (plate, doc) the follow-up must share; one is enough.
    let same: [KeyType]

    init(on: EventKind, joinsCrossing: Bool, within: Int64, when: Condition?, same: [KeyType]) {
        self.on = on
        self.joinsCrossing = joinsCrossing
        self.within = within
        self.when = when
        self.same = same
    }
}

/// `kind: velocity`: consecutive sightings of a key at different checkpoints too far apart for the time between them.
struct VelocitySpec: Sendable {
    /// Sightings further apart than this are not compared.
    var within: Int64
    /// km/h; true: `gt`, false: `ge`.
    var strict: Bool
    var limit: Double
}

struct Threshold: Sendable {
    enum Measure: Sendable {
        case count
        case sum(Field)
        /// Over one value per event, or, for an element field, over every element (meeting `where`).
        case distinct(Field, where: Condition?)

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
final class AbsenceSpec: Sendable {
    let within: Int64
    let expectOn: EventKind
    let expect: Condition?
    /// The follow-up's field must equal the trigger's field, e.g. the entry's checkpoint = the exit's paired checkpoint.
    let correlate: [(follow: Field, trigger: Field)]

    init(within: Int64, expectOn: EventKind, expect: Condition?, correlate: [(follow: Field, trigger: Field)]) {
        self.within = within
        self.expectOn = expectOn
        self.expect = expect
        self.correlate = correlate
    }
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
    /// `doc` is the driver's document, else a pedestrian's, else the only person's;
    /// `sector` the event's sector, else the sector zone of its position; `zone` the
    /// restricted fishing zone of its position.
    func value(in scope: Scope) -> String? {
        switch self {
        case .plate: return scope.crossingRecord?.crossingBody.vehicle?.plate
        case .doc:
            guard let persons = scope.crossingRecord?.crossingBody.persons else { return nil }
            if let driver = persons.first(where: { $0.role == .driver }) { return driver.doc }
            if let pedestrian = persons.first(where: { $0.role == .pedestrian }) { return pedestrian.doc }
            return persons.count == 1 ? persons[0].doc : nil
        case .checkpoint: return scope.crossingRecord?.crossingBody.checkpoint ?? scope.record.inspection?.checkpoint
        case .officer: return scope.crossingRecord?.crossingBody.officer ?? scope.record.inspection?.officer
        case .sector: return scope.sector
        case .vessel:
            if case .vessel(let vessel)? = scope.record.other { return vessel.vessel }
            return nil
        case .zone: return scope.fishingZoneID
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
        guard let top = root.object(["lists", "watchlists", "joins", "rules"]) else { return rulebook }
        var lists: [String: [String]] = [:]
        if let listsValue = top.optional("lists"), let members = listsValue.members() {
            for (name, value) in members {
                guard let items = value.elements() else { continue }
                let strings = items.compactMap { $0.string() }
                if strings.count == items.count { lists[name] = strings }
            }
        }
        var watchlistNames: Set<String> = []
        if let members = top.optional("watchlists")?.members() {
            let directory = (root.reader.file as NSString).deletingLastPathComponent
            for (name, value) in members {
                guard let path = value.string() else { continue }
                watchlistNames.insert(name)
                let file = path.hasPrefix("/") || directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
                guard FileManager.default.isReadableFile(atPath: file) else {
                    value.fail("cannot read the watchlist file \(file)")
                    continue
                }
                do {
                    rulebook.watchlists[name] = try Watchlist.load(name: name, file: file)
                } catch {
                    root.reader.record(error.errors)
                }
            }
        }
        if let joins = top.optional("joins")?.object(["crossingRetention", "inspectionWait"]) {
            if let value = joins.optional("crossingRetention")?.duration() { rulebook.crossingRetention = value }
            if let value = joins.optional("inspectionWait")?.duration() { rulebook.inspectionWait = value }
        }
        guard let items = top.required("rules")?.elements() else { return rulebook }
        var seen: [String: Int] = [:]
        for item in items {
            guard let (id, rules) = readRule(item, lists, watchlistNames) else { continue }
            if let line = seen[id] {
                item.fail("rule id \"\(id)\" is already used on line \(line)")
                continue
            }
            seen[id] = item.line
            rulebook.rules += rules
        }
        return rulebook
    }

    private static let sharedFields: Set<String> = ["id", "enabled", "category", "severity", "suppress", "parts"]
    /// Fields of one detector: the rule itself, or each of its `parts`.
    private static let detectorFields: Set<String> = [
        "escalate", "title", "kind", "on", "join", "key", "forEach", "when", "facts", "window", "per", "fire", "within",
        "expect", "followedBy", "speed",
    ]

    /// One rule as one `Rule` per part (sharing id, category, severity and suppression);
    /// nil when it has problems (recorded), no rules when it is disabled.
    private static func readRule(_ item: YAMLValue, _ lists: [String: [String]], _ watchlists: Set<String>)
        -> (id: String, rules: [Rule])?
    {
        guard let fields = item.object(sharedFields.union(detectorFields)) else { return nil }
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
        let suppress = fields.optional("suppress")?.duration()
        var detectors: [YAMLObject] = []
        if let parts = fields.optional("parts") {
            for name in detectorFields.sorted() {
                fields.optional(name)?.fail("with `parts`, this belongs in each part")
            }
            for part in parts.elements() ?? [] {
                if let partFields = part.object(detectorFields) { detectors.append(partFields) }
            }
            if parts.elements()?.isEmpty == true { parts.fail("expected at least one part") }
        } else {
            detectors.append(fields)
        }
        let rules = detectors.compactMap { readDetector($0, lists, watchlists) }
        guard reader.errors.count == errorsBefore, let id, let category, let severity, rules.count == detectors.count,
            !rules.isEmpty
        else { return nil }
        guard enabled else { return (id, []) }
        return (
            id,
            rules.map { detector in
                var rule = detector
                rule.id = id
                rule.category = category
                rule.severity = severity
                if let suppress { rule.suppress = suppress }
                return rule
            }
        )
    }

    /// The detector fields of a rule or part, as a `Rule` whose id, category and severity the caller fills in.
    private static func readDetector(_ fields: YAMLObject, _ lists: [String: [String]], _ watchlists: Set<String>)
        -> Rule?
    {
        let reader = fields.owner.reader
        let errorsBefore = reader.errors.count
        let kindName = fields.required("kind").flatMap { value -> String? in
            guard let name = value.string() else { return nil }
            guard ["match", "window", "absence", "velocity"].contains(name) else {
                value.fail("expected one of match, window, absence, velocity, got \"\(name)\"")
                return nil
            }
            return name
        }
        let on = fields.required("on").flatMap(readKinds)
        let joinsCrossing = fields.optional("join").flatMap { readJoin($0, on ?? []) } ?? false
        let context = ConditionContext(
            hasCrossing: on?.contains(.crossing) == true || joinsCrossing, hasInspection: on?.contains(.inspection) == true,
            kinds: on ?? [], lists: lists, watchlists: watchlists)
        var eachContext = context
        let forEach = fields.optional("forEach").flatMap { value -> Collection? in
            guard let collection = value.oneOf(Collection.self) else { return nil }
            guard context.allows(collection) else {
                value.fail("this rule's events have no \(collection.rawValue) list")
                return nil
            }
            eachContext.bound.insert(collection)
            return collection
        }
        let when = fields.optional("when").flatMap { Condition.read($0, eachContext) }
        // Keys, titles, facts and escalations may name the elements `forEach` and `when` bind.
        var bodyContext = eachContext
        if let when { bodyContext.bound.formUnion(when.bindable) }
        let key = fields.required("key").flatMap { readKey($0, bodyContext) }
        let title = fields.required("title").flatMap { readTemplate($0, bodyContext) }
        let escalations = fields.optional("escalate").flatMap { readEscalations($0, eachContext) } ?? []
        let facts = fields.optional("facts").flatMap { readFacts($0, bodyContext) } ?? []

        var kind: Rule.Kind?
        let specific: [String: Set<String>] = [
            "match": [], "window": ["window", "per", "fire", "followedBy"], "absence": ["within", "expect"],
            "velocity": ["within", "speed"],
        ]
        if let kindName, let allowed = specific[kindName] {
            for name in ["window", "per", "fire", "followedBy", "within", "expect", "speed"] where !allowed.contains(name) {
                fields.optional(name)?.fail("not a field of \(kindName) rules")
            }
        }
        switch kindName {
        case "match":
            kind = .match
        case "window":
            let length = fields.required("window")?.duration()
            let thresholds = fields.required("fire").flatMap { readThresholds($0, bodyContext) }
            let per = fields.optional("per").flatMap { readFields($0, bodyContext) } ?? []
            let followedBy = fields.optional("followedBy").flatMap { readFollow($0, lists, watchlists) }
            if let length, let thresholds {
                kind = .window(WindowSpec(length: length, per: per, thresholds: thresholds, followedBy: followedBy))
            }
        case "absence":
            let within = fields.required("within")?.duration()
            let spec = fields.required("expect").flatMap { readExpect($0, context, lists) }
            if let within, let spec {
                kind = .absence(AbsenceSpec(within: within, expectOn: spec.on, expect: spec.when, correlate: spec.correlate))
            }
        case "velocity":
            if let on, on != [.crossing] { fields.optional("on")?.fail("velocity rules run on crossings (checkpoint positions)") }
            let within = fields.required("within")?.duration()
            let speed = fields.required("speed").flatMap(readComparison)
            if let within, let speed {
                kind = .velocity(VelocitySpec(within: within, strict: speed.strict, limit: speed.limit))
            }
        default:
            break
        }
        guard reader.errors.count == errorsBefore, let on, let key, let title, let kind else { return nil }
        let defaultSuppress: Int64 =
            switch kind {
            case .match, .velocity: 3_600_000_000_000
            case .window(let spec): spec.length
            case .absence(let spec): spec.within
            }
        return Rule(
            id: "", category: "", severity: .low, escalations: escalations, title: title, on: on,
            joinsCrossing: joinsCrossing, key: key.map { $0.type }, keyFields: key.map { $0.field }, forEach: forEach, when: when,
            facts: facts, suppress: defaultSuppress, kind: kind)
    }

    private static func readJoin(_ value: YAMLValue, _ on: Set<EventKind>) -> Bool? {
        guard let name = value.string() else { return nil }
        guard name == "crossing", on.contains(.inspection) else {
            value.fail("only `join: crossing` on rules that see inspections is supported, got \"\(name)\"")
            return nil
        }
        return true
    }

    /// `{gt|ge: N}`.
    private static func readComparison(_ value: YAMLValue) -> (strict: Bool, limit: Double)? {
        guard let members = value.members(allowed: ["gt", "ge"]) else { return nil }
        guard members.count == 1, let (name, limit) = members.first else {
            value.fail("expected exactly one of gt, ge")
            return nil
        }
        return limit.number().map { (name == "gt", $0) }
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

    /// Key types, each plain (`plate`) or with the field that gives its value (`{doc: person.doc}`).
    private static func readKey(_ value: YAMLValue, _ context: ConditionContext) -> [(type: KeyType, field: Field?)]? {
        let items: [YAMLValue]
        if case .sequence = value.node { guard let list = value.elements() else { return nil }; items = list } else { items = [value] }
        var keys: [(type: KeyType, field: Field?)] = []
        for item in items {
            if case .mapping = item.node {
                guard let members = item.members(), members.count == 1, let (name, fieldValue) = members.first else {
                    item.fail("expected a key type, or one {TYPE: FIELD}")
                    return nil
                }
                guard let type = KeyType(rawValue: name) else {
                    fieldValue.fail("expected one of \(KeyType.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
                    return nil
                }
                guard let path = fieldValue.string() else { return nil }
                guard let field = Field(rawValue: path), field.type == .string else {
                    fieldValue.fail("expected a string field, got \"\(path)\"")
                    return nil
                }
                if let problem = context.allows(field) {
                    fieldValue.fail("\"\(path)\" \(problem)")
                    return nil
                }
                keys.append((type, field))
            } else {
                guard let type = item.oneOf(KeyType.self) else { return nil }
                keys.append((type, nil))
            }
        }
        guard !keys.isEmpty else {
            value.fail("expected at least one key type")
            return nil
        }
        return keys
    }

    /// `followedBy: {on, join, within, when, same}`.
    private static func readFollow(_ value: YAMLValue, _ lists: [String: [String]], _ watchlists: Set<String>)
        -> FollowSpec?
    {
        guard let fields = value.object(["on", "join", "within", "when", "same"]) else { return nil }
        let on = fields.required("on")?.oneOf(EventKind.self)
        let joins = fields.optional("join").flatMap { readJoin($0, on.map { [$0] } ?? []) } ?? false
        let within = fields.required("within")?.duration()
        let context = ConditionContext(
            hasCrossing: on == .crossing || joins, hasInspection: on == .inspection, kinds: on.map { [$0] } ?? [],
            lists: lists, watchlists: watchlists)
        let when = fields.optional("when").flatMap { Condition.read($0, context) }
        let same = fields.required("same").flatMap { value -> [KeyType]? in
            guard let items = value.elements() else { return nil }
            let types = items.compactMap { item -> KeyType? in
                guard let type = item.oneOf(KeyType.self) else { return nil }
                guard type == .plate || type == .doc else {
                    item.fail("followers are matched by plate or doc, got \"\(type.rawValue)\"")
                    return nil
                }
                return type
            }
            guard types.count == items.count, !types.isEmpty else {
                if items.isEmpty { value.fail("expected at least one of plate, doc") }
                return nil
            }
            return types
        }
        guard let on, let within, let same else { return nil }
        return FollowSpec(on: on, joinsCrossing: joins, within: within, when: when, same: same)
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

    /// `escalate: [{severity, when: CONDITION, recent: {window, withinKm, anyKey, fire}}]`, each with `when`, `recent` or both.
    private static func readEscalations(_ value: YAMLValue, _ context: ConditionContext) -> [Escalation]? {
        guard let items = value.elements() else { return nil }
        var result: [Escalation] = []
        for item in items {
            guard let fields = item.object(["severity", "when", "recent"]) else { continue }
            let severity = fields.required("severity")?.oneOf(Severity.self)
            let when = fields.optional("when").flatMap { Condition.read($0, context) }
            let recent = fields.optional("recent").flatMap { readRecent($0, context) }
            guard fields.optional("when") != nil || fields.optional("recent") != nil else {
                item.fail("expected `when`, `recent` or both")
                continue
            }
            guard let severity, fields.optional("when") == nil || when != nil, fields.optional("recent") == nil || recent != nil
            else { continue }
            result.append(Escalation(severity: severity, when: when, recent: recent))
        }
        return result.count == items.count ? result : nil
    }

    private static func readRecent(_ value: YAMLValue, _ context: ConditionContext) -> RecentSpec? {
        guard let fields = value.object(["window", "withinKm", "anyKey", "fire"]) else { return nil }
        let length = fields.required("window")?.duration()
        let withinKm = fields.optional("withinKm").flatMap { field -> Double? in
            guard let km = field.number() else { return nil }
            guard km > 0 else {
                field.fail("expected a distance above 0 km, got \(km)")
                return nil
            }
            guard context.kinds.contains(where: { [.patrol, .sensor, .vessel].contains($0) }) else {
                field.fail("distances need positions: use it on patrol, sensor or vessel rules")
                return nil
            }
            return km
        }
        let anyKey = fields.optional("anyKey")?.bool() ?? false
        let thresholds = fields.required("fire").flatMap { readThresholds($0, context) }
        guard let length, let thresholds, fields.optional("withinKm") == nil || withinKm != nil else { return nil }
        if thresholds.contains(where: { if case .field = $0.operand { true } else { false } }) {
            fields.optional("fire")?.fail("escalation thresholds are numbers")
            return nil
        }
        return RecentSpec(length: length, withinKm: withinKm, anyKey: anyKey, thresholds: thresholds)
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

    /// `fire: {count: {gt: N | FIELD}, sum: {of: FIELD, ge: N}, distinct: {of: FIELD, where: C, ge: N}}`;
    /// `distinct` of an element field (e.g. person.doc) counts every element, those meeting `where` if given.
    private static func readThresholds(_ value: YAMLValue, _ context: ConditionContext) -> [Threshold]? {
        guard let members = value.members(allowed: ["count", "sum", "distinct"]) else { return nil }
        var thresholds: [Threshold] = []
        for (name, spec) in members {
            let allowed: Set<String> =
                switch name {
                case "count": ["gt", "ge"]
                case "sum": ["of", "gt", "ge"]
                default: ["of", "where", "gt", "ge"]
                }
            guard let fields = spec.object(allowed) else { continue }
            var measure = Threshold.Measure.count
            if name != "count" {
                guard let ofValue = fields.required("of"), let path = ofValue.string() else { continue }
                guard let field = Field(rawValue: path) else {
                    ofValue.fail("unknown field \"\(path)\"")
                    continue
                }
                var elementContext = context
                if name == "distinct", case .element(let collection) = field.source, context.allows(collection) {
                    elementContext.bound.insert(collection)
                }
                if let problem = elementContext.allows(field) {
                    ofValue.fail("\"\(path)\" \(problem)")
                    continue
                }
                if name == "sum" {
                    guard field.type == .number else {
                        ofValue.fail("`sum` adds numbers; \"\(path)\" is \(field.type.name)")
                        continue
                    }
                    measure = .sum(field)
                } else {
                    var filter: Condition?
                    if let whereValue = fields.optional("where") {
                        guard case .element = field.source else {
                            whereValue.fail("`where` filters the elements of an element field such as person.doc")
                            continue
                        }
                        guard let condition = Condition.read(whereValue, elementContext) else { continue }
                        filter = condition
                    }
                    measure = .distinct(field, where: filter)
                }
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
        let followContext = ConditionContext(
            hasCrossing: on == .crossing, hasInspection: on == .inspection, kinds: [on], lists: lists,
            watchlists: context.watchlists)
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
