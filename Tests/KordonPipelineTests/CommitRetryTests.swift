import Foundation
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Testing

extension Kafka {
    /// An asynchronous commit the broker refuses is reported only in librdkafka's callback: the
    /// pipeline must commit those offsets again at its next checkpoint even when no new input came,
    /// or the group's offsets stay behind until it stops.
    @Suite struct CommitRetryTests {
        @Test func refusedCommitsAreRetriedWithoutNewInput() async throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("in", partitions: 1)
            let directory = try temporaryDirectory("commit-retry")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pipeline = try makePipeline(cluster, group: "g-commit-retry", inputs: ["in"], directory: directory)
            async let finished: Void = onDedicatedThread(name: "pipeline") { try pipeline.run() }
            let active = ContinuousClock.now + .seconds(30)
            while !pipeline.isActive, ContinuousClock.now < active { try await Task.sleep(for: .milliseconds(20)) }

            // INVALID_COMMIT_OFFSET_SIZE (28): permanent, so librdkafka hands it to the callback
            // rather than retrying the request itself. The first commits after the input all fail.
            cluster.pushRequestErrors(.offsetCommit, Array(repeating: KafkaErrorCode(rawValue: 28), count: 3))
            let total = 500
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            try produceAll(producer, topic: "in", values: (0..<total).map { "not json \($0)" }, key: { "k\($0)" })

            // Checked while the pipeline runs: its stop commits synchronously, which would hide the fault.
            let check = try KafkaConsumer(config: consumerConfig(cluster, group: "g-commit-retry"), logger: testLogger)
            var committed: Int64 = -1
            let deadline = ContinuousClock.now + .seconds(20)
            while committed != Int64(total), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                committed = try check.committed([TopicPartition("in", 0)], timeout: .seconds(5))[TopicPartition("in", 0)] ?? -1
            }
            let consumed = pipeline.counters.consumed
            pipeline.stop()
            try await finished
            #expect(consumed == total)
            #expect(committed == Int64(total))
        }
    }
}
