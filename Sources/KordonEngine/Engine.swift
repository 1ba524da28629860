import KordonEvents

public struct EngineSettings: Sendable {
    /// How far behind the newest event time of an input an event may arrive and still count.
    public var lateness: Int64
    /// How long event ids are remembered behind the watermark, so a redelivery is
    /// reported as a duplicate rather than as late (it is never processed either way);
    /// nil: the longest rule horizon. Memory grows with it times the event rate.
    public var idRetention: Int64?
    /// How often (wall clock) `ingest` checks whether a watchlist file changed and reloads it;
    /// nil: never by itself, only on `Engine.reloadWatchlists()`. Replays leave it nil, so the
    /// lists they match against cannot change halfway through a run.
    public var watchlistCheck: Int64?

    public static let defaultLateness: Int64 = 10 * 60_000_000_000
    public static let defaultWatchlistCheck: Int64 = 5_000_000_000

    public init(
        lateness: Int64 = EngineSettings.defaultLateness, idRetention: Int64? = nil, watchlistCheck: Int64? = nil
    ) {
        self.lateness = lateness
        self.idRetention = idRetention
        self.watchlistCheck = watchlistCheck
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
    /// Watchlist files read again after a change, and attempts that failed (the previous contents stay).
    public var watchlistReloads = 0
    public var watchlistErrors = 0
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
    public var sightings: Int
    public var pendingTriggers: Int
}

/// Runs a rulebook over events in event time.
///
/// Ordering: events are buffered until the watermark (the lowest, over all
/// inputs not marked idle, of each input's newest event time minus the allowed lateness)
/// passes them, then processed in (time, id) order. Rules therefore see the
/// same sequence whatever the arrival order within the lateness, and windows,
/// joins, deadlines and suppression give the same alerts byte for byte.
/// Deadlines fire when the watermark passes them, interleaved with events by
/// time (a deadline at D fires after every event at or before D). Suppression
/// runs on the processing clock (the event's time, or the deadline's), which
/// only moves forward.
///
/// Watchlists change only between `ingest` calls (an explicit reload, or the
/// wall-clock check of `EngineSettings.watchlistCheck`, which replays leave off),
/// so within a replay every event is matched against the same lists.
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
    public internal(set) var stats = EngineStats()
    /// Event time up to which (exclusive) everything has been processed; `Int64.min` before the first release.
    public internal(set) var watermark = Int64.min

    // Internal rather than private from here on: snapshots (EngineSnapshot.swift) read and restore them.
    let clock: @Sendable () -> Timestamp
    var inputs: [InputID: Int64] = [:]
    /// Caught-up inputs (`markIdle`): they do not hold the watermark back until their next event.
    var idle: Set<InputID> = []
    /// The slowest active input with its newest time (with every input idle, the newest of all), kept
    /// between events: working it out scans every input, and most events move another one. nil: to
    /// work out again, as after any change to the inputs, their idleness, or the slowest one's time.
    var slowest: (input: InputID, time: Int64)?
    /// The input of the last event and where it is in `inputs`: valid until an input is added.
    var lastInput: (input: InputID, position: Dictionary<InputID, Int64>.Index)?
    var queue = Heap<Queued>()
    var timers = Heap<Timer>()
    var nextSequence: Int64 = 0
    /// The processing clock: the time of the event being processed or of the deadline firing.
    /// It never goes back and never falls behind the watermark, so suppression decided on it
    /// cannot depend on when state was swept.
    var now = Int64.min
    /// Ids buffered or processed, with their event time, and the processed ones in time order for forgetting.
    var seen: HashTable<IDPrint, Int64> = [:]
    var processed = FIFO<(time: Int64, id: IDPrint)>()
    private let idRetention: Int64
    private let joinsCrossings: Bool
    var crossings: HashTable<IDPrint, EventRecord> = [:]
    var crossingOrder = FIFO<(time: Int64, id: IDPrint)>()
    /// Inspections waiting for their crossing, under the crossing's id print.
    var awaiting: [IDPrint: [AwaitingInspection]] = [:]
    var states: [RuleState]
    /// Per rule: what its state is matched by when restoring a snapshot or reloading the rulebook.
    let fingerprints: [RuleFingerprint]
    /// Per rule: the index of the first part with its id, whose state holds the suppression all parts share.
    private let suppressionOwner: [Int]
    /// Per rule: the longest suppression period among the parts sharing its id.
    private let groupSuppress: [Int64]
    /// Per rule: what dispatch and expiry need of its definition.
    let plans: [RulePlan]
    /// Per event kind (by `EventKind.bit`'s position): the rules reaching it, in rulebook order. Most rules
    /// ignore most kinds, and an event visits only these rather than testing every rule.
    private let reaching: [[Int]]
    /// The watchlists rules match against: as loaded with the rulebook, then as last reloaded.
    public internal(set) var watchlists: [String: Watchlist] {
        didSet { lookups = Lookups(geography: geography, watchlists: watchlists) }
    }
    /// The geography and watchlists as the scopes made from now on share them.
    private(set) var lookups: Lookups
    var lastWatchlistCheck: Int64

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
        states = rulebook.rules.map(RuleState.init)
        fingerprints = rulebook.rules.map(RuleFingerprint.init)
        var owners: [String: Int] = [:]
        var longest: [String: Int64] = [:]
        for (index, rule) in rulebook.rules.enumerated() {
            if owners[rule.id] == nil { owners[rule.id] = index }
            longest[rule.id] = max(longest[rule.id] ?? 0, rule.suppress)
        }
        suppressionOwner = rulebook.rules.map { owners[$0.id]! }
        groupSuppress = rulebook.rules.map { longest[$0.id]! }
        let plans = rulebook.rules.map(RulePlan.init)
        self.plans = plans
        reaching = EventKind.allCases.map { kind in plans.indices.filter { plans[$0].reach & kind.bit != 0 } }
        watchlists = rulebook.watchlists
        lookups = Lookups(geography: geography, watchlists: rulebook.watchlists)
        lastWatchlistCheck = clock().nanosecondsSinceEpoch
    }

    /// Reads again every watchlist file whose modification time changed (all of them with `force`).
    /// A file that cannot be read or has errors keeps its previous contents; its problems are returned.
    /// Events processed after the call see the new lists.
    @discardableResult
    public mutating func reloadWatchlists(force: Bool = true) -> [ConfigError] {
        var problems: [ConfigError] = []
        for name in watchlists.keys.sorted() {
            guard let current = watchlists[name] else { continue }
            let modified = Watchlist.modificationDate(current.file)
            if !force, modified == current.modified { continue }
            do {
                watchlists[name] = try Watchlist.load(name: name, file: current.file)
                stats.watchlistReloads += 1
            } catch {
                // Remember the time anyway, so a broken file is reported once per change, not on every check.
                watchlists[name]?.modified = modified
                stats.watchlistErrors += 1
                problems += error.errors
            }
        }
        return problems
    }

    /// How much state the engine holds, for metrics and for checking that it stays bounded.
    public var footprint: EngineFootprint {
        EngineFootprint(
            bufferedEvents: queue.count, timers: timers.count, rememberedIds: seen.count, storedCrossings: crossings.count,
            awaitingInspections: awaiting.values.reduce(0) { $0 + $1.count },
            windowKeys: states.reduce(0) { $0 + $1.window.windows.count + $1.recent.reduce(0) { $0 + $1.windows.count } },
            windowEntries: states.reduce(0) { $0 + $1.window.entryCount + $1.recent.reduce(0) { $0 + $1.entryCount } },
            suppressionKeys: states.reduce(0) { $0 + $1.suppression.count },
            openAbsences: states.reduce(0) { $0 + $1.openAbsences },
            sightings: states.reduce(0) { $0 + $1.sightings.count },
            pendingTriggers: states.reduce(0) { $0 + $1.triggers.count })
    }

    /// Declares an input before its first event, so its watermark holds the others back until it speaks.
    public mutating func register(_ input: InputID) {
        if inputs[input] == nil {
            inputs[input] = Int64.min
            slowest = nil
            lastInput = nil
        }
    }

    /// Takes one decoded event; alerts it releases are appended to `alerts`, each as it is made.
    @discardableResult
    public mutating func ingest(_ event: consuming Event, from origin: EventOrigin, into alerts: inout some AlertSink) -> Admission {
        if let interval = settings.watchlistCheck, !watchlists.isEmpty {
            let wall = clock().nanosecondsSinceEpoch
            if wall >= lastWatchlistCheck.plus(interval) {
                lastWatchlistCheck = wall
                reloadWatchlists(force: false)
            }
        }
        let time = event.time.nanosecondsSinceEpoch
        // One hash lookup checks and records the id; the rare duplicate or late event undoes the insertion.
        let id = IDPrint(event.id)
        if let previous = seen.updateValue(time, forKey: id) {
            seen[id] = previous
            stats.duplicates += 1
            return .duplicate
        }
        let input = InputID(origin)
        if !idle.isEmpty, idle.remove(input) != nil { slowest = nil }
        if time < watermark {
            seen[id] = nil
            stats.late += 1
            stats.lateByInput[input, default: 0] += 1
            return .late(watermark: Timestamp(nanosecondsSinceEpoch: watermark))
        }
        stats.accepted += 1
        let record = EventRecord(event: event, origin: origin)
        queue.push(Queued(time: time, print: id, record: record))
        // One hash lookup of the input per event, none while events keep coming from the same one.
        if let position = lastInput?.input == input ? lastInput?.position : inputs.index(forKey: input) {
            lastInput = (input, position)
            guard time > inputs.values[position] else { return .accepted }
            inputs.values[position] = time
            // Another input moving on leaves the slowest where it was: nothing to release.
            guard slowest == nil || slowest?.input == input else { return .accepted }
        } else {
            inputs[input] = time
            lastInput = nil
        }
        slowest = nil
        advanceWatermark(into: &alerts)
        return .accepted
    }

    /// Declares an input caught up (nothing more to read for now), as Kafka Streams' `max.task.idle.ms`
    /// does: until its next event, the watermark follows the other inputs, and that event counts as late
    /// if they have moved past it. Events the move releases are processed, their alerts appended to
    /// `alerts`. An input neither registered nor heard from holds nothing back already: ignored.
    public mutating func markIdle(_ input: InputID, into alerts: inout some AlertSink) {
        markIdle(CollectionOfOne(input), into: &alerts)
    }

    /// Declares several inputs caught up at once: the watermark then moves once, not once per input.
    public mutating func markIdle(_ caughtUp: some Sequence<InputID>, into alerts: inout some AlertSink) {
        var changed = false
        for input in caughtUp where inputs[input] != nil && idle.insert(input).inserted { changed = true }
        guard changed else { return }
        slowest = nil
        advanceWatermark(into: &alerts)
    }

    /// An idle input has events to read again: it holds the watermark back from now on, so its
    /// events are not late because others ran ahead before they arrived.
    public mutating func markActive(_ input: InputID) {
        if idle.remove(input) != nil { slowest = nil }
    }

    /// Moves the watermark up to the slowest active input's newest time minus the lateness
    /// (with every input idle, the newest of all: none holds it back), releasing what it passes.
    private mutating func advanceWatermark(into alerts: inout some AlertSink) {
        if slowest == nil { slowest = findSlowest() }
        guard let newest = slowest?.time, newest != Int64.min else { return }
        let candidate = newest.minus(settings.lateness)
        if candidate > watermark {
            release(before: candidate, into: &alerts)
        }
    }

    private func findSlowest() -> (input: InputID, time: Int64)? {
        var found: (input: InputID, time: Int64)?
        for (input, time) in inputs where idle.isEmpty || !idle.contains(input) {
            if found == nil || time < found!.time { found = (input, time) }
        }
        if found != nil { return found }
        for (input, time) in inputs where found == nil || time > found!.time { found = (input, time) }
        return found
    }

    /// End of input: processes everything buffered, fires deadlines the stream's
    /// event time has passed, and lets inspections still waiting for their crossing run alone.
    public mutating func finish(into alerts: inout some AlertSink) {
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
            runRules(inspection.record, joined: nil, joinRules: true, into: &alerts)
        }
        stats.openAbsences = footprint.openAbsences
        watermark = max(watermark, end)
    }

    // MARK: - Event time

    private mutating func release(before limit: Int64, into alerts: inout some AlertSink) {
        watermark = limit
        while let time = queue.min?.time, time < limit {
            fireTimers(before: time, into: &alerts)
            process(queue.pop()!, into: &alerts)
        }
        fireTimers(before: limit, into: &alerts)
        forget(before: limit)
    }

    /// Fires deadlines strictly before `time`: an event exactly at a deadline still counts.
    private mutating func fireTimers(before time: Int64, into alerts: inout some AlertSink) {
        while let due = timers.min?.due, due < time {
            let timer = timers.pop()!
            now = max(now, due)
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
                runRules(inspection.record, joined: nil, joinRules: true, into: &alerts)
            }
        }
    }

    private mutating func forget(before limit: Int64) {
        while let first = processed.first, first.time < limit.minus(idRetention) {
            processed.dropFirst()
            seen[first.id] = nil
        }
        while let first = crossingOrder.first, first.time < limit.minus(rulebook.crossingRetention) {
            crossingOrder.dropFirst()
            crossings[first.id] = nil
        }
        for index in states.indices where states[index].due <= limit {
            states[index].expire(
                now: limit, plan: plans[index], suppress: groupSuppress[index], triggerMargin: rulebook.inspectionWait)
        }
    }

    private mutating func schedule(due: Int64, _ action: Timer.Action) -> Int64 {
        nextSequence += 1
        timers.push(Timer(due: due, sequence: nextSequence, action: action))
        return nextSequence
    }

    // MARK: - Dispatch

    private mutating func process(_ item: Queued, into alerts: inout some AlertSink) {
        now = max(now, item.time)
        processed.append((item.time, item.print))
        let record = item.record
        switch record.kind {
        case .crossing:
            // Its checkpoint is counted when unknown by `runRules`, which looks it up anyway.
            runRules(record, joined: nil, joinRules: false, into: &alerts)
            guard joinsCrossings else { return }
            crossings[item.print] = record
            crossingOrder.append((item.time, item.print))
            if !awaiting.isEmpty, let waiting = awaiting.removeValue(forKey: item.print) {
                for inspection in waiting {
                    runRules(inspection.record, joined: record, joinRules: true, into: &alerts)
                }
            }
        case .inspection:
            // Fields read in place: taking the inspection out of its record would copy its findings.
            countUnknown(record.inspection?.checkpoint)
            runRules(record, joined: nil, joinRules: false, into: &alerts)
            guard joinsCrossings, let crossingId = (record.inspection?.crossingId).map(IDPrint.init) else { return }
            if let stored = crossings[crossingId] {
                runRules(record, joined: stored, joinRules: true, into: &alerts)
            } else {
                let sequence = schedule(due: item.time.plus(rulebook.inspectionWait), .joinTimeout(crossingId))
                awaiting[crossingId, default: []].append(
                    AwaitingInspection(record: record, time: item.time, sequence: sequence))
            }
        default:
            runRules(record, joined: nil, joinRules: false, into: &alerts)
        }
    }

    private mutating func countUnknown(_ checkpoint: String?) {
        if let checkpoint, !geography.checkpoints.isEmpty, lookups.checkpointIndex(checkpoint) == nil {
            stats.unknownCheckpoints += 1
        }
    }

    /// Runs, in rulebook order, the rules that see this event: absence and sequence follow-ups,
    /// then each rule on its kind (once per element with `forEach`).
    private mutating func runRules(
        _ record: EventRecord, joined: EventRecord?, joinRules: Bool, into alerts: inout some AlertSink
    ) {
        // One scope for every rule, its bindings cleared after each: a copy per rule retained the context.
        var scope = Scope(record: record, joined: joined, lookups: lookups)
        let evidence = record.evidence
        let kind = record.kind.bit
        let isInspection = record.kind == .inspection
        let presence = scope.presence
        if record.kind == .crossing, scope.checkpointIndex == nil, !geography.checkpoints.isEmpty {
            stats.unknownCheckpoints += 1
        }
        for index in reaching[kind.trailingZeroBitCount] {
            let plan = plans[index]
            if !joinRules, plan.expectOn & kind != 0, !states[index].pending.isEmpty {
                resolveAbsences(index, plan, &scope)
                scope.bound = Bindings()
            }
            if plan.followOn & kind != 0, joinRules == (isInspection && plan.followJoins),
                !states[index].triggers.isEmpty, let spec = plan.window, let follow = spec.followedBy
            {
                resolveFollowers(index, plan, spec, follow, scope: &scope, evidence: evidence, into: &alerts)
                scope.bound = Bindings()
            }
            // Inspections reach join rules only through the join; every other event reaches the others.
            guard plan.on & kind != 0, (isInspection && plan.joinsCrossing) == joinRules,
                plan.possible >> presence & 1 != 0
            else { continue }
            if let collection = plan.forEach {
                _ = scope.bindEach(collection) { element in
                    runRule(index, plan, &element, joined: joined, evidence: evidence, into: &alerts)
                    return false
                }
            } else {
                runRule(index, plan, &scope, joined: joined, evidence: evidence, into: &alerts)
            }
        }
    }

    /// Runs one rule on the event in `scope`, whose bindings (a `forEach` element's) it leaves as it found them.
    private mutating func runRule(
        _ index: Int, _ plan: RulePlan, _ scope: inout Scope, joined: EventRecord?, evidence: Evidence,
        into alerts: inout some AlertSink
    ) {
        let entry = scope.bound
        defer { scope.bound = entry }
        if !plan.when(&scope) { return }
        guard let key = Self.key(plan, scope) else { return }
        // Escalation conditions bind afresh: they see only the element `forEach` bound. Most rules have
        // none: decided here, without a copy of the scope or of the rule.
        let escalation: EscalationResult
        if plan.escalations.isEmpty {
            escalation = EscalationResult(severity: plan.severity)
        } else {
            var base = scope
            base.bound = entry
            escalation = escalate(index, base, key: key, evidence: evidence)
        }
        if let spec = plan.window {
            if let follow = spec.followedBy {
                addTrigger(index, follow, scope: scope, key: key, evidence: evidence, escalation: escalation)
            } else {
                runWindow(
                    index, spec, scope: scope, key: key, evidence: evidence, time: evidence.time,
                    escalation: escalation, into: &alerts)
            }
        } else if let spec = plan.absence {
            openAbsence(index, spec, scope: scope, key: key, evidence: evidence, severity: escalation.severity)
        } else if let spec = plan.velocity {
            runVelocity(index, spec, scope: scope, key: key, evidence: evidence, escalation: escalation, into: &alerts)
        } else {
            emit(
                index, scope: scope, key: key, time: evidence.time,
                evidence: uniqueEvidence([evidence] + escalation.evidence + (joined.map { [$0.evidence] } ?? [])),
                extraFacts: escalation.facts, severity: escalation.severity, into: &alerts)
        }
    }

    private static func key(_ plan: RulePlan, _ scope: Scope) -> AlertKey? {
        for (type, field) in plan.keys {
            if let field {
                if case .string(let value) = field.value(in: scope) { return AlertKey(type: type, value: value) }
            } else if let value = type.value(in: scope) {
                return AlertKey(type: type, value: value)
            }
        }
        return nil
    }

    // MARK: - Alerts

    /// Emits an alert unless the rule and key are within their suppression period, in which case the match is counted.
    /// `evidence` and `extraFacts` are built only when the alert goes out: a busy suppressed key matches on every event.
    private mutating func emit(
        _ index: Int, scope: Scope, key: AlertKey, time: Timestamp, evidence: @autoclosure () -> [Evidence],
        extraFacts: @autoclosure () -> [(name: String, value: Value)], severity: Severity, into alerts: inout some AlertSink
    ) {
        let rule = plans[index].rule
        guard let carried = states[suppressionOwner[index]].admit(key, at: now, suppress: rule.suppress, severity: severity)
        else {
            return
        }
        alerts.append(
            Alert(
                rule: rule.id, category: rule.category, severity: severity, title: rule.title.render(scope, key: key),
                time: time, emittedAt: clock(), key: key, location: Self.location(scope), evidence: evidence(),
                facts: extraFacts() + Self.facts(rule, scope), suppressed: carried))
        stats.alerts += 1
    }

    /// The severity for a match: the first escalation that holds, else the rule's. Every match
    /// meeting an escalation's `when` is first recorded in that escalation's history, whichever
    /// escalation decides, so the counts never depend on which one held before.
    /// `scope` carries only `forEach` bindings: escalation conditions bind afresh. Rules with none do not call it.
    private mutating func escalate(_ index: Int, _ scope: Scope, key: AlertKey, evidence: Evidence) -> EscalationResult {
        let rule = plans[index].rule
        let time = evidence.time.nanosecondsSinceEpoch
        let position = scope.position
        var held: [Bool] = []
        for (number, escalation) in rule.escalations.enumerated() {
            var fresh = scope
            let holds = plans[index].escalations[number].map { $0(&fresh) } ?? true
            held.append(holds)
            guard holds, let recent = escalation.recent else { continue }
            let values = recent.thresholds.compactMap { threshold -> [String]? in
                if case .distinct(let field, let filter) = threshold.measure {
                    Self.distinctValues(field, scope) { filter?.holds(&$0) ?? true }
                } else {
                    nil
                }
            }
            let entry = WindowEntry(
                time: time, evidence: evidence, amount: 0, distinct: values.first ?? [], position: position)
            _ = states[index].recent[number].add(WindowKey(key: recent.anyKey ? nil : key, partition: ""), entry)
        }
        for (number, escalation) in rule.escalations.enumerated() where held[number] {
            guard let recent = escalation.recent else { return EscalationResult(severity: escalation.severity) }
            let window = states[index].recent[number].windows[WindowKey(key: recent.anyKey ? nil : key, partition: "")]
            var entries = window?.entries.elements.filter { $0.time > time.minus(recent.length) } ?? []
            if let limit = recent.withinKm {
                guard let position else { continue }
                entries = entries.filter { $0.position.map { greatCircleKm($0, position) <= limit } ?? false }
            }
            var facts: [(name: String, value: Value)] = []
            var met = true
            for threshold in recent.thresholds {
                guard case .literal(let limit) = threshold.operand else { continue }
                let measured: Double =
                    switch threshold.measure {
                    case .count: Double(entries.count)
                    case .sum: entries.reduce(0) { $0 + $1.amount }
                    case .distinct: Double(Set(entries.flatMap(\.distinct)).count)
                    }
                guard threshold.holds(measured, limit: limit) else {
                    met = false
                    break
                }
                let name = "recent" + threshold.measure.name.prefix(1).uppercased() + threshold.measure.name.dropFirst()
                facts.append((name, .number(measured)))
                facts.append((name + (threshold.strict ? "Above" : "AtLeast"), .number(limit)))
            }
            guard met else { continue }
            facts.append(("recentWindow", .string(formatDuration(recent.length))))
            if let limit = recent.withinKm { facts.append(("recentWithinKm", .number(limit))) }
            return EscalationResult(
                severity: escalation.severity, facts: facts, evidence: entries.flatMap(\.evidence))
        }
        return EscalationResult(severity: rule.severity)
    }

    private static func facts(_ rule: Rule, _ scope: Scope) -> [(name: String, value: Value)] {
        rule.facts.compactMap { fact in fact.field.value(in: scope).map { (fact.name, $0) } }
    }

    private static func location(_ scope: Scope) -> AlertLocation {
        var location = AlertLocation(
            checkpoint: scope.inspection?.checkpoint ?? scope.crossingRecord?.crossingBody.checkpoint,
            country: scope.crossingRecord?.crossingBody.country, direction: scope.crossingRecord?.crossingBody.direction)
        if let position = scope.position {
            location.sector = scope.sector
            location.zone = scope.fishingZoneID
            location.position = position
        }
        return location
    }

    // MARK: - Windows

    /// Adds a match to its key's window and alerts when every threshold holds.
    /// `evidence`: the match's event, `followUp` the event confirming it (for a trigger); `time`: when it entered.
    private mutating func runWindow(
        _ index: Int, _ spec: WindowSpec, scope: Scope, key: AlertKey, evidence: Evidence, followUp: Evidence? = nil,
        time: Timestamp,
        escalation: EscalationResult, into alerts: inout some AlertSink
    ) {
        // Without a limit (e.g. a checkpoint with no configured capacity) the rule does not apply.
        for threshold in spec.thresholds where Self.limit(threshold, scope) == nil { return }
        var partition = ""
        for field in spec.per {
            // Events without a partition value are outside every partition.
            guard let value = field.value(in: scope) else { return }
            partition += "\u{0}" + Self.text(value)
        }
        var amount = 0.0
        var distinct: [String] = []
        for threshold in spec.thresholds {
            switch threshold.measure {
            case .count: break
            case .sum(let field):
                if case .number(let value) = field.value(in: scope) { amount = value }
            case .distinct(let field, _):
                distinct = Self.distinctValues(field, scope, where: plans[index].distinctFilter)
            }
        }
        let windowKey = WindowKey(key: key, partition: partition)
        let figures = states[index].window.add(
            windowKey,
            WindowEntry(
                time: time.nanosecondsSinceEpoch, evidence: evidence, followUp: followUp, amount: amount,
                distinct: distinct, position: scope.position),
            summing: spec.sums)
        func measured(_ threshold: Threshold) -> Double {
            switch threshold.measure {
            case .count: Double(figures.count)
            case .sum: figures.sum
            case .distinct: Double(figures.distinct)
            }
        }
        for threshold in spec.thresholds where !threshold.holds(measured(threshold), limit: Self.limit(threshold, scope)!) {
            return
        }
        // Most matches leave the window below its thresholds: the figures are gathered only for an alert.
        let measures = spec.thresholds.map(measured)
        let limits = spec.thresholds.map { Self.limit($0, scope)! }
        let window = states[index].window.windows[windowKey]!
        emit(
            index, scope: scope, key: key, time: time, evidence: window.evidence,
            extraFacts: Self.windowFacts(spec, measures, limits, time) + escalation.facts,
            severity: escalation.severity, into: &alerts)
    }

    /// A threshold's limit: its literal, or the field's value on the matching event (nil when it has none).
    private static func limit(_ threshold: Threshold, _ scope: Scope) -> Double? {
        switch threshold.operand {
        case .literal(let limit): return limit
        case .field(let field):
            guard case .number(let limit) = field.value(in: scope) else { return nil }
            return limit
        }
    }

    private static func windowFacts(_ spec: WindowSpec, _ measures: [Double], _ limits: [Double], _ time: Timestamp)
        -> [(name: String, value: Value)]
    {
        var facts: [(name: String, value: Value)] = []
        for (threshold, (measured, limit)) in zip(spec.thresholds, zip(measures, limits)) {
            let name = threshold.measure.name
            facts.append((name, .number(measured)))
            facts.append((name + (threshold.strict ? "Above" : "AtLeast"), .number(limit)))
        }
        facts.append(("window", .string(formatDuration(spec.length))))
        facts.append(("windowStart", .string(Timestamp(nanosecondsSinceEpoch: time.nanosecondsSinceEpoch.minus(spec.length)).rfc3339)))
        facts.append(("windowEnd", .string(time.rfc3339)))
        return facts
    }

    /// The values a `distinct` measure takes from one event: the field's, or every element's (meeting `filter`).
    private static func distinctValues(_ field: Field, _ scope: Scope, where filter: (inout Scope) -> Bool) -> [String] {
        guard case .element(let collection) = field.source else {
            return field.value(in: scope).map { [text($0)] } ?? []
        }
        var values: [String] = []
        var scope = scope
        _ = scope.bindEach(collection) { element in
            if filter(&element), let value = field.value(in: element) { values.append(text(value)) }
            return false
        }
        return values
    }

    private static func text(_ value: Value) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): formatNumber(number)
        case .bool(let flag): flag ? "true" : "false"
        }
    }

    // MARK: - Sequences

    /// Keeps a window rule's match until a follow-up sharing one of its identities confirms it.
    private mutating func addTrigger(
        _ index: Int, _ follow: FollowSpec, scope: Scope, key: AlertKey, evidence: Evidence, escalation: EscalationResult
    ) {
        guard follow.same.contains(where: { $0.value(in: scope) != nil }) else { return }
        nextSequence += 1
        let time = evidence.time.nanosecondsSinceEpoch
        let trigger = Trigger(time: time, scope: scope, key: key, escalation: escalation)
        trigger.forEachIdentity(follow.same) {
            states[index].triggersByIdentity[IdentityPrint($0), default: Sequences()].append(nextSequence)
        }
        // Last, so that the trigger moves into the queue rather than being copied.
        states[index].triggers.append(nextSequence, trigger)
    }

    /// A follow-up confirms every waiting trigger it shares an identity with that it follows within `within`;
    /// each confirmed trigger enters the window once, at the follow-up's time (called with some waiting).
    private mutating func resolveFollowers(
        _ index: Int, _ plan: RulePlan, _ spec: WindowSpec, _ follow: FollowSpec, scope: inout Scope, evidence: Evidence,
        into alerts: inout some AlertSink
    ) {
        if !plan.followWhen(&scope) { return }
        let time = evidence.time.nanosecondsSinceEpoch
        var confirmed: [Trigger] = []
        for type in follow.same {
            guard let value = type.value(in: scope),
                let sequences = states[index].triggersByIdentity[IdentityPrint(AlertKey(type: type, value: value))]
            else { continue }
            for sequence in sequences.all {
                // The print may be another identity's too: the trigger's own value decides.
                guard let trigger = states[index].triggers[sequence], trigger.time < time,
                    time <= trigger.time.plus(follow.within), type.value(in: trigger.scope) == value
                else { continue }
                confirmed.append(states[index].forgetTrigger(sequence, same: follow.same)!)
            }
        }
        confirmed.sort { Evidence.precedes($0.evidence, $1.evidence) }
        for trigger in confirmed {
            runWindow(
                index, spec, scope: trigger.scope, key: trigger.key, evidence: trigger.evidence, followUp: evidence,
                time: evidence.time, escalation: trigger.escalation, into: &alerts)
        }
    }

    // MARK: - Velocity

    /// Compares a sighting at a checkpoint with the key's previous one at another checkpoint.
    private mutating func runVelocity(
        _ index: Int, _ spec: VelocitySpec, scope: Scope, key: AlertKey, evidence: Evidence,
        escalation: EscalationResult, into alerts: inout some AlertSink
    ) {
        // Checkpoints missing from the geography are counted by `process`; they have no position to compare.
        guard let id = scope.crossingRecord?.crossingBody.checkpoint, let here = scope.checkpointIndex else { return }
        let time = evidence.time.nanosecondsSinceEpoch
        let previous = states[index].sightings.updateValue(Sighting(record: scope.record), forKey: key)
        guard let previous, let from = previous.checkpoint, from != id, time <= previous.time.plus(spec.within),
            let origin = lookups.checkpointIndex(from)
        else { return }
        let km = geography.distanceKm(from: origin, to: here)
        // Two sightings at the same instant count as a second apart: any distance is then impossible.
        let hours = Double(max(time - previous.time, 1_000_000_000)) / 3.6e12
        let speed = km / hours
        guard spec.strict ? speed > spec.limit : speed >= spec.limit else { return }
        let facts: [(name: String, value: Value)] = [
            ("fromCheckpoint", .string(from)),
            ("fromTime", .string(previous.record.time.rfc3339)),
            ("toCheckpoint", .string(id)),
            ("distanceKm", .number((km * 10).rounded() / 10)),
            ("minutes", .number((Double(time - previous.time) / 6e9).rounded() / 10)),
            ("speedKmh", .number((speed * 10).rounded() / 10)),
            (spec.strict ? "speedAboveKmh" : "speedAtLeastKmh", .number(spec.limit)),
        ]
        emit(
            index, scope: scope, key: key, time: evidence.time, evidence: [previous.record.evidence, evidence],
            extraFacts: facts + escalation.facts, severity: escalation.severity, into: &alerts)
    }

    // MARK: - Absence

    /// Correlation of a trigger or follow-up: the key and the correlated field values; nil when any is missing.
    private static func correlation(_ key: AlertKey, _ fields: [Field], _ scope: Scope) -> Correlation? {
        var values = ""
        for (number, field) in fields.enumerated() {
            guard let value = field.value(in: scope) else { return nil }
            // One field (the usual case) takes its value as it is: no string is built.
            if number == 0 { values = text(value) } else { values += "\u{0}" + text(value) }
        }
        return Correlation(key: key, values: values)
    }

    private mutating func openAbsence(
        _ index: Int, _ spec: AbsenceSpec, scope: Scope, key: AlertKey, evidence: Evidence, severity: Severity
    ) {
        guard let correlation = Self.correlation(key, plans[index].correlateTrigger, scope) else { return }
        let time = evidence.time.nanosecondsSinceEpoch
        let sequence = schedule(due: time.plus(spec.within), .absence(rule: index, correlation: correlation))
        // The title and facts are rendered from the kept scope if the deadline passes: most triggers are resolved.
        states[index].open(
            PendingAbsence(sequence: sequence, time: time, scope: scope, key: key, severity: severity), under: correlation)
    }

    /// The facts of an absence alert: the deadline, the correlated values expected, then the rule's own.
    private static func absenceFacts(_ rule: Rule, _ spec: AbsenceSpec, _ pending: PendingAbsence)
        -> [(name: String, value: Value)]
    {
        var facts: [(name: String, value: Value)] = [
            ("within", .string(formatDuration(spec.within))),
            ("deadline", .string(Timestamp(nanosecondsSinceEpoch: pending.time.plus(spec.within)).rfc3339)),
        ]
        for pair in spec.correlate {
            // `crossing.checkpoint` → `expectedCheckpoint`.
            let name = pair.follow.rawValue.split(separator: ".").last.map(String.init) ?? pair.follow.rawValue
            if let value = pair.trigger.value(in: pending.scope) {
                facts.append(("expected" + name.prefix(1).uppercased() + name.dropFirst(), value))
            }
        }
        return facts + Self.facts(rule, pending.scope)
    }

    /// A follow-up closes every open trigger with the same correlation that it does not precede (called with some open).
    private mutating func resolveAbsences(_ index: Int, _ plan: RulePlan, _ scope: inout Scope) {
        if !plan.expect(&scope) { return }
        let time = scope.record.time.nanosecondsSinceEpoch
        for type in plan.rule.key {
            guard let value = type.value(in: scope),
                let correlation = Self.correlation(AlertKey(type: type, value: value), plan.correlateFollow, scope)
            else { continue }
            states[index].close(correlation, through: time)
        }
    }

    private mutating func fireAbsence(
        rule index: Int, correlation: Correlation, sequence: Int64, into alerts: inout some AlertSink
    ) {
        // Most deadlines find their trigger resolved.
        guard let pending = states[index].take(correlation, sequence: sequence) else { return }
        let rule = plans[index].rule
        guard case .absence(let spec) = rule.kind,
            let carried = states[suppressionOwner[index]].admit(
                pending.key, at: now, suppress: rule.suppress, severity: pending.severity)
        else { return }
        let evidence = pending.scope.record.evidence
        alerts.append(
            Alert(
                rule: rule.id, category: rule.category, severity: pending.severity,
                title: rule.title.render(pending.scope, key: pending.key), time: evidence.time, emittedAt: clock(),
                key: pending.key, location: Self.location(pending.scope), evidence: [evidence],
                facts: Self.absenceFacts(rule, spec, pending), suppressed: carried))
        stats.alerts += 1
    }
}

// MARK: - State

/// An event waiting in the buffer for the watermark; ordered by (time, id).
/// The event sits in its record: heap moves and peeks then copy references, not every field of the event.
struct Queued: Comparable, Sendable {
    var time: Int64
    var print: IDPrint
    let record: EventRecord

    /// Ties in time are broken by id, read through the record: a copy of it here cost a retain and a release an event.
    static func < (a: Queued, b: Queued) -> Bool {
        a.time != b.time ? a.time < b.time : a.record.id.utf8.lexicographicallyPrecedes(b.record.id.utf8)
    }

    static func == (a: Queued, b: Queued) -> Bool { a.time == b.time && a.record.id == b.record.id }
}

/// What dispatch and expiry need of a rule, as plain values (event kinds as bits of `EventKind.bit`):
/// the per-event loop then neither copies rules nor hashes kinds. A class, so reading a field of it
/// does not copy the whole plan and its closures.
final class RulePlan: Sendable {
    /// The rule itself: read through the plan, its fields are borrowed, where a copy out of the
    /// rulebook's array retained each of them.
    let rule: Rule
    /// The kinds it does anything with: its own, and its follow-up's or expected event's.
    let reach: UInt8
    let on: UInt8
    let joinsCrossing: Bool
    /// Absence rules: the expected event's kind.
    let expectOn: UInt8
    /// Sequence rules: the follow-up's kind, whether it is seen joined, and how long after a trigger it may come.
    let followOn: UInt8
    let followJoins: Bool
    let followWithin: Int64?
    let followSame: [KeyType]
    /// Velocity rules: how long a sighting is kept.
    let sightingWithin: Int64?
    /// The rule's conditions, compiled: its `when`, each escalation's, the follow-up's and the expected event's.
    /// Those absent hold always: an optional closure is called through a thunk, as are those in `escalations`.
    let when: Check
    let escalations: [Check?]
    /// The rule's severity, read without the rule: a field read through `rule` copied all of it.
    let severity: Severity
    let followWhen: Check
    let expect: Check
    /// Window rules: the `where` of their `distinct` measure (one at most).
    let distinctFilter: Check
    let forEach: Collection?
    /// Bit `p` set: the rule may match an event whose non-empty lists are `p` (`Condition.possible`).
    let possible: UInt16
    /// The rule's kind taken apart (at most one is set; none for `match`), and its key's types with their fields.
    let window: WindowSpec?
    let absence: AbsenceSpec?
    let velocity: VelocitySpec?
    let keys: [(type: KeyType, field: Field?)]
    /// Absence rules: the fields correlated on the expected event and on the trigger.
    let correlateFollow: [Field]
    let correlateTrigger: [Field]

    init(_ rule: Rule) {
        self.rule = rule
        forEach = rule.forEach
        on = rule.on.reduce(0) { $0 | $1.bit }
        joinsCrossing = rule.joinsCrossing
        when = Self.compile(rule.when)
        let lists = rule.forEach.map { list in (0..<16).reduce(UInt16(0)) { $1 & Int(list.bit) != 0 ? $0 | 1 << $1 : $0 } }
        possible = (rule.when?.possible ?? .max) & (lists ?? .max)
        escalations = rule.escalations.map { $0.when?.compiled }
        severity = rule.severity
        var absence: AbsenceSpec?
        var window: WindowSpec?
        var velocity: VelocitySpec?
        switch rule.kind {
        case .absence(let spec): absence = spec
        case .window(let spec): window = spec
        case .velocity(let spec): velocity = spec
        case .match: break
        }
        self.window = window
        self.absence = absence
        self.velocity = velocity
        keys = Array(zip(rule.key, rule.keyFields))
        let follow = window?.followedBy
        let sightingWithin = velocity?.within
        expectOn = absence?.expectOn.bit ?? 0
        expect = Self.compile(absence?.expect)
        correlateFollow = absence?.correlate.map(\.follow) ?? []
        correlateTrigger = absence?.correlate.map(\.trigger) ?? []
        followOn = follow?.on.bit ?? 0
        followJoins = follow?.joinsCrossing ?? false
        followWithin = follow?.within
        followSame = follow?.same ?? []
        followWhen = Self.compile(follow?.when)
        distinctFilter = Self.compile(
            window?.thresholds.lazy.compactMap { threshold -> Condition? in
                if case .distinct(_, let filter) = threshold.measure { filter } else { nil }
            }.first)
        self.sightingWithin = sightingWithin
        reach = on | expectOn | followOn
    }

    /// Compiled outside any optional (see `when`); an absent condition holds always.
    private static func compile(_ condition: Condition?) -> Check {
        guard let condition else { return { _ in true } }
        return condition.compiled
    }
}

extension EventKind {
    var bit: UInt8 {
        switch self {
        case .crossing: 1
        case .inspection: 2
        case .patrol: 4
        case .sensor: 8
        case .vessel: 16
        }
    }
}

/// A deadline in event time; equal deadlines fire in the order they were set.
struct Timer: Comparable, Sendable {
    enum Action: Sendable {
        case absence(rule: Int, correlation: Correlation)
        case joinTimeout(IDPrint)
    }

    var due: Int64
    var sequence: Int64
    var action: Action

    static func < (a: Timer, b: Timer) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
    static func == (a: Timer, b: Timer) -> Bool { a.due == b.due && a.sequence == b.sequence }
}

/// What an absence rule's trigger and expected event are matched on: the alert key and the correlated
/// fields' values (joined by NUL when there are several).
struct Correlation: Hashable, Sendable {
    // The key last (see `AlertKey`).
    var values: String
    var key: AlertKey

    init(key: AlertKey, values: String) {
        self.key = key
        self.values = values
    }
}

struct AwaitingInspection: Sendable {
    var record: EventRecord
    var time: Int64
    var sequence: Int64
}

/// An absence rule's trigger waiting for its expected event; its scope (bindings included) renders the alert.
struct PendingAbsence: Sendable {
    var sequence: Int64
    var time: Int64
    var scope: Scope
    // The key after the scope, so the severity shares its tail (see `AlertKey`).
    var key: AlertKey
    var severity: Severity
}

struct WindowEntry: Sendable {
    /// When the entry entered the window (for a confirmed trigger: when it was confirmed).
    var time: Int64
    /// The match's event in place, and any more (a confirmed trigger's follow-up) apart: an array for
    /// every entry cost an allocation, and as much room as the rest of the entry.
    var firstEvidence: Evidence
    var moreEvidence: [Evidence]
    var amount: Double
    var distinct: [String]
    var position: Position?

    var evidence: [Evidence] { [firstEvidence] + moreEvidence }

    init(time: Int64, evidence: Evidence, followUp: Evidence? = nil, amount: Double, distinct: [String], position: Position?) {
        self.time = time
        firstEvidence = evidence
        moreEvidence = followUp.map { [$0] } ?? []
        self.amount = amount
        self.distinct = distinct
        self.position = position
    }
}

/// A window's identity: the alert key (nil: one window across keys) and the values of the rule's `per` fields.
struct WindowKey: Hashable, Sendable {
    var key: AlertKey?
    var partition: String
}

/// How many of a window's entries carry each value, for distinct counts. Most windows hold a few
/// values: those are scanned in a small array, and a table is built only past `limit` (a table for
/// every key cost its allocations). Values compare byte for byte, as the engine's keys do.
struct DistinctCounts: Sendable {
    private var few: [(value: String, count: Int)] = []
    /// Only past `limit`: even an empty table is an allocation, and every window key has counts.
    private var many: HashTable<TableKey, Int>?
    private static let limit = 8

    var count: Int { many?.count ?? few.count }

    mutating func add(_ value: String) {
        if many == nil {
            if let index = few.firstIndex(where: { sameBytes($0.value, value) }) {
                few[index].count += 1
                return
            }
            if few.count < Self.limit {
                few.append((value, 1))
                return
            }
            var table = HashTable<TableKey, Int>()
            for (value, count) in few { table[TableKey(value)] = count }
            few = []
            many = table
        }
        many![TableKey(value), default: 0] += 1
    }

    mutating func remove(_ value: String) {
        guard many != nil else {
            guard let index = few.firstIndex(where: { sameBytes($0.value, value) }) else { return }
            if few[index].count > 1 { few[index].count -= 1 } else { few.remove(at: index) }
            return
        }
        guard let index = many!.index(forKey: TableKey(value)) else { return }
        many![valueAt: index] -= 1
        if many![valueAt: index] == 0 { many!.remove(at: index) }
        if many!.isEmpty { many = nil }
    }
}

/// One key's live window entries, oldest first.
struct KeyWindow: Sendable {
    var entries = FIFO<WindowEntry>()
    var distinctCounts = DistinctCounts()

    var count: Int { entries.count }
    var distinctCount: Int { distinctCounts.count }

    /// Adds the newest entry (entries come in time order).
    mutating func append(_ entry: WindowEntry) {
        entries.append(entry)
        for value in entry.distinct { distinctCounts.add(value) }
    }
    /// Added afresh each time rather than kept running, so float rounding never depends on history.
    var sum: Double { entries.elements.reduce(0) { $0 + $1.amount } }
    /// Every entry's evidence, oldest first, each event once.
    var evidence: [Evidence] { uniqueEvidence(entries.elements.flatMap(\.evidence)) }

    /// Drops the entries at or before `limit`; returns how many.
    mutating func drop(atOrBefore limit: Int64) -> Int {
        var dropped = 0
        while entries.peekFirst({ $0.time <= limit }) == true {
            for value in entries.peekFirst(\.distinct) ?? [] { distinctCounts.remove(value) }
            entries.dropFirst()
            dropped += 1
        }
        return dropped
    }
}

/// Sorted oldest first, each event id once.
func uniqueEvidence(_ items: [Evidence]) -> [Evidence] {
    var seen = Set<String>()
    return items.sorted(by: Evidence.precedes).filter { seen.insert($0.id).inserted }
}

/// Keyed sliding windows of one length. A key's old entries leave when the key is next added to, and
/// keys with nothing left in the window are dropped by a sweep once per window length. No queue of all
/// entries in time order is kept across keys: it cost about as much per entry as the entries themselves.
struct SlidingWindows: Sendable {
    var windows: HashTable<WindowKey, KeyWindow> = [:]
    let length: Int64
    /// Entries over all keys, counting those a sweep has yet to drop.
    var entryCount = 0
    /// When `expire` last swept.
    var lastSweep = Int64.min

    init(length: Int64) {
        self.length = length
    }

    /// Adds `entry` under `key` and returns the key's figures as of the entry's time (the sum, which
    /// takes a pass over the entries, only when `summing`).
    mutating func add(_ key: WindowKey, _ entry: WindowEntry, summing: Bool = false) -> (count: Int, sum: Double, distinct: Int) {
        let limit = entry.time.minus(length)
        var dropped = 0
        // One hash lookup for the whole update, and the figures read in place rather than from a copy.
        func update(_ window: inout KeyWindow) -> (count: Int, sum: Double, distinct: Int) {
            dropped = window.drop(atOrBefore: limit)
            window.append(entry)
            return (window.count, summing ? window.sum : 0, window.distinctCount)
        }
        let figures = update(&windows[key, default: KeyWindow()])
        entryCount += 1 - dropped
        return figures
    }

    /// The earliest `now` at which `expire` sweeps.
    var due: Int64 { windows.isEmpty ? .max : lastSweep.plus(length) }

    /// Once per window length: drops every entry at or before `now − length`, freeing keys left empty.
    mutating func expire(now: Int64) {
        guard !windows.isEmpty, now >= lastSweep.plus(length) else { return }
        lastSweep = now
        let limit = now.minus(length)
        var dropped = 0
        windows.updateOrRemove { window in
            dropped += window.drop(atOrBefore: limit)
            return !window.entries.isEmpty
        }
        entryCount -= dropped
    }
}

/// The last sighting of a key, for velocity rules: the crossing itself (they run on crossings), whose
/// checkpoint is looked up again when the next sighting is compared. A million are kept at once;
/// copies of the time, checkpoint and position took five times the room.
struct Sighting: Sendable {
    let record: EventRecord

    var time: Int64 { record.time.nanosecondsSinceEpoch }
    var checkpoint: String? { record.crossingBody.checkpoint }
}

/// A window rule's matching event waiting for its follow-up.
struct Trigger: Sendable {
    var time: Int64
    var scope: Scope
    var key: AlertKey
    var escalation: EscalationResult

    var evidence: Evidence { scope.record.evidence }

    /// Its identities (values of the follow-up's `same` types), derived rather than stored: a million triggers wait at once.
    func forEachIdentity(_ same: [KeyType], _ body: (AlertKey) -> Void) {
        for type in same {
            if let value = type.value(in: scope) { body(AlertKey(type: type, value: value)) }
        }
    }
}

/// A sequence rule's waiting triggers in the order added, which is both sequence and time order: found by
/// sequence with a binary search, expired from the front. A million wait at once, and a dictionary with an
/// expiry queue beside it would double what each costs.
struct TriggerQueue: Sendable {
    /// In lockstep with `entries`: searching and expiring read these plain values, never copying (and
    /// retaining) a trigger to look at it.
    private var marks = FIFO<(sequence: Int64, time: Int64, waiting: Bool)>()
    private var entries = FIFO<Trigger?>()
    /// Waiting triggers; confirmed ones leave an empty entry until it reaches the front.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// When the oldest waiting trigger entered, and its sequence.
    var oldestTime: Int64? { marks.first?.time }
    var oldestSequence: Int64? { marks.first?.sequence }

    /// `sequence` must exceed every sequence appended before.
    mutating func append(_ sequence: Int64, _ trigger: consuming Trigger) {
        marks.append((sequence, trigger.time, true))
        entries.append(trigger)
        count += 1
    }

    subscript(sequence: Int64) -> Trigger? {
        position(of: sequence).flatMap { entries[$0] }
    }

    mutating func remove(_ sequence: Int64) -> Trigger? {
        guard let position = position(of: sequence), let trigger = entries[position] else { return nil }
        entries[position] = nil
        marks[position].waiting = false
        count -= 1
        dropEmptyFront()
        return trigger
    }

    /// Forgets the triggers that entered before `limit`.
    mutating func expire(before limit: Int64) {
        while let first = marks.first, first.time < limit {
            marks.dropFirst()
            entries.dropFirst()
            count -= 1
            dropEmptyFront()
        }
    }

    /// The waiting triggers with their sequences, oldest first.
    var waiting: [(sequence: Int64, trigger: Trigger)] {
        zip(marks.elements, entries.elements).compactMap { mark, trigger in trigger.map { (mark.sequence, $0) } }
    }

    /// Replaces every waiting trigger by `transform` of it.
    mutating func update(_ transform: (Trigger) -> Trigger) {
        for offset in 0..<entries.count {
            if let trigger = entries[offset] { entries[offset] = transform(trigger) }
        }
    }

    /// The front is always a waiting trigger (or nothing), so its time is the oldest.
    private mutating func dropEmptyFront() {
        while let first = marks.first, !first.waiting {
            marks.dropFirst()
            entries.dropFirst()
        }
    }

    /// The position of `sequence` among the entries if it still waits.
    private func position(of sequence: Int64) -> Int? {
        let marks = marks.elements
        var low = marks.startIndex
        var high = marks.endIndex
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].sequence < sequence { low = middle + 1 } else { high = middle }
        }
        guard low < marks.endIndex, marks[low].sequence == sequence, marks[low].waiting else { return nil }
        return low - marks.startIndex
    }
}

/// An identity (a follow-up's `same` type and value) as 64 bits: the trigger index holds millions, and
/// a string key took three times the room. Two identities may share a print; lookups check the
/// trigger's own value, so a shared print costs a comparison, never a false match.
struct IdentityPrint: Hashable, Sendable {
    let bits: UInt64

    init(_ identity: AlertKey) {
        bits = IDPrint(identity.value).low &+ UInt64(identity.type.ordinal) &* 0x9E37_79B9_7F4A_7C15
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bits)
    }

    /// Already a hash: see `IDPrint._rawHashValue(seed:)`.
    func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: IDPrint.fmix(bits ^ UInt64(truncatingIfNeeded: seed)))
    }
}

/// The triggers waiting under one identity, in the order added; the first inline, as most identities have one.
struct Sequences: Sendable {
    /// Sequences are positive: `Int64.min` marks none (an optional would take another 8 bytes).
    private var first = Int64.min
    private var rest: [Int64] = []

    var isEmpty: Bool { first == .min }

    var all: [Int64] { isEmpty ? [] : [first] + rest }

    mutating func append(_ sequence: Int64) {
        if isEmpty { first = sequence } else { rest.append(sequence) }
    }

    mutating func remove(_ sequence: Int64) {
        if first == sequence {
            first = rest.isEmpty ? .min : rest.removeFirst()
        } else {
            rest.removeAll { $0 == sequence }
        }
    }

    /// Drops the sequences before `oldest`, in place: the sweep over a million identities built a new
    /// list for each. Sequences are appended in increasing order, so those dropped lead.
    mutating func drop(before oldest: Int64) {
        guard !isEmpty, first < oldest else { return }
        let kept = rest.firstIndex { $0 >= oldest } ?? rest.endIndex
        guard kept < rest.endIndex else { return self = Sequences() }
        first = rest[kept]
        rest.removeSubrange(...kept)
    }
}

/// The severity an escalation decided, with the figures and events behind it.
struct EscalationResult: Sendable {
    var severity: Severity
    var facts: [(name: String, value: Value)] = []
    var evidence: [Evidence] = []
}

extension Severity {
    /// 0 for critical, growing as severity falls.
    var rank: Int { Severity.allCases.firstIndex(of: self)! }
}

/// Per-rule mutable state: suppression, windows, escalation histories, open absences, sightings, triggers.
struct RuleState: Sendable {
    struct Suppression: Sendable {
        var until: Int64
        var suppressed: Int
        /// The severity of the alert that opened the period; a more severe match breaks through.
        var severity: Severity
    }

    // Changing what `expire` looks at makes it due again: it works out when next at its end.
    var suppression: [AlertKey: Suppression] = [:] { didSet { due = .min } }
    var lastSweep = Int64.min
    var window: SlidingWindows { didSet { due = .min } }
    /// One history per escalation (empty ones for escalations without `recent`).
    var recent: [SlidingWindows] { didSet { due = .min } }
    /// Open absences by correlation, changed through `open`, `close` and `take` (which keep `openAbsences`).
    var pending: HashTable<Correlation, [PendingAbsence]> = [:]
    /// How many absences are open in all: the footprint reads it four times a second, and counting
    /// the lists walked the whole table.
    var openAbsences = 0
    /// Each key's last sighting; one older than the rule's `within` is ignored, and dropped by a sweep
    /// once per `within` (a queue of them in time order cost as much as the sightings).
    var sightings: HashTable<AlertKey, Sighting> = [:] { didSet { due = .min } }
    var lastSightingSweep = Int64.min
    var triggers = TriggerQueue() { didSet { due = .min } }
    var triggersByIdentity: HashTable<IdentityPrint, Sequences> = [:]
    /// When `expire` last dropped expired triggers from `triggersByIdentity`. Not in snapshots: the index is rebuilt.
    var lastIdentitySweep = Int64.min
    /// The watermark before which `expire` has nothing to do: a state untouched for a while is skipped
    /// rather than checked on every watermark move. Not in snapshots: a restored state starts due.
    private(set) var due = Int64.min

    init(rule: Rule) {
        var length: Int64 = 0
        if case .window(let spec) = rule.kind { length = spec.length }
        self.init(
            window: SlidingWindows(length: length),
            recent: rule.escalations.map { SlidingWindows(length: $0.recent?.length ?? 0) })
    }

    init(window: SlidingWindows, recent: [SlidingWindows]) {
        self.window = window
        self.recent = recent
    }

    /// The suppressed count to carry when an alert may go out; nil (and counted) when it is suppressed.
    /// `time` is the processing clock. A count is carried by an alert within one more
    /// period after the suppression ends, and lost after that (as `expire` forgets it).
    /// A match more severe than the alert that opened the period is alerted: an escalation is news.
    mutating func admit(_ key: AlertKey, at time: Int64, suppress: Int64, severity: Severity) -> Int? {
        let entry = suppression[key]
        if var entry, time < entry.until, severity.rank >= entry.severity.rank {
            entry.suppressed += 1
            suppression[key] = entry
            return nil
        }
        let carried = entry.map { time < $0.until.plus(suppress) ? $0.suppressed : 0 } ?? 0
        suppression[key] = Suppression(until: time.plus(suppress), suppressed: 0, severity: severity)
        return carried
    }

    /// Lists every waiting trigger under its identities, in the order they were added (by sequence).
    mutating func indexTriggers(same: [KeyType]) {
        triggersByIdentity = [:]
        for (sequence, trigger) in triggers.waiting {
            trigger.forEachIdentity(same) { triggersByIdentity[IdentityPrint($0), default: Sequences()].append(sequence) }
        }
    }

    /// `same`: the follow-up's identity types, which the trigger is listed under.
    mutating func forgetTrigger(_ sequence: Int64, same: [KeyType]) -> Trigger? {
        guard let trigger = triggers.remove(sequence) else { return nil }
        trigger.forEachIdentity(same) { identity in
            guard let position = triggersByIdentity.index(forKey: IdentityPrint(identity)) else { return }
            triggersByIdentity[valueAt: position].remove(sequence)
            if triggersByIdentity[valueAt: position].isEmpty { triggersByIdentity.remove(at: position) }
        }
        return trigger
    }

    mutating func open(_ absence: PendingAbsence, under correlation: Correlation) {
        pending[correlation, default: []].append(absence)
        openAbsences += 1
    }

    /// Closes the absences under `correlation` opened at or before `time`. In place: one hash lookup,
    /// and no copy of the list.
    mutating func close(_ correlation: Correlation, through time: Int64) {
        guard let position = pending.index(forKey: correlation) else { return }
        let open = pending[valueAt: position].count
        pending[valueAt: position].removeAll { $0.time <= time }
        openAbsences -= open - pending[valueAt: position].count
        if pending[valueAt: position].isEmpty { pending.remove(at: position) }
    }

    /// Takes out the absence `sequence` under `correlation` if it is still open.
    mutating func take(_ correlation: Correlation, sequence: Int64) -> PendingAbsence? {
        guard let slot = pending.index(forKey: correlation),
            let position = pending[valueAt: slot].firstIndex(where: { $0.sequence == sequence })
        else { return nil }
        let absence = pending[valueAt: slot].remove(at: position)
        if pending[valueAt: slot].isEmpty { pending.remove(at: slot) }
        openAbsences -= 1
        return absence
    }

    /// Frees state the watermark has left behind. Suppression entries are swept
    /// once per suppression period, which keeps the cost per entry constant.
    /// `triggerMargin`: how long behind `now` a follow-up may still be processed (a joined inspection).
    /// `suppress`: the longest suppression period of the rule's parts, which share this state's suppression.
    mutating func expire(now: Int64, plan: RulePlan, suppress: Int64, triggerMargin: Int64) {
        guard now >= due else { return }
        if !window.windows.isEmpty { window.expire(now: now) }
        for index in recent.indices where !recent[index].windows.isEmpty { recent[index].expire(now: now) }
        if let within = plan.sightingWithin, !sightings.isEmpty, now >= lastSightingSweep.plus(within) {
            lastSightingSweep = now
            let limit = now.minus(within)
            sightings.updateOrRemove { $0.time >= limit }
        }
        if let within = plan.followWithin {
            let horizon = within.plus(triggerMargin)
            triggers.expire(before: now.minus(horizon))
            // Expired triggers leave their identities listed (lookups skip them); one sweep per horizon
            // drops them, which costs less than working out each expired trigger's identities. Confirmed
            // triggers leave the index at once and the queue expires in sequence order, so a listed
            // sequence still waits exactly when it is not older than the oldest waiting one.
            if !triggersByIdentity.isEmpty, now >= lastIdentitySweep.plus(horizon) {
                lastIdentitySweep = now
                let oldest = triggers.oldestSequence ?? .max
                triggersByIdentity.updateOrRemove { sequences in
                    sequences.drop(before: oldest)
                    return !sequences.isEmpty
                }
            }
        }
        if !suppression.isEmpty, now >= lastSweep.plus(suppress) {
            lastSweep = now
            // An entry with a count to carry lives one more period, for the next alert to report it.
            suppression.updateOrRemove { now < $0.until.plus($0.suppressed > 0 ? suppress : 0) }
        }
        // The earliest watermark at which one of the checks above can hold again; an estimate that errs early.
        var next = suppression.isEmpty ? Int64.max : lastSweep.plus(suppress)
        next = min(next, window.due)
        for windows in recent { next = min(next, windows.due) }
        if let within = plan.sightingWithin, !sightings.isEmpty { next = min(next, lastSightingSweep.plus(within)) }
        if let within = plan.followWithin {
            if let oldest = triggers.oldestTime { next = min(next, oldest.plus(within).plus(triggerMargin)) }
            if !triggersByIdentity.isEmpty { next = min(next, lastIdentitySweep.plus(within).plus(triggerMargin)) }
        }
        due = next
    }
}
