import Foundation
import KordonEngine
import KordonEvents
import KordonSimulator

/// The repository's config, loaded once: the simulator must agree with the shipped rulebook and geography.
let shippedConfig: KordonConfig = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    do {
        return try KordonConfig.load(file: root.appendingPathComponent("config/kordon.yaml").path)
    } catch {
        fatalError("config/kordon.yaml does not load: \(error)")
    }
}()

struct Stream {
    var lines: [(emitted: Emitted, bytes: [UInt8])] = []
    var labels: [Label] = []

    var bytes: [UInt8] { lines.flatMap(\.bytes) }
}

/// Runs a simulator to its end, keeping each message apart.
func simulate(rulebook: Rulebook = shippedConfig.rulebook, _ configure: (inout SimulationOptions) -> Void) -> Stream {
    var options = SimulationOptions()
    options.lateness = shippedConfig.settings.lateness
    configure(&options)
    var simulator = Simulator(options: options, geography: shippedConfig.geography, rulebook: rulebook)
    var stream = Stream()
    var buffer: [UInt8] = []
    while let message = simulator.next(into: &buffer) {
        stream.lines.append((message.emitted, buffer))
        buffer.removeAll(keepingCapacity: true)
        stream.labels += simulator.takeLabels()
    }
    return stream
}

/// A small stream of five days with every kind of delivery fault: long enough for the multi-day
/// patterns (structuring, repeated arms movement) to complete, light enough to replay in seconds.
/// It ends the Caspian zone's closed season (to 06-30), so poaching is planted both in and out of it.
let faultyWeek: Stream = simulate(faultyWeekOptions)

func faultyWeekOptions(_ options: inout SimulationOptions) {
    options.seed = 2026
    options.start = Timestamp(rfc3339: "2027-06-27T00:00:00Z")!
    options.duration = 5 * 86_400 * nanosPerSecond
    options.trafficScale = 0.15
    options.incidentsPerDay = 40
    options.nearMissesPerDay = 40
    options.lateFraction = 0.05
    options.duplicateFraction = 0.03
    options.invalidFraction = 0.02
}

/// The shipped rulebook with each `(original, edited)` text replaced; each original must occur once.
func editedRulebook(_ edits: [(String, String)]) throws -> Rulebook {
    let file = shippedConfig.rulesFile
    var text = try String(contentsOfFile: file, encoding: .utf8)
    for (original, edited) in edits {
        precondition(text.components(separatedBy: original).count == 2, "not exactly once in \(file): \(original)")
        text = text.replacingOccurrences(of: original, with: edited)
    }
    return try Rulebook.parse(yaml: text, file: file)
}

/// Scores alerts against a stream's labels.
func score(_ stream: Stream, _ alerts: [Alert]) -> Score {
    Score(
        truth: stream.labels,
        alerts: alerts.map {
            ScoredAlert(rule: $0.rule, keyType: $0.key.type.rawValue, keyValue: $0.key.value, time: $0.time, evidence: $0.evidence.map(\.id))
        })
}

/// Runs a stream through the real engine, as `kordon replay` runs a file; returns its alerts and the engine.
func replay(_ stream: Stream, rulebook: Rulebook = shippedConfig.rulebook) -> (alerts: [Alert], engine: Engine) {
    var engine = Engine(rulebook: rulebook, geography: shippedConfig.geography, settings: shippedConfig.settings) {
        Timestamp(nanosecondsSinceEpoch: 0)
    }
    let input = InputID(topic: "simulated.jsonl", partition: 0)
    engine.register(input)
    let decoder = EventDecoder()
    var alerts: [Alert] = []
    for (offset, (_, line)) in stream.lines.enumerated() {
        guard case .success(let event) = decoder.decode(Array(line.dropLast())) else { continue }
        engine.ingest(event, from: EventOrigin(topic: input.topic, partition: 0, offset: Int64(offset)), into: &alerts)
    }
    engine.finish(into: &alerts)
    return (alerts, engine)
}
