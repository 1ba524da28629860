import KordonKafka

/// The librdkafka settings `kordon run` gives its clients where the operator set none.
public enum ClientDefaults {
    /// librdkafka before 2.1 stops fetching for a whole second (no `fetch.queue.backoff.ms` yet)
    /// whenever the consumer's queue holds `queued.min.messages`, 100,000 by default: a daemon
    /// catching up then idled through every second it had that many waiting (librdkafka #2879).
    /// The prefetch stays bounded by `queued.max.messages.kbytes` (64 MiB by default).
    public static let queuedMinMessages = "1000000"

    /// The operator's properties for each kind of client, as Kafka Streams takes them: a name prefixed
    /// `consumer.` or `producer.` goes, without the prefix, to clients of that kind only; any other to
    /// every client. librdkafka warns at every start about a property given to the other kind.
    public static func split(_ properties: [String: String]) -> (shared: KafkaConfig, consumer: KafkaConfig, producer: KafkaConfig) {
        var split: (shared: KafkaConfig, consumer: KafkaConfig, producer: KafkaConfig) = ([:], [:], [:])
        for (name, value) in properties {
            if name.hasPrefix("consumer.") {
                split.consumer[String(name.dropFirst("consumer.".count))] = value
            } else if name.hasPrefix("producer.") {
                split.producer[String(name.dropFirst("producer.".count))] = value
            } else {
                split.shared[name] = value
            }
        }
        return split
    }

    public static func consumer(_ config: inout KafkaConfig) {
        config["queued.min.messages"] = config["queued.min.messages"] ?? queuedMinMessages
        statistics(&config)
    }

    public static func producer(_ config: inout KafkaConfig) {
        // Alerts keyed by plate or sector land where a Java client would put them.
        config["partitioner"] = config["partitioner"] ?? "murmur2_random"
        config["linger.ms"] = config["linger.ms"] ?? "2"
        statistics(&config)
    }

    /// For the metrics endpoint's librdkafka figures.
    public static func statistics(_ config: inout KafkaConfig) {
        config["statistics.interval.ms"] = config["statistics.interval.ms"] ?? "10000"
    }
}
