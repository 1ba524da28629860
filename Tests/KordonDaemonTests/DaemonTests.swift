import Foundation
import KordonEngine
import KordonKafka
import KordonSimulator
import KordonTestSupport
import Testing

extension Kafka {
    /// The real `kordon run` binary against the mock cluster on loopback, fed a simulated stream
    /// with planted incidents; what it publishes is compared with an offline run of the engine.
    @Suite struct DaemonTests {
        static let partitions: Int32 = 3

        func cluster() throws -> MockCluster {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            for topic in inputTopics { try cluster.createTopic(topic, partitions: Self.partitions) }
            // The mock cluster does not serve CreateTopics, so the daemon finds its output topics made.
            for topic in alertTopics + ["border.events.dlq"] { try cluster.createTopic(topic, partitions: 3) }
            return cluster
        }

        @Test func alertsReachTopicsAndLogOnceAndSIGTERMCommitsAndExits() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 20_000, seed: 11)
            try stream.produce(to: cluster)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-e2e", name: "e2e")
            try daemon.start()
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-e2e", partitions: Self.partitions))
            let began = ContinuousClock.now
            #expect(daemon.signal(SIGTERM) == 0)
            #expect(ContinuousClock.now - began < .seconds(15))
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
            let mode = try FileManager.default.attributesOfItem(atPath: daemon.logPath)[.posixPermissions] as? Int
            #expect(mode == 0o640)
        }

        @Test func killedAtRandomMomentsItDeliversEveryAlertOnce() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 60_000, seed: 12)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-crash", name: "crash")
            try daemon.start()
            // Produce while the daemon runs, and kill it (SIGKILL: no chance to checkpoint) between slices.
            var random = SplitMix64(seed: 12)
            let slices = 5
            let size = stream.messages.count / slices
            for slice in 0..<slices {
                let end = slice == slices - 1 ? stream.messages.count : (slice + 1) * size
                try stream.produce(to: cluster, range: slice * size..<end)
                try await Task.sleep(for: .milliseconds(300 + Int(random.next() % 1500)))
                #expect(daemon.signal(SIGKILL) != nil)
                try daemon.start()
            }
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-crash", partitions: Self.partitions))
            #expect(daemon.signal(SIGTERM) == 0)
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
        }

        @Test func brokerFaultsDuringARunLoseAndRepeatNothing() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 40_000, seed: 13)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-faults", name: "faults")
            try daemon.start()
            try stream.produce(to: cluster, range: 0..<10_000)
            try await Task.sleep(for: .seconds(1))
            // A broker down for a while, then produce and commit requests failing, while the stream goes on.
            try cluster.setBrokerDown(2)
            try stream.produce(to: cluster, range: 10_000..<25_000)
            try await Task.sleep(for: .seconds(3))
            try cluster.setBrokerUp(2)
            cluster.pushRequestErrors(.produce, Array(repeating: .notEnoughReplicas, count: 20))
            cluster.pushRequestErrors(.offsetCommit, Array(repeating: .requestTimedOut, count: 5))
            try stream.produce(to: cluster, range: 25_000..<stream.messages.count)
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-faults", partitions: Self.partitions))
            #expect(daemon.process?.isRunning == true, "recovered without a restart")
            #expect(daemon.signal(SIGTERM) == 0)
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
        }
    }
}
