import ArgumentParser
import Foundation
import KordonEngine

/// `kordon test-rules FIXTURE... [--config FILE]`: declarative rule tests.
struct TestRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-rules",
        abstract: "Run declarative rule tests: YAML files of events and the alerts expected.",
        discussion: """
            Each fixture names one rule and lists cases: JSON-lines events and the alerts of that rule \
            expected (key, severity, title and any facts named), or none for a near miss. Cases run \
            against the rulebook and geography of the config. Prints one line per failure and a \
            summary; exits 1 when any case fails, 2 when a fixture or the config is invalid.
            """)

    @Argument(help: "Fixture files (YAML).")
    var fixtures: [String]

    @OptionGroup var config: ConfigOption

    func run() throws {
        let loaded = try config.load()
        var cases = 0
        var failures = 0
        var invalid = false
        for file in fixtures {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
            else {
                print("\(file): cannot read the file")
                invalid = true
                continue
            }
            do {
                let fixture = try RuleFixture.parse(yaml: text, file: file)
                let problems = fixture.run(
                    rulebook: loaded.rulebook, geography: loaded.geography, settings: loaded.settings)
                cases += fixture.cases.count
                failures += problems.count
                for problem in problems { print("FAIL \(problem)") }
            } catch {
                for problem in error.errors { print(problem) }
                invalid = true
            }
        }
        print("\(fixtures.count) fixtures, \(cases) cases, \(failures) failures")
        if invalid { throw ExitCode(2) }
        if failures > 0 { throw ExitCode.failure }
    }
}
