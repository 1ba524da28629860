#if canImport(Glibc)
import Glibc
#endif

/// An instant as nanoseconds since 1970-01-01T00:00:00Z.
///
/// Int64 nanoseconds span 1677-09-21 to 2262-04-11; event times outside that
/// span are rejected by the decoder.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// The wall clock, to the microsecond (what alerts' `emittedAt` shows).
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec) / 1000 * 1000)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` exactly as the decoder does.
    public init?(rfc3339 text: String) {
        var text = text
        let parsed = text.withUTF8 { TimeSyntax.parse(UnsafeRawBufferPointer($0), allowDate: false) }
        guard case .instant(let time) = parsed else { return nil }
        self = time
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// RFC 3339 in UTC, e.g. `2026-11-28T01:14:03Z`; a fraction only when non-zero, without trailing zeros.
    public var rfc3339: String {
        let ns = Int(nanosecondsSinceEpoch)
        let (seconds, fraction) = floorDivide(ns, 1_000_000_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let date = CalendarDate(daysSinceEpoch: days)
        var digits = fraction
        var fractionLength = fraction == 0 ? 0 : 9
        while fractionLength > 0, digits % 10 == 0 {
            digits /= 10
            fractionLength -= 1
        }
        return String(unsafeUninitializedCapacity: 30) { out in
            var at = date.write(to: out)
            out[at] = UInt8(ascii: "T")
            at += 1
            func two(_ value: Int, then separator: UInt8?) {
                out[at] = UInt8(ascii: "0") + UInt8(value / 10)
                out[at + 1] = UInt8(ascii: "0") + UInt8(value % 10)
                at += 2
                if let separator {
                    out[at] = separator
                    at += 1
                }
            }
            two(secondOfDay / 3600, then: UInt8(ascii: ":"))
            two(secondOfDay / 60 % 60, then: UInt8(ascii: ":"))
            two(secondOfDay % 60, then: nil)
            if fractionLength > 0 {
                out[at] = UInt8(ascii: ".")
                for i in stride(from: fractionLength, to: 0, by: -1) {
                    out[at + i] = UInt8(ascii: "0") + UInt8(digits % 10)
                    digits /= 10
                }
                at += fractionLength + 1
            }
            out[at] = UInt8(ascii: "Z")
            return at + 1
        }
    }

    public var description: String { rfc3339 }
}

/// A day of the proleptic Gregorian calendar.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// `nil` unless the date exists (year 0...9999, no 30 February).
    public init?(year: Int, month: Int, day: Int) {
        guard (0...9999).contains(year), (1...12).contains(month),
            (1...CalendarDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch: Int) {
        // Civil-from-days over 400-year eras of 146097 days, with years starting in March.
        let shifted = daysSinceEpoch + 719_468
        let era = floorDivide(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var daysSinceEpoch: Int {
        let marchYear = month <= 2 ? year - 1 : year
        let era = floorDivide(marchYear, 400).quotient
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        String(unsafeUninitializedCapacity: 10) { write(to: $0) }
    }

    /// Writes `YYYY-MM-DD` (10 bytes) and returns the count written.
    func write(to out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let zero = UInt8(ascii: "0")
        out[0] = zero + UInt8(year / 1000 % 10)
        out[1] = zero + UInt8(year / 100 % 10)
        out[2] = zero + UInt8(year / 10 % 10)
        out[3] = zero + UInt8(year % 10)
        out[4] = UInt8(ascii: "-")
        out[5] = zero + UInt8(month / 10)
        out[6] = zero + UInt8(month % 10)
        out[7] = UInt8(ascii: "-")
        out[8] = zero + UInt8(day / 10)
        out[9] = zero + UInt8(day % 10)
        return 10
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A permit's `validUntil`: the contract allows a plain date or a date-time.
///
/// Kept as written rather than collapsed to an instant, so the event
/// round-trips; `lastValidInstant` gives the instant rules compare against.
public enum ValidUntil: Sendable, Equatable {
    case date(CalendarDate)
    case instant(Timestamp)

    /// The last instant at which the permit is valid.
    ///
    /// A permit valid until a date is valid through that whole day. The
    /// contract names no time zone for a plain date; every other time in the
    /// pipeline is UTC, so the day is read as a UTC day, ending at
    /// 23:59:59.999999999Z (clamped to the last representable instant).
    public var lastValidInstant: Timestamp {
        switch self {
        case .instant(let time):
            return time
        case .date(let date):
            let (nanos, overflow) = Int64(date.daysSinceEpoch + 1)
                .multipliedReportingOverflow(by: 86_400_000_000_000)
            return Timestamp(nanosecondsSinceEpoch: overflow ? .max : nanos - 1)
        }
    }

    public func isValid(at time: Timestamp) -> Bool {
        time <= lastValidInstant
    }
}

/// Division rounding towards minus infinity, for a positive divisor; never overflows.
func floorDivide(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
    let remainder = value % divisor
    return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
}

/// The contract's time grammar over raw bytes, shared by the decoder and `Timestamp(rfc3339:)`.
enum TimeSyntax {
    enum Parsed {
        case instant(Timestamp)
        case date(CalendarDate)
        case invalid(Problem)
    }

    enum Problem {
        case format, fractionTooLong, noSuchDate, noSuchTime, offsetOutOfRange, outOfRange

        var reason: String {
            switch self {
            case .format: "not RFC 3339"
            case .fractionTooLong: "more than 9 fraction digits"
            case .noSuchDate: "not a calendar date"
            case .noSuchTime: "not a time of day"
            case .offsetOutOfRange: "offset out of range"
            case .outOfRange: "outside 1677-09-21 to 2262-04-11"
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, or `YYYY-MM-DD` when `allowDate`.
    static func parse(_ bytes: UnsafeRawBufferPointer, allowDate: Bool) -> Parsed {
        let count = bytes.count
        guard count >= 10, let year = digits(bytes, 0, 4), bytes[4] == dash, let month = digits(bytes, 5, 2),
            bytes[7] == dash, let day = digits(bytes, 8, 2)
        else { return .invalid(.format) }
        if allowDate, count == 10 {
            guard let date = CalendarDate(year: year, month: month, day: day) else {
                return .invalid(.noSuchDate)
            }
            return .date(date)
        }
        guard count >= 20, bytes[10] == UInt8(ascii: "T"), let hour = digits(bytes, 11, 2), bytes[13] == colon,
            let minute = digits(bytes, 14, 2), bytes[16] == colon, let second = digits(bytes, 17, 2)
        else { return .invalid(.format) }
        var at = 19
        var nanos = 0
        if bytes[at] == UInt8(ascii: ".") {
            at += 1
            let start = at
            while at < count, bytes[at] &- zero < 10 {
                if at - start < 9 { nanos = nanos * 10 + Int(bytes[at] &- zero) }
                at += 1
            }
            let length = at - start
            guard length > 0 else { return .invalid(.format) }
            guard length <= 9 else { return .invalid(.fractionTooLong) }
            for _ in length..<9 { nanos *= 10 }
        }
        guard at < count else { return .invalid(.format) }
        var offsetMinutes = 0
        var offsetHour = 0
        var offsetMinute = 0
        if bytes[at] == UInt8(ascii: "Z") {
            at += 1
        } else if bytes[at] == UInt8(ascii: "+") || bytes[at] == dash {
            guard at + 6 <= count, let hours = digits(bytes, at + 1, 2), bytes[at + 3] == colon,
                let minutes = digits(bytes, at + 4, 2)
            else { return .invalid(.format) }
            offsetHour = hours
            offsetMinute = minutes
            offsetMinutes = (bytes[at] == dash ? -1 : 1) * (hours * 60 + minutes)
            at += 6
        } else {
            return .invalid(.format)
        }
        guard at == count else { return .invalid(.format) }
        guard let date = CalendarDate(year: year, month: month, day: day) else { return .invalid(.noSuchDate) }
        guard hour < 24, minute < 60, second < 60 else { return .invalid(.noSuchTime) }
        guard offsetHour < 24, offsetMinute < 60 else { return .invalid(.offsetOutOfRange) }
        // Years 0...9999 keep this within Int; only the nanosecond scaling can overflow.
        let seconds = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        let (scaled, overflow) = Int64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowAdding) = scaled.addingReportingOverflow(Int64(nanos))
        guard !overflow, !overflowAdding else { return .invalid(.outOfRange) }
        return .instant(Timestamp(nanosecondsSinceEpoch: total))
    }

    private static let zero = UInt8(ascii: "0")
    private static let dash = UInt8(ascii: "-")
    private static let colon = UInt8(ascii: ":")

    /// The decimal number in `bytes[at..<at + length]` (in bounds), or nil if any byte is not a digit.
    @inline(__always)
    private static func digits(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ length: Int) -> Int? {
        var value = 0
        for i in at..<at + length {
            let digit = bytes[i] &- zero
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}
