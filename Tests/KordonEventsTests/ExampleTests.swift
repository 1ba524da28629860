import KordonEvents
import Testing

/// The four examples of shared/spec/events.md, decoded to exact values.
@Suite struct ExampleTests {
    let decoder = EventDecoder()

    @Test func crossingExample() throws {
        let json = #"""
            {"v":1,"id":"kz-ptr-000187","kind":"crossing","time":"2026-11-28T06:14:03+05:00","source":"KZ-BS/PETROPAVL-1","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","persons":[{"doc":"N0448812","role":"driver"}],"vehicle":{"plate":"123ABC15","type":"truck","declaredWeightKg":18200,"measuredWeightKg":19650},"goods":[{"hs":"0703","description":"onions","weightKg":16000,"valueUsd":4100}],"officer":"kz-o-3341","released":false}
            """#
        let event = try decoder.decode(json).get()
        let expected = Event(
            id: "kz-ptr-000187", time: try #require(Timestamp(rfc3339: "2026-11-28T01:14:03Z")),
            source: "KZ-BS/PETROPAVL-1",
            body: .crossing(
                Crossing(
                    checkpoint: "KZ-PETROPAVL-1", country: "KZ", direction: .exit,
                    persons: [Person(doc: "N0448812", role: .driver)],
                    vehicle: Vehicle(plate: "123ABC15", type: .truck, declaredWeightKg: 18200, measuredWeightKg: 19650),
                    goods: [Goods(hs: "0703", description: "onions", weightKg: 16000, valueUsd: 4100)],
                    officer: "kz-o-3341", released: false)))
        #expect(event == expected)
        #expect(event.kind == .crossing)
        #expect(event.time.nanosecondsSinceEpoch == 1_795_828_443_000_000_000)
        #expect(event.time.rfc3339 == "2026-11-28T01:14:03Z")
    }

    @Test func inspectionExample() throws {
        let json = #"""
            {"v":1,"id":"kz-ptr-000188","kind":"inspection","time":"2026-11-28T06:41:00+05:00","crossingId":"kz-ptr-000187","checkpoint":"KZ-PETROPAVL-1","method":"xray","findings":[{"category":"narcotic","substance":"hashish","weightKg":14.5,"declared":false,"concealed":true},{"category":"masking-agent","description":"onions over cavity"}],"officer":"kz-o-3341","durationSec":1500}
            """#
        let event = try decoder.decode(json).get()
        let expected = Event(
            id: "kz-ptr-000188", time: try #require(Timestamp(rfc3339: "2026-11-28T01:41:00Z")),
            body: .inspection(
                Inspection(
                    crossingId: "kz-ptr-000187", checkpoint: "KZ-PETROPAVL-1", method: .xray,
                    findings: [
                        Finding(category: .narcotic, substance: "hashish", weightKg: 14.5, declared: false, concealed: true),
                        Finding(category: .maskingAgent, description: "onions over cavity"),
                    ],
                    officer: "kz-o-3341", durationSec: 1500)))
        #expect(event == expected)
    }

    @Test func sensorExample() throws {
        let json = #"""
            {"v":1,"id":"ru-gs-77-001","kind":"sensor","time":"2026-11-28T02:10:40Z","sensor":"S-ORB-114","sensorType":"seismic","position":{"lat":51.213,"lon":58.902},"detection":"human","confidence":0.87,"count":3,"sector":"RU-ORB-07"}
            """#
        let event = try decoder.decode(json).get()
        let expected = Event(
            id: "ru-gs-77-001", time: try #require(Timestamp(rfc3339: "2026-11-28T02:10:40Z")),
            body: .sensor(
                Sensor(
                    sensor: "S-ORB-114", sensorType: .seismic, position: Position(lat: 51.213, lon: 58.902),
                    detection: .human, confidence: 0.87, count: 3, sector: "RU-ORB-07")))
        #expect(event == expected)
    }

    @Test func vesselExample() throws {
        let json = #"""
            {"v":1,"id":"kz-cg-5501","kind":"vessel","time":"2026-05-03T04:00:00Z","vessel":"KZ-ATR-0921","position":{"lat":45.91,"lon":50.22},"speedKn":1.2,"ais":false,"activity":"fishing"}
            """#
        let event = try decoder.decode(json).get()
        let expected = Event(
            id: "kz-cg-5501", time: try #require(Timestamp(rfc3339: "2026-05-03T04:00:00Z")),
            body: .vessel(
                Vessel(
                    vessel: "KZ-ATR-0921", position: Position(lat: 45.91, lon: 50.22), speedKn: 1.2, ais: false,
                    activity: .fishing)))
        #expect(event == expected)
    }
}
