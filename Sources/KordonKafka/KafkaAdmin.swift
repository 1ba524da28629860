import CRdKafka
import Logging

/// A topic to create: name, partition count, replication factor and topic config
/// (e.g. `["cleanup.policy": "compact"]`).
public struct TopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int32
    /// -1: the broker's default.
    public var replicationFactor: Int32
    public var config: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// Cluster administration: topic creation and metadata.
public final class KafkaAdmin: @unchecked Sendable {
    let handle: KafkaHandle

    public init(config: KafkaConfig, logger: Logger) throws(KafkaError) {
        handle = try KafkaHandle(type: RD_KAFKA_PRODUCER, config: config, callbacks: HandleCallbacks(logger: logger))
    }

    /// Partition counts of the topics the cluster has.
    public func topics(timeout: Duration) throws(KafkaError) -> [String: Int32] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try check(rd_kafka_metadata(handle.pointer, 1, nil, &metadata, milliseconds(timeout)), "metadata")
        guard let metadata else { return [:] }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: [String: Int32] = [:]
        for topic in UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        where topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            result[String(cString: topic.topic)] = topic.partition_cnt
        }
        return result
    }

    /// Creates the topics that do not exist yet; an existing topic is left as it is.
    /// Returns the names of the topics it created.
    @discardableResult
    public func createMissingTopics(_ specs: [TopicSpec], timeout: Duration) throws(KafkaError) -> [String] {
        guard !specs.isEmpty else { return [] }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in specs {
            guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor, &errstr, errstr.count)
            else {
                let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(code: .invalidArgument, message: "topic \(spec.name): \(reason)")
            }
            newTopics.append(topic)
            for (name, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                try check(rd_kafka_NewTopic_set_config(topic, name, value), "topic \(spec.name) config \(name)")
            }
        }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        try check(
            rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds(timeout), &errstr, errstr.count),
            "admin operation timeout")
        try check(
            rd_kafka_AdminOptions_set_request_timeout(options, milliseconds(timeout), &errstr, errstr.count),
            "admin request timeout")
        let queue = rd_kafka_queue_new(handle.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        rd_kafka_CreateTopics(handle.pointer, &newTopics, newTopics.count, options, queue)
        // The admin call's own timeouts bound this wait; the extra second lets its result arrive.
        guard let event = rd_kafka_queue_poll(queue, milliseconds(timeout + .seconds(1))) else {
            throw KafkaError(code: .timedOut, message: "create topics: no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        try check(rd_kafka_event_error(event), "create topics")
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
        var created: [String] = []
        for result in UnsafeBufferPointer(start: results, count: count) {
            let name = String(cString: rd_kafka_topic_result_name(result))
            let err = rd_kafka_topic_result_error(result)
            switch err {
            case RD_KAFKA_RESP_ERR_NO_ERROR: created.append(name)
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: continue
            default:
                let reason = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? ""
                throw KafkaError(code: KafkaErrorCode(err), message: "create topic \(name): \(reason)")
            }
        }
        return created.sorted()
    }
}

extension KafkaAdmin {
    /// The topic's configuration as the broker reports it (explicit settings and defaults).
    public func topicConfig(_ name: String, timeout: Duration) throws(KafkaError) -> [String: String] {
        var errstr = [CChar](repeating: 0, count: 512)
        var resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name)
        defer { rd_kafka_ConfigResource_destroy(resource) }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        try check(
            rd_kafka_AdminOptions_set_request_timeout(options, milliseconds(timeout), &errstr, errstr.count),
            "admin request timeout")
        let queue = rd_kafka_queue_new(handle.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        rd_kafka_DescribeConfigs(handle.pointer, &resource, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, milliseconds(timeout + .seconds(1))) else {
            throw KafkaError(code: .timedOut, message: "describe config of \(name): no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        try check(rd_kafka_event_error(event), "describe config of \(name)")
        var count = 0
        let resources = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count)
        var result: [String: String] = [:]
        for described in UnsafeBufferPointer(start: resources, count: count) {
            try check(rd_kafka_ConfigResource_error(described), "describe config of \(name)")
            var entryCount = 0
            let entries = rd_kafka_ConfigResource_configs(described, &entryCount)
            for entry in UnsafeBufferPointer(start: entries, count: entryCount) {
                guard let value = rd_kafka_ConfigEntry_value(entry) else { continue }
                result[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
            }
        }
        return result
    }
}
