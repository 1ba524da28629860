import Dispatch
import Foundation
import KordonEngine
import KordonEvents
import KordonKafka
import Logging
import Synchronization

public struct PipelineOptions: Sendable {
    public var group: String
    public var inputTopics: [String]
    public var deadLetterTopic: String
    /// librdkafka properties of the consumer; must include `bootstrap.servers` and `group.id`.
    public var consumer: KafkaConfig
    /// librdkafka properties of the producer; must include `bootstrap.servers`.
    public var producer: KafkaConfig
    public var decoderLimits: EventDecoder.Limits
    public var maxBatch: Int
    /// How often state is checkpointed and input offsets committed (always on revoke and stop).
    public var checkpointInterval: Duration
    /// How long a revoke, a stop or the start-up read-back may wait on Kafka.
    public var drainTimeout: Duration
    /// Published records awaiting acknowledgement above which consumption pauses (it resumes below
    /// half of it). Consumption pauses too while the producer's local queue is full.
    public var maxInFlight: Int
    /// A partition with no message for this long stops holding back event time.
    public var idleTimeout: Duration
    public var stateDirectory: String
    /// The one-partition topic whose holder, in the group `activeGroup`, is the active instance.
    public var activeTopic: String { group + ".active" }
    public var activeGroup: String { group + ".active" }
    /// Every topic a route may send alerts to, read back after a restart.
    public var alertTopics: [String]

    public init(
        group: String, inputTopics: [String], alertTopics: [String], deadLetterTopic: String = DeadLetter.defaultTopic,
        consumer: KafkaConfig, producer: KafkaConfig, stateDirectory: String,
        decoderLimits: EventDecoder.Limits = .init(), maxBatch: Int = 4096,
        checkpointInterval: Duration = .seconds(5), drainTimeout: Duration = .seconds(30),
        maxInFlight: Int = 100_000, idleTimeout: Duration = .seconds(2)
    ) {
        self.group = group
        self.inputTopics = inputTopics
        self.alertTopics = alertTopics
        self.deadLetterTopic = deadLetterTopic
        self.consumer = consumer
        self.producer = producer
        self.stateDirectory = stateDirectory
        self.decoderLimits = decoderLimits
        self.maxBatch = maxBatch
        self.checkpointInterval = checkpointInterval
        self.drainTimeout = drainTimeout
        self.maxInFlight = maxInFlight
        self.idleTimeout = idleTimeout
    }
}

/// What the engine does with alerts on their way out, swapped on a config reload.
public struct AlertOutput: Sendable {
    /// The topics an alert goes to (at least one).
    public var route: @Sendable (Alert) -> [String]
    /// Applied before the alert is written (pseudonymisation).
    public var transform: @Sendable (Alert) -> Alert

    public init(route: @escaping @Sendable (Alert) -> [String], transform: @escaping @Sendable (Alert) -> Alert = { $0 }) {
        self.route = route
        self.transform = transform
    }
}

public struct PipelineCounters: Sendable, Equatable {
    public var consumed = 0
    /// Decoded events by kind and what the engine made of them (accepted, duplicate, late).
    public var events: [EventOutcome: Int] = [:]
    public var deadLettered = 0
    /// Alerts by rule and severity.
    public var alerts: [AlertCount: Int] = [:]
    /// Matches swallowed by suppression, as the alerts after them report.
    public var suppressed = 0
    /// Alert and dead-letter records acknowledged by Kafka.
    public var published = 0
    /// Outputs not published again after a restart because they were already on their topic or in the log.
    public var alreadyDelivered = 0
    public var deliveryRetries = 0
    /// Times consumption paused because publishing fell behind.
    public var pauses = 0
    public var checkpoints = 0
    public var checkpointBytes = 0
    public var rebalances = 0
    /// Turns of the loop that published these counters: it moves while the loop is alive.
    public var heartbeat = 0
    /// Seconds from an event's Kafka timestamp to the acknowledgement of an alert it released, newest last (bounded).
    public var latencies: [Double] = []
    /// Latency samples recorded in all, so a reader can tell which of `latencies` are new.
    public var latencySamples = 0

    public init() {}

    public var decoded: Int { events.values.reduce(0, +) }
}

public struct EventOutcome: Hashable, Sendable {
    public var kind: String
    public var outcome: String
}

public struct AlertCount: Hashable, Sendable {
    public var rule: String
    public var severity: String
}

/// Consume, decode, detect, publish, checkpoint: one loop on one dedicated thread, so a change of
/// role (delivered inside the coordinator's `poll`) sees a consistent state and can checkpoint and
/// commit before the input partitions go to another instance. Only decoding runs beside it, a batch
/// ahead (`BatchDecoder`); a batch counts as read once the loop has handled it.
///
/// Offsets are committed only at checkpoints, and a checkpoint is written only once every alert
/// and dead letter made before it is acknowledged by Kafka and written to the log: the engine
/// buffers events for the watermark, so an input offset alone cannot say that its alerts are out.
/// A restart restores the engine and resumes from the checkpoint's offsets, and reads back what
/// reached the outputs after it, so nothing is lost and nothing is published twice.
public final class DetectionPipeline: @unchecked Sendable {
    private let options: PipelineOptions
    private let logger: Logger
    /// Decodes the batch just polled while this thread runs the engine on the one before.
    private let decoding: BatchDecoder
    private let producer: KafkaProducer
    private let log: AlertLog
    private let store: CheckpointStore
    /// Reads the input partitions (assigned by us, all of them, while active); commits for the group.
    private var consumer: KafkaConsumer!
    /// Membership of the group that decides which instance is active: the one holding the only
    /// partition of `activeTopic`. The engine correlates events across every input partition, so
    /// one instance consumes them all; the others stand by and take over when it goes.
    private var coordinator: KafkaConsumer!
    private var active = false
    private var activationDue: ContinuousClock.Instant?
    /// A problem no retry mends (a damaged checkpoint, a producer failed for good): `run` stops and throws it.
    private var fatal: (any Error)?
    private var engine: Engine
    private let restore: ([UInt8]) throws -> Engine
    /// The last config reload, applied again to state restored later.
    private var reconfigure: (@Sendable (Engine) -> Engine)?
    private var output: AlertOutput
    private var delivered = DeliveredOutputs()

    /// Next offset to read per input partition: from the checkpoint, then as processed.
    private var positions: [TopicPartition: Int64] = [:]
    private var assigned: Set<TopicPartition> = []
    private var lastMessage: [TopicPartition: ContinuousClock.Instant] = [:]
    private var idle: Set<TopicPartition> = []
    /// Per output partition, the offset after the last acknowledged record.
    private var outputEnds: [TopicPartition: Int64] = [:]

    /// After a restart, until reprocessing has passed where the previous run may have got (the input
    /// ends at start), outputs it made may still be found again: checkpoints keep pointing where the
    /// restored one did, so a second crash in that time reads them back too.
    private struct Recovery {
        var outputs: [TopicPartition: Int64]
        var log: AlertLog.Position
        var inputEnds: [TopicPartition: Int64]
    }

    private var recovery: Recovery?

    private struct InFlight {
        var record: ProducerRecord
        /// The Kafka timestamp (ms) of the event whose processing released it, for latency.
        var sourceTime: Int64?
    }

    private var inFlight: [UInt64: InFlight] = [:]
    /// Tokens of records the producer's full queue has not taken yet, oldest first.
    private var unsent: [UInt64] = []
    private var nextToken: UInt64 = 1
    private var paused = false

    private struct PendingCheckpoint {
        var barrier: UInt64
        var outstanding: Int
        var engine: Engine
        var inputs: [TopicPartition: Int64]
        var outputs: [TopicPartition: Int64]
        var log: AlertLog.Position
    }

    private var pending: PendingCheckpoint?
    private let writer = CheckpointWriter()
    private var changedSinceCheckpoint = false
    /// The consumer's `failedCommits` when last looked at: a move means a checkpoint's offsets
    /// may not be committed, so the next checkpoint is due even if nothing else changed.
    private var failedCommitsSeen = 0
    /// The input positions of the last checkpoint written, committed again synchronously when one is
    /// due at once (revoke, stop) but nothing changed since.
    private var lastCheckpointed: [TopicPartition: Int64] = [:]
    private var nextCheckpoint = ContinuousClock.now

    private let stopRequested = Atomic<Bool>(false)
    private let reloadBox = Mutex<(engine: @Sendable (Engine) -> Engine, output: AlertOutput)?>(nil)
    private let countersBox = Mutex(PipelineCounters())
    private var local = PipelineCounters()
    /// When delivery reports were last served: also while the engine works through a long release.
    private var deliveriesServed = ContinuousClock.now

    /// `engine` is the state to start from when the state directory has no checkpoint; `restore`
    /// rebuilds an engine from checkpointed bytes. Nothing is read until the instance is active.
    public init(
        options: PipelineOptions, engine: Engine, restore: @escaping ([UInt8]) throws -> Engine, output: AlertOutput,
        log: AlertLog, logger: Logger
    ) throws {
        self.options = options
        self.logger = logger
        self.output = output
        self.log = log
        self.engine = engine
        self.restore = restore
        decoding = BatchDecoder(decoder: EventDecoder(limits: options.decoderLimits))
        store = CheckpointStore(directory: options.stateDirectory)
        producer = try KafkaProducer(config: options.producer, logger: logger)
        producer.prepare(topics: options.alertTopics + [options.deadLetterTopic])
        consumer = try KafkaConsumer(config: options.consumer, logger: logger)
        var coordination = options.consumer
        coordination["group.id"] = options.activeGroup
        // Sticky: an instance joining does not take the active role from the one that has it.
        coordination["partition.assignment.strategy"] = "cooperative-sticky"
        coordinator = try KafkaConsumer(config: coordination, logger: logger) { [unowned self] _, change in
            self.roleChanged(change)
            return [:]
        }
    }

    /// On taking up the active role: the engine, input positions and output marks from the latest
    /// checkpoint (this instance's last, or the previous active one's when they share the state
    /// directory), and what reached the outputs since it, so reprocessing repeats nothing.
    private func restoreState() throws {
        var readFrom: [TopicPartition: Int64]?
        var logSince: AlertLog.Position?
        lastCheckpointed = [:]
        if let checkpoint = try store.load() {
            guard checkpoint.group == options.group else {
                throw CheckpointError(
                    path: store.path,
                    problem: "belongs to group \"\(checkpoint.group)\", not \"\(options.group)\"; move it away to start afresh")
            }
            engine = try restore(checkpoint.engine)
            if let reconfigure { engine = reconfigure(engine) }
            positions = checkpoint.inputs
            lastCheckpointed = checkpoint.inputs
            readFrom = checkpoint.outputs
            logSince = checkpoint.log
            logger.notice(
                "restored checkpoint", metadata: ["partitions": "\(positions.count)", "bytes": "\(checkpoint.engine.count)"])
        }
        var readback = options.consumer
        readback["group.id"] = options.group + ".readback"
        delivered = try OutputReadback.read(
            topics: options.alertTopics, deadLetterTopic: options.deadLetterTopic, inputTopics: options.inputTopics,
            from: readFrom, config: readback, adminConfig: options.producer, logger: logger, timeout: options.drainTimeout)
        outputEnds = delivered.ends
        recovery = nil
        if let readFrom, let logSince {
            recovery = Recovery(outputs: readFrom, log: logSince, inputEnds: delivered.inputEnds)
            for line in AlertLog.lines(since: logSince, path: log.path) {
                if let id = AlertLine.id(in: line) { delivered.alerts.insert(OutputIdentity(topic: "", id: id)) }
            }
        } else {
            // A first checkpoint before any work: a crash before the next one still finds where
            // this run's outputs begin, and does not publish them twice.
            try store.save(
                Checkpoint(
                    group: options.group, inputs: [:], outputs: delivered.ends, log: log.position(),
                    engine: engine.snapshot()))
        }
    }

    public var counters: PipelineCounters { countersBox.withLock { $0 } }

    /// The engine's state size and counts, as last published by the loop.
    public var engineState: (footprint: EngineFootprint, stats: EngineStats)? { engineBox.withLock { $0 } }
    private let engineBox = Mutex<(footprint: EngineFootprint, stats: EngineStats)?>(nil)

    /// Asks `run` to checkpoint, commit and return. Safe from any thread.
    public func stop() { stopRequested.store(true, ordering: .releasing) }

    /// Applies a new rulebook and routes between two batches. Safe from any thread.
    public func reload(engine change: @escaping @Sendable (Engine) -> Engine, output: AlertOutput) {
        reloadBox.withLock { $0 = (change, output) }
    }

    /// Asks now for the partitions of topics a reloaded config routes alerts to, as the pipeline does
    /// for the first config's, so the first alert to a new one is not held back. Safe from any thread.
    public func prepare(alertTopics: [String]) {
        producer.prepare(topics: alertTopics)
    }

    /// Messages not yet consumed per assigned partition, asked of the brokers; nil when Kafka cannot
    /// say. Blocks up to a second: call it off Swift's cooperative pool.
    public func lag() -> [TopicPartition: Int64]? {
        try? consumer.lag(timeout: .seconds(1))
    }

    /// Messages not yet consumed per assigned partition as of the last fetch responses (no request
    /// is made), as the loop last published it.
    public var cachedLag: [TopicPartition: Int64] { cachedLagBox.withLock { $0 } }
    private let cachedLagBox = Mutex<[TopicPartition: Int64]>([:])

    /// The latest librdkafka statistics JSON of the consumer and the producer (`statistics.interval.ms`).
    public var statistics: (consumer: String?, producer: String?) { (consumer.statistics, producer.statistics) }

    /// Whether this instance is the active one (consuming); safe from any thread.
    public var isActive: Bool { !((try? consumer.assignment()) ?? []).isEmpty }

    /// Reopens the alert log before the next line. Safe from any thread.
    public func reopenLog() { log.requestReopen() }

    /// Runs until `stop`; blocking, so call it on a dedicated thread.
    public func run() throws {
        try coordinator.subscribe([options.activeTopic])
        decoding.start()
        defer { decoding.stop() }
        var lastPublish = ContinuousClock.now
        while !stopRequested.load(ordering: .acquiring) {
            // The active topic carries no messages: this serves the role's rebalances and heartbeats.
            _ = coordinator.poll(maxMessages: 1, timeout: .zero)
            if let due = activationDue, ContinuousClock.now >= due { activate() }
            // Paused, poll still serves rebalances and keeps the group membership alive; it only
            // returns what was fetched before the pause.
            // While deliveries are outstanding, wait briefly: their reports are served between polls.
            // With a batch being decoded, not at all: it is handled as soon as it is ready.
            let wait: Duration =
                decoding.busy ? .zero : paused || !inFlight.isEmpty ? .milliseconds(paused ? 10 : 2) : .milliseconds(100)
            let batch = consumer.poll(maxMessages: options.maxBatch, timeout: wait)
            markIdlePartitions(releasedBy: nil)
            let decoded = decoding.take()
            if !batch.isEmpty { decoding.submit(batch) }
            // Alerts released by inputs going idle right after a batch count their latency from that batch.
            let handled = decoded.flatMap { handle($0) }
            markIdlePartitions(releasedBy: handled)
            serveDeliveries(timeout: paused ? .milliseconds(10) : .zero)
            if let error = producer.fatalError { stopForGood(error) }
            sendUnsent()
            applyBackpressure()
            applyReload()
            noticeFailedCommits()
            if pending == nil, changedSinceCheckpoint, ContinuousClock.now >= nextCheckpoint { beginCheckpoint() }
            finishCheckpointWrite(wait: false)
            if let pending, pending.outstanding == 0 { completeCheckpoint(wait: false) }
            if ContinuousClock.now - lastPublish >= .milliseconds(250) {
                publishCounters()
                lastPublish = ContinuousClock.now
            }
        }
        if active {
            handleDecoding()
            checkpointNow()
        }
        publishCounters()
        // Leaving the role's group hands it to a standby, after a last checkpoint on revoke.
        try coordinator.close()
        try consumer.close()
        if let fatal { throw fatal }
    }

    // MARK: - Events

    /// Handles the batch being decoded, if any, once it is ready: before a checkpoint that must
    /// cover everything polled (on stop, or handing the role over).
    private func handleDecoding() {
        if let decoded = decoding.take() { handle(decoded) }
    }

    /// Handles a batch; per-partition bookkeeping is done once per run of messages from one
    /// partition (a batch comes in such runs), not once per message. Returns the batch's earliest
    /// Kafka timestamp (ms), if any.
    @discardableResult
    private func handle(_ decoded: BatchDecoder.Decoded) -> Int64? {
        let batch = decoded.batch
        guard !batch.isEmpty else { return nil }
        changedSinceCheckpoint = true
        let now = ContinuousClock.now
        var current: TopicPartition?
        var next: Int64 = 0
        var earliest: Int64?
        for (index, message) in batch.enumerated() {
            if let time = message.timestamp, time < earliest ?? .max { earliest = time }
            if current?.partition != message.partition || current?.topic != message.topic {
                if let current { positions[current] = next }
                let tp = message.topicPartition
                // New data after a quiet spell: every idle input holds the watermark again until it
                // too has been quiet for `idleTimeout`, so a burst on one partition cannot run ahead
                // of the others' messages still in flight and make them late.
                if idle.contains(tp) { wakeIdleInputs() }
                lastMessage[tp] = now
                current = tp
            }
            next = message.offset + 1
            handle(message, decoded.take(index))
        }
        if let current { positions[current] = next }
        return earliest
    }

    /// `decoded`: the message's event or why it was rejected; nil when it has no value (a tombstone).
    private func handle(_ message: KafkaMessage, _ decoded: consuming Result<Event, EventRejection>?) {
        local.consumed += 1
        switch consume decoded {
        case nil:
            deadLetter(message, reason: "message: null value (tombstone)")
        case .failure(let reason)?:
            deadLetter(message, reason: reason.description)
        case .success(let event)?:
            let origin = EventOrigin(topic: message.topic, partition: message.partition, offset: message.offset)
            var sink = AlertEmitter(pipeline: self, sourceTime: message.timestamp)
            // Read before the event is handed over, so that it is moved into the engine, not copied.
            let kind = event.kind
            let id = event.id
            let admission = engine.ingest(event, from: origin, into: &sink)
            let outcome: Outcome
            switch admission {
            case .accepted: outcome = .accepted
            case .duplicate: outcome = .duplicate
            case .late:
                outcome = .late
                lateSinceReport[message.topicPartition, default: (0, id)].count += 1
            }
            outcomes[EventKind.allCases.firstIndex(of: kind)! * Outcome.allCases.count + outcome.rawValue] += 1
        }
    }

    private enum Outcome: Int, CaseIterable {
        case accepted, duplicate, late
        var name: String { ["accepted", "duplicate", "late"][rawValue] }
    }

    /// Events by kind and outcome, kept as plain counts on the hot path.
    private var outcomes = [Int](repeating: 0, count: EventKind.allCases.count * Outcome.allCases.count)
    /// Late events per input since the last warning about them, with one id as an example.
    private var lateSinceReport: [TopicPartition: (count: Int, example: String)] = [:]
    private var lastLateReport = ContinuousClock.now

    /// One warning per input and ten seconds, however many events came too late.
    private func reportLateEvents() {
        guard !lateSinceReport.isEmpty, ContinuousClock.now - lastLateReport >= .seconds(10) else { return }
        for (tp, late) in lateSinceReport.sorted(by: { $0.key < $1.key }) {
            logger.warning(
                "late events not processed: older than the watermark by more than the allowed lateness",
                metadata: ["input": "\(tp)", "count": "\(late.count)", "example": "\(late.example)"])
        }
        lateSinceReport = [:]
        lastLateReport = .now
    }

    private func deadLetter(_ message: KafkaMessage, reason: String) {
        local.deadLettered += 1
        let identity = OutputIdentity.deadLetter(
            topic: options.deadLetterTopic, source: message.topicPartition, offset: message.offset)
        guard !delivered.deadLetters.contains(identity) else {
            local.alreadyDelivered += 1
            return
        }
        publish(DeadLetter.record(for: message, reason: reason, topic: options.deadLetterTopic), sourceTime: nil)
    }

    /// Takes alerts from the engine as it makes them. One event can release thousands of buffered
    /// ones (the watermark moving past them), which take the engine a while: each alert goes out at
    /// once rather than after the last, and delivery reports are served meanwhile.
    private struct AlertEmitter: AlertSink {
        let pipeline: DetectionPipeline
        /// The Kafka timestamp (ms) of the event whose processing releases the alerts, for latency.
        let sourceTime: Int64?

        mutating func append(_ alert: Alert) {
            pipeline.emit(alert, sourceTime: sourceTime)
            if ContinuousClock.now - pipeline.deliveriesServed >= .milliseconds(1) { pipeline.serveDeliveries() }
        }
    }

    /// Writes an alert the engine released to the log and its topics: the same bytes to both.
    /// After a fatal error nothing more goes out: the next start reprocesses from the last checkpoint.
    private func emit(_ raw: Alert, sourceTime: Int64?) {
        guard fatal == nil else { return }
        let alert = output.transform(raw)
        local.alerts[AlertCount(rule: alert.rule, severity: alert.severity.rawValue), default: 0] += 1
        local.suppressed += alert.suppressed
        let bytes = alert.jsonBytes()
        if delivered.alerts.contains(OutputIdentity(topic: "", id: alert.id)) {
            local.alreadyDelivered += 1
        } else {
            writeLog(bytes)
        }
        for topic in output.route(alert) {
            guard !delivered.alerts.contains(OutputIdentity(topic: topic, id: alert.id)) else {
                local.alreadyDelivered += 1
                continue
            }
            let record = ProducerRecord(
                topic: topic, key: Array(alert.key.value.utf8)[...], value: bytes[...],
                headers: [KafkaHeader("kordon.rule", alert.rule), KafkaHeader("kordon.severity", alert.severity.rawValue)])
            publish(record, sourceTime: sourceTime)
        }
    }

    /// The log must take every alert before its offsets are committed: on a failing disk, retry
    /// (consumption stalls, nothing is dropped) until it works. Asked to stop meanwhile, it retries
    /// for as long as a stop drains, then gives up: a fatal error, so the stop takes no checkpoint
    /// and the next start writes these alerts again.
    private func writeLog(_ bytes: [UInt8]) {
        var attempt = 0
        var stopping: ContinuousClock.Instant?
        while true {
            do {
                return try log.append(bytes)
            } catch {
                if attempt % 50 == 0 { logger.error("\(error); retrying") }
                attempt += 1
                if stopRequested.load(ordering: .acquiring) {
                    let since = stopping ?? .now
                    stopping = since
                    if ContinuousClock.now - since >= options.drainTimeout {
                        logger.critical("stopping without a checkpoint: \(error); the next start reprocesses from the last one")
                        fatal = error
                        return
                    }
                }
                serveDeliveries(timeout: .milliseconds(100))
            }
        }
    }

    private func publish(_ record: ProducerRecord, sourceTime: Int64?) {
        let token = nextToken
        nextToken += 1
        inFlight[token] = InFlight(record: record, sourceTime: sourceTime)
        send(record, token: token)
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
            guard let entry = inFlight[token] else {
                sent += 1
                continue
            }
            do {
                try producer.send(entry.record, token: token)
                sent += 1
            } catch {
                return
            }
        }
    }

    private func serveDeliveries(timeout: Duration = .zero) {
        deliveriesServed = .now
        let now = Int64(clock_ms())
        for report in producer.pollDeliveries(timeout: timeout) {
            guard let entry = inFlight[report.token] else { continue }
            if let error = report.error {
                // The idempotent producer gave up on it (message.timeout.ms): send it again.
                logger.error("delivery to \(report.topic) failed, retrying: \(error)")
                local.deliveryRetries += 1
                send(entry.record, token: report.token)
                continue
            }
            inFlight[report.token] = nil
            let tp = TopicPartition(report.topic, report.partition)
            outputEnds[tp] = max(outputEnds[tp] ?? 0, report.offset + 1)
            local.published += 1
            if let source = entry.sourceTime, entry.record.topic != options.deadLetterTopic {
                local.latencies.append(Double(now - source) / 1000)
            }
            if let barrier = pending?.barrier, report.token < barrier { pending!.outstanding -= 1 }
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
                    local.pauses += 1
                    logger.warning("publishing is behind (\(inFlight.count) in flight, \(unsent.count) queued): consumption paused")
                }
            } else if paused, caughtUp {
                try consumer.resume(consumer.assignment())
                paused = false
                for tp in assigned { lastMessage[tp] = .now }
                logger.notice("publishing caught up: consumption resumed")
            }
        } catch {
            logger.error("backpressure: \(error)")
        }
    }

    /// A partition with nothing new for `idleTimeout` stops holding back the watermark, but only
    /// once it is known to be caught up (its position at the high watermark of the last fetch), as
    /// Kafka Streams does: one whose leader is unreachable, or which is paused, may still have events.
    /// A partition no longer ours is let go after the timeout alone. `releasedBy`: the Kafka timestamp
    /// (ms) the alerts this releases count their latency from, when a batch was just handled.
    private func markIdlePartitions(releasedBy: Int64?) {
        for tp in idle where assigned.contains(tp) && hasLag(tp) {
            idle.remove(tp)
            lastMessage[tp] = .now
            engine.markActive(InputID(topic: tp.topic, partition: tp.partition))
            changedSinceCheckpoint = true
        }
        guard !paused else { return }
        let limit = ContinuousClock.now - options.idleTimeout
        var caughtUp: [InputID] = []
        for (tp, last) in lastMessage where last <= limit && !idle.contains(tp) {
            if assigned.contains(tp) {
                guard let high = consumer.cachedHighWatermark(tp), let position = position(tp), position >= high else {
                    continue
                }
            }
            idle.insert(tp)
            logger.debug("input idle", metadata: ["partition": "\(tp)"])
            caughtUp.append(InputID(topic: tp.topic, partition: tp.partition))
        }
        guard !caughtUp.isEmpty else { return }
        var sink = AlertEmitter(pipeline: self, sourceTime: releasedBy)
        engine.markIdle(caughtUp, into: &sink)
        changedSinceCheckpoint = true
    }

    private func wakeIdleInputs() {
        for tp in idle {
            lastMessage[tp] = .now
            engine.markActive(InputID(topic: tp.topic, partition: tp.partition))
        }
        idle.removeAll()
    }

    /// Known to have messages not read yet (as of the last fetch response).
    private func hasLag(_ tp: TopicPartition) -> Bool {
        guard let high = consumer.cachedHighWatermark(tp), let position = position(tp) else { return false }
        return position < high
    }

    /// The next offset to read, as far as messages were handled (set for every partition on activation).
    private func position(_ tp: TopicPartition) -> Int64? {
        positions[tp]
    }

    private func applyReload() {
        guard let change = reloadBox.withLock({ box in defer { box = nil }; return box }) else { return }
        engine = change.engine(engine)
        reconfigure = change.engine
        output = change.output
        changedSinceCheckpoint = true
        logger.notice("config reloaded", metadata: ["rules": "\(engine.rulebook.rules.count)"])
    }

    // MARK: - Checkpoints

    /// Captures the state now (a copy-on-write copy of the engine); it is written once every
    /// output made so far is acknowledged.
    private func beginCheckpoint() {
        // A standby's state is not the group's: never let it replace the active one's checkpoint.
        // After a fatal error the state is ahead of what went out (`emit`): it must not be saved.
        guard active, fatal == nil else { return }
        let position: AlertLog.Position
        do {
            position = try log.position()
        } catch {
            return logger.error("checkpoint: \(error)")
        }
        if let ends = recovery?.inputEnds, ends.allSatisfy({ !assigned.contains($0.key) || positions[$0.key] ?? 0 >= $0.value }) {
            recovery = nil
        }
        pending = PendingCheckpoint(
            barrier: nextToken, outstanding: inFlight.count, engine: engine, inputs: positions,
            outputs: recovery?.outputs ?? outputEnds, log: recovery?.log ?? position)
        changedSinceCheckpoint = false
        nextCheckpoint = .now + options.checkpointInterval
    }

    /// Hands the pending checkpoint to the writer thread (the engine copy is encoded there, so the
    /// loop goes on consuming); `wait` blocks until it is written and committed.
    private func completeCheckpoint(wait: Bool) {
        guard let pending, writer.idle else { return }
        self.pending = nil
        do {
            // Here, not on the writer: the loop may reopen the log's descriptor at any append.
            try log.sync()
        } catch {
            changedSinceCheckpoint = true
            return logger.error("checkpoint not written: \(error)")
        }
        let checkpoint = (
            group: options.group, inputs: pending.inputs, outputs: pending.outputs, log: pending.log,
            engine: pending.engine
        )
        let store = store
        writer.submit {
            let bytes = checkpoint.engine.snapshot()
            try store.save(
                Checkpoint(
                    group: checkpoint.group, inputs: checkpoint.inputs, outputs: checkpoint.outputs, log: checkpoint.log,
                    engine: bytes))
            return (checkpoint.inputs, bytes.count)
        }
        if wait { finishCheckpointWrite(wait: true) }
    }

    /// Commits the offsets of a checkpoint the writer has saved.
    private func finishCheckpointWrite(wait: Bool) {
        guard let result = writer.result(wait: wait) else { return }
        switch result {
        case .failure(let error):
            changedSinceCheckpoint = true
            logger.error("checkpoint not written: \(error)")
        case .success(let (inputs, bytes)):
            local.checkpoints += 1
            local.checkpointBytes = bytes
            lastCheckpointed = inputs
            commitLastCheckpointed(mode: wait ? .sync : .async)
        }
    }

    /// Commits the last checkpoint's input offsets for the partitions still ours; a failure makes the
    /// next checkpoint due.
    private func commitLastCheckpointed(mode: KafkaConsumer.CommitMode) {
        do {
            try consumer.commit(lastCheckpointed.filter { assigned.contains($0.key) }, mode: mode)
        } catch {
            changedSinceCheckpoint = true
            logger.warning("commit failed, will retry at the next checkpoint: \(error)")
        }
    }

    private func noticeFailedCommits() {
        let failed = consumer.failedCommits
        guard failed != failedCommitsSeen else { return }
        failedCommitsSeen = failed
        changedSinceCheckpoint = true
    }

    /// An idempotent producer that failed for good (librdkafka's fatal error: it must be made anew)
    /// delivers nothing more, and retrying its deliveries would only stall consumption. Stops
    /// without a further checkpoint: the last one, all of whose outputs Kafka acknowledged, stays, and
    /// a restart (systemd's) goes on from there with a new producer.
    private func stopForGood(_ error: KafkaError) {
        guard fatal == nil else { return }
        logger.critical("the producer failed for good, stopping: \(error)")
        fatal = error
        stop()
    }

    /// Checkpoints and commits at once (revoke, stop), waiting up to `drainTimeout` for outputs.
    private func checkpointNow() {
        // Stopping for a fatal error: no output is acknowledged any more, so only the last checkpoint's
        // offsets are committed (again).
        guard fatal == nil else { return commitLastCheckpointed(mode: .sync) }
        finishCheckpointWrite(wait: true)
        noticeFailedCommits()
        // Nothing since the last one written: as on the revoke that leaving the group brings right
        // after stop's checkpoint (encoding a large state twice doubled the time to stop). Its offsets
        // are committed again, synchronously, in case the last commit was asynchronous and is lost.
        guard pending != nil || changedSinceCheckpoint else { return commitLastCheckpointed(mode: .sync) }
        if pending == nil { beginCheckpoint() }
        let deadline = ContinuousClock.now + options.drainTimeout
        while let pending, pending.outstanding > 0, ContinuousClock.now < deadline {
            sendUnsent()
            _ = producer.flush(timeout: .milliseconds(100))
            serveDeliveries()
        }
        guard let pending, pending.outstanding == 0 else {
            self.pending = nil
            changedSinceCheckpoint = true
            return logger.error("gave up waiting for \(inFlight.count) deliveries; the last checkpoint stays")
        }
        completeCheckpoint(wait: true)
        logger.info(
            "checkpointed",
            metadata: [
                "consumed": "\(local.consumed)", "inputs": "\(positions.count)",
                "events": "\(local.events.sorted { ($0.key.kind, $0.key.outcome) < ($1.key.kind, $1.key.outcome) }.map { "\($0.key.kind)/\($0.key.outcome)=\($0.value)" })",
                "idle": "\(idle.count)",
            ])
    }

    // MARK: - Active and standby

    private func roleChanged(_ change: Rebalance) {
        local.rebalances += 1
        switch change {
        case .assigned(let partitions):
            if !partitions.isEmpty { activate() }
        case .revoked(let partitions, let lost):
            guard !partitions.isEmpty, active else { return }
            // Everything delivered, checkpointed and committed before the next instance starts. Lost,
            // the role is already another's: what was polled is left to it, from the last checkpoint.
            if lost {
                _ = decoding.take()
            } else {
                handleDecoding()
                checkpointNow()
            }
            do {
                try consumer.assign([:])
            } catch {
                logger.error("standing down: \(error)")
            }
            assigned = []
            lastMessage = [:]
            idle = []
            active = false
            activationDue = nil
            logger.notice(
                stopRequested.load(ordering: .relaxed) ? "role released for the next instance" : "standby: another instance is active")
        }
    }

    /// Takes every partition of the input topics, each from where our state is (the checkpoint, or
    /// where we were when we last stood down), else from the group's committed offset.
    private func activate() {
        activationDue = nil
        do {
            try restoreState()
        } catch let error as CheckpointError {
            logger.critical("cannot take up the active role: \(error)")
            fatal = error
            return stop()
        } catch let error as EngineSnapshotError {
            logger.critical("cannot take up the active role: checkpoint \(store.path): \(error)")
            fatal = error
            return stop()
        } catch {
            logger.error("cannot take up the active role yet, retrying: \(error)")
            activationDue = .now + .seconds(1)
            return
        }
        do {
            // The read-back in `restoreState` just listed every input partition with its end.
            let partitions = delivered.inputEnds.keys.sorted()
            let committed = try consumer.committed(partitions, timeout: .seconds(10))
            let unread = partitions.filter { positions[$0] == nil && committed[$0] == nil }
            let watermarks = try consumer.watermarks(unread, timeout: .seconds(10))
            var start: [TopicPartition: Int64] = [:]
            for tp in partitions {
                // A concrete offset, so "caught up" compares what we handled with the high watermark
                // (librdkafka's own position runs ahead to what it has fetched but we have not read).
                guard let offset = positions[tp] ?? committed[tp] ?? watermarks[tp]?.low else {
                    throw KafkaError(code: .timedOut, message: "no offsets for \(tp)")
                }
                start[tp] = offset
                positions[tp] = start[tp]
                engine.register(InputID(topic: tp.topic, partition: tp.partition))
                lastMessage[tp] = .now
                idle.remove(tp)
            }
            try consumer.assign(start)
            assigned = Set(partitions)
            active = true
            logger.notice("active: consuming \(partitions.count) partitions")
        } catch {
            logger.error("cannot take up the active role yet, retrying: \(error)")
            activationDue = .now + .seconds(1)
        }
    }

    private func publishCounters() {
        local.heartbeat += 1
        reportLateEvents()
        for (index, count) in outcomes.enumerated() where count > 0 {
            let kind = EventKind.allCases[index / Outcome.allCases.count]
            let outcome = Outcome.allCases[index % Outcome.allCases.count]
            local.events[EventOutcome(kind: kind.rawValue, outcome: outcome.name)] = count
        }
        let snapshot = local
        local.latencies.removeAll(keepingCapacity: true)
        let state = (engine.footprint, engine.stats)
        var lag: [TopicPartition: Int64] = [:]
        for tp in assigned {
            if let high = consumer.cachedHighWatermark(tp), let position = position(tp) { lag[tp] = max(high - position, 0) }
        }
        cachedLagBox.withLock { $0 = lag }
        countersBox.withLock { total in
            total = snapshot.adding(latenciesTo: total)
        }
        engineBox.withLock { $0 = state }
    }
}

extension PipelineCounters {
    /// These totals with the latencies appended to `previous`'s (kept to the newest 10,000).
    fileprivate func adding(latenciesTo previous: PipelineCounters) -> PipelineCounters {
        var result = self
        result.latencies = Array((previous.latencies + latencies).suffix(10_000))
        result.latencySamples = previous.latencySamples + latencies.count
        return result
    }
}

private func clock_ms() -> Int64 {
    Timestamp.now.nanosecondsSinceEpoch / 1_000_000
}

/// One checkpoint write at a time, each on a thread of its own at a lower priority; the loop
/// collects the result. Encoding a large engine takes hundreds of milliseconds of CPU: on a busy
/// host that should come from idle time, not from the loop or the Kafka clients' threads.
private final class CheckpointWriter: @unchecked Sendable {
    typealias Written = (inputs: [TopicPartition: Int64], bytes: Int)

    private let state = Mutex<(busy: Bool, result: Result<Written, any Error>?)>((false, nil))
    private let done = DispatchSemaphore(value: 0)

    /// Nothing being written and no result waiting to be collected.
    var idle: Bool { state.withLock { !$0.busy && $0.result == nil } }

    func submit(_ work: @escaping @Sendable () throws -> Written) {
        state.withLock { $0.busy = true }
        startThread(name: "kordon-snapshot") { [self] in
            #if canImport(Glibc)
            // On Linux the nice value is per thread, and 0 names the calling one.
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            let result = Result { try work() }
            state.withLock { $0 = (false, result) }
            done.signal()
        }
    }

    /// The result of the last write, once; with `wait`, waits for a write in progress.
    func result(wait: Bool) -> Result<Written, any Error>? {
        if wait, state.withLock({ $0.busy }) { done.wait() } else if state.withLock({ $0.result != nil }) { done.wait() }
        return state.withLock { state in
            defer { state.result = nil }
            return state.result
        }
    }
}
