import Foundation
import KordonEvents
import Testing

@testable import KordonEngine

@Suite struct EngineSnapshotTests {
    static let clock: @Sendable () -> Timestamp = { Timestamp(nanosecondsSinceEpoch: 0) }

    /// Every case of every shipped fixture, ids made unique per case and each case moved 36 hours after
    /// the previous one, merged in time order: a stream on which every shipped rule fires and holds state.
    static func fixtureStream() throws -> [Event] {
        var timed: [(event: Event, order: Int)] = []
        var caseNumber = 0
        for file in FixtureTests.files {
            let fixture = try RuleFixture.parse(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
            for testCase in fixture.cases {
                let shift = Int64(caseNumber) * 36 * 3_600_000_000_000
                let prefix = "k\(caseNumber)-"
                for var event in testCase.events {
                    event.id = prefix + event.id
                    event.time.nanosecondsSinceEpoch += shift
                    if case .inspection(var inspection) = event.body {
                        inspection.crossingId = prefix + inspection.crossingId
                        event.body = .inspection(inspection)
                    }
                    timed.append((event, timed.count))
                }
                caseNumber += 1
            }
        }
        return timed.sorted { ($0.event.time, $0.order) < ($1.event.time, $1.order) }.map(\.event)
    }

    /// Feeds the stream over three partitions, marking one idle now and then, as the daemon would;
    /// `cut` runs after every event.
    static func run(_ engine: inout Engine, _ events: [Event], cut: (inout Engine, Int) throws -> Void) rethrows -> [Alert] {
        var alerts: [Alert] = []
        for (offset, event) in events.enumerated() {
            let origin = EventOrigin(topic: "events", partition: Int32(offset % 3), offset: Int64(offset))
            engine.ingest(event, from: origin, into: &alerts)
            if offset % 40 == 39 { engine.markIdle(InputID(topic: "events", partition: 2), into: &alerts) }
            try cut(&engine, offset)
        }
        engine.finish(into: &alerts)
        return alerts
    }

    @Test(arguments: [1, 7, 50])
    func restoringAtEveryCutPointGivesTheUninterruptedAlerts(every interval: Int) throws {
        let config = try shippedConfig()
        let events = try Self.fixtureStream()
        func fresh() -> Engine {
            Engine(rulebook: config.rulebook, geography: config.geography, settings: config.settings, clock: Self.clock)
        }
        var uninterrupted = fresh()
        let expected = Self.run(&uninterrupted, events) { _, _ in }
        #expect(Set(expected.map(\.rule)).count >= 15, "the stream should make most shipped rules fire")

        var interrupted = fresh()
        var restores = 0
        let alerts = try Self.run(&interrupted, events) { engine, offset in
            guard offset % interval == interval - 1 else { return }
            let bytes = engine.snapshot()
            engine = try Engine(
                restoring: bytes, rulebook: config.rulebook, geography: config.geography, settings: config.settings,
                clock: Self.clock)
            // Exact and deterministic: the restored engine encodes to the same bytes.
            #expect(engine.snapshot() == bytes)
            restores += 1
        }
        #expect(restores == events.count / interval)
        #expect(alerts.map(\.json) == expected.map(\.json))
        #expect(interrupted.stats == uninterrupted.stats)
        #expect(interrupted.footprint == uninterrupted.footprint)
    }

    /// A snapshot taken halfway through the fixture stream, with state in every structure.
    static func midStreamSnapshot() throws -> (bytes: [UInt8], config: KordonConfig) {
        let config = try shippedConfig()
        let events = try fixtureStream()
        var engine = Engine(
            rulebook: config.rulebook, geography: config.geography, settings: config.settings, clock: clock)
        var alerts: [Alert] = []
        for (offset, event) in events.prefix(events.count / 2).enumerated() {
            engine.ingest(event, from: EventOrigin(topic: "events", partition: 0, offset: Int64(offset)), into: &alerts)
        }
        return (engine.snapshot(), config)
    }

    static func restore(_ bytes: [UInt8], _ config: KordonConfig) throws(EngineSnapshotError) -> Engine {
        try Engine(restoring: bytes, rulebook: config.rulebook, geography: config.geography, clock: clock)
    }

    static func reason(_ bytes: [UInt8], _ config: KordonConfig) -> EngineSnapshotError.Reason? {
        let result = Result { () throws(EngineSnapshotError) in try restore(bytes, config) }
        guard case .failure(let error) = result else { return nil }
        return error.reason
    }

    @Test func truncatedAndCorruptSnapshotsThrow() throws {
        let (bytes, config) = try Self.midStreamSnapshot()
        #expect(bytes.count > 1000)
        for length in 0..<bytes.count {
            #expect(Self.reason(Array(bytes.prefix(length)), config) == .truncated, "cut to \(length) bytes")
        }
        #expect(Self.reason(bytes + [0], config) == .corrupt("1 bytes after the checksum"))
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(Self.reason(wrongMagic, config) == .badMagic)
        #expect(Self.reason(Array("{\"not\":\"a snapshot\"}".utf8), config) == .badMagic)
        var future = bytes
        future[8] = UInt8(EngineSnapshot.version + 1)
        #expect(Self.reason(future, config) == .unsupportedVersion(EngineSnapshot.version + 1))
        // Any flipped bit past the magic and version: the length no longer matches, or the checksum catches it.
        for position in stride(from: 12, to: bytes.count, by: 7) {
            var flipped = bytes
            flipped[position] ^= 0x10
            #expect(Self.reason(flipped, config) != nil, "bit flipped at \(position)")
        }
        let error = EngineSnapshotError(.corrupt("checksum mismatch"))
        #expect(error.description == "engine snapshot is corrupt: checksum mismatch")
    }

    /// Payloads damaged behind a valid frame and checksum (what a bug, not a disk, would write) are
    /// rejected or read as some state; neither traps.
    @Test func damagedPayloadsWithValidChecksumsNeverTrap() throws {
        let (bytes, config) = try Self.midStreamSnapshot()
        let payload = bytes[EngineSnapshot.headerSize..<(bytes.count - EngineSnapshot.checksumSize)]
        // Room for the header, zeros: the frame is written over it.
        let room = [UInt8](repeating: 0, count: EngineSnapshot.headerSize)
        #expect(EngineSnapshot.seal(framed: room + payload) == bytes)
        #expect(Self.reason(EngineSnapshot.seal(framed: room + payload), config) == nil)
        var rejected = 0
        for length in stride(from: 0, to: payload.count, by: 3) {
            if Self.reason(EngineSnapshot.seal(framed: room + payload.prefix(length)), config) != nil { rejected += 1 }
        }
        #expect(rejected == (payload.count + 2) / 3)
        // A fixed linear congruential sequence, so a failure can be replayed.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for _ in 0..<1000 {
            var damaged = Array(payload)
            for _ in 0...next(4) { damaged[next(damaged.count)] = UInt8(next(256)) }
            _ = Self.reason(EngineSnapshot.seal(framed: room + damaged), config)
        }
    }

    // MARK: - Reconfiguration

    /// A window per plate (A), a window per document (B) and an absence per plate (C).
    static let rulesBefore = """
        rules:
          - id: contraband.structuring
            category: contraband
            severity: medium
            kind: window
            on: crossing
            key: plate
            window: 1d
            title: "Structuring by {key}"
            fire:
              count: {ge: 3}
          - id: documents.repeat
            category: documents
            severity: low
            kind: window
            on: crossing
            key: doc
            window: 1d
            title: "Repeat of {key}"
            fire:
              count: {ge: 2}
          - id: crossing.missing-counterpart
            category: illegal-crossing
            severity: medium
            kind: absence
            on: crossing
            key: plate
            within: 1h
            title: "No entry of {key}"
            when:
              crossing.direction: exit
            expect:
              on: crossing
              when:
                crossing.direction: entry
        """

    /// A new rule first, then C unchanged, A reformatted (its meaning unchanged), and B retitled.
    static let rulesAfter = """
        rules:
          - id: demarcation.new
            category: demarcation
            severity: low
            kind: match
            on: patrol
            key: sector
            title: "new"
          - id: crossing.missing-counterpart
            category: illegal-crossing
            severity: medium
            kind: absence
            on: crossing
            key: plate
            within: 1h
            title: "No entry of {key}"
            when:
              crossing.direction: exit
            expect:
              on: crossing
              when:
                crossing.direction: entry
          - {id: contraband.structuring, kind: window, category: contraband, severity: medium, on: crossing,
             key: plate, window: 24h, fire: {count: {ge: 3}}, title: 'Structuring by {key}'}   # same rule
          - id: documents.repeat
            category: documents
            severity: low
            kind: window
            on: crossing
            key: doc
            window: 1d
            title: "Repeated crossings of {key}"
            fire:
              count: {ge: 2}
        """

    @Test func fingerprintsFollowTheDefinitionNotTheFormatting() throws {
        let before = try Rulebook.parse(yaml: Self.rulesBefore, file: "before.yaml").rules.map(RuleFingerprint.init)
        let again = try Rulebook.parse(yaml: Self.rulesBefore, file: "again.yaml").rules.map(RuleFingerprint.init)
        let after = try Rulebook.parse(yaml: Self.rulesAfter, file: "after.yaml").rules.map(RuleFingerprint.init)
        #expect(before == again)
        #expect(Set(before).count == 3)
        #expect(after[1] == before[2])
        #expect(after[2] == before[0])
        #expect(after[3] != before[1])
        #expect(!before.contains(after[0]))
    }

    @Test func reconfiguringKeepsUnchangedRulesStateAndDropsChangedOnes() throws {
        let before = try Rulebook.parse(yaml: Self.rulesBefore, file: "before.yaml")
        let after = try Rulebook.parse(yaml: Self.rulesAfter, file: "after.yaml")
        // No lateness: each event releases the ones before it.
        let settings = EngineSettings(lateness: 0)
        var engine = Engine(rulebook: before, geography: Geography(), settings: settings, clock: Self.clock)
        var alerts: [Alert] = []
        var offset: Int64 = 0
        func feed(_ events: [Event], _ engine: inout Engine, _ alerts: inout [Alert]) {
            for event in events {
                engine.ingest(event, from: EventOrigin(topic: "t", partition: 0, offset: offset), into: &alerts)
                offset += 1
            }
        }
        feed(
            [
                crossing("e1", minute: 0, plate: "P", doc: "D1"),
                crossing("e2", minute: 1, direction: "entry", plate: "Q", doc: "D9"),
            ], &engine, &alerts)
        #expect(alerts.isEmpty)
        let snapshot = engine.snapshot()
        var reloaded = engine.reconfigured(rulebook: after, geography: Geography(), settings: settings)
        var restored = try Engine(
            restoring: snapshot, rulebook: after, geography: Geography(), settings: settings, clock: Self.clock)
        #expect(reloaded.snapshot() == restored.snapshot())

        let later = [
            crossing("e3", minute: 2, plate: "P", doc: "D1"),
            crossing("e4", minute: 3, plate: "P", doc: "D1"),
            crossing("e5", minute: 120, direction: "entry", plate: "R", doc: "D8"),
        ]
        let start = offset
        feed(later, &reloaded, &alerts)
        reloaded.finish(into: &alerts)
        var restoredAlerts: [Alert] = []
        offset = start
        feed(later, &restored, &restoredAlerts)
        restored.finish(into: &restoredAlerts)
        #expect(restoredAlerts.map(\.json) == alerts.map(\.json))

        func evidence(_ rule: String) -> [[String]] {
            alerts.filter { $0.rule == rule }.map { $0.evidence.map(\.id) }
        }
        // A kept its two entries from before the reload: the third (e4) fires it.
        #expect(evidence("contraband.structuring") == [["e1", "e3", "e4"]])
        // B changed: it forgot e1, so D1 reaches two only with e4.
        #expect(evidence("documents.repeat") == [["e3", "e4"]])
        #expect(alerts.first { $0.rule == "documents.repeat" }?.title == "Repeated crossings of D1")
        // C kept e1's open absence and its deadline, now under another rule index.
        #expect(evidence("crossing.missing-counterpart").first == ["e1"])
    }

    // MARK: - Idle inputs

    @Test func idleInputsStopHoldingTheWatermarkBack() throws {
        var harness = try Harness(rules: EngineTests.matchRule)
        let slow = InputID(topic: "slow", partition: 0)
        harness.engine.register(slow)
        harness.feed([crossing("a", minute: 0, plate: "P1"), crossing("b", minute: 60, plate: "P2")], topic: "fast")
        #expect(harness.alerts.isEmpty)  // "slow" has not spoken: nothing is released
        harness.engine.markIdle(InputID(topic: "unknown", partition: 0), into: &harness.alerts)
        #expect(harness.alerts.isEmpty)

        harness.engine.markIdle(slow, into: &harness.alerts)
        #expect(harness.engine.watermark == at(minutes: 50).nanosecondsSinceEpoch)
        #expect(harness.alerts.map(\.key.value) == ["P1"])

        // Idleness survives a snapshot; the idle input's next event behind the watermark is late.
        harness.engine = try Engine(
            restoring: harness.engine.snapshot(), rulebook: harness.engine.rulebook, geography: Geography(),
            clock: Self.clock)
        harness.feed([crossing("c", minute: 30, plate: "P3")], topic: "slow")
        #expect(harness.admissions.last == .late(watermark: at(minutes: 50)))
        #expect(harness.engine.stats.lateByInput[slow] == 1)

        // Its next event makes it active again: it holds the watermark back once more.
        harness.feed([crossing("d", minute: 55, plate: "P4")], topic: "slow")
        harness.feed([crossing("e", minute: 120, plate: "P5")], topic: "fast")
        #expect(harness.admissions.suffix(2) == [.accepted, .accepted])
        #expect(harness.engine.watermark == at(minutes: 50).nanosecondsSinceEpoch)
        #expect(harness.alerts.map(\.key.value) == ["P1"])

        // With every input idle, the newest event time alone bounds the watermark.
        harness.engine.markIdle(InputID(topic: "fast", partition: 0), into: &harness.alerts)
        #expect(harness.engine.watermark == at(minutes: 50).nanosecondsSinceEpoch)
        harness.engine.markIdle(slow, into: &harness.alerts)
        #expect(harness.engine.watermark == at(minutes: 110).nanosecondsSinceEpoch)
        #expect(harness.alerts.map(\.key.value) == ["P1", "P4", "P2"])
    }
}
