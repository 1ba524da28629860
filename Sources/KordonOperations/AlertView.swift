import KordonEngine
import KordonEvents

/// Which alerts an operator asked to see.
public struct AlertFilter: Sendable {
    /// At or above this severity.
    public var minimumSeverity: String?
    /// Rule ids; a trailing `*` matches a prefix (`weapons.*`). Empty: every rule.
    public var rules: [String]
    /// Emitted at or after this time.
    public var since: Timestamp?

    public init(minimumSeverity: String? = nil, rules: [String] = [], since: Timestamp? = nil) {
        self.minimumSeverity = minimumSeverity
        self.rules = rules
        self.since = since
    }

    public static let severities = ["low", "medium", "high", "critical"]

    public func matches(_ alert: AlertLine) -> Bool {
        if let minimumSeverity,
            (Self.severities.firstIndex(of: alert.severity) ?? -1) < (Self.severities.firstIndex(of: minimumSeverity) ?? 0)
        {
            return false
        }
        if !rules.isEmpty, !rules.contains(where: { pattern in
            pattern.hasSuffix("*") ? alert.rule.hasPrefix(pattern.dropLast()) : alert.rule == pattern
        }) {
            return false
        }
        if let since, let emitted = alert.emitted, emitted < since { return false }
        return true
    }
}

/// One aligned line per alert: severity, event time, rule, key, location, title; severity in
/// color for a terminal.
public struct AlertLineFormatter: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    public func format(_ alert: AlertLine) -> String {
        let severity = pad(alert.severity.uppercased(), 8)
        let time = alert.eventTime.map { String($0.rfc3339.prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? alert.time
        let key = "\(alert.key.type) \(alert.key.value)"
        let columns = [time, pad(alert.rule, 34), pad(key, 24), pad(place(alert.location), 22), alert.title]
        return (color ? paint(severity, alert.severity) : severity) + "  " + columns.joined(separator: "  ")
    }

    private func place(_ location: AlertLine.Location) -> String {
        if let checkpoint = location.checkpoint {
            return location.direction.map { "\(checkpoint) (\($0))" } ?? checkpoint
        }
        if let sector = location.sector { return sector }
        if let zone = location.zone { return zone }
        if let position = location.position {
            return "\((position.lat * 1000).rounded() / 1000),\((position.lon * 1000).rounded() / 1000)"
        }
        return "-"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count > width ? String(text.prefix(width - 1)) + "…" : text + String(repeating: " ", count: width - text.count)
    }

    private func paint(_ text: String, _ severity: String) -> String {
        let code =
            switch severity {
            case "critical": "1;31"
            case "high": "31"
            case "medium": "33"
            default: "36"
            }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}

/// Counts of an alert log by rule, severity, checkpoint and day (of event time, UTC).
public struct AlertStats: Sendable, Equatable {
    public private(set) var total = 0
    public private(set) var unreadable = 0
    public private(set) var byRule: [String: Int] = [:]
    public private(set) var bySeverity: [String: Int] = [:]
    public private(set) var byCheckpoint: [String: Int] = [:]
    public private(set) var byDay: [String: Int] = [:]

    public init() {}

    public mutating func add(line: some StringProtocol) {
        guard let alert = AlertLine(json: line) else {
            unreadable += 1
            return
        }
        total += 1
        byRule[alert.rule, default: 0] += 1
        bySeverity[alert.severity, default: 0] += 1
        if let checkpoint = alert.location.checkpoint { byCheckpoint[checkpoint, default: 0] += 1 }
        byDay[String(alert.time.prefix(10)), default: 0] += 1
    }

    /// Tables for a person: most frequent first, days in order.
    public var report: String {
        var out = "\(total) alerts" + (unreadable > 0 ? " (\(unreadable) unreadable lines)" : "") + "\n"
        func table(_ title: String, _ rows: [(key: String, value: Int)]) {
            guard !rows.isEmpty else { return }
            out += "\n\(title)\n"
            let width = rows.map(\.key.count).max() ?? 0
            for (name, count) in rows {
                out += "  " + name + String(repeating: " ", count: width - name.count) + "  \(count)\n"
            }
        }
        func mostFirst(_ counts: [String: Int]) -> [(key: String, value: Int)] {
            counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        }
        let rank = { (severity: String) in AlertFilter.severities.firstIndex(of: severity) ?? -1 }
        table("by severity", bySeverity.sorted { rank($0.key) > rank($1.key) })
        table("by rule", mostFirst(byRule))
        table("by checkpoint", mostFirst(byCheckpoint))
        table("by day", byDay.sorted { $0.key < $1.key })
        return out
    }
}
