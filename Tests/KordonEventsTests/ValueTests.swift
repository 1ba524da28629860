import KordonEvents
import Testing

/// Field formats and ranges at their boundaries.
@Suite struct ValueTests {
    @Test func latitudeAndLongitudeBounds() {
        for lat: J in [90, -90, 90.0, 0] {
            #expect(rejection(Samples.patrol.setting("position.lat", to: lat)) == nil)
        }
        for lon: J in [180, -180] {
            #expect(rejection(Samples.vessel.setting("position.lon", to: lon)) == nil)
        }
        #expect(
            rejection(Samples.patrol.setting("position.lat", to: .raw("90.0001")))
                == "patrol.position.lat: out of range (-90 to 90): 90.0001")
        #expect(
            rejection(Samples.sensor.setting("position.lat", to: .raw("-90.5")))
                == "sensor.position.lat: out of range (-90 to 90): -90.5")
        #expect(
            rejection(Samples.vessel.setting("position.lon", to: .raw("-180.000001")))
                == "vessel.position.lon: out of range (-180 to 180): -180.000001")
    }

    @Test func headingAndConfidenceBounds() throws {
        #expect(rejection(Samples.patrol.setting("headingDeg", to: 360)) == nil)
        #expect(rejection(Samples.vessel.setting("headingDeg", to: 0)) == nil)
        #expect(
            rejection(Samples.patrol.setting("headingDeg", to: 360.5))
                == "patrol.headingDeg: out of range (0 to 360): 360.5")
        #expect(
            rejection(Samples.vessel.setting("headingDeg", to: .raw("-1"))) == "vessel.headingDeg: out of range (0 to 360): -1")
        for (confidence, expected) in [(J.raw("0"), 0.0), (.raw("1"), 1.0), (.raw("1.0"), 1.0), (.raw("0e0"), 0)] {
            let event = try decoded(Samples.sensor.setting("confidence", to: confidence))
            guard case .sensor(let sensor) = event.body else { throw Failure() }
            #expect(sensor.confidence == expected)
        }
        #expect(rejection(Samples.sensor.setting("confidence", to: 1.01)) == "sensor.confidence: out of range (0 to 1): 1.01")
        #expect(rejection(Samples.sensor.setting("confidence", to: .raw("-0.1"))) == "sensor.confidence: out of range (0 to 1): -0.1")
    }

    @Test func countsAreNonNegativeIntegerTokens() throws {
        #expect(rejection(Samples.patrol.setting("count", to: .raw("-1"))) == "patrol.count: must not be negative: -1")
        #expect(rejection(Samples.patrol.setting("count", to: .raw("3.0"))) == "patrol.count: not an integer: 3.0")
        #expect(rejection(Samples.sensor.setting("count", to: .raw("1e2"))) == "sensor.count: not an integer: 1e2")
        #expect(rejection(Samples.sensor.setting("count", to: "3")) == "sensor.count: not a number (found string)")
        let event = try decoded(Samples.patrol.setting("count", to: .raw("9223372036854775807")))
        guard case .patrol(let patrol) = event.body else { throw Failure() }
        #expect(patrol.count == Int.max)
        #expect(
            rejection(Samples.patrol.setting("count", to: .raw("9223372036854775808")))
                == "patrol.count: integer out of range: 9223372036854775808")
        let huge = String(repeating: "1234567890", count: 30)
        #expect(
            rejection(Samples.patrol.setting("count", to: .raw(huge)))
                == "patrol.count: integer out of range: \(huge.prefix(40))…")
    }

    @Test func versionMustBeTheIntegerOne() {
        #expect(rejection(Samples.vessel.setting("v", to: 2)) == "v: unsupported version 2")
        #expect(rejection(Samples.vessel.setting("v", to: .raw("-1"))) == "v: unsupported version -1")
        #expect(rejection(Samples.vessel.setting("v", to: .raw("1.0"))) == "v: not an integer: 1.0")
        #expect(rejection(Samples.vessel.setting("v", to: .raw("99999999999999999999"))) == "v: integer out of range: 99999999999999999999")
    }

    @Test func quantitiesAreNonNegative() {
        let cases: [(J, String, String)] = [
            (Samples.crossing, "vehicle.declaredWeightKg", "crossing.vehicle.declaredWeightKg"),
            (Samples.crossing, "vehicle.measuredWeightKg", "crossing.vehicle.measuredWeightKg"),
            (Samples.crossing, "goods[0].weightKg", "crossing.goods[0].weightKg"),
            (Samples.crossing, "goods[0].valueUsd", "crossing.goods[0].valueUsd"),
            (Samples.crossing, "goods[0].quantity", "crossing.goods[0].quantity"),
            (Samples.inspection, "durationSec", "inspection.durationSec"),
            (Samples.inspection, "findings[0].weightKg", "inspection.findings[0].weightKg"),
            (Samples.inspection, "findings[0].quantity", "inspection.findings[0].quantity"),
            (Samples.vessel, "speedKn", "vessel.speedKn"),
        ]
        for (sample, path, reported) in cases {
            #expect(rejection(sample.setting(path, to: .raw("-5"))) == "\(reported): must not be negative: -5")
            #expect(rejection(sample.setting(path, to: .raw("0"))) == nil)
        }
    }

    @Test func hugeAndTinyNumbers() throws {
        #expect(
            rejection(Samples.crossing.setting("vehicle.declaredWeightKg", to: .raw("1e400")))
                == "crossing.vehicle.declaredWeightKg: number out of range: 1e400")
        #expect(
            rejection(Samples.vessel.setting("speedKn", to: .raw("1" + String(repeating: "0", count: 309))))
                == "vessel.speedKn: number out of range: 1\(String(repeating: "0", count: 39))…")
        let event = try decoded(
            Samples.vessel.setting("speedKn", to: .raw("1" + String(repeating: "0", count: 300))).setting(
                "headingDeg", to: .raw("1e-400")))
        guard case .vessel(let vessel) = event.body else { throw Failure() }
        #expect(vessel.speedKn == 1e300)
        #expect(vessel.headingDeg == 0)
    }

    @Test(arguments: [
        "0.1", "51.213", "58.902", "0.30000000000000004", "1.7976931348623157e308", "2.2250738585072014e-308",
        "4.9e-324", "123456789012345678901234567890", "9007199254740993", "0.000001", "1E+2", "12.5e-1",
        "179.99999999999997", "3.141592653589793238462643383279", "8.98846567431158e307",
    ])
    func doublesAreCorrectlyRounded(text: String) throws {
        let event = try decoded(Samples.crossing.setting("goods[0].valueUsd", to: .raw(text)))
        guard case .crossing(let crossing) = event.body else { throw Failure() }
        #expect(crossing.goods?.first?.valueUsd == Double(text))
    }

    @Test func idIsOneTo128Bytes() {
        #expect(rejection(Samples.sensor.setting("id", to: .string(String(repeating: "a", count: 128)))) == nil)
        #expect(rejection(Samples.sensor.setting("id", to: .string(String(repeating: "é", count: 64)))) == nil)
        #expect(
            rejection(Samples.sensor.setting("id", to: .string(String(repeating: "a", count: 129))))
                == "id: longer than 128 bytes")
        #expect(
            rejection(Samples.sensor.setting("id", to: .string(String(repeating: "€", count: 43))))
                == "id: longer than 128 bytes")
        #expect(rejection(Samples.sensor.setting("id", to: "")) == "id: must not be empty")
    }

    @Test func requiredStringsAreNonEmpty() {
        #expect(rejection(Samples.crossing.setting("checkpoint", to: "")) == "crossing.checkpoint: must not be empty")
        #expect(rejection(Samples.crossing.setting("vehicle.plate", to: "")) == "crossing.vehicle.plate: must not be empty")
        #expect(rejection(Samples.patrol.setting("unit", to: "")) == "patrol.unit: must not be empty")
        // Optional strings may be empty.
        #expect(rejection(Samples.crossing.setting("officer", to: "")) == nil)
    }

    @Test func hsCodes() {
        for hs in ["0703", "0703100000", "851712"] {
            #expect(rejection(Samples.crossing.setting("goods[0].hs", to: .string(hs))) == nil)
        }
        for hs in ["070", "07031000001", "07A3", "", "０７０３", " 0703"] {
            #expect(
                rejection(Samples.crossing.setting("goods[0].hs", to: .string(hs)))
                    == "crossing.goods[0].hs: not an HS code (4 to 10 digits): \(jsonString(hs))")
        }
        #expect(
            rejection(Samples.inspection.setting("findings[0].hs", to: "12"))
                == #"inspection.findings[0].hs: not an HS code (4 to 10 digits): "12""#)
    }

    @Test func coversArePrefixesOfTwoToTenDigits() throws {
        let json = Samples.crossing.setting("permits[0].covers", to: ["44", "4403100000", "93"])
        #expect(rejection(json) == nil)
        #expect(rejection(Samples.crossing.setting("permits[0].covers", to: [])) == nil)
        #expect(
            rejection(Samples.crossing.setting("permits[0].covers", to: ["44", "7"]))
                == #"crossing.permits[0].covers[1]: not an HS code prefix (2 to 10 digits): "7""#)
        #expect(
            rejection(Samples.crossing.setting("permits[0].covers", to: ["44031000001"]))
                == #"crossing.permits[0].covers[0]: not an HS code prefix (2 to 10 digits): "44031000001""#)
        let permit = Permit(id: "p", type: .hunting, covers: ["93", "4403"])
        #expect(permit.covers(hs: "930320"))
        #expect(permit.covers(hs: "4403"))
        #expect(!permit.covers(hs: "4401"))
        #expect(Permit(id: "p", type: .hunting).covers(hs: "0101"))
        #expect(!Permit(id: "p", type: .hunting, covers: []).covers(hs: "0101"))
    }

    @Test func countryCodes() {
        #expect(
            rejection(Samples.crossing.setting("country", to: "kz"))
                == #"crossing.country: not a country code (two upper-case letters): "kz""#)
        #expect(
            rejection(Samples.crossing.setting("country", to: "KAZ"))
                == #"crossing.country: not a country code (two upper-case letters): "KAZ""#)
        #expect(
            rejection(Samples.crossing.setting("goods[0].origin", to: "U1"))
                == #"crossing.goods[0].origin: not a country code (two upper-case letters): "U1""#)
        // The format is checked, not the list.
        #expect(rejection(Samples.crossing.setting("country", to: "ZZ")) == nil)
    }

    @Test func escapedValuesAreDecodedBeforeChecking() throws {
        let json = Samples.crossing.setting("direction", to: .raw(#""\u0065xit""#)).setting(
            "country", to: .raw(#""\u004B\u005A""#))
        guard case .crossing(let crossing) = try decoded(json).body else { throw Failure() }
        #expect(crossing.direction == .exit)
        #expect(crossing.country == "KZ")
        let note = try decoded(Samples.patrol.setting("note", to: .raw(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#)))
        guard case .patrol(let patrol) = note.body else { throw Failure() }
        #expect(patrol.note == "a\"b\\c/d\u{08}\u{0C}\n\r\té😀")
    }

    @Test func quotedValuesInReasonsAreEscapedAndCut() {
        #expect(
            rejection(Samples.crossing.setting("direction", to: "ex\"it\n"))
                == #"crossing.direction: not one of exit, entry: "ex\"it\u000A""#)
        let long = String(repeating: "é", count: 40)
        #expect(
            rejection(Samples.crossing.setting("direction", to: .string(long)))
                == "crossing.direction: not one of exit, entry: \"\(String(repeating: "é", count: 32))\"…")
    }
}

struct Failure: Error {}
