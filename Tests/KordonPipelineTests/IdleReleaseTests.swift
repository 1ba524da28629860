import Foundation
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Testing

extension Kafka {
    /// Alerts that an input going idle releases change the engine's state as much as an event does:
    /// a checkpoint must follow, or a restart from the one before releases them again.
    @Suite struct IdleReleaseTests {
        @Test func alertsReleasedByIdleInputsAreCheckpointed() async throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("in", partitions: 2)
            let directory = try temporaryDirectory("idle-release")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // A crossing 1,450 kg over its declared weight on partition 0, a plain one 20 minutes later on
            // partition 1: the watermark (the slower partition's time less the allowed 10 minutes) passes
            // the first only once partition 0 stops holding it back by going idle.
            let events = [
                #"{"v":1,"id":"c1","kind":"crossing","time":"2026-11-28T06:14:03+05:00","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","vehicle":{"plate":"123ABC15","type":"truck","declaredWeightKg":18200,"measuredWeightKg":19650}}"#,
                #"{"v":1,"id":"c2","kind":"crossing","time":"2026-11-28T06:34:03+05:00","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","vehicle":{"plate":"777XYZ15","type":"car"}}"#,
            ]
            let producer = try KafkaProducer(config: producerConfig(cluster), logger: testLogger)
            for (partition, event) in events.enumerated() {
                try producer.send(
                    ProducerRecord(topic: "in", partition: Int32(partition), value: Array(event.utf8)[...]),
                    token: UInt64(partition), waitingUpTo: .seconds(30))
            }
            #expect(producer.flush(timeout: .seconds(30)) == 0)
            let reports = producer.pollDeliveries()
            #expect(reports.count == events.count && reports.allSatisfy { $0.error == nil })

            let first = try makePipeline(
                cluster, group: "g-idle-release", inputs: ["in"], directory: directory, idleTimeout: .milliseconds(300))
            async let firstRun: Void = onDedicatedThread(name: "pipeline") { try first.run() }
            let released = ContinuousClock.now + .seconds(30)
            while first.counters.published == 0, ContinuousClock.now < released { try await Task.sleep(for: .milliseconds(50)) }
            #expect(first.counters.published == 1)
            // Past a checkpoint interval, with no input since: stop's checkpoint may then find nothing new.
            try await Task.sleep(for: .seconds(1))
            first.stop()
            try await firstRun

            // Restored from that state, the next run has nothing left to release, and publishes nothing twice.
            let second = try makePipeline(
                cluster, group: "g-idle-release", inputs: ["in"], directory: directory, idleTimeout: .milliseconds(300))
            async let secondRun: Void = onDedicatedThread(name: "pipeline") { try second.run() }
            let active = ContinuousClock.now + .seconds(30)
            while !second.isActive, ContinuousClock.now < active { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .seconds(2))
            second.stop()
            try await secondRun
            #expect(second.counters.alreadyDelivered == 0)
            #expect(second.counters.published == 0)
        }
    }
}
