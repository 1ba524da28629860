import ArgumentParser
import CKafkaBench
import Foundation
import KordonKafka
import KordonPipeline
import Logging

/// Consume rate through the binding against a plain C loop over librdkafka, same topic, same run.
struct ConsumeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Messages/s consumed through KordonKafka vs a plain C librdkafka loop, on the mock cluster.")

    @Option(help: "Messages to produce and consume.")
    var messages = 1_000_000

    @Option(help: "Payload size in bytes.")
    var size = 400

    @Option(help: "Partitions (the mock keeps at most ~5 MiB per partition: keep messages*size/partitions below it).")
    var partitions: Int32 = 100

    @Option(help: "Rounds; each consumes the whole topic once with each client, alternating which goes first.")
    var rounds = 3

    func validate() throws {
        guard messages * size / Int(partitions) < 5_000_000 else {
            throw ValidationError("too many bytes per partition for the mock cluster: add partitions")
        }
    }

    func run() throws {
        var logger = Logger(label: "kordon.bench")
        logger.logLevel = .error
        let cluster = try MockCluster(brokers: 3, logger: logger)
        try cluster.createTopic("bench", partitions: partitions)
        let started = ContinuousClock.now
        try produce(to: cluster.bootstrapServers, logger: logger)
        print("produced \(messages) messages of \(size) bytes to \(partitions) partitions in \(started.duration(to: .now))")

        var results: [Bool: [Run]] = [:]
        for round in 0..<rounds {
            let order = round % 2 == 0 ? [true, false] : [false, true]
            for useC in order {
                let group = "bench-\(useC ? "c" : "swift")-\(round)"
                let run = try useC ? consumeC(cluster.bootstrapServers, group) : consumeSwift(cluster.bootstrapServers, group, logger)
                results[useC, default: []].append(run)
                print(String(format: "round %d  %-20@ %9.0f msg/s (%6.1f MB/s) from assignment  %9.0f msg/s from first message  %4.0f ns CPU/msg polling thread",
                             round + 1, useC ? "C loop (librdkafka)" : "KordonKafka binding", run.rate, run.rate * Double(size) / 1e6,
                             run.rateFromFirst, run.cpuPerMessage))
            }
        }
        let c = results[true] ?? []
        let swift = results[false] ?? []
        for (label, metric) in [("from assignment", \Run.rate), ("from first message", \Run.rateFromFirst)] {
            let (cRate, swiftRate) = (median(c.map { $0[keyPath: metric] }), median(swift.map { $0[keyPath: metric] }))
            print(String(format: "median %@: C loop %.0f msg/s, binding %.0f msg/s, ratio %.1f %% (target >= 90 %%)",
                         label, cRate, swiftRate, 100 * swiftRate / cRate))
        }
        let (cCPU, swiftCPU) = (median(c.map(\.cpuPerMessage)), median(swift.map(\.cpuPerMessage)))
        print(String(format: "median polling-thread CPU: C loop %.0f ns/msg, binding %.0f ns/msg (C loop's is %.1f %% of the binding's)",
                     cCPU, swiftCPU, 100 * cCPU / swiftCPU))
        print("peak RSS: \(peakMemoryMiB()) MiB")
    }

    private func produce(to bootstrap: String, logger: Logger) throws {
        let producer = try KafkaProducer(
            config: ["bootstrap.servers": bootstrap, "linger.ms": "5", "batch.num.messages": "10000",
                     "queue.buffering.max.messages": "1000000"],
            logger: logger)
        var payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        var failed = 0
        for i in 0..<messages {
            payload[0] = UInt8(truncatingIfNeeded: i)
            try producer.send(
                ProducerRecord(topic: "bench", partition: Int32(i % Int(partitions)), value: payload[...]),
                token: UInt64(i), waitingUpTo: .seconds(30))
            if i % 10_000 == 0 { failed += producer.pollDeliveries().filter { $0.error != nil }.count }
        }
        guard producer.flush(timeout: .seconds(60)) == 0 else { throw ValidationError("produce did not finish") }
        failed += producer.pollDeliveries().filter { $0.error != nil }.count
        guard failed == 0 else { throw ValidationError("\(failed) messages failed to produce") }
    }

    struct Run {
        var count: Int
        var seconds: Double
        var secondsFromFirst: Double
        var cpuSeconds: Double

        var rate: Double { Double(count) / seconds }
        var rateFromFirst: Double { Double(count) / secondsFromFirst }
        var cpuPerMessage: Double { cpuSeconds / Double(count) * 1e9 }
    }

    private func consumeC(_ bootstrap: String, _ group: String) throws -> Run {
        var result = ckb_result()
        var errstr = [CChar](repeating: 0, count: 256)
        guard ckb_consume(bootstrap, "bench", group, Int64(messages), 120_000, &result, &errstr, errstr.count) == 0 else {
            throw ValidationError("C loop: \(String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        return Run(
            count: Int(result.messages), seconds: result.seconds, secondsFromFirst: result.seconds_from_first,
            cpuSeconds: result.cpu_seconds)
    }

    /// Timed like the C loop: from the assignment, when fetching can start, to the last message.
    private func consumeSwift(_ bootstrap: String, _ group: String, _ logger: Logger) throws -> Run {
        final class Start: @unchecked Sendable {
            var wall: ContinuousClock.Instant?
            var cpu = 0.0
        }
        let start = Start()
        // The daemon's queue setting, which the C loop takes too.
        let settings: KafkaConfig = [
            "bootstrap.servers": bootstrap, "group.id": group, "queued.min.messages": ClientDefaults.queuedMinMessages,
        ]
        let consumer = try KafkaConsumer(config: settings, logger: logger) { _, rebalance in
            if case .assigned = rebalance, start.wall == nil {
                start.wall = .now
                start.cpu = threadCPUSeconds()
            }
            return [:]
        }
        try consumer.subscribe(["bench"])
        var count = 0
        var checksum: UInt64 = 0
        var first: ContinuousClock.Instant?
        let deadline = ContinuousClock.now + .seconds(120)
        while count < messages, ContinuousClock.now < deadline {
            let batch = consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            if first == nil, !batch.isEmpty { first = .now }
            for message in batch {
                let value = message.value ?? []
                checksum &+= UInt64(value.count) &+ UInt64(value.first ?? 0)
                count += 1
            }
        }
        let end = ContinuousClock.now
        let cpu = threadCPUSeconds() - start.cpu
        try consumer.close()
        guard count >= messages, checksum > 0 else { throw ValidationError("binding: only \(count) messages") }
        return Run(
            count: count, seconds: seconds((start.wall ?? end).duration(to: end)),
            secondsFromFirst: seconds((first ?? end).duration(to: end)), cpuSeconds: cpu)
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func peakMemoryMiB() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss / 1024
}
