import Foundation
import KordonTestSupport
import Testing

/// `make run`: the shipped demo config, embedded cluster and simulator, as a new user first sees it.
@Suite struct DemoTests {
    /// Alerts reach the log, and stopping is quiet: no client outlives the embedded cluster to log
    /// its brokers' disappearance as errors, and the role is released, not reported taken by another.
    @Test func demoAlertsThenStopsCleanly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The shipped demo, with its files and state here and no metrics port to collide on.
        let shipped = try String(contentsOfFile: repositoryRoot.appendingPathComponent("config/demo.yaml").path, encoding: .utf8)
        let config = repositoryRoot.appendingPathComponent("config").path
        let yaml = shipped.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
            switch true {
            case line.hasPrefix("rules:"): "rules: \(config)/rules.yaml"
            case line.hasPrefix("geography:"): "geography: \(config)/geography.yaml"
            case line.hasPrefix("  stateDirectory:"): "  stateDirectory: \(directory)/state"
            case line.hasPrefix("  alertLog:"): "  alertLog: \(directory)/alerts.jsonl"
            case line.hasPrefix("  metricsListen:"): nil
            default: String(line)
            }
        }.joined(separator: "\n")
        #expect(yaml.contains("embedded: true"))
        try yaml.write(toFile: directory + "/demo.yaml", atomically: true, encoding: .utf8)

        let stderr = directory + "/daemon.log"
        let daemon = try ChildProcess(
            productsDirectory.appendingPathComponent("kordon").path, ["run", "--config", directory + "/demo.yaml"],
            stderr: stderr)
        let alerted = try await waitFor(timeout: .seconds(90)) {
            ((try? String(contentsOfFile: directory + "/alerts.jsonl", encoding: .utf8)) ?? "").contains("\n")
        }
        #expect(alerted)
        #expect(daemon.terminate(signal: SIGTERM, timeout: .seconds(30)) == 0)
        let log = try String(contentsOfFile: stderr, encoding: .utf8)
        let errors = log.split(separator: "\n").filter { $0.contains(" error ") || $0.contains(" critical ") }
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        #expect(log.contains("role released for the next instance"))
        #expect(!log.contains("standby: another instance is active"))
    }
}
