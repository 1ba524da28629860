import Foundation
import KordonKafka
import KordonTestSupport
import Testing

extension Kafka {
    @Suite struct ProducerTests {
        /// A broker goes down with produce requests in flight (responses delayed, so some were
        /// written but never answered) and comes back; produce errors are injected as well.
        /// The idempotent producer's retries deliver every message exactly once, in order.
        @Test func brokerDownAndBackDeliversExactlyOncePerPartition() throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("durable", partitions: 6)
            try cluster.setRoundTripTime(1, .milliseconds(200))
            // One request in flight per broker, for the injected produce errors: see `pushRequestErrors`.
            let producer = try KafkaProducer(
                config: producerConfig(
                    cluster, ["linger.ms": "20", "retry.backoff.ms": "50", "max.in.flight.requests.per.connection": "1"]),
                logger: testLogger)
            let total = 20_000
            var reports: [DeliveryReport] = []
            for i in 0..<total {
                switch i {
                case 5_000: try cluster.setBrokerDown(1)
                case 8_000: cluster.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas])
                case 12_000: try cluster.setBrokerUp(1)
                default: break
                }
                if i == 5_000 || i == 12_000 { Thread.sleep(forTimeInterval: 1) }
                try producer.send(
                    ProducerRecord(topic: "durable", key: "k\(i % 60)", value: "\(i)"), token: UInt64(i), waitingUpTo: .seconds(60))
                reports += producer.pollDeliveries()
            }
            #expect(producer.flush(timeout: .seconds(120)) == 0)
            reports += producer.pollDeliveries()
            #expect(reports.count == total)
            #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error).prefix(3))")
            #expect(producer.fatalError == nil)

            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-durable"), logger: testLogger)
            try consumer.subscribe(["durable"])
            var values: [Int] = []
            var byPartition: [Int32: [Int]] = [:]
            try pollUntil(consumer, timeout: .seconds(60), process: { batch in
                for m in batch {
                    values.append(Int(m.text!)!)
                    byPartition[m.partition, default: []].append(Int(m.text!)!)
                }
            }, done: { values.count >= total })
            // Anything duplicated would arrive after the rest: give it the time to show up.
            try pollUntil(consumer, timeout: .seconds(2), process: { values += $0.compactMap { Int($0.text!) } }, done: { false })
            try consumer.close()

            #expect(values.count == total, "\(values.count - Set(values).count) duplicates")
            #expect(Set(values) == Set(0..<total))
            for (partition, sequence) in byPartition {
                #expect(sequence == sequence.sorted(), "partition \(partition) out of order")
            }
        }

        @Test func tombstonesEmptyKeysAndHeadersRoundTrip() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("shapes", partitions: 1)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            let sent: [ProducerRecord] = [
                ProducerRecord(topic: "shapes", key: nil, value: Array("no key".utf8)[...]),
                ProducerRecord(topic: "shapes", key: [][...], value: Array("empty key".utf8)[...]),
                ProducerRecord(topic: "shapes", key: Array("k".utf8)[...], value: nil),
                ProducerRecord(topic: "shapes", key: Array("k".utf8)[...], value: [][...]),
                ProducerRecord(topic: "shapes", key: nil, value: nil as ArraySlice<UInt8>?),
                ProducerRecord(
                    topic: "shapes", key: Array("h".utf8)[...], value: Array("with headers".utf8)[...],
                    headers: [KafkaHeader("reason", "bad json"), KafkaHeader("null", nil), KafkaHeader("empty", []),
                              KafkaHeader("reason", "repeated"), KafkaHeader("binary", [0, 255, 10])]),
            ]
            for (i, record) in sent.enumerated() { try producer.send(record, token: UInt64(i)) }
            #expect(producer.flush(timeout: .seconds(10)) == 0)
            #expect(producer.pollDeliveries().allSatisfy { $0.error == nil })

            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-shapes"), logger: testLogger)
            try consumer.subscribe(["shapes"])
            var received: [KafkaMessage] = []
            try pollUntil(consumer, process: { received += $0 }, done: { received.count >= sent.count })
            try consumer.close()

            #expect(received.count == sent.count)
            for (got, want) in zip(received, sent) {
                #expect(got.key.map(Array.init) == want.key.map(Array.init))
                #expect(got.value.map(Array.init) == want.value.map(Array.init))
                #expect(got.headers == want.headers)
                #expect(got.timestamp != nil)
            }
        }

        /// A full local queue is reported to the caller as `queueFull`; nothing is dropped.
        @Test func fullQueueIsBackpressureNotLoss() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("slow", partitions: 1)
            try cluster.setBrokerDown(1)
            let producer = try KafkaProducer(
                config: producerConfig(cluster, ["queue.buffering.max.messages": "10"]), logger: testLogger)
            for i in 0..<10 { try producer.send(ProducerRecord(topic: "slow", key: nil, value: "\(i)"), token: UInt64(i)) }
            #expect {
                try producer.send(ProducerRecord(topic: "slow", key: nil, value: "10"), token: 10)
            } throws: { ($0 as? KafkaError)?.code == .queueFull }

            try cluster.setBrokerUp(1)
            try producer.send(ProducerRecord(topic: "slow", key: nil, value: "10"), token: 10, waitingUpTo: .seconds(30))
            #expect(producer.flush(timeout: .seconds(30)) == 0)
            let reports = producer.pollDeliveries()
            #expect(reports.filter { $0.error == nil }.map(\.token).sorted() == Array(0...10))
            #expect(reports.map(\.offset).sorted() == Array(0...10))
        }
    }
}
