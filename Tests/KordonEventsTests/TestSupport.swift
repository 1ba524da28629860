import KordonEvents
import Testing

/// A JSON value written as a Swift literal, members kept in the order written.
indirect enum J: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral,
    Sendable
{
    case string(String)
    /// A number, or any other text, written as is.
    case raw(String)
    case bool(Bool)
    case null
    case array([J])
    case object([(String, J)])

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .raw(String(value)) }
    init(floatLiteral value: Double) { self = .raw(String(value)) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: J...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, J)...) { self = .object(elements) }
    init(nilLiteral: ()) { self = .null }

    var json: String {
        switch self {
        case .string(let text): jsonString(text)
        case .raw(let text): text
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .array(let elements): "[" + elements.map(\.json).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.map { jsonString($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    /// This value with the member or element at `path` (`vehicle.plate`, `goods[0].hs`) replaced,
    /// added at the end when missing, or removed when `value` is nil.
    func setting(_ path: String, to value: J?) -> J {
        setting(steps(path)[...], to: value)
    }

    private func setting(_ steps: ArraySlice<Step>, to value: J?) -> J {
        guard let step = steps.first else { return value ?? self }
        let rest = steps.dropFirst()
        switch (self, step) {
        case (.object(var members), .key(let key)):
            if let at = members.firstIndex(where: { $0.0 == key }) {
                if rest.isEmpty, value == nil {
                    members.remove(at: at)
                } else {
                    members[at].1 = members[at].1.setting(rest, to: value)
                }
            } else if rest.isEmpty, let value {
                members.append((key, value))
            }
            return .object(members)
        case (.array(var elements), .index(let index)):
            if rest.isEmpty, value == nil {
                elements.remove(at: index)
            } else {
                elements[index] = elements[index].setting(rest, to: value)
            }
            return .array(elements)
        default:
            Issue.record("no \(step) in \(json)")
            return self
        }
    }

    private enum Step {
        case key(String)
        case index(Int)
    }

    private func steps(_ path: String) -> [Step] {
        var steps: [Step] = []
        for part in path.split(separator: ".") {
            var name = part
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                indexes.insert(Int(name[name.index(after: open)..<name.index(before: name.endIndex)])!, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { steps.append(.key(String(name))) }
            steps += indexes.map(Step.index)
        }
        return steps
    }
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped.
func jsonString(_ text: String, escapeNonASCII: Bool = false) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\u{00}"..."\u{1F}": out += unicodeEscape(scalar.value)
        case "\u{80}"... where escapeNonASCII:
            for unit in String(scalar).utf16 { out += unicodeEscape(UInt32(unit)) }
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func unicodeEscape(_ unit: UInt32) -> String {
    let hex = String(unit, radix: 16)
    return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
}

let decoder = EventDecoder()

/// The rejection of `json` as `path: reason`, or nil when it decodes.
func rejection(_ json: String) -> String? {
    switch decoder.decode(json) {
    case .success: nil
    case .failure(let rejection): rejection.description
    }
}

func rejection(_ json: J) -> String? {
    rejection(json.json)
}

func decoded(_ json: J) throws -> Event {
    try decoder.decode(json.json).get()
}

func time(_ text: String) -> Timestamp {
    Timestamp(rfc3339: text) ?? Timestamp(nanosecondsSinceEpoch: .min)
}

// MARK: - Complete and minimal events of every kind

enum Samples {
    static let crossing: J = [
        "v": 1, "id": "c-1", "kind": "crossing", "time": "2026-11-28T06:14:03.5+05:00", "source": "KZ-BS/1",
        "checkpoint": "KZ-PETROPAVL-1", "country": "KZ", "direction": "entry",
        "persons": [["doc": "D1", "role": "driver", "minor": false, "docHolder": "D0"]],
        "vehicle": ["plate": "P1", "type": "van", "trailer": "T1", "declaredWeightKg": 1.5, "measuredWeightKg": 2],
        "goods": [
            [
                "hs": "0703", "description": "onions", "quantity": 3, "unit": "t", "weightKg": 10, "valueUsd": 20.25,
                "substance": "none", "origin": "UZ",
            ]
        ],
        "permits": [
            ["id": "PR1", "type": "timber-origin", "validUntil": "2027-01-31", "covers": ["44", "4403"]],
            ["id": "PR2", "type": "weapon", "validUntil": "2027-01-31T12:00:00Z"],
        ],
        "officer": "O1", "lane": "3", "released": true,
    ]

    static let crossingEvent = Event(
        id: "c-1", time: time("2026-11-28T01:14:03.5Z"), source: "KZ-BS/1",
        body: .crossing(
            Crossing(
                checkpoint: "KZ-PETROPAVL-1", country: "KZ", direction: .entry,
                persons: [Person(doc: "D1", role: .driver, minor: false, docHolder: "D0")],
                vehicle: Vehicle(plate: "P1", type: .van, trailer: "T1", declaredWeightKg: 1.5, measuredWeightKg: 2),
                goods: [
                    Goods(
                        hs: "0703", description: "onions", quantity: 3, unit: "t", weightKg: 10, valueUsd: 20.25,
                        substance: "none", origin: "UZ")
                ],
                permits: [
                    Permit(
                        id: "PR1", type: .timberOrigin,
                        validUntil: .date(CalendarDate(year: 2027, month: 1, day: 31)!), covers: ["44", "4403"]),
                    Permit(id: "PR2", type: .weapon, validUntil: .instant(time("2027-01-31T12:00:00Z"))),
                ],
                officer: "O1", lane: "3", released: true)))

    static let inspection: J = [
        "v": 1, "id": "i-1", "kind": "inspection", "time": "2026-11-28T06:41:00Z", "source": "S",
        "crossingId": "c-1", "checkpoint": "KZ-PETROPAVL-1", "method": "canine",
        "findings": [
            [
                "category": "consumer-goods", "description": "phones", "substance": "none", "quantity": 40,
                "unit": "pcs", "weightKg": 8.5, "hs": "851712", "declared": false, "concealed": true,
                "canineAlert": false,
            ]
        ],
        "officer": "O2", "durationSec": 1500,
    ]

    static let inspectionEvent = Event(
        id: "i-1", time: time("2026-11-28T06:41:00Z"), source: "S",
        body: .inspection(
            Inspection(
                crossingId: "c-1", checkpoint: "KZ-PETROPAVL-1", method: .canine,
                findings: [
                    Finding(
                        category: .consumerGoods, description: "phones", substance: "none", quantity: 40,
                        unit: "pcs", weightKg: 8.5, hs: "851712", declared: false, concealed: true,
                        canineAlert: false)
                ],
                officer: "O2", durationSec: 1500)))

    static let patrol: J = [
        "v": 1, "id": "p-1", "kind": "patrol", "time": "2026-11-28T02:00:00-03:30", "source": "S",
        "unit": "PU-1", "sector": "SEC-1", "position": ["lat": 54.5, "lon": 69.25], "observation": "pillar-damaged",
        "count": 2, "headingDeg": 270, "pillar": "P-17", "note": "bent",
    ]

    static let patrolEvent = Event(
        id: "p-1", time: time("2026-11-28T05:30:00Z"), source: "S",
        body: .patrol(
            Patrol(
                unit: "PU-1", sector: "SEC-1", position: Position(lat: 54.5, lon: 69.25),
                observation: .pillarDamaged, count: 2, headingDeg: 270, pillar: "P-17", note: "bent")))

    static let sensor: J = [
        "v": 1, "id": "s-1", "kind": "sensor", "time": "2026-11-28T02:10:40Z", "source": "S",
        "sensor": "S-1", "sensorType": "fence", "position": ["lat": -1.5, "lon": -70], "detection": "tamper",
        "confidence": 0.25, "count": 0, "sector": "SEC-2",
    ]

    static let sensorEvent = Event(
        id: "s-1", time: time("2026-11-28T02:10:40Z"), source: "S",
        body: .sensor(
            Sensor(
                sensor: "S-1", sensorType: .fence, position: Position(lat: -1.5, lon: -70), detection: .tamper,
                confidence: 0.25, count: 0, sector: "SEC-2")))

    static let vessel: J = [
        "v": 1, "id": "v-1", "kind": "vessel", "time": "2026-05-03T04:00:00Z", "source": "S",
        "vessel": "273000001", "position": ["lat": 45.91, "lon": 50.22], "speedKn": 0, "headingDeg": 359.5,
        "ais": true, "activity": "drifting",
    ]

    static let vesselEvent = Event(
        id: "v-1", time: time("2026-05-03T04:00:00Z"), source: "S",
        body: .vessel(
            Vessel(
                vessel: "273000001", position: Position(lat: 45.91, lon: 50.22), speedKn: 0, headingDeg: 359.5,
                ais: true, activity: .drifting)))

    static func complete(_ kind: EventKind) -> J {
        switch kind {
        case .crossing: crossing
        case .inspection: inspection
        case .patrol: patrol
        case .sensor: sensor
        case .vessel: vessel
        }
    }

    /// Every optional member of each kind, as paths for `J.setting`.
    static let optionalPaths: [EventKind: [String]] = [
        .crossing: [
            "source", "persons", "persons[0].role", "persons[0].minor", "persons[0].docHolder", "vehicle",
            "vehicle.type", "vehicle.trailer", "vehicle.declaredWeightKg", "vehicle.measuredWeightKg", "goods",
            "goods[0].description", "goods[0].quantity", "goods[0].unit", "goods[0].weightKg", "goods[0].valueUsd",
            "goods[0].substance", "goods[0].origin", "permits", "permits[0].validUntil", "permits[0].covers",
            "officer", "lane", "released",
        ],
        .inspection: [
            "source", "findings[0].description", "findings[0].substance", "findings[0].quantity", "findings[0].unit",
            "findings[0].weightKg", "findings[0].hs", "findings[0].declared", "findings[0].concealed",
            "findings[0].canineAlert", "officer", "durationSec",
        ],
        .patrol: ["source", "sector", "count", "headingDeg", "pillar", "note"],
        .sensor: ["source", "confidence", "count", "sector"],
        .vessel: ["source", "speedKn", "headingDeg", "ais", "activity"],
    ]
}
