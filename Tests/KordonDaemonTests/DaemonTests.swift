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
        /// The mock cluster keeps about 5 MB a partition and drops older messages (its retention):
        /// partitions and streams are sized to stay below that.
        static let partitions: Int32 = 6

        func cluster() throws -> MockCluster {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            for topic in inputTopics { try cluster.createTopic(topic, partitions: Self.partitions) }
            // The mock cluster does not serve CreateTopics, so the daemon finds its output topics made.
            for topic in alertTopics + ["border.events.dlq"] { try cluster.createTopic(topic, partitions: 3) }
            for group in ["g-e2e", "g-crash", "g-faults", "g-rebalance", "g-failover", "g-pseudo"] {
                try cluster.createTopic(group + ".active", partitions: 1)
            }
            return cluster
        }

        @Test func alertsReachTopicsAndLogOnceAndSIGTERMCommitsAndExits() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 20_000, seed: 11)
            try stream.produce(to: cluster)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-e2e", name: "e2e")
            try daemon.start()
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-e2e", partitions: Self.partitions))
            // The metrics endpoint counts what was delivered.
            #expect(daemon.metric("kordon_alerts_total") == Double(stream.expected.count))
            #expect(daemon.metric("kordon_messages_consumed_total") == Double(stream.messages.count))
            #expect(daemon.get("/readyz")?.0 == 200)
            #expect(daemon.get("/healthz")?.0 == 200)
            let began = ContinuousClock.now
            #expect(daemon.signal(SIGTERM) == 0)
            #expect(ContinuousClock.now - began < .seconds(15))
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
            let mode = try FileManager.default.attributesOfItem(atPath: daemon.logPath)[.posixPermissions] as? Int
            #expect(mode == 0o640)
            // Each client got only its own kind's properties (the consumer's session timeout is prefixed).
            let warnings = daemon.daemonLog.split(separator: "\n").filter { $0.contains("CONFWARN") }
            #expect(warnings.isEmpty, "\(warnings.joined(separator: "\n"))")
        }

        @Test func killedAtRandomMomentsItDeliversEveryAlertOnce() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 40_000, seed: 12)
            try stream.produce(to: cluster)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-crash", name: "crash")
            // SIGKILL (no chance to checkpoint or commit) at a random moment once it is busy, five times.
            var random = SplitMix64(seed: 12)
            for _ in 0..<5 {
                let logged = try daemon.loggedIds().count
                try daemon.start()
                #expect(try await waitFor(timeout: .seconds(30)) { try daemon.loggedIds().count > logged })
                try await Task.sleep(for: .milliseconds(Int(random.next() % 700)))
                #expect(daemon.signal(SIGKILL) != nil)
            }
            try daemon.start()
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-crash", partitions: Self.partitions))
            #expect(daemon.signal(SIGTERM) == 0)
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
        }

        @Test func brokerFaultsDuringARunLoseAndRepeatNothing() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 40_000, seed: 13)
            try stream.produce(to: cluster)
            // One produce request in flight per broker, for the injected produce errors: see
            // `MockCluster.pushRequestErrors`.
            let daemon = try DaemonUnderTest(
                cluster: cluster, group: "g-faults", name: "faults",
                properties: ["producer.max.in.flight.requests.per.connection": "1"])
            try daemon.start()
            #expect(try await waitFor(timeout: .seconds(30)) { try !daemon.loggedIds().isEmpty })
            // While it works through the stream: a broker down (input and alert partitions lose their
            // leader), then produce and commit requests failing.
            try cluster.setBrokerDown(2)
            try await Task.sleep(for: .seconds(4))
            try cluster.setBrokerUp(2)
            cluster.pushRequestErrors(.produce, Array(repeating: .notEnoughReplicas, count: 20))
            cluster.pushRequestErrors(.offsetCommit, Array(repeating: .requestTimedOut, count: 5))
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-faults", partitions: Self.partitions))
            #expect(daemon.process?.isRunning == true, "recovered without a restart")
            #expect(daemon.signal(SIGTERM) == 0)
            try expectDelivered(stream, cluster: cluster, logs: [daemon.loggedIds()])
        }
    }
}

extension Kafka.DaemonTests {
    /// A second daemon joins the group mid-stream and leaves again: it stands by (the engine needs
    /// every partition, so one instance is active), and the stream goes on undisturbed.
    @Test func aSecondDaemonJoiningAndLeavingLosesAndRepeatsNothing() async throws {
        let cluster = try cluster()
        let stream = try Stream(events: 40_000, seed: 14)
        let first = try DaemonUnderTest(cluster: cluster, group: "g-rebalance", name: "first")
        let second = try DaemonUnderTest(cluster: cluster, group: "g-rebalance", name: "second")
        // The whole stream first: the simulator packs days into seconds, and partitions filled
        // while the daemon watches would drift hours apart in event time.
        try stream.produce(to: cluster)
        try first.start()
        #expect(try await waitFor { try !first.loggedIds().isEmpty })
        try second.start()
        #expect(try await waitFor { second.daemonLog.contains("assigned 0 partitions") }, "the second daemon joined")
        try await Task.sleep(for: .seconds(1))
        #expect(second.signal(SIGTERM) == 0)
        #expect(try waitUntilCommittedToEnd(cluster, group: "g-rebalance", partitions: Self.partitions))
        #expect(first.signal(SIGTERM) == 0)
        #expect(!second.daemonLog.contains("active: consuming"), "the second daemon stood by")
        try expectDelivered(stream, cluster: cluster, logs: [first.loggedIds(), second.loggedIds()])
    }
}

extension Kafka.DaemonTests {
    /// The active daemon stops while another stands by with access to its state directory: the
    /// standby takes over from the last checkpoint, and the two together deliver every alert once.
    @Test func aStandbyTakesOverFromTheActiveOnesCheckpoint() async throws {
        let cluster = try cluster()
        let stream = try Stream(events: 40_000, seed: 15)
        try stream.produce(to: cluster)
        let first = try DaemonUnderTest(cluster: cluster, group: "g-failover", name: "active")
        let second = try DaemonUnderTest(
            cluster: cluster, group: "g-failover", name: "standby", stateDirectory: first.stateDirectory)
        try first.start()
        #expect(try await waitFor { try !first.loggedIds().isEmpty })
        try second.start()
        #expect(try await waitFor { second.daemonLog.contains("assigned 0 partitions") }, "the standby joined")
        #expect(first.signal(SIGTERM) == 0)
        #expect(try await waitFor { second.daemonLog.contains("active: consuming") }, "the standby took over")
        #expect(try waitUntilCommittedToEnd(cluster, group: "g-failover", partitions: Self.partitions))
        #expect(second.signal(SIGTERM) == 0)
        try expectDelivered(stream, cluster: cluster, logs: [first.loggedIds(), second.loggedIds()])
    }
}
