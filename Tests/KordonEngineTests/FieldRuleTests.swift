import Foundation
import KordonEvents
import Testing

@testable import KordonEngine

/// A sensor detection; positions default to a point in the shipped border zone far from every checkpoint.
func sensor(
    _ id: String, minute: Double, sensor: String = "S-1", lat: Double = 51.10, lon: Double = 58.90,
    detection: String = "human", confidence: Double = 0.9, type: String = "seismic", sector: String? = nil
) -> Event {
    let sectorMember = sector.map { #","sector":"\#($0)""# } ?? ""
    return event(
        #"{"v":1,"id":"\#(id)","kind":"sensor","time":"\#(at(minutes: minute).rfc3339)","sensor":"\#(sensor)","sensorType":"\#(type)","position":{"lat":\#(lat),"lon":\#(lon)},"detection":"\#(detection)","confidence":\#(confidence)\#(sectorMember)}"#
    )
}

func patrol(
    _ id: String, minute: Double, observation: String, lat: Double = 51.10, lon: Double = 58.90, sector: String? = nil
) -> Event {
    let sectorMember = sector.map { #","sector":"\#($0)""# } ?? ""
    return event(
        #"{"v":1,"id":"\#(id)","kind":"patrol","time":"\#(at(minutes: minute).rfc3339)","unit":"U-1","position":{"lat":\#(lat),"lon":\#(lon)},"observation":"\#(observation)"\#(sectorMember)}"#
    )
}

/// A vessel report at an instant given in full, for closed-season dates.
func vessel(_ id: String, time: String, vessel: String = "V-1", lat: Double = 45.91, lon: Double = 50.22, extra: String)
    -> Event
{
    event(
        #"{"v":1,"id":"\#(id)","kind":"vessel","time":"\#(time)","vessel":"\#(vessel)","position":{"lat":\#(lat),"lon":\#(lon)}\#(extra)}"#
    )
}

/// The rules that need geography, watchlists, sequences and velocity, on the shipped config.
@Suite struct FieldRuleTests {
    let config: KordonConfig

    init() throws {
        config = try shippedConfig()
    }

    func run(_ events: [Event], rule: String) -> [Alert] { alerts(of: rule, from: events, config: config) }

    func fact(_ alert: Alert?, _ name: String) -> Value? {
        alert?.facts.first { $0.name == name }?.value
    }

    static let day = 24.0 * 60

    // MARK: geography

    @Test func greatCircleDistances() {
        #expect(abs(greatCircleKm(Position(lat: 50, lon: 60), Position(lat: 51, lon: 60)) - 111.2) < 0.1)
        let petropavl = config.geography.checkpoints["KZ-PETROPAVL-1"]!.position
        let karakoga = config.geography.checkpoints["KZ-KARAKOGA-1"]!.position
        #expect(abs(greatCircleKm(petropavl, karakoga) - 203.3) < 0.5)
        #expect(greatCircleKm(petropavl, petropavl) == 0)
    }

    @Test func pointInPolygonHandlesConcaveShapes() {
        // A U open to the north: the notch between the arms is outside.
        let u = Zone(
            id: "U", name: "U", type: .sector,
            polygon: [
                Position(lat: 0, lon: 0), Position(lat: 0, lon: 3), Position(lat: 3, lon: 3), Position(lat: 3, lon: 2),
                Position(lat: 1, lon: 2), Position(lat: 1, lon: 1), Position(lat: 3, lon: 1), Position(lat: 3, lon: 0),
            ])
        #expect(u.contains(Position(lat: 0.5, lon: 1.5)))
        #expect(u.contains(Position(lat: 2, lon: 0.5)))
        #expect(!u.contains(Position(lat: 2, lon: 1.5)))
        #expect(!u.contains(Position(lat: 4, lon: 0.5)))
    }

    @Test func closedSeasonsMaySpanTheNewYear() {
        let winter = Zone.Season(from: 1115, to: 228)
        #expect(winter.contains(Timestamp(rfc3339: "2027-01-10T12:00:00Z")!))
        #expect(winter.contains(Timestamp(rfc3339: "2026-11-15T00:00:00Z")!))
        #expect(!winter.contains(Timestamp(rfc3339: "2027-03-01T00:00:00Z")!))
        // Days are UTC days: 05:00+05:00 on 1 April is still 31 March.
        let spring = Zone.Season(from: 401, to: 630)
        #expect(!spring.contains(Timestamp(rfc3339: "2026-04-01T04:00:00+05:00")!))
        #expect(spring.contains(Timestamp(rfc3339: "2026-06-30T23:59:59Z")!))
    }

    @Test func shippedGeographyIsConsistent() {
        let geography = config.geography
        // Every checkpoint lies in the border zone and in a sector.
        for checkpoint in geography.checkpoints.values {
            #expect(geography.zone(.border, containing: checkpoint.position) != nil, "\(checkpoint.id)")
            #expect(geography.zone(.sector, containing: checkpoint.position) != nil, "\(checkpoint.id)")
        }
        let caspian = Position(lat: 45.91, lon: 50.22)
        #expect(geography.zone(.fishing, containing: caspian)?.id == "CASPIAN-URAL-PREDELTA")
        #expect(geography.zone(.border, containing: Position(lat: 53.0, lon: 58.9)) == nil)
        #expect(geography.nearestCheckpoint(to: Position(lat: 54.98, lon: 68.03))?.checkpoint.id != nil)
    }

    // MARK: crossing.unauthorized

    @Test func detectionInTheBorderZoneAwayFromCheckpointsIsHigh() {
        let alerts = run([sensor("s1", minute: 0)], rule: "crossing.unauthorized")
        #expect(alerts.map(\.severity) == [.high])
        // No sector on the event: the sector zone of its position.
        #expect(alerts.first?.key == AlertKey(type: .sector, value: "SECTOR-ORSK"))
        #expect(alerts.first?.location.sector == "SECTOR-ORSK")
    }

    @Test func twoSensorsCloseTogetherMakeACriticalTrackAcrossSectorIds() {
        let events = [
            sensor("s1", minute: 0, sensor: "A", sector: "RU-ORB-07"),
            sensor("s2", minute: 10, sensor: "B", lat: 51.11, lon: 58.915, sector: "RU-ORB-08"),
            // The same sensor again is not a second sensor: in its own sector, still high.
            sensor("s3", minute: 60, sensor: "C", lat: 50.85, lon: 59.3, sector: "RU-ORB-09"),
            sensor("s4", minute: 65, sensor: "C", lat: 50.85, lon: 59.3, sector: "RU-ORB-10"),
        ]
        let alerts = run(events, rule: "crossing.unauthorized")
        #expect(alerts.map(\.severity) == [.high, .critical, .high, .high])
        #expect(alerts[1].evidence.map(\.id) == ["s1", "s2"])
        #expect(fact(alerts[1], "recentDistinct") == .number(2))
    }

    @Test func aTrackBreaksThroughTheSuppressionOfAHighAlert() {
        let events = [
            sensor("s1", minute: 0, sensor: "A"),
            sensor("s2", minute: 5, sensor: "B", lon: 58.97),  // 4.9 km away: no track, suppressed
            sensor("s3", minute: 8, sensor: "C", lon: 58.91),  // 0.7 km from A: a track
            sensor("s4", minute: 9, sensor: "D", lon: 58.905),  // critical again: suppressed
        ]
        let alerts = run(events, rule: "crossing.unauthorized")
        #expect(alerts.map(\.severity) == [.high, .critical])
        #expect(alerts.map(\.suppressed) == [0, 1])
        #expect(Set(alerts[1].evidence.map(\.id)) == ["s1", "s3"])
    }

    @Test func weakDetectionsCheckpointsAndTheInteriorAreSilent() {
        let events = [
            sensor("s1", minute: 0, confidence: 0.59),
            sensor("s2", minute: 1, detection: "animal"),
            patrol("p1", minute: 2, observation: "footprints", lat: 54.99, lon: 68.08),  // 2 km from Zhana Zhol
            patrol("p2", minute: 3, observation: "footprints", lat: 53.0, lon: 58.9),  // 230 km inland
            patrol("p3", minute: 4, observation: "fence-damage"),
        ]
        #expect(run(events, rule: "crossing.unauthorized").isEmpty)
    }

    // MARK: trafficking.indicators

    func party(_ id: String, minute: Double, driver: String, passengers: [String], extra: String = "") -> Event {
        let persons = ([#"{"doc":"\#(driver)","role":"driver"}"#] + passengers.map { #"{"doc":"\#($0)","role":"passenger"\#(extra)}"# })
            .joined(separator: ",")
        return event(
            #"{"v":1,"id":"\#(id)","kind":"crossing","time":"\#(at(minutes: minute).rfc3339)","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","persons":[\#(persons)],"vehicle":{"plate":"BUS1"}}"#
        )
    }

    @Test func anAdultHoldingOtherAdultsDocumentsFiresButNotAGuardianOfMinors() {
        let held = #","docHolder":"H1""#
        let adults = run([party("c1", minute: 0, driver: "H1", passengers: ["A", "B", "C"], extra: held)], rule: "trafficking.indicators")
        #expect(adults.map(\.key) == [AlertKey(type: .doc, value: "H1")])
        #expect(fact(adults.first, "documentsHeld") == .number(3))
        let minors = #","docHolder":"H1","minor":true"#
        #expect(run([party("c2", minute: 0, driver: "H1", passengers: ["K1", "K2", "K3", "K4"], extra: minors)], rule: "trafficking.indicators").isEmpty)
        // A minor holding documents is not the adult the rule looks for.
        let persons = #"[{"doc":"M","role":"passenger","minor":true},{"doc":"A","docHolder":"M"},{"doc":"B","docHolder":"M"},{"doc":"C","docHolder":"M"}]"#
        let minorHolder = event(
            #"{"v":1,"id":"c3","kind":"crossing","time":"\#(at(minutes: 0).rfc3339)","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","persons":\#(persons)}"#)
        #expect(run([minorHolder], rule: "trafficking.indicators").isEmpty)
    }

    @Test func aDriverRepeatedlyCarryingDifferentGroupsFires() {
        let events = [
            party("c1", minute: 0, driver: "D", passengers: ["P1", "P2", "P3"]),
            party("c2", minute: 5 * Self.day, driver: "D", passengers: ["P4", "P5", "P6"]),
            party("c3", minute: 13 * Self.day, driver: "D", passengers: ["P1", "P7", "P8"]),
        ]
        let alerts = run(events, rule: "trafficking.indicators")
        #expect(alerts.map(\.key) == [AlertKey(type: .doc, value: "D")])
        #expect(fact(alerts.first, "distinct") == .number(8))
        // Two passengers one time, or the window passing, is not the pattern.
        let small = [events[0], party("c2", minute: 5 * Self.day, driver: "D", passengers: ["P4", "P5"]), events[2]]
        #expect(run(small, rule: "trafficking.indicators").isEmpty)
        let spread = [events[0], events[1], party("c3", minute: 15 * Self.day, driver: "D", passengers: ["P1", "P7", "P8"])]
        #expect(run(spread, rule: "trafficking.indicators").isEmpty)
    }

    // MARK: poaching.restricted-zone

    @Test func vesselsInTheClosedSeasonFireCriticalWithoutAIS() {
        let events = [
            vessel("v1", time: "2026-05-03T04:00:00Z", vessel: "DARK", extra: #","speedKn":1.2,"ais":false,"activity":"fishing""#),
            vessel("v2", time: "2026-05-03T04:00:00Z", vessel: "LIT", extra: #","speedKn":2.9,"ais":true"#),
            vessel("v3", time: "2026-05-03T04:00:00Z", vessel: "FAST", extra: #","speedKn":3,"activity":"transit""#),
            vessel("v4", time: "2026-07-03T04:00:00Z", vessel: "LATE", extra: #","activity":"fishing""#),
        ]
        let alerts = run(events, rule: "poaching.restricted-zone")
        #expect(alerts.map(\.key.value) == ["DARK", "LIT"])
        #expect(alerts.map(\.severity) == [.critical, .high])
        #expect(alerts.first?.location.zone == "CASPIAN-URAL-PREDELTA")
    }

    @Test func fishingGearInTheZoneIsKeyedByZone() {
        let gear = event(
            #"{"v":1,"id":"p1","kind":"patrol","time":"2026-04-02T09:00:00Z","unit":"U-1","position":{"lat":46.0,"lon":50.5},"observation":"fishing-gear"}"#)
        #expect(run([gear], rule: "poaching.restricted-zone").map(\.key) == [AlertKey(type: .zone, value: "CASPIAN-URAL-PREDELTA")])
    }

    // MARK: timber.undocumented

    @Test func woodNeedsAValidCoveringTimberOrPhytosanitaryPermit() {
        let wood = #","goods":[{"hs":"4407","weightKg":12000}]"#
        let covering = wood + #","permits":[{"id":"T-1","type":"timber-origin","validUntil":"2026-12-31","covers":["4407"]}]"#
        let otherType = wood + #","permits":[{"id":"V-1","type":"veterinary"}]"#
        let expired = wood + #","permits":[{"id":"T-2","type":"phytosanitary","validUntil":"2026-11-27"}]"#
        let events = [
            crossing("c1", minute: 0, plate: "A", extra: covering), crossing("c2", minute: 1, plate: "B", extra: otherType),
            crossing("c3", minute: 2, plate: "C", extra: expired), crossing("c4", minute: 3, plate: "D", extra: wood),
        ]
        let alerts = run(events, rule: "timber.undocumented")
        #expect(alerts.map(\.key.value) == ["B", "C", "D"])
        #expect(fact(alerts.first, "hs") == .string("4407"))
    }

    @Test func loggingCountsOnlyInTheBorderZone() {
        let events = [
            patrol("p1", minute: 0, observation: "logging", sector: "KZ-ORSK-2"),
            patrol("p2", minute: 1, observation: "logging", lat: 53.0, lon: 58.9, sector: "KZ-INLAND"),
        ]
        #expect(run(events, rule: "timber.undocumented").map(\.key.value) == ["KZ-ORSK-2"])
    }

    // MARK: demarcation.pillar-tampering

    @Test func repeatedTamperingInASectorEscalates() {
        let events = [
            patrol("p1", minute: 0, observation: "pillar-missing", sector: "S7"),
            sensor("s2", minute: 30, detection: "tamper", type: "fence", sector: "S7"),  // within the hour: suppressed
            patrol("p3", minute: 20 * Self.day, observation: "pillar-damaged", sector: "S7"),
            patrol("p4", minute: 40 * Self.day, observation: "pillar-damaged", sector: "S7"),
        ]
        let alerts = run(events, rule: "demarcation.pillar-tampering")
        #expect(alerts.map(\.severity) == [.medium, .high, .medium])
        #expect(alerts[1].evidence.map(\.id) == ["p1", "s2", "p3"])
    }

    // MARK: integrity.release-anomaly

    /// A release by `officer`, then the same plate crossing elsewhere `after` minutes later and an inspection
    /// finding `findings` 5 minutes after that (arriving first with `inspectionFirst`, within the lateness).
    func release(_ n: Int, day: Double, officer: String = "O1", after: Double = 60, findings: String, inspectionFirst: Bool = false)
        -> [Event]
    {
        let start = day * Self.day
        let released = crossing("r\(n)", minute: start, plate: "P\(n)", extra: #","officer":"\#(officer)","released":true"#)
        let later = crossing("c\(n)", minute: start + after, checkpoint: "RU-PETUKHOVO-1", direction: "entry", plate: "P\(n)")
        let found = inspection("i\(n)", minute: start + after + 5, of: "c\(n)", findings: findings, checkpoint: "RU-PETUKHOVO-1")
        return inspectionFirst ? [released, found, later] : [released, later, found]
    }

    static let hashish = #"[{"category":"narcotic","substance":"hashish"}]"#

    @Test func threeReleasesFoundCarryingWithin24HoursFire() {
        let events =
            release(1, day: 0, findings: Self.hashish) + release(2, day: 10, findings: #"[{"category":"fuel","declared":false}]"#)
            + release(3, day: 20, findings: #"[{"category":"ammunition"}]"#, inspectionFirst: true)
        let alerts = run(events, rule: "integrity.release-anomaly")
        #expect(alerts.map(\.key) == [AlertKey(type: .officer, value: "O1")])
        #expect(alerts.first?.evidence.map(\.id) == ["r1", "i1", "r2", "i2", "r3", "i3"])
        #expect(fact(alerts.first, "count") == .number(3))
    }

    @Test func releasesFoundLateOrCleanOrByOthersAreSilent() {
        let events =
            release(1, day: 0, findings: Self.hashish) + release(2, day: 10, after: 25 * 60, findings: Self.hashish)
            + release(3, day: 20, findings: #"[{"category":"fuel","declared":true}]"#)
            + release(4, day: 21, officer: "O2", findings: Self.hashish)
            + release(5, day: 40, findings: Self.hashish)  // 40 days after the first
        #expect(run(events, rule: "integrity.release-anomaly").isEmpty)
    }

    @Test func aReleaseFoundTwiceCountsOnce() {
        var events = release(1, day: 0, findings: Self.hashish)
        events.append(inspection("i1b", minute: 200, of: "c1", findings: Self.hashish, checkpoint: "RU-PETUKHOVO-1"))
        events += release(2, day: 5, findings: Self.hashish)
        #expect(run(events, rule: "integrity.release-anomaly").isEmpty)
    }

    // MARK: documents.impossible-travel

    @Test func aPassengerDocumentTooFastBetweenCheckpointsFires() {
        let events = [
            crossing("c1", minute: 0, doc: "N1", role: "passenger"),
            crossing("c2", minute: 30, checkpoint: "KZ-KARAKOGA-1", plate: "OTHER", doc: "N1", role: "passenger"),
        ]
        let alerts = run(events, rule: "documents.impossible-travel")
        #expect(alerts.map(\.key) == [AlertKey(type: .doc, value: "N1")])
        #expect(fact(alerts.first, "speedKmh") == .number(406.5))
        #expect(alerts.first?.evidence.map(\.id) == ["c1", "c2"])
    }

    @Test func plausibleTravelAndTheSameCheckpointAreSilent() {
        let events = [
            crossing("c1", minute: 0, doc: "N1"),
            crossing("c2", minute: 0, doc: "N1"),  // the same checkpoint at the same instant: no travel
            crossing("c3", minute: 62, checkpoint: "KZ-KARAKOGA-1", doc: "N1"),  // 197 km/h
        ]
        #expect(run(events, rule: "documents.impossible-travel").isEmpty)
        // At two checkpoints at the same instant, any distance is impossible.
        let instant = [crossing("d1", minute: 0, doc: "N2"), crossing("d2", minute: 0, checkpoint: "RU-PETUKHOVO-1", doc: "N2")]
        #expect(run(instant, rule: "documents.impossible-travel").count == 1)
    }

    // MARK: watchlist.hit

    @Test func watchlistedPlatesAndDocumentsFireOnTheirOwnKeys() {
        let events = [
            crossing("c1", minute: 0, plate: "000XXX00", doc: "TEST0000001"),
            crossing("c2", minute: 1, plate: "123ABC15", doc: "N1"),
        ]
        let alerts = run(events, rule: "watchlist.hit")
        #expect(alerts.map(\.key) == [AlertKey(type: .plate, value: "000XXX00"), AlertKey(type: .doc, value: "TEST0000001")])
    }

    // MARK: determinism

    @Test func theseRulesGiveTheSameAlertsForAShuffledStream() {
        var events: [Event] = []
        for round in 0..<6 {
            let start = Double(round) * 3 * Self.day
            events += release(round, day: Double(round) * 3, findings: Self.hashish)
            events += [
                sensor("s\(round)a", minute: start + 1, sensor: "A\(round)"),
                sensor("s\(round)b", minute: start + 3, sensor: "B\(round)", lon: 58.91),
                patrol("p\(round)", minute: start + 4, observation: "pillar-missing", sector: "S1"),
                crossing("t\(round)", minute: start + 5, checkpoint: "KZ-KARAKOGA-1", plate: "000XXX00", doc: "R\(round - 1)"),
            ]
        }
        let stream = events.sorted { $0.time < $1.time }.enumerated().map {
            ($0.element, EventOrigin(topic: "t", partition: 0, offset: Int64($0.offset)))
        }
        var ordered = Harness(config: config)
        ordered.feed(stream)
        ordered.finish()
        let expected = ordered.alerts.map(\.json)
        #expect(Set(ordered.alerts.map(\.rule)).isSuperset(of: [
            "integrity.release-anomaly", "crossing.unauthorized", "demarcation.pillar-tampering", "watchlist.hit",
        ]))
        var generator = SplitMix(seed: 11)
        for _ in 0..<3 {
            let lateness = Double(EngineSettings.defaultLateness)
            let shuffled = stream.map { ($0, Double($0.0.time.nanosecondsSinceEpoch) + generator.unit() * lateness * 0.999) }
                .sorted { $0.1 < $1.1 }.map(\.0)
            var replay = Harness(config: config)
            replay.feed(shuffled)
            replay.finish()
            #expect(replay.engine.stats.late == 0)
            #expect(replay.alerts.map(\.json) == expected)
        }
    }
}
