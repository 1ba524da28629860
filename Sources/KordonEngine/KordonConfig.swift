import Foundation

/// The daemon config (`kordon.yaml`) and everything it names, loaded and checked.
public struct KordonConfig: Sendable {
    /// Where the daemon talks to Kafka; read and checked here, used by the daemon.
    public struct Kafka: Sendable, Equatable {
        public var bootstrapServers: [String]
        public var groupId: String
        public var inputTopics: [String]
        /// Tried in order; every route that matches takes the alert, until one without `continue`.
        public var alertRoutes: [AlertRoute]
        public var deadLetterTopic: String
        /// Run librdkafka's mock cluster in the process (and `bootstrapServers` is ignored): the demo.
        public var embedded: Bool
        /// librdkafka properties for every client (TLS, SASL, timeouts), passed through unchecked.
        public var properties: [String: String]
        /// librdkafka properties whose values are read from files (secrets stay out of the config).
        public var propertyFiles: [String: String]
        /// How long a partition with nothing new may hold back event time for the others.
        public var idleTimeout: Int64
    }

    /// Where alerts go: first matching route's topics, and the routes after it while `continue` is set.
    public struct AlertRoute: Sendable, Equatable {
        public var topic: String
        /// Rule ids, or prefixes written `integrity.*`; nil: any rule.
        public var rules: [String]?
        /// Alert categories; nil: any category.
        public var categories: [String]?
        /// The least severe severity taken; nil: any.
        public var minSeverity: Severity?
        /// Go on to later routes after this one matched.
        public var `continue`: Bool

        public init(
            topic: String, rules: [String]? = nil, categories: [String]? = nil, minSeverity: Severity? = nil,
            continue: Bool = false
        ) {
            self.topic = topic
            self.rules = rules
            self.categories = categories
            self.minSeverity = minSeverity
            self.continue = `continue`
        }

        public func matches(rule: String, category: String, severity: Severity) -> Bool {
            if let rules, !rules.contains(where: { pattern in
                pattern.hasSuffix(".*") ? rule.hasPrefix(pattern.dropLast()) : rule == pattern
            }) {
                return false
            }
            if let categories, !categories.contains(category) { return false }
            if let minSeverity, severity.rank > minSeverity.rank { return false }
            return true
        }

        /// True for a route that takes every alert.
        var isCatchAll: Bool { rules == nil && categories == nil && minSeverity == nil }
    }

    /// The topics an alert of this rule, category and severity goes to, in route order, each once.
    public func topics(rule: String, category: String, severity: Severity) -> [String] {
        var topics: [String] = []
        for route in kafka.alertRoutes where route.matches(rule: rule, category: category, severity: severity) {
            if !topics.contains(route.topic) { topics.append(route.topic) }
            if !route.continue { break }
        }
        return topics
    }

    /// The daemon's own files and timings.
    public struct Daemon: Sendable, Equatable {
        /// Engine snapshots with the offsets they cover.
        public var stateDirectory: String
        /// How often (wall clock) state is snapshotted and offsets committed.
        public var snapshotInterval: Int64
        /// The local JSON-lines alert log operators tail.
        public var alertLog: String
        /// How long SIGTERM may take to drain, snapshot and commit before the daemon exits anyway.
        public var shutdownTimeout: Int64
        /// swift-log level: trace, debug, info, notice, warning, error, critical.
        public var logLevel: String
        /// Where /metrics, /healthz and /readyz are served (host:port); nil: not served.
        public var metricsListen: Endpoint?
        /// A key file: plate and document numbers in alerts become keyed pseudonyms (HMAC-SHA-256).
        public var pseudonymKeyFile: String?
    }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: UInt16
    }

    public var file: String
    public var rulesFile: String
    public var geographyFile: String
    public var settings: EngineSettings
    public var kafka: Kafka
    public var daemon: Daemon
    public var rulebook: Rulebook
    public var geography: Geography

    /// Where alerts are logged when the config does not say.
    public static let defaultAlertLog = "/var/log/kordon/alerts.jsonl"

    /// Where the config is when `--config` is not given: `KORDON_CONFIG`, else
    /// `/etc/kordon/kordon.yaml` when it exists, else `config/kordon.yaml` under the working directory.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["KORDON_CONFIG"], !path.isEmpty { return path }
        if FileManager.default.fileExists(atPath: "/etc/kordon/kordon.yaml") { return "/etc/kordon/kordon.yaml" }
        return "config/kordon.yaml"
    }

    /// The fields each section of the daemon config accepts, by section path: "" for the top level,
    /// "kafka.alertRoutes[]" for each route. README.md's configuration reference is checked against it.
    public static let fields: [String: Set<String>] = [
        "": topFields, "engine": engineFields, "kafka": kafkaFields, "kafka.alertRoutes[]": routeFields,
        "daemon": daemonFields,
    ]
    static let topFields: Set<String> = ["rules", "geography", "engine", "kafka", "daemon"]
    static let engineFields: Set<String> = ["lateness", "idRetention", "watchlistCheck"]
    static let kafkaFields: Set<String> = [
        "bootstrapServers", "groupId", "inputTopics", "alertRoutes", "deadLetterTopic", "embedded", "properties",
        "propertyFiles", "idleTimeout",
    ]
    static let routeFields: Set<String> = ["topic", "rules", "categories", "minSeverity", "continue"]
    static let daemonFields: Set<String> = [
        "stateDirectory", "snapshotInterval", "alertLog", "shutdownTimeout", "logLevel", "metricsListen",
        "pseudonymKeyFile",
    ]

    /// Loads `file` and the rulebook and geography it names (relative to its own directory).
    /// Throws `ConfigErrors` listing every problem found in any of the files.
    public static func load(file: String) throws(ConfigErrors) -> KordonConfig {
        var errors: [ConfigError] = []
        let reader = ConfigReader(file: file)
        var rulesName: String?
        var geographyName: String?
        var settings = EngineSettings(watchlistCheck: EngineSettings.defaultWatchlistCheck)
        var kafka: Kafka?
        var daemon = Daemon(
            stateDirectory: "/var/lib/kordon", snapshotInterval: 5_000_000_000, alertLog: defaultAlertLog,
            shutdownTimeout: 30_000_000_000, logLevel: "info", metricsListen: Endpoint(host: "127.0.0.1", port: 9464), pseudonymKeyFile: nil)
        let directory = (file as NSString).deletingLastPathComponent
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") || directory.isEmpty
                ? name : ((directory as NSString).appendingPathComponent(name) as NSString).standardizingPath
        }
        if let text = read(file, into: &errors), let root = reader.root(yaml: text),
            let top = root.object(topFields)
        {
            rulesName = top.required("rules")?.string()
            geographyName = top.required("geography")?.string()
            if let engine = top.optional("engine")?.object(engineFields) {
                if let lateness = engine.optional("lateness")?.duration() { settings.lateness = lateness }
                settings.idRetention = engine.optional("idRetention")?.duration()
                if let check = engine.optional("watchlistCheck")?.duration() { settings.watchlistCheck = check }
            }
            kafka = top.required("kafka").flatMap { readKafka($0, resolve: resolve) }
            if let fields = top.optional("daemon")?.object(daemonFields) {
                if let value = fields.optional("metricsListen"), let text = value.string() {
                    daemon.metricsListen = text == "off" ? nil : readListen(text, value)
                }
                if let path = fields.optional("pseudonymKeyFile")?.string() { daemon.pseudonymKeyFile = resolve(path) }
                if let path = fields.optional("stateDirectory")?.string() { daemon.stateDirectory = resolve(path) }
                if let interval = fields.optional("snapshotInterval")?.positiveDuration() { daemon.snapshotInterval = interval }
                if let path = fields.optional("alertLog")?.string() { daemon.alertLog = resolve(path) }
                if let timeout = fields.optional("shutdownTimeout")?.positiveDuration() { daemon.shutdownTimeout = timeout }
                if let level = fields.optional("logLevel")?.oneOf(LogLevelName.self) { daemon.logLevel = level.rawValue }
            }
        }
        errors += reader.errors
        let rulesFile = rulesName.map(resolve) ?? ""
        let geographyFile = geographyName.map(resolve) ?? ""
        var rulebook = Rulebook(rules: [])
        var geography = Geography()
        if rulesName != nil {
            let rules = ConfigReader(file: rulesFile)
            if let text = read(rulesFile, into: &errors), let root = rules.root(yaml: text) {
                rulebook = Rulebook.read(root)
            }
            errors += rules.errors
        }
        if geographyName != nil {
            let places = ConfigReader(file: geographyFile)
            if let text = read(geographyFile, into: &errors), let root = places.root(yaml: text) {
                geography = Geography.read(root)
            }
            errors += places.errors
        }
        guard errors.isEmpty, let kafka else { throw ConfigErrors(errors: errors) }
        return KordonConfig(
            file: file, rulesFile: rulesFile, geographyFile: geographyFile, settings: settings, kafka: kafka,
            daemon: daemon, rulebook: rulebook, geography: geography)
    }

    private static func read(_ file: String, into errors: inout [ConfigError]) -> String? {
        guard let data = FileManager.default.contents(atPath: file) else {
            errors.append(ConfigError(file: file, line: 0, field: "", message: "cannot read the file"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            errors.append(ConfigError(file: file, line: 0, field: "", message: "not UTF-8"))
            return nil
        }
        return text
    }

    private static func readKafka(_ value: YAMLValue, resolve: (String) -> String) -> Kafka? {
        guard let fields = value.object(kafkaFields) else { return nil }
        let servers = fields.required("bootstrapServers").flatMap { readStrings($0) { server, item in
            // host:port, the form librdkafka takes.
            guard let colon = server.lastIndex(of: ":"), colon != server.startIndex,
                let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port)
            else {
                item.fail("expected host:port, got \"\(server)\"")
                return false
            }
            return true
        } }
        let groupId = fields.required("groupId")?.string()
        let inputs = fields.required("inputTopics").flatMap { readStrings($0, check: checkTopic) }
        let routes = fields.required("alertRoutes").flatMap(readRoutes)
        let deadLetter = fields.required("deadLetterTopic").flatMap { value -> String? in
            guard let topic = value.string(), checkTopic(topic, value) else { return nil }
            return topic
        }
        let embedded = fields.optional("embedded").map { $0.bool() } ?? false
        let properties = fields.optional("properties").map { readProperties($0) } ?? [:]
        let files = (fields.optional("propertyFiles").map { readProperties($0) } ?? [:])?.mapValues(resolve)
        let idleTimeout = fields.optional("idleTimeout").map { $0.positiveDuration() } ?? 2_000_000_000
        guard let servers, let groupId, let inputs, let routes, let deadLetter, let embedded, let properties, let files,
            let idleTimeout
        else { return nil }
        return Kafka(
            bootstrapServers: servers, groupId: groupId, inputTopics: inputs, alertRoutes: routes,
            deadLetterTopic: deadLetter, embedded: embedded, properties: properties, propertyFiles: files,
            idleTimeout: idleTimeout)
    }

    /// `host:port` for a listener, or nil (recorded) when it is not one.
    private static func readListen(_ text: String, _ value: YAMLValue) -> Endpoint? {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, let port = UInt16(text[text.index(after: colon)...])
        else {
            value.fail("expected host:port (or off), got \"\(text)\"")
            return nil
        }
        return Endpoint(host: String(text[..<colon]), port: port)
    }

    /// A mapping of librdkafka property names to scalar values (numbers and booleans as written).
    private static func readProperties(_ value: YAMLValue) -> [String: String]? {
        guard let members = value.members() else { return nil }
        var result: [String: String] = [:]
        for (name, item) in members {
            guard let text = item.string() else { continue }
            result[name] = text
        }
        return result.count == members.count ? result : nil
    }

    /// Kafka's topic name rule: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
    private static func checkTopic(_ topic: String, _ value: YAMLValue) -> Bool {
        let allowed = topic.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46
                || byte == 95 || byte == 45
        }
        guard allowed, topic.utf8.count <= 249, topic != ".", topic != ".." else {
            value.fail("not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -): \"\(topic)\"")
            return false
        }
        return true
    }

    private static func readStrings(_ value: YAMLValue, check: (String, YAMLValue) -> Bool) -> [String]? {
        guard let items = value.elements() else { return nil }
        guard !items.isEmpty else {
            value.fail("expected at least one entry")
            return nil
        }
        var strings: [String] = []
        for item in items {
            guard let string = item.string(), check(string, item) else { continue }
            strings.append(string)
        }
        return strings.count == items.count ? strings : nil
    }

    private static func readRoutes(_ value: YAMLValue) -> [AlertRoute]? {
        guard let items = value.elements() else { return nil }
        var routes: [AlertRoute] = []
        for item in items {
            guard let fields = item.object(routeFields) else { continue }
            let topic = fields.required("topic").flatMap { value -> String? in
                guard let topic = value.string(), checkTopic(topic, value) else { return nil }
                return topic
            }
            var failed = false
            /// An optional field: nil when absent or invalid (and then `failed`).
            func optional<T>(_ name: String, _ read: (YAMLValue) -> T?) -> T? {
                guard let value = fields.optional(name) else { return nil }
                let result = read(value)
                if result == nil { failed = true }
                return result
            }
            let rules = optional("rules") { readStrings($0) { _, _ in true } }
            let categories = optional("categories") { readStrings($0) { _, _ in true } }
            let minSeverity = optional("minSeverity") { $0.oneOf(Severity.self) }
            let next = optional("continue") { $0.bool() } ?? false
            guard let topic, !failed else { continue }
            routes.append(
                AlertRoute(topic: topic, rules: rules, categories: categories, minSeverity: minSeverity, continue: next))
        }
        guard routes.count == items.count else { return nil }
        guard routes.contains(where: \.isCatchAll) else {
            value.fail("no route takes every alert: add a last route with only a `topic`, so no alert goes nowhere")
            return nil
        }
        return routes
    }
}

enum LogLevelName: String, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
