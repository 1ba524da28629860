import Foundation
import KordonEngine
import KordonEvents
import KordonSimulator
import Testing

/// The simulated week through the real engine, as `kordon replay` runs a file, scored against its labels.
@Suite struct ReplayScoreTests {
    @Test func theRulebookDetectsEveryPlantedIncidentAndLittleElse() {
        var engine = Engine(rulebook: shippedConfig.rulebook, geography: shippedConfig.geography, settings: shippedConfig.settings) {
            Timestamp(nanosecondsSinceEpoch: 0)
        }
        let input = InputID(topic: "simulated.jsonl", partition: 0)
        engine.register(input)
        let decoder = EventDecoder()
        var alerts: [Alert] = []
        var redeliveries = 0
        for (offset, (emitted, line)) in faultyWeek.lines.enumerated() {
            if emitted == .duplicate { redeliveries += 1 }
            guard case .success(let event) = decoder.decode(Array(line.dropLast())) else { continue }
            engine.ingest(event, from: EventOrigin(topic: input.topic, partition: 0, offset: Int64(offset)), into: &alerts)
        }
        engine.finish(into: &alerts)
        // Out-of-order and redelivered events stay within the allowed lateness.
        #expect(engine.stats.late == 0)
        #expect(engine.stats.duplicates == redeliveries)
        #expect(engine.stats.unjoinedInspections == 0)

        let score = Score(
            truth: faultyWeek.labels,
            alerts: alerts.map {
                ScoredAlert(rule: $0.rule, keyType: $0.key.type.rawValue, keyValue: $0.key.value, time: $0.time, evidence: $0.evidence.map(\.id))
            })
        for rule in Planters.rules {
            #expect(score.rules.first { $0.rule == rule }?.incidents ?? 0 > 0, "no complete incident of \(rule)")
        }
        for rule in score.rules {
            if let recall = rule.recall { #expect(recall == 1.0, "\(rule.rule): \(rule)") }
            if let precision = rule.precision { #expect(precision >= 0.95, "\(rule.rule): \(rule)") }
        }
        #expect(score.failures(minRecall: 1.0, minPrecision: 0.95).isEmpty, "\(score.table)")
    }
}
