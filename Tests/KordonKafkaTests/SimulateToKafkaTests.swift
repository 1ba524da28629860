import Foundation
import KordonKafka
import KordonTestSupport
import Testing

extension Kafka {
    /// `kordon simulate --brokers` publishes exactly what it writes to a file with the same seed,
    /// each message on its kind's input topic.
    @Suite struct SimulateToKafkaTests {
        @Test func publishesTheSameMessagesAsTheFileOutput() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("border.checkpoint.events", partitions: 3)
            try cluster.createTopic("border.patrol.events", partitions: 3)
            let kordon = productsDirectory.appendingPathComponent("kordon").path
            let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("config/kordon.yaml").path
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-sim-\(getpid()).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let common = ["simulate", "--events", "1500", "--seed", "11", "--invalid-fraction", "0.02", "--config", config]
            #expect(try run(kordon, common + ["--brokers", cluster.bootstrapServers]) == 0)
            #expect(try run(kordon, common + ["--output", file]) == 0)
            let expected = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(expected.count > 1500)

            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-sim"), logger: testLogger)
            try consumer.subscribe(["border.checkpoint.events", "border.patrol.events"])
            var received: [(topic: String, text: String)] = []
            try pollUntil(consumer, process: { received += $0.map { ($0.topic, $0.text ?? "") } }, done: { received.count >= expected.count })
            try consumer.close()

            #expect(received.map(\.text).sorted() == expected.sorted())
            for (topic, text) in received where !text.contains("\"kind\":\"X") {
                let checkpointKind = text.contains(#""kind":"crossing""#) || text.contains(#""kind":"inspection""#)
                #expect(topic == (checkpointKind ? "border.checkpoint.events" : "border.patrol.events"), "\(text.prefix(80))")
            }
        }
    }
}
