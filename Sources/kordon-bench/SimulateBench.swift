import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents
import KordonFeed
import KordonKafka
import KordonSimulator
import Logging

/// Simulator throughput on one thread: the bytes of a stream to memory, to a real file, and onto Kafka.
struct SimulateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulator: events/s and MB/s generating a stream to memory, to a file and to Kafka, and peak memory.",
        discussion: """
            Runs the simulator over the configured geography and rulebook with default options (background \
            traffic, 48 incidents and 48 near misses a day, labels taken as they complete) on one thread, as \
            `kordon simulate` does. To memory: each message goes into a 1 MiB buffer that is counted and \
            reused, so only generation is timed. To file: the same stream, the buffer written to a file \
            under /tmp whenever it fills, closed (not synced) and deleted; each round on a new file after a \
            sync, so that no earlier round's pages are still being written back meanwhile. To Kafka: the first \
            --kafka-events of the stream published as `kordon simulate --brokers` publishes them (the \
            contract's input topics, 6 partitions each, on a 3-broker mock cluster in this process), timed \
            until every message is acknowledged; beside it, Kafka alone: the same messages, generated \
            beforehand, published from memory the same way. Best of --rounds each; then the process's peak \
            RSS (getrusage).
            """)

    @Option(help: "Events to generate per run.")
    var events = 2_000_000

    @Option(help: "Events per run to Kafka.")
    var kafkaEvents = 300_000

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "Timed rounds per target; the fastest counts.")
    var rounds = 3

    @Option(help: "Config file naming the rulebook and geography.")
    var config = "config/kordon.yaml"

    func validate() throws {
        guard events > 0, kafkaEvents > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
    }

    func run() throws {
        let loaded: KordonConfig
        do { loaded = try KordonConfig.load(file: config) } catch { throw ValidationError("\(error)") }
        var options = SimulationOptions()
        options.seed = seed
        options.events = events
        options.lateness = loaded.settings.lateness
        print("simulate: \(events) events, seed \(seed), geography and rulebook from \(config)")

        let memory = fastest { generate(options, loaded, into: nil) }
        report("to memory", memory)

        let path = "/tmp/kordon-bench-simulate-\(getpid()).jsonl"
        defer { unlink(path) }
        let file = try fastest { () throws -> Run in
            // Each round starts on a new file with nothing of the last one left to drop or write back.
            unlink(path)
            sync()
            let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw ValidationError("cannot write \(path)") }
            defer { close(fd) }
            return generate(options, loaded, into: fd)
        }
        report("to file (/tmp, deleted after)", file)

        var logger = Logger(label: "kordon.bench")
        logger.logLevel = .error
        let cluster = try MockCluster(brokers: 3, logger: logger)
        let topics = loaded.kafka.inputTopics
        for topic in Set(topics) { try cluster.createTopic(topic, partitions: 6) }
        var kafkaOptions = options
        kafkaOptions.events = kafkaEvents
        let kafka = try fastest { try publish(kafkaOptions, loaded, cluster.bootstrapServers, logger) }
        report("to Kafka (mock cluster)", kafka)
        let lines = stream(kafkaOptions, loaded)
        let alone = try fastest { try publish(lines, loaded, cluster.bootstrapServers, logger) }
        report("Kafka alone (from memory)", alone)

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("  peak RSS \(String(format: "%.0f", Double(usage.ru_maxrss) / 1024)) MiB")
    }

    private struct Run {
        var seconds: Double
        var events: Int
        var bytes: Int
        var labels: Int
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// One whole stream; with `fd`, every full buffer goes to it.
    private func generate(_ options: SimulationOptions, _ loaded: KordonConfig, into fd: Int32?) -> Run {
        let clock = ContinuousClock()
        var bytes = 0
        var labels = 0
        let elapsed = clock.measure {
            var simulator = Simulator(options: options, geography: loaded.geography, rulebook: loaded.rulebook)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20 + 64 << 10)
            func flush() {
                bytes += buffer.count
                if let fd { writeAll(fd, buffer) }
                buffer.removeAll(keepingCapacity: true)
            }
            while simulator.next(into: &buffer) != nil {
                labels += simulator.takeLabels().count
                if buffer.count >= 1 << 20 { flush() }
            }
            flush()
        }
        return Run(seconds: seconds(elapsed), events: options.events ?? 0, bytes: bytes, labels: labels)
    }

    /// One whole stream through a `SimulatedFeed`, timed until every message is acknowledged.
    private func publish(_ options: SimulationOptions, _ loaded: KordonConfig, _ bootstrap: String, _ logger: Logger) throws -> Run {
        let feed = try feed(loaded, bootstrap, logger)
        var bytes = 0
        var labels = 0
        let started = ContinuousClock.now
        var simulator = Simulator(options: options, geography: loaded.geography, rulebook: loaded.rulebook)
        var buffer: [UInt8] = []
        while let message = simulator.next(into: &buffer) {
            labels += simulator.takeLabels().count
            try feed.send(buffer[...], kind: message.kind)
            bytes += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        try feed.finish(timeout: .seconds(120))
        return Run(seconds: seconds(started.duration(to: .now)), events: options.events ?? 0, bytes: bytes, labels: labels)
    }

    /// The same messages from memory: what Kafka and the producer alone take.
    private func publish(_ lines: [(line: ArraySlice<UInt8>, kind: EventKind)], _ loaded: KordonConfig, _ bootstrap: String, _ logger: Logger) throws -> Run {
        let feed = try feed(loaded, bootstrap, logger)
        let started = ContinuousClock.now
        for (line, kind) in lines { try feed.send(line, kind: kind) }
        try feed.finish(timeout: .seconds(120))
        return Run(
            seconds: seconds(started.duration(to: .now)), events: kafkaEvents, bytes: lines.reduce(0) { $0 + $1.line.count }, labels: 0)
    }

    private func stream(_ options: SimulationOptions, _ loaded: KordonConfig) -> [(line: ArraySlice<UInt8>, kind: EventKind)] {
        var simulator = Simulator(options: options, geography: loaded.geography, rulebook: loaded.rulebook)
        var bytes: [UInt8] = []
        var lines: [(range: Range<Int>, kind: EventKind)] = []
        while true {
            let start = bytes.count
            guard let message = simulator.next(into: &bytes) else { break }
            lines.append((start..<bytes.count, message.kind))
        }
        return lines.map { (bytes[$0.range], $0.kind) }
    }

    private func feed(_ loaded: KordonConfig, _ bootstrap: String, _ logger: Logger) throws -> SimulatedFeed {
        try SimulatedFeed(brokers: bootstrap, inputTopics: loaded.kafka.inputTopics, logger: logger)
    }


    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(written > 0, "write failed: errno \(errno)")
                offset += written
            }
        }
    }

    private func fastest(_ body: () throws -> Run) rethrows -> Run {
        var best: Run?
        for _ in 0..<rounds {
            let run = try body()
            if best == nil || run.seconds < best!.seconds { best = run }
        }
        return best!
    }

    private func report(_ name: String, _ run: Run) {
        print(
            "  \(name.padding(toLength: 30, withPad: " ", startingAt: 0))"
                + "\(String(format: "%12.0f", Double(run.events) / run.seconds)) events/s "
                + "\(String(format: "%9.1f", Double(run.bytes) / run.seconds / 1e6)) MB/s "
                + "(\(String(format: "%.1f", Double(run.bytes) / 1e6)) MB, \(run.labels) labels, best of \(rounds))")
    }
}
