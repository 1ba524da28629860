import Foundation
import KordonKafka
import KordonTestSupport
import Testing

extension Kafka {
    /// librdkafka's mock cluster does not answer CreateTopics, so the admin path runs against a
    /// second broker implementation, noida-db (PyPI), which the test installs if it is missing.
    @Suite struct AdminTests {
        @Test func createsMissingTopicsWithPartitionsAndConfig() throws {
            let noida = try #require(try installedNoidaDB(), "noida-db could not be installed with pip")
            let port = try freePort()
            let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-noida-\(port)").path
            defer { try? FileManager.default.removeItem(atPath: dataDir) }
            let broker = try ChildProcess(noida, ["start", "--only", "kafka", "--kafka-port", "\(port)", "--data-dir", dataDir])
            #expect(waitForListener(port: port, timeout: .seconds(30)))

            let admin = try KafkaAdmin(config: ["bootstrap.servers": "127.0.0.1:\(port)"], logger: testLogger)
            let specs = [
                TopicSpec(name: "kordon.state", partitions: 3, replicationFactor: 1, config: ["cleanup.policy": "compact"]),
                TopicSpec(name: "kordon.alerts", partitions: 5, replicationFactor: 1),
            ]
            #expect(try admin.createMissingTopics(specs, timeout: .seconds(15)) == ["kordon.alerts", "kordon.state"])
            // A second run finds them there and creates nothing.
            #expect(try admin.createMissingTopics(specs, timeout: .seconds(15)) == [])
            let topics = try admin.topics(timeout: .seconds(10))
            #expect(topics["kordon.state"] == 3)
            #expect(topics["kordon.alerts"] == 5)
            #expect(try admin.topicConfig("kordon.state", timeout: .seconds(10))["cleanup.policy"] == "compact")

            #expect(throws: KafkaError.self) {
                try admin.createMissingTopics([TopicSpec(name: "bad", partitions: 0, replicationFactor: 1)], timeout: .seconds(5))
            }
            withExtendedLifetime(broker) {}  // stopped with its process group when released
        }
    }
}

private func installedNoidaDB() throws -> String? {
    if let path = which("noida-db") { return path }
    guard let python = which("python3") else { return nil }
    try run(python, ["-m", "pip", "install", "--quiet", "noida-db"])
    return which("noida-db")
}
