import Foundation
import KordonEvents

/// Places the rules refer to: checkpoints with their positions, their
/// counterparts across the border and their capacity; zones (the border zone,
/// sectors, restricted fishing zones with their closed seasons) as polygons.
public struct Geography: Sendable {
    public struct Checkpoint: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The service that runs it (ISO alpha-2); never a risk factor.
        public var country: String
        public var position: Position
        /// The checkpoint facing this one across the border, if any.
        public var paired: String?
        /// Crossings per `capacity.overload` window the checkpoint handles; nil: not monitored.
        public var capacity: Int?

        public init(
            id: String, name: String, country: String, position: Position, paired: String? = nil,
            capacity: Int? = nil
        ) {
            self.id = id
            self.name = name
            self.country = country
            self.position = position
            self.paired = paired
            self.capacity = capacity
        }
    }

    public var checkpoints: [String: Checkpoint]
    /// In file order: where zones overlap, the first listed wins.
    public var zones: [Zone]
    /// Checkpoints sorted by id, so the nearest one is chosen the same way on every run.
    let checkpointList: [Checkpoint]
    /// Each checkpoint's place in `checkpointList`: an event's checkpoint is looked up once, not by every rule.
    let checkpointIndices: [TableKey: Int32]
    /// Great-circle km between every two checkpoints of `checkpointList` (row: from, column: to), worked out
    /// once: velocity rules compare each crossing with the key's last one, nearly always at another
    /// checkpoint, and the trigonometry cost more than the rest of the comparison. Nil for a geography
    /// too large for a table (its square would take more than 2 MiB).
    private let checkpointDistances: [Double]?

    public init(checkpoints: [Checkpoint] = [], zones: [Zone] = []) {
        self.checkpoints = Dictionary(checkpoints.map { ($0.id, $0) }) { first, _ in first }
        self.zones = zones
        checkpointList = self.checkpoints.values.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        checkpointIndices = Dictionary(uniqueKeysWithValues: checkpointList.enumerated().map { (TableKey($1.id), Int32($0)) })
        let list = checkpointList
        checkpointDistances =
            list.count <= 512 ? list.flatMap { from in list.map { greatCircleKm(from.position, $0.position) } } : nil
    }

    /// Great-circle km from one checkpoint of `checkpointList` to another, by their indices.
    func distanceKm(from: Int32, to: Int32) -> Double {
        if let checkpointDistances { return checkpointDistances[Int(from) * checkpointList.count + Int(to)] }
        return greatCircleKm(checkpointList[Int(from)].position, checkpointList[Int(to)].position)
    }

    /// The first zone of `type` whose polygon contains `position`.
    public func zone(_ type: Zone.ZoneType, containing position: Position) -> Zone? {
        zoneIndex(type, containing: position).map { zones[Int($0)] }
    }

    /// Where the first zone of `type` containing `position` is in `zones`.
    func zoneIndex(_ type: Zone.ZoneType, containing position: Position) -> Int32? {
        // By index: a closure over the zones themselves gets each one copied, its strings and arrays retained.
        for index in zones.indices where zones[index].type == type && zones[index].contains(position) {
            return Int32(index)
        }
        return nil
    }

    /// The checkpoint nearest to `position` by great-circle distance, with the distance in km
    /// (equal distances: the smallest id); nil without checkpoints.
    public func nearestCheckpoint(to position: Position) -> (checkpoint: Checkpoint, km: Double)? {
        // By index: a loop over the checkpoints themselves copies (and retains) every one of them.
        var best: (index: Int, km: Double)?
        for index in checkpointList.indices {
            let km = greatCircleKm(position, checkpointList[index].position)
            if best == nil || km < best!.km { best = (index, km) }
        }
        return best.map { (checkpointList[$0.index], $0.km) }
    }

    /// Parses a geography; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws(ConfigErrors) -> Geography {
        let reader = ConfigReader(file: file)
        let geography = reader.root(yaml: yaml).map(read) ?? Geography()
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return geography
    }

    /// Reads `geography.yaml`; problems are recorded in the reader.
    static func read(_ root: YAMLValue) -> Geography {
        guard let top = root.object(["checkpoints", "zones"]), let list = top.required("checkpoints")?.elements() else {
            return Geography()
        }
        var checkpoints: [Checkpoint] = []
        var pairFields: [YAMLValue?] = []
        var lines: [String: Int] = [:]
        for item in list {
            guard let fields = item.object(["id", "name", "country", "position", "paired", "capacity"]) else {
                continue
            }
            let id = fields.required("id")?.string()
            let name = fields.required("name")?.string()
            let country = fields.required("country").flatMap { value -> String? in
                guard let code = value.string() else { return nil }
                guard code.utf8.count == 2, code.utf8.allSatisfy({ (65...90).contains($0) }) else {
                    value.fail("expected two upper-case letters (ISO 3166-1 alpha-2), got \"\(code)\"")
                    return nil
                }
                return code
            }
            let position = fields.required("position").flatMap(readPosition)
            let pairedField = fields.optional("paired")
            let paired = pairedField?.string()
            let capacity = fields.optional("capacity")?.integer(in: 1...1_000_000)
            guard let id, let name, let country, let position else { continue }
            if let previous = lines[id] {
                item.fail("checkpoint \"\(id)\" is already defined on line \(previous)")
                continue
            }
            lines[id] = item.line
            checkpoints.append(
                Checkpoint(id: id, name: name, country: country, position: position, paired: paired, capacity: capacity))
            pairFields.append(pairedField)
        }
        let zones = top.optional("zones").flatMap(readZones) ?? []
        let geography = Geography(checkpoints: checkpoints, zones: zones)
        for (checkpoint, field) in zip(checkpoints, pairFields) {
            guard let paired = checkpoint.paired, let field else { continue }
            if geography.checkpoints[paired] == nil {
                field.fail("no checkpoint \"\(paired)\" in this file")
            } else if geography.checkpoints[paired]?.paired != checkpoint.id {
                field.fail("\"\(paired)\" must name \"\(checkpoint.id)\" as its pair in turn")
            }
        }
        return geography
    }

    private static func readZones(_ value: YAMLValue) -> [Zone]? {
        guard let items = value.elements() else { return nil }
        var zones: [Zone] = []
        var lines: [String: Int] = [:]
        for item in items {
            guard let fields = item.object(["id", "name", "type", "polygon", "closedSeasons"]) else { continue }
            let id = fields.required("id")?.string()
            let name = fields.optional("name")?.string()
            let type = fields.required("type")?.oneOf(Zone.ZoneType.self)
            let polygon = fields.required("polygon").flatMap(readPolygon)
            let seasonsField = fields.optional("closedSeasons")
            let seasons = seasonsField.flatMap(readSeasons) ?? []
            if let seasonsField, type != .fishing {
                seasonsField.fail("closed seasons are for zones of type fishing")
                continue
            }
            guard let id, let type, let polygon, seasonsField == nil || !seasons.isEmpty else { continue }
            if let previous = lines[id] {
                item.fail("zone \"\(id)\" is already defined on line \(previous)")
                continue
            }
            lines[id] = item.line
            zones.append(Zone(id: id, name: name ?? id, type: type, polygon: polygon, closedSeasons: seasons))
        }
        return zones.count == items.count ? zones : nil
    }

    /// `[[lat, lon], ...]`, at least three corners; the last joins the first.
    private static func readPolygon(_ value: YAMLValue) -> [Position]? {
        guard let items = value.elements() else { return nil }
        guard items.count >= 3 else {
            value.fail("expected at least 3 corners [lat, lon], got \(items.count)")
            return nil
        }
        var corners: [Position] = []
        for item in items {
            guard let pair = item.elements() else { continue }
            guard pair.count == 2 else {
                item.fail("expected a corner [lat, lon], got a list of \(pair.count)")
                continue
            }
            guard let lat = readDegrees(pair[0], 90, "latitude"), let lon = readDegrees(pair[1], 180, "longitude") else {
                continue
            }
            corners.append(Position(lat: lat, lon: lon))
        }
        return corners.count == items.count ? corners : nil
    }

    /// `[{from: MM-DD, to: MM-DD}, ...]`, both days included; `from` after `to` spans the new year.
    private static func readSeasons(_ value: YAMLValue) -> [Zone.Season]? {
        guard let items = value.elements() else { return nil }
        guard !items.isEmpty else {
            value.fail("expected at least one season {from: MM-DD, to: MM-DD}")
            return nil
        }
        var seasons: [Zone.Season] = []
        for item in items {
            guard let fields = item.object(["from", "to"]) else { continue }
            let from = fields.required("from").flatMap(readMonthDay)
            let to = fields.required("to").flatMap(readMonthDay)
            if let from, let to { seasons.append(Zone.Season(from: from, to: to)) }
        }
        return seasons.count == items.count ? seasons : nil
    }

    /// `MM-DD` as month × 100 + day, so days compare as numbers; 02-29 is allowed.
    private static func readMonthDay(_ value: YAMLValue) -> Int? {
        guard let text = value.string() else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let month = Int(parts[0]), let day = Int(parts[1]),
            CalendarDate(year: 2000, month: month, day: day) != nil
        else {
            value.fail("expected a day of the year like 04-01 (MM-DD), got \"\(text)\"")
            return nil
        }
        return month * 100 + day
    }
}

private func readDegrees(_ value: YAMLValue, _ limit: Double, _ name: String) -> Double? {
    guard let degrees = value.number() else { return nil }
    guard (-limit...limit).contains(degrees) else {
        value.fail("expected a \(name) in -\(Int(limit))...\(Int(limit)), got \(degrees)")
        return nil
    }
    return degrees
}

/// A named area: the border zone, a border sector or a restricted fishing zone.
public struct Zone: Sendable, Equatable {
    public enum ZoneType: String, Sendable, CaseIterable {
        case border, sector, fishing
    }

    /// Yearly days, as month × 100 + day, both included; `from > to` spans the new year.
    public struct Season: Sendable, Equatable {
        public var from: Int
        public var to: Int

        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }

        /// Whether `time`'s UTC day falls in the season (the contract's times are compared in UTC throughout).
        public func contains(_ time: Timestamp) -> Bool {
            let nanosPerDay: Int64 = 86_400_000_000_000
            let nanos = time.nanosecondsSinceEpoch
            let days = nanos / nanosPerDay - (nanos % nanosPerDay < 0 ? 1 : 0)
            let date = CalendarDate(daysSinceEpoch: Int(days))
            let day = date.month * 100 + date.day
            return from <= to ? (from...to).contains(day) : day >= from || day <= to
        }
    }

    public var id: String
    public var name: String
    public var type: ZoneType
    /// Corners in order; the last joins the first.
    public var polygon: [Position]
    /// For fishing zones: when fishing there is banned. Empty: never closed.
    public var closedSeasons: [Season]

    public init(id: String, name: String, type: ZoneType, polygon: [Position], closedSeasons: [Season] = []) {
        self.id = id
        self.name = name
        self.type = type
        self.polygon = polygon
        self.closedSeasons = closedSeasons
    }

    /// Even-odd ray casting on plain lat/lon: exact enough for zones far smaller than a hemisphere
    /// that do not cross the antimeridian.
    public func contains(_ point: Position) -> Bool {
        var inside = false
        var previous = polygon[polygon.count - 1]
        for corner in polygon {
            if (corner.lat > point.lat) != (previous.lat > point.lat) {
                let lon = corner.lon + (point.lat - corner.lat) / (previous.lat - corner.lat) * (previous.lon - corner.lon)
                if point.lon < lon { inside.toggle() }
            }
            previous = corner
        }
        return inside
    }

    public func isClosed(at time: Timestamp) -> Bool {
        closedSeasons.contains { $0.contains(time) }
    }
}

/// Great-circle (haversine) distance in kilometres on a sphere of the Earth's mean radius.
public func greatCircleKm(_ a: Position, _ b: Position) -> Double {
    let radians = Double.pi / 180
    let dLat = (b.lat - a.lat) * radians
    let dLon = (b.lon - a.lon) * radians
    let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.lat * radians) * cos(b.lat * radians) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * 6371.0088 * asin(min(1, h.squareRoot()))
}

/// `{lat, lon}` in WGS84 degrees.
func readPosition(_ value: YAMLValue) -> Position? {
    guard let fields = value.object(["lat", "lon"]) else { return nil }
    let lat = fields.required("lat").flatMap { field -> Double? in
        guard let lat = field.number() else { return nil }
        guard (-90...90).contains(lat) else {
            field.fail("expected a latitude in -90...90, got \(lat)")
            return nil
        }
        return lat
    }
    let lon = fields.required("lon").flatMap { field -> Double? in
        guard let lon = field.number() else { return nil }
        guard (-180...180).contains(lon) else {
            field.fail("expected a longitude in -180...180, got \(lon)")
            return nil
        }
        return lon
    }
    guard let lat, let lon else { return nil }
    return Position(lat: lat, lon: lon)
}
