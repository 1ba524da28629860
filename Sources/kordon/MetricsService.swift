import Foundation
import KordonEngine
import KordonKafka
import KordonPipeline
import KordonService
import Logging
import ServiceLifecycle

/// Serves /metrics, /healthz and /readyz, and brings the registry up to date from the pipeline
/// once a second (counters by the difference since the last turn).
struct MetricsService: Service {
    unowned let pipeline: DetectionPipeline
    let endpoint: KordonConfig.Endpoint
    let logger: Logger

    func run() async throws {
        let registry = MetricsRegistry()
        let exporter = MetricsExporter(registry: registry)
        let pipeline = pipeline
        let server = try HTTPStatusServer(host: endpoint.host, port: endpoint.port, registry: registry) {
            pipeline.isActive ? nil : "no partitions assigned yet"
        }
        defer { server.stop() }
        logger.notice("metrics on http://\(endpoint.host):\(server.port)/metrics")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            exporter.update(from: pipeline)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}

/// Turns pipeline counters (running totals) into Prometheus series.
final class MetricsExporter: @unchecked Sendable {
    private let registry: MetricsRegistry
    private var previous = PipelineCounters()
    private var previousLatencies = 0
    private let latency: MetricsRegistry.Histogram
    private var lagSeries: Set<TopicPartition> = []

    init(registry: MetricsRegistry) {
        self.registry = registry
        latency = registry.histogram(
            "kordon_alert_latency_seconds",
            help: "From the Kafka timestamp of the event that released an alert to Kafka's acknowledgement of the alert.")
    }

    func update(from pipeline: DetectionPipeline) {
        let counters = pipeline.counters
        for (key, total) in counters.events {
            registry.counter(
                "kordon_events_total", help: "Decoded events by kind and what the engine made of them.",
                labels: ["kind": key.kind, "outcome": key.outcome]
            ).add(UInt64(max(total - (previous.events[key] ?? 0), 0)))
        }
        for (key, total) in counters.alerts {
            registry.counter(
                "kordon_alerts_total", help: "Alerts emitted, by rule and severity.",
                labels: ["rule": key.rule, "severity": key.severity]
            ).add(UInt64(max(total - (previous.alerts[key] ?? 0), 0)))
        }
        let totals: [(String, String, KeyPath<PipelineCounters, Int>)] = [
            ("kordon_messages_consumed_total", "Messages read from the input topics.", \.consumed),
            ("kordon_dead_lettered_total", "Messages sent to the dead-letter topic, with their reason.", \.deadLettered),
            ("kordon_suppressed_total", "Matches swallowed by alert suppression (as the next alert reports them).", \.suppressed),
            ("kordon_published_total", "Alert and dead-letter records acknowledged by Kafka.", \.published),
            ("kordon_already_delivered_total", "Outputs not sent again after a restart because they were already out.", \.alreadyDelivered),
            ("kordon_delivery_retries_total", "Records sent again after librdkafka gave up on them.", \.deliveryRetries),
            ("kordon_backpressure_pauses_total", "Times consumption paused because publishing fell behind.", \.pauses),
            ("kordon_checkpoints_total", "State checkpoints written.", \.checkpoints),
            ("kordon_rebalances_total", "Partition assignments and revocations.", \.rebalances),
        ]
        for (name, help, path) in totals {
            registry.counter(name, help: help).add(UInt64(max(counters[keyPath: path] - previous[keyPath: path], 0)))
        }
        registry.gauge("kordon_checkpoint_bytes", help: "Size of the last checkpoint's engine state.").set(
            Double(counters.checkpointBytes))
        for seconds in counters.latencies.suffix(max(counters.latencySamples - previousLatencies, 0)) {
            latency.observe(seconds)
        }
        previousLatencies = counters.latencySamples
        previous = counters

        if let (footprint, stats) = pipeline.engineState {
            let sizes: [(String, Int)] = [
                ("buffered_events", footprint.bufferedEvents), ("timers", footprint.timers),
                ("remembered_ids", footprint.rememberedIds), ("stored_crossings", footprint.storedCrossings),
                ("awaiting_inspections", footprint.awaitingInspections), ("window_keys", footprint.windowKeys),
                ("window_entries", footprint.windowEntries), ("suppression_keys", footprint.suppressionKeys),
                ("open_absences", footprint.openAbsences), ("sightings", footprint.sightings),
                ("pending_triggers", footprint.pendingTriggers),
            ]
            for (part, size) in sizes {
                registry.gauge("kordon_engine_state", help: "Entries of engine state, by part.", labels: ["part": part])
                    .set(Double(size))
            }
            registry.gauge("kordon_unknown_checkpoint_events", help: "Events naming a checkpoint the geography lacks.")
                .set(Double(stats.unknownCheckpoints))
            registry.gauge("kordon_watchlist_reload_errors", help: "Watchlist files that failed to reload.")
                .set(Double(stats.watchlistErrors))
        }
        do {
            let lag = pipeline.cachedLag
            for (tp, messages) in lag {
                lagSeries.insert(tp)
                registry.gauge(
                    "kordon_consumer_lag", help: "Messages not yet consumed, per input partition.",
                    labels: ["topic": tp.topic, "partition": String(tp.partition)]
                ).set(Double(messages))
            }
            // Partitions no longer ours read 0 rather than a stale figure.
            for tp in lagSeries where lag[tp] == nil {
                registry.gauge(
                    "kordon_consumer_lag", help: "Messages not yet consumed, per input partition.",
                    labels: ["topic": tp.topic, "partition": String(tp.partition)]
                ).set(0)
            }
        }
        exportStatistics(pipeline.statistics.consumer, client: "consumer")
        exportStatistics(pipeline.statistics.producer, client: "producer")
    }

    /// A few librdkafka statistics (see its STATISTICS.md): queue depth and traffic per client.
    private func exportStatistics(_ json: String?, client: String) {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return
        }
        let fields = [
            ("msg_cnt", "Messages in librdkafka's queues."), ("msg_size", "Bytes in librdkafka's queues."),
            ("txmsgs", "Messages sent to brokers."), ("rxmsgs", "Messages received from brokers."),
            ("tx", "Requests sent to brokers."), ("rx", "Responses received from brokers."),
        ]
        for (field, help) in fields {
            guard let value = object[field] as? NSNumber else { continue }
            registry.gauge("kordon_rdkafka_\(field)", help: help, labels: ["client": client]).set(value.doubleValue)
        }
    }
}
