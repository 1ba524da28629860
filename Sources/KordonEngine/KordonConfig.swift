import Foundation

/// The daemon config (`kordon.yaml`) and everything it names, loaded and checked.
public struct KordonConfig: Sendable {
    /// Where the daemon talks to Kafka; read and checked here, used by the daemon.
    public struct Kafka: Sendable, Equatable {
        public var bootstrapServers: [String]
        public var groupId: String
        public var inputTopics: [String]
        /// Tried in order; the first whose patterns match the rule id takes the alert.
        public var alertRoutes: [AlertRoute]
        public var deadLetterTopic: String
    }

    public struct AlertRoute: Sendable, Equatable {
        public var topic: String
        /// Rule ids, or prefixes written `integrity.*`; nil: every rule (the default route, last).
        public var rules: [String]?

        public func matches(rule: String) -> Bool {
            guard let rules else { return true }
            return rules.contains { pattern in
                pattern.hasSuffix(".*") ? rule.hasPrefix(pattern.dropLast()) : rule == pattern
            }
        }
    }

    public var file: String
    public var rulesFile: String
    public var geographyFile: String
    public var settings: EngineSettings
    public var kafka: Kafka
    public var rulebook: Rulebook
    public var geography: Geography

    /// Where the config is when `--config` is not given: `KORDON_CONFIG`, else
    /// `/etc/kordon/kordon.yaml` when it exists, else `config/kordon.yaml` under the working directory.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["KORDON_CONFIG"], !path.isEmpty { return path }
        if FileManager.default.fileExists(atPath: "/etc/kordon/kordon.yaml") { return "/etc/kordon/kordon.yaml" }
        return "config/kordon.yaml"
    }

    /// Loads `file` and the rulebook and geography it names (relative to its own directory).
    /// Throws `ConfigErrors` listing every problem found in any of the files.
    public static func load(file: String) throws(ConfigErrors) -> KordonConfig {
        var errors: [ConfigError] = []
        let reader = ConfigReader(file: file)
        var rulesName: String?
        var geographyName: String?
        var settings = EngineSettings(watchlistCheck: EngineSettings.defaultWatchlistCheck)
        var kafka: Kafka?
        if let text = read(file, into: &errors), let root = reader.root(yaml: text),
            let top = root.object(["rules", "geography", "engine", "kafka"])
        {
            rulesName = top.required("rules")?.string()
            geographyName = top.required("geography")?.string()
            if let engine = top.optional("engine")?.object(["lateness", "idRetention", "watchlistCheck"]) {
                if let lateness = engine.optional("lateness")?.duration() { settings.lateness = lateness }
                settings.idRetention = engine.optional("idRetention")?.duration()
                if let check = engine.optional("watchlistCheck")?.duration() { settings.watchlistCheck = check }
            }
            kafka = top.required("kafka").flatMap(readKafka)
        }
        errors += reader.errors
        let directory = (file as NSString).deletingLastPathComponent
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") || directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
        }
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
            rulebook: rulebook, geography: geography)
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

    private static func readKafka(_ value: YAMLValue) -> Kafka? {
        guard
            let fields = value.object([
                "bootstrapServers", "groupId", "inputTopics", "alertRoutes", "deadLetterTopic",
            ])
        else { return nil }
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
        guard let servers, let groupId, let inputs, let routes, let deadLetter else { return nil }
        return Kafka(
            bootstrapServers: servers, groupId: groupId, inputTopics: inputs, alertRoutes: routes,
            deadLetterTopic: deadLetter)
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
        for (index, item) in items.enumerated() {
            guard let fields = item.object(["topic", "rules"]) else { continue }
            let topic = fields.required("topic").flatMap { value -> String? in
                guard let topic = value.string(), checkTopic(topic, value) else { return nil }
                return topic
            }
            let rules = fields.optional("rules").flatMap { readStrings($0) { _, _ in true } }
            if fields.optional("rules") == nil, index != items.count - 1 {
                item.fail("a route without `rules` takes every alert, so it must come last")
                continue
            }
            if let topic, fields.optional("rules") == nil || rules != nil {
                routes.append(AlertRoute(topic: topic, rules: rules))
            }
        }
        guard routes.count == items.count else { return nil }
        guard routes.last?.rules == nil else {
            value.fail("the last route must have no `rules`, to take every alert the others do not")
            return nil
        }
        return routes
    }
}
