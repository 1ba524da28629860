import Foundation
import KordonEvents
import Testing

@testable import KordonEngine

/// 2026-11-28T00:00:00Z; test events are placed in minutes after it.
let base = Timestamp(rfc3339: "2026-11-28T00:00:00Z")!

func at(minutes: Double) -> Timestamp {
    Timestamp(nanosecondsSinceEpoch: base.nanosecondsSinceEpoch + Int64(minutes * 60e9))
}

/// Decodes one event from JSON, failing the test (and crashing: a fixture bug) when it is invalid.
func event(_ json: String) -> Event {
    switch EventDecoder().decode(json) {
    case .success(let event): return event
    case .failure(let rejection): fatalError("invalid test event \(json): \(rejection)")
    }
}

/// A crossing; `extra` is raw JSON members appended to the object.
func crossing(
    _ id: String, minute: Double, checkpoint: String = "KZ-PETROPAVL-1", direction: String = "exit",
    plate: String? = "123ABC15", doc: String = "N0448812", role: String = "driver", extra: String = ""
) -> Event {
    let vehicle = plate.map { #","vehicle":{"plate":"\#($0)","type":"truck"}"# } ?? ""
    return event(
        #"{"v":1,"id":"\#(id)","kind":"crossing","time":"\#(at(minutes: minute).rfc3339)","checkpoint":"\#(checkpoint)","country":"KZ","direction":"\#(direction)","persons":[{"doc":"\#(doc)","role":"\#(role)"}]\#(vehicle)\#(extra)}"#
    )
}

/// An inspection of `crossingId`; `findings` is the raw JSON array.
func inspection(_ id: String, minute: Double, of crossingId: String, findings: String, checkpoint: String = "KZ-PETROPAVL-1")
    -> Event
{
    event(
        #"{"v":1,"id":"\#(id)","kind":"inspection","time":"\#(at(minutes: minute).rfc3339)","crossingId":"\#(crossingId)","checkpoint":"\#(checkpoint)","method":"xray","findings":\#(findings)}"#
    )
}

/// The shipped config (config/kordon.yaml in the repository).
func shippedConfig() throws -> KordonConfig {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return try KordonConfig.load(file: root.appendingPathComponent("config/kordon.yaml").path)
}

/// Feeds events to an engine as one input, offsets in order, with a fixed emission time.
struct Harness {
    var engine: Engine
    var alerts: [Alert] = []
    var admissions: [Admission] = []
    private var offset: Int64 = 0

    init(rulebook: Rulebook, geography: Geography = Geography(), settings: EngineSettings = EngineSettings()) {
        engine = Engine(rulebook: rulebook, geography: geography, settings: settings) {
            Timestamp(nanosecondsSinceEpoch: 0)
        }
    }

    init(config: KordonConfig) {
        self.init(rulebook: config.rulebook, geography: config.geography, settings: config.settings)
    }

    init(rules yaml: String, geography: Geography = Geography()) throws {
        try self.init(rulebook: Rulebook.parse(yaml: yaml, file: "rules.yaml"), geography: geography)
    }

    mutating func feed(_ events: [Event], topic: String = "test") {
        for event in events {
            admissions.append(
                engine.ingest(event, from: EventOrigin(topic: topic, partition: 0, offset: offset), into: &alerts))
            offset += 1
        }
    }

    /// Feeds events with their own origins, as a reordered redelivery would carry them.
    mutating func feed(_ items: [(event: Event, origin: EventOrigin)]) {
        for item in items {
            admissions.append(engine.ingest(item.event, from: item.origin, into: &alerts))
        }
    }

    mutating func finish() {
        engine.finish(into: &alerts)
    }

    func alerts(of rule: String) -> [Alert] { alerts.filter { $0.rule == rule } }
}

/// Runs `config`'s rulebook over `events` to the end and returns the alerts of `rule`.
func alerts(of rule: String, from events: [Event], config: KordonConfig) -> [Alert] {
    var harness = Harness(config: config)
    harness.feed(events)
    harness.finish()
    return harness.alerts(of: rule)
}
