import KordonEvents
import PropertyBased
import Testing

/// Random valid events survive a JSON round trip; random damage never crashes the decoder.
@Suite struct PropertyTests {
    @Test func randomEventsRoundTrip() async {
        await propertyCheck(count: 400, input: Self.events) { sample in
            let result = decoder.decode(sample.json)
            #expect(result == .success(sample.event), "\(sample.json)")
        }
    }

    @Test func mutatedEventsNeverCrash() async {
        await propertyCheck(count: 300, input: Self.events, Gen.uint64(in: 0 ... .max)) { sample, seed in
            var random = SplitMix(state: seed)
            let original = Array(sample.json.utf8)
            for _ in 0..<40 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    mutate(&bytes, using: &random)
                }
                switch decoder.decode(bytes) {
                case .success(let event):
                    #expect(!event.id.isEmpty)
                case .failure(let rejection):
                    #expect(!rejection.path.isEmpty)
                    #expect(!rejection.reason.isEmpty)
                }
            }
        }
    }

    @Test func doublesRoundTripThroughTheirShortestText() async {
        await propertyCheck(count: 1000, input: Gen.uint64(in: 0 ... .max)) { bits in
            let value = abs(Double(bitPattern: bits))
            guard value.isFinite else { return }
            let json = Samples.crossing.setting("goods[0].valueUsd", to: .raw(String(value)))
            let result = decoder.decode(json.json)
            guard case .success(let event) = result, case .crossing(let crossing) = event.body else {
                Issue.record("\(value) rejected: \(result)")
                return
            }
            #expect(crossing.goods?.first?.valueUsd == value)
        }
    }

    // MARK: - Damage

    private func mutate(_ bytes: inout [UInt8], using random: inout SplitMix) {
        let interesting: [UInt8] = Array("{}[]\",:\\0123456789-.eE ntfu".utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0 where !bytes.isEmpty:
            bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
        case 1:
            bytes.insert(interesting.randomElement(using: &random) ?? 0, at: at)
        case 2 where !bytes.isEmpty:
            bytes.remove(at: at)
        case 3:
            bytes.removeSubrange(at...)
        case 4 where !bytes.isEmpty:
            bytes[at] = interesting.randomElement(using: &random) ?? 0
        default:
            let length = Int.random(in: 0...8, using: &random)
            let start = Int.random(in: 0...max(0, bytes.count - length), using: &random)
            bytes.insert(contentsOf: bytes[start..<min(bytes.count, start + length)], at: at)
        }
    }

    // MARK: - Random valid events and a writer for them

    struct Sample: Sendable, CustomStringConvertible {
        var event: Event
        var json: String
        var description: String { json }
    }

    static let events = Generator<Sample, Shrink.None<Sample>>(run: { rng in
        let writer = Writer(random: SplitMix(state: rng.next()))
        let event = writer.randomEvent()
        return Sample(event: event, json: writer.write(event))
    })
}

/// SplitMix64, so one seed from the property checker drives everything.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds random contract-valid events and writes them as JSON in randomly varied but equivalent ways:
/// absent or null optionals, escaped or literal non-ASCII, offsets other than Z, shuffled members, white space.
final class Writer {
    var random: SplitMix
    private var escapeNonASCII = false

    init(random: SplitMix) {
        self.random = random
    }

    private func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
    private func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
    private func maybe<T>(_ make: (Writer) -> T) -> T? { chance(50) ? make(self) : nil }

    private static let characters: [String] = [
        "a", "Z", "0", "-", "/", " ", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "ß", "中", "😀", "\u{FEFF}",
        "\u{2028}",
    ]

    private func text(nonEmpty: Bool = true) -> String {
        let length = Int.random(in: (nonEmpty ? 1 : 0)...24, using: &random)
        return (0..<length).map { _ in chance(70) ? String(UnicodeScalar(UInt8.random(in: 0x61...0x7A, using: &random))) : pick(Self.characters) }.joined()
    }

    private func digits(_ range: ClosedRange<Int>) -> String {
        (0..<Int.random(in: range, using: &random)).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined()
    }

    private func country() -> String {
        String((0..<2).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x41...0x5A, using: &random))) })
    }

    private func amount() -> Double {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: Double(Int.random(in: 0...100_000, using: &random))
        case 1: Double(Int.random(in: 0...10_000_000, using: &random)) / 100
        case 2: Double.random(in: 0...1e6, using: &random)
        default: abs(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF))
        }
    }

    private func position() -> Position {
        Position(lat: chance(10) ? pick([-90, 90]) : Double.random(in: -90...90, using: &random),
                 lon: chance(10) ? pick([-180, 180]) : Double.random(in: -180...180, using: &random))
    }

    private func timestamp() -> Timestamp {
        // Years 1700 to 2200, leaving room for any offset.
        let seconds = Int64.random(in: -8_520_336_000...7_258_118_400, using: &random)
        let nanos = chance(50) ? 0 : Int64.random(in: 0..<1_000_000_000, using: &random)
        return Timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000 + nanos)
    }

    func randomEvent() -> Event {
        let body: Event.Body
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            body = .crossing(
                Crossing(
                    checkpoint: text(), country: country(), direction: pick(Direction.allCases),
                    persons: maybe { w in (0..<Int.random(in: 0...3, using: &w.random)).map { _ in w.person() } },
                    vehicle: maybe { $0.vehicle() },
                    goods: maybe { w in (0..<Int.random(in: 0...3, using: &w.random)).map { _ in w.goods() } },
                    permits: maybe { w in (0..<Int.random(in: 0...2, using: &w.random)).map { _ in w.permit() } },
                    officer: maybe { $0.text(nonEmpty: false) }, lane: maybe { $0.text() },
                    released: maybe { $0.chance(50) }))
        case 1:
            body = .inspection(
                Inspection(
                    crossingId: text(), checkpoint: text(), method: pick(InspectionMethod.allCases),
                    findings: (0..<Int.random(in: 0...3, using: &random)).map { _ in finding() },
                    officer: maybe { $0.text() }, durationSec: maybe { $0.amount() }))
        case 2:
            body = .patrol(
                Patrol(
                    unit: text(), sector: maybe { $0.text() }, position: position(),
                    observation: pick(Observation.allCases), count: maybe { Int.random(in: 0 ... .max, using: &$0.random) },
                    headingDeg: maybe { Double.random(in: 0...360, using: &$0.random) }, pillar: maybe { $0.text() },
                    note: maybe { $0.text(nonEmpty: false) }))
        case 3:
            body = .sensor(
                Sensor(
                    sensor: text(), sensorType: pick(SensorType.allCases), position: position(),
                    detection: pick(Detection.allCases),
                    confidence: chance(30) ? pick([0, 1]) : Double.random(in: 0...1, using: &random),
                    count: maybe { Int.random(in: 0...1000, using: &$0.random) }, sector: maybe { $0.text() }))
        default:
            body = .vessel(
                Vessel(
                    vessel: text(), position: position(), speedKn: maybe { $0.amount() },
                    headingDeg: maybe { Double.random(in: 0...360, using: &$0.random) }, ais: maybe { $0.chance(50) },
                    activity: maybe { $0.pick(VesselActivity.allCases) }))
        }
        return Event(id: text(), time: timestamp(), source: maybe { $0.text() }, body: body)
    }

    private func person() -> Person {
        Person(doc: text(), role: maybe { $0.pick(PersonRole.allCases) }, minor: maybe { $0.chance(50) }, docHolder: maybe { $0.text() })
    }

    private func vehicle() -> Vehicle {
        Vehicle(
            plate: text(), type: maybe { $0.pick(VehicleType.allCases) }, trailer: maybe { $0.text() },
            declaredWeightKg: maybe { $0.amount() }, measuredWeightKg: maybe { $0.amount() })
    }

    private func goods() -> Goods {
        Goods(
            hs: digits(4...10), description: maybe { $0.text() }, quantity: maybe { $0.amount() },
            unit: maybe { $0.text() }, weightKg: maybe { $0.amount() }, valueUsd: maybe { $0.amount() },
            substance: maybe { $0.text() }, origin: maybe { $0.country() })
    }

    private func permit() -> Permit {
        let until: ValidUntil? = maybe { w in
            w.chance(50)
                ? .instant(w.timestamp())
                : .date(CalendarDate(daysSinceEpoch: Int.random(in: -719_528...2_932_896, using: &w.random)))
        }
        return Permit(
            id: text(), type: pick(PermitType.allCases), validUntil: until,
            covers: maybe { w in (0..<Int.random(in: 0...3, using: &w.random)).map { _ in w.digits(2...10) } })
    }

    private func finding() -> Finding {
        Finding(
            category: pick(FindingCategory.allCases), description: maybe { $0.text() }, substance: maybe { $0.text() },
            quantity: maybe { $0.amount() }, unit: maybe { $0.text() }, weightKg: maybe { $0.amount() },
            hs: maybe { $0.digits(4...10) }, declared: maybe { $0.chance(50) }, concealed: maybe { $0.chance(50) },
            canineAlert: maybe { $0.chance(50) })
    }

    // MARK: Writing

    func write(_ event: Event) -> String {
        escapeNonASCII = chance(30)
        var members: [(String, String)] = [
            ("v", "1"), ("id", string(event.id)), ("kind", string(event.kind.rawValue)),
            ("time", string(timeText(event.time))),
        ]
        optional(&members, "source", event.source.map(string))
        switch event.body {
        case .crossing(let c):
            members += [("checkpoint", string(c.checkpoint)), ("country", string(c.country)), ("direction", string(c.direction.rawValue))]
            optional(&members, "persons", c.persons.map { array($0.map(person)) })
            optional(&members, "vehicle", c.vehicle.map(vehicle))
            optional(&members, "goods", c.goods.map { array($0.map(goods)) })
            optional(&members, "permits", c.permits.map { array($0.map(permit)) })
            optional(&members, "officer", c.officer.map(string))
            optional(&members, "lane", c.lane.map(string))
            optional(&members, "released", c.released.map(String.init))
        case .inspection(let i):
            members += [
                ("crossingId", string(i.crossingId)), ("checkpoint", string(i.checkpoint)), ("method", string(i.method.rawValue)),
                ("findings", array(i.findings.map(finding))),
            ]
            optional(&members, "officer", i.officer.map(string))
            optional(&members, "durationSec", i.durationSec.map(number))
        case .patrol(let p):
            members += [("unit", string(p.unit)), ("position", position(p.position)), ("observation", string(p.observation.rawValue))]
            optional(&members, "sector", p.sector.map(string))
            optional(&members, "count", p.count.map(String.init))
            optional(&members, "headingDeg", p.headingDeg.map(number))
            optional(&members, "pillar", p.pillar.map(string))
            optional(&members, "note", p.note.map(string))
        case .sensor(let s):
            members += [
                ("sensor", string(s.sensor)), ("sensorType", string(s.sensorType.rawValue)), ("position", position(s.position)),
                ("detection", string(s.detection.rawValue)),
            ]
            optional(&members, "confidence", s.confidence == 1 && chance(50) ? nil : number(s.confidence))
            optional(&members, "count", s.count.map(String.init))
            optional(&members, "sector", s.sector.map(string))
        case .vessel(let v):
            members += [("vessel", string(v.vessel)), ("position", position(v.position))]
            optional(&members, "speedKn", v.speedKn.map(number))
            optional(&members, "headingDeg", v.headingDeg.map(number))
            optional(&members, "ais", v.ais.map(String.init))
            optional(&members, "activity", v.activity.map { string($0.rawValue) })
        }
        if chance(20) { members.append(("x-unknown", #"{"a":[1,{"b":null}],"c":"d"}"#)) }
        return object(members)
    }

    private func optional(_ members: inout [(String, String)], _ key: String, _ value: String?) {
        if let value {
            members.append((key, value))
        } else if chance(30) {
            members.append((key, "null"))
        }
    }

    private func object(_ members: [(String, String)]) -> String {
        let space = chance(10) ? " \n" : ""
        let ordered = chance(30) ? members.shuffled(using: &random) : members
        return "{" + space + ordered.map { string($0.0) + space + ":" + $0.1 }.joined(separator: "," + space) + "}"
    }

    private func array(_ elements: [String]) -> String { "[" + elements.joined(separator: ",") + "]" }

    private func string(_ text: String) -> String { jsonString(text, escapeNonASCII: escapeNonASCII) }

    private func number(_ value: Double) -> String { String(value) }

    private func timeText(_ time: Timestamp) -> String {
        let minutes = chance(50) ? 0 : Int.random(in: -(23 * 60 + 59)...(23 * 60 + 59), using: &random)
        let local = Timestamp(nanosecondsSinceEpoch: time.nanosecondsSinceEpoch + Int64(minutes) * 60_000_000_000).rfc3339
        guard minutes != 0 || chance(50) else { return local }
        let sign = minutes < 0 ? "-" : "+"
        let hh = abs(minutes) / 60
        let mm = abs(minutes) % 60
        return local.dropLast() + sign + (hh < 10 ? "0" : "") + String(hh) + ":" + (mm < 10 ? "0" : "") + String(mm)
    }

    private func person(_ p: Person) -> String {
        var members = [("doc", string(p.doc))]
        optional(&members, "role", p.role.map { string($0.rawValue) })
        optional(&members, "minor", p.minor.map(String.init))
        optional(&members, "docHolder", p.docHolder.map(string))
        return object(members)
    }

    private func vehicle(_ v: Vehicle) -> String {
        var members = [("plate", string(v.plate))]
        optional(&members, "type", v.type.map { string($0.rawValue) })
        optional(&members, "trailer", v.trailer.map(string))
        optional(&members, "declaredWeightKg", v.declaredWeightKg.map(number))
        optional(&members, "measuredWeightKg", v.measuredWeightKg.map(number))
        return object(members)
    }

    private func goods(_ g: Goods) -> String {
        var members = [("hs", string(g.hs))]
        optional(&members, "description", g.description.map(string))
        optional(&members, "quantity", g.quantity.map(number))
        optional(&members, "unit", g.unit.map(string))
        optional(&members, "weightKg", g.weightKg.map(number))
        optional(&members, "valueUsd", g.valueUsd.map(number))
        optional(&members, "substance", g.substance.map(string))
        optional(&members, "origin", g.origin.map(string))
        return object(members)
    }

    private func permit(_ p: Permit) -> String {
        var members = [("id", string(p.id)), ("type", string(p.type.rawValue))]
        optional(
            &members, "validUntil",
            p.validUntil.map { until in
                switch until {
                case .date(let date): string(date.description)
                case .instant(let time): string(time.rfc3339)
                }
            })
        optional(&members, "covers", p.covers.map { array($0.map(string)) })
        return object(members)
    }

    private func finding(_ f: Finding) -> String {
        var members = [("category", string(f.category.rawValue))]
        optional(&members, "description", f.description.map(string))
        optional(&members, "substance", f.substance.map(string))
        optional(&members, "quantity", f.quantity.map(number))
        optional(&members, "unit", f.unit.map(string))
        optional(&members, "weightKg", f.weightKg.map(number))
        optional(&members, "hs", f.hs.map(string))
        optional(&members, "declared", f.declared.map(String.init))
        optional(&members, "concealed", f.concealed.map(String.init))
        optional(&members, "canineAlert", f.canineAlert.map(String.init))
        return object(members)
    }

    private func position(_ p: Position) -> String {
        object([("lat", number(p.lat)), ("lon", number(p.lon))])
    }
}
