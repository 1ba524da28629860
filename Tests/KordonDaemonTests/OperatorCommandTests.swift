import Foundation
import KordonKafka
import KordonTestSupport
import Testing

/// A daemon config in a directory of its own, with the shipped rulebook and geography.
private struct ConfigDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-ops-\(UUID().uuidString)").path
    var config: String { path + "/kordon.yaml" }
    var alertLog: String { path + "/logs/alerts.jsonl" }

    init() throws {
        try FileManager.default.createDirectory(atPath: path + "/logs", withIntermediateDirectories: true)
    }

    func write(bootstrap: String, group: String) throws {
        let shipped = repositoryRoot.appendingPathComponent("config").path
        try """
            rules: \(shipped)/rules.yaml
            geography: \(shipped)/geography.yaml
            kafka:
              bootstrapServers: [\(bootstrap)]
              groupId: \(group)
              inputTopics: [ops.crossings, ops.patrols]
              alertRoutes:
                - topic: ops.alerts.integrity
                  rules: ["integrity.*"]
                - topic: ops.alerts
              deadLetterTopic: ops.dlq
              properties:
                consumer.session.timeout.ms: "6000"
            daemon:
              stateDirectory: state
              snapshotInterval: 1s
              alertLog: logs/alerts.jsonl
              shutdownTimeout: 15s
              metricsListen: 127.0.0.1:\(try freePort())

            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `kordon tail` and `kordon stats` without a file read the alert log the config names.
@Test func tailAndStatsReadTheAlertLogTheConfigNames() throws {
    let directory = try ConfigDirectory()
    defer { directory.remove() }
    try directory.write(bootstrap: "localhost:9092", group: "ops")
    let lines = [("a1", "critical", "weapons.undeclared"), ("a2", "medium", "contraband.structuring")].map { id, severity, rule in
        #"{"v":1,"id":"\#(id)","rule":"\#(rule)","category":"c","severity":"\#(severity)","title":"t","time":"2026-11-28T06:41:00Z","emittedAt":"2026-11-28T07:00:00Z","key":{"type":"plate","value":"123ABC15"},"location":{"checkpoint":"KZ-PETROPAVL-1","direction":"exit"},"evidence":[],"evidenceTotal":0,"facts":{},"suppressed":0}"#
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: directory.alertLog, atomically: true, encoding: .utf8)
    let kordon = productsDirectory.appendingPathComponent("kordon").path

    let tail = try output(kordon, ["tail", "--json", "--config", directory.config])
    #expect(tail.status == 0)
    #expect(tail.text == lines.joined(separator: "\n") + "\n")

    // KORDON_CONFIG names it as --config does.
    let stats = try output(kordon, ["stats"], environment: ["KORDON_CONFIG": directory.config])
    #expect(stats.status == 0)
    #expect(stats.text.hasPrefix("2 alerts\n"))
    #expect(stats.text.contains("weapons.undeclared"))

    // A config that does not load is an error, not a silent fall back to another log.
    try "rules: [".write(toFile: directory.config, atomically: true, encoding: .utf8)
    let broken = try output(kordon, ["tail", "--config", directory.config])
    #expect(broken.status == 2)
    #expect(broken.text.isEmpty)
}

/// Runs `executable` to its end: exit status and standard output.
private func output(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, text: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

extension Kafka {
    /// `kordon dev-broker --config` makes every topic the daemon needs, including those it would
    /// create itself on a real broker (the mock cluster does not serve CreateTopics): `kordon run`
    /// with the same config then starts on it as it is.
    @Suite struct DevBrokerConfigTests {
        @Test func runStartsOnADevBrokerMadeFromItsConfig() async throws {
            let directory = try ConfigDirectory()
            defer { directory.remove() }
            try directory.write(bootstrap: "localhost:9092", group: "ops")
            let kordon = productsDirectory.appendingPathComponent("kordon").path
            let file = directory.path + "/bootstrap"
            let broker = try ChildProcess(kordon, ["dev-broker", "--config", directory.config, "--bootstrap-file", file])
            defer { _ = broker.terminate() }
            #expect(try await waitFor(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: file) })
            let bootstrap = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let admin = try KafkaAdmin(config: ["bootstrap.servers": bootstrap], logger: testLogger)
            let topics = try admin.topics(timeout: .seconds(10))
            #expect(topics["ops.crossings"] == 6 && topics["ops.patrols"] == 6)
            #expect(topics["ops.alerts"] == 6 && topics["ops.alerts.integrity"] == 6 && topics["ops.dlq"] == 6)
            #expect(topics["ops.active"] == 1)

            try directory.write(bootstrap: bootstrap, group: "ops")
            let log = directory.path + "/daemon.log"
            let daemon = try ChildProcess(kordon, ["run", "--config", directory.config], stderr: log)
            let active = try await waitFor(timeout: .seconds(60)) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("active: consuming 12 partitions")
            }
            #expect(active, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            #expect(daemon.terminate(timeout: .seconds(30)) == 0)
        }
    }
}
