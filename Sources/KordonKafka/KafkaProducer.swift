import CRdKafka
import Logging
import Synchronization

/// A message to produce. `key` or `value` `nil` sends a null key or a null value (a tombstone).
public struct ProducerRecord: Sendable {
    public var topic: String
    /// `nil`: chosen by the partitioner from the key.
    public var partition: Int32?
    public var key: ArraySlice<UInt8>?
    public var value: ArraySlice<UInt8>?
    public var headers: [KafkaHeader]

    public init(
        topic: String, partition: Int32? = nil, key: ArraySlice<UInt8>? = nil, value: ArraySlice<UInt8>?,
        headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [KafkaHeader] = []) {
        self.init(
            topic: topic, partition: partition, key: key.map { Array($0.utf8)[...] },
            value: value.map { Array($0.utf8)[...] }, headers: headers)
    }
}

/// The outcome of one produced message: durable at `offset`, or failed for good with `error`.
public struct DeliveryReport: Sendable {
    /// The token passed to `send`.
    public var token: UInt64
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var error: KafkaError?
}

/// An idempotent producer (`enable.idempotence=true`, `acks=all` unless the config says otherwise):
/// retries never duplicate or reorder messages within a partition.
///
/// Delivery reports are collected by `pollDeliveries` and `flush`, on the caller's thread; call
/// those regularly (or keep one thread doing it), or the local queue fills up and `send` throws
/// `queueFull`: backpressure, never a dropped message.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: KafkaHandle
    private let callbacks: ProducerCallbacks
    /// Topic handles made by `prepare`, held so their metadata stays known; destroyed before the client.
    private let prepared = Mutex<[String: OpaquePointer]>([:])

    public init(config: KafkaConfig, logger: Logger) throws(KafkaError) {
        let config = config.withDefaults(["enable.idempotence": "true", "acks": "all"])
        let callbacks = ProducerCallbacks(logger: logger)
        handle = try KafkaHandle(type: RD_KAFKA_PRODUCER, config: config, callbacks: callbacks) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        }
        self.callbacks = callbacks
    }

    deinit {
        prepared.withLock { topics in
            for topic in topics.values { rd_kafka_topic_destroy(topic) }
        }
    }

    /// Asks for the partitions and leaders of `topics` now, so the first record sent to one is not
    /// held back: librdkafka (before 2.10.1) queries a topic first named in a produce call only on its
    /// next one-second metadata timer, delaying that record and those after it by up to a second.
    public func prepare(topics: [String]) {
        prepared.withLock { handles in
            for topic in topics where handles[topic] == nil {
                if let native = rd_kafka_topic_new(handle.pointer, topic, nil) { handles[topic] = native }
            }
        }
    }

    /// Queues `record`; its delivery report carries `token`. Throws `queueFull` when the local queue
    /// (`queue.buffering.max.messages`/`.kbytes`) is full: poll deliveries and try again.
    public func send(_ record: ProducerRecord, token: UInt64) throws(KafkaError) {
        let error: OpaquePointer? = record.topic.withCString { topic in
            withBytes(record.key) { key in
                withBytes(record.value) { value in
                    produce(topic: topic, record: record, key: key, value: value, token: token)
                }
            }
        }
        try check(error, "produce to \(record.topic)")
    }

    private func produce(
        topic: UnsafePointer<CChar>, record: ProducerRecord, key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer?, token: UInt64
    ) -> OpaquePointer? {
        // VTYPE_HEADERS, not VTYPE_HEADER: the latter double-frees in librdkafka 2.0.2.
        let headers = record.headers.isEmpty ? nil : makeHeaders(record.headers)
        let error = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus -> OpaquePointer? in
            var count = 0
            func add(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                var vu = rd_kafka_vu_t()
                vu.vtype = type
                set(&vu)
                vus.initializeElement(at: count, to: vu)
                count += 1
            }
            add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
            add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
            if let partition = record.partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
            if let key {
                add(RD_KAFKA_VTYPE_KEY) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    $0.u.mem.size = key.count
                }
            }
            if let value {
                add(RD_KAFKA_VTYPE_VALUE) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    $0.u.mem.size = value.count
                }
            }
            if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
            defer { vus.baseAddress!.deinitialize(count: count) }
            return rd_kafka_produceva(handle.pointer, vus.baseAddress, count)
        }
        // On success librdkafka owns the headers; on failure they are still ours.
        if error != nil, let headers { rd_kafka_headers_destroy(headers) }
        return error
    }

    /// `send`, waiting while the local queue is full (serving delivery reports meanwhile) up to `timeout`.
    public func send(_ record: ProducerRecord, token: UInt64, waitingUpTo timeout: Duration) throws(KafkaError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try send(record, token: token)
            } catch where error.code == .queueFull && ContinuousClock.now < deadline {
                rd_kafka_poll(handle.pointer, 10)
            }
        }
    }

    /// Serves delivery callbacks, waiting up to `timeout` for the first, and returns every report
    /// collected since the last call (including those served by `flush`).
    public func pollDeliveries(timeout: Duration = .zero) -> [DeliveryReport] {
        rd_kafka_poll(handle.pointer, milliseconds(timeout))
        return callbacks.takeDeliveries()
    }

    /// Waits until every queued message is delivered or failed, up to `timeout`. Returns the number
    /// of messages still in flight (0 when all are done); their reports come from `pollDeliveries`.
    @discardableResult
    public func flush(timeout: Duration) -> Int {
        _ = rd_kafka_flush(handle.pointer, milliseconds(timeout))
        return Int(rd_kafka_outq_len(handle.pointer))
    }

    /// Messages queued or in flight, and other requests not yet answered.
    public var outstanding: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// Set once the idempotent producer has hit an error it cannot recover from (it must be recreated).
    public var fatalError: KafkaError? {
        callbacks.fatalErrorSeen.load(ordering: .acquiring) ? handle.fatalError : nil
    }

    public var statistics: String? { callbacks.statistics.withLock { $0 } }
}

private func withBytes<R>(_ bytes: ArraySlice<UInt8>?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    if bytes.isEmpty {
        // An empty slice may have no address, and a NULL pointer would send a null value instead.
        return withUnsafeBytes(of: 0 as UInt8) { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
    }
    return bytes.withUnsafeBytes { body($0) }
}

private func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer {
    let native = rd_kafka_headers_new(headers.count)!
    for header in headers {
        if let value = header.value {
            _ = withBytes(value[...]) { rd_kafka_header_add(native, header.name, -1, $0?.baseAddress, $0?.count ?? 0) }
        } else {
            rd_kafka_header_add(native, header.name, -1, nil, 0)
        }
    }
    return native
}

final class ProducerCallbacks: HandleCallbacks, @unchecked Sendable {
    private let deliveries = Mutex<[DeliveryReport]>([])

    func add(_ report: DeliveryReport) { deliveries.withLock { $0.append(report) } }

    func takeDeliveries() -> [DeliveryReport] {
        deliveries.withLock { reports in
            defer { reports = [] }
            return reports
        }
    }
}

private func deliveryCallback(
    rk: OpaquePointer?, message: UnsafePointer<rd_kafka_message_t>?, opaque: UnsafeMutableRawPointer?
) {
    guard let message, let callbacks = HandleCallbacks.from(rk) as? ProducerCallbacks else { return }
    let m = message.pointee
    let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    let error: KafkaError? =
        m.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(m.err, "deliver to \(topic)[\(m.partition)]")
    callbacks.add(
        DeliveryReport(
            token: UInt64(UInt(bitPattern: m._private)), topic: topic, partition: m.partition, offset: m.offset,
            error: error))
}
