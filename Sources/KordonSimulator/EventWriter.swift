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
        var json = JSONBytes()
        write(event, &json, timed: true)
        json.append(to: &out)
    }

    /// Appends the event's JSON line with a gap for the value of `time` (`JSONBytes.timeGap`); returns where the gap is.
    func untimed(_ event: Event, to json: inout JSONBytes) -> Int {
        let timeAt = write(event, &json, timed: false)
        json.newline()
        return timeAt
    }

    /// Returns where the time's value is (or its gap, unless `timed`).
    @discardableResult private func write(_ event: Event, _ json: inout JSONBytes, timed: Bool) -> Int {
        json.open()
        json.key("v")
        json.integer(event.version)
        json.key("id")
        json.string(event.id)
        json.key("kind")
        json.raw(event.kind.rawValue)
        json.key("time")
        let timeAt = json.written
        if timed {
            json.time(event.time)
        } else {
            json.timeGap()
        }
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
        return timeAt
    }

    /// Appends `time` as a JSON string, as `append` writes it.
    static func appendTime(_ time: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONBytes.timeBytes) { buffer in
            let count = JSONBytes.formatTime(time, into: buffer.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
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
        if let persons = crossing.persons { json.persons(persons) }
        if let vehicle = crossing.vehicle {
            json.openVehicle(vehicle)
            json.member("measuredWeightKg", vehicle.measuredWeightKg)
            json.close()
        }
        if let goods = crossing.goods { json.goods(goods) }
        if let permits = crossing.permits { json.permits(permits) }
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

/// A crossing's parts, shared by `EventWriter` and the simulator, which writes a trip's once for its exit and entry.
extension JSONBytes {
    mutating func persons(_ persons: [Person]) {
        key("persons")
        array(persons) { json, person in
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

    /// The vehicle up to its measured weight, which the entry side adds before `close()`.
    mutating func openVehicle(_ vehicle: Vehicle) {
        key("vehicle")
        open()
        member("plate", vehicle.plate)
        if let type = vehicle.type {
            key("type")
            raw(type.rawValue)
        }
        member("trailer", vehicle.trailer)
        member("declaredWeightKg", vehicle.declaredWeightKg)
    }

    mutating func goods(_ goods: [Goods]) {
        key("goods")
        array(goods) { json, item in
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

    mutating func permits(_ permits: [Permit]) {
        key("permits")
        array(permits) { json, permit in
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
}

/// The byte-level JSON emitter behind `EventWriter` and the labels file. It writes through a pointer
/// into its own buffer: `Array.append` per token (a uniqueness and a capacity check each) cost more
/// than the JSON itself.
struct JSONBytes: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private var needsComma = false
    /// Whether `base` is ours to free, or memory lent by `init(in:)`.
    private var owned: Bool

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
        owned = true
    }

    /// Writes into `memory` while it lasts, then into memory of its own.
    init(in memory: UnsafeMutableBufferPointer<UInt8>) {
        capacity = memory.count
        owned = memory.baseAddress == nil
        base = memory.baseAddress ?? .allocate(capacity: 0)
    }

    deinit {
        if owned { base.deallocate() }
    }

    /// The bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    var written: Int { count }

    /// Continues as if a value had been written, for one filled in later.
    mutating func leaveValueOut() {
        needsComma = true
    }

    func append(to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
    }

    /// Copies the bytes at `range` of what was written to `out`.
    func copy(_ range: Range<Int>, to out: UnsafeMutablePointer<UInt8>) {
        out.update(from: base + range.lowerBound, count: range.count)
    }

    /// Starts a value no comma separates from what went before: another event, or a part kept for reuse.
    mutating func detach() {
        needsComma = false
    }

    /// Repeats bytes written earlier at `range`, no comma before them.
    mutating func copy(_ range: Range<Int>) {
        reserve(range.count)
        (base + count).initialize(from: base + range.lowerBound, count: range.count)
        count += range.count
    }

    /// Bytes written as they are, no comma before them.
    @inline(__always) mutating func literal(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (base + count).initialize(from: text.utf8Start, count: length)
        count += length
    }

    /// Bytes encoded beforehand, no comma before them.
    mutating func literal(_ encoded: ConstantBytes) {
        reserve(encoded.count)
        (base + count).initialize(from: encoded.start, count: encoded.count)
        count += encoded.count
    }

    /// Bytes encoded beforehand, no comma before them.
    mutating func literal(_ encoded: [UInt8]) {
        reserve(encoded.count)
        encoded.withUnsafeBufferPointer { (base + count).initialize(from: $0.baseAddress!, count: $0.count) }
        count += encoded.count
    }

    /// Lets `fill` write `length` bytes in place.
    @inline(__always) mutating func fill(_ length: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        reserve(length)
        fill(base + count)
        count += length
    }

    /// `{"v":1,"id":"PREFIX-`: an event's JSON up to its id's serial, which needs no escaping, so this
    /// is the id's JSON string up to its digits.
    static func idOpen(_ prefix: String) -> [UInt8] {
        var json = JSONBytes(capacity: 256)
        json.open()
        json.key("v")
        json.integer(1)
        json.key("id")
        json.string(prefix + "-")
        return json.bytes.dropLast()
    }

    /// Starts an event with an id opened by `idOpen` and a `kindAndTime` such as `","kind":"sensor","time":`,
    /// up to a `timeGap`; returns where the gap is, from the event's `start`.
    mutating func head(_ idOpen: [UInt8], _ number: UInt64, _ kindAndTime: StaticString, from start: Int) -> Int {
        literal(idOpen)
        return head(number, kindAndTime, from: start)
    }

    mutating func head(_ idOpen: ConstantBytes, _ number: UInt64, _ kindAndTime: StaticString, from start: Int) -> Int {
        literal(idOpen)
        return head(number, kindAndTime, from: start)
    }

    private mutating func head(_ number: UInt64, _ kindAndTime: StaticString, from start: Int) -> Int {
        serial(number)
        literal(kindAndTime)
        let timeAt = count - start
        needsComma = false
        timeGap()
        return timeAt
    }

    /// `"position":{"lat":…,"lon":…}` with a comma before it, whatever came before, of a position
    /// rounded to four decimals (`Simulator.tenThousandths`).
    mutating func positionMember(_ position: (lat: Int, lon: Int)) {
        literal(",\"position\":{\"lat\":")
        scaled(position.lat, places: 4)
        literal(",\"lon\":")
        scaled(position.lon, places: 4)
        literal("}")
    }

    /// An event id's serial as `Identities.eventId` spells it: at least ten digits.
    mutating func serial(_ number: UInt64) {
        guard number < 10_000_000_000 else {
            let digits = Identities.digitCount(number)
            fill(digits) { Identities.decimal(number, into: UnsafeMutableBufferPointer(start: $0, count: digits)) }
            return
        }
        fill(10) { out in
            // The last eight digits in 32 bits, where dividing by a constant is cheaper.
            var rest = UInt32(truncatingIfNeeded: number % 100_000_000)
            for index in stride(from: 8, through: 2, by: -2) {
                Self.pair(Int(rest % 100), at: out + index)
                rest /= 100
            }
            Self.pair(Int(number / 100_000_000), at: out)
        }
    }

    mutating func newline() {
        reserve(1)
        put(0x0A)
    }

    mutating func open() {
        reserve(2)
        comma()
        put(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        reserve(1)
        put(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<C: Collection>(_ items: C, _ element: (inout JSONBytes, C.Element) -> Void) {
        reserve(2)
        comma()
        put(UInt8(ascii: "["))
        needsComma = false
        for item in items { element(&self, item) }
        reserve(1)
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    @inline(__always) mutating func key(_ name: StaticString) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        comma()
        put(UInt8(ascii: "\""))
        (base + count).initialize(from: name.utf8Start, count: length)
        count += length
        put(UInt8(ascii: "\""))
        put(UInt8(ascii: ":"))
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
        reserve(5)
        if value {
            put(UInt8(ascii: "t"))
            put(UInt8(ascii: "r"))
            put(UInt8(ascii: "u"))
            put(UInt8(ascii: "e"))
        } else {
            put(UInt8(ascii: "f"))
            put(UInt8(ascii: "a"))
            put(UInt8(ascii: "l"))
            put(UInt8(ascii: "s"))
            put(UInt8(ascii: "e"))
        }
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
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            reserve(utf8.count + 3)
            comma()
            put(UInt8(ascii: "\""))
            if let source = utf8.baseAddress { (base + count).initialize(from: source, count: utf8.count) }
            count += utf8.count
            put(UInt8(ascii: "\""))
        }
        if done == nil { string(value) }
        needsComma = true
    }

    mutating func string(_ value: String) {
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            reserve(utf8.count + 3)
            comma()
            put(UInt8(ascii: "\""))
            if let source = utf8.baseAddress { (base + count).initialize(from: source, count: utf8.count) }
            count += utf8.count
            put(UInt8(ascii: "\""))
            return true
        }
        if copied == true {
            needsComma = true
            return
        }
        reserve(3)
        comma()
        put(UInt8(ascii: "\""))
        for byte in value.utf8 {
            reserve(7)
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                put(UInt8(ascii: "\\"))
                put(byte)
            case 0..<0x20:
                put(UInt8(ascii: "\\"))
                put(UInt8(ascii: "u"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "0"))
                put(Self.hex(byte >> 4))
                put(Self.hex(byte & 0x0F))
            default:
                put(byte)
            }
        }
        reserve(1)
        put(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func integer(_ value: Int) {
        reserve(21)
        comma()
        digits(value)
        needsComma = true
    }

    /// Integral values print as integer tokens (`18200`), others in Swift's shortest
    /// round-trip form, which is deterministic and valid JSON.
    mutating func number(_ value: Double) {
        reserve(1)
        comma()
        bareNumber(value)
        needsComma = true
    }

    /// `number` without a comma before it.
    mutating func bareNumber(_ value: Double) {
        if abs(value) < 1e15, value == value.roundedHalfAway {
            reserve(21)
            digits(Int(value))
            return
        }
        if abs(value) < 1e9 {
            // Up to four decimals (weights, coordinates, confidences) without formatting a String:
            // the fewest decimals that read back as `value` are the shortest round-trip form.
            var scale = 1.0
            for places in 1...4 {
                scale *= 10
                let product = value * scale
                let scaled = product.roundedHalfAway
                // Reading back as `value` puts the product within an ulp or two of `scaled`: testing that
                // first skips the division where it cannot.
                if abs(product - scaled) <= abs(product) * 0x1p-50, scaled / scale == value {
                    reserve(24)
                    decimal(Int(scaled), places: places)
                    return
                }
            }
        }
        let text = value.description
        reserve(text.utf8.count)
        for byte in text.utf8 { put(byte) }
    }

    /// `bareNumber(Double(units) / 10^places)` for `places` up to 4, from the integer a value was rounded
    /// to: trailing zeros dropped, no floating-point tests. Below 10^9 the shortest round-trip form of
    /// such a value is exactly that decimal, as decimals that far apart are distinct doubles.
    mutating func scaled(_ units: Int, places: Int) {
        guard units.magnitude < 1_000_000_000 else {
            var divisor = 1.0
            for _ in 0..<places { divisor *= 10 }
            bareNumber(Double(units) / divisor)
            return
        }
        var units = units
        var places = places
        while places > 0, units % 10 == 0 {
            units /= 10
            places -= 1
        }
        reserve(24)
        if places == 0 {
            digits(units)
        } else {
            decimal(units, places: places)
        }
    }

    /// RFC 3339 in UTC, a fraction only when non-zero.
    mutating func time(_ time: Timestamp) {
        reserve(Self.timeBytes + 1)
        comma()
        count += Self.formatTime(time.nanosecondsSinceEpoch, into: base + count)
        needsComma = true
    }

    /// Most bytes `formatTime` writes.
    static let timeBytes = 32
    /// The bytes `formatTime` writes for a time in whole seconds, which the simulator's are but for a
    /// start with a fraction: events leave a gap this long for their time, filled in when written.
    static let wholeTimeBytes = 22

    /// A gap for a time in whole seconds (see `TimeText`).
    mutating func timeGap() {
        reserve(Self.wholeTimeBytes + 1)
        comma()
        (base + count).initialize(repeating: UInt8(ascii: " "), count: Self.wholeTimeBytes)
        count += Self.wholeTimeBytes
        needsComma = true
    }

    /// Writes `ns` as a quoted RFC 3339 time in UTC (a fraction only when non-zero); returns the count written.
    static func formatTime(_ ns: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
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
        let date = CalendarDate(daysSinceEpoch: Int(days))
        func two(_ value: Int, at index: Int) {
            out[index] = UInt8(ascii: "0") + UInt8(value / 10)
            out[index + 1] = UInt8(ascii: "0") + UInt8(value % 10)
        }
        out[0] = UInt8(ascii: "\"")
        two(date.year / 100 % 100, at: 1)
        two(date.year % 100, at: 3)
        out[5] = UInt8(ascii: "-")
        two(date.month, at: 6)
        out[8] = UInt8(ascii: "-")
        two(date.day, at: 9)
        out[11] = UInt8(ascii: "T")
        two(Int(secondOfDay / 3600), at: 12)
        out[14] = UInt8(ascii: ":")
        two(Int(secondOfDay / 60 % 60), at: 15)
        out[17] = UInt8(ascii: ":")
        two(Int(secondOfDay % 60), at: 18)
        var count = 20
        if fraction > 0 {
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            out[count] = UInt8(ascii: ".")
            for index in stride(from: count + width, to: count, by: -1) {
                out[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
            }
            count += width + 1
        }
        out[count] = UInt8(ascii: "Z")
        out[count + 1] = UInt8(ascii: "\"")
        return count + 2
    }

    @inline(__always) private mutating func reserve(_ bytes: Int) {
        if count + bytes > capacity { grow(count + bytes) }
    }

    private mutating func grow(_ needed: Int) {
        let larger = max(needed, 2 * capacity)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: base, count: count)
        if owned { base.deallocate() }
        base = moved
        capacity = larger
        owned = true
    }

    /// Writes one byte into room already reserved.
    @inline(__always) private mutating func put(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// An integer (up to 20 bytes reserved).
    private mutating func digits(_ value: Int) {
        var magnitude = value.magnitude
        if value < 0 { put(UInt8(ascii: "-")) }
        // Counted by comparisons up to eight digits, which weights, prices and counts stay within.
        var length: Int
        if magnitude < 10_000 {
            length = magnitude < 100 ? (magnitude < 10 ? 1 : 2) : (magnitude < 1000 ? 3 : 4)
        } else if magnitude < 100_000_000 {
            length = magnitude < 1_000_000 ? (magnitude < 100_000 ? 5 : 6) : (magnitude < 10_000_000 ? 7 : 8)
        } else {
            length = 9
            var rest = magnitude / 1_000_000_000
            while rest > 0 {
                length += 1
                rest /= 10
            }
        }
        count += length
        var index = count
        // Two digits at a time from a table: half the divisions.
        while magnitude >= 10 {
            index -= 2
            Self.pair(Int(magnitude % 100), at: base + index)
            magnitude /= 100
        }
        if index > count - length { base[index - 1] = UInt8(ascii: "0") + UInt8(magnitude) }
    }

    /// Writes `value` (below 100) as two digits.
    @inline(__always) static func pair(_ value: Int, at out: UnsafeMutablePointer<UInt8>) {
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
            """
        out[0] = pairs.utf8Start[2 * value]
        out[1] = pairs.utf8Start[2 * value + 1]
    }

    /// `scaled` / 10^`places` in plain decimal notation (up to 22 bytes reserved).
    private mutating func decimal(_ scaled: Int, places: Int) {
        if scaled < 0 { put(UInt8(ascii: "-")) }
        let magnitude = scaled.magnitude
        var divisor: UInt = 1
        for _ in 0..<places { divisor *= 10 }
        let whole = magnitude / divisor
        var fraction = magnitude % divisor
        digits(Int(whole))
        put(UInt8(ascii: "."))
        var index = count + places - 1
        for _ in 0..<places {
            base[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
            index -= 1
        }
        count += places
    }

    private mutating func comma() {
        if needsComma { put(UInt8(ascii: ",")) }
    }

    private static func hex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

/// Writes the times of events in whole seconds as `JSONBytes.formatTime` does, keeping the date of the
/// last one: events come in time order, so most share it, and only the time of day is formatted.
struct TimeText: Sendable {
    /// The first second of the day of the last time, from the epoch; `max` before the first, which no
    /// time's second lies within a day of.
    private var dayStart = Int64.max
    /// `"YYYY-MM-DDT` of that day, 12 bytes.
    private var date: (UInt64, UInt32) = (0, 0)

    /// Writes `ns` quoted at `out` in `JSONBytes.wholeTimeBytes` bytes if it is in whole seconds; false (nothing written) if not.
    mutating func whole(_ ns: Int64, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard ns % nanosPerSecond == 0 else { return false }
        let seconds = ns / nanosPerSecond
        // Within the day of the last time, the time of day is a subtraction away, and small enough for 32 bits.
        let sinceDayStart = seconds &- dayStart
        let raw = UnsafeMutableRawPointer(out)
        guard sinceDayStart >= 0, sinceDayStart < 86_400 else {
            _ = JSONBytes.formatTime(ns, into: out)
            let secondOfDay = (seconds % 86_400 + 86_400) % 86_400
            dayStart = seconds - secondOfDay
            date = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            return true
        }
        let secondOfDay = UInt32(truncatingIfNeeded: sinceDayStart)
        raw.storeBytes(of: date.0, as: UInt64.self)
        raw.storeBytes(of: date.1, toByteOffset: 8, as: UInt32.self)
        JSONBytes.pair(Int(secondOfDay / 3600), at: out + 12)
        out[14] = UInt8(ascii: ":")
        JSONBytes.pair(Int(secondOfDay / 60 % 60), at: out + 15)
        out[17] = UInt8(ascii: ":")
        JSONBytes.pair(Int(secondOfDay % 60), at: out + 18)
        out[20] = UInt8(ascii: "Z")
        out[21] = UInt8(ascii: "\"")
        return true
    }
}

/// Bytes encoded once that never change, in memory a `ConstantStore` keeps: handed around as a
/// pointer, so writing them retains and releases nothing.
struct ConstantBytes: @unchecked Sendable {
    let start: UnsafePointer<UInt8>
    let count: Int
}

/// Owns the memory of the `ConstantBytes` it was made with, and frees it when it goes. Unchecked
/// Sendable: nothing changes after `init`.
final class ConstantStore: @unchecked Sendable {
    /// One for each array given, in order.
    let list: UnsafeBufferPointer<ConstantBytes>
    private let memory: UnsafeMutablePointer<UInt8>

    init(_ arrays: [[UInt8]]) {
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, arrays.reduce(0) { $0 + $1.count }))
        let list = UnsafeMutableBufferPointer<ConstantBytes>.allocate(capacity: arrays.count)
        var offset = 0
        for (index, array) in arrays.enumerated() {
            array.withUnsafeBufferPointer { (memory + offset).initialize(from: $0.baseAddress!, count: $0.count) }
            list.initializeElement(at: index, to: ConstantBytes(start: memory + offset, count: array.count))
            offset += array.count
        }
        self.memory = memory
        self.list = UnsafeBufferPointer(list)
    }

    deinit {
        memory.deallocate()
        list.deallocate()
    }
}
