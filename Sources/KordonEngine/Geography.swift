import KordonEvents

/// Places the rules refer to: checkpoints with their positions, their
/// counterparts across the border and their capacity.
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

    public init(checkpoints: [Checkpoint] = []) {
        self.checkpoints = Dictionary(checkpoints.map { ($0.id, $0) }) { first, _ in first }
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
        guard let top = root.object(["checkpoints"]), let list = top.required("checkpoints")?.elements() else {
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
        let geography = Geography(checkpoints: checkpoints)
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
