import Foundation
import KordonKafka
import KordonTestSupport
import Synchronization
import Testing

extension Kafka {
    @Suite struct ConsumerTests {
        @Test func hundredThousandMessagesAllConsumedInPartitionOrder() throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("orders", partitions: 8)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            let values = (0..<100_000).map { "message-\($0)" }
            let reports = try produceAll(producer, topic: "orders", values: values, key: { "key-\($0 % 1000)" })

            // What each partition must hold, in offset order, from the delivery reports.
            var expected: [Int32: [Int64: String]] = [:]
            for report in reports { expected[report.partition, default: [:]][report.offset] = values[Int(report.token)] }
            #expect(expected.count == 8)

            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-100k"), logger: testLogger)
            try consumer.subscribe(["orders"])
            var consumed: [Int32: [(Int64, String)]] = [:]
            var total = 0
            try pollUntil(consumer, process: { batch in
                for message in batch { consumed[message.partition, default: []].append((message.offset, message.text ?? "")) }
                total += batch.count
            }, done: { total >= values.count })
            try consumer.close()

            #expect(total == values.count)
            for (partition, messages) in consumed {
                let want = expected[partition, default: [:]].sorted { $0.key < $1.key }
                #expect(messages.map(\.0) == want.map(\.key), "partition \(partition): offsets out of order or missing")
                #expect(messages.map(\.1) == want.map(\.value), "partition \(partition): values differ")
            }
            // Per key, values arrive in the order they were produced.
            var lastByKey: [Int: Int] = [:]
            for messages in consumed.values {
                for (_, text) in messages {
                    let n = Int(text.dropFirst("message-".count))!
                    #expect(lastByKey[n % 1000].map { $0 < n } ?? true)
                    lastByKey[n % 1000] = n
                }
            }
        }

        /// Several partitions' watermarks at once, as their leaders have them; with every broker down,
        /// an error within the timeout, not a wait for the brokers to return (which is what librdkafka
        /// 2.0.2's own watermark query does, and what held a stopping daemon for minutes).
        @Test func watermarksComeFromTheLeadersOrFailWithinTheTimeout() throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("marks", partitions: 4)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            let reports = try produceAll(producer, topic: "marks", values: (0..<200).map { "v\($0)" }, key: { "k\($0)" })
            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-marks"), logger: testLogger)
            let partitions = (0..<4).map { TopicPartition("marks", Int32($0)) }
            let marks = try consumer.watermarks(partitions, timeout: .seconds(10))
            #expect(marks.count == 4)
            for tp in partitions {
                let written = Int64(reports.count { $0.partition == tp.partition })
                #expect(marks[tp]?.low == 0 && marks[tp]?.high == written, "\(tp): \(String(describing: marks[tp]))")
            }

            for broker: Int32 in 1...3 { try cluster.setBrokerDown(broker) }
            // On a thread of its own, so that a query that never returns fails the test rather than hangs it.
            let outcome = Mutex<(failed: Bool, took: Duration)?>(nil)
            startThread(name: "marks-query") {
                let began = ContinuousClock.now
                let failed = (try? consumer.watermarks(partitions, timeout: .seconds(2))) == nil
                outcome.withLock { $0 = (failed, began.duration(to: .now)) }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
            let result = try #require(outcome.withLock { $0 }, "the query did not return within 30 s")
            #expect(result.failed)
            #expect(result.took < .seconds(5), "took \(result.took)")
            for broker: Int32 in 1...3 { try cluster.setBrokerUp(broker) }
        }

        @Test func restartResumesFromCommittedOffsets() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("resume", partitions: 4)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            try produceAll(producer, topic: "resume", values: (0..<1000).map { "v\($0)" }, key: { "k\($0)" })

            // First run: process some batches, commit what was processed, stop.
            var firstRun: Set<Seen> = []
            var committed: [TopicPartition: Int64] = [:]
            do {
                let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-resume"), logger: testLogger)
                try consumer.subscribe(["resume"])
                try pollUntil(consumer, maxMessages: 100, process: { batch in
                    for m in batch { firstRun.insert(Seen(partition: m.partition, offset: m.offset, value: m.text!)) }
                    try consumer.commit(batch.nextOffsets)
                    committed.merge(batch.nextOffsets) { max($0, $1) }
                }, done: { firstRun.count >= 300 })
                try consumer.close()
            }
            #expect(firstRun.count >= 300 && firstRun.count < 1000)

            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-resume"), logger: testLogger)
            #expect(try consumer.committed(committed.keys.sorted(), timeout: .seconds(10)) == committed)
            try consumer.subscribe(["resume"])
            var secondRun: [Seen] = []
            try pollUntil(consumer, process: { batch in
                for m in batch { secondRun.append(Seen(partition: m.partition, offset: m.offset, value: m.text!)) }
            }, done: { firstRun.count + secondRun.count >= 1000 })
            try consumer.close()

            #expect(Set(secondRun).isDisjoint(with: firstRun), "reprocessed committed messages")
            #expect(firstRun.count + secondRun.count == 1000)
            for (tp, next) in committed {
                let first = secondRun.filter { $0.partition == tp.partition }.map(\.offset).min()
                #expect(first == nil || first == next, "\(tp) resumed at \(first ?? -1), committed \(next)")
            }
        }

        /// Two members split the partitions, then one leaves mid-stream. Each commits after every
        /// batch and again when partitions are revoked. No message is lost, and a message is
        /// processed twice only if it was processed but uncommitted when its partition was revoked
        /// (librdkafka's mock rejects commits while the group is joining, where a real broker takes them).
        @Test(arguments: ["range", "cooperative-sticky"])
        func twoMembersSplitThenOneLeaves(strategy: String) throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("split", partitions: 6)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            let total = 6000
            try produceAll(producer, topic: "split", values: (0..<total).map { "v\($0)" }, key: { "k\($0)" })

            final class Member {
                var processed: [Seen] = []
                /// Processed since the last successful commit, per partition.
                var uncommitted: [TopicPartition: [Seen]] = [:]
                /// What was uncommitted when its partition was revoked and the commit then failed.
                var atRisk: Set<Seen> = []
                var owned: Set<TopicPartition> = []
                var consumer: KafkaConsumer!

                func commit(_ partitions: some Sequence<TopicPartition>) -> Bool {
                    var offsets: [TopicPartition: Int64] = [:]
                    for tp in partitions { if let last = uncommitted[tp]?.last { offsets[tp] = last.offset + 1 } }
                    do {
                        try consumer.commit(offsets)
                    } catch {
                        return false
                    }
                    for tp in partitions { uncommitted[tp] = nil }
                    return true
                }
            }
            func join() throws -> Member {
                let member = Member()
                member.consumer = try KafkaConsumer(
                    config: consumerConfig(cluster, group: "g-split-\(strategy)", ["partition.assignment.strategy": strategy]),
                    logger: testLogger
                ) { _, rebalance in
                    switch rebalance {
                    case .assigned(let partitions):
                        member.owned.formUnion(partitions)
                    case .revoked(let partitions, _):
                        if !member.commit(partitions) {
                            for tp in partitions { member.atRisk.formUnion(member.uncommitted[tp] ?? []) }
                        }
                        for tp in partitions { member.uncommitted[tp] = nil }
                        member.owned.subtract(partitions)
                    }
                    return [:]
                }
                try member.consumer.subscribe(["split"])
                return member
            }
            func step(_ member: Member) throws {
                let batch = member.consumer.poll(maxMessages: 20, timeout: .milliseconds(20))
                for m in batch {
                    let seen = Seen(partition: m.partition, offset: m.offset, value: m.text!)
                    member.processed.append(seen)
                    member.uncommitted[m.topicPartition, default: []].append(seen)
                }
                _ = member.commit(batch.nextOffsets.keys)
            }

            let a = try join()
            let deadline = ContinuousClock.now + .seconds(90)
            while a.processed.count < 500, ContinuousClock.now < deadline { try step(a) }
            let b = try join()
            // Both consume until each owns part of the topic and has processed some of it.
            while !(b.processed.count >= 300 && !a.owned.isEmpty && !b.owned.isEmpty), ContinuousClock.now < deadline {
                try step(a)
                try step(b)
            }
            #expect(!a.owned.isEmpty && !b.owned.isEmpty && a.owned.isDisjoint(with: b.owned) && a.owned.count + b.owned.count == 6)

            try a.consumer.close()
            while !(b.owned.count == 6 && Set(a.processed + b.processed).count == total), ContinuousClock.now < deadline {
                try step(b)
            }
            #expect(b.owned.count == 6, "b did not take over every partition")
            try b.consumer.close()

            let all = a.processed + b.processed
            #expect(Set(all).count == total, "lost messages")
            var counts: [Seen: Int] = [:]
            for seen in all { counts[seen, default: 0] += 1 }
            let twice = Set(counts.filter { $0.value > 1 }.keys)
            #expect(twice.isSubset(of: a.atRisk.union(b.atRisk)), "processed twice though committed: \(twice.subtracting(a.atRisk.union(b.atRisk)).prefix(5))")
        }

        @Test func pauseStopsFetchingAndResumeContinues() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("paused", partitions: 2)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-pause"), logger: testLogger)
            try consumer.subscribe(["paused"])
            var seen = 0
            try pollUntil(consumer, process: { seen += $0.count }, done: { (try consumer.assignment()).count == 2 })

            let p0 = TopicPartition("paused", 0)
            try consumer.pause([p0])
            for i in 0..<50 {
                try producer.send(ProducerRecord(topic: "paused", partition: Int32(i % 2), key: nil, value: "v\(i)"), token: 0)
            }
            #expect(producer.flush(timeout: .seconds(10)) == 0)
            var received: [Int32: Int] = [:]
            let until = ContinuousClock.now + .seconds(3)
            try pollUntil(consumer, process: { for m in $0 { received[m.partition, default: 0] += 1 } }, done: { ContinuousClock.now > until })
            #expect(received[0] == nil)
            #expect(received[1] == 25)
            #expect(try consumer.lag()[p0] == 25)

            try consumer.resume([p0])
            try pollUntil(consumer, process: { for m in $0 { received[m.partition, default: 0] += 1 } }, done: { received[0] == 25 })
            #expect(received[0] == 25)
            #expect(try consumer.lag()[p0] == 0)
            try consumer.close()
        }

        @Test func startOffsetsFromTheRebalanceHandler() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("seek", partitions: 1)
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            try produceAll(producer, topic: "seek", values: (0..<100).map { "v\($0)" })
            let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "g-seek"), logger: testLogger) { _, rebalance in
                guard case .assigned = rebalance else { return [:] }
                return [TopicPartition("seek", 0): 90]
            }
            try consumer.subscribe(["seek"])
            var offsets: [Int64] = []
            try pollUntil(consumer, process: { offsets += $0.map(\.offset) }, done: { offsets.count >= 10 })
            #expect(offsets == Array(90..<100))
            try consumer.close()
        }

        @Test func statisticsArePublished() throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("stats", partitions: 1)
            let consumer = try KafkaConsumer(
                config: consumerConfig(cluster, group: "g-stats", ["statistics.interval.ms": "100"]), logger: testLogger)
            try consumer.subscribe(["stats"])
            try pollUntil(consumer, timeout: .seconds(10), done: { consumer.statistics != nil })
            let stats = try #require(consumer.statistics)
            #expect(stats.contains("\"type\": \"consumer\"") || stats.contains("\"type\":\"consumer\""))
            try consumer.close()
        }
    }
}
