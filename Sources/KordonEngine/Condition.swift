import KordonEvents

/// A condition on one event, compiled from the rulebook's `when:` blocks.
///
/// YAML forms (all names are field paths from `Field`):
///   {all: [C, ...]}  {any: [C, ...]}  {not: C}
///   {some: finding|goods|person|permit, where: C}   binds the element; the first match stays bound
///   {none: finding|goods|person|permit, where: C}
///   {FIELD: SCALAR}                                 equality
///   {FIELD: {OP: OPERAND, ...}}                     every operator must hold
///   several FIELD keys in one mapping               all must hold
/// Operators: eq, ne, lt, le, gt, ge (numbers), in, notIn (a list, or the
/// name of a list under `lists:`), prefix (a list of prefixes or a list
/// name; for HS codes), exists (true/false), watchlist (the name of a
/// watchlist under `watchlists:`; plate fields are looked up in its plates,
/// doc fields in its docs).
/// An absent field satisfies only `ne`, `notIn` and `exists: false`.
indirect enum Condition: Sendable {
    case all([Condition])
    case any([Condition])
    case not(Condition)
    case some(Collection, Condition)
    case none(Collection, Condition)
    case test(Field, Test)

    enum Test: Sendable {
        case eq(Value)
        case ne(Value)
        case lt(Double)
        case le(Double)
        case gt(Double)
        case ge(Double)
        case isIn(Set<String>)
        case notIn(Set<String>)
        case prefix([String])
        case exists(Bool)
        case watchlist(name: String, identity: KeyType)
    }

    /// Whether the condition holds; bindings made by a successful `some` stay in `scope`.
    func holds(_ scope: inout Scope) -> Bool {
        switch self {
        case .all(let conditions):
            let saved = scope.bound
            for condition in conditions where !condition.holds(&scope) {
                scope.bound = saved
                return false
            }
            return true
        case .any(let conditions):
            for condition in conditions where condition.holds(&scope) { return true }
            return false
        case .not(let condition):
            let saved = scope.bound
            let result = condition.holds(&scope)
            scope.bound = saved
            return !result
        case .some(let collection, let condition):
            return scope.bindEach(collection) { condition.holds(&$0) }
        case .none(let collection, let condition):
            let saved = scope.bound
            let found = scope.bindEach(collection) { condition.holds(&$0) }
            scope.bound = saved
            return !found
        case .test(let field, let test):
            return test.holds(field.value(in: scope), scope)
        }
    }
}

/// Which of the event's lists (`Collection.bit`) are non-empty: without goods, say, no `some: goods` can hold.
typealias Presence = UInt8

extension Collection {
    var bit: Presence {
        switch self {
        case .finding: 1
        case .goods: 2
        case .person: 4
        case .permit: 8
        }
    }
}

extension Condition {
    /// Bit `p` is set when the condition can hold for an event whose non-empty lists are `p`, as far as
    /// the quantifiers alone tell (each field test counts as either way). A rule then skips the events
    /// it cannot match without evaluating anything.
    var possible: UInt16 {
        (0..<16).reduce(0) { bits, presence in
            outcome(Presence(presence)) == false ? bits : bits | 1 << presence
        }
    }

    /// True or false when the quantifiers decide it, nil when the fields do.
    private func outcome(_ presence: Presence) -> Bool? {
        switch self {
        case .all(let conditions):
            let outcomes = conditions.map { $0.outcome(presence) }
            if outcomes.contains(false) { return false }
            return outcomes.allSatisfy { $0 == true } ? true : nil
        case .any(let conditions):
            let outcomes = conditions.map { $0.outcome(presence) }
            if outcomes.contains(true) { return true }
            return outcomes.allSatisfy { $0 == false } ? false : nil
        case .not(let condition): return condition.outcome(presence).map(!)
        case .some(let collection, let condition):
            guard presence & collection.bit != 0 else { return false }
            return condition.outcome(presence)
        case .none(let collection, let condition):
            guard presence & collection.bit != 0 else { return true }
            return condition.outcome(presence).map(!)
        case .test: return nil
        }
    }
}

/// A condition compiled to closures once at load: evaluating it then neither walks the enum tree nor
/// switches on the test kind per event. Same results and bindings as `Condition.holds`.
typealias Check = @Sendable (inout Scope) -> Bool

extension Condition {
    var compiled: Check {
        switch self {
        case .all(let conditions): Self.all(conditions[...])
        case .any(let conditions): Self.any(conditions[...])
        case .not(let condition):
            { [check = condition.compiled] scope in
                let saved = scope.bound
                let result = check(&scope)
                scope.bound = saved
                return !result
            }
        case .some(let collection, let condition):
            { [check = condition.compiled] scope in scope.bindEach(collection) { check(&$0) } }
        case .none(let collection, let condition):
            { [check = condition.compiled] scope in
                let saved = scope.bound
                let found = scope.bindEach(collection) { check(&$0) }
                scope.bound = saved
                return !found
            }
        case .test(let field, let test): test.compiled(field)
        }
    }

    // Parts are captured one by one and never kept in an array or an optional, where a closure is
    // stored at the most general abstraction: calling it back then goes through a thunk, which cost more
    // than most tests. Lists nest pairwise, which keeps the order, the short circuit and the bindings
    // (a failing `all` restores them).
    private static func all(_ conditions: ArraySlice<Condition>) -> Check {
        guard let first = conditions.first else { return { _ in true } }
        // Compiled outside the optional: `first?.compiled` would wrap the closure in a thunk.
        let head = first.compiled
        guard conditions.count > 1 else { return head }
        let rest = all(conditions.dropFirst())
        return { scope in
            let saved = scope.bound
            if head(&scope), rest(&scope) { return true }
            scope.bound = saved
            return false
        }
    }

    private static func any(_ conditions: ArraySlice<Condition>) -> Check {
        guard let first = conditions.first else { return { _ in false } }
        let head = first.compiled
        guard conditions.count > 1 else { return head }
        let rest = any(conditions.dropFirst())
        return { scope in head(&scope) || rest(&scope) }
    }
}

extension Condition.Test {
    /// Each test reads its field's value and decides in one closure, typed for what it compares.
    func compiled(_ field: Field) -> Check {
        if let check = compiledOnCase(field) { return check }
        switch self {
        case .eq(.string(let expected)):
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return false }
                return text == expected
            }
        case .eq(let expected): return { field.value(in: $0) == expected }
        case .ne(let expected): return { field.value(in: $0) != expected }
        case .exists(let expected): return { (field.value(in: $0) != nil) == expected }
        // Spelled out rather than through a comparison closure, which would be one more call per test.
        case .lt(let bound):
            return { scope in
                guard case .number(let number)? = field.value(in: scope) else { return false }
                return number < bound
            }
        case .le(let bound):
            return { scope in
                guard case .number(let number)? = field.value(in: scope) else { return false }
                return number <= bound
            }
        case .gt(let bound):
            return { scope in
                guard case .number(let number)? = field.value(in: scope) else { return false }
                return number > bound
            }
        case .ge(let bound):
            return { scope in
                guard case .number(let number)? = field.value(in: scope) else { return false }
                return number >= bound
            }
        // A few values (categories, roles, kinds) are scanned rather than hashed: comparing short strings
        // is a word compare, and hashing one costs more than the whole scan.
        case .isIn(let set) where set.count <= 8:
            let values = Array(set)
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return false }
                return values.contains(text)
            }
        case .notIn(let set) where set.count <= 8:
            let values = Array(set)
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return true }
                return !values.contains(text)
            }
        case .isIn(let set):
            let keys = Set(set.map(TableKey.init))
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return false }
                return keys.contains(TableKey(text))
            }
        case .notIn(let set):
            let keys = Set(set.map(TableKey.init))
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return true }
                return !keys.contains(TableKey(text))
            }
        case .prefix(let prefixes):
            // As bytes, compared in place: `starts(with:)` over two strings' UTF-8 views stepped through
            // their indices one byte at a time.
            let prefixes = prefixes.map { Array($0.utf8) }
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return false }
                return text.utf8.withContiguousStorageIfAvailable { bytes in prefixes.contains { bytes.starts(with: $0) } }
                    ?? prefixes.contains { text.utf8.starts(with: $0) }
            }
        case .watchlist(let name, let identity):
            // The lists are the engine's latest (they reload), so they are looked up at each test.
            return { scope in
                guard case .string(let text)? = field.value(in: scope) else { return false }
                return scope.lookups.lists(text, in: name, as: identity)
            }
        }
    }
}

extension Condition.Test {
    /// Equality and membership on a field that holds one of a fixed set of words (a kind, a category,
    /// a direction): the words are read into cases once here, and each event's case is compared as
    /// it is, without making and comparing its word. Same results as the tests on `Field.value`;
    /// nil for any other test or field.
    fileprivate func compiledOnCase(_ field: Field) -> Check? {
        switch field {
        case .eventKind: onCase { $0.record.kind }
        case .crossingDirection: onCase { $0.crossingRecord?.crossingBody.direction }
        case .vehicleType: onCase { $0.crossingRecord?.crossingBody.vehicle?.type }
        case .inspectionMethod: onCase { $0.record.inspection?.method }
        case .findingCategory: onCase { $0.finding { $0.category } }
        case .personRole: onCase { $0.person { $0.role } }
        case .permitType: onCase { $0.permit { $0.type } }
        case .patrolObservation: onCase { if case .patrol(let patrol)? = $0.record.other { patrol.observation } else { nil } }
        case .sensorType: onCase { if case .sensor(let sensor)? = $0.record.other { sensor.sensorType } else { nil } }
        case .sensorDetection: onCase { if case .sensor(let sensor)? = $0.record.other { sensor.detection } else { nil } }
        case .vesselActivity: onCase { if case .vessel(let vessel)? = $0.record.other { vessel.activity } else { nil } }
        default: nil
        }
    }

    private func onCase<Word: RawRepresentable<String> & Equatable & Sendable>(
        _ read: @escaping @Sendable (Scope) -> Word?
    ) -> Check? {
        switch self {
        case .eq(.string(let expected)):
            guard let expected = Word(rawValue: expected) else { return { _ in false } }
            return { read($0) == expected }
        case .ne(.string(let unexpected)):
            guard let unexpected = Word(rawValue: unexpected) else { return { _ in true } }
            return { read($0) != unexpected }
        case .isIn(let set):
            let members = set.compactMap(Word.init(rawValue:))
            return { scope in read(scope).map(members.contains) ?? false }
        case .notIn(let set):
            let members = set.compactMap(Word.init(rawValue:))
            return { scope in read(scope).map { !members.contains($0) } ?? true }
        default: return nil
        }
    }

    func holds(_ value: Value?, _ scope: Scope) -> Bool {
        switch self {
        case .watchlist(let name, let identity):
            guard let text = string(value) else { return false }
            return scope.lookups.lists(text, in: name, as: identity)
        case .eq(let expected): return value == expected
        case .ne(let expected): return value != expected
        case .exists(let expected): return (value != nil) == expected
        case .lt(let bound): return number(value).map { $0 < bound } ?? false
        case .le(let bound): return number(value).map { $0 <= bound } ?? false
        case .gt(let bound): return number(value).map { $0 > bound } ?? false
        case .ge(let bound): return number(value).map { $0 >= bound } ?? false
        case .isIn(let set): return string(value).map(set.contains) ?? false
        case .notIn(let set): return string(value).map { !set.contains($0) } ?? true
        case .prefix(let prefixes):
            guard let text = string(value) else { return false }
            return prefixes.contains { text.utf8.starts(with: $0.utf8) }
        }
    }

    private func number(_ value: Value?) -> Double? {
        if case .number(let number) = value { number } else { nil }
    }

    private func string(_ value: Value?) -> String? {
        if case .string(let text) = value { text } else { nil }
    }
}

/// What a condition may refer to where it appears.
struct ConditionContext {
    /// Whether the rule's event has a crossing (its own, or joined) and an inspection.
    var hasCrossing: Bool
    var hasInspection: Bool
    /// The event kinds the condition sees, for patrol, sensor, vessel and position fields.
    var kinds: Set<EventKind>
    var bound: Set<Collection> = []
    let lists: [String: [String]]
    var watchlists: Set<String> = []

    func allows(_ field: Field) -> String? {
        switch field.source {
        case .event: break
        case .kind(let kind) where !kinds.contains(kind):
            return "needs a \(kind.rawValue) event: use it on rules `on: \(kind.rawValue)`"
        case .position where kinds.isDisjoint(with: [.patrol, .sensor, .vessel]):
            return "needs a position: use it on patrol, sensor or vessel rules"
        case .crossing where !hasCrossing:
            return "needs a crossing: use it on crossing rules, or on inspection rules with `join: crossing`"
        case .inspection where !hasInspection: return "needs an inspection: use it on inspection rules"
        case .element(let collection) where !bound.contains(collection):
            return "only inside `some: \(collection.rawValue)` or `none: \(collection.rawValue)`"
        default: break
        }
        if let other = field.alsoNeeds, !bound.contains(other) {
            return "only where a \(other.rawValue) is bound by `some: \(other.rawValue)`"
        }
        return nil
    }

    func allows(_ collection: Collection) -> Bool {
        collection.needs == .crossing ? hasCrossing : hasInspection
    }
}

extension Condition {
    private static let combinators: Set<String> = ["all", "any", "not", "some", "none", "where"]

    /// Compiles a `when:` block; nil with problems recorded.
    static func read(_ value: YAMLValue, _ context: ConditionContext) -> Condition? {
        guard let members = value.members() else { return nil }
        guard let first = members.first else {
            value.fail("expected a condition, got an empty mapping")
            return nil
        }
        if combinators.contains(first.name) {
            return readCombinator(value, members, context)
        }
        var tests: [Condition] = []
        var valid = true
        for (name, operand) in members {
            if combinators.contains(name) {
                operand.fail("`\(name)` cannot be mixed with field tests in one mapping; wrap them in `all:`")
                valid = false
                continue
            }
            guard let field = Field(rawValue: name) else {
                operand.fail("unknown field \"\(name)\"")
                valid = false
                continue
            }
            if let problem = context.allows(field) {
                operand.fail("\"\(name)\" \(problem)")
                valid = false
                continue
            }
            guard let fieldTests = readTests(field, operand, context) else {
                valid = false
                continue
            }
            tests += fieldTests
        }
        guard valid else { return nil }
        return tests.count == 1 ? tests[0] : .all(tests)
    }

    private static func readCombinator(
        _ value: YAMLValue, _ members: [(name: String, value: YAMLValue)], _ context: ConditionContext
    ) -> Condition? {
        // `where` may come first in the file; the pair is what matters.
        let names = members.map(\.name).sorted { $0 != "where" && $1 == "where" }
        let byName = Dictionary(members.map { ($0.name, $0.value) }) { a, _ in a }
        switch names {
        case ["all"], ["any"]:
            guard let items = members[0].value.elements() else { return nil }
            guard !items.isEmpty else {
                members[0].value.fail("expected at least one condition")
                return nil
            }
            let conditions = items.map { read($0, context) }
            guard conditions.allSatisfy({ $0 != nil }) else { return nil }
            return names == ["all"] ? .all(conditions.compactMap { $0 }) : .any(conditions.compactMap { $0 })
        case ["not"]:
            return read(members[0].value, context).map(Condition.not)
        case ["some", "where"], ["none", "where"]:
            guard let collectionValue = byName[names[0]], let whereValue = byName["where"] else { return nil }
            guard let collection = collectionValue.oneOf(Collection.self) else { return nil }
            guard context.allows(collection) else {
                collectionValue.fail("this rule's events have no \(collection.rawValue) list")
                return nil
            }
            var inner = context
            inner.bound.insert(collection)
            guard let condition = read(whereValue, inner) else { return nil }
            return names[0] == "some" ? .some(collection, condition) : .none(collection, condition)
        default:
            value.fail(
                "expected one of {all: [...]}, {any: [...]}, {not: ...}, {some: LIST, where: ...}, "
                    + "{none: LIST, where: ...}, got keys \(names.joined(separator: ", "))")
            return nil
        }
    }

    private static let operators: Set<String> = [
        "eq", "ne", "lt", "le", "gt", "ge", "in", "notIn", "prefix", "exists", "watchlist",
    ]

    private static func readTests(_ field: Field, _ operand: YAMLValue, _ context: ConditionContext) -> [Condition]? {
        guard case .mapping = operand.node else {
            return readScalar(field.type, operand).map { [.test(field, .eq($0))] }
        }
        guard let members = operand.members(allowed: operators) else { return nil }
        var tests: [Condition] = []
        var valid = true
        for (name, argument) in members {
            guard let test = readTest(name, field, argument, context) else {
                valid = false
                continue
            }
            tests.append(.test(field, test))
        }
        guard valid else { return nil }
        guard !tests.isEmpty else {
            operand.fail("expected at least one operator (\(operators.sorted().joined(separator: ", ")))")
            return nil
        }
        return tests
    }

    private static func readTest(_ name: String, _ field: Field, _ argument: YAMLValue, _ context: ConditionContext)
        -> Test?
    {
        switch name {
        case "eq": return readScalar(field.type, argument).map(Test.eq)
        case "ne": return readScalar(field.type, argument).map(Test.ne)
        case "exists": return argument.bool().map(Test.exists)
        case "watchlist":
            guard let identity = field.identity else {
                argument.fail("`watchlist` looks up plates and docs; \"\(field.rawValue)\" is neither")
                return nil
            }
            guard let name = argument.string() else { return nil }
            guard context.watchlists.contains(name) else {
                let known = context.watchlists.sorted().joined(separator: ", ")
                argument.fail("no watchlist named \"\(name)\" under `watchlists:` (known: \(known))")
                return nil
            }
            return .watchlist(name: name, identity: identity)
        case "lt", "le", "gt", "ge":
            guard field.type == .number else {
                argument.fail("`\(name)` compares numbers; \"\(field.rawValue)\" is \(field.type.name)")
                return nil
            }
            guard let bound = argument.number() else { return nil }
            switch name {
            case "lt": return .lt(bound)
            case "le": return .le(bound)
            case "gt": return .gt(bound)
            default: return .ge(bound)
            }
        default:
            guard field.type == .string else {
                argument.fail("`\(name)` matches strings; \"\(field.rawValue)\" is \(field.type.name)")
                return nil
            }
            guard let strings = readStrings(argument, context) else { return nil }
            switch name {
            case "in": return .isIn(Set(strings))
            case "notIn": return .notIn(Set(strings))
            default: return .prefix(strings)
            }
        }
    }

    /// A list of strings written out, or the name of a list under `lists:`.
    private static func readStrings(_ argument: YAMLValue, _ context: ConditionContext) -> [String]? {
        if case .scalar(let scalar) = argument.node {
            guard let list = context.lists[scalar.string] else {
                let known = context.lists.keys.sorted().joined(separator: ", ")
                argument.fail("no list named \"\(scalar.string)\" under `lists:` (known: \(known))")
                return nil
            }
            return list
        }
        guard let items = argument.elements() else { return nil }
        let strings = items.map { $0.string() }
        guard strings.allSatisfy({ $0 != nil }) else { return nil }
        return strings.compactMap { $0 }
    }

    static func readScalar(_ type: ValueType, _ value: YAMLValue) -> Value? {
        switch type {
        case .string: value.string().map(Value.string)
        case .number: value.number().map(Value.number)
        case .bool: value.bool().map(Value.bool)
        }
    }
}
