import Crypto
import KordonEvents

// The binary encoding of engine snapshots: little-endian fixed-width Int64 and Double (bit pattern, so exact),
// LEB128 varints for counts and small integers, strings as a byte count and UTF-8, optionals as a 0/1 byte
// then the value, enums as their raw value. Dictionaries are written in key order or in the order of the
// queue that already ranks them, so equal states give equal bytes. An event record shared by several parts
// of the state is written in full where it first appears and by its number after that.

/// A key whose snapshot order (`precedes`) an integer prefix mostly decides: sorting the million keys
/// of a large state then compares integers, and strings only where prefixes tie (with whole strings,
/// sorting was about half the time a checkpoint took).
protocol SnapshotOrdered {
    /// Less for a key that precedes, whenever two prefixes differ.
    var snapshotPrefix: UInt64 { get }
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

/// `items` in the order of their keys, each with its key's prefix.
func sortedForSnapshot<Item, Key: SnapshotOrdered>(_ items: some Sequence<Item>, key: (Item) -> Key) -> [(UInt64, Item)] {
    var sorted = items.map { (key($0).snapshotPrefix, $0) }
    sorted.sort { $0.0 != $1.0 ? $0.0 < $1.0 : Key.precedes(key($0.1), key($1.1)) }
    return sorted
}

/// `top` in the highest byte, then 56 bits of a hash of `text` with a fixed seed: a content-defined
/// order, the same in every process, under which keys sharing their first bytes (plates of one
/// region, documents of one series) still differ at once.
func snapshotPrefix(_ text: String, top: UInt8) -> UInt64 {
    UInt64(top) << 56 | tableHash(text, seed: 0) >> 8
}

struct SnapshotWriter {
    private(set) var bytes: [UInt8]
    /// Records written so far, numbered in order of appearance.
    private var records: [ObjectIdentifier: Int] = [:]

    /// Writes after `head`.
    init(after head: [UInt8]) {
        bytes = head
    }

    /// 0 then the event and its origin the first time, else the record's number plus one.
    mutating func record(_ record: EventRecord) {
        if let number = records[ObjectIdentifier(record)] {
            varint(UInt64(number + 1))
            return
        }
        records[ObjectIdentifier(record)] = records.count
        varint(0)
        write(record.event)
        write(record.origin)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func fixed(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func count(_ value: Int) {
        varint(UInt64(value))
    }

    mutating func write<T: SnapshotValue>(_ value: T) {
        value.write(to: &self)
    }

    /// A table's entries in key order (pairs sorted, not keys: looking each key up again would hash it
    /// a second time).
    mutating func entries<Key: SnapshotValue & SnapshotOrdered, Entry: SnapshotValue>(
        _ entries: some Swift.Collection<(key: Key, value: Entry)>
    ) {
        count(entries.count)
        for (_, (key, entry)) in sortedForSnapshot(entries, key: \.key) {
            write(key)
            write(entry)
        }
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            count(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }
}

/// Reads what `SnapshotWriter` wrote; every read is bounds-checked and throws instead of trapping.
struct SnapshotReader {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    /// Rebuilt scopes (of waiting triggers and absences) share the restoring engine's places and lists.
    let lookups: Lookups
    /// Records read so far, in order of appearance.
    private var records: [EventRecord] = []

    mutating func record() throws(EngineSnapshotError) -> EventRecord {
        // Not `count()`: a back-reference is a number, not a count of bytes to come.
        let number = try varint()
        guard number == 0 else {
            guard number <= UInt64(records.count) else {
                throw EngineSnapshotError(.corrupt("an event record is referred to before it is written"))
            }
            return records[Int(number) - 1]
        }
        let record = EventRecord(event: try read(), origin: try read())
        records.append(record)
        return record
    }

    init(_ bytes: [UInt8], from start: Int, to end: Int, geography: Geography, watchlists: [String: Watchlist]) {
        self.bytes = bytes
        position = start
        self.end = end
        lookups = Lookups(geography: geography, watchlists: watchlists)
    }

    var isAtEnd: Bool { position == end }

    mutating func byte() throws(EngineSnapshotError) -> UInt8 {
        guard position < end else { throw EngineSnapshotError(.corrupt("a value runs past the end of the state")) }
        position += 1
        return bytes[position - 1]
    }

    mutating func fixed() throws(EngineSnapshotError) -> UInt64 {
        guard end - position >= 8 else { throw EngineSnapshotError(.corrupt("a value runs past the end of the state")) }
        var value: UInt64 = 0
        for index in (position..<position + 8).reversed() { value = value << 8 | UInt64(bytes[index]) }
        position += 8
        return value
    }

    mutating func varint() throws(EngineSnapshotError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64, shift < 63 || next <= 1 else { throw EngineSnapshotError(.corrupt("an integer is too long")) }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    /// A count of items that each take at least a byte, so it cannot exceed what is left: a corrupt count
    /// then fails here rather than reserving absurd amounts of memory.
    mutating func count() throws(EngineSnapshotError) -> Int {
        let value = try varint()
        guard value <= UInt64(end - position) else { throw EngineSnapshotError(.corrupt("a count exceeds the data left")) }
        return Int(value)
    }

    mutating func read<T: SnapshotValue>(_: T.Type = T.self) throws(EngineSnapshotError) -> T {
        try T(from: &self)
    }

    /// What `SnapshotWriter.entries` wrote, as a `Dictionary` or a `HashTable`.
    mutating func entries<Table: SnapshotTable>() throws(EngineSnapshotError) -> Table
    where Table.Key: SnapshotValue, Table.Value: SnapshotValue {
        var entries: Table = [:]
        for _ in 0..<(try count()) {
            let key: Table.Key = try read()
            entries[key] = try read(Table.Value.self)
        }
        return entries
    }

    mutating func string() throws(EngineSnapshotError) -> String {
        let length = try count()
        defer { position += length }
        return String(decoding: bytes[position..<position + length], as: UTF8.self)
    }
}

/// A table snapshots restore: `Dictionary`, or the engine's `HashTable`.
protocol SnapshotTable: ExpressibleByDictionaryLiteral {
    subscript(key: Key) -> Value? { get set }
}

extension Dictionary: SnapshotTable {}
extension HashTable: SnapshotTable {}

/// A value with a snapshot encoding.
protocol SnapshotValue {
    func write(to out: inout SnapshotWriter)
    init(from input: inout SnapshotReader) throws(EngineSnapshotError)
}

// MARK: - Scalars and containers

extension Int64: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.fixed(UInt64(bitPattern: self)) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) { self.init(bitPattern: try input.fixed()) }
}

extension IDPrint: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.fixed(high)
        out.fixed(low)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(high: try input.fixed(), low: try input.fixed())
    }

    static func precedes(_ a: IDPrint, _ b: IDPrint) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}

extension IDPrint: SnapshotOrdered {
    var snapshotPrefix: UInt64 { high }
}

extension Int: SnapshotValue {
    /// Zigzag, so small negative numbers stay short.
    func write(to out: inout SnapshotWriter) {
        let value = Int64(self)
        out.varint(UInt64(bitPattern: value << 1 ^ value >> 63))
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let raw = try input.varint()
        self.init(truncatingIfNeeded: Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1))
    }
}

extension Int32: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.write(Int(self)) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        guard let value = Int32(exactly: try input.read(Int.self)) else {
            throw EngineSnapshotError(.corrupt("a partition number is out of range"))
        }
        self = value
    }
}

extension Double: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.fixed(bitPattern) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) { self.init(bitPattern: try input.fixed()) }
}

extension Bool: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.byte(self ? 1 : 0) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        switch try input.byte() {
        case 0: self = false
        case 1: self = true
        default: throw EngineSnapshotError(.corrupt("a flag is neither 0 nor 1"))
        }
    }
}

extension String: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.string(self) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) { self = try input.string() }
}

extension Optional: SnapshotValue where Wrapped: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        if let self {
            out.byte(1)
            out.write(self)
        } else {
            out.byte(0)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self = try input.read(Bool.self) ? try input.read(Wrapped.self) : nil
    }
}

extension Array: SnapshotValue where Element: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.count(count)
        for element in self { out.write(element) }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let count = try input.count()
        self.init()
        reserveCapacity(count)
        for _ in 0..<count { append(try input.read(Element.self)) }
    }
}

/// Enums are written as their raw value, so reordering or adding cases keeps old snapshots readable.
protocol SnapshotRawValue: SnapshotValue, RawRepresentable where RawValue == String {}

extension SnapshotRawValue {
    func write(to out: inout SnapshotWriter) { out.string(rawValue) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let raw = try input.string()
        guard let value = Self(rawValue: raw) else { throw EngineSnapshotError(.corrupt("unknown \(Self.self) \"\(raw)\"")) }
        self = value
    }
}

extension EventKind: SnapshotRawValue {}
extension Direction: SnapshotRawValue {}
extension PersonRole: SnapshotRawValue {}
extension VehicleType: SnapshotRawValue {}
extension PermitType: SnapshotRawValue {}
extension InspectionMethod: SnapshotRawValue {}
extension FindingCategory: SnapshotRawValue {}
extension Observation: SnapshotRawValue {}
extension SensorType: SnapshotRawValue {}
extension Detection: SnapshotRawValue {}
extension VesselActivity: SnapshotRawValue {}
extension KeyType: SnapshotRawValue {}
extension Severity: SnapshotRawValue {}

/// `(name, value)` pairs: alert facts.
extension SnapshotWriter {
    mutating func facts(_ facts: [(name: String, value: Value)]) {
        count(facts.count)
        for fact in facts {
            string(fact.name)
            write(fact.value)
        }
    }
}

extension SnapshotReader {
    mutating func facts() throws(EngineSnapshotError) -> [(name: String, value: Value)] {
        var facts: [(name: String, value: Value)] = []
        for _ in 0..<(try count()) { facts.append((try string(), try read(Value.self))) }
        return facts
    }
}

// MARK: - Events

extension Timestamp: SnapshotValue {
    func write(to out: inout SnapshotWriter) { out.write(nanosecondsSinceEpoch) }
    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(nanosecondsSinceEpoch: try input.read())
    }
}

extension Position: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(lat)
        out.write(lon)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(lat: try input.read(), lon: try input.read())
    }
}

extension EventOrigin: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(topic)
        out.write(partition)
        out.write(offset)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(topic: try input.read(), partition: try input.read(), offset: try input.read())
    }
}

extension Event: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(version)
        out.write(id)
        out.write(time)
        out.write(source)
        out.write(kind)
        switch body {
        case .crossing(let crossing): out.write(crossing)
        case .inspection(let inspection): out.write(inspection)
        case .patrol(let patrol): out.write(patrol)
        case .sensor(let sensor): out.write(sensor)
        case .vessel(let vessel): out.write(vessel)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let version: Int = try input.read()
        let id: String = try input.read()
        let time: Timestamp = try input.read()
        let source: String? = try input.read()
        let body: Body =
            switch try input.read(EventKind.self) {
            case .crossing: .crossing(try input.read())
            case .inspection: .inspection(try input.read())
            case .patrol: .patrol(try input.read())
            case .sensor: .sensor(try input.read())
            case .vessel: .vessel(try input.read())
            }
        self.init(version: version, id: id, time: time, source: source, body: body)
    }
}

extension Crossing: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(checkpoint)
        out.write(country)
        out.write(direction)
        out.write(persons)
        out.write(vehicle)
        out.write(goods)
        out.write(permits)
        out.write(officer)
        out.write(lane)
        out.write(released)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            checkpoint: try input.read(), country: try input.read(), direction: try input.read(), persons: try input.read(),
            vehicle: try input.read(), goods: try input.read(), permits: try input.read(), officer: try input.read(),
            lane: try input.read(), released: try input.read())
    }
}

extension Person: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(doc)
        out.write(role)
        out.write(minor)
        out.write(docHolder)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(doc: try input.read(), role: try input.read(), minor: try input.read(), docHolder: try input.read())
    }
}

extension Vehicle: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(plate)
        out.write(type)
        out.write(trailer)
        out.write(declaredWeightKg)
        out.write(measuredWeightKg)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            plate: try input.read(), type: try input.read(), trailer: try input.read(), declaredWeightKg: try input.read(),
            measuredWeightKg: try input.read())
    }
}

extension Goods: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(hs)
        out.write(description)
        out.write(quantity)
        out.write(unit)
        out.write(weightKg)
        out.write(valueUsd)
        out.write(substance)
        out.write(origin)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            hs: try input.read(), description: try input.read(), quantity: try input.read(), unit: try input.read(),
            weightKg: try input.read(), valueUsd: try input.read(), substance: try input.read(), origin: try input.read())
    }
}

extension Permit: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(id)
        out.write(type)
        out.write(validUntil)
        out.write(covers)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(id: try input.read(), type: try input.read(), validUntil: try input.read(), covers: try input.read())
    }
}

extension ValidUntil: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        switch self {
        case .date(let date):
            out.byte(0)
            out.write(date.year)
            out.write(date.month)
            out.write(date.day)
        case .instant(let time):
            out.byte(1)
            out.write(time)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        switch try input.byte() {
        case 0:
            guard let date = CalendarDate(year: try input.read(), month: try input.read(), day: try input.read()) else {
                throw EngineSnapshotError(.corrupt("a permit's date does not exist"))
            }
            self = .date(date)
        case 1: self = .instant(try input.read())
        default: throw EngineSnapshotError(.corrupt("unknown permit validity form"))
        }
    }
}

extension Inspection: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(crossingId)
        out.write(checkpoint)
        out.write(method)
        out.write(findings)
        out.write(officer)
        out.write(durationSec)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            crossingId: try input.read(), checkpoint: try input.read(), method: try input.read(), findings: try input.read(),
            officer: try input.read(), durationSec: try input.read())
    }
}

extension Finding: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(category)
        out.write(description)
        out.write(substance)
        out.write(quantity)
        out.write(unit)
        out.write(weightKg)
        out.write(hs)
        out.write(declared)
        out.write(concealed)
        out.write(canineAlert)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            category: try input.read(), description: try input.read(), substance: try input.read(),
            quantity: try input.read(), unit: try input.read(), weightKg: try input.read(), hs: try input.read(),
            declared: try input.read(), concealed: try input.read(), canineAlert: try input.read())
    }
}

extension Patrol: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(unit)
        out.write(sector)
        out.write(position)
        out.write(observation)
        out.write(count)
        out.write(headingDeg)
        out.write(pillar)
        out.write(note)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            unit: try input.read(), sector: try input.read(), position: try input.read(), observation: try input.read(),
            count: try input.read(), headingDeg: try input.read(), pillar: try input.read(), note: try input.read())
    }
}

extension Sensor: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(sensor)
        out.write(sensorType)
        out.write(position)
        out.write(detection)
        out.write(confidence)
        out.write(count)
        out.write(sector)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            sensor: try input.read(), sensorType: try input.read(), position: try input.read(), detection: try input.read(),
            confidence: try input.read(), count: try input.read(), sector: try input.read())
    }
}

extension Vessel: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(vessel)
        out.write(position)
        out.write(speedKn)
        out.write(headingDeg)
        out.write(ais)
        out.write(activity)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            vessel: try input.read(), position: try input.read(), speedKn: try input.read(), headingDeg: try input.read(),
            ais: try input.read(), activity: try input.read())
    }
}

// MARK: - Alert parts

extension Value: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        switch self {
        case .string(let text):
            out.byte(0)
            out.write(text)
        case .number(let number):
            out.byte(1)
            out.write(number)
        case .bool(let flag):
            out.byte(2)
            out.write(flag)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        switch try input.byte() {
        case 0: self = .string(try input.read())
        case 1: self = .number(try input.read())
        case 2: self = .bool(try input.read())
        default: throw EngineSnapshotError(.corrupt("unknown value type"))
        }
    }
}

extension Correlation: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(key)
        out.write(values)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(key: try input.read(), values: try input.read())
    }
}

extension Correlation: SnapshotOrdered {
    var snapshotPrefix: UInt64 { key.snapshotPrefix }

    /// Snapshot order: by key, then values.
    static func precedes(_ a: Correlation, _ b: Correlation) -> Bool {
        a.key != b.key ? AlertKey.precedes(a.key, b.key) : bytesPrecede(a.values, b.values)
    }
}

extension AlertKey: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(type)
        out.write(value)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(type: try input.read(), value: try input.read())
    }
}

extension AlertKey: SnapshotOrdered {
    var snapshotPrefix: UInt64 { KordonEngine.snapshotPrefix(value, top: type.ordinal) }

    /// Snapshot order: by type, then a hash of the value, then the value.
    static func precedes(_ a: AlertKey, _ b: AlertKey) -> Bool {
        let (x, y) = (a.snapshotPrefix, b.snapshotPrefix)
        return x != y ? x < y : bytesPrecede(a.value, b.value)
    }
}

extension Evidence: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(id)
        out.write(kind)
        out.write(time)
        out.write(origin)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(id: try input.read(), kind: try input.read(), time: try input.read(), origin: try input.read())
    }
}

extension AlertLocation: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(checkpoint)
        out.write(country)
        out.write(direction)
        out.write(sector)
        out.write(zone)
        out.write(position)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(
            checkpoint: try input.read(), country: try input.read(), direction: try input.read(), sector: try input.read(),
            zone: try input.read(), position: try input.read())
    }
}

// MARK: - Engine state

extension InputID: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(topic)
        out.write(partition)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(topic: try input.read(), partition: try input.read())
    }

    static func precedes(_ a: InputID, _ b: InputID) -> Bool {
        a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition
    }
}

/// A few inputs at most: ranked by `precedes` alone.
extension InputID: SnapshotOrdered {
    var snapshotPrefix: UInt64 { 0 }
}

extension Queued: SnapshotValue {
    /// Time and id are the event's own.
    func write(to out: inout SnapshotWriter) {
        out.record(record)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let record = try input.record()
        self.init(time: record.time.nanosecondsSinceEpoch, print: IDPrint(record.id), record: record)
    }
}

extension Timer: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(due)
        out.write(sequence)
        switch action {
        case .absence(let rule, let correlation):
            out.byte(0)
            out.write(rule)
            out.write(correlation)
        case .joinTimeout(let crossingId):
            out.byte(1)
            out.write(crossingId)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let due: Int64 = try input.read()
        let sequence: Int64 = try input.read()
        let action: Action =
            switch try input.byte() {
            case 0: .absence(rule: try input.read(), correlation: try input.read())
            case 1: .joinTimeout(try input.read())
            default: throw EngineSnapshotError(.corrupt("unknown timer action"))
            }
        self.init(due: due, sequence: sequence, action: action)
    }
}

extension AwaitingInspection: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.record(record)
        out.write(time)
        out.write(sequence)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(record: try input.record(), time: try input.read(), sequence: try input.read())
    }
}

extension PendingAbsence: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(sequence)
        out.write(time)
        out.write(key)
        out.write(scope)
        out.write(severity)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let (sequence, time, key): (Int64, Int64, AlertKey) = (try input.read(), try input.read(), try input.read())
        self.init(sequence: sequence, time: time, scope: try input.read(), key: key, severity: try input.read())
    }
}

extension WindowKey: SnapshotOrdered {
    var snapshotPrefix: UInt64 { key?.snapshotPrefix ?? 0 }

    /// Snapshot order: the window across keys first, then by key, then by partition.
    static func precedes(_ a: WindowKey, _ b: WindowKey) -> Bool {
        switch (a.key, b.key) {
        case (nil, nil): bytesPrecede(a.partition, b.partition)
        case (nil, _?): true
        case (_?, nil): false
        case (let x?, let y?): x != y ? AlertKey.precedes(x, y) : bytesPrecede(a.partition, b.partition)
        }
    }
}

extension WindowKey: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(key)
        out.write(partition)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(key: try input.read(), partition: try input.read())
    }
}

extension WindowEntry: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(time)
        out.write(evidence)
        out.write(amount)
        out.write(distinct)
        out.write(position)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let time: Int64 = try input.read()
        let evidence: [Evidence] = try input.read()
        guard let first = evidence.first else { throw EngineSnapshotError(.corrupt("a window entry without evidence")) }
        self.init(
            time: time, evidence: first, amount: try input.read(), distinct: try input.read(), position: try input.read())
        moreEvidence = Array(evidence.dropFirst())
    }
}

extension SlidingWindows: SnapshotValue {
    /// The last sweep (so a restored state sweeps when the original would), then keys in order, each
    /// with its entries oldest first; distinct counts follow from the entries.
    func write(to out: inout SnapshotWriter) {
        out.write(length)
        out.write(lastSweep)
        out.count(windows.count)
        for (_, (key, window)) in sortedForSnapshot(windows, key: \.key) {
            out.write(key)
            out.write(Array(window.entries.elements))
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(length: try input.read())
        lastSweep = try input.read()
        for _ in 0..<(try input.count()) {
            let key: WindowKey = try input.read()
            var window = KeyWindow()
            for entry in try input.read([WindowEntry].self) {
                guard entry.time >= (window.entries.elements.last?.time ?? .min) else {
                    throw EngineSnapshotError(.corrupt("window entries out of order"))
                }
                window.append(entry)
            }
            guard !window.entries.isEmpty else { throw EngineSnapshotError(.corrupt("an empty window")) }
            windows[key] = window
            entryCount += window.count
        }
    }
}

extension Sighting: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.record(record)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let record = try input.record()
        guard record.crossing != nil else { throw EngineSnapshotError(.corrupt("a sighting that is not a crossing")) }
        self.init(record: record)
    }
}

extension EscalationResult: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(severity)
        out.facts(facts)
        out.write(evidence)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(severity: try input.read(), facts: try input.facts(), evidence: try input.read())
    }
}

extension Scope: SnapshotValue {
    /// The event, the crossing an inspection joined, and the bound elements; places and lists are the engine's.
    func write(to out: inout SnapshotWriter) {
        out.record(record)
        if let joined {
            out.byte(1)
            out.record(joined)
        } else {
            out.byte(0)
        }
        for index in [bound.finding, bound.goods, bound.person, bound.permit] { out.write(Int(index)) }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let record = try input.record()
        let joined = try input.read(Bool.self) ? try input.record() : nil
        self.init(record: record, joined: joined, lookups: input.lookups)
        var indices: [Int32] = []
        for _ in 0..<4 {
            guard let index = Int32(exactly: try input.read(Int.self)), index >= -1 else {
                throw EngineSnapshotError(.corrupt("a bound element index is out of range"))
            }
            indices.append(index)
        }
        bound = Bindings(finding: indices[0], goods: indices[1], person: indices[2], permit: indices[3])
        let crossing = crossingRecord?.crossing
        let counts = [inspection?.findings.count, crossing?.goods?.count, crossing?.persons?.count, crossing?.permits?.count]
        for (index, count) in zip(indices, counts) where index >= 0 && Int(index) >= count ?? 0 {
            throw EngineSnapshotError(.corrupt("a bound element index is past its list"))
        }
    }

    /// The same scope over other places and lists, for an engine with a reloaded configuration.
    func rebased(_ lookups: Lookups) -> Scope {
        var scope = Scope(record: record, joined: joined, lookups: lookups)
        scope.bound = bound
        return scope
    }
}

extension Trigger: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(time)
        out.write(scope)
        out.write(key)
        out.write(escalation)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(time: try input.read(), scope: try input.read(), key: try input.read(), escalation: try input.read())
    }
}

extension RuleState.Suppression: SnapshotValue {
    func write(to out: inout SnapshotWriter) {
        out.write(until)
        out.write(suppressed)
        out.write(severity)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        self.init(until: try input.read(), suppressed: try input.read(), severity: try input.read())
    }
}

extension RuleState: SnapshotValue {
    /// Dictionaries in key order; `triggersByIdentity` is rebuilt from the triggers by the engine that adopts
    /// the state (`Engine.adopt`), which knows the identities its rule lists them under.
    func write(to out: inout SnapshotWriter) {
        out.write(lastSweep)
        out.entries(suppression)
        out.write(window)
        out.write(recent)
        out.entries(pending)
        out.entries(sightings)
        out.write(lastSightingSweep)
        let waiting = triggers.waiting
        out.count(waiting.count)
        for (sequence, trigger) in waiting {
            out.write(sequence)
            out.write(trigger)
        }
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        let lastSweep: Int64 = try input.read()
        let suppression: [AlertKey: Suppression] = try input.entries()
        self.init(window: try input.read(), recent: try input.read())
        self.lastSweep = lastSweep
        self.suppression = suppression
        pending = try input.entries()
        openAbsences = pending.values.reduce(0) { $0 + $1.count }
        sightings = try input.entries()
        lastSightingSweep = try input.read()
        var last = Int64.min
        for _ in 0..<(try input.count()) {
            let sequence: Int64 = try input.read()
            let trigger: Trigger = try input.read()
            // Written in order; a snapshot out of order is damaged, and binary search would miss its triggers.
            guard sequence > last else { throw EngineSnapshotError(.corrupt("waiting triggers out of order")) }
            last = sequence
            triggers.append(sequence, trigger)
        }
    }
}

// MARK: - Rule fingerprints

/// A digest of a rule's parsed definition: equal for rules that behave alike, whatever the YAML
/// formatting, and different as soon as anything the rule does changes (lists it names included,
/// as they are expanded into it). Computed from a canonical description of the whole `Rule` value:
/// sets and dictionaries sorted, so it does not depend on hashing order.
struct RuleFingerprint: Hashable, Sendable, SnapshotValue {
    var high: UInt64
    var low: UInt64

    init(_ rule: Rule) {
        var text = ""
        Self.describe(rule, into: &text)
        var hasher = SHA256()
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digest = Array(hasher.finalize())
        high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    func write(to out: inout SnapshotWriter) {
        out.fixed(high)
        out.fixed(low)
    }

    init(from input: inout SnapshotReader) throws(EngineSnapshotError) {
        high = try input.fixed()
        low = try input.fixed()
    }

    private static func describe(_ value: Any, into text: inout String) {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case nil:
            // Leaves: strings (quoted and escaped), numbers, booleans.
            text += String(reflecting: value)
        case .optional:
            if let wrapped = mirror.children.first { describe(wrapped.value, into: &text) } else { text += "nil" }
        case .enum where mirror.children.isEmpty:
            text += String(describing: value)
        case .set, .dictionary:
            let items = mirror.children.map { child -> String in
                var item = ""
                describe(child.value, into: &item)
                return item
            }
            text += "{" + items.sorted().joined(separator: ",") + "}"
        default:
            // Structs, classes, tuples, arrays, and enum cases with their payload (labelled by the case).
            text += "("
            for child in mirror.children {
                if let label = child.label { text += label + ":" }
                describe(child.value, into: &text)
                text += ","
            }
            text += ")"
        }
    }
}
