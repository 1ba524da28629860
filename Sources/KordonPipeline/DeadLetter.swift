import KordonEvents
import KordonKafka

/// The dead-letter topic's record for a rejected message: key, value and headers unchanged, plus
/// headers naming why and where it came from, so an operator can find, fix and replay it.
public enum DeadLetter {
    public static let defaultTopic = "border.events.dlq"

    public enum Header {
        public static let reason = "kordon.reason"
        public static let topic = "kordon.topic"
        public static let partition = "kordon.partition"
        public static let offset = "kordon.offset"
        /// The original message's Kafka timestamp, RFC 3339 UTC (absent if it had none).
        public static let timestamp = "kordon.timestamp"
    }

    public static func record(for message: KafkaMessage, reason: String, topic: String = defaultTopic) -> ProducerRecord {
        var headers = message.headers
        headers.append(KafkaHeader(Header.reason, reason))
        headers.append(KafkaHeader(Header.topic, message.topic))
        headers.append(KafkaHeader(Header.partition, String(message.partition)))
        headers.append(KafkaHeader(Header.offset, String(message.offset)))
        if let ms = message.timestamp {
            headers.append(KafkaHeader(Header.timestamp, Timestamp(nanosecondsSinceEpoch: ms * 1_000_000).rfc3339))
        }
        return ProducerRecord(topic: topic, key: message.key, value: message.value, headers: headers)
    }
}
