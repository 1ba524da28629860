import CRdKafka

/// A Kafka header; a `nil` value is a header with a null value.
public struct KafkaHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]?

    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name, Array(value.utf8))
    }
}

/// One consumed message. `key` and `value` are `nil` for a null key and a null value (a tombstone),
/// and empty for an empty one.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch, as set by the producer or the broker; `nil` if unavailable.
    public var timestamp: Int64?
    public var key: ArraySlice<UInt8>?
    public var value: ArraySlice<UInt8>?
    public var headers: [KafkaHeader]

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    /// The offset to commit once this message is processed.
    public var nextOffset: Int64 { offset + 1 }
}

/// Messages from one poll, their keys and payloads copied into one buffer so a batch costs a few
/// allocations rather than several per message; the librdkafka messages are destroyed at once.
public struct KafkaMessageBatch: Sendable, RandomAccessCollection {
    struct Record {
        var topic: Int32
        var partition: Int32
        var offset: Int64
        var timestamp: Int64
        var keyStart: Int
        var keyCount: Int  // -1: null key
        var valueStart: Int
        var valueCount: Int  // -1: tombstone
        var headerStart: Int32
        var headerCount: Int32
    }

    var bytes: [UInt8] = []
    var records: [Record] = []
    var topics: [String] = []
    var headers: [KafkaHeader] = []

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }
    /// Total key and value bytes in the batch.
    public var byteCount: Int { bytes.count }

    public subscript(position: Int) -> KafkaMessage {
        let r = records[position]
        return KafkaMessage(
            topic: topics[Int(r.topic)],
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp >= 0 ? r.timestamp : nil,
            key: r.keyCount < 0 ? nil : bytes[r.keyStart..<r.keyStart + r.keyCount],
            value: r.valueCount < 0 ? nil : bytes[r.valueStart..<r.valueStart + r.valueCount],
            // Most messages have no headers: an empty array costs no reference count traffic.
            headers: r.headerCount == 0 ? [] : Array(headers[Int(r.headerStart)..<Int(r.headerStart + r.headerCount)]))
    }

    /// The offsets to commit once every message of the batch is processed: per partition, one past the last.
    public var nextOffsets: [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for r in records {
            let tp = TopicPartition(topics[Int(r.topic)], r.partition)
            result[tp] = Swift.max(result[tp] ?? 0, r.offset + 1)
        }
        return result
    }
}

/// Builds a batch from librdkafka messages; kept by the consumer and reused between polls.
struct BatchBuilder {
    private(set) var batch = KafkaMessageBatch()
    private var topicHandles: [OpaquePointer?] = []

    mutating func reset(expectedBytes: Int) {
        batch = KafkaMessageBatch()
        batch.bytes.reserveCapacity(expectedBytes)
        topicHandles.removeAll(keepingCapacity: true)
    }

    var count: Int { batch.records.count }

    /// Copies the message; the caller destroys it.
    mutating func append(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let topic = topicIndex(m.rkt)
        let keyStart = batch.bytes.count
        let keyCount = copy(m.key, m.key_len)
        let valueStart = batch.bytes.count
        let valueCount = copy(m.payload, m.len)
        let headerStart = Int32(batch.headers.count)
        var headers: OpaquePointer?
        if rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            appendHeaders(headers)
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        batch.records.append(
            .init(
                topic: topic, partition: m.partition, offset: m.offset,
                timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp,
                keyStart: keyStart, keyCount: keyCount, valueStart: valueStart, valueCount: valueCount,
                headerStart: headerStart, headerCount: Int32(batch.headers.count) - headerStart))
    }

    /// Drops messages of partitions revoked while the batch was being filled: they were not
    /// processed, and the partition's next owner will consume them from the committed offset.
    mutating func remove(partitions: Set<TopicPartition>) {
        let topics = batch.topics
        batch.records.removeAll { partitions.contains(TopicPartition(topics[Int($0.topic)], $0.partition)) }
    }

    private mutating func copy(_ pointer: UnsafeMutableRawPointer?, _ length: Int) -> Int {
        guard let pointer else { return -1 }
        batch.bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
        return length
    }

    private mutating func topicIndex(_ rkt: OpaquePointer?) -> Int32 {
        // A batch rarely spans more than a few topics: a linear scan beats hashing.
        if let index = topicHandles.firstIndex(of: rkt) { return Int32(index) }
        topicHandles.append(rkt)
        batch.topics.append(rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "")
        return Int32(topicHandles.count - 1)
    }

    private mutating func appendHeaders(_ headers: OpaquePointer) {
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            batch.headers.append(KafkaHeader(name.map { String(cString: $0) } ?? "", bytes))
            index += 1
        }
    }
}
