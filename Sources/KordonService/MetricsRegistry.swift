import Synchronization

/// Prometheus metrics, rendered in the text exposition format 0.0.4 without a client library.
///
/// Registering a metric returns a handle; keep it and update it from the hot path: an update is one
/// atomic operation (counters, gauges) or one short lock (histograms), with no string work.
/// Registering the same name and labels again returns the same handle.
/// Names and labels are checked when registered: a bad one is a programming error and traps.
public final class MetricsRegistry: Sendable {
    private struct Family: Sendable {
        var type: String
        var help: String
        /// Histograms only: every series of a family has the same buckets.
        var buckets: [Double]
        var series: [LabelSet: any MetricSeries]
    }

    private let families = Mutex<[String: Family]>([:])

    public init() {}

    /// A monotonically increasing count, e.g. `kordon_events_total`.
    public func counter(_ name: String, help: String, labels: [String: String] = [:]) -> Counter {
        register(name, help: help, type: "counter", labels: labels, buckets: []) { Counter() }
    }

    /// A value that goes up and down, e.g. consumer lag or queue depth.
    public func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> Gauge {
        register(name, help: help, type: "gauge", labels: labels, buckets: []) { Gauge() }
    }

    /// Observations counted into fixed buckets (upper bounds, strictly increasing; `+Inf` is implied).
    public func histogram(
        _ name: String, help: String, labels: [String: String] = [:], buckets: [Double] = Histogram.latencyBuckets
    ) -> Histogram {
        precondition(
            buckets.allSatisfy(\.isFinite) && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 },
            "histogram \(name): buckets must be finite and strictly increasing")
        precondition(labels["le"] == nil, "histogram \(name): the label `le` is reserved for buckets")
        return register(name, help: help, type: "histogram", labels: labels, buckets: buckets) {
            Histogram(buckets: buckets)
        }
    }

    /// The first registration of a name sets its help; later ones must agree on type and buckets.
    private func register<M: MetricSeries>(
        _ name: String, help: String, type: String, labels: [String: String], buckets: [Double], make: () -> M
    ) -> M {
        precondition(Self.isMetricName(name), "invalid metric name \"\(name)\"")
        for label in labels.keys {
            precondition(Self.isLabelName(label), "metric \(name): invalid label name \"\(label)\"")
        }
        let labelSet = LabelSet(labels)
        return families.withLock { families in
            if let family = families[name] {
                precondition(
                    family.type == type && family.buckets == buckets,
                    "metric \(name) registered again as another type or with other buckets")
                if let existing = family.series[labelSet] { return existing as! M }
            } else {
                families[name] = Family(type: type, help: help, buckets: buckets, series: [:])
            }
            let created = make()
            families[name]!.series[labelSet] = created
            return created
        }
    }

    /// The exposition text: families sorted by name, series by labels, then by label values.
    public func render() -> String {
        let snapshot = families.withLock { $0 }.sorted { $0.key < $1.key }
        var out = ""
        for (name, family) in snapshot {
            out += "# HELP \(name) \(Self.escape(family.help, quotes: false))\n"
            out += "# TYPE \(name) \(family.type)\n"
            for (labels, series) in family.series.sorted(by: { $0.key < $1.key }) {
                series.write(name: name, labels: labels.text, into: &out)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    private static func isMetricName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.enumerated().allSatisfy { index, byte in
            byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || isLetter(byte) || (index > 0 && isDigit(byte))
        }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
    private static func isLabelName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("__") && name.utf8.enumerated().allSatisfy { index, byte in
            byte == UInt8(ascii: "_") || isLetter(byte) || (index > 0 && isDigit(byte))
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// HELP text escapes `\` and line feeds; label values also `"`.
    static func escape(_ text: String, quotes: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Integral values print without a fraction (`3`, not `3.0`); infinities and NaN as Prometheus spells them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}

/// A series' labels, sorted by name, with their exposition text rendered once at registration.
private struct LabelSet: Hashable, Comparable, Sendable {
    let pairs: [Pair]
    /// `a="x",b="y"`, without braces, so histograms can append `le`.
    let text: String

    struct Pair: Hashable, Sendable {
        var name: String
        var value: String
    }

    init(_ labels: [String: String]) {
        pairs = labels.map { Pair(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
        text = pairs.map { "\($0.name)=\"\(MetricsRegistry.escape($0.value, quotes: true))\"" }.joined(separator: ",")
    }

    static func < (lhs: LabelSet, rhs: LabelSet) -> Bool {
        lhs.pairs.lexicographicallyPrecedes(rhs.pairs) { $0.name != $1.name ? $0.name < $1.name : $0.value < $1.value }
    }

    static func == (lhs: LabelSet, rhs: LabelSet) -> Bool { lhs.pairs == rhs.pairs }

    func hash(into hasher: inout Hasher) { hasher.combine(pairs) }
}

private protocol MetricSeries: AnyObject, Sendable {
    func write(name: String, labels: String, into out: inout String)
}

extension MetricsRegistry {
    public final class Counter: Sendable, MetricSeries {
        private let count = Atomic<UInt64>(0)

        fileprivate init() {}

        public func increment() { add(1) }

        public func add(_ amount: UInt64) { count.wrappingAdd(amount, ordering: .relaxed) }

        public var value: UInt64 { count.load(ordering: .relaxed) }

        fileprivate func write(name: String, labels: String, into out: inout String) {
            out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
        }
    }

    public final class Gauge: Sendable, MetricSeries {
        /// The value's bit pattern: there is no atomic Double.
        private let bits = Atomic<UInt64>(0)

        fileprivate init() {}

        public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }

        /// Adds `delta` (negative to subtract).
        public func add(_ delta: Double) {
            var current = bits.load(ordering: .relaxed)
            while true {
                let next = (Double(bitPattern: current) + delta).bitPattern
                let (exchanged, original) = bits.compareExchange(expected: current, desired: next, ordering: .relaxed)
                if exchanged { return }
                current = original
            }
        }

        public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

        fileprivate func write(name: String, labels: String, into out: inout String) {
            let text = MetricsRegistry.format(value)
            out += labels.isEmpty ? "\(name) \(text)\n" : "\(name){\(labels)} \(text)\n"
        }
    }

    public final class Histogram: Sendable, MetricSeries {
        /// For latencies in seconds: 1 ms to 10 s.
        public static let latencyBuckets: [Double] = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
        ]

        /// Upper bounds, without the implied `+Inf`.
        public let buckets: [Double]

        private struct State {
            /// Per bucket, not cumulative; the last is `+Inf`.
            var counts: [UInt64]
            var sum: Double
        }

        /// One lock rather than an atomic per bucket, so a scrape sees buckets, sum and count agree.
        private let state: Mutex<State>

        fileprivate init(buckets: [Double]) {
            self.buckets = buckets
            state = Mutex(State(counts: Array(repeating: 0, count: buckets.count + 1), sum: 0))
        }

        public func observe(_ value: Double) {
            let index = buckets.firstIndex { value <= $0 } ?? buckets.count
            state.withLock {
                $0.counts[index] += 1
                $0.sum += value
            }
        }

        /// Observes a duration in seconds.
        public func observe(_ duration: Duration) {
            let (seconds, attoseconds) = duration.components
            observe(Double(seconds) + Double(attoseconds) / 1e18)
        }

        public var count: UInt64 { state.withLock { $0.counts.reduce(0, +) } }

        public var sum: Double { state.withLock { $0.sum } }

        fileprivate func write(name: String, labels: String, into out: inout String) {
            let (counts, sum) = state.withLock { ($0.counts, $0.sum) }
            let prefix = labels.isEmpty ? "" : labels + ","
            var cumulative: UInt64 = 0
            for (index, count) in counts.enumerated() {
                cumulative += count
                let bound = index < buckets.count ? MetricsRegistry.format(buckets[index]) : "+Inf"
                out += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
            }
            let braces = labels.isEmpty ? "" : "{\(labels)}"
            out += "\(name)_sum\(braces) \(MetricsRegistry.format(sum))\n"
            out += "\(name)_count\(braces) \(cumulative)\n"
        }
    }
}
