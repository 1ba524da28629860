import KordonEngine
import KordonEvents

/// What scoring needs of an alert (contract v1): rule, key, event time and evidence ids.
public struct ScoredAlert: Sendable, Equatable {
    public var rule: String
    public var keyType: String
    public var keyValue: String
    public var time: Timestamp
    public var evidence: [String]

    public init(rule: String, keyType: String, keyValue: String, time: Timestamp, evidence: [String]) {
        self.rule = rule
        self.keyType = keyType
        self.keyValue = keyValue
        self.time = time
        self.evidence = evidence
    }

    public init(jsonLine line: some StringProtocol) throws(ScoreInputError) {
        guard let alert = AlertLine(json: line), let time = alert.eventTime else {
            throw ScoreInputError(message: "not an alert line")
        }
        self.init(
            rule: alert.rule, keyType: alert.key.type, keyValue: alert.key.value, time: time,
            evidence: alert.evidence.map(\.id))
    }
}

/// One rule's detection figures.
public struct RuleScore: Sendable, Equatable {
    public var rule: String
    /// Planted incidents the rule should have alerted on.
    public var incidents = 0
    public var detected = 0
    public var missed: Int { incidents - detected }
    /// Alerts matching no incident (those matching a near miss included).
    public var falseAlerts = 0
    /// Of the false alerts, those about a planted near miss.
    public var nearMissAlerts = 0
    /// Further alerts about an incident already detected: noise, but not false; not in precision.
    public var repeats = 0
    public var nearMisses = 0

    /// nil without incidents.
    public var recall: Double? { incidents == 0 ? nil : Double(detected) / Double(incidents) }
    /// nil without alerts.
    public var precision: Double? {
        detected + falseAlerts == 0 ? nil : Double(detected) / Double(detected + falseAlerts)
    }

    public init(rule: String) {
        self.rule = rule
    }

    mutating func add(_ other: RuleScore) {
        incidents += other.incidents
        detected += other.detected
        falseAlerts += other.falseAlerts
        nearMissAlerts += other.nearMissAlerts
        repeats += other.repeats
        nearMisses += other.nearMisses
    }
}

/// Scores alerts against ground truth.
///
/// An alert matches a label when the rule, key type and key value are equal and the alert
/// is about the incident's events: one of its evidence ids is among the label's events, or
/// its time lies within the label's [from, until]. Alerts are taken in file order; an alert
/// matching incidents not yet detected detects the earliest of them (a true positive); one
/// matching only detected incidents is a repeat; any other alert is false (a near-miss alert
/// if it matches a near-miss label). recall = detected / incidents; precision =
/// detected / (detected + false).
public struct Score: Sendable, Equatable {
    public var rules: [RuleScore]
    public var total: RuleScore

    public init(truth: [Label], alerts: [ScoredAlert]) {
        var byRule: [String: RuleScore] = [:]
        var positives: [String: [Int]] = [:]
        var nearMisses: [String: [Int]] = [:]
        for (index, label) in truth.enumerated() {
            let key = Self.key(label.rule, label.keyType, label.keyValue)
            if label.fire {
                byRule[label.rule, default: RuleScore(rule: label.rule)].incidents += 1
                positives[key, default: []].append(index)
            } else {
                byRule[label.rule, default: RuleScore(rule: label.rule)].nearMisses += 1
                nearMisses[key, default: []].append(index)
            }
        }
        var detected = Set<Int>()
        for alert in alerts {
            let key = Self.key(alert.rule, alert.keyType, alert.keyValue)
            let evidence = Set(alert.evidence)
            let about: (Int) -> Bool = { index in
                let label = truth[index]
                return (label.from...label.until).contains(alert.time) || label.events.contains(where: evidence.contains)
            }
            var score = byRule[alert.rule] ?? RuleScore(rule: alert.rule)
            let candidates = (positives[key] ?? []).filter(about)
            if let first = candidates.filter({ !detected.contains($0) }).min(by: { truth[$0].from < truth[$1].from }) {
                detected.insert(first)
                score.detected += 1
            } else if !candidates.isEmpty {
                score.repeats += 1
            } else {
                score.falseAlerts += 1
                if (nearMisses[key] ?? []).contains(where: about) { score.nearMissAlerts += 1 }
            }
            byRule[alert.rule] = score
        }
        rules = byRule.values.sorted { $0.rule < $1.rule }
        var total = RuleScore(rule: "total")
        for score in rules { total.add(score) }
        self.total = total
    }

    private static func key(_ rule: String, _ type: String, _ value: String) -> String {
        rule + "\u{0}" + type + "\u{0}" + value
    }

    /// Rules (and the total) below the thresholds, each with the reason.
    public func failures(minRecall: Double?, minPrecision: Double?) -> [String] {
        var failures: [String] = []
        for score in rules + [total] {
            if let minRecall, let recall = score.recall, recall < minRecall {
                failures.append("\(score.rule): recall \(Self.format(recall)) < \(Self.format(minRecall))")
            }
            if let minPrecision, let precision = score.precision, precision < minPrecision {
                failures.append("\(score.rule): precision \(Self.format(precision)) < \(Self.format(minPrecision))")
            }
        }
        return failures
    }

    /// A fixed-width table, one row per rule and a total.
    public var table: String {
        let header = ["rule", "incidents", "detected", "missed", "false", "near-miss", "repeats", "recall", "precision"]
        var rows = [header]
        for score in rules + [total] {
            rows.append([
                score.rule, "\(score.incidents)", "\(score.detected)", "\(score.missed)", "\(score.falseAlerts)",
                "\(score.nearMissAlerts)/\(score.nearMisses)", "\(score.repeats)", score.recall.map(Self.format) ?? "-",
                score.precision.map(Self.format) ?? "-",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - String(scaled % 1000).count))\(scaled % 1000)"
    }
}
