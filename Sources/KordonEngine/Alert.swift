import Crypto
import KordonEvents

/// A scalar as rules see event fields and as alerts carry facts.
public enum Value: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
}

public enum Severity: String, Sendable, CaseIterable {
    case critical, high, medium, low
}

/// What an alert counts per: `plate`, `doc`, `sector`, `checkpoint`, `officer`, `vessel` or `zone`.
public struct AlertKey: Sendable, Hashable {
    // The one-byte type after the string, so that what follows a key in a struct can use the
    // seven bytes after it (absences and timers, kept by the million, each fit eight bytes less).
    public var value: String
    public var type: KeyType

    public init(type: KeyType, value: String) {
        self.type = type
        self.value = value
    }
}

public enum KeyType: String, Sendable, CaseIterable {
    case plate, doc, sector, checkpoint, officer, vessel, zone

    /// By case: a raw-value enum otherwise hashes its raw string, and keys are hashed on every event.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }

    var ordinal: UInt8 {
        switch self {
        case .plate: 0
        case .doc: 1
        case .sector: 2
        case .checkpoint: 3
        case .officer: 4
        case .vessel: 5
        case .zone: 6
        }
    }
}

/// One event behind an alert.
public struct Evidence: Sendable, Hashable {
    // The one-byte kind last (see `AlertKey`).
    public var id: String
    public var time: Timestamp
    public var origin: EventOrigin
    public var kind: EventKind

    public init(id: String, kind: EventKind, time: Timestamp, origin: EventOrigin) {
        self.id = id
        self.kind = kind
        self.time = time
        self.origin = origin
    }

    /// Evidence is listed oldest first; equal times by id, so the order never depends on arrival.
    static func precedes(_ a: Evidence, _ b: Evidence) -> Bool {
        a.time != b.time ? a.time < b.time : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}

public struct AlertLocation: Sendable, Equatable {
    public var checkpoint: String?
    public var country: String?
    public var direction: Direction?
    public var sector: String?
    public var zone: String?
    public var position: Position?

    public init(
        checkpoint: String? = nil, country: String? = nil, direction: Direction? = nil, sector: String? = nil,
        zone: String? = nil, position: Position? = nil
    ) {
        self.checkpoint = checkpoint
        self.country = country
        self.direction = direction
        self.sector = sector
        self.zone = zone
        self.position = position
    }
}

/// Where the engine puts alerts, one at a time as it makes them: an event can release thousands
/// of buffered ones, and a pipeline publishes each at once rather than after all are processed.
public protocol AlertSink {
    mutating func append(_ alert: Alert)
}

extension Array: AlertSink where Element == Alert {}

/// Alert contract v1 (shared/spec/alerts.md).
public struct Alert: Sendable, Equatable {
    /// The most evidence items an alert lists; `evidenceTotal` counts them all.
    public static let evidenceLimit = 50

    public var id: String
    public var rule: String
    public var category: String
    public var severity: Severity
    public var title: String
    /// Event time of the event that triggered it.
    public var time: Timestamp
    /// Wall-clock time of emission; the only field that differs between runs over the same events.
    public var emittedAt: Timestamp
    public var key: AlertKey
    public var location: AlertLocation
    /// Oldest first, at most `evidenceLimit`.
    public var evidence: [Evidence]
    public var evidenceTotal: Int
    /// Rule-specific figures, in the order the rule lists them.
    public var facts: [(name: String, value: Value)]
    /// Matches of the same rule and key swallowed since the previous alert.
    public var suppressed: Int

    /// Builds an alert with its deterministic id; `evidence` must be sorted oldest first.
    /// When there are more than `evidenceLimit` items, the most recent ones are kept,
    /// so the triggering event is always listed.
    public init(
        rule: String, category: String, severity: Severity, title: String, time: Timestamp,
        emittedAt: Timestamp, key: AlertKey, location: AlertLocation, evidence: [Evidence],
        facts: [(name: String, value: Value)], suppressed: Int
    ) {
        self.rule = rule
        self.category = category
        self.severity = severity
        self.title = title
        self.time = time
        self.emittedAt = emittedAt
        self.key = key
        self.location = location
        self.evidenceTotal = evidence.count
        self.evidence = Array(evidence.suffix(Self.evidenceLimit))
        self.facts = facts
        self.suppressed = suppressed
        self.id = Self.id(rule: rule, key: key, evidence: self.evidence, evidenceTotal: evidenceTotal)
    }

    /// The id recipe (v1): SHA-256 over the fields below, each written as its
    /// byte length (8 bytes, big-endian) followed by its UTF-8 bytes, so no
    /// choice of values can make two different inputs collide by concatenation:
    ///   "kordon-alert-v1", rule id, key type, key value,
    ///   evidenceTotal in decimal, then the listed evidence event ids, oldest first.
    /// The id is the lowercase hex of the first 16 bytes of the digest (32 characters).
    /// Nothing wall-clock dependent enters it, so reprocessing gives the same id.
    public static func id(rule: String, key: AlertKey, evidence: [Evidence], evidenceTotal: Int) -> String {
        var hasher = SHA256()
        func field(_ text: String) {
            var length = UInt64(text.utf8.count).bigEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            var text = text
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        field("kordon-alert-v1")
        field(rule)
        field(key.type.rawValue)
        field(key.value)
        field(String(evidenceTotal))
        for item in evidence { field(item.id) }
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for byte in hasher.finalize().prefix(16) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Equal when the JSON is equal byte for byte (facts hold tuples, which have no synthesised equality).
    public static func == (lhs: Alert, rhs: Alert) -> Bool {
        lhs.jsonBytes() == rhs.jsonBytes()
    }

    /// The alert as one JSON object, members in the contract's order, no white space, no newline.
    public func jsonBytes() -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("v")
        json.integer(1)
        json.key("id")
        json.string(id)
        json.key("rule")
        json.string(rule)
        json.key("category")
        json.string(category)
        json.key("severity")
        json.string(severity.rawValue)
        json.key("title")
        json.string(title)
        json.key("time")
        json.string(time.rfc3339)
        json.key("emittedAt")
        json.string(emittedAt.rfc3339)
        json.key("key")
        json.beginObject()
        json.key("type")
        json.string(key.type.rawValue)
        json.key("value")
        json.string(key.value)
        json.endObject()
        json.key("location")
        writeLocation(&json)
        json.key("evidence")
        json.beginArray()
        for item in evidence {
            json.beginObject()
            json.key("id")
            json.string(item.id)
            json.key("kind")
            json.string(item.kind.rawValue)
            json.key("time")
            json.string(item.time.rfc3339)
            json.key("topic")
            json.string(item.origin.topic)
            json.key("partition")
            json.integer(Int64(item.origin.partition))
            json.key("offset")
            json.integer(item.origin.offset)
            json.endObject()
        }
        json.endArray()
        json.key("evidenceTotal")
        json.integer(Int64(evidenceTotal))
        json.key("facts")
        json.beginObject()
        for fact in facts {
            json.key(fact.name)
            json.value(fact.value)
        }
        json.endObject()
        json.key("suppressed")
        json.integer(Int64(suppressed))
        json.endObject()
        return json.bytes
    }

    public var json: String {
        String(decoding: jsonBytes(), as: UTF8.self)
    }

    private func writeLocation(_ json: inout JSONWriter) {
        json.beginObject()
        if let checkpoint = location.checkpoint {
            json.key("checkpoint")
            json.string(checkpoint)
        }
        if let country = location.country {
            json.key("country")
            json.string(country)
        }
        if let direction = location.direction {
            json.key("direction")
            json.string(direction.rawValue)
        }
        if let sector = location.sector {
            json.key("sector")
            json.string(sector)
        }
        if let zone = location.zone {
            json.key("zone")
            json.string(zone)
        }
        if let position = location.position {
            json.key("position")
            json.beginObject()
            json.key("lat")
            json.number(position.lat)
            json.key("lon")
            json.number(position.lon)
            json.endObject()
        }
        json.endObject()
    }
}

extension JSONWriter {
    mutating func value(_ value: Value) {
        switch value {
        case .string(let text): string(text)
        case .number(let number): self.number(number)
        case .bool(let flag): bool(flag)
        }
    }
}
