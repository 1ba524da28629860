import Foundation
import KordonEngine
import KordonEvents
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Logging

/// The shipped config (config/kordon.yaml with its rulebook and geography).
func shippedConfig() throws -> KordonConfig {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return try KordonConfig.load(file: root.appendingPathComponent("config/kordon.yaml").path)
}

/// A fresh directory under the temporary directory, for state and logs.
func temporaryDirectory(_ name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The daemon's pipeline over the shipped rulebook, on the mock cluster; state and log in `directory`.
func makePipeline(
    _ cluster: MockCluster, group: String, inputs: [String], deadLetterTopic: String = DeadLetter.defaultTopic,
    directory: String, consumer: [String: String] = [:], producer: [String: String] = [:], maxInFlight: Int = 100_000,
    idleTimeout: Duration = .seconds(2), logger: Logger = testLogger
) throws -> DetectionPipeline {
    let config = try shippedConfig()
    try? cluster.createTopic(group + ".active", partitions: 1)
    let make = { Engine(rulebook: config.rulebook, geography: config.geography, settings: config.settings) { Timestamp.now } }
    return try DetectionPipeline(
        options: PipelineOptions(
            group: group, inputTopics: inputs, alertTopics: ["border.alerts", "border.alerts.integrity"],
            deadLetterTopic: deadLetterTopic, consumer: consumerConfig(cluster, group: group, consumer),
            producer: producerConfig(cluster, producer), stateDirectory: directory + "/state",
            checkpointInterval: .milliseconds(200), drainTimeout: .seconds(20), maxInFlight: maxInFlight,
            idleTimeout: idleTimeout),
        engine: make(),
        restore: { bytes in
            try Engine(restoring: bytes, rulebook: config.rulebook, geography: config.geography, settings: config.settings) {
                Timestamp.now
            }
        },
        output: AlertOutput(route: { config.topics(rule: $0.rule, category: $0.category, severity: $0.severity) }),
        log: AlertLog(path: directory + "/alerts.jsonl"), logger: logger)
}
