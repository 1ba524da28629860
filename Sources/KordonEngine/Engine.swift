import KordonEvents

public struct EngineSettings: Sendable {
    /// How far behind the newest event time of an input an event may arrive and still count.
    public var lateness: Int64
    /// How long event ids are remembered behind the watermark, so a redelivery is
    /// reported as a duplicate rather than as late (it is never processed either way);
    /// nil: the longest rule horizon. Memory grows with it times the event rate.
    public var idRetention: Int64?

    public static let defaultLateness: Int64 = 10 * 60_000_000_000

    public init(lateness: Int64 = EngineSettings.defaultLateness, idRetention: Int64? = nil) {
        self.lateness = lateness
        self.idRetention = idRetention
    }
}

/// An input with its own watermark: one Kafka partition, or one replayed file.
public struct InputID: Hashable, Sendable {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public init(_ origin: EventOrigin) {
        self.init(topic: origin.topic, partition: origin.partition)
    }
}

/// What happened to an event handed to `Engine.ingest`.
public enum Admission: Equatable, Sendable {
    /// Buffered; rules see it once the watermark passes its time.
    case accepted
    /// Its id was seen before: a redelivery, ignored.
    case duplicate
    /// Older than the watermark: counted, not processed.
    case late(watermark: Timestamp)
}

public struct EngineStats: Sendable, Equatable {
    public var accepted = 0
    public var duplicates = 0
    public var late = 0
    public var lateByInput: [InputID: Int] = [:]
    /// Crossings and inspections naming a checkpoint the geography does not list.
    public var unknownCheckpoints = 0
    /// Inspections whose crossing did not arrive in time; join rules saw them alone.
    public var unjoinedInspections = 0
    /// Absences still open at `finish`: their deadline lies beyond the stream's last event time.
    public var openAbsences = 0
    public var alerts = 0
}

public struct EngineFootprint: Sendable, Equatable {
    public var bufferedEvents: Int
    public var timers: Int
    public var rememberedIds: Int
    public var storedCrossings: Int
    public var awaitingInspections: Int
    public var windowKeys: Int
    public var windowEntries: Int
    public var suppressionKeys: Int
    public var openAbsences: Int
}

/// Runs a rulebook over events in event time.
///
/// Ordering: events are buffered until the watermark (the lowest, over all
/// inputs, of each input's newest event time minus the allowed lateness)
/// passes them, then processed in (time, id) order. Rules therefore see the
/// same sequence whatever the arrival order within the lateness, and windows,
/// joins, deadlines and suppression give the same alerts byte for byte.
/// Deadlines fire when the watermark passes them, interleaved with events by
/// time (a deadline at D fires after every event at or before D). Suppression
/// runs on the processing clock (the event's time, or the deadline's), which
/// only moves forward.
///
/// Memory is bounded by event time: seen ids are forgotten once older than
/// the watermark minus the longest rule horizon (an older redelivery is late
/// anyway), crossings after the join retention, window entries when they
/// leave their window (a key with no live entry is freed), suppression
/// entries once their period and one more (to carry the count) have passed.
public struct Engine: Sendable {
    public let rulebook: Rulebook
    public let geography: Geography
    public let settings: EngineSettings
    public private(set) var stats = EngineStats()
    /// Event time up to which (exclusive) everything has been processed; `Int64.min` before the first release.
    public private(set) var watermark = Int64.min

    private let clock: @Sendable () -> Timestamp
    private var inputs: [InputID: Int64] = [:]
    private var queue = Heap<Queued>()
    private var timers = Heap<Timer>()
    private var nextSequence: Int64 = 0
    /// The processing clock: the time of the event being processed or of the deadline firing.
    /// It never goes back and never falls behind the watermark, so suppression decided on it
    /// cannot depend on when state was swept.
    private var now = Int64.min
    /// Ids buffered or processed, with their event time, and the processed ones in time order for forgetting.
    private var seen: [String: Int64] = [:]
    private var processed = FIFO<(time: Int64, id: String)>()
    private let idRetention: Int64
    private let joinsCrossings: Bool
    private var crossings: [String: StoredCrossing] = [:]
    private var crossingOrder = FIFO<(time: Int64, id: String)>()
    private var awaiting: [String: [AwaitingInspection]] = [:]
    private var states: [RuleState]

    /// `clock` gives `emittedAt`; tests pass a fixed one.
    public init(
        rulebook: Rulebook, geography: Geography, settings: EngineSettings = EngineSettings(),
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.rulebook = rulebook
        self.geography = geography
        self.settings = settings
        self.clock = clock
        joinsCrossings = rulebook.rules.contains { $0.joinsCrossing }
        idRetention = settings.idRetention ?? rulebook.rules.reduce(settings.lateness) { max($0, $1.horizon) }
        states = rulebook.rules.map { _ in RuleState() }
    }

    /// How much state the engine holds, for metrics and for checking that it stays bounded.
    public var footprint: EngineFootprint {
        EngineFootprint(
            bufferedEvents: queue.count, timers: timers.count, rememberedIds: seen.count, storedCrossings: crossings.count,
            awaitingInspections: awaiting.values.reduce(0) { $0 + $1.count },
            windowKeys: states.reduce(0) { $0 + $1.windows.count },
            windowEntries: states.reduce(0) { $0 + $1.windowOrder.count },
            suppressionKeys: states.reduce(0) { $0 + $1.suppression.count },
            openAbsences: states.reduce(0) { $0 + $1.pending.values.reduce(0) { $0 + $1.count } })
    }

    /// Declares an input before its first event, so its watermark holds the others back until it speaks.
    public mutating func register(_ input: InputID) {
        if inputs[input] == nil { inputs[input] = Int64.min }
    }

    /// Takes one decoded event; alerts it releases are appended to `alerts`.
    @discardableResult
    public mutating func ingest(_ event: Event, from origin: EventOrigin, into alerts: inout [Alert]) -> Admission {
        if seen[event.id] != nil {
            stats.duplicates += 1
            return .duplicate
        }
        let time = event.time.nanosecondsSinceEpoch
        let input = InputID(origin)
        if time < watermark {
            stats.late += 1
            stats.lateByInput[input, default: 0] += 1
            return .late(watermark: Timestamp(nanosecondsSinceEpoch: watermark))
        }
        stats.accepted += 1
        seen[event.id] = time
        queue.push(Queued(time: time, id: event.id, event: event, origin: origin))
        if time > inputs[input] ?? Int64.min {
            inputs[input] = time
            let newest = inputs.values.min() ?? Int64.min
            let candidate = newest == Int64.min ? Int64.min : newest.minus(settings.lateness)
            if candidate > watermark {
                release(before: candidate, into: &alerts)
            }
        }
        return .accepted
    }

    /// End of input: processes everything buffered, fires deadlines the stream's
    /// event time has passed, and lets inspections still waiting for their crossing run alone.
    public mutating func finish(into alerts: inout [Alert]) {
        let end = inputs.values.max() ?? Int64.min
        while let next = queue.pop() {
            fireTimers(before: next.time, into: &alerts)
            process(next, into: &alerts)
        }
        fireTimers(before: end, into: &alerts)
        let waiting = awaiting.values.flatMap { $0 }.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        awaiting = [:]
        now = max(now, end)
        for inspection in waiting {
            stats.unjoinedInspections += 1
            runRules(inspection.event, inspection.origin, joined: nil, joinRules: true, into: &alerts)
        }
        stats.openAbsences = footprint.openAbsences
        watermark = max(watermark, end)
    }

    // MARK: - Event time

    private mutating func release(before limit: Int64, into alerts: inout [Alert]) {
        watermark = limit
        while let next = queue.min, next.time < limit {
            fireTimers(before: next.time, into: &alerts)
            process(queue.pop()!, into: &alerts)
        }
        fireTimers(before: limit, into: &alerts)
        forget(before: limit)
    }

    /// Fires deadlines strictly before `time`: an event exactly at a deadline still counts.
    private mutating func fireTimers(before time: Int64, into alerts: inout [Alert]) {
        while let timer = timers.min, timer.due < time {
            _ = timers.pop()
            now = max(now, timer.due)
            switch timer.action {
            case .absence(let rule, let correlation):
                fireAbsence(rule: rule, correlation: correlation, sequence: timer.sequence, into: &alerts)
            case .joinTimeout(let crossingId):
                guard var waiting = awaiting[crossingId],
                    let index = waiting.firstIndex(where: { $0.sequence == timer.sequence })
                else { continue }
                let inspection = waiting.remove(at: index)
                awaiting[crossingId] = waiting.isEmpty ? nil : waiting
                stats.unjoinedInspections += 1
                runRules(inspection.event, inspection.origin, joined: nil, joinRules: true, into: &alerts)
            }
        }
    }

    private mutating func forget(before limit: Int64) {
        while let first = processed.first, first.time < limit.minus(idRetention) {
            _ = processed.removeFirst()
            seen[first.id] = nil
        }
        while let first = crossingOrder.first, first.time < limit.minus(rulebook.crossingRetention) {
            _ = crossingOrder.removeFirst()
            crossings[first.id] = nil
        }
        for index in states.indices {
            states[index].expire(now: limit, rule: rulebook.rules[index])
        }
    }

    private mutating func schedule(due: Int64, _ action: Timer.Action) -> Int64 {
        nextSequence += 1
        timers.push(Timer(due: due, sequence: nextSequence, action: action))
        return nextSequence
    }

    // MARK: - Dispatch

    private mutating func process(_ item: Queued, into alerts: inout [Alert]) {
        now = max(now, item.time)
        processed.append((item.time, item.id))
        let event = item.event
        switch event.body {
        case .crossing(let crossing):
            countUnknown(crossing.checkpoint)
            runRules(event, item.origin, joined: nil, joinRules: false, into: &alerts)
            guard joinsCrossings else { return }
            let stored = StoredCrossing(
                crossing: crossing, time: event.time, evidence: Evidence(id: event.id, kind: .crossing, time: event.time, origin: item.origin))
            crossings[event.id] = stored
            crossingOrder.append((item.time, event.id))
            if let waiting = awaiting.removeValue(forKey: event.id) {
                for inspection in waiting {
                    runRules(inspection.event, inspection.origin, joined: stored, joinRules: true, into: &alerts)
                }
            }
        case .inspection(let inspection):
            countUnknown(inspection.checkpoint)
            runRules(event, item.origin, joined: nil, joinRules: false, into: &alerts)
            guard joinsCrossings else { return }
            if let stored = crossings[inspection.crossingId] {
                runRules(event, item.origin, joined: stored, joinRules: true, into: &alerts)
            } else {
                let sequence = schedule(due: item.time.plus(rulebook.inspectionWait), .joinTimeout(inspection.crossingId))
                awaiting[inspection.crossingId, default: []].append(
                    AwaitingInspection(event: event, origin: item.origin, time: item.time, sequence: sequence))
            }
        default:
            runRules(event, item.origin, joined: nil, joinRules: false, into: &alerts)
        }
    }

    private mutating func countUnknown(_ checkpoint: String) {
        if !geography.checkpoints.isEmpty, geography.checkpoints[checkpoint] == nil {
            stats.unknownCheckpoints += 1
        }
    }

    /// Runs, in rulebook order, the rules that see this event: absence follow-ups, then each rule on its kind.
    private mutating func runRules(
        _ event: Event, _ origin: EventOrigin, joined: StoredCrossing?, joinRules: Bool, into alerts: inout [Alert]
    ) {
        let base = Scope(
            event: event, joined: joined.map { ($0.evidence.id, $0.crossing, $0.time) }, geography: geography)
        let evidence = Evidence(id: event.id, kind: event.kind, time: event.time, origin: origin)
        for index in rulebook.rules.indices {
            let rule = rulebook.rules[index]
            if !joinRules, case .absence(let spec) = rule.kind, spec.expectOn == event.kind {
                var scope = base
                resolveAbsences(index, spec, &scope)
            }
            // Inspections reach join rules only through the join; every other event reaches the others.
            let joinPath = event.kind == .inspection && rule.joinsCrossing
            guard rule.on.contains(event.kind), joinPath == joinRules else { continue }
            var scope = base
            if let when = rule.when, !when.holds(&scope) { continue }
            guard let key = Self.key(rule, scope) else { continue }
            switch rule.kind {
            case .match:
                var items = [evidence]
                if let joined { items.append(joined.evidence) }
                items.sort(by: Evidence.precedes)
                emit(index, scope: scope, key: key, time: event.time, evidence: items, extraFacts: [], into: &alerts)
            case .window(let spec):
                runWindow(index, spec, scope: scope, key: key, evidence: evidence, into: &alerts)
            case .absence(let spec):
                openAbsence(index, spec, scope: scope, key: key, evidence: evidence)
            }
        }
    }

    private static func key(_ rule: Rule, _ scope: Scope) -> AlertKey? {
        for type in rule.key {
            if let value = type.value(in: scope) { return AlertKey(type: type, value: value) }
        }
        return nil
    }

    // MARK: - Alerts

    /// Emits an alert unless the rule and key are within their suppression period, in which case the match is counted.
    private mutating func emit(
        _ index: Int, scope: Scope, key: AlertKey, time: Timestamp, evidence: [Evidence],
        extraFacts: [(name: String, value: Value)], into alerts: inout [Alert]
    ) {
        let rule = rulebook.rules[index]
        guard let carried = states[index].admit(key, at: now, suppress: rule.suppress) else {
            return
        }
        alerts.append(
            Alert(
                rule: rule.id, category: rule.category, severity: Self.severity(rule, scope),
                title: rule.title.render(scope, key: key), time: time, emittedAt: clock(), key: key,
                location: Self.location(scope), evidence: evidence, facts: extraFacts + Self.facts(rule, scope),
                suppressed: carried))
        stats.alerts += 1
    }

    private static func severity(_ rule: Rule, _ scope: Scope) -> Severity {
        for escalation in rule.escalations {
            var fresh = scope
            fresh.bound = Bindings()
            if escalation.when.holds(&fresh) { return escalation.severity }
        }
        return rule.severity
    }

    private static func facts(_ rule: Rule, _ scope: Scope) -> [(name: String, value: Value)] {
        rule.facts.compactMap { fact in fact.field.value(in: scope).map { (fact.name, $0) } }
    }

    private static func location(_ scope: Scope) -> AlertLocation {
        var location = AlertLocation(
            checkpoint: scope.inspection?.checkpoint ?? scope.crossing?.checkpoint, country: scope.crossing?.country,
            direction: scope.crossing?.direction)
        switch scope.event.body {
        case .patrol(let patrol):
            location.sector = patrol.sector
            location.position = patrol.position
        case .sensor(let sensor):
            location.sector = sensor.sector
            location.position = sensor.position
        case .vessel(let vessel):
            location.position = vessel.position
        case .crossing, .inspection:
            break
        }
        return location
    }

    // MARK: - Windows

    private mutating func runWindow(
        _ index: Int, _ spec: WindowSpec, scope: Scope, key: AlertKey, evidence: Evidence, into alerts: inout [Alert]
    ) {
        var limits: [Double] = []
        for threshold in spec.thresholds {
            switch threshold.operand {
            case .literal(let limit): limits.append(limit)
            case .field(let field):
                // Without the limit (e.g. a checkpoint with no configured capacity) the rule does not apply.
                guard case .number(let limit) = field.value(in: scope) else { return }
                limits.append(limit)
            }
        }
        var partition = ""
        for field in spec.per {
            // Events without a partition value are outside every partition.
            guard let value = field.value(in: scope) else { return }
            partition += "\u{0}" + Self.text(value)
        }
        let time = evidence.time.nanosecondsSinceEpoch
        var amount = 0.0
        var distinct: String?
        for threshold in spec.thresholds {
            switch threshold.measure {
            case .count: break
            case .sum(let field):
                if case .number(let value) = field.value(in: scope) { amount = value }
            case .distinct(let field):
                distinct = field.value(in: scope).map(Self.text)
            }
        }
        let window = states[index].addToWindow(
            WindowKey(key: key, partition: partition), WindowEntry(evidence: evidence, amount: amount, distinct: distinct), now: time, length: spec.length)
        var facts: [(name: String, value: Value)] = []
        for (threshold, limit) in zip(spec.thresholds, limits) {
            let measured: Double =
                switch threshold.measure {
                case .count: Double(window.count)
                case .sum: window.sum
                case .distinct: Double(window.distinctCount)
                }
            guard threshold.holds(measured, limit: limit) else { return }
            let name = threshold.measure.name
            facts.append((name, .number(measured)))
            facts.append((name + (threshold.strict ? "Above" : "AtLeast"), .number(limit)))
        }
        facts.append(("window", .string(formatDuration(spec.length))))
        facts.append(("windowStart", .string(Timestamp(nanosecondsSinceEpoch: time.minus(spec.length)).rfc3339)))
        facts.append(("windowEnd", .string(evidence.time.rfc3339)))
        emit(index, scope: scope, key: key, time: evidence.time, evidence: window.evidence, extraFacts: facts, into: &alerts)
    }

    private static func text(_ value: Value) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): formatNumber(number)
        case .bool(let flag): flag ? "true" : "false"
        }
    }

    // MARK: - Absence

    /// Correlation of a trigger or follow-up: the key and the correlated field values; nil when any is missing.
    private static func correlation(_ key: AlertKey, _ fields: [Field], _ scope: Scope) -> String? {
        var text = key.type.rawValue + "\u{0}" + key.value
        for field in fields {
            guard let value = field.value(in: scope) else { return nil }
            text += "\u{0}" + self.text(value)
        }
        return text
    }

    private mutating func openAbsence(_ index: Int, _ spec: AbsenceSpec, scope: Scope, key: AlertKey, evidence: Evidence) {
        guard let correlation = Self.correlation(key, spec.correlate.map(\.trigger), scope) else { return }
        let rule = rulebook.rules[index]
        let time = evidence.time.nanosecondsSinceEpoch
        let deadline = time.plus(spec.within)
        let sequence = schedule(due: deadline, .absence(rule: index, correlation: correlation))
        var facts: [(name: String, value: Value)] = [
            ("within", .string(formatDuration(spec.within))),
            ("deadline", .string(Timestamp(nanosecondsSinceEpoch: deadline).rfc3339)),
        ]
        for pair in spec.correlate {
            // `crossing.checkpoint` → `expectedCheckpoint`.
            let name = pair.follow.rawValue.split(separator: ".").last.map(String.init) ?? pair.follow.rawValue
            if let value = pair.trigger.value(in: scope) {
                facts.append(("expected" + name.prefix(1).uppercased() + name.dropFirst(), value))
            }
        }
        states[index].pending[correlation, default: []].append(
            PendingAbsence(
                sequence: sequence, time: time, key: key, evidence: evidence, severity: Self.severity(rule, scope),
                title: rule.title.render(scope, key: key), location: Self.location(scope),
                facts: facts + Self.facts(rule, scope)))
    }

    /// A follow-up closes every open trigger with the same correlation that it does not precede.
    private mutating func resolveAbsences(_ index: Int, _ spec: AbsenceSpec, _ scope: inout Scope) {
        guard !states[index].pending.isEmpty else { return }
        if let expect = spec.expect, !expect.holds(&scope) { return }
        let time = scope.event.time.nanosecondsSinceEpoch
        for type in rulebook.rules[index].key {
            guard let value = type.value(in: scope),
                let correlation = Self.correlation(AlertKey(type: type, value: value), spec.correlate.map(\.follow), scope),
                var open = states[index].pending[correlation]
            else { continue }
            open.removeAll { $0.time <= time }
            states[index].pending[correlation] = open.isEmpty ? nil : open
        }
    }

    private mutating func fireAbsence(rule index: Int, correlation: String, sequence: Int64, into alerts: inout [Alert]) {
        guard var open = states[index].pending[correlation],
            let position = open.firstIndex(where: { $0.sequence == sequence })
        else { return }
        let pending = open.remove(at: position)
        states[index].pending[correlation] = open.isEmpty ? nil : open
        let rule = rulebook.rules[index]
        guard let carried = states[index].admit(pending.key, at: now, suppress: rule.suppress) else { return }
        alerts.append(
            Alert(
                rule: rule.id, category: rule.category, severity: pending.severity, title: pending.title,
                time: pending.evidence.time, emittedAt: clock(), key: pending.key, location: pending.location,
                evidence: [pending.evidence], facts: pending.facts, suppressed: carried))
        stats.alerts += 1
    }
}

// MARK: - State

/// An event waiting in the buffer for the watermark; ordered by (time, id).
struct Queued: Comparable, Sendable {
    var time: Int64
    var id: String
    var event: Event
    var origin: EventOrigin

    static func < (a: Queued, b: Queued) -> Bool {
        a.time != b.time ? a.time < b.time : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }

    static func == (a: Queued, b: Queued) -> Bool { a.time == b.time && a.id == b.id }
}

/// A deadline in event time; equal deadlines fire in the order they were set.
struct Timer: Comparable, Sendable {
    enum Action: Sendable {
        case absence(rule: Int, correlation: String)
        case joinTimeout(String)
    }

    var due: Int64
    var sequence: Int64
    var action: Action

    static func < (a: Timer, b: Timer) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
    static func == (a: Timer, b: Timer) -> Bool { a.due == b.due && a.sequence == b.sequence }
}

struct StoredCrossing: Sendable {
    var crossing: Crossing
    var time: Timestamp
    var evidence: Evidence
}

struct AwaitingInspection: Sendable {
    var event: Event
    var origin: EventOrigin
    var time: Int64
    var sequence: Int64
}

struct PendingAbsence: Sendable {
    var sequence: Int64
    var time: Int64
    var key: AlertKey
    var evidence: Evidence
    var severity: Severity
    var title: String
    var location: AlertLocation
    var facts: [(name: String, value: Value)]
}

struct WindowEntry: Sendable {
    var evidence: Evidence
    var amount: Double
    var distinct: String?
}

/// A window's identity: the alert key and the values of the rule's `per` fields.
struct WindowKey: Hashable, Sendable {
    var key: AlertKey
    var partition: String
}

/// One key's live window entries, oldest first.
struct KeyWindow: Sendable {
    var entries = FIFO<WindowEntry>()
    var distinctCounts: [String: Int] = [:]

    var count: Int { entries.count }
    var distinctCount: Int { distinctCounts.count }
    /// Added afresh each time rather than kept running, so float rounding never depends on history.
    var sum: Double { entries.elements.reduce(0) { $0 + $1.amount } }
    var evidence: [Evidence] { entries.elements.map(\.evidence) }
}

/// Per-rule mutable state: suppression, windows, open absences.
struct RuleState: Sendable {
    struct Suppression: Sendable {
        var until: Int64
        var suppressed: Int
    }

    var suppression: [AlertKey: Suppression] = [:]
    var lastSweep = Int64.min
    var windows: [WindowKey: KeyWindow] = [:]
    /// Window entries of every key in time order, to expire them without scanning keys.
    var windowOrder = FIFO<(time: Int64, key: WindowKey)>()
    var windowLength: Int64 = 0
    var pending: [String: [PendingAbsence]] = [:]

    /// The suppressed count to carry when an alert may go out; nil (and counted) when it is suppressed.
    /// `time` is the processing clock. A count is carried by an alert within one more
    /// period after the suppression ends, and lost after that (as `expire` forgets it).
    mutating func admit(_ key: AlertKey, at time: Int64, suppress: Int64) -> Int? {
        let entry = suppression[key]
        if var entry, time < entry.until {
            entry.suppressed += 1
            suppression[key] = entry
            return nil
        }
        let carried = entry.map { time < $0.until.plus(suppress) ? $0.suppressed : 0 } ?? 0
        suppression[key] = Suppression(until: time.plus(suppress), suppressed: 0)
        return carried
    }

    mutating func addToWindow(_ key: WindowKey, _ entry: WindowEntry, now: Int64, length: Int64) -> KeyWindow {
        windowLength = length
        expireWindows(now: now)
        windowOrder.append((entry.evidence.time.nanosecondsSinceEpoch, key))
        windows[key, default: KeyWindow()].entries.append(entry)
        if let distinct = entry.distinct { windows[key]!.distinctCounts[distinct, default: 0] += 1 }
        return windows[key]!
    }

    /// Drops window entries at or before `now − length`, freeing keys left empty.
    mutating func expireWindows(now: Int64) {
        while let first = windowOrder.first, first.time <= now.minus(windowLength) {
            _ = windowOrder.removeFirst()
            guard var window = windows.removeValue(forKey: first.key) else { continue }
            let entry = window.entries.removeFirst()
            if let distinct = entry.distinct {
                let remaining = (window.distinctCounts[distinct] ?? 1) - 1
                window.distinctCounts[distinct] = remaining > 0 ? remaining : nil
            }
            if !window.entries.isEmpty { windows[first.key] = window }
        }
    }

    /// Frees state the watermark has left behind. Suppression entries are swept
    /// once per suppression period, which keeps the cost per entry constant.
    mutating func expire(now: Int64, rule: Rule) {
        if !windows.isEmpty { expireWindows(now: now) }
        guard !suppression.isEmpty, now >= lastSweep.plus(rule.suppress) else { return }
        lastSweep = now
        // An entry with a count to carry lives one more period, for the next alert to report it.
        suppression = suppression.filter { now < $0.value.until.plus($0.value.suppressed > 0 ? rule.suppress : 0) }
    }
}
