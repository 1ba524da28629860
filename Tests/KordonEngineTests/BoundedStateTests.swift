import KordonEvents
import Testing

@testable import KordonEngine

@Suite struct BoundedStateTests {
    /// Rules holding state per key of each kind the engine keeps: sightings, windows, absences.
    static let rules = """
        rules:
          - id: documents.impossible-travel
            category: documents
            severity: high
            kind: velocity
            on: crossing
            forEach: person
            key: {doc: person.doc}
            title: "Impossible travel of {key}"
            within: 2d
            speed: {gt: 200}
          - id: contraband.structuring
            category: contraband
            severity: medium
            kind: window
            on: crossing
            key: plate
            window: 7d
            title: "Structuring by {key}"
            fire:
              count: {ge: 4}
          - id: crossing.missing-counterpart
            category: illegal-crossing
            severity: medium
            kind: absence
            on: crossing
            key: plate
            within: 6h
            title: "No entry of {key}"
            when:
              crossing.direction: exit
            expect:
              on: crossing
              when:
                crossing.direction: entry
        """

    /// A million distinct keys (documents, and plates besides): the state grows with them
    /// while they are live, and returns to nothing once the longest horizon has passed.
    /// Twenty persons per crossing keep the test fast: one event, twenty keys.
    @Test func millionDistinctKeysAreFreed() throws {
        let config = try shippedConfig()
        let rulebook = try Rulebook.parse(yaml: Self.rules, file: "rules.yaml")
        var engine = Engine(rulebook: rulebook, geography: config.geography) { Timestamp(nanosecondsSinceEpoch: 0) }
        let crossings = 50_000
        let checkpoints = ["KZ-PETROPAVL-1", "RU-PETUKHOVO-1", "KZ-KARAKOGA-1", "RU-ISILKUL-1"]
        var alerts: [Alert] = []
        var offset: Int64 = 0
        func feed(_ event: Event) {
            engine.ingest(event, from: EventOrigin(topic: "keys", partition: 0, offset: offset), into: &alerts)
            offset += 1
            // Alerts are not what this test is about; keep their memory out of it.
            alerts.removeAll(keepingCapacity: true)
        }
        for index in 0..<crossings {
            let persons = (0..<20).map { seat in Person(doc: "D\(index * 20 + seat)", role: seat == 0 ? .driver : .passenger) }
            let crossing = Crossing(
                checkpoint: checkpoints[index % checkpoints.count], country: index % 2 == 0 ? "KZ" : "RU",
                direction: .exit, persons: persons, vehicle: Vehicle(plate: "P\(index)", type: .car),
                officer: "o-\(index % 100)")
            // A crossing every 100 ms: all of them within the 6 h absence deadline and every window.
            feed(Event(id: "c-\(index)", time: at(minutes: Double(index) / 600), body: .crossing(crossing)))
        }
        let live = engine.footprint
        // Every crossing but the last 10 minutes' (the lateness) is processed, and its keys are live.
        let processed = crossings - live.bufferedEvents
        #expect(processed > 40_000)
        #expect(live.sightings == 20 * processed)
        #expect(live.windowKeys == processed)
        #expect(live.openAbsences == processed)

        // One event past the longest horizon moves the watermark beyond it all.
        let past = rulebook.rules.reduce(EngineSettings.defaultLateness) { max($0, $1.horizon) } + 3_600_000_000_000
        let tick = Crossing(checkpoint: checkpoints[0], country: "KZ", direction: .entry, persons: [Person(doc: "T")])
        feed(
            Event(
                id: "tick", time: Timestamp(nanosecondsSinceEpoch: base.nanosecondsSinceEpoch + 2 * past),
                body: .crossing(tick)))
        let footprint = engine.footprint
        // Only the tick itself is left: buffered behind the lateness, and its id remembered.
        #expect(footprint.bufferedEvents == 1)
        #expect(footprint.rememberedIds <= 1)
        #expect(footprint.timers == 0)
        #expect(footprint.storedCrossings == 0)
        #expect(footprint.windowKeys == 0)
        #expect(footprint.windowEntries == 0)
        #expect(footprint.openAbsences == 0)
        #expect(footprint.sightings == 0)
        #expect(footprint.pendingTriggers == 0)
        #expect(footprint.suppressionKeys == 0)
    }
}
