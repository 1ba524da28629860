import Foundation
import Testing

@testable import KordonEngine

/// The shipped rule fixtures (config/fixtures), as `kordon test-rules` runs them.
@Suite struct FixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/fixtures")

    static var files: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "yaml" }.sorted { $0.path < $1.path }
    }

    @Test func everyShippedRuleHasAFiringCaseAndANearMiss() throws {
        let config = try shippedConfig()
        var covered: Set<String> = []
        for file in Self.files {
            let fixture = try RuleFixture.parse(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
            #expect(fixture.cases.contains { !$0.expect.isEmpty }, "\(file.lastPathComponent) has no firing case")
            #expect(fixture.cases.contains { $0.expect.isEmpty }, "\(file.lastPathComponent) has no near miss")
            covered.insert(fixture.rule)
        }
        #expect(covered == Set(config.rulebook.rules.map(\.id)))
    }

    @Test(arguments: files)
    func fixturePasses(_ file: URL) throws {
        let config = try shippedConfig()
        let fixture = try RuleFixture.parse(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
        let failures = fixture.run(rulebook: config.rulebook, geography: config.geography, settings: config.settings)
        #expect(failures == [])
    }

    @Test func mismatchesAreReportedWithTheCaseLine() throws {
        let config = try shippedConfig()
        let yaml = """
            rule: contraband.weight-mismatch
            cases:
              - name: wrong expectations
                events: |
                  {"v":1,"id":"c1","kind":"crossing","time":"2026-11-28T01:00:00Z","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","vehicle":{"plate":"A","declaredWeightKg":10000,"measuredWeightKg":12000}}
                expect:
                  - key: {type: plate, value: B}
                    severity: high
                    facts: {differenceKg: 2001}
            """
        let fixture = try RuleFixture.parse(yaml: yaml, file: "f.yaml")
        #expect(fixture.run(rulebook: config.rulebook, geography: config.geography, settings: config.settings) == [
            "f.yaml:3: wrong expectations: alert 1: key: expected plate B, got plate A",
            "f.yaml:3: wrong expectations: alert 1: severity: expected high, got medium",
            "f.yaml:3: wrong expectations: alert 1: facts.differenceKg: expected 2001, got 2000",
        ])
    }
}
