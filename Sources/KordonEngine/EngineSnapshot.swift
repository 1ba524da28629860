import Crypto
import KordonEvents

/// Why a snapshot could not be restored.
public struct EngineSnapshotError: Error, CustomStringConvertible, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Not an engine snapshot at all.
        case badMagic
        /// Written by a build with another format version.
        case unsupportedVersion(UInt32)
        /// Cut short: fewer bytes than the header announces.
        case truncated
        /// Complete, but its checksum or contents are wrong.
        case corrupt(String)
    }

    public var reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .badMagic: "not an engine snapshot (bad magic)"
        case .unsupportedVersion(let version):
            "engine snapshot format version \(version) is not supported (this build reads version \(EngineSnapshot.version))"
        case .truncated: "engine snapshot is truncated"
        case .corrupt(let detail): "engine snapshot is corrupt: \(detail)"
        }
    }
}

extension Engine {
    /// Every piece of mutable state (buffered events, timers, remembered ids, crossings, awaiting inspections,
    /// per-rule windows, suppression, absences, sightings and triggers, watermark, per-input times and idleness,
    /// sequence counter, processing clock, stats, watchlist check time), as bytes `init(restoring:)` reads.
    /// A pure function of the value: a copy of the engine can be encoded on another thread.
    /// Equal states give equal bytes. Watchlist contents are not included: they are read from their files.
    public func snapshot() -> [UInt8] {
        EngineSnapshot.encode(capturedState)
    }

    /// An engine that behaves exactly as the snapshotted one would have (same alerts, ids and suppressed counts),
    /// given the same rulebook. Per-rule state is matched by a fingerprint of the rule's definition: state of
    /// a rule that changed or is gone is dropped, and new rules start empty.
    public init(
        restoring bytes: [UInt8], rulebook: Rulebook, geography: Geography, settings: EngineSettings = EngineSettings(),
        clock: @escaping @Sendable () -> Timestamp
    ) throws(EngineSnapshotError) {
        let state = try EngineSnapshot.decode(bytes, geography: geography, watchlists: rulebook.watchlists)
        self.init(rulebook: rulebook, geography: geography, settings: settings, clock: clock)
        adopt(state)
    }

    /// For a configuration reload: an engine with this rulebook, geography and settings, keeping all shared
    /// state and the state of every rule whose definition did not change (as `init(restoring:)` would).
    public func reconfigured(rulebook: Rulebook, geography: Geography, settings: EngineSettings) -> Engine {
        var engine = Engine(rulebook: rulebook, geography: geography, settings: settings, clock: clock)
        engine.adopt(capturedState)
        // Waiting triggers and absences hold their scope: let it see the new places and lists, as a restored one would.
        let lookups = engine.lookups
        for index in engine.states.indices {
            engine.states[index].triggers.update { trigger in
                var trigger = trigger
                trigger.scope = trigger.scope.rebased(lookups)
                return trigger
            }
            for (correlation, open) in engine.states[index].pending {
                engine.states[index].pending[correlation] = open.map { pending in
                    var pending = pending
                    pending.scope = pending.scope.rebased(lookups)
                    return pending
                }
            }
        }
        return engine
    }

    /// The state as a value; collections are copied on write, so this is cheap.
    var capturedState: EngineState {
        EngineState(
            stats: stats, watermark: watermark, now: now, nextSequence: nextSequence,
            lastWatchlistCheck: lastWatchlistCheck, inputs: inputs, idle: idle, queue: queue, timers: timers, seen: seen,
            processed: processed, crossings: crossings, crossingOrder: crossingOrder, awaiting: awaiting,
            rules: zip(fingerprints, states).map { ($0, $1) })
    }

    /// Takes over `state`. A rule's state goes to the first rule of this rulebook with the same
    /// fingerprint not yet given one; the deadlines of state that finds no rule are dropped with it.
    mutating func adopt(_ state: EngineState) {
        var slots: [RuleFingerprint: [Int]] = [:]
        for (index, fingerprint) in fingerprints.enumerated().reversed() { slots[fingerprint, default: []].append(index) }
        let target = state.rules.map { slots[$0.fingerprint]?.popLast() }
        for (old, new) in target.enumerated() {
            guard let new else { continue }
            states[new] = state.rules[old].state
            states[new].indexTriggers(same: plans[new].followSame)
        }
        timers = Heap()
        for var timer in state.timers.elements {
            if case .absence(let rule, let correlation) = timer.action {
                guard let new = target[rule] else { continue }
                timer.action = .absence(rule: new, correlation: correlation)
            }
            timers.push(timer)
        }
        stats = state.stats
        watermark = state.watermark
        now = state.now
        nextSequence = state.nextSequence
        lastWatchlistCheck = state.lastWatchlistCheck
        inputs = state.inputs
        idle = state.idle
        slowest = nil
        lastInput = nil
        queue = state.queue
        seen = state.seen
        processed = state.processed
        crossings = state.crossings
        crossingOrder = state.crossingOrder
        awaiting = state.awaiting
    }
}

/// An engine's mutable state apart from its configuration, with each rule's state under its fingerprint.
struct EngineState {
    var stats: EngineStats
    var watermark: Int64
    var now: Int64
    var nextSequence: Int64
    var lastWatchlistCheck: Int64
    var inputs: [InputID: Int64]
    var idle: Set<InputID>
    var queue: Heap<Queued>
    var timers: Heap<Timer>
    var seen: HashTable<IDPrint, Int64>
    var processed: FIFO<(time: Int64, id: IDPrint)>
    var crossings: HashTable<IDPrint, EventRecord>
    var crossingOrder: FIFO<(time: Int64, id: IDPrint)>
    var awaiting: [IDPrint: [AwaitingInspection]]
    var rules: [(fingerprint: RuleFingerprint, state: RuleState)]
}

/// The snapshot format:
///
///     magic "KRDNSNAP" | version: UInt32 LE | payload length: UInt64 LE | payload | checksum
///
/// The checksum is the first 8 bytes of the SHA-256 of everything before it. The payload encoding
/// is described in SnapshotCoding.swift; a change to it takes a new version.
enum EngineSnapshot {
    static let magic = Array("KRDNSNAP".utf8)
    static let version: UInt32 = 4
    static let headerSize = 20
    static let checksumSize = 8

    static func encode(_ state: EngineState) -> [UInt8] {
        // Room for the header first, so the payload is framed where it was written: copying it behind
        // a header took a second and more for a million keys (half a gigabyte of fresh pages).
        var out = SnapshotWriter(after: Array(repeating: 0, count: headerSize))
        out.count(state.rules.count)
        for (fingerprint, rule) in state.rules {
            out.write(fingerprint)
            out.write(rule)
        }
        out.write(state.watermark)
        out.write(state.now)
        out.write(state.nextSequence)
        out.write(state.lastWatchlistCheck)
        write(state.stats, to: &out)
        out.entries(state.inputs)
        out.write(state.idle.sorted(by: InputID.precedes))
        // Heaps in array order: pushing them back in that order rebuilds the same arrays.
        out.write(state.queue.elements)
        out.write(state.timers.elements)
        // Remembered ids are those buffered and those processed: rebuilt from the two.
        out.count(state.processed.count)
        for (time, id) in state.processed.elements {
            out.write(time)
            out.write(id)
        }
        out.count(state.crossingOrder.count)
        for (time, id) in state.crossingOrder.elements {
            out.write(time)
            out.write(id)
            // A crossing forgotten early has no record left; its id and time still rank the others.
            if let record = state.crossings[id] {
                out.byte(1)
                out.record(record)
            } else {
                out.byte(0)
            }
        }
        out.entries(state.awaiting)
        return seal(framed: out.bytes)
    }

    /// Frames a payload: `framed` is `headerSize` bytes of room (their content is overwritten) then the
    /// payload; the header goes in that room and the checksum after the payload.
    static func seal(framed: [UInt8]) -> [UInt8] {
        var bytes = framed
        var header = magic
        withUnsafeBytes(of: version.littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(bytes.count - headerSize).littleEndian) { header.append(contentsOf: $0) }
        bytes.replaceSubrange(0..<headerSize, with: header)
        bytes.append(contentsOf: checksum(bytes, upTo: bytes.count))
        return bytes
    }

    static func decode(_ bytes: [UInt8], geography: Geography, watchlists: [String: Watchlist])
        throws(EngineSnapshotError) -> EngineState
    {
        guard bytes.starts(with: magic.prefix(bytes.count)) else { throw EngineSnapshotError(.badMagic) }
        guard bytes.count >= headerSize else { throw EngineSnapshotError(.truncated) }
        let version = UInt32(littleEndian(bytes[8..<12]))
        guard version == Self.version else { throw EngineSnapshotError(.unsupportedVersion(version)) }
        let length = littleEndian(bytes[12..<20])
        let rest = bytes.count - headerSize
        guard length <= UInt64(rest), rest - Int(length) >= checksumSize else { throw EngineSnapshotError(.truncated) }
        let end = headerSize + Int(length)
        guard bytes.count == end + checksumSize else {
            throw EngineSnapshotError(.corrupt("\(bytes.count - end - checksumSize) bytes after the checksum"))
        }
        guard bytes[end...].elementsEqual(checksum(bytes, upTo: end)) else {
            throw EngineSnapshotError(.corrupt("checksum mismatch"))
        }

        var input = SnapshotReader(bytes, from: headerSize, to: end, geography: geography, watchlists: watchlists)
        var rules: [(fingerprint: RuleFingerprint, state: RuleState)] = []
        for _ in 0..<(try input.count()) { rules.append((try input.read(), try input.read())) }
        let watermark: Int64 = try input.read()
        let now: Int64 = try input.read()
        let nextSequence: Int64 = try input.read()
        let lastWatchlistCheck: Int64 = try input.read()
        let stats = try readStats(&input)
        let inputs: [InputID: Int64] = try input.entries()
        let idle = Set(try input.read([InputID].self))
        var queue = Heap<Queued>()
        var seen: HashTable<IDPrint, Int64> = [:]
        for item in try input.read([Queued].self) {
            queue.push(item)
            seen[item.print] = item.time
        }
        var timers = Heap<Timer>()
        for timer in try input.read([Timer].self) {
            if case .absence(let rule, _) = timer.action, !rules.indices.contains(rule) {
                throw EngineSnapshotError(.corrupt("a deadline names rule \(rule) of \(rules.count)"))
            }
            timers.push(timer)
        }
        var processed = FIFO<(time: Int64, id: IDPrint)>()
        for _ in 0..<(try input.count()) {
            let time: Int64 = try input.read()
            let id: IDPrint = try input.read()
            processed.append((time, id))
            seen[id] = time
        }
        var crossings: HashTable<IDPrint, EventRecord> = [:]
        var crossingOrder = FIFO<(time: Int64, id: IDPrint)>()
        for _ in 0..<(try input.count()) {
            let time: Int64 = try input.read()
            let id: IDPrint = try input.read()
            crossingOrder.append((time, id))
            if try input.read(Bool.self) { crossings[id] = try input.record() }
        }
        let awaiting: [IDPrint: [AwaitingInspection]] = try input.entries()
        guard input.isAtEnd else { throw EngineSnapshotError(.corrupt("unread bytes at the end of the state")) }
        return EngineState(
            stats: stats, watermark: watermark, now: now, nextSequence: nextSequence,
            lastWatchlistCheck: lastWatchlistCheck, inputs: inputs, idle: idle, queue: queue, timers: timers, seen: seen,
            processed: processed, crossings: crossings, crossingOrder: crossingOrder, awaiting: awaiting, rules: rules)
    }

    private static func write(_ stats: EngineStats, to out: inout SnapshotWriter) {
        for count in [
            stats.accepted, stats.duplicates, stats.late, stats.unknownCheckpoints, stats.unjoinedInspections,
            stats.openAbsences, stats.watchlistReloads, stats.watchlistErrors, stats.alerts,
        ] {
            out.write(count)
        }
        out.entries(stats.lateByInput)
    }

    private static func readStats(_ input: inout SnapshotReader) throws(EngineSnapshotError) -> EngineStats {
        var stats = EngineStats()
        stats.accepted = try input.read()
        stats.duplicates = try input.read()
        stats.late = try input.read()
        stats.unknownCheckpoints = try input.read()
        stats.unjoinedInspections = try input.read()
        stats.openAbsences = try input.read()
        stats.watchlistReloads = try input.read()
        stats.watchlistErrors = try input.read()
        stats.alerts = try input.read()
        stats.lateByInput = try input.entries()
        return stats
    }

    private static func checksum(_ bytes: [UInt8], upTo end: Int) -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        return Array(hasher.finalize().prefix(checksumSize))
    }

    private static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
