import ArgumentParser
import CKafkaBench
import Foundation
import KordonEngine
import KordonEvents
import KordonKafka
import KordonPipeline
import KordonSimulator
import Logging
import Synchronization

/// End to end through Kafka: the whole pipeline against a plain C consume loop on the same topics,
/// then latency from an event's produce time to its alert's delivery at a steady rate.
struct PipelineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Detection pipeline end to end: events/s vs the raw librdkafka consume rate, and alert latency at a steady rate.",
        discussion: """
            Runs a 3-broker mock cluster in this process. Throughput: produces a simulated stream (the \
            configured geography and rulebook, planted incidents) to the input topics, then per round \
            consumes all of it with the plain C librdkafka loop and with a DetectionPipeline built as \
            `kordon run` builds it (default rulebook, routes, alert log and state in a temporary \
            directory), alternating which goes first. Latency: a paced producer feeds fresh input topics \
            at --rate for --duration seconds while a pipeline runs; each sample is the pipeline's clock at the \
            alert's delivery report minus the Kafka timestamp of the event that released the alert.
            """)

    @Option(help: "Events in the throughput phase.")
    var events = 300_000

    @Option(help: "Partitions per input topic (raised where the mock's ~5 MiB per partition needs more).")
    var partitions: Int32 = 12

    @Option(help: "Throughput rounds; each consumes the whole stream once with each, alternating which goes first.")
    var rounds = 3

    @Option(help: "Events per second in the latency phase.")
    var rate = 10_000.0

    @Option(help: "Seconds the latency phase produces for.")
    var duration = 20.0

    @Option(help: "The latency phase's fetch.wait.max.ms for the pipeline's consumer (see the printed note).")
    var fetchWaitMs = 5

    @Option(help: "Planted incidents per simulated day in the latency phase (dense, for enough alerts).")
    var incidentsPerDay = 5_000.0

    @Option(help: "Seed of the simulator.")
    var seed: UInt64 = 7

    @Option(help: "Which phases to run: both, throughput or latency.")
    var phase = "both"

    @Flag(
        help: """
            Send each of the latency feed's events to a partition of its own choosing, as many independent \
            producing systems together would, rather than as one producer of unkeyed messages does by default \
            (librdkafka sticks to one partition for each batch, so each of the inputs gets events only every few \
            hundred milliseconds).
            """)
    var feedSpread = false

    @Option(help: "Config file naming the rulebook, geography, topics and routes.")
    var config = "config/kordon.yaml"

    func validate() throws {
        guard events > 0, rounds > 0, rate > 0, duration > 0, partitions > 0 else {
            throw ValidationError("counts must be positive")
        }
        guard ["both", "throughput", "latency"].contains(phase) else {
            throw ValidationError("--phase is both, throughput or latency")
        }
    }

    func run() throws {
        let loaded: KordonConfig
        do { loaded = try KordonConfig.load(file: config) } catch { throw ValidationError("\(error)") }
        var logger = Logger(label: "kordon.bench")
        logger.logLevel = .error
        let cluster = try MockCluster(brokers: 3, logger: logger)
        // As the embedded daemon does: the mock cluster does not serve CreateTopics.
        for topic in loaded.alertTopics + [loaded.kafka.deadLetterTopic] { try cluster.createTopic(topic, partitions: 6) }
        print("pipeline: \(loaded.rulebook.rules.count) rule parts from \(loaded.rulesFile), seed \(seed), 3-broker mock cluster in process")
        if phase != "latency" { try throughput(loaded, cluster, logger) }
        if phase != "throughput" { try latency(loaded, cluster, logger) }
        print("peak RSS (whole process: mock cluster with every topic, bench producer, pipelines): \(peakMemoryMiB()) MiB")
    }

    // MARK: - Throughput

    private func throughput(_ loaded: KordonConfig, _ cluster: MockCluster, _ logger: Logger) throws {
        var options = SimulationOptions()
        options.seed = seed
        options.events = events
        options.lateness = loaded.settings.lateness
        let stream = SimulatedStream(options, loaded)
        let topics = loaded.kafka.inputTopics.map { "throughput." + $0 }
        var counts: [Int32] = []
        for (index, topic) in topics.enumerated() {
            let count = max(partitions, partitionsNeeded(bytes: stream.byteCount(topic: index), messages: stream.messageCount(topic: index)))
            try cluster.createTopic(topic, partitions: count)
            counts.append(count)
        }
        let started = ContinuousClock.now
        try stream.produce(to: cluster.bootstrapServers, topics: topics, partitions: counts, logger: logger)
        let bytesPerEvent = stream.bytes.count / stream.records.count
        print(
            "\nthroughput: produced \(stream.records.count) events (\(bytesPerEvent) bytes on average) to "
                + zip(topics, counts).map { "\($0) (\($1) partitions)" }.joined(separator: ", ")
                + " in \(started.duration(to: .now))")
        let total = stream.records.count
        let subscription = "^(" + topics.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|") + ")$"

        var c: [ConsumeBench.Run] = []
        var pipelines: [PipelineResult] = []
        for round in 0..<rounds {
            for useC in round % 2 == 0 ? [true, false] : [false, true] {
                if useC {
                    let run = try consumeC(cluster.bootstrapServers, subscription, "bench-c-\(round)", total)
                    c.append(run)
                    print(
                        String(
                            format: "round %d  C loop (librdkafka)  %9.0f events/s from assignment (%5.2f s), %9.0f from first message; %4.0f ns CPU/event polling thread",
                            round + 1, run.rate, run.seconds, run.rateFromFirst, run.cpuPerMessage))
                } else {
                    let result = try consumePipeline(loaded, cluster, topics, "bench-pipeline-\(round)", total, logger)
                    pipelines.append(result)
                    print(
                        String(
                            format: "round %d  DetectionPipeline   %9.0f events/s from assignment (%5.2f s), %9.0f while consuming; %4.1f µs CPU/event pipeline thread (whole run); %d alerts delivered, %d checkpoints, %d pauses",
                            round + 1, result.rate, result.seconds, result.steadyRate, result.cpuPerEvent * 1e6, result.alerts,
                            result.checkpoints, result.pauses))
                }
            }
        }
        let (cRate, pipelineRate) = (median(c.map(\.rate)), median(pipelines.map(\.rate)))
        print(
            String(
                format: "median from assignment: pipeline %.0f events/s, C loop %.0f events/s, ratio %.1f %% (target >= 70 %%)",
                pipelineRate, cRate, 100 * pipelineRate / cRate))
        print(
            """
              note: both timed from the partition assignment to the last event consumed (the C loop reads and drops
              them; the pipeline decodes, detects, logs and publishes alerts, checkpoints). The pipeline's progress is
              read from the counters it publishes every 250 ms, and its end placed where its rate between them reaches
              the total. Alerts include those released by the idle timeout once the input has ended.
            """)
        print("peak RSS so far: \(peakMemoryMiB()) MiB")
    }

    private func partitionsNeeded(bytes: Int, messages: Int) -> Int32 {
        // Headroom under the mock's ~5 MiB and 100,000 messages per partition (record overhead included).
        Int32(max((bytes + 3_500_000) / 3_500_000, (messages + 70_000) / 70_000))
    }

    private func consumeC(_ bootstrap: String, _ subscription: String, _ group: String, _ count: Int) throws -> ConsumeBench.Run {
        var result = ckb_result()
        var errstr = [CChar](repeating: 0, count: 256)
        guard ckb_consume(bootstrap, subscription, group, Int64(count), 300_000, &result, &errstr, errstr.count) == 0 else {
            throw ValidationError("C loop: \(String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        return ConsumeBench.Run(
            count: Int(result.messages), seconds: result.seconds, secondsFromFirst: result.seconds_from_first,
            cpuSeconds: result.cpu_seconds)
    }

    struct PipelineResult {
        /// From the assignment to the last event.
        var rate: Double
        /// While consuming (between publications of the counters).
        var steadyRate: Double
        var seconds: Double
        var cpuPerEvent: Double
        var alerts: Int
        var checkpoints: Int
        var pauses: Int
    }

    private func consumePipeline(
        _ loaded: KordonConfig, _ cluster: MockCluster, _ topics: [String], _ group: String, _ total: Int, _ logger: Logger
    ) throws -> PipelineResult {
        let running = try RunningPipeline(loaded, cluster: cluster, topics: topics, group: group, logger: logger)
        // (time, consumed) at each publication of the counters (every 250 ms), seen within a millisecond or two.
        var published: [(time: ContinuousClock.Instant, consumed: Int)] = []
        var heartbeat = 0
        var assigned: ContinuousClock.Instant?
        let deadline = ContinuousClock.now + .seconds(300)
        while published.last.map({ $0.consumed < total }) ?? true {
            guard ContinuousClock.now < deadline else {
                _ = try? running.stop()
                throw ValidationError("pipeline: only \(published.last?.consumed ?? 0) of \(total) events in 300 s")
            }
            Thread.sleep(forTimeInterval: 0.001)
            if assigned == nil, running.pipeline.isActive { assigned = .now }
            let counters = running.pipeline.counters
            if counters.heartbeat != heartbeat {
                heartbeat = counters.heartbeat
                published.append((.now, counters.consumed))
            }
        }
        // Alerts held for the watermark come out once the inputs go idle.
        Thread.sleep(forTimeInterval: seconds(.nanoseconds(loaded.kafka.idleTimeout)) + 1)
        let cpu = try running.stop()
        let counters = running.pipeline.counters
        // The rate between the first publication with events consumed and the last before all were; the
        // end is placed where that rate reaches the total, as the next publication comes up to 250 ms late.
        let first = published.first { $0.consumed > 0 }!
        let last = published.last { $0.consumed < total } ?? first
        let span = seconds(first.time.duration(to: last.time))
        let steady = span > 0 ? Double(last.consumed - first.consumed) / span : .nan
        let end = steady.isFinite ? last.time + .seconds(Double(total - last.consumed) / steady) : published.last!.time
        let elapsed = seconds((assigned ?? first.time).duration(to: end))
        return PipelineResult(
            rate: Double(total) / elapsed, steadyRate: steady, seconds: elapsed, cpuPerEvent: cpu / Double(total),
            alerts: counters.published - counters.deadLettered, checkpoints: counters.checkpoints, pauses: counters.pauses)
    }

    // MARK: - Latency

    private func latency(_ loaded: KordonConfig, _ cluster: MockCluster, _ logger: Logger) throws {
        let count = Int(rate * duration)
        let topics = loaded.kafka.inputTopics.map { "latency." + $0 }
        var options = SimulationOptions()
        options.seed = seed &+ 1
        options.events = count
        options.incidentsPerDay = incidentsPerDay
        options.lateness = loaded.settings.lateness
        // Sized by the feed's own first events, as if every event went to one topic: the split between
        // them is not known up front.
        var sample = options
        sample.events = min(count, 10_000)
        let sampled = SimulatedStream(sample, loaded)
        let bytesPerEvent = sampled.bytes.count / max(sampled.records.count, 1)
        let perTopic = max(partitions, partitionsNeeded(bytes: count * bytesPerEvent, messages: count))
        for topic in topics { try cluster.createTopic(topic, partitions: perTopic) }
        // librdkafka's mock broker holds a fetch that finds nothing for the whole fetch.wait.max.ms (500 ms by
        // default), even when data arrives meanwhile; a real broker answers as soon as there is data.
        var mockFix = loaded
        mockFix.kafka.properties["fetch.wait.max.ms"] = mockFix.kafka.properties["fetch.wait.max.ms"] ?? "\(fetchWaitMs)"
        let fetchWait = mockFix.kafka.properties["fetch.wait.max.ms"]!
        let probe = try TransportProbe(bootstrap: cluster.bootstrapServers, topics: topics, fetchWait: fetchWait, logger: logger)
        let running = try RunningPipeline(mockFix, cluster: cluster, topics: topics, group: "bench-latency", logger: logger)
        let joinDeadline = ContinuousClock.now + .seconds(60)
        while !running.pipeline.isActive || !probe.isActive {
            guard ContinuousClock.now < joinDeadline else {
                _ = try? running.stop()
                throw ValidationError("no partitions assigned in 60 s")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        // Until every input has had an event or gone idle, the watermark holds alerts back: not steady yet.
        let warmUp = seconds(.nanoseconds(loaded.kafka.idleTimeout)) + 1
        print(
            "\nlatency: \(Int(rate)) events/s for \(duration) s (\(Int(incidentsPerDay)) incidents per simulated day) to "
                + "\(topics.joined(separator: ", ")) (\(perTopic) partitions each) while the pipeline runs, its consumer "
                + "with fetch.wait.max.ms \(fetchWait); the first \(warmUp) s are warm-up; the feed "
                + (feedSpread ? "spreads its events over the partitions one by one" : "sticks to one partition a batch"))

        let feed = PacedFeed(
            options: options, config: loaded, topics: topics, rate: rate, bootstrap: cluster.bootstrapServers,
            spread: feedSpread, logger: logger)
        let steadyFrom = ContinuousClock.now + .seconds(warmUp)
        let steadyFromMs = Timestamp.now.nanosecondsSinceEpoch / 1_000_000 + Int64(warmUp * 1000)
        feed.start()

        // Read every 100 ms, so samples are placed in or after the warm-up to within that.
        var samples: [Double] = []
        var warmUpSamples = 0
        var seen = 0
        var missed = 0
        func collect() {
            let counters = running.pipeline.counters
            let new = counters.latencySamples - seen
            let taken = min(new, counters.latencies.count)
            if ContinuousClock.now < steadyFrom {
                warmUpSamples += taken
            } else {
                samples += counters.latencies.suffix(taken)
            }
            missed += new - taken
            seen = counters.latencySamples
        }
        while !feed.isDone {
            collect()
            Thread.sleep(forTimeInterval: 0.1)
        }
        let produced = try feed.result()
        let deadline = ContinuousClock.now + .seconds(120)
        while running.pipeline.counters.consumed < produced.events, ContinuousClock.now < deadline {
            collect()
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.5)
        collect()
        let consumed = running.pipeline.counters.consumed
        let measured = seen
        // The alerts the inputs' going idle releases, which no event released.
        Thread.sleep(forTimeInterval: warmUp)
        let cpu = try running.stop()
        let transport = probe.stop(since: steadyFromMs).sorted()
        let counters = running.pipeline.counters
        let alerts = counters.published - counters.deadLettered
        let late = counters.events.filter { $0.key.outcome == "late" }.values.reduce(0, +)
        print(
            String(
                format: "  produced %d events at %.0f events/s; the pipeline consumed %d (%4.1f µs CPU/event pipeline thread, %d late), delivered %d alerts, %d checkpoints, %d pauses",
                produced.events, produced.rate, consumed, cpu / Double(max(consumed, 1)) * 1e6, late, alerts,
                counters.checkpoints, counters.pauses))
        guard !samples.isEmpty, !transport.isEmpty else { throw ValidationError("no latency samples after the warm-up") }
        let sorted = samples.sorted()
        print(
            String(
                format: "  event produced -> alert delivered: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms over %d alerts (target p99 < 50 ms)",
                percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 0.99), sorted.last! * 1000, sorted.count))
        print(
            String(
                format: "  Kafka alone, event produced -> consumed (a plain consumer of the same topics): p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms",
                percentile(transport, 0.5), percentile(transport, 0.9), percentile(transport, 0.99), transport.last! * 1000))
        print(
            """
              not counted: \(warmUpSamples) alerts delivered in the warm-up, \(missed) samples overwritten before they were read, \
            \(max(alerts - measured, 0)) alerts with no releasing event (inputs going idle with no batch just handled, as after the feed stopped)
              note: a sample is the pipeline's wall clock when it reads the alert's delivery report (acks=all) minus the
              Kafka CreateTime of the event whose processing released the alert (millisecond resolution, one host clock).
              It includes the feed's batching (linger.ms 5) and produce request, the broker, the pipeline's fetch (the mock
              broker holds an empty one for all of fetch.wait.max.ms, where a real broker answers as data arrives: hence
              the short wait) and poll loop, decoding, the engine, the alert log write (synced only at checkpoints), the
              pipeline producer's batching (linger.ms 2), the acknowledgement, and what checkpoints (every
              \(seconds(.nanoseconds(loaded.daemon.snapshotInterval))) s) cost the pipeline's loop. An alert released by a later
              event (a window or the watermark closing) counts from that event, not from its evidence, and includes the
              engine's work on the buffered events that event let through before the one behind the alert (the watermark
              moves when the slowest of the partitions gets new events, here every few hundred ms, by thousands of
              events); one released by partitions going idle right after a batch counts from that batch's earliest event.
              Each alert is published as soon as the engine makes it.
            """)
    }
}

/// Nearest rank, in milliseconds, of seconds sorted ascending.
private func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, max(Int((p * Double(sorted.count)).rounded(.up)) - 1, 0))] * 1000
}

extension KordonConfig {
    /// Every topic a route may send alerts to (as `kordon run` reads them back).
    fileprivate var alertTopics: [String] {
        var topics: [String] = []
        for route in kafka.alertRoutes where !topics.contains(route.topic) { topics.append(route.topic) }
        return topics
    }
}

/// A DetectionPipeline as `kordon run` builds it, its loop on a thread of its own, its state and
/// alert log in a temporary directory.
final class RunningPipeline: Sendable {
    let pipeline: DetectionPipeline
    private let directory: String
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<(cpu: Double, error: (any Error)?)>((0, nil))

    init(_ config: KordonConfig, cluster: MockCluster, topics: [String], group: String, logger: Logger) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-bench-\(group)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The client properties `kordon run` sets.
        var consumer = KafkaConfig(config.kafka.properties)
        consumer["bootstrap.servers"] = cluster.bootstrapServers
        var producer = consumer
        consumer["group.id"] = group
        ClientDefaults.consumer(&consumer)
        ClientDefaults.producer(&producer)
        let options = PipelineOptions(
            group: group, inputTopics: topics, alertTopics: config.alertTopics, deadLetterTopic: config.kafka.deadLetterTopic,
            consumer: consumer, producer: producer, stateDirectory: directory + "/state",
            checkpointInterval: .nanoseconds(config.daemon.snapshotInterval),
            drainTimeout: .nanoseconds(config.daemon.shutdownTimeout), idleTimeout: .nanoseconds(config.kafka.idleTimeout))
        // As the embedded daemon does: the mock cluster does not serve CreateTopics.
        try cluster.createTopic(options.activeTopic, partitions: 1)
        let (rulebook, geography, settings) = (config.rulebook, config.geography, config.settings)
        pipeline = try DetectionPipeline(
            options: options,
            engine: Engine(rulebook: rulebook, geography: geography, settings: settings, clock: { Timestamp.now }),
            restore: { bytes in
                try Engine(restoring: bytes, rulebook: rulebook, geography: geography, settings: settings, clock: { Timestamp.now })
            },
            output: AlertOutput(route: { config.topics(rule: $0.rule, category: $0.category, severity: $0.severity) }),
            log: AlertLog(path: directory + "/alerts.jsonl"), logger: logger)
        startThread(name: "kordon-pipeline") { [self] in
            let cpu = threadCPUSeconds()
            var failure: (any Error)?
            do { try pipeline.run() } catch { failure = error }
            outcome.withLock { $0 = (threadCPUSeconds() - cpu, failure) }
            finished.signal()
        }
    }

    /// Stops the loop (which checkpoints and commits first); returns its thread's CPU seconds.
    func stop() throws -> Double {
        pipeline.stop()
        finished.wait()
        try? FileManager.default.removeItem(atPath: directory)
        let (cpu, failure) = outcome.withLock { $0 }
        if let failure { throw failure }
        return cpu
    }
}

/// A simulated stream in memory: every message's bytes and input topic, in the order generated.
struct SimulatedStream {
    var bytes: [UInt8] = []
    var records: [(topic: Int, range: Range<Int>)] = []

    init(_ options: SimulationOptions, _ config: KordonConfig) {
        var simulator = Simulator(options: options, geography: config.geography, rulebook: config.rulebook)
        while true {
            let start = bytes.count
            guard let message = simulator.next(into: &bytes) else { break }
            _ = simulator.takeLabels()
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            records.append((topicIndex(message.kind), start..<bytes.count))
        }
    }

    func byteCount(topic: Int) -> Int { records.reduce(0) { $0 + ($1.topic == topic ? $1.range.count : 0) } }
    func messageCount(topic: Int) -> Int { records.count(where: { $0.topic == topic }) }

    /// Round robin over each topic's partitions, so they fill evenly.
    func produce(to bootstrap: String, topics: [String], partitions: [Int32], logger: Logger) throws {
        let producer = try KafkaProducer(
            config: ["bootstrap.servers": bootstrap, "linger.ms": "5", "batch.num.messages": "10000",
                     "queue.buffering.max.messages": "1000000"],
            logger: logger)
        var sent = [Int32](repeating: 0, count: topics.count)
        var failed = 0
        for (index, record) in records.enumerated() {
            let partition = sent[record.topic] % partitions[record.topic]
            sent[record.topic] += 1
            try producer.send(
                ProducerRecord(topic: topics[record.topic], partition: partition, value: bytes[record.range]),
                token: UInt64(index), waitingUpTo: .seconds(30))
            if index % 10_000 == 0 { failed += producer.pollDeliveries().count(where: { $0.error != nil }) }
        }
        guard producer.flush(timeout: .seconds(120)) == 0 else { throw ValidationError("produce did not finish") }
        failed += producer.pollDeliveries().count(where: { $0.error != nil })
        guard failed == 0 else { throw ValidationError("\(failed) events failed to produce") }
    }
}

/// Crossings and inspections go to the first input topic, patrol events to the second (as the daemon tests do).
private func topicIndex(_ kind: EventKind) -> Int {
    [.crossing, .inspection].contains(kind) ? 0 : 1
}

/// Simulated events at a steady rate on a thread of its own, keyless as an upstream producer might send them.
final class PacedFeed: Sendable {
    struct Result {
        var events: Int
        var rate: Double
    }

    private let options: SimulationOptions
    private let config: KordonConfig
    private let topics: [String]
    private let rate: Double
    private let bootstrap: String
    private let spread: Bool
    private let logger: Logger
    private let outcome = Mutex<Swift.Result<(events: Int, seconds: Double), any Error>?>(nil)

    init(
        options: SimulationOptions, config: KordonConfig, topics: [String], rate: Double, bootstrap: String, spread: Bool,
        logger: Logger
    ) {
        self.options = options
        self.spread = spread
        self.config = config
        self.topics = topics
        self.rate = rate
        self.bootstrap = bootstrap
        self.logger = logger
    }

    var isDone: Bool { outcome.withLock { $0 != nil } }

    func result() throws -> Result {
        let (events, seconds) = try outcome.withLock { $0! }.get()
        return Result(events: events, rate: Double(events) / seconds)
    }

    func start() {
        startThread(name: "kordon-feed") { [self] in
            let result = Swift.Result { try feed() }
            outcome.withLock { $0 = result }
        }
    }

    private func feed() throws -> (events: Int, seconds: Double) {
        // 0 turns sticky partitioning off: each unkeyed message then goes to a partition at random.
        var producerConfig: KafkaConfig = ["bootstrap.servers": bootstrap, "linger.ms": "5"]
        if spread { producerConfig["sticky.partitioning.linger.ms"] = "0" }
        let producer = try KafkaProducer(config: producerConfig, logger: logger)
        var simulator = Simulator(options: options, geography: config.geography, rulebook: config.rulebook)
        var buffer: [UInt8] = []
        var sent = 0
        var failed = 0
        let began = ContinuousClock.now
        while true {
            buffer.removeAll(keepingCapacity: true)
            guard let message = simulator.next(into: &buffer) else { break }
            _ = simulator.takeLabels()
            let end = buffer.last == UInt8(ascii: "\n") ? buffer.count - 1 : buffer.count
            try producer.send(
                ProducerRecord(topic: topics[topicIndex(message.kind)], value: buffer[..<end]), token: UInt64(sent),
                waitingUpTo: .seconds(5))
            sent += 1
            // Paced every 10 events (1 ms at 10,000/s), so the stream is steady rather than bursty.
            if sent % 10 == 0 {
                failed += producer.pollDeliveries().count(where: { $0.error != nil })
                let ahead = ContinuousClock.now.duration(to: began + .seconds(Double(sent) / rate))
                if ahead > .zero { Thread.sleep(forTimeInterval: seconds(ahead)) }
            }
        }
        let elapsed = seconds(began.duration(to: .now))
        guard producer.flush(timeout: .seconds(30)) == 0 else { throw ValidationError("feed: produce did not finish") }
        failed += producer.pollDeliveries().count(where: { $0.error != nil })
        guard failed == 0 else { throw ValidationError("feed: \(failed) events failed to produce") }
        return (sent, elapsed)
    }
}

/// A plain consumer of the latency topics in a group of its own: how long an event takes from its
/// produce call to a consumer, Kafka alone.
final class TransportProbe: Sendable {
    private let consumer: KafkaConsumer
    private let stopped = Atomic<Bool>(false)
    /// (Kafka timestamp, milliseconds to consumption) per event, once the probe has stopped.
    private let samples = Mutex<[(time: Int64, latency: Int64)]?>(nil)

    init(bootstrap: String, topics: [String], fetchWait: String, logger: Logger) throws {
        consumer = try KafkaConsumer(
            config: ["bootstrap.servers": bootstrap, "group.id": "bench-latency-probe", "fetch.wait.max.ms": fetchWait],
            logger: logger)
        try consumer.subscribe(topics)
        startThread(name: "kordon-probe") { [self] in
            var seen: [(time: Int64, latency: Int64)] = []
            while !stopped.load(ordering: .acquiring) {
                let batch = consumer.poll(timeout: .milliseconds(100))
                let now = Timestamp.now.nanosecondsSinceEpoch / 1_000_000
                for message in batch { if let time = message.timestamp { seen.append((time, now - time)) } }
            }
            try? consumer.close()
            samples.withLock { $0 = seen }
        }
    }

    var isActive: Bool { !((try? consumer.assignment()) ?? []).isEmpty }

    /// Seconds from each event's Kafka timestamp to its consumption, for events produced from `since` (ms).
    func stop(since: Int64) -> [Double] {
        stopped.store(true, ordering: .releasing)
        while true {
            if let all = samples.withLock({ $0 }) { return all.filter { $0.time >= since }.map { Double($0.latency) / 1000 } }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}
