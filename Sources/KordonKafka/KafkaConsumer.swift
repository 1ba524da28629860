import CRdKafka
import Logging
import Synchronization

/// A change of the consumer's assignment, delivered inside `poll` or `close`, on the polling thread.
public enum Rebalance: Sendable, Equatable {
    /// Partitions about to be consumed.
    case assigned([TopicPartition])
    /// Partitions about to be taken away; still assigned while the handler runs, so it can finish
    /// their work and commit. `lost` means the group already gave them away (a commit will fail).
    case revoked([TopicPartition], lost: Bool)
}

/// What the owner does on a rebalance. For `.assigned` it may return offsets to start from
/// (e.g. restored from a state snapshot); partitions it leaves out start at their committed offset.
public typealias RebalanceHandler = (KafkaConsumer, Rebalance) -> [TopicPartition: Int64]

/// A group consumer with manual offset management.
///
/// Thread use: `poll` is meant for one dedicated thread (it blocks, and the rebalance handler runs
/// inside it); commits, pause/resume and queries may come from that thread or any other.
/// Nothing is committed automatically: `enable.auto.commit` and `enable.auto.offset.store` are off
/// unless the config sets them.
public final class KafkaConsumer: @unchecked Sendable {
    public enum CommitMode: Sendable { case sync, async }

    private let handle: KafkaHandle
    private let callbacks: ConsumerCallbacks
    private let closed = Atomic<Bool>(false)
    private var expectedBatchBytes = 64 * 1024

    /// `config` must set `bootstrap.servers` and `group.id`.
    public init(config: KafkaConfig, logger: Logger, rebalance: RebalanceHandler? = nil) throws(KafkaError) {
        let config = config.withDefaults([
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            // A new group reads from the start: nothing published before the daemon first ran is skipped.
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
        ])
        guard config["group.id"] != nil else {
            throw KafkaError(code: .invalidArgument, message: "kafka consumer: group.id is required")
        }
        let callbacks = ConsumerCallbacks(logger: logger, handler: rebalance)
        handle = try KafkaHandle(type: RD_KAFKA_CONSUMER, config: config, callbacks: callbacks) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
            rd_kafka_conf_set_offset_commit_cb(conf, offsetCommitCallback)
        }
        self.callbacks = callbacks
        callbacks.consumer = self
        // One queue for messages, rebalances and errors, served by `poll`.
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            rd_kafka_consumer_close(handle.pointer)
        }
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = NativePartitionList(capacity: topics.count)
        for topic in topics { list.add(TopicPartition(topic, RD_KAFKA_PARTITION_UA)) }
        try check(rd_kafka_subscribe(handle.pointer, list.pointer), "subscribe to \(topics)")
    }

    /// Reads exactly these partitions from these offsets, outside any group membership
    /// (replacing the previous assignment); for reading topics back, not for sharing work.
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = NativePartitionList(offsets: offsets)
        try check(rd_kafka_assign(handle.pointer, list.pointer), "assign \(offsets.count) partitions")
    }

    /// The low and high watermarks of partitions (first offset, next offset to be written), asked of
    /// their leaders: one request per leader for each. Fails after `timeout` at the latest, where
    /// librdkafka 2.0.2's `rd_kafka_query_watermark_offsets` waits for a leader that is down until it
    /// is back, whatever its timeout (librdkafka #2588, fixed in 2.3.0); `rd_kafka_offsets_for_times`
    /// keeps its timeout.
    public func watermarks(_ partitions: some Collection<TopicPartition>, timeout: Duration) throws(KafkaError)
        -> [TopicPartition: (low: Int64, high: Int64)]
    {
        guard !partitions.isEmpty else { return [:] }
        let deadline = ContinuousClock.now + timeout
        // ListOffsets' special timestamps: the end (the high watermark) and the beginning (the low).
        let high = try listOffsets(partitions, at: Int64(RD_KAFKA_OFFSET_END), until: deadline)
        let low = try listOffsets(partitions, at: Int64(RD_KAFKA_OFFSET_BEGINNING), until: deadline)
        var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for (tp, end) in high { if let start = low[tp] { result[tp] = (start, end) } }
        return result
    }

    private func listOffsets(_ partitions: some Collection<TopicPartition>, at timestamp: Int64, until deadline: ContinuousClock.Instant)
        throws(KafkaError) -> [TopicPartition: Int64]
    {
        let list = NativePartitionList(capacity: partitions.count)
        for tp in partitions { list.add(tp, offset: timestamp) }
        try check(
            rd_kafka_offsets_for_times(handle.pointer, list.pointer, milliseconds(ContinuousClock.now.duration(to: deadline))),
            "offsets of \(partitions.count) partitions")
        var result: [TopicPartition: Int64] = [:]
        for element in list.pointer.elements {
            let tp = TopicPartition(String(cString: element.topic), element.partition)
            try check(element.err, "offsets of \(tp)")
            result[tp] = element.offset
        }
        return result
    }

    /// The high watermark of a partition as last seen in a fetch response (no request is made);
    /// nil before the first fetch.
    public func cachedHighWatermark(_ tp: TopicPartition) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle.pointer, tp.topic, tp.partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    /// Waits up to `timeout` for the first message, then takes whatever else is already fetched,
    /// up to `maxMessages`. Rebalance handlers run inside this call.
    public func poll(maxMessages: Int = 4096, timeout: Duration) -> KafkaMessageBatch {
        callbacks.builder.reset(expectedBytes: expectedBatchBytes)
        var wait = milliseconds(timeout)
        while callbacks.builder.count < maxMessages, let message = rd_kafka_consumer_poll(handle.pointer, wait) {
            wait = 0
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                callbacks.builder.append(message)
            } else {
                report(message)
            }
            rd_kafka_message_destroy(message)
        }
        let batch = callbacks.builder.batch
        expectedBatchBytes = max(batch.byteCount + batch.byteCount / 4, 4096)
        return batch
    }

    private func report(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        guard err != RD_KAFKA_RESP_ERR__PARTITION_EOF else { return }
        let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? KafkaErrorCode(err).description
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "-"
        callbacks.logger.warning(
            "kafka consumer: \(text)",
            metadata: [
                "topic": .string(topic), "partition": .stringConvertible(message.pointee.partition),
                "rdkafka.error": .string(KafkaErrorCode(err).name),
            ])
    }

    /// Commits the broker refused so far, sync or async, whole or for some partition: a caller
    /// that sees it move knows its last commits may not have landed.
    public var failedCommits: Int { callbacks.failedCommits.load(ordering: .relaxed) }

    /// Commits `offsets` (the next offset to consume, per partition). `.sync` waits for the broker.
    public func commit(_ offsets: [TopicPartition: Int64], mode: CommitMode = .sync) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = NativePartitionList(offsets: offsets)
        try check(rd_kafka_commit(handle.pointer, list.pointer, mode == .async ? 1 : 0), "commit")
    }

    /// The committed offsets of `partitions`, asked of the group coordinator; absent where none is committed.
    public func committed(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = NativePartitionList(partitions)
        try check(rd_kafka_committed(handle.pointer, list.pointer, milliseconds(timeout)), "committed offsets")
        return offsets(in: list)
    }

    /// The next offset this consumer will read, per partition; absent before the first fetch.
    public func position(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = NativePartitionList(partitions)
        try check(rd_kafka_position(handle.pointer, list.pointer), "position")
        return offsets(in: list)
    }

    private func offsets(in list: borrowing NativePartitionList) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for element in list.pointer.elements where element.offset >= 0 {
            result[TopicPartition(String(cString: element.topic), element.partition)] = element.offset
        }
        return result
    }

    /// Stops fetching from `partitions` (backpressure); messages already fetched are still delivered.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList(partitions)
        try check(rd_kafka_pause_partitions(handle.pointer, list.pointer), "pause \(partitions)")
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList(partitions)
        try check(rd_kafka_resume_partitions(handle.pointer, list.pointer), "resume \(partitions)")
    }

    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try check(rd_kafka_assignment(handle.pointer, &list), "assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return list.partitions.sorted()
    }

    /// Messages not yet consumed, per assigned partition: the high watermark, asked of the
    /// partition leader (a paused partition has no fetch that would refresh it), minus the
    /// consumer's position, or minus the committed offset before the first fetch.
    public func lag(timeout: Duration = .seconds(5)) throws(KafkaError) -> [TopicPartition: Int64] {
        let partitions = try assignment()
        let positions = try position(partitions)
        let missing = partitions.filter { positions[$0] == nil }
        let committed = missing.isEmpty ? [:] : try self.committed(missing, timeout: timeout)
        let marks = try watermarks(partitions, timeout: timeout)
        var result: [TopicPartition: Int64] = [:]
        for tp in partitions {
            guard let (low, high) = marks[tp] else { continue }
            result[tp] = max(high - (positions[tp] ?? committed[tp] ?? low), 0)
        }
        return result
    }

    /// The latest librdkafka statistics JSON, emitted every `statistics.interval.ms` while polling.
    public var statistics: String? { callbacks.statistics.withLock { $0 } }

    public var memberID: String? {
        guard let id = rd_kafka_memberid(handle.pointer) else { return nil }
        defer { rd_kafka_mem_free(handle.pointer, id) }
        return String(cString: id)
    }

    /// Leaves the group: the rebalance handler gets a last `.revoked` (to commit), then LeaveGroup
    /// is sent. Call on the polling thread, after the last `poll`.
    public func close() throws(KafkaError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        defer { callbacks.handler = nil }  // it may hold its owner, which holds this consumer
        try check(rd_kafka_consumer_close(handle.pointer), "close consumer")
    }
}

final class ConsumerCallbacks: HandleCallbacks, @unchecked Sendable {
    var handler: RebalanceHandler?
    weak var consumer: KafkaConsumer?
    /// The batch `poll` is filling; only touched on the polling thread (rebalances run inside poll).
    var builder = BatchBuilder()
    /// Commits the broker refused, whole or for some partition (an async commit reports only here).
    let failedCommits = Atomic<Int>(0)

    init(logger: Logger, handler: RebalanceHandler?) {
        self.handler = handler
        super.init(logger: logger)
    }
}

private func rebalanceCallback(
    rk: OpaquePointer?, err: rd_kafka_resp_err_t,
    list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let list, let callbacks = HandleCallbacks.from(rk) as? ConsumerCallbacks else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let partitions = list.partitions.sorted()
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if let handler = callbacks.handler, let consumer = callbacks.consumer {
            let start = handler(consumer, .assigned(partitions))
            for i in list.elements.indices {
                let element = list.elements[i]
                if let offset = start[TopicPartition(String(cString: element.topic), element.partition)] {
                    list.elements[i].offset = offset
                }
            }
        }
        callbacks.logger.info("kafka: assigned \(partitions.count) partitions", metadata: ["partitions": "\(partitions)"])
        if cooperative {
            logIfFailed(rd_kafka_incremental_assign(rk, list), callbacks, "incremental assign")
        } else {
            logIfFailed(rd_kafka_assign(rk, list), callbacks, "assign")
        }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        if let handler = callbacks.handler, let consumer = callbacks.consumer {
            _ = handler(consumer, .revoked(partitions, lost: lost))
        }
        callbacks.builder.remove(partitions: Set(partitions))
        callbacks.logger.info(
            "kafka: revoked \(partitions.count) partitions\(lost ? " (lost)" : "")",
            metadata: ["partitions": "\(partitions)"])
        if cooperative {
            logIfFailed(rd_kafka_incremental_unassign(rk, list), callbacks, "incremental unassign")
        } else {
            logIfFailed(rd_kafka_assign(rk, nil), callbacks, "unassign")
        }
    default:
        callbacks.logger.error("kafka: rebalance failed: \(KafkaErrorCode(err))")
        callbacks.builder.remove(partitions: Set(partitions))
        logIfFailed(rd_kafka_assign(rk, nil), callbacks, "unassign")
    }
}

private func logIfFailed(_ error: OpaquePointer?, _ callbacks: HandleCallbacks, _ what: String) {
    do { try check(error, what) } catch { callbacks.logger.error("kafka: \(error)") }
}

private func logIfFailed(_ err: rd_kafka_resp_err_t, _ callbacks: HandleCallbacks, _ what: String) {
    do { try check(err, what) } catch { callbacks.logger.error("kafka: \(error)") }
}

private func offsetCommitCallback(
    rk: OpaquePointer?, err: rd_kafka_resp_err_t,
    offsets: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, opaque: UnsafeMutableRawPointer?
) {
    guard err != RD_KAFKA_RESP_ERR__NO_OFFSET, let callbacks = HandleCallbacks.from(rk) as? ConsumerCallbacks else { return }
    var failed = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaErrorCode(err)
    if failed == nil, let offsets {
        for index in 0..<Int(offsets.pointee.cnt) where offsets.pointee.elems[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            failed = KafkaErrorCode(offsets.pointee.elems[index].err)
            break
        }
    }
    guard let failed else { return }
    callbacks.failedCommits.add(1, ordering: .relaxed)
    callbacks.logger.warning("kafka: commit failed: \(failed)")
}
