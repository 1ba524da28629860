import KordonEvents
import Testing

/// Every kind with every field: present, absent, null, missing when required, outside its enum, of the wrong type.
@Suite struct KindTests {
    @Test(arguments: EventKind.allCases)
    func completeEventDecodesEveryField(kind: EventKind) throws {
        let expected: Event =
            switch kind {
            case .crossing: Samples.crossingEvent
            case .inspection: Samples.inspectionEvent
            case .patrol: Samples.patrolEvent
            case .sensor: Samples.sensorEvent
            case .vessel: Samples.vesselEvent
            }
        let event = try decoded(Samples.complete(kind))
        #expect(event == expected)
        #expect(event.kind == kind)
    }

    @Test func minimalCrossingHasNoOptionals() throws {
        let json: J = [
            "v": 1, "id": "c", "kind": "crossing", "time": "2026-01-01T00:00:00Z", "checkpoint": "CP", "country": "RU",
            "direction": "exit",
        ]
        let expected = Event(
            id: "c", time: time("2026-01-01T00:00:00Z"),
            body: .crossing(Crossing(checkpoint: "CP", country: "RU", direction: .exit)))
        #expect(try decoded(json) == expected)
    }

    @Test func minimalInspectionHasEmptyFindings() throws {
        let json: J = [
            "v": 1, "id": "i", "kind": "inspection", "time": "2026-01-01T00:00:00Z", "crossingId": "c",
            "checkpoint": "CP", "method": "documents", "findings": [],
        ]
        let expected = Event(
            id: "i", time: time("2026-01-01T00:00:00Z"),
            body: .inspection(Inspection(crossingId: "c", checkpoint: "CP", method: .documents, findings: [])))
        #expect(try decoded(json) == expected)
    }

    @Test func minimalPatrolSensorAndVessel() throws {
        let position: J = ["lat": 1, "lon": 2]
        let patrol: J = [
            "v": 1, "id": "p", "kind": "patrol", "time": "2026-01-01T00:00:00Z", "unit": "U", "position": position,
            "observation": "other",
        ]
        #expect(
            try decoded(patrol).body
                == .patrol(Patrol(unit: "U", position: Position(lat: 1, lon: 2), observation: .other)))
        let sensor: J = [
            "v": 1, "id": "s", "kind": "sensor", "time": "2026-01-01T00:00:00Z", "sensor": "S",
            "sensorType": "radar", "position": position, "detection": "unknown",
        ]
        // The contract's default confidence is 1.
        #expect(
            try decoded(sensor).body
                == .sensor(
                    Sensor(
                        sensor: "S", sensorType: .radar, position: Position(lat: 1, lon: 2), detection: .unknown,
                        confidence: 1)))
        let vessel: J = [
            "v": 1, "id": "v", "kind": "vessel", "time": "2026-01-01T00:00:00Z", "vessel": "V", "position": position,
        ]
        #expect(try decoded(vessel).body == .vessel(Vessel(vessel: "V", position: Position(lat: 1, lon: 2))))
    }

    static let optionalCases: [(EventKind, String)] = EventKind.allCases.flatMap { kind in
        (Samples.optionalPaths[kind] ?? []).map { (kind, $0) }
    }

    @Test(arguments: optionalCases)
    func optionalFieldMayBeAbsentOrNull(kind: EventKind, path: String) throws {
        let absent = try decoded(Samples.complete(kind).setting(path, to: nil))
        let null = try decoded(Samples.complete(kind).setting(path, to: .null))
        #expect(absent == null)
        #expect(absent != (try decoded(Samples.complete(kind))))
    }

    static let requiredCases: [(EventKind, String)] = [
        (.crossing, "v"), (.crossing, "id"), (.crossing, "time"),
        (.crossing, "checkpoint"), (.crossing, "country"), (.crossing, "direction"), (.crossing, "persons[0].doc"),
        (.crossing, "vehicle.plate"), (.crossing, "goods[0].hs"), (.crossing, "permits[0].id"),
        (.crossing, "permits[1].type"),
        (.inspection, "v"), (.inspection, "crossingId"), (.inspection, "checkpoint"), (.inspection, "method"),
        (.inspection, "findings"), (.inspection, "findings[0].category"),
        (.patrol, "unit"), (.patrol, "position"), (.patrol, "position.lat"), (.patrol, "position.lon"),
        (.patrol, "observation"),
        (.sensor, "id"), (.sensor, "sensor"), (.sensor, "sensorType"), (.sensor, "position"),
        (.sensor, "position.lon"), (.sensor, "detection"),
        (.vessel, "time"), (.vessel, "vessel"), (.vessel, "position"), (.vessel, "position.lat"),
    ]

    @Test(arguments: requiredCases)
    func requiredFieldMissingOrNull(kind: EventKind, path: String) {
        let common = ["v", "id", "kind", "time"].contains(path)
        let reported = common ? path : "\(kind.rawValue).\(path)"
        #expect(rejection(Samples.complete(kind).setting(path, to: nil)) == "\(reported): required")
        #expect(rejection(Samples.complete(kind).setting(path, to: .null)) == "\(reported): must not be null")
    }

    @Test func missingKind() {
        #expect(rejection(Samples.sensor.setting("kind", to: nil)) == "kind: required")
        #expect(rejection(Samples.sensor.setting("kind", to: .null)) == "kind: must not be null")
        #expect(rejection(Samples.sensor.setting("kind", to: 3)) == "kind: not a string (found number)")
        // Earlier common fields are still reported first.
        #expect(rejection(Samples.sensor.setting("kind", to: nil).setting("v", to: nil)) == "v: required")
    }

    @Test func missingFieldsReportedInContractOrder() {
        let json = Samples.crossing.setting("direction", to: nil).setting("checkpoint", to: nil)
        #expect(rejection(json) == "crossing.checkpoint: required")
        #expect(rejection(Samples.crossing.setting("time", to: nil).setting("country", to: nil)) == "time: required")
    }

    static let enumCases: [(EventKind, String, String, String)] = [
        (.crossing, "kind", "lorry", #"kind: unknown kind: "lorry""#),
        (.crossing, "direction", "Exit", #"crossing.direction: not one of exit, entry: "Exit""#),
        (.crossing, "persons[0].role", "Driver", #"crossing.persons[0].role: not one of driver, passenger, pedestrian, crew: "Driver""#),
        (.crossing, "vehicle.type", "lorry", #"crossing.vehicle.type: not one of car, truck, bus, van, rail, vessel, other: "lorry""#),
        (
            .crossing, "permits[1].type", "timber_origin",
            #"crossing.permits[1].type: not one of weapon, ammunition, hunting, cites, phytosanitary, veterinary, timber-origin, fishing, other: "timber_origin""#
        ),
        (.inspection, "method", "x-ray", #"inspection.method: not one of xray, canine, manual, radiation, weighbridge, documents: "x-ray""#),
        (
            .inspection, "findings[0].category", "drugs",
            #"inspection.findings[0].category: not one of weapon, ammunition, explosive, narcotic, psychotropic, precursor, currency, wildlife, fish, caviar, timber, alcohol, tobacco, fuel, metal, consumer-goods, food, masking-agent, document-fraud, other: "drugs""#
        ),
        (
            .patrol, "observation", "",
            #"patrol.observation: not one of footprints, vehicle-tracks, persons, vehicle, abandoned-goods, fence-damage, pillar-missing, pillar-damaged, vessel, fishing-gear, logging, other: """#
        ),
        (.sensor, "sensorType", "lidar", #"sensor.sensorType: not one of seismic, infrared, radar, camera, fence, magnetic: "lidar""#),
        (.sensor, "detection", "HUMAN", #"sensor.detection: not one of human, vehicle, animal, vessel, unknown, tamper: "HUMAN""#),
        (.vessel, "activity", "trawling", #"vessel.activity: not one of fishing, transit, drifting, unknown: "trawling""#),
    ]

    @Test(arguments: enumCases)
    func valueOutsideEnum(kind: EventKind, path: String, bad: String, expected: String) {
        #expect(rejection(Samples.complete(kind).setting(path, to: .string(bad))) == expected)
    }

    @Test func wrongTypes() {
        #expect(rejection(Samples.crossing.setting("released", to: "yes")) == "crossing.released: not a boolean (found string)")
        #expect(rejection(Samples.crossing.setting("persons", to: ["doc": "x"])) == "crossing.persons: not an array (found object)")
        #expect(rejection(Samples.crossing.setting("persons[0]", to: "D1")) == "crossing.persons[0]: not an object (found string)")
        #expect(rejection(Samples.crossing.setting("vehicle", to: [])) == "crossing.vehicle: not an object (found array)")
        #expect(rejection(Samples.crossing.setting("checkpoint", to: 7)) == "crossing.checkpoint: not a string (found number)")
        #expect(rejection(Samples.crossing.setting("officer", to: true)) == "crossing.officer: not a string (found boolean)")
        #expect(rejection(Samples.crossing.setting("v", to: "1")) == "v: not a number (found string)")
        #expect(rejection(Samples.crossing.setting("id", to: 1)) == "id: not a string (found number)")
        #expect(rejection(Samples.crossing.setting("time", to: 0)) == "time: not a string (found number)")
        #expect(rejection(Samples.patrol.setting("position", to: [54, 69])) == "patrol.position: not an object (found array)")
        #expect(rejection(Samples.patrol.setting("position.lat", to: "54")) == "patrol.position.lat: not a number (found string)")
        #expect(rejection(Samples.inspection.setting("findings", to: [nil])) == "inspection.findings[0]: not an object (found null)")
        #expect(rejection(Samples.crossing.setting("permits[0].covers", to: ["44", nil])) == "crossing.permits[0].covers[1]: must not be null")
    }

    @Test func arrayElementsReportTheirIndex() {
        let goods = Samples.crossing.setting("goods", to: [["hs": "0703"], ["hs": "07A3"]])
        #expect(rejection(goods) == #"crossing.goods[1].hs: not an HS code (4 to 10 digits): "07A3""#)
        let persons = Samples.crossing.setting("persons", to: [["doc": "A"], ["doc": "B"], ["role": "crew"]])
        #expect(rejection(persons) == "crossing.persons[2].doc: required")
    }

    @Test(arguments: EventKind.allCases)
    func unknownMembersAreIgnoredAtEveryLevel(kind: EventKind) throws {
        let extra: J = ["nested": [1, ["a": nil, "b": [true, false]], "x"], "n": -0.5e-3]
        var json = Samples.complete(kind).setting("zExtra", to: extra)
        for path in ["persons[0]", "vehicle", "goods[0]", "permits[0]", "findings[0]", "position"] {
            switch (kind, path) {
            case (.crossing, "persons[0]"), (.crossing, "vehicle"), (.crossing, "goods[0]"), (.crossing, "permits[0]"),
                (.inspection, "findings[0]"), (.patrol, "position"), (.sensor, "position"), (.vessel, "position"):
                json = json.setting(path + ".future", to: extra)
            default:
                continue
            }
        }
        #expect(try decoded(json) == decoded(Samples.complete(kind)))
    }

    @Test func membersOfOtherKindsAreIgnored() throws {
        // `persons`, `vessel` and `method` mean nothing in a sensor event, whatever their type.
        let json = Samples.sensor.setting("persons", to: "nobody").setting("vessel", to: 5).setting("method", to: nil)
        #expect(try decoded(json) == Samples.sensorEvent)
    }

    @Test func kindMayComeLast() throws {
        let json: J = [
            "sensor": "S-1", "position": ["lat": -1.5, "lon": -70], "sensorType": "fence", "detection": "tamper",
            "id": "s-1", "source": "S", "confidence": 0.25, "count": 0, "time": "2026-11-28T02:10:40Z",
            "sector": "SEC-2", "v": 1, "kind": "sensor",
        ]
        #expect(try decoded(json) == Samples.sensorEvent)
    }
}
