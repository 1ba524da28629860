import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents
import KordonSimulator

/// Engine throughput with the whole default rulebook on a realistic mix, and peak memory with a million live keys.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Detection engine: events/s with the default rulebook, and peak memory with 1,000,000 live keys.",
        discussion: """
            Throughput: a seeded day-by-day mix over the configured geography (round trips through paired \
            checkpoints, inspections of a share of them, patrols, sensors, vessels; a small fraction of \
            events alert), then as many events of `kordon simulate`'s traffic; each decoded once up front, \
            then Engine.ingest + finish timed on one thread. \
            Memory: a million distinct vehicles and drivers leaving through the checkpoints within the \
            rules' horizons, each crossing a plate and a doc alert key; prints the process's peak RSS \
            (getrusage) halfway, with as many alert keys as --crossings, and at the end, with the \
            engine's footprint.
            """)

    @Option(help: "Events in the throughput phase.")
    var events = 1_000_000

    @Option(help: "Crossings in the memory phase, each a distinct vehicle and driver (a plate and a doc alert key).")
    var crossings = 1_000_000

    @Option(help: "Seed for the event mix and the simulator.")
    var seed: UInt64 = 42

    @Option(help: "Timed rounds of the throughput phase; the fastest counts.")
    var rounds = 3

    @Option(help: "Config file naming the rulebook and geography.")
    var config = "config/kordon.yaml"

    @Option(help: "Which phases to run: both, memory or throughput.")
    var phase = "both"

    func validate() throws {
        guard events > 0, crossings > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
        guard ["both", "memory", "throughput"].contains(phase) else {
            throw ValidationError("--phase is both, memory or throughput")
        }
    }

    func run() throws {
        let loaded: KordonConfig
        do { loaded = try KordonConfig.load(file: config) } catch { throw ValidationError("\(error)") }
        print("engine: \(loaded.rulebook.rules.count) rule parts from \(loaded.rulesFile), seed \(seed)")
        // Memory first: the peak RSS is the process's, and the throughput phase's decoded events would count.
        if phase != "throughput" { memory(loaded) }
        if phase != "memory" { try throughput(loaded) }
    }

    private func engine(_ loaded: KordonConfig) -> Engine {
        let emitted = Timestamp(nanosecondsSinceEpoch: 0)
        return Engine(rulebook: loaded.rulebook, geography: loaded.geography, settings: loaded.settings) { emitted }
    }

    private func throughput(_ loaded: KordonConfig) throws {
        var mix = EngineEventMix(seed: seed, geography: loaded.geography)
        let decoder = EventDecoder()
        let decoded = try (0..<events).map { _ in try decode(Array(mix.next().utf8)[...], decoder) }
        try time(decoded, loaded, title: "the benchmark's mix, decoded up front")
        // The simulator's traffic (as the pipeline benchmark feeds it): longer ids and sources, more
        // persons and goods per crossing, dense incidents. The same engine takes longer per event on
        // it, so both are printed.
        var options = SimulationOptions()
        options.seed = seed
        options.events = events
        options.lateness = loaded.settings.lateness
        let stream = SimulatedStream(options, loaded)
        let simulated = try stream.records.map { try decode(stream.bytes[$0.range], decoder) }
        try time(simulated, loaded, title: "kordon simulate's traffic (seed \(seed)), decoded up front")
    }

    private func decode(_ message: ArraySlice<UInt8>, _ decoder: EventDecoder) throws -> Event {
        switch decoder.decode(message) {
        case .success(let event): return event
        case .failure(let rejection):
            throw ValidationError("generated event rejected: \(rejection)\n\(String(decoding: message, as: UTF8.self))")
        }
    }

    /// Times `rounds` engines over `decoded` and prints the fastest, the alerts by rule and their digest.
    private func time(_ decoded: [Event], _ loaded: KordonConfig, title: String) throws {
        let days = Double(decoded.last!.time.nanosecondsSinceEpoch - decoded[0].time.nanosecondsSinceEpoch) / 864e11
        print("  throughput: \(decoded.count) events over \(String(format: "%.1f", days)) days of event time, \(title)")
        let clock = ContinuousClock()
        var best = Double.infinity
        var alerts: [Alert] = []
        var stats: EngineStats?
        for _ in 0..<rounds {
            var engine = engine(loaded)
            alerts.removeAll(keepingCapacity: true)
            // Handed over, as the pipeline hands over each event it decodes: popped off the end of an
            // array of this round's own, rather than copied out of the shared one (a retain per field).
            var round = Array(decoded.reversed())
            var offset: Int64 = 0
            let elapsed = clock.measure {
                while let event = round.popLast() {
                    engine.ingest(event, from: EventOrigin(topic: "bench", partition: 0, offset: offset), into: &alerts)
                    offset += 1
                }
                engine.finish(into: &alerts)
            }
            stats = engine.stats
            best = min(best, seconds(elapsed))
        }
        var byRule: [String: Int] = [:]
        for alert in alerts { byRule[alert.rule, default: 0] += 1 }
        print(
            "  \(String(format: "%12.0f", Double(decoded.count) / best)) events/s (best of \(rounds), one thread), "
                + "\(alerts.count) alerts (\(String(format: "%.2f", 100 * Double(alerts.count) / Double(decoded.count))) % of events), "
                + "\(stats!.late) late, \(stats!.duplicates) duplicates")
        print("  alerts by rule: " + byRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        // Alert ids and bytes must not change with the engine's internals: compare this across builds.
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for alert in alerts {
            for byte in alert.jsonBytes() { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        print("  alerts digest (FNV-1a of their JSON): \(String(digest, radix: 16))")
    }

    /// Every vehicle leaves once, within the shortest stateful horizon (6 h), so each key is live at the end.
    private func memory(_ loaded: KordonConfig) {
        let checkpoints = loaded.geography.checkpoints.values.filter { $0.paired != nil }.sorted { $0.id < $1.id }
        var random = SplitMix64(seed: seed)
        var engine = engine(loaded)
        var alerts: [Alert] = []
        let start: Int64 = 1_793_577_600_000_000_000  // 2026-11-02T00:00:00Z
        let spacing = 5 * 3_600_000_000_000 / Int64(crossings)  // all within 5 h
        print(
            "  memory: crossings live within the horizon, each a distinct vehicle with a distinct driver "
                + "(a plate and a doc alert key each); target < 1024 MiB with 1,000,000 live keys")
        // Halfway there are as many alert keys as crossings at the end: peak RSS only grows, so both readings hold.
        func report(_ count: Int) {
            let rss = peakRSS()
            print(
                "    \(count) crossings, \(2 * count) alert keys: peak RSS "
                    + "\(String(format: "%.0f", Double(rss) / 1_048_576)) MiB (\(rss / count) bytes per crossing)")
        }
        for index in 0..<crossings {
            let checkpoint = checkpoints[Int.random(in: 0..<checkpoints.count, using: &random)]
            let value = Double.random(in: 200..<900, using: &random).rounded()
            let crossing = Crossing(
                checkpoint: checkpoint.id, country: checkpoint.country, direction: .exit,
                persons: [Person(doc: "D\(10_000_000 + index)", role: .driver)],
                vehicle: Vehicle(plate: "M\(10_000_000 + index)", type: .truck, declaredWeightKg: 12_000, measuredWeightKg: 12_100),
                goods: [Goods(hs: "0703", description: "onions", weightKg: 10_000, valueUsd: value)],
                officer: "o-\(index % 500)", released: true)
            let event = Event(
                id: "mem-\(index)", time: Timestamp(nanosecondsSinceEpoch: start + Int64(index) * spacing),
                body: .crossing(crossing))
            engine.ingest(event, from: EventOrigin(topic: "bench", partition: 0, offset: Int64(index)), into: &alerts)
            if alerts.count > 10_000 { alerts.removeAll(keepingCapacity: true) }
            if index + 1 == crossings / 2 { report(index + 1) }
        }
        engine.finish(into: &alerts)
        report(crossings)
        let footprint = engine.footprint
        print(
            "    footprint: windowKeys \(footprint.windowKeys), windowEntries \(footprint.windowEntries), "
                + "openAbsences \(footprint.openAbsences), sightings \(footprint.sightings), "
                + "pendingTriggers \(footprint.pendingTriggers), storedCrossings \(footprint.storedCrossings), "
                + "rememberedIds \(footprint.rememberedIds), suppressionKeys \(footprint.suppressionKeys), "
                + "timers \(footprint.timers)")
        // What a checkpoint of this state costs, and how long an instance taking over waits to restore it.
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        let encoding = clock.measure { bytes = engine.snapshot() }
        let emitted = Timestamp(nanosecondsSinceEpoch: 0)
        var restored: Engine?
        let restoring = clock.measure {
            restored = try? Engine(
                restoring: bytes, rulebook: loaded.rulebook, geography: loaded.geography, settings: loaded.settings
            ) { emitted }
        }
        print(
            "    checkpoint of this state: \(bytes.count / 1_048_576) MiB, encoded in "
                + "\(String(format: "%.2f", seconds(encoding))) s, restored in \(String(format: "%.2f", seconds(restoring))) s"
                + (restored?.snapshot() == bytes ? "" : " (RESTORED STATE DIFFERS)"))
    }

    private func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

// MARK: - Seeded mix over the geography

/// A realistic stream in event time: round trips through paired checkpoints (the return crossing
/// at the facing checkpoint a little later), inspections of about one crossing in six, patrols,
/// sensors and vessels. Events arrive up to a minute out of order, well within the lateness.
/// Alerts are rare by construction: a few missed returns, overweight trucks, finds, tracks.
struct EngineEventMix {
    private var random: SplitMix64
    private var serial = 0
    /// Event time advances about two seconds per event: some 43,000 events a day, 2,000 crossings per checkpoint.
    private var now: Int64 = 1_793_491_200_000_000_000  // 2026-11-01T00:00:00Z
    private let checkpoints: [Geography.Checkpoint]
    private let geography: Geography
    /// Return crossings and inspections, due later in event time.
    private var later: [(time: Int64, text: String)] = []
    private static let vehicles = 40_000
    private static let officers = 400

    init(seed: UInt64, geography: Geography) {
        random = SplitMix64(seed: seed)
        self.geography = geography
        checkpoints = geography.checkpoints.values.filter { $0.paired != nil }.sorted { $0.id < $1.id }
    }

    mutating func next() -> String {
        serial += 1
        now += Int64.random(in: 0...4_000_000_000, using: &random)
        if let index = later.indices.min(by: { later[$0].time < later[$1].time }), later[index].time <= now {
            return later.remove(at: index).text
        }
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<40: return trip()
        case 40..<60: return patrol()
        case 60..<85: return sensor()
        default: return vessel()
        }
    }

    private mutating func number(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    private mutating func decimal(_ range: ClosedRange<Double>, places: Int) -> String {
        String(format: "%.\(places)f", Double.random(in: range, using: &random))
    }

    /// Up to a minute behind the stream's clock: arrival order is not event order.
    private mutating func time(_ at: Int64? = nil) -> String {
        let jitter = random.chance(0.2) ? Int64.random(in: 0...60_000_000_000, using: &random) : 0
        return Timestamp(nanosecondsSinceEpoch: (at ?? now) - jitter).rfc3339
    }

    private mutating func header(_ kind: String, _ prefix: String, at: Int64? = nil) -> String {
        #"{"v":1,"id":"\#(prefix)-\#(String(format: "%09d", serial))","kind":"\#(kind)","time":"\#(time(at))""#
    }

    /// An exit and, usually, the entry at the facing checkpoint 20–90 minutes later.
    private mutating func trip() -> String {
        let vehicle = number(0...Self.vehicles - 1)
        // Each vehicle (and its people) shuttles through its home pair: no impossible travel by construction.
        let home = checkpoints[vehicle % checkpoints.count]
        let from = random.chance(0.5) ? home : geography.checkpoints[home.paired!] ?? home
        let body = cargo(vehicle)
        let exit = crossing(at: from, direction: "exit", body: body, time: now)
        if !random.chance(0.015), let paired = from.paired, let to = geography.checkpoints[paired] {
            let arrival = now + Int64(number(20...90)) * 60_000_000_000
            serial += 1
            later.append((arrival, crossing(at: to, direction: "entry", body: body, time: arrival)))
        }
        if random.chance(0.15) {
            let due = now + Int64(number(5...40)) * 60_000_000_000
            later.append((due, inspection(of: serial, at: from, time: due)))
        }
        return exit
    }

    private mutating func cargo(_ vehicle: Int) -> String {
        var persons = [#"{"doc":"N\#(20_000_000 + vehicle)","role":"driver"}"#]
        for seat in 0..<number(0...2) { persons.append(#"{"doc":"N\#(60_000_000 + vehicle * 3 + seat)","role":"passenger"}"#) }
        var text = #","persons":[\#(persons.joined(separator: ","))]"#
        guard vehicle % 5 != 0 else { return text }  // on foot or by bus: no vehicle, no cargo
        let declared = number(3_000...24_000)
        // Weighbridges agree within a couple of per cent; one truck in two hundred is well over.
        let measured = random.chance(0.005) ? declared + number(1_500...3_000) : declared + declared * number(-20...20) / 1000
        text += #","vehicle":{"plate":"\#(100 + vehicle % 900)KZA\#(vehicle / 900)","type":"truck","declaredWeightKg":\#(declared),"measuredWeightKg":\#(measured)}"#
        let goods = [("0703", "onions"), ("0805", "citrus fruit"), ("8703", "passenger cars"), ("6204", "garments"), ("2710", "diesel fuel")]
        let (hs, description) = goods[number(0...goods.count - 1)]
        text += #","goods":[{"hs":"\#(hs)","description":"\#(description)","weightKg":\#(declared - 1500),"valueUsd":\#(decimal(1_500...60_000, places: 2))}]"#
        return text
    }

    private mutating func crossing(at checkpoint: Geography.Checkpoint, direction: String, body: String, time: Int64) -> String {
        var text = header("crossing", checkpoint.country.lowercased() + "-ptr", at: time)
        text += #","checkpoint":"\#(checkpoint.id)","country":"\#(checkpoint.country)","direction":"\#(direction)""# + body
        text += #","officer":"\#(checkpoint.country.lowercased())-o-\#(number(1...Self.officers))","released":true}"#
        return text
    }

    private mutating func inspection(of crossing: Int, at checkpoint: Geography.Checkpoint, time: Int64) -> String {
        serial += 1
        var text = header("inspection", checkpoint.country.lowercased() + "-ins", at: time)
        text += #","crossingId":"\#(checkpoint.country.lowercased())-ptr-\#(String(format: "%09d", crossing))""#
        text += #","checkpoint":"\#(checkpoint.id)","method":"\#(["xray", "manual", "documents", "weighbridge"][number(0...3)])""#
        var findings: [String] = []
        if random.chance(0.04) {
            let category = random.chance(0.1) ? "narcotic" : "consumer-goods"
            findings.append(#"{"category":"\#(category)","weightKg":\#(decimal(0.5...40, places: 1)),"declared":\#(random.chance(0.7)),"concealed":false}"#)
        }
        return text + #","findings":[\#(findings.joined(separator: ","))],"officer":"kz-o-\#(number(1...Self.officers))","durationSec":\#(number(120...1800))}"#
    }

    /// Near a checkpoint, inside or outside the border zone.
    private mutating func position(spread: Double) -> String {
        let around = checkpoints[number(0...checkpoints.count - 1)].position
        let lat = around.lat + Double.random(in: -spread...spread, using: &random)
        let lon = around.lon + Double.random(in: -spread...spread, using: &random)
        return String(format: #"{"lat":%.5f,"lon":%.5f}"#, lat, lon)
    }

    private mutating func patrol() -> String {
        var text = header("patrol", "kz-pat")
        // Tracks and persons are what patrols are for, and rare; most reports are routine.
        let observation = random.chance(0.01) ? ["footprints", "vehicle-tracks", "pillar-damaged"][number(0...2)] : "other"
        text += #","unit":"KZ-PU-\#(number(100...299))","sector":"KZ-SKO-\#(String(format: "%02d", number(1...30)))""#
        text += #","position":\#(position(spread: 0.3)),"observation":"\#(observation)""#
        return text + "}"
    }

    private mutating func sensor() -> String {
        var text = header("sensor", "ru-gs")
        let detection = random.chance(0.03) ? "human" : ["animal", "unknown", "animal", "vehicle"][number(0...3)]
        text += #","sensor":"S-\#(number(100...999))","sensorType":"\#(["seismic", "infrared", "radar", "camera"][number(0...3)])""#
        text += #","position":\#(position(spread: 0.3)),"detection":"\#(detection)","confidence":\#(decimal(0...0.7, places: 2))"#
        return text + #","sector":"RU-ORB-\#(String(format: "%02d", number(1...30)))"}"#
    }

    private mutating func vessel() -> String {
        var text = header("vessel", "kz-cg")
        text += #","vessel":"\#(number(273_000_000...273_000_400))""#
        text += #","position":{"lat":\#(decimal(44.5...46.5, places: 5)),"lon":\#(decimal(49.5...52.5, places: 5))}"#
        let activity = random.chance(0.02) ? "fishing" : "transit"
        text += #","speedKn":\#(decimal(4...14, places: 1)),"headingDeg":\#(decimal(0...359.9, places: 1)),"ais":true,"activity":"\#(activity)"}"#
        return text
    }
}
