/// Decodes and validates one Kafka message against the event contract v1.
///
/// A single pass over the bytes in the common case: the top-level `kind` is
/// located first (usually among the first few members, so the look-ahead is
/// short), then every member is decoded straight into its typed field.
/// Nothing is allocated except the strings and arrays the event keeps.
public struct EventDecoder: Sendable {
    public struct Limits: Sendable {
        /// Larger messages are rejected before any scanning.
        public var maxBytes: Int

        public init(maxBytes: Int = 1 << 20) {
            self.maxBytes = maxBytes
        }
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Event, EventRejection> {
        guard bytes.count <= limits.maxBytes else {
            return .failure(
                EventRejection(path: "message", reason: "too large: \(bytes.count) bytes (limit \(limits.maxBytes))"))
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            return .failure(EventRejection(path: "json", reason: "message is empty"))
        }
        var scanner = Scanner(base: base, count: bytes.count)
        do {
            return .success(try scanner.event())
        } catch {
            guard !error.isSyntax else { return .failure(error.rejection) }
            // A contract problem was found first; JSON problems later in the message still take precedence.
            var validator = Scanner(base: base, count: bytes.count)
            return .failure((validator.firstSyntaxProblem() ?? error).rejection)
        }
    }

    public func decode(_ bytes: [UInt8]) -> Result<Event, EventRejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    public func decode(_ bytes: ArraySlice<UInt8>) -> Result<Event, EventRejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    public func decode(_ text: String) -> Result<Event, EventRejection> {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - Schemas

/// An object's member names with their paths in rejections.
final class Schema<Key: RawRepresentable & CaseIterable & Equatable & Sendable>: Sendable where Key.RawValue == String {
    let keys: KeyTable
    let cases: [Key]
    let paths: [String]
    /// Members before `cases` (the common event fields), handled by the caller.
    let offset: Int

    init() {
        cases = Array(Key.allCases)
        keys = KeyTable(cases.map(\.rawValue))
        paths = keys.names
        offset = 0
    }

    /// The members of an event of `kind`: the common fields, then the kind's, prefixed `kind.`.
    init(kind: EventKind) {
        cases = Array(Key.allCases)
        let common = CommonKey.allCases.map(\.rawValue)
        keys = KeyTable(common + cases.map(\.rawValue))
        paths = common + cases.map { "\(kind.rawValue).\($0.rawValue)" }
        offset = common.count
    }

    func missing(_ key: Key) -> DecodeFailure {
        .field(paths[offset + (cases.firstIndex(of: key) ?? 0)], "required")
    }
}

enum CommonKey: String, CaseIterable, Sendable { case v, id, kind, time, source }
enum CrossingKey: String, CaseIterable, Sendable {
    case checkpoint, country, direction, persons, vehicle, goods, permits, officer, lane, released
}
enum PersonKey: String, CaseIterable, Sendable { case doc, role, minor, docHolder }
enum VehicleKey: String, CaseIterable, Sendable { case plate, type, trailer, declaredWeightKg, measuredWeightKg }
enum GoodsKey: String, CaseIterable, Sendable {
    case hs, description, quantity, unit, weightKg, valueUsd, substance, origin
}
enum PermitKey: String, CaseIterable, Sendable { case id, type, validUntil, covers }
enum InspectionKey: String, CaseIterable, Sendable {
    case crossingId, checkpoint, method, findings, officer, durationSec
}
enum FindingKey: String, CaseIterable, Sendable {
    case category, description, substance, quantity, unit, weightKg, hs, declared, concealed, canineAlert
}
enum PatrolKey: String, CaseIterable, Sendable {
    case unit, sector, position, observation, count, headingDeg, pillar, note
}
enum SensorKey: String, CaseIterable, Sendable {
    case sensor, sensorType, position, detection, confidence, count, sector
}
enum VesselKey: String, CaseIterable, Sendable { case vessel, position, speedKn, headingDeg, ais, activity }
enum PositionKey: String, CaseIterable, Sendable { case lat, lon }

enum Schemas {
    static let common = Schema<CommonKey>()
    static let crossing = Schema<CrossingKey>(kind: .crossing)
    static let inspection = Schema<InspectionKey>(kind: .inspection)
    static let patrol = Schema<PatrolKey>(kind: .patrol)
    static let sensor = Schema<SensorKey>(kind: .sensor)
    static let vessel = Schema<VesselKey>(kind: .vessel)
    static let person = Schema<PersonKey>()
    static let vehicle = Schema<VehicleKey>()
    static let goods = Schema<GoodsKey>()
    static let permit = Schema<PermitKey>()
    static let finding = Schema<FindingKey>()
    static let position = Schema<PositionKey>()
}

enum Enums {
    static let kind = EnumTable<EventKind>()
    static let direction = EnumTable<Direction>()
    static let role = EnumTable<PersonRole>()
    static let vehicleType = EnumTable<VehicleType>()
    static let permitType = EnumTable<PermitType>()
    static let method = EnumTable<InspectionMethod>()
    static let category = EnumTable<FindingCategory>()
    static let observation = EnumTable<Observation>()
    static let sensorType = EnumTable<SensorType>()
    static let detection = EnumTable<Detection>()
    static let activity = EnumTable<VesselActivity>()
}

/// Number constraints, with the wording of their rejections.
enum Bounds {
    case nonNegative
    case range(ClosedRange<Double>, String)

    static let latitude = Bounds.range(-90...90, "-90 to 90")
    static let longitude = Bounds.range(-180...180, "-180 to 180")
    static let heading = Bounds.range(0...360, "0 to 360")
    static let fraction = Bounds.range(0...1, "0 to 1")
}

// MARK: - Events

struct CommonFields {
    var version: Int?
    var id: String?
    var time: Timestamp?
    var source: String?
}

extension Scanner {
    mutating func event() throws(DecodeFailure) -> Event {
        if count >= 3, byte(0) == 0xEF, byte(1) == 0xBB, byte(2) == 0xBF {
            throw .syntax("byte-order mark not allowed")
        }
        skipWhitespace()
        guard pos < count else { throw .syntax("message is empty") }
        guard byte(pos) == ASCII.openBrace else {
            if byte(pos) >= 0x80 { throw unexpected(at: pos) }
            throw .syntax("expected an object at byte \(pos)")
        }
        switch locateKind() {
        case .crossing: return try crossingEvent()
        case .inspection: return try inspectionEvent()
        case .patrol: return try patrolEvent()
        case .sensor: return try sensorEvent()
        case .vessel: return try vesselEvent()
        case nil: throw try eventWithoutKind()
        }
    }

    /// After the event object: only white space may follow.
    private mutating func end() throws(DecodeFailure) {
        skipWhitespace()
        if pos < count { throw .syntax("trailing data at byte \(pos)") }
    }

    /// The top-level `kind` when it is a known kind, found without decoding anything else.
    func locateKind() -> EventKind? {
        var probe = self
        do throws(DecodeFailure) {
            probe.pos += 1
            probe.skipWhitespace()
            guard probe.current != ASCII.closeBrace else { return nil }
            while true {
                guard probe.current == ASCII.quote else { return nil }
                let key = try probe.scanString()
                probe.skipWhitespace()
                try probe.expect(ASCII.colon)
                probe.skipWhitespace()
                if probe.memberIndex(key, Schemas.common.keys) == 2 {
                    guard probe.current == ASCII.quote else { return nil }
                    let value = try probe.scanString()
                    let index = probe.memberIndex(value, Enums.kind.keys)
                    return index < 0 ? nil : Enums.kind.cases[index]
                }
                try probe.skipValue(depth: 1)
                guard try probe.nextMember(closing: ASCII.closeBrace) else { return nil }
            }
        } catch {
            return nil
        }
    }

    /// Decodes an event whose `kind` is missing or unknown, to report the first problem in order.
    private mutating func eventWithoutKind() throws(DecodeFailure) -> DecodeFailure {
        var common = CommonFields()
        let schema = Schemas.common
        try objectMembers(schema.keys, schema.paths, depth: 1) { (s, index) throws(DecodeFailure) in
            try s.commonMember(index, &common, kind: nil)
        }
        try end()
        _ = try finish(common)
        return schema.missing(.kind)
    }

    /// Walks an event's members: common fields here, the kind's through `member`.
    @inline(__always)
    private mutating func eventMembers<Key>(
        _ schema: Schema<Key>, _ common: inout CommonFields, kind: EventKind,
        _ member: (inout Scanner, Key) throws(DecodeFailure) -> Void
    ) throws(DecodeFailure) {
        try objectMembers(schema.keys, schema.paths, depth: 1) { (s, index) throws(DecodeFailure) in
            if index >= schema.offset { return try member(&s, schema.cases[index - schema.offset]) }
            try s.commonMember(index, &common, kind: kind)
        }
    }

    /// The common member at `index` of `CommonKey`; `kind` is the event's, nil if missing or unknown.
    private mutating func commonMember(_ index: Int, _ common: inout CommonFields, kind: EventKind?)
        throws(DecodeFailure)
    {
        switch Schemas.common.cases[index] {
        case .v:
            common.version = try required { (s) throws(DecodeFailure) in try s.version() }
        case .id:
            common.id = try required { (s) throws(DecodeFailure) in try s.eventId() }
        case .kind:
            // Already read by `locateKind`; without a kind it is the problem to report.
            if kind == nil { throw try kindProblem() }
            try skipValue(depth: 1)
        case .time:
            common.time = try required { (s) throws(DecodeFailure) in try s.time() }
        case .source:
            common.source = try optional { (s) throws(DecodeFailure) in try s.string() }
        }
    }

    private func finish(_ common: CommonFields) throws(DecodeFailure) -> (Int, String, Timestamp) {
        guard let version = common.version else { throw Schemas.common.missing(.v) }
        guard let id = common.id else { throw Schemas.common.missing(.id) }
        guard let time = common.time else { throw Schemas.common.missing(.time) }
        return (version, id, time)
    }

    private mutating func version() throws(DecodeFailure) -> Int {
        let version = try integer()
        guard version == 1 else { throw .value("unsupported version \(version)") }
        return version
    }

    private mutating func eventId() throws(DecodeFailure) -> String {
        let token = try stringToken()
        let id = string(token)
        guard !id.isEmpty else { throw .value("must not be empty") }
        guard id.utf8.count <= 128 else { throw .value("longer than 128 bytes") }
        return id
    }

    private mutating func kindProblem() throws(DecodeFailure) -> DecodeFailure {
        if try takeNull() { return .value("must not be null") }
        let token = try stringToken()
        return .value(try withValue(token) { (value) throws(DecodeFailure) in "unknown kind: \(quoted(value))" })
    }

    private mutating func crossingEvent() throws(DecodeFailure) -> Event {
        let schema = Schemas.crossing
        var common = CommonFields()
        var checkpoint: String?
        var country: String?
        var direction: Direction?
        var persons: [Person]?
        var vehicle: Vehicle?
        var goods: [Goods]?
        var permits: [Permit]?
        var officer: String?
        var lane: String?
        var released: Bool?
        try eventMembers(schema, &common, kind: .crossing) { (s, key) throws(DecodeFailure) in
            switch key {
            case .checkpoint: checkpoint = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .country: country = try s.required { (s) throws(DecodeFailure) in try s.countryCode() }
            case .direction: direction = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.direction) }
            case .persons:
                persons = try s.optional { (s) throws(DecodeFailure) in
                    try s.array(depth: 2) { (s) throws(DecodeFailure) in try s.person() }
                }
            case .vehicle: vehicle = try s.optional { (s) throws(DecodeFailure) in try s.vehicle() }
            case .goods:
                goods = try s.optional { (s) throws(DecodeFailure) in
                    try s.array(depth: 2) { (s) throws(DecodeFailure) in try s.goods() }
                }
            case .permits:
                permits = try s.optional { (s) throws(DecodeFailure) in
                    try s.array(depth: 2) { (s) throws(DecodeFailure) in try s.permit() }
                }
            case .officer: officer = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .lane: lane = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .released: released = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            }
        }
        try end()
        let (version, id, time) = try finish(common)
        guard let checkpoint else { throw schema.missing(.checkpoint) }
        guard let country else { throw schema.missing(.country) }
        guard let direction else { throw schema.missing(.direction) }
        let crossing = Crossing(
            checkpoint: checkpoint, country: country, direction: direction, persons: persons, vehicle: vehicle,
            goods: goods, permits: permits, officer: officer, lane: lane, released: released)
        return Event(version: version, id: id, time: time, source: common.source, body: .crossing(crossing))
    }

    private mutating func inspectionEvent() throws(DecodeFailure) -> Event {
        let schema = Schemas.inspection
        var common = CommonFields()
        var crossingId: String?
        var checkpoint: String?
        var method: InspectionMethod?
        var findings: [Finding]?
        var officer: String?
        var durationSec: Double?
        try eventMembers(schema, &common, kind: .inspection) { (s, key) throws(DecodeFailure) in
            switch key {
            case .crossingId: crossingId = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .checkpoint: checkpoint = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .method: method = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.method) }
            case .findings:
                findings = try s.required { (s) throws(DecodeFailure) in
                    try s.array(depth: 2) { (s) throws(DecodeFailure) in try s.finding() }
                }
            case .officer: officer = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .durationSec: durationSec = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            }
        }
        try end()
        let (version, id, time) = try finish(common)
        guard let crossingId else { throw schema.missing(.crossingId) }
        guard let checkpoint else { throw schema.missing(.checkpoint) }
        guard let method else { throw schema.missing(.method) }
        guard let findings else { throw schema.missing(.findings) }
        let inspection = Inspection(
            crossingId: crossingId, checkpoint: checkpoint, method: method, findings: findings, officer: officer,
            durationSec: durationSec)
        return Event(version: version, id: id, time: time, source: common.source, body: .inspection(inspection))
    }

    private mutating func patrolEvent() throws(DecodeFailure) -> Event {
        let schema = Schemas.patrol
        var common = CommonFields()
        var unit: String?
        var sector: String?
        var position: Position?
        var observation: Observation?
        var count: Int?
        var headingDeg: Double?
        var pillar: String?
        var note: String?
        try eventMembers(schema, &common, kind: .patrol) { (s, key) throws(DecodeFailure) in
            switch key {
            case .unit: unit = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .sector: sector = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .position: position = try s.required { (s) throws(DecodeFailure) in try s.position() }
            case .observation:
                observation = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.observation) }
            case .count: count = try s.optional { (s) throws(DecodeFailure) in try s.nonNegativeInteger() }
            case .headingDeg: headingDeg = try s.optional { (s) throws(DecodeFailure) in try s.double(.heading) }
            case .pillar: pillar = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .note: note = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            }
        }
        try end()
        let (version, id, time) = try finish(common)
        guard let unit else { throw schema.missing(.unit) }
        guard let position else { throw schema.missing(.position) }
        guard let observation else { throw schema.missing(.observation) }
        let patrol = Patrol(
            unit: unit, sector: sector, position: position, observation: observation, count: count,
            headingDeg: headingDeg, pillar: pillar, note: note)
        return Event(version: version, id: id, time: time, source: common.source, body: .patrol(patrol))
    }

    private mutating func sensorEvent() throws(DecodeFailure) -> Event {
        let schema = Schemas.sensor
        var common = CommonFields()
        var sensor: String?
        var sensorType: SensorType?
        var position: Position?
        var detection: Detection?
        var confidence: Double?
        var count: Int?
        var sector: String?
        try eventMembers(schema, &common, kind: .sensor) { (s, key) throws(DecodeFailure) in
            switch key {
            case .sensor: sensor = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .sensorType:
                sensorType = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.sensorType) }
            case .position: position = try s.required { (s) throws(DecodeFailure) in try s.position() }
            case .detection:
                detection = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.detection) }
            case .confidence: confidence = try s.optional { (s) throws(DecodeFailure) in try s.double(.fraction) }
            case .count: count = try s.optional { (s) throws(DecodeFailure) in try s.nonNegativeInteger() }
            case .sector: sector = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            }
        }
        try end()
        let (version, id, time) = try finish(common)
        guard let sensor else { throw schema.missing(.sensor) }
        guard let sensorType else { throw schema.missing(.sensorType) }
        guard let position else { throw schema.missing(.position) }
        guard let detection else { throw schema.missing(.detection) }
        let body = Sensor(
            sensor: sensor, sensorType: sensorType, position: position, detection: detection,
            confidence: confidence ?? 1, count: count, sector: sector)
        return Event(version: version, id: id, time: time, source: common.source, body: .sensor(body))
    }

    private mutating func vesselEvent() throws(DecodeFailure) -> Event {
        let schema = Schemas.vessel
        var common = CommonFields()
        var vessel: String?
        var position: Position?
        var speedKn: Double?
        var headingDeg: Double?
        var ais: Bool?
        var activity: VesselActivity?
        try eventMembers(schema, &common, kind: .vessel) { (s, key) throws(DecodeFailure) in
            switch key {
            case .vessel: vessel = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .position: position = try s.required { (s) throws(DecodeFailure) in try s.position() }
            case .speedKn: speedKn = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .headingDeg: headingDeg = try s.optional { (s) throws(DecodeFailure) in try s.double(.heading) }
            case .ais: ais = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            case .activity: activity = try s.optional { (s) throws(DecodeFailure) in try s.enumValue(Enums.activity) }
            }
        }
        try end()
        let (version, id, time) = try finish(common)
        guard let vessel else { throw schema.missing(.vessel) }
        guard let position else { throw schema.missing(.position) }
        let body = Vessel(
            vessel: vessel, position: position, speedKn: speedKn, headingDeg: headingDeg, ais: ais,
            activity: activity)
        return Event(version: version, id: id, time: time, source: common.source, body: .vessel(body))
    }
}

// MARK: - Nested objects

extension Scanner {
    private mutating func person() throws(DecodeFailure) -> Person {
        let schema = Schemas.person
        var doc: String?
        var role: PersonRole?
        var minor: Bool?
        var docHolder: String?
        try members(schema, depth: 3) { (s, key) throws(DecodeFailure) in
            switch key {
            case .doc: doc = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .role: role = try s.optional { (s) throws(DecodeFailure) in try s.enumValue(Enums.role) }
            case .minor: minor = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            case .docHolder: docHolder = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            }
        }
        guard let doc else { throw schema.missing(.doc) }
        return Person(doc: doc, role: role, minor: minor, docHolder: docHolder)
    }

    private mutating func vehicle() throws(DecodeFailure) -> Vehicle {
        let schema = Schemas.vehicle
        var plate: String?
        var type: VehicleType?
        var trailer: String?
        var declared: Double?
        var measured: Double?
        try members(schema, depth: 2) { (s, key) throws(DecodeFailure) in
            switch key {
            case .plate: plate = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .type: type = try s.optional { (s) throws(DecodeFailure) in try s.enumValue(Enums.vehicleType) }
            case .trailer: trailer = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .declaredWeightKg: declared = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .measuredWeightKg: measured = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            }
        }
        guard let plate else { throw schema.missing(.plate) }
        return Vehicle(
            plate: plate, type: type, trailer: trailer, declaredWeightKg: declared, measuredWeightKg: measured)
    }

    private mutating func goods() throws(DecodeFailure) -> Goods {
        let schema = Schemas.goods
        var hs: String?
        var description: String?
        var quantity: Double?
        var unit: String?
        var weightKg: Double?
        var valueUsd: Double?
        var substance: String?
        var origin: String?
        try members(schema, depth: 3) { (s, key) throws(DecodeFailure) in
            switch key {
            case .hs: hs = try s.required { (s) throws(DecodeFailure) in try s.hsCode() }
            case .description: description = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .quantity: quantity = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .unit: unit = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .weightKg: weightKg = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .valueUsd: valueUsd = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .substance: substance = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .origin: origin = try s.optional { (s) throws(DecodeFailure) in try s.countryCode() }
            }
        }
        guard let hs else { throw schema.missing(.hs) }
        return Goods(
            hs: hs, description: description, quantity: quantity, unit: unit, weightKg: weightKg, valueUsd: valueUsd,
            substance: substance, origin: origin)
    }

    private mutating func permit() throws(DecodeFailure) -> Permit {
        let schema = Schemas.permit
        var id: String?
        var type: PermitType?
        var validUntil: ValidUntil?
        var covers: [String]?
        try members(schema, depth: 3) { (s, key) throws(DecodeFailure) in
            switch key {
            case .id: id = try s.required { (s) throws(DecodeFailure) in try s.nonEmptyString() }
            case .type: type = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.permitType) }
            case .validUntil: validUntil = try s.optional { (s) throws(DecodeFailure) in try s.validUntil() }
            case .covers:
                covers = try s.optional { (s) throws(DecodeFailure) in
                    try s.array(depth: 4) { (s) throws(DecodeFailure) in
                        try s.required { (s) throws(DecodeFailure) in try s.hsPrefix() }
                    }
                }
            }
        }
        guard let id else { throw schema.missing(.id) }
        guard let type else { throw schema.missing(.type) }
        return Permit(id: id, type: type, validUntil: validUntil, covers: covers)
    }

    private mutating func finding() throws(DecodeFailure) -> Finding {
        let schema = Schemas.finding
        var category: FindingCategory?
        var finding = Finding(category: .other)
        try members(schema, depth: 3) { (s, key) throws(DecodeFailure) in
            switch key {
            case .category: category = try s.required { (s) throws(DecodeFailure) in try s.enumValue(Enums.category) }
            case .description: finding.description = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .substance: finding.substance = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .quantity:
                finding.quantity = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .unit: finding.unit = try s.optional { (s) throws(DecodeFailure) in try s.string() }
            case .weightKg:
                finding.weightKg = try s.optional { (s) throws(DecodeFailure) in try s.double(.nonNegative) }
            case .hs: finding.hs = try s.optional { (s) throws(DecodeFailure) in try s.hsCode() }
            case .declared: finding.declared = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            case .concealed: finding.concealed = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            case .canineAlert: finding.canineAlert = try s.optional { (s) throws(DecodeFailure) in try s.bool() }
            }
        }
        guard let category else { throw schema.missing(.category) }
        finding.category = category
        return finding
    }

    /// A `{lat, lon}` member of a top-level event object.
    private mutating func position() throws(DecodeFailure) -> Position {
        let schema = Schemas.position
        var lat: Double?
        var lon: Double?
        try members(schema, depth: 2) { (s, key) throws(DecodeFailure) in
            switch key {
            case .lat: lat = try s.required { (s) throws(DecodeFailure) in try s.double(.latitude) }
            case .lon: lon = try s.required { (s) throws(DecodeFailure) in try s.double(.longitude) }
            }
        }
        guard let lat else { throw schema.missing(.lat) }
        guard let lon else { throw schema.missing(.lon) }
        return Position(lat: lat, lon: lon)
    }
}

// MARK: - Members and values

extension Scanner {
    /// Walks the members of the object at `pos` (at `depth`), calling `member` for each key of `schema`
    /// and skipping the rest, with duplicate keys rejected and member names added to rejection paths.
    @inline(__always)
    mutating func members<Key>(
        _ schema: Schema<Key>, depth: Int, _ member: (inout Scanner, Key) throws(DecodeFailure) -> Void
    ) throws(DecodeFailure) {
        try objectMembers(schema.keys, schema.paths, depth: depth) { (s, index) throws(DecodeFailure) in
            try member(&s, schema.cases[index])
        }
    }

    @inline(__always)
    mutating func objectMembers(
        _ keys: KeyTable, _ paths: [String], depth: Int,
        _ member: (inout Scanner, Int) throws(DecodeFailure) -> Void
    ) throws(DecodeFailure) {
        guard current == ASCII.openBrace else { throw try mismatch("an object") }
        pos += 1
        skipWhitespace()
        if current == ASCII.closeBrace {
            pos += 1
            return
        }
        var seen: UInt64 = 0
        var others = KeySet()
        repeat {
            guard current == ASCII.quote else { throw unexpected(at: pos) }
            let key = try scanString()
            skipWhitespace()
            try expect(ASCII.colon)
            skipWhitespace()
            let index = memberIndex(key, keys)
            if index < 0 {
                try others.insert(key, scanner: self)
                try skipValue(depth: depth)
                continue
            }
            let bit: UInt64 = 1 << UInt64(index)
            if seen & bit != 0 { throw .syntax("duplicate key \(try withValue(key) { quoted($0) })") }
            seen |= bit
            do throws(DecodeFailure) {
                try member(&self, index)
            } catch {
                throw error.isSyntax ? error : error.under(paths[index])
            }
        } while try nextMember(closing: ASCII.closeBrace)
    }

    /// The index of `key` in `keys`, or -1.
    @inline(__always)
    func memberIndex(_ key: StringToken, _ keys: KeyTable) -> Int {
        let length = key.length
        guard !key.hasEscapes, key.start + 16 <= count else { return escapedMemberIndex(key, keys) }
        guard length >= 1, length <= 16 else { return -1 }
        let first = base.loadUnaligned(fromByteOffset: key.start, as: UInt64.self)
        let second = base.loadUnaligned(fromByteOffset: key.start + 8, as: UInt64.self)
        // Keep only the key's bytes; in Swift a shift by 64 or more gives 0, so a full word keeps all.
        let firstMask = (UInt64(1) << UInt64(8 * length)) &- 1
        let secondMask = length <= 8 ? 0 : (UInt64(1) << UInt64(8 * (length - 8))) &- 1
        return keys.index(
            length: length, first: first & firstMask, second: second & secondMask)
    }

    /// `memberIndex` for keys with escapes or too near the end of the message to load two words.
    @inline(never)
    private func escapedMemberIndex(_ key: StringToken, _ keys: KeyTable) -> Int {
        (try? withValue(key) { keys.index(of: $0) }) ?? -1
    }

    /// `decode` for a required member: `null` is rejected.
    @inline(__always)
    mutating func required<T>(_ decode: (inout Scanner) throws(DecodeFailure) -> T) throws(DecodeFailure) -> T {
        if try takeNull() { throw .value("must not be null") }
        return try decode(&self)
    }

    /// `decode` for an optional member: `null` means absent.
    @inline(__always)
    mutating func optional<T>(_ decode: (inout Scanner) throws(DecodeFailure) -> T) throws(DecodeFailure) -> T? {
        if try takeNull() { return nil }
        return try decode(&self)
    }

    /// The rejection for a value of the wrong type at `pos`, or the syntax error if no value starts there.
    func mismatch(_ expected: String) throws(DecodeFailure) -> DecodeFailure {
        let found: String
        switch current ?? 0 {
        case ASCII.openBrace: found = "object"
        case ASCII.openBracket: found = "array"
        case ASCII.quote: found = "string"
        case ASCII.minus, ASCII.zero...UInt8(ascii: "9"): found = "number"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "boolean"
        case UInt8(ascii: "n"): found = "null"
        default: throw unexpected(at: pos)
        }
        return .value("not \(expected) (found \(found))")
    }

    /// Elements of the array at `pos` (at `depth`); rejections inside get the element's index.
    mutating func array<T>(depth: Int, _ element: (inout Scanner) throws(DecodeFailure) -> T) throws(DecodeFailure)
        -> [T]
    {
        guard current == ASCII.openBracket else { throw try mismatch("an array") }
        pos += 1
        skipWhitespace()
        var elements: [T] = []
        if current == ASCII.closeBracket {
            pos += 1
            return elements
        }
        // Most arrays are short; one allocation instead of growing from one element.
        elements.reserveCapacity(4)
        repeat {
            do throws(DecodeFailure) {
                elements.append(try element(&self))
            } catch {
                throw error.isSyntax ? error : error.under("[\(elements.count)]")
            }
        } while try nextMember(closing: ASCII.closeBracket)
        return elements
    }

    @inline(__always)
    mutating func stringToken() throws(DecodeFailure) -> StringToken {
        guard current == ASCII.quote else { throw try mismatch("a string") }
        return try scanString()
    }

    @inline(__always)
    mutating func string() throws(DecodeFailure) -> String {
        string(try stringToken())
    }

    /// Required strings are non-empty.
    @inline(__always)
    mutating func nonEmptyString() throws(DecodeFailure) -> String {
        let token = try stringToken()
        guard token.length > 0 else { throw .value("must not be empty") }
        return string(token)
    }

    mutating func bool() throws(DecodeFailure) -> Bool {
        switch current {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw try mismatch("a boolean")
        }
    }

    @inline(__always)
    mutating func numberToken() throws(DecodeFailure) -> NumberToken {
        guard let b = current, b == ASCII.minus || b &- ASCII.zero < 10 else { throw try mismatch("a number") }
        return try scanNumber()
    }

    /// The token as written, cut short if very long (a number token is ASCII).
    func text(_ token: NumberToken) -> String {
        let written = String(decoding: bytes(token.start, min(token.end, token.start + 40)), as: UTF8.self)
        return token.end - token.start > 40 ? written + "…" : written
    }

    mutating func double(_ bounds: Bounds) throws(DecodeFailure) -> Double {
        let token = try numberToken()
        guard let value = double(token) else { throw .value("number out of range: \(text(token))") }
        switch bounds {
        case .nonNegative:
            guard value >= 0 else { throw .value("must not be negative: \(text(token))") }
        case .range(let range, let wording):
            guard range.contains(value) else { throw .value("out of range (\(wording)): \(text(token))") }
        }
        return value
    }

    /// An integer token within Int.
    mutating func integer() throws(DecodeFailure) -> Int {
        let token = try numberToken()
        guard token.isInteger else { throw .value("not an integer: \(text(token))") }
        guard let value = integer(token) else { throw .value("integer out of range: \(text(token))") }
        return value
    }

    mutating func nonNegativeInteger() throws(DecodeFailure) -> Int {
        let value = try integer()
        guard value >= 0 else { throw .value("must not be negative: \(value)") }
        return value
    }

    mutating func enumValue<Value>(_ table: EnumTable<Value>) throws(DecodeFailure) -> Value {
        let token = try stringToken()
        let index = memberIndex(token, table.keys)
        guard index >= 0 else {
            throw .value(try withValue(token) { (value) throws(DecodeFailure) in "not one of \(table.list): \(quoted(value))" })
        }
        return table.cases[index]
    }

    /// Two upper-case ASCII letters (ISO 3166-1 alpha-2 format; the list is not checked).
    mutating func countryCode() throws(DecodeFailure) -> String {
        try formatted("not a country code (two upper-case letters)") { value in
            value.count == 2 && value.allSatisfy { $0 &- UInt8(ascii: "A") < 26 }
        }
    }

    /// An HS commodity code: 4 to 10 ASCII digits.
    mutating func hsCode() throws(DecodeFailure) -> String {
        try formatted("not an HS code (4 to 10 digits)") { value in
            (4...10).contains(value.count) && value.allSatisfy { $0 &- ASCII.zero < 10 }
        }
    }

    /// A permit's `covers` entry: an HS code prefix of 2 (a chapter) to 10 digits.
    mutating func hsPrefix() throws(DecodeFailure) -> String {
        try formatted("not an HS code prefix (2 to 10 digits)") { value in
            (2...10).contains(value.count) && value.allSatisfy { $0 &- ASCII.zero < 10 }
        }
    }

    private mutating func formatted(_ problem: String, _ valid: (UnsafeRawBufferPointer) -> Bool)
        throws(DecodeFailure) -> String
    {
        let token = try stringToken()
        try withValue(token) { (value) throws(DecodeFailure) in
            guard valid(value) else { throw .value("\(problem): \(quoted(value))") }
        }
        return string(token)
    }

    mutating func time() throws(DecodeFailure) -> Timestamp {
        let token = try stringToken()
        return try withValue(token) { (value) throws(DecodeFailure) -> Timestamp in
            switch TimeSyntax.parse(value, allowDate: false) {
            case .instant(let time): return time
            case .date: throw .value("\(TimeSyntax.Problem.format.reason): \(quoted(value))")
            case .invalid(let problem): throw .value("\(problem.reason): \(quoted(value))")
            }
        }
    }

    mutating func validUntil() throws(DecodeFailure) -> ValidUntil {
        let token = try stringToken()
        return try withValue(token) { (value) throws(DecodeFailure) -> ValidUntil in
            switch TimeSyntax.parse(value, allowDate: true) {
            case .instant(let time): return .instant(time)
            case .date(let date): return .date(date)
            case .invalid(let problem): throw .value("\(problem.reason): \(quoted(value))")
            }
        }
    }
}
