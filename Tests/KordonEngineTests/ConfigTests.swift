import Testing

@testable import KordonEngine

@Suite struct ConfigTests {
    func problems(_ yaml: String) -> [String] {
        do {
            _ = try Rulebook.parse(yaml: yaml, file: "rules.yaml")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    static let ruleHead = """
        rules:
          - id: capacity.overload
            category: capacity
            severity: low
            kind: window
            on: crossing
            key: checkpoint
            title: "over"
            fire:
              count: {gt: 3}
        """

    @Test func shippedConfigLoads() throws {
        let config = try shippedConfig()
        #expect(config.rulebook.rules.count == 10)
        #expect(config.settings.lateness == EngineSettings.defaultLateness)
        #expect(config.kafka.alertRoutes.first { $0.matches(rule: "integrity.release-anomaly") }?.topic == "border.alerts.integrity")
        #expect(config.kafka.alertRoutes.first { $0.matches(rule: "weapons.undeclared") }?.topic == "border.alerts")
        #expect(config.geography.checkpoints["KZ-PETROPAVL-1"]?.paired == "RU-PETUKHOVO-1")
    }

    @Test func durationErrorNamesFileLineAndField() {
        #expect(problems(Self.ruleHead + "\n    window: 30 days\n") == [
            #"rules.yaml:11: rules[0].window: expected a duration like 30d, got "30 days""#
        ])
    }

    @Test func unknownAndMissingFieldsAreNamed() {
        let yaml = """
            rules:
              - id: x.y
                category: capacity
                severity: urgent
                kind: match
                on: crossing
                key: plate
                titel: "t"
            """
        #expect(problems(yaml) == [
            #"rules.yaml:8: rules[0].titel: unknown field (known: category, enabled, escalate, expect, facts, fire, id, join, key, kind, on, per, severity, suppress, title, when, window, within)"#,
            #"rules.yaml:4: rules[0].severity: expected one of critical, high, medium, low, got "urgent""#,
            #"rules.yaml:2: rules[0].title: missing (required)"#,
        ])
    }

    @Test func conditionErrorsNameTheField() {
        let yaml = """
            rules:
              - id: x.y
                category: narcotics
                severity: high
                kind: match
                on: crossing
                key: plate
                title: "t"
                when:
                  all:
                    - finding.category: narcotic
                    - goods.substance: {in: no-such-list}
                    - crossing.vehicle.measuredWeightKg: {gt: heavy}
            """
        #expect(problems(yaml) == [
            #"rules.yaml:11: rules[0].when.all[0].finding.category: "finding.category" only inside `some: finding` or `none: finding`"#,
            #"rules.yaml:12: rules[0].when.all[1].goods.substance: "goods.substance" only inside `some: goods` or `none: goods`"#,
            #"rules.yaml:13: rules[0].when.all[2].crossing.vehicle.measuredWeightKg.gt: expected a number, got "heavy""#,
        ])
    }

    @Test func yamlSyntaxErrorsHaveALine() {
        let found = problems("rules:\n  - id: [unclosed\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("rules.yaml:3: not valid YAML") == true)
    }

    @Test func geographyPairsMustNameEachOther() {
        let yaml = """
            checkpoints:
              - id: A
                name: A
                country: KZ
                position: {lat: 54, lon: 68}
                paired: B
              - id: B
                name: B
                country: ru
                position: {lat: 95, lon: 68}
            """
        do {
            _ = try Geography.parse(yaml: yaml, file: "geography.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.description) == [
                #"geography.yaml:9: checkpoints[1].country: expected two upper-case letters (ISO 3166-1 alpha-2), got "ru""#,
                "geography.yaml:10: checkpoints[1].position.lat: expected a latitude in -90...90, got 95.0",
                #"geography.yaml:6: checkpoints[0].paired: no checkpoint "B" in this file"#,
            ])
        }
    }

    @Test func durations() {
        let day: Int64 = 86_400_000_000_000
        #expect(parseDuration("30d") == 30 * day)
        #expect(parseDuration("15m") == 900_000_000_000)
        #expect(parseDuration("500ms") == 500_000_000)
        #expect(parseDuration("6h") == 21_600_000_000_000)
        for bad in ["30 days", "d", "-5m", "1.5h", "10", "99999999999999999d"] { #expect(parseDuration(bad) == nil) }
        #expect(formatDuration(21_600_000_000_000) == "6h")
    }
}
