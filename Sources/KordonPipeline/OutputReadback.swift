import KordonEngine
import KordonKafka
import Logging

/// What reached the output topics after a checkpoint: read back on restart so that reprocessing
/// from the checkpoint does not publish an alert or a dead letter a second time.
public struct DeliveredOutputs: Sendable {
    /// Alert ids per topic.
    public var alerts: Set<OutputIdentity> = []
    /// Dead letters by the input message they stand for.
    public var deadLetters: Set<OutputIdentity> = []
    /// The high watermark of every output partition when it was read: where outputs from now on begin.
    public var ends: [TopicPartition: Int64] = [:]
    /// The high watermark of every input partition at the same time: how far the run before may have got.
    public var inputEnds: [TopicPartition: Int64] = [:]

    public init() {}
}

public struct OutputIdentity: Hashable, Sendable {
    public var topic: String
    public var id: String

    public init(topic: String, id: String) {
        self.topic = topic
        self.id = id
    }

    static func deadLetter(topic: String, source: TopicPartition, offset: Int64) -> OutputIdentity {
        OutputIdentity(topic: topic, id: "\(source.topic)/\(source.partition)/\(offset)")
    }
}

public enum OutputReadback {
    /// Reads every partition of `topics` from `from` (0 where absent) up to its current end; with
    /// `from` nil (no checkpoint, so nothing to reprocess), finds the ends only.
    /// `config` is a consumer config (its group is never joined); `adminConfig` a producer config, for
    /// the admin client that counts the topics' partitions (a producer-type handle, which warns about
    /// every consumer property it is given).
    public static func read(
        topics: [String], deadLetterTopic: String, inputTopics: [String], from: [TopicPartition: Int64]?,
        config: KafkaConfig, adminConfig: KafkaConfig, logger: Logger, timeout: Duration
    ) throws(KafkaError) -> DeliveredOutputs {
        var result = DeliveredOutputs()
        let admin = try KafkaAdmin(config: adminConfig, logger: logger)
        let counts = try admin.topics(timeout: timeout)
        let consumer = try KafkaConsumer(config: config, logger: logger)
        defer { try? consumer.close() }
        func partitions(_ topics: [String]) -> [TopicPartition] {
            topics.flatMap { topic in (0..<(counts[topic] ?? 0)).map { TopicPartition(topic, $0) } }
        }
        result.inputEnds = try consumer.watermarks(partitions(inputTopics), timeout: timeout).mapValues(\.high)
        var starts: [TopicPartition: Int64] = [:]
        for (tp, (low, high)) in try consumer.watermarks(partitions(topics + [deadLetterTopic]), timeout: timeout) {
            result.ends[tp] = high
            guard let from else { continue }
            let start = max(from[tp] ?? 0, low)
            if start < high { starts[tp] = start }
        }
        guard !starts.isEmpty else { return result }
        try consumer.assign(starts)
        var remaining = Set(starts.keys)
        let deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(code: .timedOut, message: "reading back outputs: \(remaining.sorted()) not read to the end")
            }
            for message in consumer.poll(timeout: .milliseconds(100)) {
                let tp = message.topicPartition
                if message.topic == deadLetterTopic {
                    if let source = Self.source(of: message) { result.deadLetters.insert(source) }
                } else if let value = message.value, let id = AlertLine.id(in: value) {
                    result.alerts.insert(OutputIdentity(topic: message.topic, id: id))
                }
                if message.offset + 1 >= result.ends[tp] ?? 0 { remaining.remove(tp) }
            }
        }
        return result
    }

    private static func source(of message: KafkaMessage) -> OutputIdentity? {
        func header(_ name: String) -> String? {
            message.headers.last { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        guard let topic = header(DeadLetter.Header.topic), let partition = header(DeadLetter.Header.partition).flatMap({ Int32($0) }),
            let offset = header(DeadLetter.Header.offset).flatMap({ Int64($0) })
        else { return nil }
        return .deadLetter(topic: message.topic, source: TopicPartition(topic, partition), offset: offset)
    }
}
