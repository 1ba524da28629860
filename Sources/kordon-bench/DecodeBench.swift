import ArgumentParser
import Foundation
import KordonEvents
import KordonSimulator

/// Decode throughput of `EventDecoder` against Foundation's `JSONDecoder` on the same seeded messages.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Event decoding: KordonEvents' validating decoder against Foundation's JSONDecoder.",
        discussion: """
            Builds a seeded mix of the five event kinds (crossing 45 %, inspection 10 %, patrol 10 %, \
            sensor 20 %, vessel 15 %), one message per buffer as they arrive from Kafka, and times both \
            decoders over all of them on one thread. The reference decodes the same fields into Codable \
            structs without validating them (times stay strings). Best of --rounds.
            """)

    @Option(help: "Number of events.")
    var events = 200_000

    @Option(help: "Seed for the event mix.")
    var seed: UInt64 = 42

    @Option(help: "Timed rounds per decoder; the fastest counts.")
    var rounds = 3

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
    }

    func run() throws {
        var generator = BenchEventGenerator(seed: seed)
        let messages = (0..<events).map { _ in Array(generator.next().utf8) }
        let datas = messages.map { Data($0) }
        let bytes = messages.reduce(0) { $0 + $1.count }
        print(
            "decode: \(events) events, \(String(format: "%.1f", Double(bytes) / 1e6)) MB, "
                + "\(bytes / events) bytes on average, seed \(seed)")

        let decoder = EventDecoder()
        for message in messages {
            if case .failure(let rejection) = decoder.decode(message) {
                throw ValidationError("generated event rejected: \(rejection)\n\(String(decoding: message, as: UTF8.self))")
            }
        }
        let ours = fastest { () -> Int in
            var decoded = 0
            for message in messages {
                if case .success = decoder.decode(message) { decoded += 1 }
            }
            return decoded
        }

        let reference = JSONDecoder()
        let theirs = try fastest { () throws -> Int in
            var decoded = 0
            for data in datas {
                _ = try reference.decode(ReferenceEvent.self, from: data)
                decoded += 1
            }
            return decoded
        }

        report("KordonEvents.EventDecoder", ours, bytes)
        report("Foundation.JSONDecoder", theirs, bytes)
        print("  ratio: \(String(format: "%.1f", theirs / ours))x")
    }

    /// The shortest of `rounds` runs of `body`, which returns how many events it decoded.
    private func fastest(_ body: () throws -> Int) rethrows -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            var decoded = 0
            let elapsed = try clock.measure { decoded = try body() }
            precondition(decoded == events, "every generated event decodes")
            best = min(best, seconds(elapsed))
        }
        return best
    }

    private func report(_ name: String, _ seconds: Double, _ bytes: Int) {
        let rate = Double(events) / seconds
        let throughput = Double(bytes) / seconds / 1e6
        print(
            "  \(name.padding(toLength: 28, withPad: " ", startingAt: 0))"
                + "\(String(format: "%12.0f", rate)) events/s \(String(format: "%9.1f", throughput)) MB/s")
    }
}

// MARK: - Seeded event mix

/// Realistic contract-valid messages with varied optional fields.
struct BenchEventGenerator {
    private var random: SplitMix64
    private var serial = 0

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    private static let checkpoints = [
        ("KZ-PETROPAVL-1", "KZ"), ("RU-PETUKHOVO-1", "RU"), ("KZ-ZHAISAN-2", "KZ"), ("RU-ORENBURG-3", "RU"),
        ("KZ-SYRYM-1", "KZ"), ("RU-MASHTAKOVO-1", "RU"),
    ]
    private static let goods = [
        ("0703", "onions"), ("0805", "citrus fruit"), ("2710", "diesel fuel"), ("4403", "rough timber"),
        ("8703", "passenger cars"), ("9303", "hunting rifles"), ("3004", "medicaments"), ("6204", "garments"),
    ]

    mutating func next() -> String {
        serial += 1
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<45: return crossing()
        case 45..<55: return inspection()
        case 55..<65: return patrol()
        case 65..<85: return sensor()
        default: return vessel()
        }
    }

    private mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    private mutating func number(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    private mutating func decimal(_ range: ClosedRange<Double>, places: Int) -> String {
        String(format: "%.\(places)f", Double.random(in: range, using: &random))
    }

    private mutating func time() -> String {
        let day = number(1...28)
        let (hour, minute, second) = (number(0...23), number(0...59), number(0...59))
        let base = String(format: "2026-11-%02d", day)
        if chance(50) {
            return String(format: "%@T%02d:%02d:%02dZ", base, hour, minute, second)
        }
        return String(format: "%@T%02d:%02d:%02d.%03d+05:00", base, hour, minute, second, number(0...999))
    }

    private mutating func common(_ kind: String, _ prefix: String) -> String {
        var text = #"{"v":1,"id":"\#(prefix)-\#(String(format: "%08d", serial))","kind":"\#(kind)","time":"\#(time())""#
        if chance(80) { text += #","source":"\#(prefix.uppercased())/NODE-\#(number(1...9))""# }
        return text
    }

    private mutating func crossing() -> String {
        let (checkpoint, country) = Self.checkpoints[number(0...Self.checkpoints.count - 1)]
        var text = common("crossing", country.lowercased() + "-ptr")
        text += #","checkpoint":"\#(checkpoint)","country":"\#(country)","direction":"\#(chance(50) ? "exit" : "entry")""#
        let persons = (0..<number(1...4)).map { index -> String in
            var person = #"{"doc":"N\#(number(1_000_000...9_999_999))","role":"\#(index == 0 ? "driver" : "passenger")""#
            if chance(20) { person += #","minor":\#(chance(50))"# }
            if chance(10) { person += #","docHolder":"N\#(number(1_000_000...9_999_999))""# }
            return person + "}"
        }
        text += #","persons":[\#(persons.joined(separator: ","))]"#
        if chance(75) {
            let declared = number(2_000...24_000)
            text += #","vehicle":{"plate":"\#(number(100...999))ABC\#(number(10...19))","type":"\#(chance(70) ? "truck" : "car")""#
            if chance(30) { text += #","trailer":"\#(number(10...99))TR\#(number(100...999))""# }
            text += #","declaredWeightKg":\#(declared),"measuredWeightKg":\#(declared + number(-400...900))}"#
        }
        if chance(70) {
            let lines = (0..<number(1...3)).map { _ -> String in
                let (hs, description) = Self.goods[number(0...Self.goods.count - 1)]
                var line = #"{"hs":"\#(hs)","description":"\#(description)","weightKg":\#(decimal(10...20_000, places: 1))"#
                line += #","valueUsd":\#(decimal(50...9_000, places: 2))"#
                if chance(30) { line += #","quantity":\#(number(1...500)),"unit":"pcs""# }
                if chance(30) { line += #","origin":"\#(chance(50) ? "CN" : "UZ")""# }
                return line + "}"
            }
            text += #","goods":[\#(lines.joined(separator: ","))]"#
        }
        if chance(15) {
            text += #","permits":[{"id":"P-\#(number(10_000...99_999))","type":"hunting","validUntil":"2027-0\#(number(1...9))-15","covers":["93","9303"]}]"#
        }
        text += #","officer":"\#(country.lowercased())-o-\#(number(1000...9999))""#
        if chance(40) { text += #","lane":"\#(number(1...8))""# }
        if chance(80) { text += #","released":\#(chance(85))"# }
        return text + "}"
    }

    private mutating func inspection() -> String {
        let (checkpoint, country) = Self.checkpoints[number(0...Self.checkpoints.count - 1)]
        var text = common("inspection", country.lowercased() + "-ins")
        let methods = ["xray", "canine", "manual", "radiation", "weighbridge", "documents"]
        text += #","crossingId":"\#(country.lowercased())-ptr-\#(String(format: "%08d", number(1...serial)))""#
        text += #","checkpoint":"\#(checkpoint)","method":"\#(methods[number(0...methods.count - 1)])""#
        let categories = ["narcotic", "tobacco", "alcohol", "masking-agent", "currency", "weapon", "consumer-goods"]
        let findings = (0..<number(0...3)).map { _ -> String in
            var finding = #"{"category":"\#(categories[number(0...categories.count - 1)])""#
            if chance(60) { finding += #","description":"found behind the rear panel of the cargo space""# }
            if chance(50) { finding += #","weightKg":\#(decimal(0.1...50, places: 2))"# }
            if chance(20) { finding += #","substance":"hashish""# }
            finding += #","declared":\#(chance(20)),"concealed":\#(chance(60))"#
            if chance(20) { finding += #","canineAlert":true"# }
            return finding + "}"
        }
        text += #","findings":[\#(findings.joined(separator: ","))]"#
        text += #","officer":"\#(country.lowercased())-o-\#(number(1000...9999))","durationSec":\#(number(60...3600))"#
        return text + "}"
    }

    private mutating func patrol() -> String {
        var text = common("patrol", "kz-pat")
        let observations = ["footprints", "vehicle-tracks", "persons", "fence-damage", "pillar-damaged", "logging"]
        text += #","unit":"KZ-PU-\#(number(100...999))","sector":"KZ-SKO-\#(String(format: "%02d", number(1...30)))""#
        text += #","position":{"lat":\#(decimal(50...55, places: 5)),"lon":\#(decimal(60...75, places: 5))}"#
        text += #","observation":"\#(observations[number(0...observations.count - 1)])""#
        if chance(60) { text += #","count":\#(number(1...12))"# }
        if chance(50) { text += #","headingDeg":\#(number(0...359))"# }
        if chance(20) { text += #","pillar":"P-\#(number(1000...9999))""# }
        if chance(60) { text += #","note":"fresh tracks leading north towards the border strip, two sets""# }
        return text + "}"
    }

    private mutating func sensor() -> String {
        var text = common("sensor", "ru-gs")
        let types = ["seismic", "infrared", "radar", "camera", "fence", "magnetic"]
        let detections = ["human", "vehicle", "animal", "unknown", "tamper"]
        text += #","sensor":"S-ORB-\#(number(100...999))","sensorType":"\#(types[number(0...types.count - 1)])""#
        text += #","position":{"lat":\#(decimal(50...55, places: 6)),"lon":\#(decimal(55...62, places: 6))}"#
        text += #","detection":"\#(detections[number(0...detections.count - 1)])""#
        if chance(80) { text += #","confidence":\#(decimal(0...1, places: 2))"# }
        if chance(50) { text += #","count":\#(number(1...6))"# }
        text += #","sector":"RU-ORB-\#(String(format: "%02d", number(1...30)))""#
        if chance(30) { text += #","firmware":"seis-4.2.1""# }
        return text + "}"
    }

    private mutating func vessel() -> String {
        var text = common("vessel", "kz-cg")
        let activities = ["fishing", "transit", "drifting", "unknown"]
        text += #","vessel":"\#(number(273_000_000...273_999_999))""#
        text += #","position":{"lat":\#(decimal(44...47, places: 5)),"lon":\#(decimal(49...53, places: 5))}"#
        if chance(90) { text += #","speedKn":\#(decimal(0...18, places: 1))"# }
        if chance(80) { text += #","headingDeg":\#(decimal(0...359.9, places: 1))"# }
        if chance(90) { text += #","ais":\#(chance(80))"# }
        if chance(70) { text += #","activity":"\#(activities[number(0...activities.count - 1)])""# }
        return text + "}"
    }
}

// MARK: - Reference: the same fields through Codable

private struct ReferenceEvent: Decodable {
    struct Person: Decodable {
        var doc: String
        var role: String?
        var minor: Bool?
        var docHolder: String?
    }
    struct Vehicle: Decodable {
        var plate: String
        var type: String?
        var trailer: String?
        var declaredWeightKg: Double?
        var measuredWeightKg: Double?
    }
    struct Goods: Decodable {
        var hs: String
        var description: String?
        var quantity: Double?
        var unit: String?
        var weightKg: Double?
        var valueUsd: Double?
        var substance: String?
        var origin: String?
    }
    struct Permit: Decodable {
        var id: String
        var type: String
        var validUntil: String?
        var covers: [String]?
    }
    struct Finding: Decodable {
        var category: String
        var description: String?
        var substance: String?
        var quantity: Double?
        var unit: String?
        var weightKg: Double?
        var hs: String?
        var declared: Bool?
        var concealed: Bool?
        var canineAlert: Bool?
    }
    struct Position: Decodable {
        var lat: Double
        var lon: Double
    }

    var v: Int
    var id: String
    var kind: String
    var time: String
    var source: String?
    var checkpoint: String?
    var country: String?
    var direction: String?
    var persons: [Person]?
    var vehicle: Vehicle?
    var goods: [Goods]?
    var permits: [Permit]?
    var officer: String?
    var lane: String?
    var released: Bool?
    var crossingId: String?
    var method: String?
    var findings: [Finding]?
    var durationSec: Double?
    var unit: String?
    var sector: String?
    var position: Position?
    var observation: String?
    var count: Int?
    var headingDeg: Double?
    var pillar: String?
    var note: String?
    var sensor: String?
    var sensorType: String?
    var detection: String?
    var confidence: Double?
    var vessel: String?
    var speedKn: Double?
    var ais: Bool?
    var activity: String?
}
