import Foundation
import KordonEngine
import KordonEvents
import KordonFeed
import KordonKafka
import KordonOperations
import KordonPipeline
import KordonService
import KordonSimulator
import Logging
import ServiceLifecycle
import Synchronization

/// Tells systemd (when it started us with `Type=notify`) that the daemon is ready after the first
/// assignment, what it is doing (STATUS), and that it is alive, but only while the pipeline's loop
/// turns and it is not stuck: it consumed something, it has nothing to consume, or Kafka cannot be
/// reached (a restart would not bring the brokers back, and the loop resumes by itself when they are).
struct StatusService: Service {
    unowned let pipeline: DetectionPipeline
    let logger: Logger

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let notifier = SystemdNotifier(environment: environment)
        let watchdog = SystemdNotifier.watchdogInterval(environment: environment)
        let interval = min(watchdog.map { $0 / 2 } ?? .seconds(1), .seconds(1))
        let lag = LatestLag()
        try await withThrowingDiscardingTaskGroup { group in
            // Asking the brokers blocks, up to a second when they do not answer: asked on the side, so
            // that STATUS and the watchdog keep their cadence through an outage.
            group.addTask {
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    let total = try? await onDedicatedThread(name: "kordon-lag") { pipeline.lag() }?.values.reduce(0, +)
                    lag.value.withLock { $0 = (total, .now) }
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                }
            }
            var ready = false
            var previous = pipeline.counters
            var recentAlerts: [(ContinuousClock.Instant, Int)] = []
            var last = ContinuousClock.now
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                // Woken by a shutdown: the pipeline's drain waits for this service to stop.
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                let now = ContinuousClock.now
                let counters = pipeline.counters
                let alerts = counters.alerts.values.reduce(0, +)
                recentAlerts.append((now, alerts))
                recentAlerts.removeAll { now - $0.0 > .seconds(60) }
                // nil: Kafka could not say, or has not answered for a while (unreachable).
                let known = lag.value.withLock { $0 }
                let total = now - known.at > interval * 3 ? nil : known.total
                let alive = counters.heartbeat != previous.heartbeat
                let progressed = alive && (counters.consumed > previous.consumed || total == nil || total == 0)
                let rate = Double(counters.consumed - previous.consumed) / (now - last).seconds
                last = now
                let status = String(
                    format: "%.0f events/s, lag %@, %d alerts in the last minute", rate,
                    total.map(String.init) ?? "unknown", alerts - (recentAlerts.first?.1 ?? alerts))
                previous = counters
                guard let notifier else { continue }
                do {
                    if !ready, counters.rebalances > 0 {
                        try notifier.ready(status: status)
                        ready = true
                    } else {
                        try notifier.status(status)
                    }
                    if ready, watchdog != nil, progressed { try notifier.watchdog() }
                } catch {
                    logger.warning("systemd notify: \(error)")
                }
            }
            try? notifier?.stopping()
        }
    }
}

/// The consumer's lag as Kafka last told it (nil: it could not say), and when.
private final class LatestLag: Sendable {
    let value = Mutex<(total: Int64?, at: ContinuousClock.Instant)>((nil, .now))
}

/// The embedded demo's traffic: the simulator feeding the input topics of the in-process cluster.
struct DemoFeed: Service {
    let config: KordonConfig
    let bootstrap: String
    let logger: Logger
    /// Events per second of wall time: a simulated day passes in about eight minutes, slowly enough
    /// that a second's stall leaves partitions well within the allowed lateness of each other.
    var rate = 50.0

    func run() async throws {
        var options = SimulationOptions()
        options.lateness = config.settings.lateness
        // Many more incidents than a real day has, so alerts appear within seconds.
        options.incidentsPerDay = 1000
        options.nearMissesPerDay = 300
        options.duplicateFraction = 0.001
        options.invalidFraction = 0.0005
        var simulator = Simulator(options: options, geography: config.geography, rulebook: config.rulebook)
        let feed = try SimulatedFeed(brokers: bootstrap, inputTopics: config.kafka.inputTopics, logger: logger)
        let began = ContinuousClock.now
        var buffer: [UInt8] = []
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            buffer.removeAll(keepingCapacity: true)
            guard let message = simulator.next(into: &buffer) else { break }
            _ = simulator.takeLabels()
            try feed.send(buffer[...], kind: message.kind, waitingUpTo: .seconds(5))
            if feed.count % 100 == 0 {
                feed.pollDeliveries()
                let due = began + .seconds(Double(feed.count) / rate)
                if due > .now { try? await Task.sleep(until: due) }
            }
        }
        // Stopping: what did not land in time goes with the demo's cluster.
        try? feed.finish(timeout: .seconds(5))
    }
}

/// Prints the demo's alerts on the terminal as `kordon tail` would, as they reach the log.
struct AlertEcho: Service {
    let path: String

    func run() async throws {
        let follower = LogFollower(path: path)
        _ = follower.poll()  // what earlier runs wrote
        let formatter = AlertLineFormatter(color: isatty(STDOUT_FILENO) == 1)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            var text = ""
            for line in follower.poll() {
                if let alert = AlertLine(json: line) { text += formatter.format(alert) + "\n" }
            }
            if !text.isEmpty { FileHandle.standardOutput.write(Data(text.utf8)) }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
