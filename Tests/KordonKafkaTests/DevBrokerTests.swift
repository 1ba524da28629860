import Foundation
import KordonKafka
import KordonTestSupport
import Testing

extension Kafka {
    /// `kordon dev-broker` as another process would use it: address from the file, produce and
    /// consume through it, SIGTERM stops it cleanly.
    @Suite struct DevBrokerTests {
        @Test func devBrokerServesOtherProcessesAndStopsOnSIGTERM() throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-bootstrap-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let broker = try ChildProcess(
                productsDirectory.appendingPathComponent("kordon").path,
                ["dev-broker", "--brokers", "2", "--topic", "handoff:3", "--bootstrap-file", file])
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: file), ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            let bootstrap = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(bootstrap.split(separator: ",").count == 2)

            let producer = try KafkaProducer(config: ["bootstrap.servers": bootstrap], logger: testLogger)
            let reports = try produceAll(producer, topic: "handoff", values: (0..<30).map { "m\($0)" }, key: { "k\($0)" })
            #expect(Set(reports.map(\.partition)) == [0, 1, 2])

            let consumer = try KafkaConsumer(
                config: ["bootstrap.servers": bootstrap, "group.id": "g-dev", "session.timeout.ms": "6000"], logger: testLogger)
            try consumer.subscribe(["handoff"])
            var values: Set<String> = []
            try pollUntil(consumer, process: { values.formUnion($0.compactMap(\.text)) }, done: { values.count >= 30 })
            try consumer.close()
            #expect(values == Set((0..<30).map { "m\($0)" }))

            #expect(broker.terminate() == 0)
            #expect(!FileManager.default.fileExists(atPath: file), "bootstrap file left behind")
        }
    }
}
