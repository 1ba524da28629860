import Foundation
import KordonEngine
import KordonKafka
import KordonTestSupport
import Testing

extension Kafka {
    /// Operating signals on the real daemon: SIGUSR1 after the log was rotated, SIGHUP with a good
    /// and a broken config, and the systemd notify protocol.
    @Suite struct SignalTests {
        func cluster() throws -> MockCluster {
            let cluster = try MockCluster(brokers: 3, logger: testLogger)
            for topic in inputTopics { try cluster.createTopic(topic, partitions: 6) }
            for topic in alertTopics + ["border.events.dlq"] { try cluster.createTopic(topic, partitions: 3) }
            for group in ["g-usr1", "g-hup", "g-notify", "g-down", "g-disk"] { try cluster.createTopic(group + ".active", partitions: 1) }
            return cluster
        }

        @Test func sigusr1ReopensARotatedLogAndNothingIsLostOrRepeated() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 40_000, seed: 21)
            // The whole stream first, rotating while the daemon works through it: partitions filled
            // while it watches would drift hours apart in the simulator's packed event time.
            let daemon = try await startedDaemon(cluster, stream, group: "g-usr1", name: "usr1")
            // logrotate's way: move the file away, then signal.
            let rotated = daemon.logPath + ".1"
            try FileManager.default.moveItem(atPath: daemon.logPath, toPath: rotated)
            daemon.signal(SIGUSR1)
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-usr1", partitions: 6))
            #expect(daemon.signal(SIGTERM) == 0)
            let old = try String(contentsOfFile: rotated, encoding: .utf8).split(separator: "\n")
                .compactMap { AlertLine.id(in: Array($0.utf8)[...]) }
            let new = try daemon.loggedIds()
            #expect(!new.isEmpty, "the new log got the alerts after the rotation")
            let mode = try FileManager.default.attributesOfItem(atPath: daemon.logPath)[.posixPermissions] as? Int
            #expect(mode == 0o640)
            try expectDelivered(stream, cluster: cluster, logs: [old, new])
            #expect(daemon.daemonLog.contains("SIGUSR1"))
        }

        @Test func sighupAppliesAGoodConfigAndRefusesABrokenOne() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 20_000, seed: 22)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-hup", name: "hup")
            try daemon.start()
            let third = stream.messages.count / 3
            try stream.produce(to: cluster, range: 0..<third)
            #expect(try await waitFor { try daemon.loggedIds().count > 10 })

            // Broken: the rulebook has an error. The daemon says where, and goes on with the old one.
            let brokenRules = daemon.directory + "/broken-rules.yaml"
            let shipped = try String(contentsOfFile: repositoryRoot.appendingPathComponent("config/rules.yaml").path, encoding: .utf8)
            // The rulebook names its watchlist relative to itself.
            try FileManager.default.copyItem(
                atPath: repositoryRoot.appendingPathComponent("config/watchlist.yaml").path,
                toPath: daemon.directory + "/watchlist.yaml")
            try shipped.replacingOccurrences(of: "window: 30d", with: "window: 30 days").write(
                toFile: brokenRules, atomically: true, encoding: .utf8)
            try daemon.writeConfig(rules: brokenRules)
            daemon.signal(SIGHUP)
            #expect(try await waitFor { daemon.daemonLog.contains("reload refused") })
            #expect(daemon.daemonLog.contains("broken-rules.yaml:"))
            #expect(daemon.daemonLog.contains("expected a duration like 30d"))
            try stream.produce(to: cluster, range: third..<2 * third)

            // Good: one rule retitled. Alerts of that rule from then on carry the new title.
            let goodRules = daemon.directory + "/rules.yaml"
            try shipped.replacingOccurrences(of: "title: \"Undeclared or", with: "title: \"RELOADED Undeclared or").write(
                toFile: goodRules, atomically: true, encoding: .utf8)
            #expect(shipped.contains("title: \"Undeclared or"))
            try daemon.writeConfig(rules: goodRules)
            daemon.signal(SIGHUP)
            #expect(try await waitFor { daemon.daemonLog.contains("config reloaded") }, "\(daemon.daemonLog.split(separator: "\n").filter { $0.contains("reload") })")
            try stream.produce(to: cluster, range: 2 * third..<stream.messages.count)
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-hup", partitions: 6))
            #expect(daemon.process?.isRunning == true)
            #expect(daemon.signal(SIGTERM) == 0)
            let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
            #expect(log.contains("RELOADED Undeclared or"))
        }

        @Test func notifiesReadyWatchdogWhileProgressingAndStopping() async throws {
            let cluster = try cluster()
            let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-notify-\(UUID().uuidString)").path
            let listener = try NotifyListener(path: socketPath)
            let daemon = try DaemonUnderTest(cluster: cluster, group: "g-notify", name: "notify")
            try daemon.start(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"])
            let stream = try Stream(events: 5_000, seed: 23)
            try stream.produce(to: cluster)
            #expect(try await waitFor { listener.received().contains { $0.contains("READY=1") } })
            #expect(try await waitFor { listener.received().contains { $0.contains("WATCHDOG=1") } })
            #expect(listener.received().contains { $0.contains("STATUS=") && $0.contains("events/s") })
            // Every broker down: a restart would not bring them back, so while its loop turns the daemon
            // keeps feeding the watchdog, reports the lag as unknown, and resumes when they return.
            for broker: Int32 in 1...3 { try cluster.setBrokerDown(broker) }
            try await Task.sleep(for: .seconds(3))
            let outage = listener.received().count
            try await Task.sleep(for: .seconds(3))
            let during = Array(listener.received()[outage...])
            #expect(during.contains { $0.contains("WATCHDOG=1") }, "\(during)")
            #expect(during.contains { $0.contains("STATUS=") && $0.contains("lag unknown") }, "\(during)")
            for broker: Int32 in 1...3 { try cluster.setBrokerUp(broker) }
            let back = listener.received().count
            #expect(try await waitFor { listener.received()[back...].contains { $0.contains("lag 0") } })
            #expect(try await waitFor { listener.received()[back...].contains { $0.contains("WATCHDOG=1") } })
            #expect(daemon.signal(SIGTERM) == 0)
            #expect(listener.received().contains { $0.contains("STOPPING=1") })
        }

        /// SIGTERM while every broker is down, a SIGHUP reload waiting on them: nothing can be
        /// delivered or committed, and the daemon still exits within its shutdown bound (15 s here),
        /// the last checkpoint staying.
        @Test func sigtermWithEveryBrokerDownExitsWithinTheBound() async throws {
            let cluster = try cluster()
            let daemon = try await startedDaemon(cluster, Stream(events: 5_000, seed: 24), group: "g-down", name: "down")
            for broker: Int32 in 1...3 { try cluster.setBrokerDown(broker) }
            // Long enough for the status service's lag queries to be waiting on the brokers.
            try await Task.sleep(for: .seconds(3))
            // A reload asks the brokers for the topics it routes to, and waits for them too.
            daemon.signal(SIGHUP)
            try await Task.sleep(for: .seconds(1))
            let began = ContinuousClock.now
            let status = daemon.signal(SIGTERM, timeout: .seconds(90))
            let took = ContinuousClock.now - began
            #expect(status == 0, "\(daemon.daemonLog.suffix(3000))")
            // The bound, and a second for the process to be reaped and seen gone.
            #expect(took < .seconds(16), "took \(took)")
        }

        /// SIGTERM while the alert log cannot be written (here its path is taken by a directory): the
        /// daemon gives up within its bound, without a checkpoint past the alerts it could not log,
        /// and fails; started again once the log can be written, it delivers every alert once.
        @Test func sigtermWhileTheAlertLogFailsExitsWithinTheBoundAndLosesNothing() async throws {
            let cluster = try cluster()
            let stream = try Stream(events: 20_000, seed: 25)
            let half = stream.messages.count / 2
            let daemon = try await startedDaemon(cluster, stream, range: 0..<half, group: "g-disk", name: "disk")
            let rotated = daemon.logPath + ".1"
            try FileManager.default.moveItem(atPath: daemon.logPath, toPath: rotated)
            try FileManager.default.createDirectory(atPath: daemon.logPath, withIntermediateDirectories: false)
            try stream.produce(to: cluster, range: half..<stream.messages.count)
            #expect(try await waitFor { daemon.daemonLog.contains("Is a directory; retrying") })
            let began = ContinuousClock.now
            let status = daemon.signal(SIGTERM, timeout: .seconds(90))
            let took = ContinuousClock.now - began
            #expect(status == 1, "\(daemon.daemonLog.suffix(3000))")
            #expect(took < .seconds(16), "took \(took)")
            #expect(daemon.daemonLog.contains("stopping without a checkpoint"))

            try FileManager.default.removeItem(atPath: daemon.logPath)
            try daemon.start()
            #expect(try waitUntilCommittedToEnd(cluster, group: "g-disk", partitions: 6))
            #expect(daemon.signal(SIGTERM) == 0)
            let old = try String(contentsOfFile: rotated, encoding: .utf8).split(separator: "\n")
                .compactMap { AlertLine.id(in: Array($0.utf8)[...]) }
            try expectDelivered(stream, cluster: cluster, logs: [old, daemon.loggedIds()])
        }
    }
}

/// A datagram socket standing in for systemd's notify socket.
final class NotifyListener {
    private let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
    }

    private var history: [String] = []

    /// Every datagram received so far, oldest first.
    func received() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            history.append(String(decoding: buffer[..<n], as: UTF8.self))
        }
        return history
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
