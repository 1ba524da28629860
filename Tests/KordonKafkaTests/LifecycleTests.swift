import CRdKafka
import Foundation
import KordonKafka
import Logging
import KordonTestSupport
import Testing

extension Kafka {
    @Suite struct LifecycleTests {
        /// `close` sends LeaveGroup (librdkafka's protocol debug log records the request and the
        /// broker's answer) and the other member takes over; afterwards no librdkafka handle is left.
        @Test func closeLeavesTheGroupAndDestroysEveryHandle() throws {
            let handler = CapturingLogHandler()
            try {
                let cluster = try MockCluster(brokers: 1, logger: testLogger)
                try cluster.createTopic("leave", partitions: 4)
                let config = consumerConfig(cluster, group: "g-leave")
                var debugConfig = config
                debugConfig["debug"] = "protocol"
                let a = try KafkaConsumer(config: debugConfig, logger: Logger(label: "a") { _ in handler })
                let b = try KafkaConsumer(config: config, logger: testLogger)
                try a.subscribe(["leave"])
                try b.subscribe(["leave"])
                func split() throws -> Bool {
                    try a.assignment().count + b.assignment().count == 4 && !a.assignment().isEmpty && !b.assignment().isEmpty
                }
                let deadline = ContinuousClock.now + .seconds(60)
                while try !split(), ContinuousClock.now < deadline {
                    _ = a.poll(timeout: .milliseconds(20))
                    _ = b.poll(timeout: .milliseconds(20))
                }
                #expect(try a.assignment().count == 2)

                try a.close()
                let logged = handler.entries.withLock { $0.map(\.message) }
                #expect(logged.contains { $0.contains("Sent LeaveGroupRequest") })
                #expect(logged.contains { $0.contains("Received LeaveGroupResponse") })
                while try b.assignment().count < 4, ContinuousClock.now < deadline { _ = b.poll(timeout: .milliseconds(50)) }
                #expect(try b.assignment().count == 4)
                try b.close()
            }()
            // Everything above is released: librdkafka must report no live handle.
            #expect(rd_kafka_wait_destroyed(10_000) == 0)
        }

        @Test func badConfigNamesTheProperty() {
            #expect {
                _ = try KafkaProducer(config: ["bootstrap.servers": "127.0.0.1:1", "linger.ms": "soon"], logger: testLogger)
            } throws: { error in
                "\(error)".contains("linger.ms") && "\(error)".contains("soon")
            }
            #expect {
                _ = try KafkaProducer(config: ["no.such.property": "1"], logger: testLogger)
            } throws: { "\($0)".contains("no.such.property") }
            #expect {
                _ = try KafkaConsumer(config: ["bootstrap.servers": "127.0.0.1:1"], logger: testLogger)
            } throws: { "\($0)".contains("group.id") }
        }

        @Test func secretsStayOutOfErrors() {
            #expect {
                _ = try KafkaProducer(
                    config: ["sasl.password": "hunter2", "no.such.property.password": "hunter2"], logger: testLogger)
            } throws: { error in
                "\(error)".contains("no.such.property.password") && !"\(error)".contains("hunter2")
            }
        }

        @Test func librdkafkaLogsReachSwiftLog() throws {
            let handler = CapturingLogHandler()
            let logger = Logger(label: "capture") { _ in handler }
            // Nothing listens on port 1: librdkafka logs the failed connection.
            let producer = try KafkaProducer(
                config: ["bootstrap.servers": "127.0.0.1:1", "reconnect.backoff.ms": "10"], logger: logger)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, handler.entries.withLock({ $0.isEmpty }) {
                _ = producer.pollDeliveries(timeout: .milliseconds(100))
            }
            let entries = handler.entries.withLock { $0 }
            #expect(entries.contains { $0.message.contains("127.0.0.1:1") && $0.level >= .warning })
            #expect(entries.contains { $0.metadata["rdkafka.facility"] != nil || $0.metadata["rdkafka.error"] != nil })
        }
    }
}
