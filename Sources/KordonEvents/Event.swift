// The event contract v1 (shared/spec/events.md) as Swift values.
//
// Optional contract fields are optionals; JSON `null` decodes as absent. Arrays
// the contract marks optional stay optional too, because for `covers` an absent
// array ("covers everything") and an empty one ("covers nothing") differ.

/// One decoded, validated event.
public struct Event: Sendable, Equatable {
    /// Contract version (`v`); the decoder accepts only `1`.
    public var version: Int
    /// Producer-assigned id, 1–128 bytes of UTF-8; a repeated id is a redelivery.
    public var id: String
    /// Event time, normalised to UTC.
    public var time: Timestamp
    /// Producing system, e.g. `KZ-BS/PETROPAVL-1`.
    public var source: String?
    public var body: Body

    public enum Body: Sendable, Equatable {
        case crossing(Crossing)
        case inspection(Inspection)
        case patrol(Patrol)
        case sensor(Sensor)
        case vessel(Vessel)
    }

    public init(version: Int = 1, id: String, time: Timestamp, source: String? = nil, body: Body) {
        self.version = version
        self.id = id
        self.time = time
        self.source = source
        self.body = body
    }

    /// Moves the id, source and body out, leaving empty ones: read off by copy, every string and
    /// array in them was retained, then released again with the event.
    public mutating func takeParts() -> (id: String, source: String?, body: Body) {
        var parts = (id: "", source: String?.none, body: Body.vessel(Vessel(vessel: "", position: Position(lat: 0, lon: 0))))
        swap(&parts.id, &id)
        swap(&parts.source, &source)
        swap(&parts.body, &body)
        return parts
    }

    public var kind: EventKind {
        switch body {
        case .crossing: .crossing
        case .inspection: .inspection
        case .patrol: .patrol
        case .sensor: .sensor
        case .vessel: .vessel
        }
    }
}

public enum EventKind: String, Sendable, CaseIterable {
    case crossing, inspection, patrol, sensor, vessel
}

/// WGS84 degrees: `lat` in -90...90, `lon` in -180...180.
public struct Position: Sendable, Equatable {
    public var lat: Double
    public var lon: Double

    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }
}

// MARK: - crossing

/// One control passage at a checkpoint.
public struct Crossing: Sendable, Equatable {
    // Declared widest first, so the one-byte fields share the tail instead of each padding to
    // eight: the engine keeps crossings by the million.
    public var checkpoint: String
    /// ISO 3166-1 alpha-2 of the service that recorded it (format checked, not the list).
    public var country: String
    public var officer: String?
    public var lane: String?
    public var persons: [Person]?
    public var goods: [Goods]?
    public var permits: [Permit]?
    public var vehicle: Vehicle?
    public var direction: Direction
    public var released: Bool?

    public init(
        checkpoint: String, country: String, direction: Direction, persons: [Person]? = nil,
        vehicle: Vehicle? = nil, goods: [Goods]? = nil, permits: [Permit]? = nil,
        officer: String? = nil, lane: String? = nil, released: Bool? = nil
    ) {
        self.checkpoint = checkpoint
        self.country = country
        self.direction = direction
        self.persons = persons
        self.vehicle = vehicle
        self.goods = goods
        self.permits = permits
        self.officer = officer
        self.lane = lane
        self.released = released
    }
}

/// From the recording country's point of view.
public enum Direction: String, Sendable, CaseIterable {
    case exit, entry
}

public struct Person: Sendable, Equatable {
    /// Document number or an upstream pseudonym.
    public var doc: String
    public var role: PersonRole?
    public var minor: Bool?
    /// `doc` of the person who presented this document, when not the person themselves.
    public var docHolder: String?

    public init(doc: String, role: PersonRole? = nil, minor: Bool? = nil, docHolder: String? = nil) {
        self.doc = doc
        self.role = role
        self.minor = minor
        self.docHolder = docHolder
    }
}

public enum PersonRole: String, Sendable, CaseIterable {
    case driver, passenger, pedestrian, crew
}

public struct Vehicle: Sendable, Equatable {
    // One-byte field last (see `Crossing`).
    public var plate: String
    public var trailer: String?
    /// Gross weights at the weighbridge, ≥ 0.
    public var declaredWeightKg: Double?
    public var measuredWeightKg: Double?
    public var type: VehicleType?

    public init(
        plate: String, type: VehicleType? = nil, trailer: String? = nil,
        declaredWeightKg: Double? = nil, measuredWeightKg: Double? = nil
    ) {
        self.plate = plate
        self.type = type
        self.trailer = trailer
        self.declaredWeightKg = declaredWeightKg
        self.measuredWeightKg = measuredWeightKg
    }
}

public enum VehicleType: String, Sendable, CaseIterable {
    case car, truck, bus, van, rail, vessel, other
}

/// One line of the declaration.
public struct Goods: Sendable, Equatable {
    /// HS commodity code, 4 to 10 ASCII digits.
    public var hs: String
    public var description: String?
    public var quantity: Double?
    public var unit: String?
    public var weightKg: Double?
    public var valueUsd: Double?
    /// For chemicals and medicines, e.g. `sibutramine`.
    public var substance: String?
    /// Alpha-2 country of origin.
    public var origin: String?

    public init(
        hs: String, description: String? = nil, quantity: Double? = nil, unit: String? = nil,
        weightKg: Double? = nil, valueUsd: Double? = nil, substance: String? = nil, origin: String? = nil
    ) {
        self.hs = hs
        self.description = description
        self.quantity = quantity
        self.unit = unit
        self.weightKg = weightKg
        self.valueUsd = valueUsd
        self.substance = substance
        self.origin = origin
    }
}

public struct Permit: Sendable, Equatable {
    public var id: String
    public var type: PermitType
    public var validUntil: ValidUntil?
    /// HS code prefixes (2 to 10 digits) the permit covers; `nil` covers everything of its type.
    public var covers: [String]?

    public init(id: String, type: PermitType, validUntil: ValidUntil? = nil, covers: [String]? = nil) {
        self.id = id
        self.type = type
        self.validUntil = validUntil
        self.covers = covers
    }

    /// Whether the permit names `hs` (absent `covers` names everything).
    public func covers(hs: String) -> Bool {
        guard let covers else { return true }
        return covers.contains { hs.utf8.starts(with: $0.utf8) }
    }
}

public enum PermitType: String, Sendable, CaseIterable {
    case weapon, ammunition, hunting, cites, phytosanitary, veterinary
    case timberOrigin = "timber-origin"
    case fishing, other
}

// MARK: - inspection

/// Result of a secondary inspection.
public struct Inspection: Sendable, Equatable {
    /// `id` of the crossing inspected.
    public var crossingId: String
    public var checkpoint: String
    public var method: InspectionMethod
    /// Required by the contract; may be empty.
    public var findings: [Finding]
    public var officer: String?
    public var durationSec: Double?

    public init(
        crossingId: String, checkpoint: String, method: InspectionMethod, findings: [Finding],
        officer: String? = nil, durationSec: Double? = nil
    ) {
        self.crossingId = crossingId
        self.checkpoint = checkpoint
        self.method = method
        self.findings = findings
        self.officer = officer
        self.durationSec = durationSec
    }
}

public enum InspectionMethod: String, Sendable, CaseIterable {
    case xray, canine, manual, radiation, weighbridge, documents
}

public struct Finding: Sendable, Equatable {
    public var category: FindingCategory
    public var description: String?
    public var substance: String?
    public var quantity: Double?
    public var unit: String?
    public var weightKg: Double?
    /// Checked like goods' `hs`: 4 to 10 ASCII digits.
    public var hs: String?
    /// It was on the declaration.
    public var declared: Bool?
    /// Hidden in a cavity, false floor, under masking cargo.
    public var concealed: Bool?
    public var canineAlert: Bool?

    public init(
        category: FindingCategory, description: String? = nil, substance: String? = nil,
        quantity: Double? = nil, unit: String? = nil, weightKg: Double? = nil, hs: String? = nil,
        declared: Bool? = nil, concealed: Bool? = nil, canineAlert: Bool? = nil
    ) {
        self.category = category
        self.description = description
        self.substance = substance
        self.quantity = quantity
        self.unit = unit
        self.weightKg = weightKg
        self.hs = hs
        self.declared = declared
        self.concealed = concealed
        self.canineAlert = canineAlert
    }
}

public enum FindingCategory: String, Sendable, CaseIterable {
    case weapon, ammunition, explosive, narcotic, psychotropic, precursor, currency, wildlife
    case fish, caviar, timber, alcohol, tobacco, fuel, metal
    case consumerGoods = "consumer-goods"
    case food
    case maskingAgent = "masking-agent"
    case documentFraud = "document-fraud"
    case other
}

// MARK: - patrol

/// A patrol observation in the field.
public struct Patrol: Sendable, Equatable {
    public var unit: String
    public var sector: String?
    public var position: Position
    public var observation: Observation
    /// Persons, vehicles or items seen, ≥ 0.
    public var count: Int?
    /// Direction of movement, 0–360.
    public var headingDeg: Double?
    /// Demarcation pillar id, for pillar observations.
    public var pillar: String?
    /// Free text, never parsed for decisions.
    public var note: String?

    public init(
        unit: String, sector: String? = nil, position: Position, observation: Observation,
        count: Int? = nil, headingDeg: Double? = nil, pillar: String? = nil, note: String? = nil
    ) {
        self.unit = unit
        self.sector = sector
        self.position = position
        self.observation = observation
        self.count = count
        self.headingDeg = headingDeg
        self.pillar = pillar
        self.note = note
    }
}

public enum Observation: String, Sendable, CaseIterable {
    case footprints
    case vehicleTracks = "vehicle-tracks"
    case persons, vehicle
    case abandonedGoods = "abandoned-goods"
    case fenceDamage = "fence-damage"
    case pillarMissing = "pillar-missing"
    case pillarDamaged = "pillar-damaged"
    case vessel
    case fishingGear = "fishing-gear"
    case logging, other
}

// MARK: - sensor

/// An unattended ground or coastal sensor detection.
public struct Sensor: Sendable, Equatable {
    /// Sensor id.
    public var sensor: String
    public var sensorType: SensorType
    public var position: Position
    public var detection: Detection
    /// 0–1; the contract's default of 1 applies when the field is absent or null.
    public var confidence: Double
    public var count: Int?
    public var sector: String?

    public init(
        sensor: String, sensorType: SensorType, position: Position, detection: Detection,
        confidence: Double = 1, count: Int? = nil, sector: String? = nil
    ) {
        self.sensor = sensor
        self.sensorType = sensorType
        self.position = position
        self.detection = detection
        self.confidence = confidence
        self.count = count
        self.sector = sector
    }
}

public enum SensorType: String, Sendable, CaseIterable {
    case seismic, infrared, radar, camera, fence, magnetic
}

public enum Detection: String, Sendable, CaseIterable {
    case human, vehicle, animal, vessel, unknown, tamper
}

// MARK: - vessel

/// A position report of a vessel (Caspian Sea).
public struct Vessel: Sendable, Equatable {
    /// MMSI or hull id.
    public var vessel: String
    public var position: Position
    /// Knots, ≥ 0.
    public var speedKn: Double?
    /// 0–360 as for patrols: the contract's table only says "number", but a heading in degrees has no other meaning.
    public var headingDeg: Double?
    /// False when seen by radar or patrol with no AIS transponder signal.
    public var ais: Bool?
    public var activity: VesselActivity?

    public init(
        vessel: String, position: Position, speedKn: Double? = nil, headingDeg: Double? = nil,
        ais: Bool? = nil, activity: VesselActivity? = nil
    ) {
        self.vessel = vessel
        self.position = position
        self.speedKn = speedKn
        self.headingDeg = headingDeg
        self.ais = ais
        self.activity = activity
    }
}

public enum VesselActivity: String, Sendable, CaseIterable {
    case fishing, transit, drifting, unknown
}
