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
        #expect(Set(config.rulebook.rules.map(\.id)).count == 18)
        #expect(config.settings.lateness == EngineSettings.defaultLateness)
        #expect(config.topics(rule: "integrity.release-anomaly", category: "integrity", severity: .high) == ["border.alerts.integrity"])
        #expect(config.topics(rule: "weapons.undeclared", category: "weapons", severity: .critical) == ["border.alerts"])
        #expect(config.daemon.alertLog == "/var/log/kordon/alerts.jsonl")
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
            #"rules.yaml:8: rules[0].titel: unknown field (known: category, enabled, escalate, expect, facts, fire, followedBy, forEach, id, join, key, kind, on, parts, per, severity, speed, suppress, title, when, window, within)"#,
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

    @Test func newSchemaErrorsNameTheField() {
        let yaml = """
            rules:
              - id: x.y
                category: documents
                severity: high
                kind: match
                on: crossing
                key: [{doc: person.doc}, zone]
                title: "t"
                when:
                  all:
                    - crossing.vehicle.plate: {watchlist: nope}
                    - crossing.checkpoint: {watchlist: nope}
                    - position.borderZone: {exists: true}
              - id: x.z
                category: trafficking
                severity: high
                kind: match
                parts:
                  - kind: velocity
                    on: crossing
                    key: doc
                    title: "t"
                    within: 1d
                    speed: {above: 200}
            """
        #expect(problems(yaml) == [
            #"rules.yaml:11: rules[0].when.all[0].crossing.vehicle.plate.watchlist: no watchlist named "nope" under `watchlists:` (known: )"#,
            #"rules.yaml:12: rules[0].when.all[1].crossing.checkpoint.watchlist: `watchlist` looks up plates and docs; "crossing.checkpoint" is neither"#,
            #"rules.yaml:13: rules[0].when.all[2].position.borderZone: "position.borderZone" needs a position: use it on patrol, sensor or vessel rules"#,
            #"rules.yaml:7: rules[0].key[0].doc: "person.doc" only inside `some: person` or `none: person`"#,
            #"rules.yaml:17: rules[1].kind: with `parts`, this belongs in each part"#,
            #"rules.yaml:24: rules[1].parts[0].speed.above: unknown field (known: ge, gt)"#,
            #"rules.yaml:24: rules[1].parts[0].speed: expected exactly one of gt, ge"#,
        ])
    }

    @Test func zoneErrorsNameTheField() {
        let yaml = """
            checkpoints: []
            zones:
              - id: Z
                type: border
                polygon: [[50, 60], [51, 60]]
                closedSeasons: [{from: 04-01, to: 06-31}]
              - id: F
                type: fishing
                polygon: [[50, 60], [51, 60], [51, 200]]
                closedSeasons: [{from: 4-1, to: 06-30}]
            """
        do {
            _ = try Geography.parse(yaml: yaml, file: "geography.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.description) == [
                "geography.yaml:5: zones[0].polygon: expected at least 3 corners [lat, lon], got 2",
                #"geography.yaml:6: zones[0].closedSeasons[0].to: expected a day of the year like 04-01 (MM-DD), got "06-31""#,
                "geography.yaml:6: zones[0].closedSeasons: closed seasons are for zones of type fishing",
                "geography.yaml:9: zones[1].polygon[2][1]: expected a longitude in -180...180, got 200.0",
                #"geography.yaml:10: zones[1].closedSeasons[0].from: expected a day of the year like 04-01 (MM-DD), got "4-1""#,
            ])
        }
    }

    @Test func durations() {
        let day: Int64 = 86_400_000_000_000
        #expect(parseDuration("30d") == 30 * day)
        #expect(parseDuration("15m") == 900_000_000_000)
        #expect(parseDuration("500ms") == 500_000_000)
        #expect(parseDuration("6h") == 21_600_000_000_000)
        #expect(parseDuration("1w") == 7 * day)
        for bad in ["30 days", "d", "-5m", "1.5h", "10", "99999999999999999d"] { #expect(parseDuration(bad) == nil) }
        #expect(formatDuration(21_600_000_000_000) == "6h")
    }
}
