import KordonEvents
import KordonKafka
import Logging

/// The simulator's messages on Kafka, as an upstream producer would send them: crossings and
/// inspections to the checkpoint topic, the other kinds to the patrol topic, without a key, through an
/// idempotent producer, every delivery checked. `kordon simulate --brokers`, the embedded demo and the
/// benchmark all publish through it, so the benchmark's rate is the command's.
public final class SimulatedFeed {
    public let checkpointTopic: String
    public let patrolTopic: String
    private let producer: KafkaProducer
    private var sent: UInt64 = 0
    /// Messages Kafka refused or that failed after librdkafka's retries, and the first reason.
    private var failed = 0
    private var firstError: KafkaError?

    public init(brokers: String, checkpointTopic: String, patrolTopic: String, logger: Logger) throws(KafkaError) {
        producer = try KafkaProducer(config: ["bootstrap.servers": brokers, "linger.ms": "5"], logger: logger)
        self.checkpointTopic = checkpointTopic
        self.patrolTopic = patrolTopic
        producer.prepare(topics: [checkpointTopic, patrolTopic])
    }

    /// To the input topics as a config lists them: the checkpoint topic, then the patrol topic (the first
    /// serves both when it is the only one).
    public convenience init(brokers: String, inputTopics: [String], logger: Logger) throws(KafkaError) {
        try self.init(
            brokers: brokers, checkpointTopic: inputTopics[0], patrolTopic: inputTopics.count > 1 ? inputTopics[1] : inputTopics[0],
            logger: logger)
    }

    /// Messages sent so far.
    public var count: Int { Int(sent) }

    /// Queues one line the simulator wrote (its newline is not sent) on its kind's topic, waiting up
    /// to `timeout` while the local queue is full.
    public func send(_ line: ArraySlice<UInt8>, kind: EventKind, waitingUpTo timeout: Duration = .seconds(60)) throws(KafkaError) {
        let value = line.last == UInt8(ascii: "\n") ? line.dropLast() : line
        let topic = kind == .crossing || kind == .inspection ? checkpointTopic : patrolTopic
        sent += 1
        try producer.send(ProducerRecord(topic: topic, value: value), token: sent, waitingUpTo: timeout)
        // Reports are collected now and then rather than per message: each poll is a call into librdkafka.
        if sent % 10_000 == 0 { pollDeliveries() }
    }

    /// Collects the delivery reports that came in.
    public func pollDeliveries() {
        for report in producer.pollDeliveries() where report.error != nil {
            if firstError == nil { firstError = report.error }
            failed += 1
        }
    }

    /// Waits up to `timeout` for every message to be delivered or to fail; throws unless every one landed.
    public func finish(timeout: Duration) throws(Incomplete) {
        let left = producer.flush(timeout: timeout)
        pollDeliveries()
        guard left == 0, failed == 0 else { throw Incomplete(failed: failed, inFlight: left, firstError: firstError) }
    }

    /// Not every message landed: some failed, some were still in flight when `finish` gave up.
    public struct Incomplete: Error, CustomStringConvertible {
        public var failed: Int
        public var inFlight: Int
        public var firstError: KafkaError?

        public var description: String {
            "\(failed) messages failed and \(inFlight) were still in flight" + (firstError.map { " (first error: \($0))" } ?? "")
        }
    }
}
