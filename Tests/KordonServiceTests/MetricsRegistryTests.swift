import Dispatch
import KordonService
import Testing

struct MetricsRegistryTests {
    @Test func rendersTheExpositionFormatSortedAndEscaped() {
        let registry = MetricsRegistry()
        let latency = registry.histogram(
            "kordon_latency_seconds", help: "End-to-end latency.", labels: ["topic": "x"], buckets: [0.01, 0.1, 1])
        for seconds in [0.0078125, 0.0625, 0.0625, 4] { latency.observe(seconds) }
        registry.counter("kordon_events_total", help: "Events by kind and outcome.", labels: ["outcome": "rejected", "kind": "patrol"])
            .add(1)
        registry.counter("kordon_events_total", help: "Events by kind and outcome.", labels: ["kind": "crossing", "outcome": "accepted"])
            .add(3)
        registry.gauge("kordon_lag", help: "Lag with a \\ backslash\nand a newline.", labels: ["partition": "a\"b\\c\nd"])
            .set(2.5)
        registry.gauge("kordon_lag", help: "Lag with a \\ backslash\nand a newline.").set(-7)
        #expect(
            registry.render() == #"""
                # HELP kordon_events_total Events by kind and outcome.
                # TYPE kordon_events_total counter
                kordon_events_total{kind="crossing",outcome="accepted"} 3
                kordon_events_total{kind="patrol",outcome="rejected"} 1
                # HELP kordon_lag Lag with a \\ backslash\nand a newline.
                # TYPE kordon_lag gauge
                kordon_lag -7
                kordon_lag{partition="a\"b\\c\nd"} 2.5
                # HELP kordon_latency_seconds End-to-end latency.
                # TYPE kordon_latency_seconds histogram
                kordon_latency_seconds_bucket{topic="x",le="0.01"} 1
                kordon_latency_seconds_bucket{topic="x",le="0.1"} 3
                kordon_latency_seconds_bucket{topic="x",le="1"} 3
                kordon_latency_seconds_bucket{topic="x",le="+Inf"} 4
                kordon_latency_seconds_sum{topic="x"} 4.1328125
                kordon_latency_seconds_count{topic="x"} 4

                """#)
    }

    @Test func defaultLatencyBucketsAndDurations() {
        let registry = MetricsRegistry()
        let latency = registry.histogram("kordon_end_to_end_seconds", help: "Latency.")
        latency.observe(.milliseconds(500))
        latency.observe(.seconds(30))
        let text = registry.render()
        #expect(text.contains("kordon_end_to_end_seconds_bucket{le=\"0.001\"} 0\n"))
        #expect(text.contains("kordon_end_to_end_seconds_bucket{le=\"0.25\"} 0\n"))
        #expect(text.contains("kordon_end_to_end_seconds_bucket{le=\"0.5\"} 1\n"))
        #expect(text.contains("kordon_end_to_end_seconds_bucket{le=\"10\"} 1\n"))
        #expect(text.contains("kordon_end_to_end_seconds_bucket{le=\"+Inf\"} 2\n"))
        #expect(text.contains("kordon_end_to_end_seconds_sum 30.5\n"))
        #expect(text.contains("kordon_end_to_end_seconds_count 2\n"))
    }

    @Test func registeringAgainGivesTheSameSeries() {
        let registry = MetricsRegistry()
        let first = registry.counter("kordon_alerts_total", help: "Alerts.", labels: ["rule": "a"])
        let again = registry.counter("kordon_alerts_total", help: "Alerts.", labels: ["rule": "a"])
        let other = registry.counter("kordon_alerts_total", help: "Alerts.", labels: ["rule": "b"])
        #expect(first === again)
        #expect(first !== other)
        first.increment()
        again.add(2)
        #expect(first.value == 3)
        #expect(other.value == 0)
    }

    @Test func concurrentUpdatesFromSeveralThreadsAllCount() {
        let registry = MetricsRegistry()
        let threads = 8
        let perThread = 100_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            // Registration races too: every thread must get the same series.
            let counter = registry.counter("kordon_events_total", help: "Events.", labels: ["kind": "crossing"])
            let gauge = registry.gauge("kordon_in_flight", help: "In flight.")
            let histogram = registry.histogram("kordon_latency_seconds", help: "Latency.")
            for _ in 0..<perThread {
                counter.increment()
                gauge.add(1)
                histogram.observe(0.002)
            }
        }
        let total = threads * perThread
        #expect(registry.counter("kordon_events_total", help: "Events.", labels: ["kind": "crossing"]).value == UInt64(total))
        #expect(registry.gauge("kordon_in_flight", help: "In flight.").value == Double(total))
        let histogram = registry.histogram("kordon_latency_seconds", help: "Latency.")
        #expect(histogram.count == UInt64(total))
        let text = registry.render()
        #expect(text.contains("kordon_events_total{kind=\"crossing\"} \(total)\n"))
        #expect(text.contains("kordon_latency_seconds_bucket{le=\"0.001\"} 0\n"))
        #expect(text.contains("kordon_latency_seconds_bucket{le=\"0.0025\"} \(total)\n"))
        #expect(text.contains("kordon_latency_seconds_count \(total)\n"))
    }
}
