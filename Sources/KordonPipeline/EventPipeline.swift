import KordonEvents
import KordonKafka
import Logging
import Synchronization

/// What to do with each valid event: the records to publish for it (alerts). The event's offset
/// is committed only once every one of them is acknowledged by Kafka.
public typealias EventProcessor = (Event, KafkaMessage) -> [ProducerRecord]

public struct PipelineOptions: Sendable {
    public var inputTopics: [String]
    public var deadLetterTopic: String
    /// librdkafka properties of the consumer; must include `bootstrap.servers` and `group.id`.
    public var consumer: KafkaConfig
    /// librdkafka properties of the producer; must include `bootstrap.servers`.
    public var producer: KafkaConfig
    public var decoderLimits: EventDecoder.Limits
    public var maxBatch: Int
    /// How often processed offsets are committed while running (always on revoke and stop).
    public var commitInterval: Duration
    /// How long a revoke or a stop waits for outstanding deliveries before it gives up on them.
    public var drainTimeout: Duration
    /// Published records awaiting acknowledgement above which consumption pauses (it resumes below
    /// half of it). Consumption pauses too while the producer's local queue is full.
    public var maxInFlight: Int

    public init(
        inputTopics: [String], deadLetterTopic: String = DeadLetter.defaultTopic, consumer: KafkaConfig,
        producer: KafkaConfig, decoderLimits: EventDecoder.Limits = .init(), maxBatch: Int = 4096,
        commitInterval: Duration = .seconds(1), drainTimeout: Duration = .seconds(30), maxInFlight: Int = 100_000
    ) {
        self.inputTopics = inputTopics
        self.deadLetterTopic = deadLetterTopic
        self.consumer = consumer
        self.producer = producer
        self.decoderLimits = decoderLimits
        self.maxBatch = maxBatch
        self.commitInterval = commitInterval
        self.drainTimeout = drainTimeout
        self.maxInFlight = maxInFlight
    }
}

public struct PipelineCounters: Sendable, Equatable {
    public var consumed = 0
    public var decoded = 0
    public var deadLettered = 0
    public var published = 0
    public var deliveryRetries = 0
    /// Times consumption paused because publishing fell behind.
    public var pauses = 0

    public init(
        consumed: Int = 0, decoded: Int = 0, deadLettered: Int = 0, published: Int = 0, deliveryRetries: Int = 0,
        pauses: Int = 0
    ) {
        self.consumed = consumed
        self.decoded = decoded
        self.deadLettered = deadLettered
        self.published = published
        self.deliveryRetries = deliveryRetries
        self.pauses = pauses
    }
}

/// Consume, decode, process, publish, commit: one loop on one dedicated thread, so the
/// rebalance handler (which runs inside `poll`) sees a consistent state and can drain and commit
/// revoked partitions before they go.
public final class EventPipeline: @unchecked Sendable {
    private let options: PipelineOptions
    private let logger: Logger
    private let decoder: EventDecoder
    private let process: EventProcessor
    private let producer: KafkaProducer
    private var consumer: KafkaConsumer!
    private var tracker = OffsetTracker()
    /// Published records not yet acknowledged, by delivery token, with the input message they answer.
    private var inFlight: [UInt64: (source: TopicPartition, offset: Int64, record: ProducerRecord)] = [:]
    /// Tokens of records the producer's full queue has not taken yet, oldest first.
    private var unsent: [UInt64] = []
    private var paused = false
    private var nextToken: UInt64 = 1
    private let stopRequested = Atomic<Bool>(false)
    private let countersBox = Mutex(PipelineCounters())

    public init(options: PipelineOptions, logger: Logger, process: @escaping EventProcessor) throws(KafkaError) {
        self.options = options
        self.logger = logger
        self.process = process
        decoder = EventDecoder(limits: options.decoderLimits)
        producer = try KafkaProducer(config: options.producer, logger: logger)
        consumer = try KafkaConsumer(config: options.consumer, logger: logger) { [unowned self] _, rebalance in
            if case .revoked(let partitions, let lost) = rebalance { self.release(partitions, lost: lost) }
            return [:]
        }
    }

    public var counters: PipelineCounters { countersBox.withLock { $0 } }

    /// Asks `run` to drain, commit and return. Safe from any thread or signal handler task.
    public func stop() { stopRequested.store(true, ordering: .releasing) }

    /// Runs until `stop`; blocking, so call it on a dedicated thread.
    public func run() throws(KafkaError) {
        try consumer.subscribe(options.inputTopics)
        var nextCommit = ContinuousClock.now + options.commitInterval
        while !stopRequested.load(ordering: .acquiring) {
            // Paused, poll still serves rebalances and keeps the group membership alive; it only
            // returns what was fetched before the pause.
            let batch = consumer.poll(maxMessages: options.maxBatch, timeout: .milliseconds(paused ? 10 : 100))
            for message in batch { handle(message) }
            serveDeliveries(timeout: paused ? .milliseconds(10) : .zero)
            sendUnsent()
            applyBackpressure()
            if ContinuousClock.now >= nextCommit {
                commit(mode: .async)
                nextCommit = ContinuousClock.now + options.commitInterval
            }
        }
        drain(until: { !self.tracker.hasOutstanding })
        commit(mode: .sync)
        try consumer.close()
    }

    private func handle(_ message: KafkaMessage) {
        let tp = message.topicPartition
        let outputs: [ProducerRecord]
        let rejection: EventRejection?
        if let value = message.value {
            switch decoder.decode(value) {
            case .success(let event):
                outputs = process(event, message)
                rejection = nil
            case .failure(let reason):
                rejection = reason
                outputs = []
            }
        } else {
            rejection = EventRejection(path: "message", reason: "null value (tombstone)")
            outputs = []
        }
        let records = rejection.map { [DeadLetter.record(for: message, reason: $0.description, topic: options.deadLetterTopic)] } ?? outputs
        countersBox.withLock {
            $0.consumed += 1
            if rejection == nil { $0.decoded += 1 } else { $0.deadLettered += 1 }
        }
        tracker.consumed(tp, offset: message.offset, outputs: records.count)
        for record in records {
            let token = nextToken
            nextToken += 1
            inFlight[token] = (tp, message.offset, record)
            send(record, token: token)
        }
    }

    /// Hands the record to the producer, or keeps it (in order) while the producer's queue is full.
    private func send(_ record: ProducerRecord, token: UInt64) {
        guard unsent.isEmpty else { return unsent.append(token) }
        do {
            try producer.send(record, token: token)
        } catch {
            if error.code != .queueFull { logger.error("publish to \(record.topic) failed, will retry: \(error)") }
            unsent.append(token)
        }
    }

    private func sendUnsent() {
        var sent = 0
        defer { unsent.removeFirst(sent) }
        for token in unsent {
            guard let record = inFlight[token]?.record else {
                sent += 1  // its partition was revoked meanwhile
                continue
            }
            do {
                try producer.send(record, token: token)
                sent += 1
            } catch {
                return
            }
        }
    }

    /// Pauses every assigned partition while publishing is behind, and resumes once it has caught
    /// up: slow or unreachable Kafka stops consumption instead of filling memory or dropping alerts.
    private func applyBackpressure() {
        let behind = !unsent.isEmpty || inFlight.count >= options.maxInFlight
        let caughtUp = unsent.isEmpty && inFlight.count < options.maxInFlight / 2
        do {
            if behind {
                // Again on every turn while behind: partitions assigned since must be paused too.
                try consumer.pause(consumer.assignment())
                if !paused {
                    paused = true
                    countersBox.withLock { $0.pauses += 1 }
                    logger.warning("publishing is behind (\(inFlight.count) in flight, \(unsent.count) queued): consumption paused")
                }
            } else if paused, caughtUp {
                try consumer.resume(consumer.assignment())
                paused = false
                logger.notice("publishing caught up: consumption resumed")
            }
        } catch {
            logger.error("backpressure: \(error)")
        }
    }

    private func serveDeliveries(timeout: Duration = .zero) {
        for report in producer.pollDeliveries(timeout: timeout) {
            guard let entry = inFlight[report.token] else { continue }
            if let error = report.error {
                // The idempotent producer gave up on it (message.timeout.ms): send it again.
                logger.error("delivery to \(report.topic) failed, retrying: \(error)")
                countersBox.withLock { $0.deliveryRetries += 1 }
                send(entry.record, token: report.token)
                continue
            }
            inFlight[report.token] = nil
            tracker.acknowledged(entry.source, offset: entry.offset)
            countersBox.withLock { $0.published += 1 }
        }
    }

    private func drain(until done: () -> Bool) {
        let deadline = ContinuousClock.now + options.drainTimeout
        while !done(), ContinuousClock.now < deadline {
            sendUnsent()
            producer.flush(timeout: .milliseconds(100))
            serveDeliveries()
        }
        if !done() { logger.error("gave up waiting for \(inFlight.count) deliveries; their inputs stay uncommitted") }
    }

    private func commit(mode: KafkaConsumer.CommitMode, only: Set<TopicPartition>? = nil) {
        let offsets = tracker.uncommitted(in: only)
        guard !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets, mode: mode)
            tracker.markCommitted(offsets)
        } catch {
            logger.warning("commit failed, will retry: \(error)")
        }
    }

    /// Partitions are going: finish their deliveries and commit them while they are still ours.
    private func release(_ partitions: [TopicPartition], lost: Bool) {
        let going = Set(partitions)
        if !lost {
            drain(until: { going.allSatisfy { self.tracker.outstanding($0) == 0 } })
            commit(mode: .sync, only: going)
        }
        tracker.remove(going)
        inFlight = inFlight.filter { !going.contains($0.value.source) }
    }
}
