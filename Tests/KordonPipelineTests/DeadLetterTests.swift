import Foundation
import KordonEvents
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Testing

extension Kafka {
    /// A mixed stream through the pipeline on the mock cluster: every bad message reaches the
    /// dead-letter topic unchanged with headers saying why and where from, every good one reaches
    /// the engine, and the committed offsets cover both.
    @Suite struct DeadLetterTests {
        static func valid(_ n: Int) -> String {
            switch n % 3 {
            case 0:
                #"{"v":1,"id":"cr-\#(n)","kind":"crossing","time":"2026-11-28T06:14:03+05:00","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","vehicle":{"plate":"123ABC15","type":"truck"},"goods":[{"hs":"0703","weightKg":16000}]}"#
            case 1:
                #"{"v":1,"id":"se-\#(n)","kind":"sensor","time":"2026-11-28T02:10:40Z","sensor":"S-ORB-114","sensorType":"seismic","position":{"lat":51.213,"lon":58.902},"detection":"human","confidence":0.87}"#
            default:
                #"{"v":1,"id":"ve-\#(n)","kind":"vessel","time":"2026-05-03T04:00:00Z","vessel":"KZ-ATR-0921","position":{"lat":45.91,"lon":50.22},"ais":false}"#
            }
        }

        static let invalid: [[UInt8]?] = [
            Array(#"{"v":1,"id":"x","kind":"crossing""#.utf8),  // truncated
            Array(#"{"v":1,"id":"x","kind":"lorry","time":"2026-11-28T02:10:40Z"}"#.utf8),
            Array(#"{"v":1,"id":"x","kind":"sensor","time":"28/11/2026","sensor":"s","sensorType":"seismic","position":{"lat":1,"lon":1},"detection":"human"}"#.utf8),
            [0xFF, 0xFE, 0x7B, 0x7D],
            Array("[1,2,3]".utf8),
            [],
            nil,  // tombstone
            Array(#"{"v":1,"v":1}"#.utf8),
        ]

        @Test func badMessagesGoToTheDeadLetterTopicAndEverythingIsCommitted() async throws {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            try cluster.createTopic("border.checkpoint.events", partitions: 3)
            try cluster.createTopic("border.events.dlq", partitions: 1)

            // 400 messages, one in ten bad, interleaved; remember what each should become.
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            var sent: [(value: [UInt8]?, bad: Bool)] = []
            for n in 0..<400 {
                if n % 10 == 7 {
                    sent.append((Self.invalid[(n / 10) % Self.invalid.count], true))
                } else {
                    sent.append((Array(Self.valid(n).utf8), false))
                }
            }
            var reports: [DeliveryReport] = []
            for (i, message) in sent.enumerated() {
                try producer.send(
                    ProducerRecord(
                        topic: "border.checkpoint.events", key: Array("k\(i)".utf8)[...], value: message.value.map { $0[...] },
                        headers: [KafkaHeader("upstream", "test")]),
                    token: UInt64(i))
            }
            #expect(producer.flush(timeout: .seconds(30)) == 0)
            reports = producer.pollDeliveries()
            #expect(reports.count == sent.count && reports.allSatisfy { $0.error == nil })
            let origin = Dictionary(uniqueKeysWithValues: reports.map { (Int($0.token), ($0.partition, $0.offset)) })

            let directory = try temporaryDirectory("dlq")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pipeline = try makePipeline(cluster, group: "kordon", inputs: ["border.checkpoint.events"], directory: directory)
            async let finished: Void = onDedicatedThread(name: "pipeline") { try pipeline.run() }
            let deadline = ContinuousClock.now + .seconds(60)
            while pipeline.counters.consumed < sent.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            pipeline.stop()
            try await finished

            let bad = sent.indices.filter { sent[$0].bad }
            let counters = pipeline.counters
            #expect(counters.consumed == 400 && counters.deadLettered == bad.count)
            #expect(counters.decoded == 400 - bad.count)
            // Every good event reached the engine once (the vessel events, months older than the rest, may be late).
            #expect(counters.events.filter { $0.key.outcome == "duplicate" }.isEmpty)
            #expect(counters.published == bad.count + counters.alerts.values.reduce(0, +))

            // The dead-letter topic holds each bad message unchanged, with its origin and reason.
            let reader = try KafkaConsumer(config: consumerConfig(cluster, group: "dlq-reader"), logger: testLogger)
            try reader.subscribe(["border.events.dlq"])
            var letters: [KafkaMessage] = []
            try pollUntil(reader, process: { letters += $0 }, done: { letters.count >= bad.count })
            try reader.close()
            #expect(letters.count == bad.count)
            let decoder = EventDecoder()
            for i in bad {
                let (partition, offset) = origin[i]!
                let letter = try #require(letters.first {
                    header($0, DeadLetter.Header.partition) == "\(partition)" && header($0, DeadLetter.Header.offset) == "\(offset)"
                })
                #expect(letter.value.map(Array.init) == sent[i].value)
                #expect(letter.key.map(Array.init) == Array("k\(i)".utf8))
                #expect(header(letter, DeadLetter.Header.topic) == "border.checkpoint.events")
                #expect(header(letter, "upstream") == "test")
                let expectedReason: String =
                    switch sent[i].value.map({ decoder.decode($0) }) {
                    case .failure(let rejection): rejection.description
                    case .success: "accepted?"
                    case nil: "message: null value (tombstone)"
                    }
                #expect(header(letter, DeadLetter.Header.reason) == expectedReason)
                #expect(header(letter, DeadLetter.Header.timestamp).flatMap { Timestamp(rfc3339: $0) } != nil)
            }

            // The group's committed offsets reach the end of every partition: good and bad alike.
            let check = try KafkaConsumer(config: consumerConfig(cluster, group: "kordon"), logger: testLogger)
            let ends = Dictionary(grouping: reports, by: \.partition).mapValues { $0.map(\.offset).max()! + 1 }
            let committed = try check.committed((0..<3).map { TopicPartition("border.checkpoint.events", $0) }, timeout: .seconds(10))
            #expect(committed == Dictionary(uniqueKeysWithValues: ends.map { (TopicPartition("border.checkpoint.events", $0.key), $0.value) }))
        }

        private func id(ofValid n: Int) -> String {
            ["cr-", "se-", "ve-"][n % 3] + "\(n)"
        }

        private func header(_ message: KafkaMessage, _ name: String) -> String? {
            message.headers.first { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
