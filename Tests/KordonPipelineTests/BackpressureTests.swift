import Foundation
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Testing

extension Kafka {
    /// The broker that leads the dead-letter topic goes down: publishing falls behind, consumption
    /// pauses instead of piling records up in memory, and everything flows once the broker is back.
    @Suite struct BackpressureTests {
        @Test func unreachableOutputPausesConsumptionUntilItIsBack() async throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("in", partitions: 2)
            try cluster.createTopic("dlq", partitions: 1)
            for partition: Int32 in 0..<2 { try cluster.setPartitionLeader("in", partition, broker: 1) }
            try cluster.setPartitionLeader("dlq", 0, broker: 3)
            try cluster.setGroupCoordinator("g-backpressure", broker: 1)

            let total = 20_000
            let directory = try temporaryDirectory("backpressure")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pipeline = try makePipeline(
                cluster, group: "g-backpressure", inputs: ["in"], deadLetterTopic: "dlq", directory: directory,
                // Small fetches, so the pause comes well before the end of the topic.
                consumer: ["max.partition.fetch.bytes": "16384"],
                producer: ["queue.buffering.max.messages": "500", "reconnect.backoff.max.ms": "500"], maxInFlight: 1000)
            async let finished: Void = onDedicatedThread(name: "pipeline") { try pipeline.run() }
            // Down once the pipeline is active (taking the role reads the output topics' ends).
            let active = ContinuousClock.now + .seconds(30)
            while !pipeline.isActive, ContinuousClock.now < active { try await Task.sleep(for: .milliseconds(20)) }
            try cluster.setBrokerDown(3)
            // The input only now: the pipeline knows the dead-letter topic's leader from the start, so
            // input there before would be published before the broker is down.
            // Small record batches, so a fetch can bring in few messages at a time.
            let producer = try KafkaProducer(config: producerConfig(cluster, ["batch.num.messages": "100"]), logger: testLogger)
            try produceAll(producer, topic: "in", values: (0..<total).map { "not json \($0)" }, key: { "k\($0)" })

            let deadline = ContinuousClock.now + .seconds(60)
            while pipeline.counters.pauses == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(pipeline.counters.pauses >= 1)
            // Paused: consumption stalls well short of the topic's end.
            try await Task.sleep(for: .seconds(2))
            let stalled = pipeline.counters.consumed
            try await Task.sleep(for: .seconds(1))
            #expect(pipeline.counters.consumed == stalled)
            #expect(stalled < total / 2)
            #expect(pipeline.counters.published == 0)

            try cluster.setBrokerUp(3)
            while pipeline.counters.published < total, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            pipeline.stop()
            try await finished

            let counters = pipeline.counters
            #expect(counters.consumed == total && counters.deadLettered == total && counters.published == total)
            let check = try KafkaConsumer(config: consumerConfig(cluster, group: "g-backpressure"), logger: testLogger)
            let committed = try check.committed([TopicPartition("in", 0), TopicPartition("in", 1)], timeout: .seconds(10))
            #expect(committed.values.reduce(0, +) == Int64(total))
        }
    }
}
