import Foundation
import KordonKafka
import Logging
import Synchronization
import Testing

/// Every test that creates librdkafka handles runs inside this suite, one at a time: they share
/// two cores, time-sensitive group protocols, and the process-wide handle count.
@Suite(.serialized) public enum Kafka {}

/// Logs at warning and above to stderr, so a failing test shows what librdkafka said.
public let testLogger: Logger = {
    var logger = Logger(label: "kordon.test") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    return logger
}()

/// Fast group protocol settings for the mock cluster (rebalances take 20–45 s with the defaults).
public func consumerConfig(_ cluster: MockCluster, group: String, _ extra: [String: String] = [:]) -> KafkaConfig {
    KafkaConfig(
        [
            "bootstrap.servers": cluster.bootstrapServers, "group.id": group,
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
        ].merging(extra) { _, new in new })
}

public func producerConfig(_ cluster: MockCluster, _ extra: [String: String] = [:]) -> KafkaConfig {
    KafkaConfig(
        ["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "5", "sticky.partitioning.linger.ms": "0"]
            .merging(extra) { _, new in new })
}

/// A message as the tests compare it.
public struct Seen: Hashable {
    public var partition: Int32
    public var offset: Int64
    public var value: String

    public init(partition: Int32, offset: Int64, value: String) {
        self.partition = partition
        self.offset = offset
        self.value = value
    }
}

/// Produces `values` to `topic`, keyed by `key(i)`, waits for every delivery and returns the reports
/// in token order; fails the test if any delivery failed.
@discardableResult
public func produceAll(
    _ producer: KafkaProducer, topic: String, values: [String], key: (Int) -> String? = { _ in nil },
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [DeliveryReport] {
    var reports: [DeliveryReport] = []
    for (i, value) in values.enumerated() {
        try producer.send(
            ProducerRecord(topic: topic, key: key(i), value: value), token: UInt64(i), waitingUpTo: .seconds(30))
        reports += producer.pollDeliveries()
    }
    #expect(producer.flush(timeout: .seconds(60)) == 0, sourceLocation: sourceLocation)
    reports += producer.pollDeliveries()
    #expect(reports.count == values.count, sourceLocation: sourceLocation)
    #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error).prefix(3))", sourceLocation: sourceLocation)
    return reports.sorted { $0.token < $1.token }
}

/// Polls until `done` says so or `timeout` passes, handing each batch to `process`.
public func pollUntil(
    _ consumer: KafkaConsumer, timeout: Duration = .seconds(60), maxMessages: Int = 4096,
    process: (KafkaMessageBatch) throws -> Void = { _ in }, done: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now + timeout
    while try !done(), ContinuousClock.now < deadline {
        try process(consumer.poll(maxMessages: maxMessages, timeout: .milliseconds(100)))
    }
}

extension KafkaMessage {
    public var text: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// A log handler that keeps what it is given, to check what reaches swift-log.
public final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: Logger.Metadata
    }

    public let entries = Mutex<[Entry]>([])
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        entries.withLock {
            $0.append(Entry(level: event.level, message: event.message.description, metadata: event.metadata ?? [:]))
        }
    }
}
