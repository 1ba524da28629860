import Foundation
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Testing

extension Kafka {
    /// An idempotent producer that fails for good delivers nothing more: the pipeline stops with the
    /// error (for systemd to restart it with a new producer) rather than retrying its deliveries for
    /// ever with consumption paused, and commits nothing Kafka did not acknowledge.
    @Suite struct FatalProducerTests {
        @Test func aProducerFailedForGoodStopsThePipelineWithItsError() async throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("in", partitions: 1)
            try cluster.createTopic("border.events.dlq", partitions: 1)
            let directory = try temporaryDirectory("fatal-producer")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // Messages that go to the dead-letter topic: the pipeline's first produce requests.
            let input = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            try produceAll(input, topic: "in", values: (0..<50).map { "not json \($0)" })
            // OUT_OF_ORDER_SEQUENCE_NUMBER (45) for the head of a partition's requests: librdkafka
            // takes the producer's state as out of step with the broker's, a fatal error.
            cluster.pushRequestErrors(.produce, [KafkaErrorCode(rawValue: 45)])

            let pipeline = try makePipeline(cluster, group: "g-fatal", inputs: ["in"], directory: directory)
            let running = Task { try await onDedicatedThread(name: "pipeline") { try pipeline.run() } }
            // Should it not stop by itself, stop it, so the test fails rather than hangs.
            let guardStop = Task {
                try await Task.sleep(for: .seconds(60))
                pipeline.stop()
            }
            let outcome = await running.result
            guardStop.cancel()

            let error = #expect(throws: KafkaError.self) { try outcome.get() }
            #expect(error?.code == KafkaErrorCode(rawValue: 45))
            #expect(pipeline.counters.published == 0)
            let check = try KafkaConsumer(config: consumerConfig(cluster, group: "g-fatal"), logger: testLogger)
            defer { try? check.close() }
            let committed = try check.committed([TopicPartition("in", 0)], timeout: .seconds(5))[TopicPartition("in", 0)]
            #expect((committed ?? 0) == 0, "committed past dead letters Kafka never acknowledged")
        }
    }
}
