import Foundation
import KordonEngine
import KordonEvents

/// The sample geography as the simulator uses it: checkpoint pairs, traffic sources
/// per pair, direction and mode, and the border line patrols and sensors watch.
struct SimGeography: Sendable {
    struct SensorSite: Sendable {
        var id: String
        /// Lower-case id, the prefix of its event ids.
        var idPrefix: String
        var position: Position
        var type: SensorType
        var sector: String?
        /// In the border zone and well clear (over 7 km) of every checkpoint: a person seen here
        /// is an unauthorised crossing (`crossing.unauthorized` looks beyond 5 km).
        var remote: Bool
        /// Watches a checkpoint's approach (within 3 km), where people and vehicles are expected.
        var atCheckpoint: Bool

        /// Its detections' JSON up to the id's serial, from `source` to `position` after the time,
        /// and from `sector` to the end of the line.
        var json: [[UInt8]] {
            var members = JSONBytes(capacity: 256)
            members.leaveValueOut()
            members.member("source", "BS/SENSORS")
            members.member("sensor", id)
            members.key("sensorType")
            members.raw(type.rawValue)
            members.position(position)
            var end = JSONBytes(capacity: 256)
            end.leaveValueOut()
            end.member("sector", sector)
            end.close()
            end.newline()
            return [JSONBytes.idOpen(idPrefix), members.bytes, end.bytes]
        }
    }

    /// A sensor's or patrol unit's reports as JSON: up to the id's serial, the members after the
    /// time it always writes, and (for a sensor) from `sector` to the end of the line.
    struct ReportBytes: Sendable {
        var idOpen: ConstantBytes
        var members: ConstantBytes
        var end: ConstantBytes?
    }

    /// A class, as trips and pairs pass sides around on every crossing: one reference to count, not seven.
    final class Side: Sendable {
        let id: String
        let country: String
        let position: Position
        /// Local time for the daily rhythm, from the longitude (whole hours).
        let utcOffset: Int64
        /// Lower-case id, the prefix of the checkpoint system's event ids.
        let idPrefix: String
        let source: String
        /// The clearing officers on duty over the day, by service id.
        let officers: [String]
        /// Index of its checkpoint queue in `queueCapacity`, if it has a capacity.
        let queue: Int?
        /// What its crossings write, in `constants`.
        let bytes: SideBytes
        private let constants: ConstantStore

        init(
            id: String, country: String, position: Position, utcOffset: Int64, idPrefix: String, source: String, officers: [String],
            queue: Int?
        ) {
            self.id = id
            self.country = country
            self.position = position
            self.utcOffset = utcOffset
            self.idPrefix = idPrefix
            self.source = source
            self.officers = officers
            self.queue = queue
            func members(_ direction: Direction) -> [UInt8] {
                var json = JSONBytes(capacity: 256)
                json.leaveValueOut()
                json.member("source", source)
                json.member("checkpoint", id)
                json.member("country", country)
                json.key("direction")
                json.raw(direction.rawValue)
                return json.bytes
            }
            var json = JSONBytes(capacity: 256)
            json.leaveValueOut()
            json.member("origin", country)
            json.close()
            constants = ConstantStore(
                [JSONBytes.idOpen(idPrefix), members(.exit), members(.entry), json.bytes] + officers.map(Self.officerMember))
            let list = constants.list
            bytes = SideBytes(
                idOpen: list[0], exitMembers: list[1], entryMembers: list[2], originMember: list[3],
                officers: UnsafeBufferPointer(rebasing: list[4...]), queue: queue)
        }

        /// `,"officer":"…"`.
        static func officerMember(_ name: String) -> [UInt8] {
            var json = JSONBytes(capacity: 256)
            json.leaveValueOut()
            json.member("officer", name)
            return json.bytes
        }
    }

    /// What a side's crossings write: bytes its `Side` keeps, handed around with no reference to count.
    /// Unchecked Sendable for the buffer of officers, which never changes either.
    struct SideBytes: @unchecked Sendable {
        /// Its crossings' JSON up to the id's serial: `{"v":1,"id":"kz-petropavl-1-`.
        var idOpen: ConstantBytes
        /// Its crossings' members from `source` to `direction`, after `time`, with a comma before them.
        var exitMembers: ConstantBytes
        var entryMembers: ConstantBytes
        /// What ends a goods item from here: `,"origin":"KZ"}`.
        var originMember: ConstantBytes
        /// `,"officer":"…"` for each of `Side.officers`.
        var officers: UnsafeBufferPointer<ConstantBytes>
        var queue: Int?
    }

    struct Pair: Sendable {
        /// In `SimGeography.pairs`.
        var index: Int
        var a: Side
        var b: Side
        var capacity: Int

        func from(outbound: Bool) -> Side { outbound ? a : b }
        func to(outbound: Bool) -> Side { outbound ? b : a }
    }

    enum Mode: Sendable, CaseIterable {
        case truck, van, car, bus, pedestrian, rail

        /// Peak journeys per hour and direction at a checkpoint pair of capacity 40.
        var peakPerHour: Double {
            switch self {
            case .truck: 9
            case .van: 2
            case .car: 10
            case .bus: 1.2
            case .pedestrian: 2.5
            case .rail: 0.25
            }
        }

        var freight: Bool { self == .truck || self == .rail }

        var vehicle: VehicleType? {
            switch self {
            case .truck: .truck
            case .van: .van
            case .car: .car
            case .bus: .bus
            case .pedestrian: nil
            case .rail: .rail
            }
        }
    }

    struct Source: Sendable {
        var pair: Int
        var outbound: Bool
        var mode: Mode
        var peakPerHour: Double
        /// That of the side it leaves from, for `intensity`.
        var utcOffset: Int64
    }

    var pairs: [Pair] = []
    /// The bytes of each pair's sides, as `pairs` holds them.
    private var pairBytes: [(a: SideBytes, b: SideBytes)] = []
    var sources: [Source] = []
    /// The capacity of each checkpoint queue (`Side.queue`).
    var queueCapacity: [Int] = []
    /// A coarse border line through the checkpoint pairs, for patrols and sensors.
    var borderLine: [Position] = []
    var patrolUnits: [(unit: String, country: String, segment: Int)] = []
    /// By index of `patrolUnits` and of `sensors`, in `constants`.
    private(set) var patrolBytes: [ReportBytes] = []
    private(set) var sensorBytes: [ReportBytes] = []
    private var constants = ConstantStore([])
    /// Sensors stand in twos about 0.8 km apart along the line (a pair tripping together makes a
    /// track), plus a camera on each checkpoint's approach.
    var sensors: [SensorSite] = []
    /// The configured zones and checkpoints, for the positions the rules judge.
    let base: Geography
    /// Fishing zones with a closed season, where poaching can be planted.
    let fishingZones: [Zone]

    /// Caspian shipping lanes between port approaches (not in the sample geography): (from, to).
    static let vesselLanes: [(Position, Position)] = [
        (Position(lat: 43.60, lon: 51.05), Position(lat: 43.00, lon: 47.60)),  // Aktau – Makhachkala
        (Position(lat: 44.55, lon: 50.20), Position(lat: 45.75, lon: 47.65)),  // Bautino – Olya
        (Position(lat: 43.60, lon: 51.05), Position(lat: 45.90, lon: 48.20)),  // Aktau – Astrakhan approach
        (Position(lat: 42.30, lon: 51.60), Position(lat: 44.55, lon: 50.20)),  // southern approach – Bautino
    ]

    init(_ geography: Geography) {
        base = geography
        fishingZones = geography.zones.filter { $0.type == .fishing && !$0.closedSeasons.isEmpty }
        let checkpoints = geography.checkpoints.values.sorted { $0.id < $1.id }
        var queues: [String: Int] = [:]
        for checkpoint in checkpoints {
            if let capacity = checkpoint.capacity {
                queues[checkpoint.id] = queueCapacity.count
                queueCapacity.append(capacity)
            }
        }
        for checkpoint in checkpoints {
            // Each pair once, from the checkpoint whose id sorts first.
            guard let pairedId = checkpoint.paired, pairedId > checkpoint.id,
                let paired = geography.checkpoints[pairedId]
            else { continue }
            let capacity = min(checkpoint.capacity ?? 40, paired.capacity ?? 40)
            let pair = Pair(
                index: pairs.count, a: Self.side(checkpoint, queue: queues[checkpoint.id]), b: Self.side(paired, queue: queues[paired.id]),
                capacity: capacity)
            pairs.append(pair)
            pairBytes.append((pair.a.bytes, pair.b.bytes))
        }
        for (index, pair) in pairs.enumerated() {
            let scale = Double(pair.capacity) / 40
            for mode in Mode.allCases where mode != .rail || pair.capacity >= 50 {
                for outbound in [true, false] {
                    sources.append(
                        Source(
                            pair: index, outbound: outbound, mode: mode, peakPerHour: mode.peakPerHour * scale,
                            utcOffset: pair.from(outbound: outbound).utcOffset))
                }
            }
        }
        // Midway between the two checkpoints of each pair, west to east.
        borderLine = pairs.map { Position(lat: ($0.a.position.lat + $0.b.position.lat) / 2, lon: ($0.a.position.lon + $0.b.position.lon) / 2) }
            .sorted { $0.lon < $1.lon }
        let segments = max(borderLine.count - 1, 0)
        if segments > 0 {
            for index in 0..<(2 * segments) {
                let country = index % 2 == 0 ? "KZ" : "RU"
                let unit = "\(country.lowercased())-pu-\(100 + index)"
                patrolUnits.append((unit, country, index / 2))
            }
            let types: [SensorType] = [.seismic, .infrared, .radar, .camera, .fence, .magnetic]
            for index in 0..<(6 * segments) {
                let position = Self.along(borderLine, segment: index / 6, fraction: (Double(index % 6) + 0.5) / 6)
                addSensor(position, types[index % types.count])
                addSensor(Position(lat: position.lat, lon: position.lon + 0.012), types[(index + 2) % types.count])
            }
        }
        for pair in pairs {
            addSensor(Position(lat: (pair.a.position.lat + pair.b.position.lat) / 2 + 0.012, lon: pair.a.position.lon), .camera)
        }
        let patrols = patrolUnits.map { unit, country, _ in
            var members = JSONBytes(capacity: 256)
            members.leaveValueOut()
            members.member("source", Self.patrolSource(country))
            members.member("unit", unit)
            return [JSONBytes.idOpen(unit), members.bytes]
        }
        constants = ConstantStore(sensors.flatMap(\.json) + patrols.joined())
        let list = constants.list
        sensorBytes = sensors.indices.map { ReportBytes(idOpen: list[3 * $0], members: list[3 * $0 + 1], end: list[3 * $0 + 2]) }
        let patrolsAt = 3 * sensors.count
        patrolBytes = patrolUnits.indices.map { ReportBytes(idOpen: list[patrolsAt + 2 * $0], members: list[patrolsAt + 2 * $0 + 1]) }
    }

    private mutating func addSensor(_ position: Position, _ type: SensorType) {
        let position = Position(lat: (position.lat * 10000).rounded() / 10000, lon: (position.lon * 10000).rounded() / 10000)
        let nearest = base.nearestCheckpoint(to: position)?.km ?? .infinity
        let (id, idPrefix, sector) = ("S-\(1000 + sensors.count)", "s-\(1000 + sensors.count)", sector(at: position))
        sensors.append(
            SensorSite(
                id: id, idPrefix: idPrefix, position: position, type: type, sector: sector,
                remote: inBorderZone(position) && nearest > 7, atCheckpoint: nearest < 3))
    }

    static func patrolSource(_ country: String) -> String {
        country == "KZ" ? "KZ-BS/PATROL" : country == "RU" ? "RU-BS/PATROL" : "\(country)-BS/PATROL"
    }

    /// The bytes of the sides a trip of pair `index` leaves from and arrives at.
    func sides(pair index: Int, outbound: Bool) -> (from: SideBytes, to: SideBytes) {
        let (a, b) = pairBytes[index]
        return outbound ? (a, b) : (b, a)
    }

    func sector(at position: Position) -> String? {
        base.zone(.sector, containing: position)?.id
    }

    func inBorderZone(_ position: Position) -> Bool {
        base.zone(.border, containing: position) != nil
    }

    /// Where a person seen is an unauthorised crossing, with 2 km of margin over the rule's 5 km.
    func isRemote(_ position: Position) -> Bool {
        inBorderZone(position) && (base.nearestCheckpoint(to: position)?.km ?? 0) > 7
    }

    private static func side(_ checkpoint: Geography.Checkpoint, queue: Int?) -> Side {
        Side(
            id: checkpoint.id, country: checkpoint.country, position: checkpoint.position,
            utcOffset: Int64((checkpoint.position.lon / 15).rounded()) * hour, idPrefix: checkpoint.id.lowercased(),
            source: "\(checkpoint.country)-BS/" + (checkpoint.id.hasPrefix(checkpoint.country + "-") ? String(checkpoint.id.dropFirst(3)) : checkpoint.id),
            officers: (10..<40).map { "\(checkpoint.country.lowercased())-o-\(checkpoint.id.hashValueStable % 90 + 10)\($0)" },
            queue: queue)
    }

    static func along(_ line: [Position], segment: Int, fraction: Double) -> Position {
        let a = line[segment]
        let b = line[min(segment + 1, line.count - 1)]
        return Position(lat: a.lat + (b.lat - a.lat) * fraction, lon: a.lon + (b.lon - a.lon) * fraction)
    }

    /// The source's rate at `time` as a share of its peak (for thinning a Poisson process).
    func intensity(_ source: Source, at time: Int64) -> Double {
        let local = time + source.utcOffset
        let days = local >= 0 ? local / day : (local - day + 1) / day
        let hourOfDay = Int((local - days * day) / hour)
        let weekday = Int(((days + 3) % 7 + 7) % 7)  // 1970-01-01 was a Thursday; Monday is 0
        if source.mode.freight {
            return Rhythm.freightByHour[hourOfDay] * Rhythm.freightByWeekday[weekday]
        }
        return Rhythm.carsByHour[hourOfDay] * Rhythm.carsByWeekday[weekday] / 1.3
    }
}

/// One journey across a checkpoint pair: the exit, then (unless it never arrives) the
/// entry at the facing checkpoint, and optionally a secondary inspection on either side.
struct Trip: Sendable {
    struct InspectionPlan: Sendable {
        var atEntry = true
        var method: InspectionMethod
        var findings: [Finding]
        var after: Int64
    }

    var pair: SimGeography.Pair
    var outbound: Bool
    var persons: [Person]
    var vehicle: Vehicle?
    var goods: [Goods]? = nil
    var permits: [Permit]? = nil
    var travel: Int64
    /// nil: the vehicle or person never arrives at the facing checkpoint.
    var arrives = true
    /// Gross weight at the entry side's weighbridge; the exit side records the declaration only.
    var measuredAtEntry: Double? = nil
    var inspection: InspectionPlan? = nil
    /// Planted overloads pass the checkpoint queue.
    var throttled = true
    /// The exit officer of a planted release anomaly, who is kept out of the rotation around it.
    var exitOfficer: String? = nil
}

/// Ids of a planned trip's events, for labels.
struct TripIds: Sendable {
    var exit: String
    var entry: String?
    var inspection: String?

    var all: [String] { [exit] + [entry, inspection].compactMap { $0 } }
}

/// The serials of a trip's event ids, which background traffic never needs spelled out.
struct TripSerials {
    var exit: UInt64
    var entry: UInt64?
    var inspection: (serial: UInt64, atExit: Bool)?
}

extension Simulator {
    mutating func officer(_ side: SimGeography.Side) -> String {
        rng.pick(side.officers)
    }

    /// The exit officer of a trip the entry side will find something on. Officers are picked so none
    /// reaches `integrity.release-anomaly`'s count of such trips in its window: that pattern is the
    /// rule's to find, and must only occur where an incident of it is planted.
    mutating func releasingOfficer(_ side: SimGeography.Side, at time: Int64) -> String {
        var name = officer(side)
        guard let pattern = releasePattern else { return name }
        for _ in 0..<64 {
            // Counted in place; the list is pruned only for the officer picked, as it always was.
            let since = time - pattern.span
            let recent = releasedThenFound[name]?.reduce(0) { $1 > since ? $0 + 1 : $0 } ?? 0
            if recent < pattern.count - 1 {
                releasedThenFound[name, default: []].removeAll { $0 <= since }
                releasedThenFound[name, default: []].append(time)
                return name
            }
            name = officer(side)
        }
        // Every officer of the checkpoint is at the limit: one outside the rotation, never seen again.
        return "\(side.country.lowercased())-o-t\(ids.permit("X"))"
    }

    /// An officer of `side` with no found-after-release trips within `span` of `times`, who is then
    /// booked for `times` so the rotation above avoids them around it (a fresh one if all are busy).
    mutating func reserveOfficer(_ side: SimGeography.Side, for times: [Int64], span: Int64) -> String {
        let first = times.min() ?? 0
        let last = times.max() ?? 0
        let free = side.officers.filter { name in
            !(releasedThenFound[name] ?? []).contains { $0 > first - span && $0 < last + span }
        }
        let name = free.isEmpty ? "\(side.country.lowercased())-o-t\(ids.permit("X"))" : rng.pick(free)
        releasedThenFound[name, default: []] += times
        return name
    }

    /// Builds a trip's events, to leave at `time`, serialised into `pending`; returns the slot of the exit,
    /// which `plan(slot:at:)` schedules with the rest following it.
    mutating func build(_ trip: Trip, at time: Int64, incident: Int? = nil) -> (exit: Int, ids: TripIds) {
        withScratch { sim, json in sim.build(trip, into: &json, at: time, incident: incident) }
    }

    private mutating func build(_ trip: Trip, into json: inout JSONBytes, at time: Int64, incident: Int?) -> (exit: Int, ids: TripIds) {
        json.persons(trip.persons)
        var parts = CrossingParts(persons: 0..<json.written)
        if let vehicle = trip.vehicle {
            json.detach()
            let start = json.written
            json.openVehicle(vehicle)
            parts.vehicle = start..<json.written
        }
        if let goods = trip.goods {
            json.detach()
            let start = json.written
            json.goods(goods)
            parts.goods = start..<json.written
        }
        if let permits = trip.permits {
            json.detach()
            let start = json.written
            json.permits(permits)
            parts.permits = start..<json.written
        }
        let journey = Journey(
            pair: trip.pair.index, outbound: trip.outbound, vehicle: trip.vehicle?.type, travel: trip.travel, arrives: trip.arrives,
            measuredAtEntry: trip.measuredAtEntry ?? trip.vehicle?.measuredWeightKg, inspection: trip.inspection, throttled: trip.throttled,
            exitOfficer: trip.exitOfficer)
        let (exit, serials) = crossings(&json, parts, journey, at: time, incident: incident)
        let from = trip.pair.from(outbound: trip.outbound).idPrefix
        let to = trip.pair.to(outbound: trip.outbound).idPrefix
        var ids = TripIds(exit: Identities.eventId(from, serials.exit))
        if let entry = serials.entry { ids.entry = Identities.eventId(to, entry) }
        if let (serial, atExit) = serials.inspection { ids.inspection = Identities.eventId(atExit ? from : to, serial) }
        return (exit, ids)
    }

    /// Where in a trip's scratch JSON the members its crossings share are, each without a comma before it;
    /// the vehicle without its measured weight and closing brace.
    struct CrossingParts {
        var persons: Range<Int>
        var vehicle: Range<Int>?
        var goods: Range<Int>?
        var permits: Range<Int>?
    }

    /// What the crossings of a trip need besides its parts.
    struct Journey {
        /// In `SimGeography.pairs`.
        var pair: Int
        var outbound: Bool
        var vehicle: VehicleType?
        var travel: Int64
        var arrives = true
        var measuredAtEntry: Double?
        var inspection: Trip.InspectionPlan?
        var throttled = true
        var exitOfficer: String?
    }

    /// Serialises a trip's exit, entry and inspection into `pending`, the exit first in line, from its
    /// parts already in `json`: those are encoded once for both crossings, and no `Event` is built.
    mutating func crossings(
        _ json: inout JSONBytes, _ parts: CrossingParts, _ journey: Journey, at time: Int64, incident: Int?
    ) -> (exit: Int, serials: TripSerials) {
        let (from, to) = geography.sides(pair: journey.pair, outbound: journey.outbound)
        let exitNumber = ids.eventNumber()
        let inspectExit = journey.inspection.map { !$0.atEntry } ?? false
        let inspectEntry = journey.inspection.map { $0.atEntry } ?? false
        let foundAtEntry = inspectEntry && !(journey.inspection?.findings.isEmpty ?? true)
        let exitOfficer: Officer
        if let name = journey.exitOfficer ?? (foundAtEntry ? releasingOfficer(side(journey, exit: true), at: time) : nil) {
            // An officer outside the rotation, written once beside the trip's parts.
            json.detach()
            let start = json.written
            json.leaveValueOut()
            json.member("officer", name)
            exitOfficer = .written(start..<json.written)
        } else {
            exitOfficer = officer(from)
        }
        let exit = crossing(
            &json, parts, at: from, exit: true, number: exitNumber, measured: nil, officer: exitOfficer, lane: lane(journey.vehicle),
            released: !inspectExit, throttled: journey.throttled, incident: incident)
        var result = TripSerials(exit: exitNumber)
        if inspectExit, let plan = journey.inspection {
            let side = side(journey, exit: true)
            let crossingId = Identities.eventId(side.idPrefix, exitNumber)
            let (inspection, serial) = inspectionEvent(plan, crossingId: crossingId, side: side, incident: incident)
            pending.follow(exit, with: inspection, after: plan.after)
            result.inspection = (serial, true)
        }
        if journey.arrives {
            let entryNumber = ids.eventNumber()
            let entry = crossing(
                &json, parts, at: to, exit: false, number: entryNumber, measured: journey.measuredAtEntry, officer: officer(to),
                lane: lane(journey.vehicle), released: !inspectEntry, throttled: true, incident: incident)
            if inspectEntry, let plan = journey.inspection {
                let side = side(journey, exit: false)
                let crossingId = Identities.eventId(side.idPrefix, entryNumber)
                let (inspection, serial) = inspectionEvent(plan, crossingId: crossingId, side: side, incident: incident)
                pending.follow(entry, with: inspection, after: plan.after)
                result.inspection = (serial, false)
            }
            pending.follow(exit, with: entry, after: journey.travel)
            result.entry = entryNumber
        }
        return (exit, result)
    }

    private func side(_ journey: Journey, exit: Bool) -> SimGeography.Side {
        let pair = geography.pairs[journey.pair]
        return exit ? pair.from(outbound: journey.outbound) : pair.to(outbound: journey.outbound)
    }

    /// A crossing's `,"officer":"…"`: one of the side's, or one written into the trip's JSON.
    enum Officer {
        case listed(ConstantBytes)
        case written(Range<Int>)
    }

    /// Writes a crossing after the trip's parts in `json`, as `EventWriter` would, and stores it in `pending`.
    private mutating func crossing(
        _ json: inout JSONBytes, _ parts: CrossingParts, at side: SimGeography.SideBytes, exit: Bool, number: UInt64, measured: Double?,
        officer: Officer, lane: StaticString, released: Bool, throttled: Bool, incident: Int?
    ) -> Int {
        let start = json.written
        let timeAt = json.head(side.idOpen, number, "\",\"kind\":\"crossing\",\"time\":", from: start)
        json.literal(exit ? side.exitMembers : side.entryMembers)
        json.literal(",")
        json.copy(parts.persons)
        if let vehicle = parts.vehicle {
            json.literal(",")
            json.copy(vehicle)
            if let measured {
                json.literal(",\"measuredWeightKg\":")
                json.bareNumber(measured)
            }
            json.literal("}")
        }
        if let goods = parts.goods {
            json.literal(",")
            json.copy(goods)
        }
        if let permits = parts.permits {
            json.literal(",")
            json.copy(permits)
        }
        switch officer {
        case .listed(let bytes): json.literal(bytes)
        case .written(let range): json.copy(range)
        }
        json.literal(lane)
        if released {
            json.literal(",\"released\":true}\n")
        } else {
            json.literal(",\"released\":false}\n")
        }
        return pending.add(json, start..<json.written, timeAt: timeAt, kind: .crossing, queue: side.queue, throttled: throttled, incident: incident)
    }

    private mutating func inspectionEvent(
        _ plan: Trip.InspectionPlan, crossingId: String, side: SimGeography.Side, incident: Int?
    ) -> (slot: Int, serial: UInt64) {
        let number = ids.eventNumber()
        let event = Event(
            id: Identities.eventId(side.idPrefix, number), time: Timestamp(nanosecondsSinceEpoch: 0), source: side.source,
            body: .inspection(
                Inspection(
                    crossingId: crossingId, checkpoint: side.id, method: plan.method,
                    findings: plan.findings, officer: officer(side), durationSec: Double(300 + rng.below(3300)))))
        var json = JSONBytes(capacity: 1024)
        let timeAt = writer.untimed(event, to: &json)
        return (pending.add(json, 0..<json.written, timeAt: timeAt, kind: .inspection, queue: nil, throttled: true, incident: incident), number)
    }

    /// One of the side's officers, drawn as `officer(_: Side)` draws.
    private mutating func officer(_ side: SimGeography.SideBytes) -> Officer {
        .listed(side.officers[rng.below(side.officers.count)])
    }

    /// `,"lane":"…"` for the vehicle.
    private mutating func lane(_ vehicle: VehicleType?) -> StaticString {
        switch vehicle {
        case .truck?:
            switch rng.below(4) {
            case 0: ",\"lane\":\"T1\""
            case 1: ",\"lane\":\"T2\""
            case 2: ",\"lane\":\"T3\""
            default: ",\"lane\":\"T4\""
            }
        case .bus?: ",\"lane\":\"B1\""
        case .rail?: ",\"lane\":\"R1\""
        case nil: rng.below(2) == 0 ? ",\"lane\":\"P1\"" : ",\"lane\":\"P2\""
        default:
            switch rng.below(6) {
            case 0: ",\"lane\":\"C1\""
            case 1: ",\"lane\":\"C2\""
            case 2: ",\"lane\":\"C3\""
            case 3: ",\"lane\":\"C4\""
            case 4: ",\"lane\":\"C5\""
            default: ",\"lane\":\"C6\""
            }
        }
    }

    // MARK: - Travellers and declarations

    mutating func driver() -> Person { Person(doc: ids.doc(), role: .driver) }

    mutating func travellers(_ mode: SimGeography.Mode) -> (persons: [Person], vehicle: Vehicle?) {
        switch mode {
        case .truck:
            let declared = Double(14000 + rng.below(26000))
            return ([driver()], Vehicle(plate: ids.plate(), type: .truck, trailer: ids.trailer(), declaredWeightKg: declared))
        case .van:
            return ([driver()], Vehicle(plate: ids.plate(), type: .van, declaredWeightKg: Double(2200 + rng.below(1300))))
        case .car:
            var persons = [driver()]
            for _ in 0..<rng.below(4) {
                let minor = rng.chance(0.25)
                // A parent holding a child's document is ordinary and must never look like trafficking.
                persons.append(
                    Person(doc: ids.doc(), role: .passenger, minor: minor ? true : nil, docHolder: minor && rng.chance(0.5) ? persons[0].doc : nil))
            }
            return (persons, Vehicle(plate: ids.plate(), type: .car))
        case .bus:
            var persons = [driver()]
            for _ in 0..<(15 + rng.below(31)) { persons.append(Person(doc: ids.doc(), role: .passenger)) }
            return (persons, Vehicle(plate: ids.plate(), type: .bus))
        case .pedestrian:
            return ([Person(doc: ids.doc(), role: .pedestrian)], nil)
        case .rail:
            var crew: [Person] = []
            for _ in 0..<(2 + rng.below(3)) { crew.append(Person(doc: ids.doc(), role: .crew)) }
            return (crew, Vehicle(plate: "TRAIN-" + ids.plate(), type: .rail))
        }
    }

    mutating func goods(_ commodity: Commodity, weightKg: Double? = nil, origin: String) -> Goods {
        let weight = (weightKg ?? commodity.lotKg.lowerBound + rng.unit() * (commodity.lotKg.upperBound - commodity.lotKg.lowerBound))
        let price = commodity.usdPerKg.lowerBound + rng.unit() * (commodity.usdPerKg.upperBound - commodity.usdPerKg.lowerBound)
        return Goods(
            hs: commodity.hs, description: commodity.description, weightKg: (weight * 10).rounded() / 10,
            valueUsd: (weight * price).rounded(), substance: commodity.substance, origin: origin)
    }

    /// Freight filling most of a truck's declared gross weight; every lot is worth well over the duty-free value.
    mutating func freight(grossKg: Double, origin: String) -> [Goods] {
        let items = 1 + rng.below(3)
        let net = grossKg * 0.6
        var list: [Goods] = []
        for _ in 0..<items {
            var item = goods(rng.pick(Catalog.freight), weightKg: net / Double(items), origin: origin)
            item.valueUsd = max(item.valueUsd ?? 0, uniform(2000...6000).rounded())
            list.append(item)
        }
        return list
    }

    // MARK: - Background

    /// Background traffic is written straight into a trip's JSON parts, without `Person`, `Vehicle` or
    /// `Goods` values: the same draws and the same bytes as `travellers`, `freight` and `goods` with `build`.
    mutating func background(_ source: SimGeography.Source, at time: Int64) {
        withScratch { sim, json in sim.background(source, into: &json, at: time) }
    }

    private mutating func background(_ source: SimGeography.Source, into json: inout JSONBytes, at time: Int64) {
        let (from, to) = geography.sides(pair: source.pair, outbound: source.outbound)
        var parts = travellers(source.mode, into: &json)
        var declared: DeclaredItem?
        var measured: Double?
        switch source.mode {
        case .truck, .van:
            (parts.goods, declared) = freight(grossKg: parts.declaredKg ?? 20000, origin: from, into: &json)
            // Weighbridges agree with declarations within 2 %: never a weight mismatch.
            measured = ((parts.declaredKg ?? 20000) * (1 + (rng.unit() - 0.5) * 0.04)).roundedHalfAway
        case .rail:
            (parts.goods, declared) = freight(grossKg: 60000, origin: from, into: &json)
        case .car, .pedestrian:
            // Personal goods are occasional and worth little; structuring needs a repeat pattern background never forms.
            if rng.chance(0.35) { (parts.goods, declared) = personalGoods(origin: from, into: &json) }
        case .bus:
            break
        }
        var journey = Journey(
            pair: source.pair, outbound: source.outbound, vehicle: source.mode.vehicle,
            travel: seconds(600 + rng.unit() * (source.mode == .truck ? 9000 : 3000)), measuredAtEntry: measured)
        if rng.chance(0.04) { journey.inspection = routineInspection(declared) }
        plan(slot: crossings(&json, parts.crossing, journey, at: time, incident: nil).exit, at: time)
        // Some come back a few hours or days later, with another load.
        if source.mode != .bus, source.mode != .rail, rng.chance(0.3) {
            var back = journey
            back.outbound.toggle()
            back.inspection = nil
            if source.mode == .truck || source.mode == .van {
                let gross = parts.declaredKg ?? 20000
                parts.goods = freight(grossKg: gross, origin: to, into: &json).goods
                back.measuredAtEntry = (gross * (1 + (rng.unit() - 0.5) * 0.04)).roundedHalfAway
            } else {
                parts.goods = nil
            }
            let leaves = time + journey.travel + seconds(6 * 3600 + rng.unit() * 60 * 3600)
            plan(slot: crossings(&json, parts.crossing, back, at: leaves, incident: nil).exit, at: leaves)
        }
    }

    /// A background trip's parts as `travellers(into:)` writes them.
    struct TravellerParts {
        var persons: Range<Int>
        var vehicle: Range<Int>?
        var declaredKg: Double?
        var goods: Range<Int>?

        var crossing: CrossingParts { CrossingParts(persons: persons, vehicle: vehicle, goods: goods) }
    }

    /// `travellers(mode)` written into `json` as the persons and vehicle parts of a crossing.
    private mutating func travellers(_ mode: SimGeography.Mode, into json: inout JSONBytes) -> TravellerParts {
        let start = json.written
        var declared: Double?
        json.literal("\"persons\":[")
        switch mode {
        case .truck:
            declared = Double(14000 + rng.below(26000))
            person(.driver, into: &json)
        case .van:
            person(.driver, into: &json)
        case .car:
            let driverDoc = json.written + 8
            person(.driver, into: &json)
            for _ in 0..<rng.below(4) {
                let minor = rng.chance(0.25)
                json.literal(",")
                person(.passenger, into: &json, closed: false)
                if minor {
                    json.literal(",\"minor\":true")
                    // A parent holding a child's document is ordinary and must never look like trafficking.
                    if rng.chance(0.5) {
                        json.literal(",\"docHolder\":\"")
                        json.copy(driverDoc..<driverDoc + Identities.docLength)
                        json.literal("\"")
                    }
                }
                json.literal("}")
            }
        case .bus:
            person(.driver, into: &json)
            for _ in 0..<(15 + rng.below(31)) {
                json.literal(",")
                person(.passenger, into: &json)
            }
        case .pedestrian:
            person(.pedestrian, into: &json)
        case .rail:
            for index in 0..<(2 + rng.below(3)) {
                if index > 0 { json.literal(",") }
                person(.crew, into: &json)
            }
        }
        json.literal("]")
        let persons = start..<json.written
        guard mode != .pedestrian else { return TravellerParts(persons: persons) }
        let vehicle = json.written
        json.literal("\"vehicle\":{\"plate\":\"")
        switch mode {
        case .truck:
            plate(into: &json)
            json.literal("\",\"type\":\"truck\",\"trailer\":\"TR")
            plate(into: &json)
            json.literal("\",\"declaredWeightKg\":")
            json.bareNumber(declared!)
        case .van:
            plate(into: &json)
            declared = Double(2200 + rng.below(1300))
            json.literal("\",\"type\":\"van\",\"declaredWeightKg\":")
            json.bareNumber(declared!)
        case .car:
            plate(into: &json)
            json.literal("\",\"type\":\"car\"")
        case .bus:
            plate(into: &json)
            json.literal("\",\"type\":\"bus\"")
        case .rail:
            json.literal("TRAIN-")
            plate(into: &json)
            json.literal("\",\"type\":\"rail\"")
        case .pedestrian:
            break
        }
        return TravellerParts(persons: persons, vehicle: vehicle..<json.written, declaredKg: declared)
    }

    /// `{"doc":"…","role":"…"}` with a new document; without its closing brace unless `closed`.
    private mutating func person(_ role: PersonRole, into json: inout JSONBytes, closed: Bool = true) {
        json.literal("{\"doc\":\"")
        json.fill(Identities.docLength) { ids.doc(into: $0) }
        switch role {
        case .driver: json.literal("\",\"role\":\"driver\"")
        case .passenger: json.literal("\",\"role\":\"passenger\"")
        case .pedestrian: json.literal("\",\"role\":\"pedestrian\"")
        case .crew: json.literal("\",\"role\":\"crew\"")
        }
        if closed { json.literal("}") }
    }

    private mutating func plate(into json: inout JSONBytes) {
        json.fill(Identities.plateLength) { ids.plate(into: $0) }
    }

    /// `freight(grossKg:origin:)` written into `json` as a goods part; also returns its first item.
    private mutating func freight(
        grossKg: Double, origin: SimGeography.SideBytes, into json: inout JSONBytes
    ) -> (goods: Range<Int>, first: DeclaredItem) {
        let items = 1 + rng.below(3)
        let net = grossKg * 0.6
        let weight = net / Double(items)
        let tenths = Int((weight * 10).roundedHalfAwayInteger)
        let start = json.written
        json.literal("\"goods\":[")
        var first = -1
        for index in 0..<items {
            let pick = rng.below(Catalog.freight.count)
            let prices = Catalog.freight.withUnsafeBufferPointer { $0[pick].usdPerKg }
            let price = prices.lowerBound + rng.unit() * (prices.upperBound - prices.lowerBound)
            let value = max((weight * price).roundedHalfAway, uniform(2000...6000).roundedHalfAway)
            if index > 0 { json.literal(",") }
            goodsItem(Catalog.freightJSON[pick], tenthsKg: tenths, valueUsd: value, origin: origin, into: &json)
            if first < 0 { first = pick }
        }
        json.literal("]")
        return (start..<json.written, DeclaredItem(freight: true, index: first, weightKg: Double(tenths) / 10))
    }

    /// `[goods(rng.pick(Catalog.personal), origin:)]` written into `json` as a goods part; also returns the item.
    private mutating func personalGoods(origin: SimGeography.SideBytes, into json: inout JSONBytes) -> (goods: Range<Int>, item: DeclaredItem) {
        let pick = rng.below(Catalog.personal.count)
        let (lots, prices) = Catalog.personal.withUnsafeBufferPointer { ($0[pick].lotKg, $0[pick].usdPerKg) }
        let weight = lots.lowerBound + rng.unit() * (lots.upperBound - lots.lowerBound)
        let price = prices.lowerBound + rng.unit() * (prices.upperBound - prices.lowerBound)
        let tenths = Int((weight * 10).roundedHalfAwayInteger)
        let start = json.written
        json.literal("\"goods\":[")
        goodsItem(Catalog.personalJSON[pick], tenthsKg: tenths, valueUsd: (weight * price).roundedHalfAway, origin: origin, into: &json)
        json.literal("]")
        return (start..<json.written, DeclaredItem(freight: false, index: pick, weightKg: Double(tenths) / 10))
    }

    /// The first goods item a background trip declares, for a routine inspection to find.
    struct DeclaredItem {
        var freight: Bool
        /// In `Catalog.freight` or `Catalog.personal`.
        var index: Int
        var weightKg: Double

        var commodity: Commodity { freight ? Catalog.freight[index] : Catalog.personal[index] }
    }

    private func goodsItem(
        _ encoded: (head: ConstantBytes, tail: ConstantBytes), tenthsKg: Int, valueUsd: Double, origin: SimGeography.SideBytes,
        into json: inout JSONBytes
    ) {
        json.literal(encoded.head)
        json.scaled(tenthsKg, places: 1)
        json.literal(",\"valueUsd\":")
        json.bareNumber(valueUsd)
        json.literal(encoded.tail)
        json.literal(origin.originMember)
    }

    /// A secondary inspection that finds nothing, or only what was declared.
    mutating func routineInspection(_ declared: DeclaredItem?) -> Trip.InspectionPlan {
        let methods: [InspectionMethod] = [.xray, .manual, .canine, .documents, .weighbridge, .radiation]
        var findings: [Finding] = []
        if let declared, rng.chance(0.5) {
            let item = declared.commodity
            findings.append(Finding(category: item.hs.hasPrefix("24") ? .tobacco : item.hs.hasPrefix("22") ? .alcohol : .other,
                description: item.description, weightKg: declared.weightKg, hs: item.hs, declared: true, concealed: false))
        }
        return Trip.InspectionPlan(atEntry: rng.chance(0.6), method: rng.pick(methods), findings: findings, after: seconds(300 + rng.unit() * 2400))
    }

    // MARK: - Patrols, sensors, vessels

    /// Background patrol reports are written straight into JSON, as `patrolEvent` and `EventWriter` would.
    mutating func patrolReport(unit index: Int, at time: Int64) {
        let unit = geography.patrolUnits[index]
        var position = SimGeography.along(geography.borderLine, segment: unit.segment, fraction: rng.unit())
        // Each service patrols its own side of the line.
        position.lat += (unit.country == "KZ" ? -1 : 1) * (0.01 + rng.unit() * 0.05)
        let roll = rng.unit()
        let observation: Observation = roll < 0.75 ? .other : roll < 0.9 ? .fenceDamage : .abandonedGoods
        let count = observation == .abandonedGoods ? 1 + rng.below(5) : nil
        let scaled = tenThousandths(position)
        position = rounded(scaled)
        let slot = withScratch { sim, json in
            let encoded = sim.geography.patrolBytes[index]
            let timeAt = json.head(encoded.idOpen, sim.ids.eventNumber(), "\",\"kind\":\"patrol\",\"time\":", from: 0)
            json.literal(encoded.members)
            if let sector = sim.geography.sector(at: position) {
                json.member("sector", sector)
            }
            json.positionMember(scaled)
            json.key("observation")
            json.raw(observation.rawValue)
            if let count {
                json.key("count")
                json.integer(count)
            }
            json.member("headingDeg", Double(sim.rng.below(360)))
            if observation == .other { json.member("note", "routine patrol, nothing to report") }
            json.close()
            json.newline()
            return sim.pending.add(json, 0..<json.written, timeAt: timeAt, kind: .patrol, queue: nil, throttled: true, incident: nil)
        }
        plan(slot: slot, at: time)
    }

    /// A patrol report, in the sector of its position; its time is set when it is written.
    mutating func patrolEvent(
        unit: String, country: String, at position: Position, _ observation: Observation, count: Int? = nil,
        pillar: String? = nil, note: String? = nil
    ) -> Event {
        let position = rounded(position)
        return Event(
            id: ids.event(unit), time: Timestamp(nanosecondsSinceEpoch: 0), source: SimGeography.patrolSource(country),
            body: .patrol(
                Patrol(
                    unit: unit, sector: geography.sector(at: position), position: position, observation: observation,
                    count: count, headingDeg: Double(rng.below(360)), pillar: pillar, note: note)))
    }

    /// Ground sensors trip mostly on animals and noise; away from the checkpoints the few human or
    /// vehicle detections stay below the confidence an unauthorised crossing needs. Cameras on a
    /// checkpoint's approach see its traffic clearly, which is no crossing outside it.
    mutating func sensorDetection(at time: Int64) {
        guard !geography.sensors.isEmpty else { return }
        let site = rng.below(geography.sensors.count)
        let (atCheckpoint, type) = (geography.sensors[site].atCheckpoint, geography.sensors[site].type)
        let roll = rng.unit()
        let detection: Detection
        let confidence: Double
        switch roll {
        case ..<0.55 where !atCheckpoint:
            detection = .animal
            confidence = 0.5 + rng.unit() * 0.45
        case ..<0.85 where !atCheckpoint:
            detection = .unknown
            confidence = 0.1 + rng.unit() * 0.4
        case ..<0.95:
            detection = type == .fence ? .unknown : .human
            confidence = atCheckpoint ? 0.6 + rng.unit() * 0.35 : 0.2 + rng.unit() * 0.35
        default:
            detection = type == .fence ? .unknown : .vehicle
            confidence = atCheckpoint ? 0.6 + rng.unit() * 0.35 : 0.2 + rng.unit() * 0.35
        }
        let count = detection == .animal ? 1 + rng.below(6) : nil
        // Written straight into JSON, as `sensorEvent` and `EventWriter` would.
        let slot = withScratch { sim, json in
            let encoded = sim.geography.sensorBytes[site]
            let timeAt = json.head(encoded.idOpen, sim.ids.eventNumber(), "\",\"kind\":\"sensor\",\"time\":", from: 0)
            json.literal(encoded.members)
            switch detection {
            case .human: json.literal(",\"detection\":\"human\"")
            case .vehicle: json.literal(",\"detection\":\"vehicle\"")
            case .animal: json.literal(",\"detection\":\"animal\"")
            case .vessel: json.literal(",\"detection\":\"vessel\"")
            case .unknown: json.literal(",\"detection\":\"unknown\"")
            case .tamper: json.literal(",\"detection\":\"tamper\"")
            }
            json.literal(",\"confidence\":")
            json.scaled(Int((confidence * 100).roundedHalfAwayInteger), places: 2)
            if let count {
                json.literal(",\"count\":")
                json.bareNumber(Double(count))
            }
            json.literal(encoded.end!)
            return sim.pending.add(json, 0..<json.written, timeAt: timeAt, kind: .sensor, queue: nil, throttled: true, incident: nil)
        }
        plan(slot: slot, at: time)
    }

    /// A sensor detection; its time is set when it is written.
    mutating func sensorEvent(_ sensor: SimGeography.SensorSite, _ detection: Detection, confidence: Double, count: Int? = nil) -> Event {
        Event(
            id: ids.event(sensor.idPrefix), time: Timestamp(nanosecondsSinceEpoch: 0), source: "BS/SENSORS",
            body: .sensor(
                Sensor(
                    sensor: sensor.id, sensorType: sensor.type, position: sensor.position, detection: detection,
                    confidence: (confidence * 100).rounded() / 100, count: count, sector: sensor.sector)))
    }

    /// Reports a vessel's position and moves its track on; returns when to report again.
    mutating func vesselReport(_ track: inout VesselTrack, at time: Int64) -> Int64 {
        if track.vessel.isEmpty {
            // Below 900000: planted vessels (`Identities.vessel`) never share a number with a liner.
            track.vessel = (rng.chance(0.5) ? "273" : "436") + Identities.padded(UInt64(rng.below(900_000)), 6)
            track.idOpen = JSONBytes.idOpen("ais-" + track.vessel)
            var members = JSONBytes(capacity: 256)
            members.leaveValueOut()
            members.member("source", "CG/AIS")
            members.member("vessel", track.vessel)
            track.members = members.bytes
            track.speedKn = 8 + rng.unit() * 5
            track.progress = 0
            track.reversed = rng.chance(0.5)
            track.last = time
        }
        let (a, b) = SimGeography.vesselLanes[track.lane]
        let (from, to) = track.reversed ? (b, a) : (a, b)
        let lengthNm = hypot((to.lat - from.lat) * 60, (to.lon - from.lon) * 60 * 0.72)
        track.progress = min(1, track.progress + track.speedKn * Double(time - track.last) / Double(hour) / lengthNm)
        track.last = time
        let position = Position(
            lat: from.lat + (to.lat - from.lat) * track.progress, lon: from.lon + (to.lon - from.lon) * track.progress)
        let heading = (atan2((to.lon - from.lon) * 0.72, to.lat - from.lat) * 180 / .pi + 360).truncatingRemainder(dividingBy: 360)
        // Written straight into JSON, as an `Event` of the vessel with `EventWriter` would be.
        let (idOpen, members, speedKn) = (track.idOpen, track.members, track.speedKn)
        let slot = withScratch { sim, json in
            let timeAt = json.head(idOpen, sim.ids.eventNumber(), "\",\"kind\":\"vessel\",\"time\":", from: 0)
            json.literal(members)
            json.positionMember(sim.tenThousandths(position))
            json.literal(",\"speedKn\":")
            json.scaled(Int((speedKn * 10).roundedHalfAwayInteger), places: 1)
            json.literal(",\"headingDeg\":")
            json.bareNumber(heading.roundedHalfAway)
            json.literal(",\"ais\":true,\"activity\":\"transit\"}\n")
            return sim.pending.add(json, 0..<json.written, timeAt: timeAt, kind: .vessel, queue: nil, throttled: true, incident: nil)
        }
        plan(slot: slot, at: time)
        if track.progress >= 1 {
            // In port for a few hours, then another vessel takes the lane.
            track = VesselTrack(lane: track.lane)
            return seconds(3600 + rng.unit() * 4 * 3600)
        }
        return seconds(180 + rng.unit() * 420)
    }

    func rounded(_ position: Position) -> Position {
        rounded(tenThousandths(position))
    }

    func rounded(_ scaled: (lat: Int, lon: Int)) -> Position {
        Position(lat: Double(scaled.lat) / 10000, lon: Double(scaled.lon) / 10000)
    }

    /// The position to four decimals, in ten-thousandths of a degree: written with `JSONBytes.scaled`.
    func tenThousandths(_ position: Position) -> (lat: Int, lon: Int) {
        (Int((position.lat * 10000).roundedHalfAwayInteger), Int((position.lon * 10000).roundedHalfAwayInteger))
    }
}

/// A vessel crossing the Caspian on a lane; an empty `vessel` starts a new one.
struct VesselTrack: Sendable {
    var lane: Int
    var vessel = ""
    /// Its reports' JSON up to the id's serial, and from `source` to `vessel` after the time.
    var idOpen: [UInt8] = []
    var members: [UInt8] = []
    var speedKn = 0.0
    var progress = 0.0
    var reversed = false
    var last: Int64 = 0
}

extension String {
    /// FNV-1a over the UTF-8 bytes: stable across runs, unlike `hashValue`.
    var hashValueStable: Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return Int(hash % 1_000_000)
    }
}
