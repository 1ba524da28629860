import Foundation
import KordonEngine
import KordonEvents
import KordonSimulator
import Testing

/// The simulated week through the real engine, as `kordon replay` runs a file, scored against its labels.
@Suite struct ReplayScoreTests {
    @Test func theRulebookDetectsEveryPlantedIncidentAndLittleElse() {
        let (alerts, engine) = replay(faultyWeek)
        let redeliveries = faultyWeek.lines.filter { $0.emitted == .duplicate }.count
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

    /// Patrols, sensors, vessels and crossings alone (mostly animals, noise, low confidence, people
    /// by the checkpoints, liners in transit, an officer rotation that forms no pattern) raise nothing.
    @Test func backgroundTrafficAloneRaisesNoAlert() {
        let background = simulate { options in
            options.seed = 7
            options.start = Timestamp(rfc3339: "2027-05-10T00:00:00Z")!  // in the Caspian closed season
            options.duration = 3 * 86_400 * nanosPerSecond
            options.trafficScale = 0.4
            options.incidentsPerDay = 0
            options.nearMissesPerDay = 0
        }
        let alerts = replay(background).alerts
        #expect(background.lines.count > 10_000)
        #expect(alerts.isEmpty, "\(alerts.prefix(5).map { "\($0.rule) \($0.key.value)" })")
    }
}
