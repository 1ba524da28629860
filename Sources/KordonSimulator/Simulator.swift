import KordonEngine
import KordonEvents

public let nanosPerSecond: Int64 = 1_000_000_000
let minute: Int64 = 60 * nanosPerSecond
let hour: Int64 = 60 * minute
let day: Int64 = 24 * hour

public struct SimulationOptions: Sendable {
    public var seed: UInt64 = 1
    /// Event time of the stream's start. The default is fixed, so a seed alone reproduces a stream.
    /// It lies outside the sample geography's Caspian closed season (April to June), when poaching
    /// can only be planted as near misses.
    public var start = Timestamp(nanosecondsSinceEpoch: 1_796_083_200 * nanosPerSecond)  // 2026-12-01T00:00:00Z, a Tuesday
    /// Event time the stream covers; nil: until `events`.
    public var duration: Int64?
    /// Events to generate (redeliveries and malformed messages come on top); nil: until `duration`.
    public var events: Int?
    /// Share of events delivered out of order, later than events after them but within the lateness.
    public var lateFraction = 0.0
    /// Share of events delivered a second time, within the lateness.
    public var duplicateFraction = 0.0
    /// Malformed messages per generated event, for the dead-letter path.
    public var invalidFraction = 0.0
    /// The consumer's allowed lateness; out-of-order and redelivered events stay within 90 % of it.
    public var lateness: Int64 = EngineSettings.defaultLateness
    /// Multiplies the background rates. The checkpoint queues hold each checkpoint to its capacity; above
    /// about 2 the busiest saturate at peak hours, queues grow, and near misses timed against a deadline
    /// (a late arrival) may cross it.
    public var trafficScale = 1.0
    public var incidentsPerDay = 48.0
    public var nearMissesPerDay = 48.0
    /// Relative weight of each rule among planted incidents and near misses; a rule absent or at 0 is not planted.
    public var mix: [String: Double] = Dictionary(uniqueKeysWithValues: Planters.all.map { ($0.rule, 1.0) })

    public init() {}
}

/// One message `Simulator.next(into:)` appended to the output.
public struct Message: Sendable, Hashable {
    public var emitted: Emitted
    /// The kind of the event it carries (for a malformed message, of the event it was made from),
    /// which picks its input topic.
    public var kind: EventKind
}

/// What kind of message it is.
public enum Emitted: Sendable, Hashable {
    /// A generated event, written once in time order or held back and written out of order.
    case event(late: Bool)
    /// A redelivery of an event already written.
    case duplicate
    /// A malformed message (never valid under the contract).
    case invalid
}

/// A deterministic stream of border events with planted incidents and their ground truth.
///
/// Time advances through one scheduler: background traffic sources, patrols, sensors,
/// vessel tracks and the incident clocks each put their next occurrence on it, and
/// what an occurrence causes later (the entry after an exit, an inspection after a
/// crossing, the next trip of a structuring driver) goes on it too. Crossings pass a
/// queue per checkpoint that admits at most what `capacity.overload` allows per its
/// window, as a real checkpoint would hold traffic back; only a
/// planted overload bypasses it. A label is released once every event of its incident
/// has been written (and, for an absence, once the stream's time passed the deadline),
/// so a stream cut anywhere has labels that match what a consumer can detect in it.
public struct Simulator: Sendable {
    public let options: SimulationOptions
    let geography: SimGeography
    var rng: SplitMix64
    var ids: Identities
    let writer = EventWriter()
    let planters: [(planter: any IncidentPlanter, weight: Double)]

    private var schedule = Schedule()
    /// Events planned and serialised, waiting for their time or for the event they follow.
    var pending = PendingEvents()
    /// By lane of `SimGeography.vesselLanes`.
    private var vessels: [VesselTrack]
    /// Memory events are serialised in before they go to `pending` (see `withScratch`).
    private var scratch = [UInt8](repeating: 0, count: 1 << 16)
    /// By `SimGeography.Side.queue`.
    private(set) var queues: [CheckpointQueue]
    private var ready = Ring<Ready>()
    /// An event emitted in order when no delivery faults are asked for: then it is the only message
    /// ready, and goes out without passing `ready`.
    private var inOrder: (slot: Int, time: Int64, incident: Int?, kind: EventKind)?
    /// Whether out-of-order delivery, redeliveries or malformed messages are asked for.
    private let faults: Bool
    /// The bytes of the messages in `ready`, emptied whenever `ready` is.
    private var readyBytes: [UInt8] = []
    private var held: [Held] = []
    /// The earliest release in `held`.
    private var heldUntil = Int64.max
    private var generated = 0
    private var newestWritten = Int64.min
    private var open: [Int: OpenIncident] = [:]
    private var nextIncident = 0
    private var awaitingDeadline: [(due: Int64, label: Label)] = []
    /// The earliest due in `awaitingDeadline`: checked after every message, the list is walked only once one is due.
    private var nextDeadline = Int64.max
    private var labels: [Label] = []
    /// Per rule and key, when a planted incident or near miss may next use the key, so two never
    /// share a window or a suppression period (see `claim`).
    var keyFree: [String: Int64] = [:]
    /// Plates and docs on the rulebook's watchlists, sorted so the stream does not depend on set order.
    let watchlisted: (plates: [String], docs: [String])
    /// Per officer, when they released a trip that was then found carrying something (see `releasingOfficer`).
    var releasedThenFound: [String: [Int64]] = [:]
    /// The figures of the rulebook's rules, by id; a rule absent (or disabled) there is not planted.
    let figures: [String: RuleFigures]
    /// `integrity.release-anomaly`'s window with a day to spare, and how many releases in it it
    /// counts (see `releasingOfficer`); looked up once, as background inspections ask often.
    let releasePattern: (span: Int64, count: Int)?
    private let end: Int64

    /// Planted incidents and near misses follow `rulebook`'s figures and use its watchlists.
    public init(options: SimulationOptions, geography: Geography, rulebook: Rulebook) {
        self.options = options
        let watchlists = rulebook.watchlists.values.map { $0 }
        watchlisted = (Set(watchlists.flatMap(\.plates)).sorted(), Set(watchlists.flatMap(\.docs)).sorted())
        self.geography = SimGeography(geography)
        let figures = RuleFigures.read(rulebook)
        self.figures = figures
        if let release = figures["integrity.release-anomaly"], let window = release.window, let count = release.count?.least {
            releasePattern = (window + day, count)
        } else {
            releasePattern = nil
        }
        // Queues hold checkpoints to what `capacity.overload` allows; without that rule, to their capacity per 15 minutes.
        let overload = figures["capacity.overload"]
        queues = self.geography.queueCapacity.map { capacity in
            CheckpointQueue(
                window: overload?.window ?? 15 * minute, capacity: overload?.count?.most(capacity: capacity) ?? capacity)
        }
        vessels = SimGeography.vesselLanes.indices.map { VesselTrack(lane: $0) }
        faults = options.lateFraction > 0 || options.duplicateFraction > 0 || options.invalidFraction > 0
        rng = SplitMix64(seed: options.seed)
        ids = Identities(seed: options.seed)
        planters = Planters.all.compactMap { planter in
            let weight = options.mix[planter.rule] ?? 0
            return weight > 0 && figures[planter.rule] != nil ? (planter, weight) : nil
        }
        end = options.duration.map { options.start.nanosecondsSinceEpoch.plusClamped($0) } ?? Int64.max
        let start = options.start.nanosecondsSinceEpoch
        for index in self.geography.sources.indices {
            schedule.push(start, .traffic(index))
        }
        for index in self.geography.patrolUnits.indices {
            schedule.push(start + Int64(index) * 5 * minute, .patrol(index))
        }
        // Sensor background scales with the traffic; at 0 it stops (its mean interval would be infinite).
        if options.trafficScale > 0 { schedule.push(start, .sensor) }
        for index in SimGeography.vesselLanes.indices {
            schedule.push(start + Int64(index) * 17 * minute, .vessel(index))
        }
        if options.incidentsPerDay > 0, !planters.isEmpty { schedule.push(start + 10 * minute, .incident) }
        if options.nearMissesPerDay > 0, !planters.isEmpty { schedule.push(start + 20 * minute, .nearMiss) }
    }

    /// Appends the next message (one JSON line) to `out`; nil at the end of the stream.
    public mutating func next(into out: inout [UInt8]) -> Message? {
        while ready.isEmpty, inOrder == nil {
            guard advance() else { break }
        }
        if let (slot, time, incident, kind) = inOrder {
            inOrder = nil
            pending.write(slot, at: time, to: &out)
            wentOut(at: time, incident: incident)
            return Message(emitted: .event(late: false), kind: kind)
        }
        if ready.isEmpty {
            // The end: what was held back for out-of-order delivery goes out last, in time order.
            guard !held.isEmpty else { return nil }
            held.sort { ($0.release, $0.sequence) < ($1.release, $1.sequence) }
            for item in held { makeReady(item) }
            held.removeAll()
            heldUntil = .max
        }
        let item = ready.removeFirst()
        switch item.line {
        case .pending(let slot):
            pending.write(slot, at: item.time!, to: &out)
        case .bytes(let range):
            readyBytes.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
        }
        if ready.isEmpty, !readyBytes.isEmpty { readyBytes.removeAll(keepingCapacity: true) }
        if let time = item.time { wentOut(at: time, incident: item.incident) }
        return Message(emitted: item.kind, kind: item.eventKind)
    }

    /// An original event went out at `time`.
    private mutating func wentOut(at time: Int64, incident: Int?) {
        newestWritten = max(newestWritten, time)
        if let incident { written(incident, at: time) }
        releaseDeadlines()
    }

    /// Labels of the incidents completed since the last call, in completion order.
    public mutating func takeLabels() -> [Label] {
        // Asked after every message, and mostly there are none: no array to hand over and release.
        guard !labels.isEmpty else { return [] }
        defer { labels.removeAll() }
        return labels
    }

    // MARK: - Scheduling

    /// Runs the scheduler until something is ready to write; false when generation is over.
    private mutating func advance() -> Bool {
        if let limit = options.events, generated >= limit { return false }
        guard let (time, action) = schedule.pop(before: end) else { return false }
        // Tested here rather than in the call: nothing is held back unless delivery faults are asked for.
        if heldUntil <= time { releaseHeld(upTo: time) }
        switch action {
        case .planned(let slot):
            emit(slot, at: time)
        case .traffic(let index):
            let source = geography.sources[index]
            let peak = source.peakPerHour * options.trafficScale
            if peak > 0 {
                if rng.chance(geography.intensity(source, at: time)) { background(source, at: time) }
                schedule.push(time + seconds(rng.exponential(mean: 3600 / peak)), .traffic(index))
            }
        case .patrol(let index):
            patrolReport(unit: index, at: time)
            schedule.push(time + seconds(rng.exponential(mean: 1800)) + 5 * minute, .patrol(index))
        case .sensor:
            sensorDetection(at: time)
            schedule.push(time + seconds(rng.exponential(mean: 3600 / (40 * options.trafficScale))), .sensor)
        case .vessel(let lane):
            // Moved out and back rather than copied, so its buffers are not retained.
            var track = VesselTrack(lane: lane)
            swap(&track, &vessels[lane])
            let delay = vesselReport(&track, at: time)
            swap(&track, &vessels[lane])
            schedule.push(time + delay, .vessel(lane))
        case .incident, .nearMiss:
            let nearMiss = action.isNearMiss
            plantOne(nearMiss: nearMiss, at: time)
            let perDay = nearMiss ? options.nearMissesPerDay : options.incidentsPerDay
            schedule.push(time + seconds(rng.exponential(mean: 86_400 / perDay)), nearMiss ? .nearMiss : .incident)
        }
        return true
    }

    /// Schedules an event planned with `build` or `plan(_:incident:at:)`, and with it what follows it.
    mutating func plan(slot: Int, at time: Int64) {
        schedule.push(time, .planned(slot))
    }

    /// Serialises a single event and schedules it.
    mutating func plan(_ event: Event, incident: Int? = nil, at time: Int64) {
        let slot = withScratch { sim, json in
            let timeAt = sim.writer.untimed(event, to: &json)
            return sim.pending.add(json, 0..<json.written, timeAt: timeAt, kind: event.kind, queue: nil, throttled: true, incident: incident)
        }
        plan(slot: slot, at: time)
    }

    /// Runs `body` with a writer into the simulator's scratch memory rather than memory allocated per
    /// event or trip. Nested, the inner writer allocates its own.
    mutating func withScratch<Result>(_ body: (inout Simulator, inout JSONBytes) -> Result) -> Result {
        var memory = scratch
        scratch = []
        defer { scratch = memory }
        return memory.withUnsafeMutableBufferPointer { memory in
            var json = JSONBytes(in: memory)
            return body(&self, &json)
        }
    }

    private mutating func emit(_ slot: Int, at time: Int64) {
        let event = pending.header(slot)
        if let queue = event.queue {
            if event.throttled, let admit = queues[queue].admission(at: time), admit > time {
                schedule.push(admit, .planned(slot))
                return
            }
            queues[queue].record(time)
        }
        var follow = event.firstFollow
        while follow >= 0 {
            let next = pending.header(follow)
            schedule.push(time + next.after, .planned(follow))
            follow = next.nextFollow
        }
        generated += 1
        guard faults else {
            inOrder = (slot, time, event.incident, event.kind)
            return
        }
        // An event delivered in order goes out from its slot, copied once; faults take copies of its line.
        if options.invalidFraction > 0, rng.chance(options.invalidFraction) {
            let start = readyBytes.count
            readyBytes += Malformed.corrupt(pending.line(slot, at: time), &rng)
            ready.append(Ready(line: .bytes(start..<readyBytes.count), time: nil, incident: nil, kind: .invalid, eventKind: event.kind))
        }
        let window = Double(options.lateness) * 0.9 / Double(nanosPerSecond)
        let late = options.lateFraction > 0 && window >= 2 && rng.chance(options.lateFraction)
        if late {
            hold(
                Held(release: time + seconds(1 + rng.unit() * (window - 1)), sequence: generated, line: pending.line(slot, at: time),
                    time: time, incident: event.incident, kind: .event(late: true), eventKind: event.kind))
        } else {
            ready.append(Ready(line: .pending(slot), time: time, incident: event.incident, kind: .event(late: false), eventKind: event.kind))
        }
        if options.duplicateFraction > 0, window >= 2, rng.chance(options.duplicateFraction) {
            hold(
                Held(release: time + seconds(1 + rng.unit() * (window - 1)), sequence: generated, line: pending.line(slot, at: time),
                    time: nil, incident: nil, kind: .duplicate, eventKind: event.kind))
        }
        if late { pending.free(slot) }
    }

    /// Holds a message back until the scheduler passes its release (< time + lateness), so it
    /// arrives after later events yet before the consumer's watermark passes it.
    private mutating func hold(_ item: Held) {
        held.append(item)
        heldUntil = min(heldUntil, item.release)
    }

    /// Once `heldUntil` has passed.
    private mutating func releaseHeld(upTo time: Int64) {
        held.sort { ($0.release, $0.sequence) < ($1.release, $1.sequence) }
        var released = 0
        while released < held.count, held[released].release <= time {
            makeReady(held[released])
            released += 1
        }
        held.removeFirst(released)
        heldUntil = held.first?.release ?? .max
    }

    private mutating func makeReady(_ item: Held) {
        let start = readyBytes.count
        readyBytes += item.line
        ready.append(
            Ready(line: .bytes(start..<readyBytes.count), time: item.time, incident: item.incident, kind: item.kind, eventKind: item.eventKind))
    }

    // MARK: - Ground truth

    /// Opens an incident; events planned with its tag count towards its completion.
    /// A number for an incident's events to carry before the incident is committed.
    mutating func reserveIncident() -> Int {
        nextIncident += 1
        return nextIncident
    }

    /// `events` is how many planned events carry the number; `absence` the rule's `within`. An
    /// incident `within` a larger one counts its events towards that one's completion too.
    mutating func commitIncident(_ number: Int, events: Int, labels: [Label], absence: Int64?, within parent: Int? = nil) {
        open[number] = OpenIncident(remaining: events, labels: labels, absence: absence, parent: parent)
    }

    /// Whether an incident whose last event is due at `last` is complete before the stream ends,
    /// with an hour to spare for checkpoint queues: one cut short would alert on its first events
    /// with no label to match.
    func completes(by last: Int64) -> Bool {
        last < end - hour
    }

    func incidentName(_ number: Int) -> String {
        "sim-inc-" + Identities.padded(UInt64(number), 6)
    }

    private mutating func written(_ number: Int, at time: Int64) {
        guard var incident = open[number] else { return }
        if let parent = incident.parent { written(parent, at: time) }
        incident.from = min(incident.from, time)
        incident.until = max(incident.until, time)
        incident.remaining -= 1
        if incident.remaining > 0 {
            open[number] = incident
            return
        }
        open[number] = nil
        for var label in incident.labels {
            label.from = Timestamp(nanosecondsSinceEpoch: incident.from)
            label.until = Timestamp(nanosecondsSinceEpoch: incident.until)
            if let within = incident.absence {
                awaitingDeadline.append((incident.from + within, label))
                nextDeadline = min(nextDeadline, incident.from + within)
            } else {
                labels.append(label)
            }
        }
    }

    /// An absence is detectable once the stream's event time has passed its deadline.
    private mutating func releaseDeadlines() {
        guard nextDeadline < newestWritten else { return }
        var index = 0
        nextDeadline = .max
        while index < awaitingDeadline.count {
            if awaitingDeadline[index].due < newestWritten {
                labels.append(awaitingDeadline.remove(at: index).label)
            } else {
                nextDeadline = min(nextDeadline, awaitingDeadline[index].due)
                index += 1
            }
        }
    }

    // MARK: - Incidents

    private mutating func plantOne(nearMiss: Bool, at time: Int64) {
        let total = planters.reduce(0) { $0 + $1.weight }
        var point = rng.unit() * total
        var chosen = planters[planters.count - 1].planter
        for entry in planters {
            point -= entry.weight
            if point < 0 {
                chosen = entry.planter
                break
            }
        }
        chosen.plant(in: &self, nearMiss: nearMiss, at: time)
    }
}

/// Planned events, serialised when planned: only their time changes from there on, so a few words
/// move through the scheduler rather than an event's fields, and writing one is a copy with the time
/// filled in. A slot is reused once its event is written, so planning allocates nothing in the long run.
struct PendingEvents: Sendable {
    struct Header: Sendable {
        /// Where the gap for the value of `time` is in the line.
        var timeAt: Int
        var kind: EventKind
        /// The queue of a crossing's checkpoint (`SimGeography.Side.queue`).
        var queue: Int?
        /// Crossings wait in the checkpoint queue; a planted overload does not.
        var throttled: Bool
        var incident: Int?
        /// When it follows another event: how long after that one.
        var after: Int64 = 0
        /// The events scheduled once this one is written, in order, linked through `nextFollow`.
        var firstFollow = -1
        var lastFollow = -1
        var nextFollow = -1
    }

    /// A slot's header, and its line's length.
    private struct Slot: Sendable {
        var header: Header
        var length: Int
    }

    /// Where a slot's line starts in its memory: right after the slot's header, which is read when the
    /// event is due, long after it was planned; the line it then writes out is in the cache lines that follow.
    private static let lineAt = MemoryLayout<Slot>.stride
    /// The longest line a slot keeps; a longer one goes to `long`.
    private static let lineCapacity = 1024
    /// From one slot to the next, whole cache lines.
    private static let stride = (lineAt + lineCapacity + 63) & ~63

    /// All slots, `stride` bytes apart: each a `Slot` followed by the event's JSON line with a gap for the
    /// value of `time` (`JSONBytes.timeGap`). One buffer rather than one per slot: a slot's address
    /// follows from its index, and its header and line are read from the same few cache lines.
    private var memory: [UInt8] = []
    private var long: [Int: [UInt8]] = [:]
    private var freeSlots: [Int] = []
    private var times = TimeText()

    /// Stores the event at `range` of `json`; returns its slot.
    mutating func add(
        _ json: borrowing JSONBytes, _ range: Range<Int>, timeAt: Int, kind: EventKind, queue: Int?, throttled: Bool, incident: Int?
    ) -> Int {
        let slot = Slot(header: Header(timeAt: timeAt, kind: kind, queue: queue, throttled: throttled, incident: incident), length: range.count)
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
        } else {
            index = memory.count / Self.stride
            memory.append(contentsOf: repeatElement(0, count: Self.stride))
        }
        memory.withUnsafeMutableBytes { memory in
            let start = memory.baseAddress! + index * Self.stride
            start.storeBytes(of: slot, as: Slot.self)
            if range.count <= Self.lineCapacity { json.copy(range, to: (start + Self.lineAt).assumingMemoryBound(to: UInt8.self)) }
        }
        if range.count > Self.lineCapacity {
            var line = [UInt8](repeating: 0, count: range.count)
            line.withUnsafeMutableBufferPointer { json.copy(range, to: $0.baseAddress!) }
            long[index] = line
        }
        return index
    }

    private func slot(_ index: Int) -> Slot {
        memory.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * Self.stride, as: Slot.self) }
    }

    func header(_ slot: Int) -> Header {
        self.slot(slot).header
    }

    /// Schedules `event` `after` `parent`, once `parent` is written (after those added before it).
    mutating func follow(_ parent: Int, with event: Int, after: Int64) {
        // The headers changed in place, all under one access to the buffer.
        memory.withUnsafeMutableBytes { memory in
            func change(_ index: Int, _ body: (inout Header) -> Void) {
                let start = memory.baseAddress! + index * Self.stride
                var slot = start.loadUnaligned(as: Slot.self)
                body(&slot.header)
                start.storeBytes(of: slot, as: Slot.self)
            }
            change(event) { $0.after = after }
            var last = -1
            change(parent) { header in
                last = header.lastFollow
                if last < 0 { header.firstFollow = event }
                header.lastFollow = event
            }
            if last >= 0 { change(last) { $0.nextFollow = event } }
        }
    }

    /// Appends the event as a JSON line at `time` and frees its slot.
    mutating func write(_ slot: Int, at time: Int64, to out: inout [UInt8]) {
        append(slot, at: time, to: &out, keep: false)
        freeSlots.append(slot)
    }

    /// The event as a JSON line at `time`; the slot stays taken.
    mutating func line(_ slot: Int, at time: Int64) -> [UInt8] {
        var line: [UInt8] = []
        append(slot, at: time, to: &line, keep: true)
        return line
    }

    mutating func free(_ slot: Int) {
        if self.slot(slot).length > Self.lineCapacity { long[slot] = nil }
        freeSlots.append(slot)
    }

    /// Unless `keep`, a long line is dropped once written, as the slot is then freed.
    private mutating func append(_ index: Int, at time: Int64, to out: inout [UInt8], keep: Bool) {
        let slot = slot(index)
        let (timeAt, length) = (slot.header.timeAt, slot.length)
        if length <= Self.lineCapacity {
            var times = self.times
            defer { self.times = times }
            memory.withUnsafeMutableBytes { memory in
                let start = (memory.baseAddress! + index * Self.stride + Self.lineAt).assumingMemoryBound(to: UInt8.self)
                Self.append(UnsafeMutableBufferPointer(start: start, count: length), timeAt, time, &times, to: &out)
            }
        } else {
            // Taken out while its gap is filled, so it is not copied.
            var line = long.removeValue(forKey: index)!
            line.withUnsafeMutableBufferPointer { Self.append($0, timeAt, time, &times, to: &out) }
            if keep { long[index] = line }
        }
    }

    /// The time goes into the line's gap, and the line out in one copy; a time with a fraction around the gap.
    private static func append(
        _ line: UnsafeMutableBufferPointer<UInt8>, _ timeAt: Int, _ time: Int64, _ times: inout TimeText, to out: inout [UInt8]
    ) {
        if times.whole(time, into: line.baseAddress! + timeAt) {
            out.append(contentsOf: UnsafeBufferPointer(line))
        } else {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: line[..<timeAt]))
            EventWriter.appendTime(time, to: &out)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: line[(timeAt + JSONBytes.wholeTimeBytes)...]))
        }
    }
}

struct OpenIncident: Sendable {
    var remaining: Int
    var labels: [Label]
    var absence: Int64?
    var parent: Int?
    var from = Int64.max
    var until = Int64.min
}

/// A message ready to go out.
struct Ready: Sendable {
    enum Line: Sendable {
        /// An event still in its slot of `Simulator.pending`, written at `time`.
        case pending(Int)
        /// At that range of `Simulator.readyBytes`.
        case bytes(Range<Int>)
    }

    var line: Line
    /// Event time of an original event; nil for redeliveries and malformed messages.
    var time: Int64?
    var incident: Int?
    var kind: Emitted
    var eventKind: EventKind
}

/// A message held back for out-of-order delivery or redelivery.
struct Held: Sendable {
    var release: Int64
    var sequence: Int
    var line: [UInt8]
    var time: Int64?
    var incident: Int?
    var kind: Emitted
    var eventKind: EventKind
}

/// A checkpoint's traffic in the `capacity.overload` window: (t − window, t].
struct CheckpointQueue: Sendable {
    let window: Int64
    /// The most crossings the window admits.
    let capacity: Int
    private var times = Ring<Int64>()

    init(window: Int64, capacity: Int) {
        self.window = window
        // At least one, or nothing would ever pass.
        self.capacity = max(1, capacity)
    }

    /// When a crossing arriving at `time` can pass without the window exceeding `capacity`.
    mutating func admission(at time: Int64) -> Int64? {
        while let first = times.first, first <= time - window { _ = times.removeFirst() }
        guard times.count >= capacity else { return nil }
        // Wait until enough of the oldest have left the window; a second later, as checkpoints record whole seconds.
        return times[times.count - capacity] + window + nanosPerSecond
    }

    mutating func record(_ time: Int64) {
        times.append(time)
    }
}

func seconds(_ value: Double) -> Int64 {
    value.roundedHalfAwayInteger * nanosPerSecond
}

extension Double {
    /// `rounded()`, to the nearest and half away from zero, without the call into libm it takes on
    /// baseline x86-64; for |self| < 2^63, where it is exact, as the difference from the truncation is.
    @inline(__always) var roundedHalfAway: Double {
        Double(roundedHalfAwayInteger)
    }

    /// `roundedHalfAway` as an integer, without converting it back and forth.
    @inline(__always) var roundedHalfAwayInteger: Int64 {
        let truncated = Int64(self)
        let difference = self - Double(truncated)
        // difference ≥ 0.5 and ≤ −0.5 from sign bits rather than branches, which on random values
        // are mispredicted half the time.
        let up = Int64(bitPattern: (difference - 0.5).bitPattern >> 63 ^ 1)
        let down = Int64(bitPattern: (-difference - 0.5).bitPattern >> 63 ^ 1)
        return truncated &+ up &- down
    }
}

extension Int64 {
    func plusClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}

