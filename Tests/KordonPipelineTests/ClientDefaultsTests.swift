import KordonKafka
import KordonPipeline
import Testing

/// The settings `kordon run` gives its clients, and that an operator's own win.
@Suite struct ClientDefaultsTests {
    @Test func consumersKeepFetchingPastTheDefaultQueueThreshold() {
        var consumer: KafkaConfig = ["bootstrap.servers": "b:9092"]
        ClientDefaults.consumer(&consumer)
        #expect(consumer["queued.min.messages"] == "1000000")
        #expect(consumer["statistics.interval.ms"] == "10000")
        #expect(consumer["partitioner"] == nil)
    }

    @Test func producersPartitionAsJavaClientsDo() {
        var producer: KafkaConfig = [:]
        ClientDefaults.producer(&producer)
        #expect(producer["partitioner"] == "murmur2_random")
        #expect(producer["linger.ms"] == "2")
        #expect(producer["queued.min.messages"] == nil)
    }

    @Test func prefixedPropertiesReachOnlyTheirKindOfClient() {
        let split = ClientDefaults.split([
            "security.protocol": "ssl", "consumer.session.timeout.ms": "6000", "producer.acks": "all",
            "consumer.fetch.wait.max.ms": "50",
        ])
        #expect(split.shared.properties == ["security.protocol": "ssl"])
        #expect(split.consumer.properties == ["session.timeout.ms": "6000", "fetch.wait.max.ms": "50"])
        #expect(split.producer.properties == ["acks": "all"])
    }

    @Test func theOperatorsSettingsWin() {
        var consumer: KafkaConfig = ["queued.min.messages": "5000", "statistics.interval.ms": "0"]
        ClientDefaults.consumer(&consumer)
        #expect(consumer["queued.min.messages"] == "5000")
        #expect(consumer["statistics.interval.ms"] == "0")
        var producer: KafkaConfig = ["partitioner": "consistent_random", "linger.ms": "20"]
        ClientDefaults.producer(&producer)
        #expect(producer["partitioner"] == "consistent_random")
        #expect(producer["linger.ms"] == "20")
    }
}
