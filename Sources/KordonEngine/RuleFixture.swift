import KordonEvents

/// A declarative rule test (`kordon test-rules`), in the spirit of `promtool test rules`:
///
///     rule: weapons.undeclared          # the rule under test; other rules' alerts are ignored
///     cases:
///       - name: undeclared ammunition fires
///         events: |                     # JSON lines, decoded as the daemon decodes messages
///           {"v":1,"id":"c1","kind":"crossing",...}
///         expect:                       # the rule's alerts, in order; [] for a near miss
///           - key: {type: plate, value: 123ABC15}
///             severity: critical
///             facts: {finding: ammunition}   # only the facts named are compared
///
/// Every case runs on a fresh engine to the end of its events (as `kordon replay` does).
public struct RuleFixture: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var line: Int
        public var events: [Event]
        public var expect: [Expectation]
    }

    public struct Expectation: Sendable {
        public var key: AlertKey?
        public var severity: Severity?
        public var title: String?
        public var facts: [(name: String, value: Value)]
    }

    public var file: String
    public var rule: String
    public var cases: [Case]

    public static func parse(yaml: String, file: String) throws(ConfigErrors) -> RuleFixture {
        let reader = ConfigReader(file: file)
        var fixture = RuleFixture(file: file, rule: "", cases: [])
        if let root = reader.root(yaml: yaml), let top = root.object(["rule", "cases"]) {
            fixture.rule = top.required("rule")?.string() ?? ""
            for item in top.required("cases")?.elements() ?? [] {
                if let testCase = readCase(item) { fixture.cases.append(testCase) }
            }
        }
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return fixture
    }

    /// Runs every case; returns one message per failure, naming the fixture line of the case.
    public func run(rulebook: Rulebook, geography: Geography, settings: EngineSettings) -> [String] {
        var failures: [String] = []
        if !rulebook.rules.contains(where: { $0.id == rule }) {
            return ["\(file): rule \"\(rule)\" is not in the rulebook (or is disabled)"]
        }
        // Watchlists as loaded: a case must not depend on when a file changes.
        var settings = settings
        settings.watchlistCheck = nil
        for testCase in cases {
            var engine = Engine(rulebook: rulebook, geography: geography, settings: settings) {
                Timestamp(nanosecondsSinceEpoch: 0)
            }
            var alerts: [Alert] = []
            for (offset, event) in testCase.events.enumerated() {
                engine.ingest(event, from: EventOrigin(topic: "fixture", partition: 0, offset: Int64(offset)), into: &alerts)
            }
            engine.finish(into: &alerts)
            let produced = alerts.filter { $0.rule == rule }
            let place = "\(file):\(testCase.line): \(testCase.name)"
            if produced.count != testCase.expect.count {
                let got = produced.map { "\($0.key.type.rawValue) \($0.key.value) (\($0.severity.rawValue))" }
                failures.append("\(place): expected \(testCase.expect.count) alerts of \(rule), got \(produced.count) \(got)")
                continue
            }
            for (index, (alert, expected)) in zip(produced, testCase.expect).enumerated() {
                for problem in expected.mismatches(alert) {
                    failures.append("\(place): alert \(index + 1): \(problem)")
                }
            }
        }
        return failures
    }

    private static func readCase(_ item: YAMLValue) -> Case? {
        guard let fields = item.object(["name", "events", "expect"]) else { return nil }
        let name = fields.required("name")?.string()
        let events = fields.required("events").flatMap(readEvents)
        let expect = fields.required("expect").flatMap { value -> [Expectation]? in
            guard let items = value.elements() else { return nil }
            let expectations = items.compactMap(readExpectation)
            return expectations.count == items.count ? expectations : nil
        }
        guard let name, let events, let expect else { return nil }
        return Case(name: name, line: item.line, events: events, expect: expect)
    }

    /// One JSON event per line of a block scalar; blank lines are skipped.
    private static func readEvents(_ value: YAMLValue) -> [Event]? {
        guard let text = value.string() else { return nil }
        var events: [Event] = []
        var valid = true
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            switch EventDecoder().decode(String(line)) {
            case .success(let event): events.append(event)
            case .failure(let rejection):
                // Block scalars start on the line after the key.
                value.reader.fail(line: value.line + 1 + index, field: value.path, "invalid event: \(rejection)")
                valid = false
            }
        }
        return valid ? events : nil
    }

    private static func readExpectation(_ value: YAMLValue) -> Expectation? {
        guard let fields = value.object(["key", "severity", "title", "facts"]) else { return nil }
        var expectation = Expectation(facts: [])
        if let key = fields.optional("key")?.object(["type", "value"]) {
            guard let type = key.required("type")?.oneOf(KeyType.self), let text = key.required("value")?.string() else {
                return nil
            }
            expectation.key = AlertKey(type: type, value: text)
        }
        expectation.severity = fields.optional("severity")?.oneOf(Severity.self)
        expectation.title = fields.optional("title")?.string()
        for (name, factValue) in fields.optional("facts")?.members() ?? [] {
            guard case .scalar(let scalar) = factValue.node else {
                factValue.fail("expected a number, true, false or a string")
                return nil
            }
            // Plain scalars that read as numbers or booleans are compared as such.
            if scalar.style == .plain, let number = Double(scalar.string) {
                expectation.facts.append((name, .number(number)))
            } else if scalar.style == .plain, scalar.string == "true" || scalar.string == "false" {
                expectation.facts.append((name, .bool(scalar.string == "true")))
            } else {
                expectation.facts.append((name, .string(scalar.string)))
            }
        }
        return expectation
    }
}

extension RuleFixture.Expectation {
    func mismatches(_ alert: Alert) -> [String] {
        var problems: [String] = []
        if let key, key != alert.key {
            problems.append("key: expected \(key.type.rawValue) \(key.value), got \(alert.key.type.rawValue) \(alert.key.value)")
        }
        if let severity, severity != alert.severity {
            problems.append("severity: expected \(severity.rawValue), got \(alert.severity.rawValue)")
        }
        if let title, title != alert.title {
            problems.append("title: expected \"\(title)\", got \"\(alert.title)\"")
        }
        for fact in facts {
            let actual = alert.facts.first { $0.name == fact.name }?.value
            if actual != fact.value {
                problems.append("facts.\(fact.name): expected \(fact.value.shown), got \(actual?.shown ?? "nothing")")
            }
        }
        return problems
    }
}

extension Value {
    var shown: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .number(let number): formatNumber(number)
        case .bool(let flag): flag ? "true" : "false"
        }
    }
}
