import KordonEvents

/// Serialises events as canonical JSON lines under contract v1: members in the
/// contract's order, absent optionals left out, no white space, integral numbers
/// without a fraction, times in UTC. Bytes are appended to a caller's buffer so a
/// stream is written without a String per event.
public struct EventWriter: Sendable {
    public init() {}

    /// Appends `event` as one JSON object followed by a newline.
    public func appendLine(_ event: Event, to out: inout [UInt8]) {
        append(event, to: &out)
        out.append(0x0A)
    }

    public func append(_ event: Event, to out: inout [UInt8]) {
        var json = JSONBytes(out: out)
        out = []
        json.open()
        json.key("v")
        json.integer(event.version)
        json.key("id")
        json.string(event.id)
        json.key("kind")
        json.raw(event.kind.rawValue)
        json.key("time")
        json.time(event.time)
        if let source = event.source {
            json.key("source")
            json.string(source)
        }
        switch event.body {
        case .crossing(let crossing): write(crossing, &json)
        case .inspection(let inspection): write(inspection, &json)
        case .patrol(let patrol): write(patrol, &json)
        case .sensor(let sensor): write(sensor, &json)
        case .vessel(let vessel): write(vessel, &json)
        }
        json.close()
        out = json.out
    }

    public func line(_ event: Event) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        appendLine(event, to: &out)
        return out
    }

    private func write(_ crossing: Crossing, _ json: inout JSONBytes) {
        json.member("checkpoint", crossing.checkpoint)
        json.member("country", crossing.country)
        json.key("direction")
        json.raw(crossing.direction.rawValue)
        if let persons = crossing.persons {
            json.key("persons")
            json.array(persons) { json, person in
                json.open()
                json.member("doc", person.doc)
                if let role = person.role {
                    json.key("role")
                    json.raw(role.rawValue)
                }
                json.member("minor", person.minor)
                json.member("docHolder", person.docHolder)
                json.close()
            }
        }
        if let vehicle = crossing.vehicle {
            json.key("vehicle")
            json.open()
            json.member("plate", vehicle.plate)
            if let type = vehicle.type {
                json.key("type")
                json.raw(type.rawValue)
            }
            json.member("trailer", vehicle.trailer)
            json.member("declaredWeightKg", vehicle.declaredWeightKg)
            json.member("measuredWeightKg", vehicle.measuredWeightKg)
            json.close()
        }
        if let goods = crossing.goods {
            json.key("goods")
            json.array(goods) { json, item in
                json.open()
                json.member("hs", item.hs)
                json.member("description", item.description)
                json.member("quantity", item.quantity)
                json.member("unit", item.unit)
                json.member("weightKg", item.weightKg)
                json.member("valueUsd", item.valueUsd)
                json.member("substance", item.substance)
                json.member("origin", item.origin)
                json.close()
            }
        }
        if let permits = crossing.permits {
            json.key("permits")
            json.array(permits) { json, permit in
                json.open()
                json.member("id", permit.id)
                json.key("type")
                json.raw(permit.type.rawValue)
                switch permit.validUntil {
                case .date(let date)?:
                    json.key("validUntil")
                    json.raw(date.description)
                case .instant(let time)?:
                    json.key("validUntil")
                    json.time(time)
                case nil:
                    break
                }
                if let covers = permit.covers {
                    json.key("covers")
                    json.array(covers) { json, prefix in json.string(prefix) }
                }
                json.close()
            }
        }
        json.member("officer", crossing.officer)
        json.member("lane", crossing.lane)
        json.member("released", crossing.released)
    }

    private func write(_ inspection: Inspection, _ json: inout JSONBytes) {
        json.member("crossingId", inspection.crossingId)
        json.member("checkpoint", inspection.checkpoint)
        json.key("method")
        json.raw(inspection.method.rawValue)
        json.key("findings")
        json.array(inspection.findings) { json, finding in
            json.open()
            json.key("category")
            json.raw(finding.category.rawValue)
            json.member("description", finding.description)
            json.member("substance", finding.substance)
            json.member("quantity", finding.quantity)
            json.member("unit", finding.unit)
            json.member("weightKg", finding.weightKg)
            json.member("hs", finding.hs)
            json.member("declared", finding.declared)
            json.member("concealed", finding.concealed)
            json.member("canineAlert", finding.canineAlert)
            json.close()
        }
        json.member("officer", inspection.officer)
        json.member("durationSec", inspection.durationSec)
    }

    private func write(_ patrol: Patrol, _ json: inout JSONBytes) {
        json.member("unit", patrol.unit)
        json.member("sector", patrol.sector)
        json.position(patrol.position)
        json.key("observation")
        json.raw(patrol.observation.rawValue)
        if let count = patrol.count {
            json.key("count")
            json.integer(count)
        }
        json.member("headingDeg", patrol.headingDeg)
        json.member("pillar", patrol.pillar)
        json.member("note", patrol.note)
    }

    private func write(_ sensor: Sensor, _ json: inout JSONBytes) {
        json.member("sensor", sensor.sensor)
        json.key("sensorType")
        json.raw(sensor.sensorType.rawValue)
        json.position(sensor.position)
        json.key("detection")
        json.raw(sensor.detection.rawValue)
        json.member("confidence", sensor.confidence)
        if let count = sensor.count {
            json.key("count")
            json.integer(count)
        }
        json.member("sector", sensor.sector)
    }

    private func write(_ vessel: Vessel, _ json: inout JSONBytes) {
        json.member("vessel", vessel.vessel)
        json.position(vessel.position)
        json.member("speedKn", vessel.speedKn)
        json.member("headingDeg", vessel.headingDeg)
        json.member("ais", vessel.ais)
        if let activity = vessel.activity {
            json.key("activity")
            json.raw(activity.rawValue)
        }
    }
}

/// The byte-level JSON emitter behind `EventWriter` and the labels file.
struct JSONBytes {
    var out: [UInt8]
    private var needsComma = false

    init(out: [UInt8] = []) {
        self.out = out
    }

    mutating func open() {
        comma()
        out.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        out.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<C: Collection>(_ items: C, _ element: (inout JSONBytes, C.Element) -> Void) {
        comma()
        out.append(UInt8(ascii: "["))
        needsComma = false
        for item in items { element(&self, item) }
        out.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func key(_ name: StaticString) {
        comma()
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func member(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }

    mutating func member(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func member(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        comma()
        out.append(contentsOf: value ? "true".utf8 : "false".utf8)
        needsComma = true
    }

    mutating func position(_ position: Position) {
        key("position")
        open()
        member("lat", position.lat)
        member("lon", position.lon)
        close()
    }

    /// A string known to need no escaping (enum values, dates).
    mutating func raw(_ value: String) {
        comma()
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func string(_ value: String) {
        comma()
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(Self.hex[Int(byte >> 4)])
                out.append(Self.hex[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func integer(_ value: Int) {
        comma()
        digits(value)
        needsComma = true
    }

    /// Integral values print as integer tokens (`18200`), others in Swift's shortest
    /// round-trip form, which is deterministic and valid JSON.
    mutating func number(_ value: Double) {
        comma()
        if value == value.rounded(), abs(value) < 1e15 {
            digits(Int(value))
        } else {
            out.append(contentsOf: value.description.utf8)
        }
        needsComma = true
    }

    /// RFC 3339 in UTC, a fraction only when non-zero.
    mutating func time(_ time: Timestamp) {
        comma()
        let ns = time.nanosecondsSinceEpoch
        var seconds = ns / 1_000_000_000
        var fraction = ns % 1_000_000_000
        if fraction < 0 {
            seconds -= 1
            fraction += 1_000_000_000
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: CalendarDate(daysSinceEpoch: Int(days)).description.utf8)
        out.append(UInt8(ascii: "T"))
        two(Int(secondOfDay / 3600))
        out.append(UInt8(ascii: ":"))
        two(Int(secondOfDay / 60 % 60))
        out.append(UInt8(ascii: ":"))
        two(Int(secondOfDay % 60))
        if fraction > 0 {
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            out.append(UInt8(ascii: "."))
            let start = out.count
            for _ in 0..<width { out.append(UInt8(ascii: "0")) }
            var index = start + width - 1
            while fraction > 0 {
                out[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
                index -= 1
            }
        }
        out.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
        needsComma = true
    }

    private mutating func two(_ value: Int) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func digits(_ value: Int) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            digits(-value)
            return
        }
        if value >= 10 { digits(value / 10) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func comma() {
        if needsComma { out.append(UInt8(ascii: ",")) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}
