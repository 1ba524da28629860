import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents
import KordonKafka
import KordonPipeline
import KordonService
import Logging
import ServiceLifecycle
import UnixSignals

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: consume events, detect, publish alerts to Kafka and the alert log.",
        discussion: """
            SIGTERM or SIGINT: drain, checkpoint, commit, leave the group, exit 0. SIGHUP: reload the config \
            and rules (a broken config is refused and the running one kept). SIGUSR1: reopen the alert log.
            """)

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let loaded = try config.load()
        let level = Logger.Level(rawValue: loaded.daemon.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "kordon")
        do {
            try await Daemon(config: loaded, configFile: config.file, logger: logger).run()
        } catch let error as ExitCode {
            throw error
        } catch {
            logger.critical("kordon run: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The daemon's parts and their lifecycle: Kafka clients, the pipeline thread, signals, systemd.
struct Daemon {
    let config: KordonConfig
    let configFile: String
    let logger: Logger

    func run() async throws {
        var config = config
        var cluster: MockCluster?
        if config.kafka.embedded {
            let mock = try MockCluster(brokers: 3, logger: logger)
            cluster = mock
            config.kafka.bootstrapServers = [mock.bootstrapServers]
            // The mock cluster does not serve CreateTopics: make every topic here.
            for topic in config.kafka.inputTopics { try mock.createTopic(topic, partitions: 4) }
            for topic in config.outputTopics { try mock.createTopic(topic, partitions: 6) }
            try mock.createTopic(config.activeTopic, partitions: 1)
            // The cluster is new, so a checkpoint from an earlier run points at offsets it never had.
            try? FileManager.default.removeItem(atPath: CheckpointStore(directory: config.daemon.stateDirectory).path)
            FileHandle.standardOutput.write(
                Data(
                    """
                    kordon: embedded Kafka (librdkafka's mock cluster) at \(mock.bootstrapServers); watch the alert topic with
                      kcat -b \(mock.bootstrapServers) -C -t border.alerts -o beginning
                    alert log: \(config.daemon.alertLog)

                    """.utf8))
        }
        try await runServices(config, cluster: cluster)
        // Only now that every client is gone: one still connected would log its brokers' disappearance as errors.
        withExtendedLifetime(cluster) {}
    }

    /// Runs the pipeline and the services around it until a graceful shutdown; its Kafka clients are
    /// destroyed when it returns. The services hold the pipeline unowned: the service group's child
    /// tasks release what they ran only some time after `run` returns, so a strong hold there let
    /// the clients outlive this scope (and the demo's cluster).
    private func runServices(_ config: KordonConfig, cluster: MockCluster?) async throws {
        let clients = try KafkaClients(config: config)
        try createOutputTopics(config, logger: logger)
        try FileManager.default.createDirectory(
            atPath: (config.daemon.alertLog as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let log = try AlertLog(path: config.daemon.alertLog)
        let settings = config.settings
        let rulebook = config.rulebook
        let geography = config.geography
        let pipeline = try DetectionPipeline(
            options: PipelineOptions(
                group: config.kafka.groupId, inputTopics: config.kafka.inputTopics, alertTopics: config.alertTopics,
                deadLetterTopic: config.kafka.deadLetterTopic, consumer: clients.consumer, producer: clients.producer,
                stateDirectory: config.daemon.stateDirectory, checkpointInterval: .nanoseconds(config.daemon.snapshotInterval),
                drainTimeout: drainBudget(config), idleTimeout: .nanoseconds(config.kafka.idleTimeout)),
            engine: Engine(rulebook: rulebook, geography: geography, settings: settings, clock: { Timestamp.now }),
            restore: { bytes in
                try Engine(restoring: bytes, rulebook: rulebook, geography: geography, settings: settings, clock: { Timestamp.now })
            },
            output: try AlertOutput(config), log: log, logger: logger)
        var services: [any Service] = [
            PipelineService(pipeline: pipeline, logger: logger),
            SignalService(
                pipeline: pipeline, configFile: configFile, bootstrapServers: config.kafka.bootstrapServers, logger: logger),
            StatusService(pipeline: pipeline, logger: logger),
        ]
        if let endpoint = config.daemon.metricsListen {
            services.append(MetricsService(pipeline: pipeline, endpoint: endpoint, logger: logger))
        }
        if let cluster {
            services.append(DemoFeed(config: config, bootstrap: cluster.bootstrapServers, logger: logger))
            services.append(AlertEcho(path: config.daemon.alertLog))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime(pipeline) {}
    }

}

/// How long the pipeline may wait for deliveries when it stops: the shutdown bound less what closing
/// the Kafka clients and stopping the other services need after it (a quarter of it, at most 5 s),
/// so that the daemon is gone within the bound even when no delivery can be made.
func drainBudget(_ config: KordonConfig) -> Duration {
    let bound = Duration.nanoseconds(config.daemon.shutdownTimeout)
    return bound - min(.seconds(5), bound / 4)
}

extension KordonConfig {
    /// The topics the daemon writes to: each alert topic and the dead-letter topic.
    var outputTopics: [String] { alertTopics + [kafka.deadLetterTopic] }
    /// Whoever holds this topic's one partition is the group's active instance.
    var activeTopic: String { kafka.groupId + ".active" }
}

/// Creates the daemon's own topics (outputs, 6 partitions; the active-role topic, 1) that are missing.
/// A broker that will not create them (librdkafka's mock cluster does not serve CreateTopics) gets an
/// error naming them, to be made beforehand.
func createOutputTopics(_ config: KordonConfig, logger: Logger) throws {
    let admin = try KafkaAdmin(config: KafkaClients(config: config).admin, logger: logger)
    let existing: [String: Int32]
    do {
        existing = try admin.topics(timeout: .seconds(30))
    } catch {
        throw KafkaError(
            code: error.code,
            message: "cannot list the topics of \(config.kafka.bootstrapServers.joined(separator: ",")) "
                + "(kafka.bootstrapServers in \(config.file)): \(error.message)")
    }
    let wanted = config.outputTopics.map { TopicSpec(name: $0, partitions: 6) } + [TopicSpec(name: config.activeTopic, partitions: 1)]
    let specs = wanted.filter { existing[$0.name] == nil }
    let created: [String]
    do {
        created = try admin.createMissingTopics(specs, timeout: .seconds(30))
    } catch {
        let missing = specs.map { "\($0.name) (\($0.partitions) partition\($0.partitions == 1 ? "" : "s"))" }
        throw KafkaError(
            code: error.code,
            message: "missing topics not created (\(error.message)): \(missing.joined(separator: ", ")); create them "
                + "beforehand (`kordon dev-broker --config FILE` makes a development broker with all of them)")
    }
    if !created.isEmpty { logger.notice("created topics", metadata: ["topics": "\(created)"]) }
}

/// librdkafka configs for the daemon's clients, from the `kafka` section.
struct KafkaClients {
    var consumer: KafkaConfig
    var producer: KafkaConfig
    var admin: KafkaConfig

    init(config: KordonConfig) throws {
        var properties = config.kafka.properties
        for (name, file) in config.kafka.propertyFiles {
            guard let data = FileManager.default.contents(atPath: file),
                let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .newlines)
            else {
                printError("\(config.file): kafka.propertyFiles.\(name): cannot read \(file)")
                throw ExitCode(2)
            }
            properties[name] = text
        }
        let split = ClientDefaults.split(properties)
        var base = split.shared
        base["bootstrap.servers"] = config.kafka.bootstrapServers.joined(separator: ",")
        admin = base
        ClientDefaults.statistics(&admin)
        consumer = split.consumer.withDefaults(base.properties)
        consumer["group.id"] = config.kafka.groupId
        ClientDefaults.consumer(&consumer)
        producer = split.producer.withDefaults(base.properties)
        ClientDefaults.producer(&producer)
    }
}

extension KordonConfig {
    /// Every topic a route may send alerts to.
    var alertTopics: [String] {
        var topics: [String] = []
        for route in kafka.alertRoutes where !topics.contains(route.topic) { topics.append(route.topic) }
        return topics
    }
}

extension AlertOutput {
    /// Routes from the config; pseudonyms for plate and document numbers when it names a key file.
    init(_ config: KordonConfig) throws {
        let route: @Sendable (Alert) -> [String] = { config.topics(rule: $0.rule, category: $0.category, severity: $0.severity) }
        guard let keyFile = config.daemon.pseudonymKeyFile else {
            self.init(route: route)
            return
        }
        let pseudonymiser = try Pseudonymiser.load(keyFile: keyFile)
        let rulebook = config.rulebook
        self.init(route: route, transform: { pseudonymiser.pseudonymise($0, rulebook: rulebook) })
    }
}

/// Runs the pipeline on its own thread (it blocks in librdkafka) until a graceful shutdown.
struct PipelineService: Service {
    unowned let pipeline: DetectionPipeline
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await onDedicatedThread(name: "kordon-pipeline") { try pipeline.run() }
        } onGracefulShutdown: {
            logger.notice("stopping: draining, checkpointing and leaving the group")
            pipeline.stop()
        }
    }
}

/// SIGHUP reloads the config, SIGUSR1 reopens the alert log.
struct SignalService: Service {
    unowned let pipeline: DetectionPipeline
    let configFile: String
    /// The servers in use: a reload does not move the daemon to other brokers.
    let bootstrapServers: [String]
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        // Reloads read files and ask the brokers (for as long as their timeouts when Kafka is down):
        // one at a time, off Swift's cooperative pool, and not waited for by a stop.
        let reloads = DispatchQueue(label: "kordon-reload")
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sigusr1 {
                logger.notice("SIGUSR1: reopening the alert log")
                pipeline.reopenLog()
                continue
            }
            // Held strongly: a reload still under way as the daemon stops must find the pipeline.
            let pipeline: DetectionPipeline = pipeline
            reloads.async { reload(pipeline) }
        }
    }

    private func reload(_ pipeline: DetectionPipeline) {
        var config: KordonConfig
        do {
            config = try KordonConfig.load(file: configFile)
        } catch {
            for problem in error.errors { logger.error("reload refused, the running config stays: \(problem)") }
            return
        }
        config.kafka.bootstrapServers = bootstrapServers
        do {
            try createOutputTopics(config, logger: logger)
        } catch {
            return logger.error("reload refused, the running config stays: \(error)")
        }
        let output: AlertOutput
        do {
            output = try AlertOutput(config)
        } catch {
            return logger.error("reload refused, the running config stays: \(error)")
        }
        logger.notice("SIGHUP: reloading \(configFile)")
        pipeline.prepare(alertTopics: config.alertTopics)
        let loaded = config
        pipeline.reload(
            engine: { $0.reconfigured(rulebook: loaded.rulebook, geography: loaded.geography, settings: loaded.settings) },
            output: output)
    }
}
