import ArgumentParser
import Dispatch
import Foundation
import KordonKafka
import Logging

/// `kordon dev-broker`: librdkafka's mock cluster as a standalone local broker for other processes.
struct DevBroker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Run a local Kafka-protocol broker (librdkafka's mock cluster) on loopback until SIGTERM.",
        discussion: """
            For development and demos only: topics live in memory, and a partition keeps at most about \
            5 MiB or 100,000 messages (the oldest are dropped beyond that).
            """)

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(
        name: .customLong("topic"),
        help: """
            A topic to create, as NAME or NAME:PARTITIONS (repeatable). Default: the config's topics (inputs, \
            alert routes, dead letters, the group's active-role topic), or without a config the contract's.
            """)
    var topics: [String] = []

    @Option(help: "Partitions of each default topic.")
    var partitions: Int32 = 6

    @OptionGroup var config: ConfigOption

    @Option(help: "Also write the bootstrap address to this file.")
    var bootstrapFile: String?

    static let defaultTopics = [
        "border.checkpoint.events", "border.patrol.events", "border.alerts", "border.alerts.integrity",
        "border.events.dlq",
    ]

    /// What `kordon run` with the config needs, so it runs against this broker as it is (the daemon
    /// cannot create its own topics here: the mock cluster does not serve CreateTopics).
    private func defaultTopics() throws -> [(String, Int32)] {
        guard let loaded = try config.loadIfPresent() else { return Self.defaultTopics.map { ($0, partitions) } }
        return (loaded.kafka.inputTopics + loaded.outputTopics).map { ($0, partitions) } + [(loaded.activeTopic, 1)]
    }

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
        for topic in topics { _ = try parse(topic) }
    }

    private func parse(_ topic: String) throws -> (String, Int32) {
        let parts = topic.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { throw ValidationError("--topic \(topic): expected NAME or NAME:PARTITIONS") }
        guard parts.count == 2 else { return (String(parts[0]), partitions) }
        guard let count = Int32(parts[1]), count >= 1 else {
            throw ValidationError("--topic \(topic): partitions must be a whole number of at least 1")
        }
        return (String(parts[0]), count)
    }

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "kordon.dev-broker")
        logger.logLevel = .notice
        let cluster = try MockCluster(brokers: brokers, logger: logger)
        let wanted = try topics.isEmpty ? defaultTopics() : topics.map(parse)
        for (name, count) in wanted { try cluster.createTopic(name, partitions: count) }

        if let bootstrapFile {
            try (cluster.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        print("bootstrap: \(cluster.bootstrapServers)")
        for (name, count) in wanted { print("topic: \(name) (\(count) partition\(count == 1 ? "" : "s"))") }
        print("watch with: kcat -b \(cluster.bootstrapServers) -C -t \(wanted[0].0)")
        fflush(nil)  // stdout is block-buffered when piped; whoever waits for the address must see it now

        let stop = DispatchSemaphore(value: 0)
        let sources = [SIGTERM, SIGINT].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
        stop.wait()
        sources.forEach { $0.cancel() }
        if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
        logger.notice("dev-broker stopped")
    }
}
