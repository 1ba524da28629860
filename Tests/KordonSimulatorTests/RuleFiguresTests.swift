import Foundation
import KordonEngine
import KordonEvents
import Testing

@testable import KordonSimulator

/// Planted incidents and near misses follow the rulebook the simulator is given.
@Suite struct RuleFiguresTests {
    @Test func theShippedRulebooksFiguresAreRead() throws {
        let figures = RuleFigures.read(shippedConfig.rulebook)
        typealias Limit = RuleFigures.Limit
        #expect(Set(figures.keys) == Set(shippedConfig.rulebook.rules.map(\.id)))

        let structuring = try #require(figures["contraband.structuring"])
        #expect(structuring.window == 7 * day)
        #expect(structuring.count == Limit(operand: .number(4), strict: false) && structuring.count?.least == 4)
        #expect(structuring.sum == Limit(operand: .number(3000), strict: false))
        #expect(structuring.upperBound("crossing.goods.valueUsd") == Limit(operand: .number(1000), strict: true))

        let arms = try #require(figures["weapons.repeat-movement"])
        #expect(arms.window == 30 * day && arms.distinct?.least == 3 && arms.count == nil)

        let weight = try #require(figures["contraband.weight-mismatch"])
        #expect(weight.lowerBound("crossing.vehicle.weightDifferencePercent") == Limit(operand: .number(5), strict: true))
        #expect(weight.lowerBound("crossing.vehicle.weightDifferenceKg") == Limit(operand: .number(500), strict: true))

        #expect(figures["crossing.missing-counterpart"]?.within == 6 * hour)
        // `parts`: the first part's figure.
        #expect(figures["trafficking.indicators"]?.lowerBound("crossing.docsHeld.max")?.least == 3)

        let release = try #require(figures["integrity.release-anomaly"])
        #expect(release.window == 30 * day && release.count?.least == 3 && release.within == 24 * hour)

        let travel = try #require(figures["documents.impossible-travel"])
        #expect(travel.speed == Limit(operand: .number(200), strict: true) && travel.within == 2 * day)

        let capacity = try #require(figures["capacity.overload"]?.count)
        #expect(capacity == Limit(operand: .field("crossing.capacity"), strict: true))
        #expect(capacity.most(capacity: 40) == 40)
        #expect(Limit(operand: .field("crossing.capacity"), strict: false).most(capacity: 40) == 39)
        #expect(Limit(operand: .number(2.5), strict: true).least == 3)
    }

    @Test func aDisabledRuleIsNotPlanted() throws {
        let rulebook = try editedRulebook([("  - id: contraband.structuring\n", "  - id: contraband.structuring\n    enabled: false\n")])
        let stream = simulate(rulebook: rulebook) { options in
            options.duration = 3 * 86_400 * nanosPerSecond
            options.trafficScale = 0
            options.mix = ["contraband.structuring": 1, "narcotics.seizure": 1]
        }
        #expect(!stream.labels.isEmpty && stream.labels.allSatisfy { $0.rule == "narcotics.seizure" })
    }

    /// Thresholds edited in the rulebook move the planted incidents and near misses with them: the
    /// edited rules still find every incident and little else, and the shipped stream no longer
    /// passes under them.
    @Test func editedThresholdsArePlantedAndDetected() throws {
        let edits: [(rule: String, original: String, edited: String)] = [
            ("contraband.structuring", "count: {ge: 4}", "count: {ge: 5}"),
            ("contraband.structuring", "sum: {of: crossing.goods.valueUsd, ge: 3000}", "sum: {of: crossing.goods.valueUsd, ge: 4000}"),
            ("documents.impossible-travel", "speed: {gt: 200}", "speed: {gt: 120}"),
            ("crossing.missing-counterpart", "within: 6h", "within: 4h"),
            ("weapons.repeat-movement", "distinct: {of: crossing.id, ge: 3}", "distinct: {of: crossing.id, ge: 4}"),
            ("trafficking.indicators", "crossing.docsHeld.max: {ge: 3}", "crossing.docsHeld.max: {ge: 4}"),
            ("contraband.weight-mismatch", "weightDifferencePercent: {gt: 5}", "weightDifferencePercent: {gt: 3}"),
            ("contraband.weight-mismatch", "weightDifferenceKg: {gt: 500}", "weightDifferenceKg: {gt: 800}"),
            ("capacity.overload", "count: {gt: crossing.capacity}", "count: {ge: crossing.capacity}"),
            (
                "integrity.release-anomaly", "- finding.declared: {ne: true}\n    fire:\n      count: {ge: 3}",
                "- finding.declared: {ne: true}\n    fire:\n      count: {ge: 4}"
            ),
        ]
        let rulebook = try editedRulebook(edits.map { ($0.original, $0.edited) })
        let stream = simulate(rulebook: rulebook, faultyWeekOptions)
        let result = score(stream, replay(stream, rulebook: rulebook).alerts)
        for rule in Set(edits.map(\.rule)).sorted() {
            let scored = try #require(result.rules.first { $0.rule == rule }, "\(rule) not planted")
            #expect(scored.incidents > 0 && scored.nearMisses > 0, "\(rule): \(scored)")
            #expect(scored.recall == 1.0, "\(rule): \(scored)")
            #expect((scored.precision ?? 0) >= 0.95, "\(rule): \(scored)")
        }
        #expect(result.failures(minRecall: 1.0, minPrecision: 0.95).isEmpty, "\(result.table)")
        let variants = Set(stream.labels.map(\.variant))
        for variant in [
            "five-trips-under-duty-free", "four-trips-under-duty-free", "four-trips-with-arms", "three-trips-with-arms",
            "holds-three-adults-documents", "four-releases-found", "over-3-percent",
        ] {
            #expect(variants.contains(variant), "no \(variant) among \(variants.sorted())")
        }

        // The stream planted for the shipped figures misses some of the edited rules' thresholds.
        let shipped = score(faultyWeek, replay(faultyWeek, rulebook: rulebook).alerts)
        for rule in ["contraband.structuring", "weapons.repeat-movement", "trafficking.indicators"] {
            #expect((shipped.rules.first { $0.rule == rule }?.recall ?? 1) < 1, "\(rule)")
        }
    }
}
