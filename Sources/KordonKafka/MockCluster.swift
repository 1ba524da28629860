import CRdKafka
import Logging

/// Kafka protocol request types, for fault injection.
public enum KafkaAPI: Int16, Sendable {
    case produce = 0, fetch = 1, listOffsets = 2, metadata = 3
    case offsetCommit = 8, offsetFetch = 9, findCoordinator = 10
    case joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
    case initProducerID = 22
}

/// librdkafka's mock cluster: brokers that speak the real Kafka protocol on loopback sockets,
/// in this process, with fault injection. For tests, demos and `kordon dev-broker`.
///
/// Known limits (librdkafka 2.0.2): a partition keeps at most about 5 MiB or 100,000 messages and
/// silently drops the oldest beyond that; CreateTopics is not answered (use `createTopic`).
public final class MockCluster: @unchecked Sendable {
    private let handle: KafkaHandle
    private let cluster: OpaquePointer
    /// `host:port,…` of every broker, for `bootstrap.servers`.
    public let bootstrapServers: String
    public let brokerCount: Int

    public init(brokers: Int = 3, logger: Logger) throws(KafkaError) {
        // The handle only hosts the cluster: its notice that it has no bootstrap servers is noise.
        handle = try KafkaHandle(
            type: RD_KAFKA_PRODUCER, config: ["log_level": "4"], callbacks: HandleCallbacks(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            throw KafkaError(code: .invalidArgument, message: "cannot start a mock cluster of \(brokers) brokers")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerCount = brokers
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        try check(
            rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor),
            "mock cluster: create topic \(name)")
    }

    /// Broker ids run from 1 to `brokerCount`.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(cluster, broker), "mock cluster: broker \(broker) down")
    }

    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(cluster, broker), "mock cluster: broker \(broker) up")
    }

    /// Delays every response of `broker` by `rtt`.
    public func setRoundTripTime(_ broker: Int32, _ rtt: Duration) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds(rtt)), "mock cluster: broker \(broker) rtt")
    }

    /// The next requests of type `api`, to any broker, fail with `errors`, one each, in order.
    ///
    /// For produce requests from an idempotent producer, allow one request in flight per broker
    /// (`max.in.flight.requests.per.connection=1`): the mock checks sequence numbers only for
    /// transactional producers, so it accepts a request sent behind one it failed, where a real
    /// broker refuses it as out of order, and librdkafka, rightly for a real broker, then takes the
    /// failed request's messages as stored ("implicitly acked"): they are reported delivered and lost.
    public func pushRequestErrors(_ api: KafkaAPI, _ errors: [KafkaErrorCode]) {
        let native = errors.map(\.native)
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, native.count, native)
    }

    public func clearRequestErrors(_ api: KafkaAPI) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    public func setPartitionLeader(_ topic: String, _ partition: Int32, broker: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker),
            "mock cluster: leader of \(topic)[\(partition)]")
    }

    /// Makes `broker` the coordinator of consumer group `group`.
    public func setGroupCoordinator(_ group: String, broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_coordinator_set(cluster, "group", group, broker), "mock cluster: coordinator of \(group)")
    }
}
