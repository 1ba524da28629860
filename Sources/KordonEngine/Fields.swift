import KordonEvents
import Synchronization

/// One accepted event with where it was read. Allocated once at ingest and shared by everything that
/// keeps the event (the buffer, scopes, stored crossings, waiting triggers and absences, sightings), so
/// state holds one reference per use rather than copies of the event's fields.
final class EventRecord: Sendable {
    // In this order the one-byte fields fill the origin's tail and the record with a crossing
    // fits an allocator size class of 256 bytes (declared otherwise, it took 320).
    let id: String
    let time: Timestamp
    let source: String?
    let origin: EventOrigin
    let kind: EventKind
    /// The contract version, which the decoder accepts only as 1.
    private let version: UInt8
    /// Any other body, out of line: state keeps crossings by the million (for joins, absences,
    /// sightings), and inline room for an inspection or an `Event.Body` would grow each of them by that.
    /// The event is kept in these parts only, not also whole, so that ingest copies it once.
    let other: OtherBody?
    /// The body's crossing, taken out once: rules read its fields on every evaluation, and reading them
    /// through the body's enum copies the whole payload each time. Empty for other kinds; read only
    /// through a record known to be a crossing (`Scope.crossingRecord`). Not an optional: a field read
    /// through an optional struct from another module made an outlined copy of the whole struct, some
    /// twenty times an event.
    let crossingBody: Crossing

    /// The crossing, copied out (for snapshots); nil for other kinds.
    var crossing: Crossing? { kind == .crossing ? crossingBody : nil }

    var inspection: Inspection? {
        if case .inspection(let inspection)? = other { inspection } else { nil }
    }

    init(event: consuming Event, origin: EventOrigin) {
        time = event.time
        kind = event.kind
        guard let version = UInt8(exactly: event.version) else { preconditionFailure("event contract version \(event.version)") }
        self.version = version
        self.origin = origin
        let (id, source, body) = event.takeParts()
        self.id = id
        self.source = source
        switch consume body {
        case .crossing(let crossing):
            crossingBody = crossing
            other = nil
        case .inspection(let inspection):
            crossingBody = Self.noCrossing
            other = .inspection(inspection)
        case .patrol(let patrol):
            crossingBody = Self.noCrossing
            other = .patrol(patrol)
        case .sensor(let sensor):
            crossingBody = Self.noCrossing
            other = .sensor(sensor)
        case .vessel(let vessel):
            crossingBody = Self.noCrossing
            other = .vessel(vessel)
        }
    }

    private static let noCrossing = Crossing(checkpoint: "", country: "", direction: .exit)

    /// The event put back together, for snapshots.
    var event: Event {
        let body: Event.Body =
            switch (crossing, other) {
            case (let crossing?, _): .crossing(crossing)
            case (_, .inspection(let inspection)?): .inspection(inspection)
            case (_, .patrol(let patrol)?): .patrol(patrol)
            case (_, .sensor(let sensor)?): .sensor(sensor)
            case (_, .vessel(let vessel)?): .vessel(vessel)
            case (nil, nil): preconditionFailure("a record holds one body")
            }
        return Event(version: Int(version), id: id, time: time, source: source, body: body)
    }

    var evidence: Evidence { Evidence(id: id, kind: kind, time: time, origin: origin) }
}

/// A body other than a crossing, boxed (see `EventRecord.other`).
indirect enum OtherBody: Sendable {
    case inspection(Inspection)
    case patrol(Patrol)
    case sensor(Sensor)
    case vessel(Vessel)
}

/// What rules look things up in besides the event. One object, shared by every scope made while it
/// holds: a scope then keeps one reference to it, not one to each table (a million scopes wait at once).
final class Lookups: Sendable {
    let geography: Geography
    /// The geography's checkpoint table, held apart as every event looks its checkpoint up: a method
    /// called on `geography` through this object copied the whole struct, retaining each of its tables.
    /// Every checkpoint lookup goes through here.
    private let checkpointIndices: [TableKey: Int32]
    /// The watchlists' names: a test finds its list by a scan, as there are few.
    private let names: [String]
    /// Every plate and doc of every watchlist in one table, under `tableHash`: one lookup per test.
    /// The engine's table rather than a `Set`, which keeps no hashes: most values are on no list,
    /// and a miss in a `Set` compared the value with every entry its probe passed.
    private let entries: HashTable<WatchlistEntry, Void>

    init(geography: Geography, watchlists: [String: Watchlist]) {
        self.geography = geography
        checkpointIndices = geography.checkpointIndices
        names = watchlists.keys.sorted()
        var entries = HashTable<WatchlistEntry, Void>()
        for (list, name) in names.enumerated() {
            for plate in watchlists[name]!.plates { entries[WatchlistEntry(list: list, plate: true, value: plate)] = () }
            for doc in watchlists[name]!.docs { entries[WatchlistEntry(list: list, plate: false, value: doc)] = () }
        }
        self.entries = entries
    }

    /// Where checkpoint `id` is in `geography.checkpointList`.
    func checkpointIndex(_ id: String) -> Int32? {
        checkpointIndices[TableKey(id)]
    }

    /// Whether watchlist `name` lists `value` among its plates (`identity` plate) or docs (any other).
    func lists(_ value: String, in name: String, as identity: KeyType) -> Bool {
        guard let list = names.firstIndex(of: name) else { return false }
        return entries.index(forKey: WatchlistEntry(list: list, plate: identity == .plate, value: value)) != nil
    }
}

/// A plate or doc on a watchlist: which list (its place in `Lookups.names`), which kind, the value.
struct WatchlistEntry: Hashable, Sendable {
    let list: Int
    let plate: Bool
    let value: String

    static func == (a: WatchlistEntry, b: WatchlistEntry) -> Bool {
        a.list == b.list && a.plate == b.plate && sameBytes(a.value, b.value)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(list)
        hasher.combine(plate)
        combineBytes(value, into: &hasher)
    }

    func _rawHashValue(seed: Int) -> Int {
        let seed = UInt64(truncatingIfNeeded: seed) &+ UInt64(list) &* 2 &+ (plate ? 1 : 0)
        return Int(truncatingIfNeeded: tableHash(value, seed: seed))
    }
}

/// The event as rules see it: the event itself, its crossing (its own or the
/// one an inspection joined), and the elements quantifiers have bound.
struct Scope: Sendable {
    /// Shared by every rule's copy of the scope: copying a scope then costs one retain, not one per field.
    private final class Context: Sendable {
        let record: EventRecord
        /// The crossing an inspection was joined with.
        let joined: EventRecord?
        /// The record whose crossing rules read: the event's own, else the joined one.
        let crossingRecord: EventRecord?
        let lookups: Lookups
        /// Places found once for all rules (-1: none): the crossing's checkpoint in `geography.checkpointList`,
        /// and in `geography.zones` the sector and fishing zones the event's position lies in, found when
        /// first asked for (`unknown` until then), as many events need neither. Atomic, so that an engine
        /// copy being encoded elsewhere may share the context; a race only finds the same zone twice.
        let checkpoint: Int32
        let sectorZone = Atomic<Int32>(unknown)
        let fishingZone = Atomic<Int32>(unknown)
        static let unknown: Int32 = -2

        init(record: EventRecord, joined: EventRecord?, lookups: Lookups) {
            self.record = record
            self.joined = joined
            let crossingRecord = record.kind == .crossing ? record : joined?.kind == .crossing ? joined : nil
            self.crossingRecord = crossingRecord
            self.lookups = lookups
            checkpoint = (crossingRecord?.crossingBody.checkpoint).flatMap(lookups.checkpointIndex) ?? -1
        }

        /// The zone of `type` the event's position lies in: the zone itself, read in place through `body`.
        func zone<T>(_ type: Zone.ZoneType, _ cache: borrowing Atomic<Int32>, _ body: (Zone) -> T) -> T? {
            var index = cache.load(ordering: .relaxed)
            if index == Self.unknown {
                index = record.position.flatMap { lookups.geography.zoneIndex(type, containing: $0) } ?? -1
                cache.store(index, ordering: .relaxed)
            }
            return index < 0 ? nil : body(lookups.geography.zones[Int(index)])
        }
    }

    private let context: Context
    var bound = Bindings()

    var record: EventRecord { context.record }
    var joined: EventRecord? { context.joined }
    /// Only an inspection's scope has a joined crossing, and only a crossing's record has one of its own.
    var crossingRecord: EventRecord? { context.crossingRecord }
    /// The crossing's event id: the event's own, or the inspected crossing's.
    var crossingId: String? { crossingRecord?.id }
    /// The crossing's event time: permits are judged valid at the crossing, not at a later inspection.
    var crossingTime: Timestamp? { crossingRecord?.time }
    var inspection: Inspection? { context.record.inspection }
    var geography: Geography { context.lookups.geography }
    var lookups: Lookups { context.lookups }

    /// `joined`: for an inspection, the crossing it inspected (ignored for other events).
    init(record: EventRecord, joined: EventRecord? = nil, lookups: Lookups) {
        let joined = record.kind == .inspection ? joined : nil
        context = Context(record: record, joined: joined, lookups: lookups)
    }
}

extension EventRecord {
    /// Where a patrol, sensor or vessel event was observed.
    var position: Position? {
        switch other {
        case .patrol(let patrol)?: patrol.position
        case .sensor(let sensor)?: sensor.position
        case .vessel(let vessel)?: vessel.position
        case .inspection?, nil: nil
        }
    }
}

extension Scope {
    var position: Position? { record.position }

    /// The event's own sector, else the sector zone its position lies in.
    var sector: String? {
        switch record.other {
        case .patrol(let patrol)? where patrol.sector != nil: return patrol.sector
        case .sensor(let sensor)? where sensor.sector != nil: return sensor.sector
        default: return context.zone(.sector, context.sectorZone) { $0.id }
        }
    }

    /// Whether the restricted fishing zone the event's position lies in is closed at the event's time;
    /// nil outside every fishing zone. Read in place: a copy of the zone retains each of its parts.
    var fishingZoneClosed: Bool? {
        context.zone(.fishing, context.fishingZone) { $0.isClosed(at: record.time) }
    }

    var fishingZoneID: String? {
        context.zone(.fishing, context.fishingZone) { $0.id }
    }

    /// The crossing's checkpoint as the geography lists it; nil when it does not.
    var checkpointPaired: String? {
        context.checkpoint < 0 ? nil : context.lookups.geography.checkpointList[Int(context.checkpoint)].paired
    }

    var checkpointCapacity: Int? {
        context.checkpoint < 0 ? nil : context.lookups.geography.checkpointList[Int(context.checkpoint)].capacity
    }

    /// The crossing's checkpoint's place in `Geography.checkpointList`; nil when the geography does not list it.
    var checkpointIndex: Int32? {
        context.checkpoint < 0 ? nil : context.checkpoint
    }

    /// The adult who holds the most documents of other adults on the crossing, and how many.
    /// Minors' documents are left out (a guardian holding them is normal), as is a holder listed
    /// as a minor; a holder not listed among the persons still counts. Ties: the smallest doc.
    var documentsHeld: (holder: String, count: Int)? {
        // Most crossings name no holder: nothing to count, and no set or table to build.
        guard let persons = crossingRecord?.crossingBody.persons, persons.contains(where: { $0.docHolder != nil }) else {
            return nil
        }
        let minors = Set(persons.lazy.filter { $0.minor == true }.map(\.doc))
        var held: [String: Int] = [:]
        for person in persons where person.minor != true {
            guard let holder = person.docHolder, holder != person.doc, !minors.contains(holder) else { continue }
            held[holder, default: 0] += 1
        }
        var best: (holder: String, count: Int)?
        for (holder, count) in held {
            if let current = best,
                count < current.count || (count == current.count && !holder.utf8.lexicographicallyPrecedes(current.holder.utf8))
            {
                continue
            }
            best = (holder, count)
        }
        return best
    }
}

/// Elements bound by `some:` quantifiers, as indices into the scope's lists (-1: none); a successful
/// `some` leaves its witness bound, so titles and facts can name the finding that matched.
/// Indices rather than copies: scopes are copied per rule and kept by waiting triggers.
struct Bindings: Sendable, Equatable {
    var finding: Int32 = -1
    var goods: Int32 = -1
    var person: Int32 = -1
    var permit: Int32 = -1
}

extension Scope {
    /// The lists quantifiers could bind an element of, as bits of `Collection.bit`.
    var presence: Presence {
        var presence: Presence = 0
        if let findings = context.record.inspection?.findings, !findings.isEmpty { presence |= Collection.finding.bit }
        if let record = context.crossingRecord {
            if record.crossingBody.goods?.isEmpty == false { presence |= Collection.goods.bit }
            if record.crossingBody.persons?.isEmpty == false { presence |= Collection.person.bit }
            if record.crossingBody.permits?.isEmpty == false { presence |= Collection.permit.bit }
        }
        return presence
    }
}

/// The bound element read in place (nil when none is bound): taking it out would copy its strings.
extension Scope {
    func finding<T>(_ read: (Finding) -> T?) -> T? {
        guard bound.finding >= 0, let findings = context.record.inspection?.findings else { return nil }
        return read(findings[Int(bound.finding)])
    }

    func goods<T>(_ read: (Goods) -> T?) -> T? {
        guard bound.goods >= 0, let goods = context.crossingRecord?.crossingBody.goods else { return nil }
        return read(goods[Int(bound.goods)])
    }

    func person<T>(_ read: (Person) -> T?) -> T? {
        guard bound.person >= 0, let persons = context.crossingRecord?.crossingBody.persons else { return nil }
        return read(persons[Int(bound.person)])
    }

    func permit<T>(_ read: (Permit) -> T?) -> T? {
        guard bound.permit >= 0, let permits = context.crossingRecord?.crossingBody.permits else { return nil }
        return read(permits[Int(bound.permit)])
    }
}

/// The lists quantifiers range over, named as their bound element.
enum Collection: String, CaseIterable, Sendable {
    case finding, goods, person, permit

    /// What the rule's event must provide for the collection to exist.
    var needs: Field.Source {
        self == .finding ? .inspection : .crossing
    }
}

enum ValueType {
    case string, number, bool

    var name: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "true or false"
        }
    }
}

/// Every field a condition, title or fact can name, by its path.
enum Field: String, CaseIterable, Sendable {
    case eventId = "event.id"
    case eventKind = "event.kind"
    case eventSource = "event.source"

    case crossingId = "crossing.id"
    case crossingCheckpoint = "crossing.checkpoint"
    case crossingCountry = "crossing.country"
    case crossingDirection = "crossing.direction"
    case crossingOfficer = "crossing.officer"
    case crossingLane = "crossing.lane"
    case crossingReleased = "crossing.released"
    case crossingPersonCount = "crossing.persons.count"
    case crossingPassengerCount = "crossing.passengers.count"
    case crossingDocsHeldMax = "crossing.docsHeld.max"
    case crossingDocsHeldHolder = "crossing.docsHeld.holder"
    case crossingGoodsValueUsd = "crossing.goods.valueUsd"
    case crossingPaired = "crossing.paired"
    case crossingCapacity = "crossing.capacity"
    case plate = "crossing.vehicle.plate"
    case vehicleType = "crossing.vehicle.type"
    case declaredWeightKg = "crossing.vehicle.declaredWeightKg"
    case measuredWeightKg = "crossing.vehicle.measuredWeightKg"
    case weightDifferenceKg = "crossing.vehicle.weightDifferenceKg"
    case weightDifferencePercent = "crossing.vehicle.weightDifferencePercent"

    case inspectionCrossingId = "inspection.crossingId"
    case inspectionCheckpoint = "inspection.checkpoint"
    case inspectionMethod = "inspection.method"
    case inspectionOfficer = "inspection.officer"
    case inspectionDurationSec = "inspection.durationSec"
    case inspectionFindingCount = "inspection.findings.count"

    case findingCategory = "finding.category"
    case findingSubstance = "finding.substance"
    case findingHs = "finding.hs"
    case findingWeightKg = "finding.weightKg"
    case findingQuantity = "finding.quantity"
    case findingUnit = "finding.unit"
    case findingDeclared = "finding.declared"
    case findingConcealed = "finding.concealed"
    case findingCanineAlert = "finding.canineAlert"

    case goodsHs = "goods.hs"
    case goodsSubstance = "goods.substance"
    case goodsWeightKg = "goods.weightKg"
    case goodsValueUsd = "goods.valueUsd"
    case goodsQuantity = "goods.quantity"
    case goodsUnit = "goods.unit"

    case personDoc = "person.doc"
    case personRole = "person.role"
    case personMinor = "person.minor"
    case personDocHolder = "person.docHolder"

    case permitId = "permit.id"
    case permitType = "permit.type"
    case permitValid = "permit.valid"
    case permitCoversFinding = "permit.coversFinding"
    case permitCoversGoods = "permit.coversGoods"

    case patrolUnit = "patrol.unit"
    case patrolObservation = "patrol.observation"
    case patrolPillar = "patrol.pillar"
    case patrolCount = "patrol.count"

    case sensorId = "sensor.id"
    case sensorType = "sensor.type"
    case sensorDetection = "sensor.detection"
    case sensorConfidence = "sensor.confidence"
    case sensorCount = "sensor.count"

    case vesselId = "vessel.id"
    case vesselSpeedKn = "vessel.speedKn"
    case vesselAis = "vessel.ais"
    case vesselActivity = "vessel.activity"

    case positionLat = "position.lat"
    case positionLon = "position.lon"
    case positionBorderZone = "position.borderZone"
    case positionSector = "position.sector"
    case positionNearestCheckpoint = "position.nearestCheckpoint"
    case positionNearestCheckpointKm = "position.nearestCheckpointKm"
    case positionFishingZone = "position.fishingZone"
    case positionClosedSeason = "position.closedSeason"

    /// Where a field's value comes from.
    enum Source: Equatable {
        case event, crossing, inspection
        /// The event itself, when it is of this kind.
        case kind(EventKind)
        /// Patrol, sensor and vessel events.
        case position
        case element(Collection)
    }

    /// Read from a table made once: working it out from the path compares strings, a few thousand
    /// instructions, and distinct counts ask on every match.
    var source: Source { Self.sources[self]! }

    private static let sources = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.parsedSource) })

    private var parsedSource: Source {
        switch rawValue.prefix(while: { $0 != "." }) {
        case "event": .event
        case "crossing": .crossing
        case "inspection": .inspection
        case "patrol": .kind(.patrol)
        case "sensor": .kind(.sensor)
        case "vessel": .kind(.vessel)
        case "position": .position
        case "finding": .element(.finding)
        case "goods": .element(.goods)
        case "person": .element(.person)
        default: .element(.permit)
        }
    }

    /// Other elements a field reads besides its own.
    var alsoNeeds: Collection? {
        switch self {
        case .permitCoversFinding: .finding
        case .permitCoversGoods: .goods
        default: nil
        }
    }

    /// Which watchlist entries a field's values are looked up in, for `watchlist:` tests.
    var identity: KeyType? {
        switch self {
        case .plate: .plate
        case .personDoc, .personDocHolder, .crossingDocsHeldHolder: .doc
        default: nil
        }
    }

    var type: ValueType {
        switch self {
        case .crossingReleased, .findingDeclared, .findingConcealed, .findingCanineAlert, .personMinor, .permitValid,
            .permitCoversFinding, .permitCoversGoods, .vesselAis, .positionClosedSeason:
            .bool
        case .crossingPassengerCount, .crossingDocsHeldMax, .patrolCount, .sensorConfidence, .sensorCount, .vesselSpeedKn,
            .positionLat, .positionLon, .positionNearestCheckpointKm:
            .number
        case .crossingPersonCount, .crossingGoodsValueUsd, .crossingCapacity, .declaredWeightKg, .measuredWeightKg,
            .weightDifferenceKg, .weightDifferencePercent, .inspectionDurationSec, .inspectionFindingCount,
            .findingWeightKg, .findingQuantity, .goodsWeightKg, .goodsValueUsd, .goodsQuantity:
            .number
        default:
            .string
        }
    }

    /// The field's value, or nil when the event does not have it.
    /// Substance names are lower-cased so lists match however producers capitalise them.
    /// Reads go through the records' stored properties: copying a `Crossing` or `Vehicle` out retains each of its strings.
    func value(in scope: Scope) -> Value? {
        let record = scope.crossingRecord
        switch self {
        case .eventId: return .string(scope.record.id)
        case .eventKind: return .string(scope.record.kind.rawValue)
        case .eventSource: return scope.record.source.map(Value.string)
        case .crossingId: return record.map { .string($0.id) }
        case .crossingCheckpoint: return (record?.crossingBody.checkpoint).map(Value.string)
        case .crossingCountry: return (record?.crossingBody.country).map(Value.string)
        case .crossingDirection: return (record?.crossingBody.direction.rawValue).map(Value.string)
        case .crossingOfficer: return (record?.crossingBody.officer).map(Value.string)
        case .crossingLane: return (record?.crossingBody.lane).map(Value.string)
        case .crossingReleased: return (record?.crossingBody.released).map(Value.bool)
        case .crossingPersonCount:
            guard let record else { return nil }
            return .number(Double(record.crossingBody.persons?.count ?? 0))
        case .crossingPassengerCount:
            guard let record else { return nil }
            return .number(Double(record.crossingBody.persons?.reduce(0) { $0 + ($1.role == .passenger ? 1 : 0) } ?? 0))
        case .crossingDocsHeldMax:
            guard record != nil else { return nil }
            return .number(Double(scope.documentsHeld?.count ?? 0))
        case .crossingDocsHeldHolder: return scope.documentsHeld.map { .string($0.holder) }
        case .crossingGoodsValueUsd:
            guard let goods = record?.crossingBody.goods, goods.contains(where: { $0.valueUsd != nil }) else { return nil }
            return .number(goods.reduce(0) { $0 + ($1.valueUsd ?? 0) })
        case .crossingPaired:
            return scope.checkpointPaired.map(Value.string)
        case .crossingCapacity:
            return scope.checkpointCapacity.map { .number(Double($0)) }
        case .plate: return (record?.crossingBody.vehicle?.plate).map(Value.string)
        case .vehicleType: return (record?.crossingBody.vehicle?.type?.rawValue).map(Value.string)
        case .declaredWeightKg: return (record?.crossingBody.vehicle?.declaredWeightKg).map(Value.number)
        case .measuredWeightKg: return (record?.crossingBody.vehicle?.measuredWeightKg).map(Value.number)
        case .weightDifferenceKg:
            guard let declared = record?.crossingBody.vehicle?.declaredWeightKg,
                let measured = record?.crossingBody.vehicle?.measuredWeightKg
            else { return nil }
            return .number(abs(measured - declared))
        case .weightDifferencePercent:
            guard let declared = record?.crossingBody.vehicle?.declaredWeightKg,
                let measured = record?.crossingBody.vehicle?.measuredWeightKg, declared > 0
            else { return nil }
            return .number(abs(measured - declared) / declared * 100)
        case .inspectionCrossingId: return (scope.record.inspection?.crossingId).map(Value.string)
        case .inspectionCheckpoint: return (scope.record.inspection?.checkpoint).map(Value.string)
        case .inspectionMethod: return (scope.record.inspection?.method.rawValue).map(Value.string)
        case .inspectionOfficer: return (scope.record.inspection?.officer).map(Value.string)
        case .inspectionDurationSec: return (scope.record.inspection?.durationSec).map(Value.number)
        case .inspectionFindingCount: return (scope.record.inspection?.findings.count).map { .number(Double($0)) }
        case .findingCategory: return scope.finding { .string($0.category.rawValue) }
        case .findingSubstance: return scope.finding { $0.substance }.map { .string($0.lowercased()) }
        case .findingHs: return scope.finding { $0.hs }.map(Value.string)
        case .findingWeightKg: return scope.finding { $0.weightKg }.map(Value.number)
        case .findingQuantity: return scope.finding { $0.quantity }.map(Value.number)
        case .findingUnit: return scope.finding { $0.unit }.map(Value.string)
        case .findingDeclared: return scope.finding { $0.declared }.map(Value.bool)
        case .findingConcealed: return scope.finding { $0.concealed }.map(Value.bool)
        case .findingCanineAlert: return scope.finding { $0.canineAlert }.map(Value.bool)
        case .goodsHs: return scope.goods { .string($0.hs) }
        case .goodsSubstance: return scope.goods { $0.substance }.map { .string($0.lowercased()) }
        case .goodsWeightKg: return scope.goods { $0.weightKg }.map(Value.number)
        case .goodsValueUsd: return scope.goods { $0.valueUsd }.map(Value.number)
        case .goodsQuantity: return scope.goods { $0.quantity }.map(Value.number)
        case .goodsUnit: return scope.goods { $0.unit }.map(Value.string)
        case .personDoc: return scope.person { .string($0.doc) }
        case .personRole: return scope.person { $0.role }.map { .string($0.rawValue) }
        case .personMinor: return scope.person { $0.minor }.map(Value.bool)
        case .personDocHolder: return scope.person { $0.docHolder }.map(Value.string)
        case .permitId: return scope.permit { .string($0.id) }
        case .permitType: return scope.permit { .string($0.type.rawValue) }
        case .permitValid:
            // No validUntil: the permit does not expire.
            guard let time = scope.crossingTime else { return nil }
            return scope.permit { .bool($0.validUntil?.isValid(at: time) ?? true) }
        case .permitCoversFinding:
            // A finding without an HS code can only be judged by permit type.
            return scope.permit { permit in scope.finding { .bool($0.hs.map { permit.covers(hs: $0) } ?? true) } }
        case .permitCoversGoods:
            return scope.permit { permit in scope.goods { .bool(permit.covers(hs: $0.hs)) } }
        case .patrolUnit, .patrolObservation, .patrolPillar, .patrolCount:
            guard case .patrol(let patrol)? = scope.record.other else { return nil }
            switch self {
            case .patrolUnit: return .string(patrol.unit)
            case .patrolObservation: return .string(patrol.observation.rawValue)
            case .patrolPillar: return patrol.pillar.map(Value.string)
            default: return patrol.count.map { .number(Double($0)) }
            }
        case .sensorId, .sensorType, .sensorDetection, .sensorConfidence, .sensorCount:
            guard case .sensor(let sensor)? = scope.record.other else { return nil }
            switch self {
            case .sensorId: return .string(sensor.sensor)
            case .sensorType: return .string(sensor.sensorType.rawValue)
            case .sensorDetection: return .string(sensor.detection.rawValue)
            case .sensorConfidence: return .number(sensor.confidence)
            default: return sensor.count.map { .number(Double($0)) }
            }
        case .vesselId, .vesselSpeedKn, .vesselAis, .vesselActivity:
            guard case .vessel(let vessel)? = scope.record.other else { return nil }
            switch self {
            case .vesselId: return .string(vessel.vessel)
            case .vesselSpeedKn: return vessel.speedKn.map(Value.number)
            case .vesselAis: return vessel.ais.map(Value.bool)
            default: return vessel.activity.map { .string($0.rawValue) }
            }
        case .positionLat: return scope.position.map { .number($0.lat) }
        case .positionLon: return scope.position.map { .number($0.lon) }
        case .positionBorderZone:
            return scope.position.flatMap { scope.geography.zone(.border, containing: $0) }.map { .string($0.id) }
        case .positionSector: return scope.sector.map(Value.string)
        case .positionNearestCheckpoint:
            return scope.position.flatMap { scope.geography.nearestCheckpoint(to: $0) }.map { .string($0.checkpoint.id) }
        case .positionNearestCheckpointKm:
            return scope.position.flatMap { scope.geography.nearestCheckpoint(to: $0) }.map { .number(($0.km * 1000).rounded() / 1000) }
        case .positionFishingZone: return scope.fishingZoneID.map(Value.string)
        case .positionClosedSeason:
            return scope.fishingZoneClosed.map(Value.bool)
        }
    }
}

extension Scope {
    /// Binds each element of `collection` in turn while `body` returns false;
    /// returns true with the matching element left bound, or false with the binding restored.
    mutating func bindEach(_ collection: Collection, _ body: (inout Scope) -> Bool) -> Bool {
        let saved = bound
        switch collection {
        case .finding:
            for index in 0..<(record.inspection?.findings.count ?? 0) {
                bound.finding = Int32(index)
                if body(&self) { return true }
            }
        case .goods:
            for index in 0..<(crossingRecord?.crossingBody.goods?.count ?? 0) {
                bound.goods = Int32(index)
                if body(&self) { return true }
            }
        case .person:
            for index in 0..<(crossingRecord?.crossingBody.persons?.count ?? 0) {
                bound.person = Int32(index)
                if body(&self) { return true }
            }
        case .permit:
            for index in 0..<(crossingRecord?.crossingBody.permits?.count ?? 0) {
                bound.permit = Int32(index)
                if body(&self) { return true }
            }
        }
        bound = saved
        return false
    }
}
