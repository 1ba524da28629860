import ArgumentParser
import CKafkaBench
import Foundation
import KordonKafka
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

        var cRates: [Double] = []
        var swiftRates: [Double] = []
        for round in 0..<rounds {
            let order = round % 2 == 0 ? [true, false] : [false, true]
            for useC in order {
                let group = "bench-\(useC ? "c" : "swift")-\(round)"
                let (count, seconds) =
                    try useC
                    ? consumeC(cluster.bootstrapServers, group) : consumeSwift(cluster.bootstrapServers, group, logger)
                let rate = Double(count) / seconds
                (useC ? { cRates.append(rate) } : { swiftRates.append(rate) })()
                print(String(format: "round %d  %-22@ %9.0f msg/s  %7.1f MB/s", round + 1,
                             useC ? "C loop (librdkafka)" : "KordonKafka binding", rate, rate * Double(size) / 1e6))
            }
        }
        let c = median(cRates)
        let swift = median(swiftRates)
        print(String(format: "median: C loop %.0f msg/s, binding %.0f msg/s, ratio %.1f %% (target >= 90 %%)", c, swift, 100 * swift / c))
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

    private func consumeC(_ bootstrap: String, _ group: String) throws -> (Int, Double) {
        var result = ckb_result()
        var errstr = [CChar](repeating: 0, count: 256)
        guard ckb_consume(bootstrap, "bench", group, Int64(messages), 120_000, &result, &errstr, errstr.count) == 0 else {
            throw ValidationError("C loop: \(String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        return (Int(result.messages), result.seconds)
    }

    private func consumeSwift(_ bootstrap: String, _ group: String, _ logger: Logger) throws -> (Int, Double) {
        let consumer = try KafkaConsumer(config: ["bootstrap.servers": bootstrap, "group.id": group], logger: logger)
        try consumer.subscribe(["bench"])
        var count = 0
        var checksum: UInt64 = 0
        var first: ContinuousClock.Instant?
        var last = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(120)
        while count < messages, ContinuousClock.now < deadline {
            let batch = consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            guard !batch.isEmpty else { continue }
            if first == nil { first = .now }
            for message in batch {
                let value = message.value ?? []
                checksum &+= UInt64(value.count) &+ UInt64(value.first ?? 0)
            }
            count += batch.count
            last = .now
        }
        try consumer.close()
        guard count >= messages, let first, checksum > 0 else { throw ValidationError("binding: only \(count) messages") }
        let elapsed = first.duration(to: last).components
        return (count, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func peakMemoryMiB() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss / 1024
}
