import KordonEvents
import PropertyBased
import Testing

/// Event times, permit expiry and the RFC 3339 formatter.
@Suite struct TimeTests {
    private func eventTime(_ text: String) throws -> Timestamp {
        try decoded(Samples.vessel.setting("time", to: .string(text))).time
    }

    @Test func offsetsAreNormalisedToUTC() throws {
        #expect(try eventTime("2026-11-28T06:14:03+05:00") == eventTime("2026-11-28T01:14:03Z"))
        #expect(try eventTime("2026-11-28T06:14:03+05:00").rfc3339 == "2026-11-28T01:14:03Z")
        #expect(try eventTime("2026-01-01T02:00:00+05:30").rfc3339 == "2025-12-31T20:30:00Z")
        #expect(try eventTime("2026-12-31T22:00:00-03:30").rfc3339 == "2027-01-01T01:30:00Z")
        #expect(try eventTime("2026-06-01T00:00:00+23:59").rfc3339 == "2026-05-31T00:01:00Z")
        #expect(try eventTime("2026-06-01T00:00:00-00:00").rfc3339 == "2026-06-01T00:00:00Z")
        #expect(try eventTime("1970-01-01T00:00:00Z").nanosecondsSinceEpoch == 0)
        #expect(try eventTime("2026-11-28T01:14:03Z").nanosecondsSinceEpoch == 1_795_828_443_000_000_000)
    }

    @Test func fractionsUpToNanoseconds() throws {
        #expect(try eventTime("2026-11-28T01:14:03.1Z").nanosecondsSinceEpoch == 1_795_828_443_100_000_000)
        #expect(try eventTime("2026-11-28T01:14:03.123456789Z").nanosecondsSinceEpoch == 1_795_828_443_123_456_789)
        #expect(try eventTime("2026-11-28T01:14:03.000000001+00:00").rfc3339 == "2026-11-28T01:14:03.000000001Z")
        #expect(
            rejection(Samples.vessel.setting("time", to: "2026-11-28T01:14:03.1234567891Z"))
                == #"time: more than 9 fraction digits: "2026-11-28T01:14:03.1234567891Z""#)
        #expect(
            rejection(Samples.vessel.setting("time", to: "2026-11-28T01:14:03.Z"))
                == #"time: not RFC 3339: "2026-11-28T01:14:03.Z""#)
    }

    @Test func leapYears() throws {
        #expect(try eventTime("2028-02-29T12:00:00Z").rfc3339 == "2028-02-29T12:00:00Z")
        #expect(try eventTime("2000-02-29T00:00:00Z").rfc3339 == "2000-02-29T00:00:00Z")
        #expect(
            rejection(Samples.vessel.setting("time", to: "2027-02-29T12:00:00Z"))
                == #"time: not a calendar date: "2027-02-29T12:00:00Z""#)
        #expect(
            rejection(Samples.vessel.setting("time", to: "2100-02-29T12:00:00Z"))
                == #"time: not a calendar date: "2100-02-29T12:00:00Z""#)
        #expect(
            rejection(Samples.vessel.setting("time", to: "2026-02-30T00:00:00Z"))
                == #"time: not a calendar date: "2026-02-30T00:00:00Z""#)
        #expect(
            rejection(Samples.vessel.setting("time", to: "2026-04-31T00:00:00Z"))
                == #"time: not a calendar date: "2026-04-31T00:00:00Z""#)
        #expect(
            rejection(Samples.vessel.setting("time", to: "2026-13-01T00:00:00Z"))
                == #"time: not a calendar date: "2026-13-01T00:00:00Z""#)
    }

    @Test(arguments: [
        ("2026-11-28T23:59:60Z", "not a time of day"), ("2026-11-28T24:00:00Z", "not a time of day"),
        ("2026-11-28T12:60:00Z", "not a time of day"), ("2026-11-28T12:00:00+24:00", "offset out of range"),
        ("2026-11-28T12:00:00+05:60", "offset out of range"), ("28/11/2026", "not RFC 3339"),
        ("2026-11-28t12:00:00Z", "not RFC 3339"), ("2026-11-28T12:00:00z", "not RFC 3339"),
        ("2026-11-28 12:00:00Z", "not RFC 3339"), ("2026-11-28T12:00:00", "not RFC 3339"),
        ("2026-11-28T12:00Z", "not RFC 3339"), ("2026-11-28", "not RFC 3339"), ("", "not RFC 3339"),
        ("2026-11-28T12:00:00+0500", "not RFC 3339"), ("2026-11-28T12:00:00Z ", "not RFC 3339"),
        ("+2026-11-28T12:00:00Z", "not RFC 3339"), ("2026-11-28T12:00:00+05:00Z", "not RFC 3339"),
        ("1677-01-01T00:00:00Z", "outside 1677-09-21 to 2262-04-11"),
        ("2262-04-12T00:00:00Z", "outside 1677-09-21 to 2262-04-11"),
    ])
    func invalidTimes(text: String, reason: String) {
        #expect(rejection(Samples.vessel.setting("time", to: .string(text))) == "time: \(reason): \(jsonString(text))")
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func validUntilIsADateOrADateTime() throws {
        let date = Samples.crossing.setting("permits[0].validUntil", to: "2028-02-29")
        guard case .crossing(let crossing) = try decoded(date).body else { throw Failure() }
        let until = try #require(crossing.permits?.first?.validUntil)
        #expect(until == .date(try #require(CalendarDate(year: 2028, month: 2, day: 29))))
        // Valid through the whole (UTC) day.
        #expect(until.lastValidInstant.rfc3339 == "2028-02-29T23:59:59.999999999Z")
        #expect(until.isValid(at: time("2028-02-29T23:59:59.999999999Z")))
        #expect(!until.isValid(at: time("2028-03-01T00:00:00Z")))
        #expect(
            rejection(Samples.crossing.setting("permits[0].validUntil", to: "2027-02-29"))
                == #"crossing.permits[0].validUntil: not a calendar date: "2027-02-29""#)
        #expect(
            rejection(Samples.crossing.setting("permits[0].validUntil", to: "2027-1-01"))
                == #"crossing.permits[0].validUntil: not RFC 3339: "2027-1-01""#)
        let instant = ValidUntil.instant(time("2027-01-31T12:00:00Z"))
        #expect(instant.lastValidInstant == time("2027-01-31T12:00:00Z"))
        // A far date is clamped to the last representable instant rather than overflowing.
        let far = ValidUntil.date(try #require(CalendarDate(year: 9999, month: 12, day: 31)))
        #expect(far.lastValidInstant.nanosecondsSinceEpoch == .max)
    }

    @Test func formatterTrimsFractions() {
        #expect(Timestamp(nanosecondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1_500_000_000).rfc3339 == "1970-01-01T00:00:01.5Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1_000_000_010).rfc3339 == "1970-01-01T00:00:01.00000001Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999999999Z")
        #expect(Timestamp(nanosecondsSinceEpoch: .min).rfc3339 == "1677-09-21T00:12:43.145224192Z")
        #expect(Timestamp(nanosecondsSinceEpoch: .max).rfc3339 == "2262-04-11T23:47:16.854775807Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 5).description == "1970-01-01T00:00:00.000000005Z")
        #expect(time("2026-11-28T01:14:03Z") < time("2026-11-28T01:14:03.000000001Z"))
    }

    @Test func formatterAndParserRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int64(in: .min ... .max)) { nanoseconds in
            let timestamp = Timestamp(nanosecondsSinceEpoch: nanoseconds)
            #expect(Timestamp(rfc3339: timestamp.rfc3339) == timestamp)
        }
    }

    @Test func calendarDaysRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int(in: -719_528...2_932_896)) { days in
            // Days of 0000-01-01 ... 9999-12-31.
            let date = CalendarDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(CalendarDate(year: date.year, month: date.month, day: date.day) == date)
        }
    }
}
