import Foundation
import KordonEngine
import KordonEvents
import KordonKafka
import KordonSimulator
import KordonTestSupport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func shippedConfig() throws -> KordonConfig {
    try KordonConfig.load(file: repositoryRoot.appendingPathComponent("config/kordon.yaml").path)
}

let inputTopics = ["border.checkpoint.events", "border.patrol.events"]
let alertTopics = ["border.alerts", "border.alerts.integrity"]

/// A simulated stream with planted incidents, and the alerts the rulebook gives for it offline.
struct Stream {
    /// Each message's topic and bytes, in the order produced.
    var messages: [(topic: String, value: [UInt8])] = []
    /// Alert ids an engine fed the whole stream gives once every input has gone idle (as the daemon's have at the end).
    var expected: Set<String> = []
    /// The alerts behind `expected`, as the engine made them (raw identifiers).
    var alerts: [Alert] = []
    var integrity: Set<String> = []

    init(events: Int, seed: UInt64) throws {
        let config = try shippedConfig()
        var options = SimulationOptions()
        options.seed = seed
        options.events = events
        // Dense incidents, so a short stream has many alerts.
        options.incidentsPerDay = 2000
        options.nearMissesPerDay = 500
        options.duplicateFraction = 0.01
        options.invalidFraction = 0.002
        options.lateness = config.settings.lateness
        var simulator = Simulator(options: options, geography: config.geography, rulebook: config.rulebook)
        var engine = Engine(rulebook: config.rulebook, geography: config.geography, settings: config.settings) {
            Timestamp(nanosecondsSinceEpoch: 0)
        }
        var alerts: [Alert] = []
        let decoder = EventDecoder()
        let input = InputID(topic: "stream", partition: 0)
        var buffer: [UInt8] = []
        var offset: Int64 = 0
        while true {
            buffer.removeAll(keepingCapacity: true)
            guard let message = simulator.next(into: &buffer) else { break }
            let value = Array(buffer.last == UInt8(ascii: "\n") ? buffer.dropLast() : buffer[...])
            messages.append(([.crossing, .inspection].contains(message.kind) ? inputTopics[0] : inputTopics[1], value))
            if case .success(let event) = decoder.decode(value[...]) {
                engine.ingest(event, from: EventOrigin(topic: "stream", partition: 0, offset: offset), into: &alerts)
            }
            offset += 1
        }
        engine.markIdle(input, into: &alerts)
        self.alerts = alerts
        expected = Set(alerts.map(\.id))
        integrity = Set(alerts.filter { $0.rule.hasPrefix("integrity.") }.map(\.id))
    }

    func produce(to cluster: MockCluster, range: Range<Int>? = nil) throws {
        let producer = try KafkaProducer(config: producerConfig(cluster, ["linger.ms": "5"]), logger: testLogger)
        for index in range ?? messages.indices {
            try producer.send(
                ProducerRecord(topic: messages[index].topic, value: messages[index].value[...]), token: UInt64(index),
                waitingUpTo: .seconds(30))
        }
        #expect(producer.flush(timeout: .seconds(30)) == 0)
        #expect(producer.pollDeliveries().allSatisfy { $0.error == nil })
    }
}

/// A daemon under test: its config, state and log in a directory of its own.
final class DaemonUnderTest {
    let directory: String
    let configPath: String
    let cluster: MockCluster
    let group: String
    private(set) var process: ChildProcess?

    let metricsPort: UInt16

    /// Where checkpoints go; a standby sharing the active one's resumes from its state.
    let stateDirectory: String

    /// `extraKafka`, `extraDaemon`: more lines for the config's `kafka` and `daemon` sections;
    /// `properties`: more librdkafka properties. Kept for every rewrite of the config.
    init(
        cluster: MockCluster, group: String, name: String, stateDirectory: String? = nil, extraKafka: String = "",
        extraDaemon: String = "", properties: [String: String] = [:]
    ) throws {
        self.cluster = cluster
        self.group = group
        metricsPort = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-daemon-\(name)-\(UUID().uuidString)").path
        self.stateDirectory = stateDirectory ?? directory + "/state"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        configPath = directory + "/kordon.yaml"
        self.extraKafka = extraKafka
        self.extraDaemon = extraDaemon
        self.properties = properties
        try writeConfig()
    }

    private let extraKafka: String
    private let extraDaemon: String
    private let properties: [String: String]

    func writeConfig(rules: String? = nil) throws {
        let config = repositoryRoot.appendingPathComponent("config").path
        let yaml = """
            rules: \(rules ?? config + "/rules.yaml")
            geography: \(config)/geography.yaml
            engine:
              lateness: 10m
              watchlistCheck: 5s
            kafka:
              bootstrapServers: [\(cluster.bootstrapServers.split(separator: ",").joined(separator: ", "))]
              groupId: \(group)
              inputTopics: [\(inputTopics.joined(separator: ", "))]
              alertRoutes:
                - topic: border.alerts.integrity
                  rules: ["integrity.*"]
                - topic: border.alerts
              deadLetterTopic: border.events.dlq
              idleTimeout: 1s
              properties:
                consumer.session.timeout.ms: "6000"
                reconnect.backoff.max.ms: "500"
            \(properties.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n"))
            \(extraKafka)
            daemon:
              stateDirectory: \(stateDirectory)
              snapshotInterval: 300ms
              alertLog: \(directory)/alerts.jsonl
              shutdownTimeout: 15s
              logLevel: info
              metricsListen: 127.0.0.1:\(metricsPort)
            \(extraDaemon)

            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var logPath: String { directory + "/alerts.jsonl" }
    var stderrPath: String { directory + "/daemon.log" }

    func start(environment: [String: String] = [:]) throws {
        process = try ChildProcess(
            productsDirectory.appendingPathComponent("kordon").path, ["run", "--config", configPath], stderr: stderrPath,
            environment: environment)
    }

    /// GET on the daemon's status server: (status code, body), nil when it does not answer.
    func get(_ path: String) -> (Int, String)? {
        httpGet(port: metricsPort, path: path)
    }

    /// The value of a Prometheus series summed over its label sets.
    func metric(_ name: String) -> Double? {
        guard let (status, body) = get("/metrics"), status == 200 else { return nil }
        return body.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Sends `signal`; for SIGTERM and SIGKILL waits for the exit and returns its status.
    @discardableResult
    func signal(_ signal: Int32, timeout: Duration = .seconds(30)) -> Int32? {
        guard let process else { return nil }
        if signal == SIGTERM || signal == SIGKILL {
            let status = process.terminate(signal: signal, timeout: timeout)
            self.process = nil
            return status
        }
        kill(process.process.processIdentifier, signal)
        return nil
    }

    var daemonLog: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Alert ids in the log, in order, each line's.
    func loggedIds() throws -> [String] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { AlertLine.id(in: Array($0.utf8)[...]) }
    }

    deinit {
        process = nil
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A daemon of `group` started once `stream` (or its `range`) is on the cluster, and seen logging alerts.
func startedDaemon(_ cluster: MockCluster, _ stream: Stream, range: Range<Int>? = nil, group: String, name: String)
    async throws -> DaemonUnderTest
{
    try stream.produce(to: cluster, range: range)
    let daemon = try DaemonUnderTest(cluster: cluster, group: group, name: name)
    try daemon.start()
    #expect(try await waitFor { try daemon.loggedIds().count > 10 })
    return daemon
}

/// Waits until `group` has committed the end of every input partition, then a little longer
/// (for idle inputs to release the last windows and a checkpoint to follow).
func waitUntilCommittedToEnd(_ cluster: MockCluster, group: String, partitions: Int32, timeout: Duration = .seconds(120))
    throws -> Bool
{
    let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: group), logger: testLogger)
    defer { try? consumer.close() }
    let all = inputTopics.flatMap { topic in (0..<partitions).map { TopicPartition(topic, $0) } }
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let committed = (try? consumer.committed(all, timeout: .seconds(5))) ?? [:]
        let watermarks = try consumer.watermarks(all, timeout: .seconds(5))
        let done = all.allSatisfy { tp in
            guard let high = watermarks[tp]?.high else { return false }
            return high == 0 || committed[tp] == high
        }
        if done {
            Thread.sleep(forTimeInterval: 3)
            return true
        }
        Thread.sleep(forTimeInterval: 0.25)
    }
    return false
}

/// Every alert on the alert topics: (topic, id), in no particular order.
func publishedAlerts(_ cluster: MockCluster) throws -> [(topic: String, id: String)] {
    let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "reader-\(UUID().uuidString)"), logger: testLogger)
    defer { try? consumer.close() }
    let admin = try KafkaAdmin(config: producerConfig(cluster), logger: testLogger)
    let counts = try admin.topics(timeout: .seconds(10))
    var starts: [TopicPartition: Int64] = [:]
    var ends: [TopicPartition: Int64] = [:]
    let partitions = alertTopics.flatMap { topic in (0..<(counts[topic] ?? 0)).map { TopicPartition(topic, $0) } }
    for (tp, (low, high)) in try consumer.watermarks(partitions, timeout: .seconds(10)) where high > low {
        starts[tp] = low
        ends[tp] = high
    }
    guard !starts.isEmpty else { return [] }
    try consumer.assign(starts)
    var result: [(topic: String, id: String)] = []
    var remaining = Set(ends.keys)
    let deadline = ContinuousClock.now + .seconds(60)
    while !remaining.isEmpty, ContinuousClock.now < deadline {
        for message in consumer.poll(timeout: .milliseconds(100)) {
            if let value = message.value, let id = AlertLine.id(in: value) { result.append((message.topic, id)) }
            if message.offset + 1 >= ends[message.topicPartition]! { remaining.remove(message.topicPartition) }
        }
    }
    return result
}

/// The checks every end-to-end run ends with: each expected alert exactly once on its topic and in
/// the log, nothing else.
func expectDelivered(_ stream: Stream, cluster: MockCluster, logs: [[String]], sourceLocation: SourceLocation = #_sourceLocation)
    throws
{
    let published = try publishedAlerts(cluster)
    let ids = published.map(\.id)
    let logged = logs.flatMap { $0 }
    #expect(!stream.expected.isEmpty, sourceLocation: sourceLocation)
    for (name, list) in [("topics", ids), ("log", logged)] {
        let missing = stream.expected.subtracting(list).count
        let unexpected = Set(list).subtracting(stream.expected).count
        let duplicates = list.count - Set(list).count
        #expect(
            missing == 0 && unexpected == 0 && duplicates == 0,
            "\(name): \(stream.expected.count) expected, \(missing) missing, \(unexpected) unexpected, \(duplicates) duplicates",
            sourceLocation: sourceLocation)
    }
    let misrouted = published.filter { ($0.topic == "border.alerts.integrity") != stream.integrity.contains($0.id) }.count
    #expect(misrouted == 0, sourceLocation: sourceLocation)
}

/// Polls `condition` every 50 ms for up to `timeout`.
func waitFor(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    // Once more past the deadline: synchronous tests can hold both threads of the two-core pool for
    // longer than the timeout, so this task may resume only after it.
    return try condition()
}

extension Kafka.DaemonTests {
    /// With a pseudonymisation key, plate and document numbers reach neither the log nor the topics;
    /// each alert carries the keyed pseudonym of its number, the same for the same number. A Kafka
    /// secret read from a file shows up neither in the daemon's log nor in `kordon check`.
    @Test func pseudonymisedAlertsCarryNoRawIdentifiers() async throws {
        let cluster = try cluster()
        let stream = try Stream(events: 20_000, seed: 16)
        try stream.produce(to: cluster)
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-key-\(UUID().uuidString)").path
        try String(repeating: "k3y-", count: 12).write(toFile: keyFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let secret = "s3cret-\(UUID().uuidString)"
        let secretFile = keyFile + ".password"
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        let daemon = try DaemonUnderTest(
            cluster: cluster, group: "g-pseudo", name: "pseudo",
            // A property every client takes, so librdkafka gets the secret without SASL being set up.
            extraKafka: "  propertyFiles:\n    ssl.key.password: \(secretFile)",
            extraDaemon: "  pseudonymKeyFile: \(keyFile)")
        let check = Process()
        check.executableURL = productsDirectory.appendingPathComponent("kordon")
        check.arguments = ["check", "--config", daemon.configPath]
        let checkOutput = Pipe()
        check.standardOutput = checkOutput
        check.standardError = checkOutput
        try check.run()
        check.waitUntilExit()
        let checked = String(decoding: checkOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(check.terminationStatus == 0, "\(checked)")
        #expect(!checked.contains(secret))
        try daemon.start()
        #expect(try waitUntilCommittedToEnd(cluster, group: "g-pseudo", partitions: Self.partitions))
        #expect(daemon.signal(SIGTERM) == 0)

        let pseudonymiser = try Pseudonymiser.load(keyFile: keyFile)
        let identified = stream.alerts.filter { [.plate, .doc].contains($0.key.type) }
        #expect(identified.count > 100)
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        var topics = ""
        let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: "pseudo-reader"), logger: testLogger)
        try consumer.subscribe(alertTopics)
        var count = 0
        try pollUntil(consumer, process: { batch in
            for message in batch { topics += message.text ?? ""; count += 1 }
        }, done: { count >= stream.expected.count })
        try consumer.close()
        let logged = Set(log.split(separator: "\n").compactMap { AlertLine(json: $0)?.key.value })
        var leaked: Set<String> = []
        for alert in identified {
            let raw = alert.key.value
            if log.contains(raw) || topics.contains(raw) { leaked.insert(raw) }
            #expect(logged.contains(pseudonymiser.pseudonym(raw, type: alert.key.type.rawValue)))
        }
        #expect(leaked.isEmpty, "\(leaked.count) raw identifiers in the log or on the topics")
        #expect(!daemon.daemonLog.contains(secret))
        #expect(count == stream.expected.count)
    }
}
