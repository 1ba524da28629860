import KordonEvents
import KordonSimulator
import Testing

@Suite struct ScoreTests {
    let t0 = Timestamp(rfc3339: "2026-12-01T10:00:00Z")!

    func label(_ incident: String, _ rule: String, fire: Bool = true, key: String, events: [String], minutes: Int64 = 30) -> Label {
        Label(
            incident: incident, rule: rule, fire: fire, keyType: "plate", keyValue: key, variant: "test", from: t0,
            until: Timestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + minutes * 60 * nanosPerSecond), events: events)
    }

    func alert(_ rule: String, key: String, minutes: Int64, evidence: [String] = []) -> ScoredAlert {
        ScoredAlert(
            rule: rule, keyType: "plate", keyValue: key,
            time: Timestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + minutes * 60 * nanosPerSecond), evidence: evidence)
    }

    @Test func alertsMatchByRuleKeyAndEvidenceOrTime() {
        let truth = [
            label("i1", "r", key: "A", events: ["e1", "e2"]),
            label("i2", "r", key: "B", events: ["e3"]),
            label("i3", "r", fire: false, key: "C", events: ["e4"]),
            label("i4", "s", key: "A", events: ["e5"]),
        ]
        let alerts = [
            alert("r", key: "A", minutes: 500, evidence: ["e2"]),  // evidence overlap, outside the time span
            alert("r", key: "A", minutes: 10),  // the same incident again: a repeat
            alert("r", key: "B", minutes: 600),  // right key, neither evidence nor time: false
            alert("r", key: "C", minutes: 5, evidence: ["e4"]),  // a near miss fired: false
            alert("r", key: "D", minutes: 5),  // nothing planted: false
            alert("s", key: "B", minutes: 5, evidence: ["e5"]),  // right evidence, wrong key: false
        ]
        let score = Score(truth: truth, alerts: alerts)
        let r = score.rules.first { $0.rule == "r" }!
        #expect(r.incidents == 2 && r.detected == 1 && r.missed == 1 && r.repeats == 1)
        #expect(r.falseAlerts == 3 && r.nearMissAlerts == 1 && r.nearMisses == 1)
        #expect(r.recall == 0.5 && r.precision == 0.25)
        let s = score.rules.first { $0.rule == "s" }!
        #expect(s.detected == 0 && s.missed == 1 && s.falseAlerts == 1 && s.precision == 0)
        #expect(score.total.incidents == 3 && score.total.detected == 1 && score.total.falseAlerts == 4)
    }

    @Test func eachAlertDetectsAtMostOneIncident() {
        let truth = [label("i1", "r", key: "A", events: ["e1"]), label("i2", "r", key: "A", events: ["e2"])]
        let one = Score(truth: truth, alerts: [alert("r", key: "A", minutes: 1)])
        #expect(one.rules[0].detected == 1 && one.rules[0].missed == 1)
        let two = Score(truth: truth, alerts: [alert("r", key: "A", minutes: 1), alert("r", key: "A", minutes: 2)])
        #expect(two.rules[0].detected == 2 && two.rules[0].repeats == 0)
    }

    @Test func thresholdsNameEachRuleBelowThem() {
        let truth = [label("i1", "r", key: "A", events: ["e1"]), label("i2", "q", key: "B", events: ["e2"])]
        let score = Score(truth: truth, alerts: [alert("r", key: "A", minutes: 1), alert("r", key: "Z", minutes: 1)])
        #expect(score.failures(minRecall: nil, minPrecision: nil).isEmpty)
        #expect(
            score.failures(minRecall: 1.0, minPrecision: 0.95) == [
                "q: recall 0.000 < 1.000", "r: precision 0.500 < 0.950", "total: recall 0.500 < 1.000",
                "total: precision 0.500 < 0.950",
            ])
        #expect(score.table.contains("total"))
    }

    @Test func alertLinesParseFromTheAlertContract() throws {
        let line = #"{"v":1,"id":"x","rule":"r","category":"c","severity":"low","title":"t","time":"2026-12-01T10:05:00Z","emittedAt":"2026-12-01T10:05:00Z","key":{"type":"plate","value":"A"},"location":{},"evidence":[{"id":"e1","kind":"crossing","time":"2026-12-01T10:05:00Z","topic":"t","partition":0,"offset":1}],"evidenceTotal":1,"facts":{},"suppressed":0}"#
        #expect(try ScoredAlert(jsonLine: line) == alert("r", key: "A", minutes: 5, evidence: ["e1"]))
        #expect(throws: ScoreInputError.self) { try ScoredAlert(jsonLine: "{}") }
    }
}
