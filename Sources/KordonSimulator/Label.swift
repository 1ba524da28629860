import Foundation
import KordonEvents

/// Ground truth for one planted incident and one rule: the alert that rule should
/// raise (`fire`), or, for a near miss, must not raise, about `key`.
///
/// One JSON line per label, e.g.
/// `{"incident":"sim-inc-000012","rule":"contraband.structuring","fire":true,"key":{"type":"plate","value":"123ABC15"},"variant":"four-trips-under-duty-free","from":"…","until":"…","events":["kz-petropavl-1-0000000123",…]}`;
/// an incident that should fire several rules has a line per rule. `from` and `until`
/// are the event times of the incident's first and last event, `events` their ids.
public struct Label: Sendable, Equatable {
    public var incident: String
    public var rule: String
    public var fire: Bool
    public var keyType: String
    public var keyValue: String
    /// What was planted, e.g. `undeclared-found` or `valid-permit`.
    public var variant: String
    public var from: Timestamp
    public var until: Timestamp
    public var events: [String]

    public init(
        incident: String, rule: String, fire: Bool, keyType: String, keyValue: String, variant: String,
        from: Timestamp = Timestamp(nanosecondsSinceEpoch: 0), until: Timestamp = Timestamp(nanosecondsSinceEpoch: 0),
        events: [String] = []
    ) {
        self.incident = incident
        self.rule = rule
        self.fire = fire
        self.keyType = keyType
        self.keyValue = keyValue
        self.variant = variant
        self.from = from
        self.until = until
        self.events = events
    }

    public func jsonLine() -> [UInt8] {
        var json = JSONBytes()
        json.open()
        json.member("incident", incident)
        json.member("rule", rule)
        json.member("fire", fire)
        json.key("key")
        json.open()
        json.member("type", keyType)
        json.member("value", keyValue)
        json.close()
        json.member("variant", variant)
        json.key("from")
        json.time(from)
        json.key("until")
        json.time(until)
        json.key("events")
        json.array(events) { json, id in json.string(id) }
        json.close()
        json.newline()
        return json.bytes
    }

    /// Parses one line written by `jsonLine()`.
    public init(jsonLine line: some StringProtocol) throws(ScoreInputError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let incident = object["incident"] as? String, let rule = object["rule"] as? String,
            let fire = object["fire"] as? Bool, let key = object["key"] as? [String: Any],
            let keyType = key["type"] as? String, let keyValue = key["value"] as? String,
            let fromText = object["from"] as? String, let from = Timestamp(rfc3339: fromText),
            let untilText = object["until"] as? String, let until = Timestamp(rfc3339: untilText)
        else { throw ScoreInputError(message: "not a label line") }
        self.init(
            incident: incident, rule: rule, fire: fire, keyType: keyType, keyValue: keyValue,
            variant: object["variant"] as? String ?? "", from: from, until: until,
            events: object["events"] as? [String] ?? [])
    }
}

public struct ScoreInputError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
