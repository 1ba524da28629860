import Foundation
import KordonEngine
import KordonEvents

// Planters for what patrols, sensors and coastal radar report between the checkpoints. Rules about
// these key by sector or zone, so each planted incident claims its key for two hours: a second one
// inside the first's suppression (1h) would be counted into it rather than alerted.

extension Simulator {
    /// A point near the border line, `offset` degrees of latitude to either side, that meets `accept`
    /// once rounded as events carry it; nil after 64 tries.
    mutating func position(offset: ClosedRange<Double>, where accept: (Position) -> Bool) -> Position? {
        guard geography.borderLine.count >= 2 else { return nil }
        for _ in 0..<64 {
            var point = SimGeography.along(geography.borderLine, segment: rng.below(geography.borderLine.count - 1), fraction: rng.unit())
            point.lat += (rng.chance(0.5) ? 1 : -1) * uniform(offset)
            point = rounded(point)
            if accept(point) { return point }
        }
        return nil
    }

    /// A point within about 2 km of a checkpoint, on its approach.
    mutating func nearCheckpoint() -> Position? {
        guard !geography.pairs.isEmpty else { return nil }
        let pair = rng.pick(geography.pairs)
        let point = rounded(Position(lat: pair.a.position.lat + uniform(-0.015...0.015), lon: pair.a.position.lon + uniform(-0.015...0.015)))
        return (geography.base.nearestCheckpoint(to: point)?.km ?? .infinity) < 3 ? point : nil
    }

    mutating func patrolUnit() -> (unit: String, country: String)? {
        guard !geography.patrolUnits.isEmpty else { return nil }
        let unit = rng.pick(geography.patrolUnits)
        return (unit.unit, unit.country)
    }
}

struct UnauthorizedCrossing: IncidentPlanter {
    let rule = "crossing.unauthorized"

    /// In the border zone over 7 km from every checkpoint (the rule: over 5 km), a sensor sees a
    /// person or vehicle with confidence 0.65 or more (the rule: 0.6), two sensors 0.8 km apart do so
    /// minutes apart (a track: critical), or a patrol finds footprints, tracks, people or a vehicle.
    /// Near misses: an animal or a low-confidence detection out there, a checkpoint's approach
    /// camera seeing people, a patrol meeting people by a checkpoint.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        if nearMiss { return plantNearMiss(in: &sim, at: time) }
        let geography = sim.geography
        let sensors = geography.sensors.indices.filter {
            let sensor = geography.sensors[$0]
            return sensor.remote && sensor.type != .fence && sensor.sector.map { sim.isFree(rule, $0, at: time) } == true
        }
        let roll = sim.rng.unit()
        if roll < 0.65, !sensors.isEmpty {
            let first = geography.sensors[sim.rng.pick(sensors)]
            let neighbours = sensors.filter {
                // The alert is keyed by the sector of each detection: a track across a sector line would alert twice.
                geography.sensors[$0].id != first.id && geography.sensors[$0].sector == first.sector
                    && greatCircleKm(geography.sensors[$0].position, first.position) < 1.5
            }
            let track = roll < 0.3 && !neighbours.isEmpty
            let vehicle = !track && sim.rng.chance(0.3)
            var events = [
                (vehicle
                    ? sim.sensorEvent(first, .vehicle, confidence: sim.uniform(0.65...0.98))
                    : sim.sensorEvent(first, .human, confidence: sim.uniform(0.65...0.98), count: 1 + sim.rng.below(5)), Int64(0))
            ]
            if track {
                let second = geography.sensors[sim.rng.pick(neighbours)]
                events.append((sim.sensorEvent(second, .human, confidence: sim.uniform(0.65...0.98), count: 1 + sim.rng.below(5)), seconds(sim.uniform(120...600))))
            }
            let variant = track ? "sensor-track" : vehicle ? "sensor-vehicle" : "sensor-human"
            let sector = first.sector ?? ""
            sim.claim(rule, sector, at: time, for: 2 * hour)
            sim.plant(events: events, expect: [Expectation(rule: rule, fire: true, keyType: "sector", keyValue: sector)], variant: variant, at: time)
            return
        }
        guard let (unit, country) = sim.patrolUnit(),
            let position = sim.position(offset: 0.005...0.15, where: { geography.isRemote($0) }),
            let sector = geography.sector(at: position), sim.isFree(rule, sector, at: time)
        else { return }
        let observation = sim.rng.pick([Observation.footprints, .vehicleTracks, .persons, .vehicle])
        let count = observation == .persons || observation == .footprints ? 1 + sim.rng.below(6) : 1
        let event = sim.patrolEvent(unit: unit, country: country, at: position, observation, count: count)
        sim.claim(rule, sector, at: time, for: 2 * hour)
        sim.plant(
            events: [(event, 0)], expect: [Expectation(rule: rule, fire: true, keyType: "sector", keyValue: sector)],
            variant: "patrol-" + observation.rawValue, at: time)
    }

    private func plantNearMiss(in sim: inout Simulator, at time: Int64) {
        let geography = sim.geography
        let remote = geography.sensors.filter { $0.remote && $0.type != .fence && $0.sector != nil }
        let approach = geography.sensors.filter { $0.atCheckpoint && $0.sector != nil }
        let event: Event
        let variant: String
        switch sim.rng.below(4) {
        case 0 where !remote.isEmpty:
            event = sim.sensorEvent(sim.rng.pick(remote), .animal, confidence: sim.uniform(0.7...0.95), count: 1 + sim.rng.below(8))
            variant = "sensor-animal"
        case 1 where !remote.isEmpty:
            event = sim.sensorEvent(sim.rng.pick(remote), .human, confidence: sim.uniform(0.3...0.5))
            variant = "sensor-low-confidence"
        case 2 where !approach.isEmpty:
            event = sim.sensorEvent(sim.rng.pick(approach), .human, confidence: sim.uniform(0.7...0.95), count: 1 + sim.rng.below(4))
            variant = "sensor-at-checkpoint"
        default:
            guard let (unit, country) = sim.patrolUnit(), let position = sim.nearCheckpoint() else { return }
            event = sim.patrolEvent(unit: unit, country: country, at: position, .persons, count: 1 + sim.rng.below(4))
            variant = "patrol-at-checkpoint"
        }
        let sector: String? =
            switch event.body {
            case .sensor(let sensor): sensor.sector
            case .patrol(let patrol): patrol.sector
            default: nil
            }
        guard let sector else { return }
        sim.plant(events: [(event, 0)], expect: [Expectation(rule: rule, fire: false, keyType: "sector", keyValue: sector)], variant: variant, at: time)
    }
}

struct RestrictedZonePoaching: IncidentPlanter {
    let rule = "poaching.restricted-zone"

    /// In a fishing zone's closed season: a vessel fishing, drifting without AIS (critical) or idling
    /// under 3 knots, reported 3–5 times over an hour or so, or fishing gear found by a coast guard
    /// patrol (keyed by the zone). Near misses: a vessel in transit through the zone at 7–12 knots,
    /// or one fishing there outside the season. Outside the season an incident cannot happen, so
    /// one asked for then is planted as a near miss.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard !sim.geography.fishingZones.isEmpty else { return }
        let zone = sim.rng.pick(sim.geography.fishingZones)
        let reports = 3 + sim.rng.below(3)
        var offsets: [Int64] = [0]
        for _ in 1..<reports { offsets.append(offsets[offsets.count - 1] + seconds(sim.uniform(600...1200))) }
        let closed = [time, time + offsets[offsets.count - 1]].map { zone.isClosed(at: Timestamp(nanosecondsSinceEpoch: $0)) }
        guard var position = point(in: zone, &sim) else { return }
        let country = sim.rng.chance(0.5) ? "KZ" : "RU"
        let inSeason = closed.allSatisfy { $0 }
        if inSeason, !nearMiss, sim.rng.chance(0.2), sim.isFree(rule, zone.id, at: time) {
            let event = sim.patrolEvent(unit: "\(country.lowercased())-cg-\(200 + sim.rng.below(8))", country: country, at: position, .fishingGear, count: 1 + sim.rng.below(4), note: "nets without markings")
            sim.claim(rule, zone.id, at: time, for: 2 * hour)
            sim.plant(events: [(event, 0)], expect: [Expectation(rule: rule, fire: true, keyType: "zone", keyValue: zone.id)], variant: "fishing-gear-found", at: time)
            return
        }
        let fire = inSeason && !nearMiss
        // In the season (or across its edge) only transit stays clear of the rule; outside it, anything does.
        let transit = !fire && (inSeason || closed.contains(true) || sim.rng.chance(0.5))
        let activity: VesselActivity
        let speed: ClosedRange<Double>
        let ais: Bool
        let variant: String
        switch sim.rng.below(3) {
        case _ where transit:
            (activity, speed, ais, variant) = (.transit, 7...12, true, "transit-through-zone")
        case 0:
            (activity, speed, ais, variant) = (.drifting, 0...1, false, fire ? "drifting-without-ais" : "drifting-out-of-season")
        case 1:
            (activity, speed, ais, variant) = (.unknown, 0.5...2.5, sim.rng.chance(0.5), fire ? "idling-under-3-knots" : "idling-out-of-season")
        default:
            (activity, speed, ais, variant) = (.fishing, 1.5...4, true, fire ? "fishing-with-ais" : "fishing-out-of-season")
        }
        let vessel = sim.ids.vessel(ais: ais, country: country)
        let heading = Double(sim.rng.below(360))
        var events: [(event: Event, after: Int64)] = []
        for offset in offsets {
            let knots = sim.uniform(speed)
            let event = Event(
                id: sim.ids.event(ais ? "ais-" + vessel : vessel.lowercased()), time: Timestamp(nanosecondsSinceEpoch: 0),
                source: ais ? "CG/AIS" : "\(country)-CG/RADAR",
                body: .vessel(Vessel(vessel: vessel, position: position, speedKn: (knots * 10).rounded() / 10, headingDeg: heading, ais: ais, activity: activity)))
            events.append((event, offset))
            // About ten minutes on at this speed; an incident vessel stays inside the zone.
            let step = knots / 6 / 60
            let next = sim.rounded(Position(lat: position.lat + step * cos(heading * .pi / 180), lon: position.lon + step * sin(heading * .pi / 180) / 0.7))
            if !fire || zone.contains(next) { position = next }
        }
        sim.plant(events: events, expect: [Expectation(rule: rule, fire: fire, keyType: "vessel", keyValue: vessel)], variant: variant, at: time)
    }

    private func point(in zone: Zone, _ sim: inout Simulator) -> Position? {
        let lats = zone.polygon.map(\.lat)
        let lons = zone.polygon.map(\.lon)
        guard let south = lats.min(), let north = lats.max(), let west = lons.min(), let east = lons.max() else { return nil }
        for _ in 0..<64 {
            let point = sim.rounded(Position(lat: sim.uniform(south...north), lon: sim.uniform(west...east)))
            if zone.contains(point) { return point }
        }
        return nil
    }
}

struct UndocumentedTimber: IncidentPlanter {
    let rule = "timber.undocumented"
    static let wood: [(hs: String, description: String)] = [
        ("4403", "pine roundwood"), ("4407", "sawn birch"), ("4401", "fuel wood"), ("4406", "railway sleepers"),
    ]

    /// A timber truck (HS 44) with no timber-origin or phytosanitary permit, an expired one, or one
    /// covering other goods; or logging seen by a patrol in the border zone (keyed by sector). Near
    /// misses: the truck with a valid covering permit; logging seen outside the border zone.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        if sim.rng.chance(0.2) {
            let geography = sim.geography
            guard let (unit, country) = sim.patrolUnit(),
                let position = nearMiss
                    ? sim.position(offset: 0.6...1.2, where: { !geography.inBorderZone($0) && geography.sector(at: $0) != nil })
                    : sim.position(offset: 0.005...0.15, where: { geography.inBorderZone($0) }),
                let sector = geography.sector(at: position), nearMiss || sim.isFree(rule, sector, at: time)
            else { return }
            if !nearMiss { sim.claim(rule, sector, at: time, for: 2 * hour) }
            let event = sim.patrolEvent(unit: unit, country: country, at: position, .logging, count: 1 + sim.rng.below(20), note: "fresh stumps")
            sim.plant(
                events: [(event, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "sector", keyValue: sector)],
                variant: nearMiss ? "logging-outside-border-zone" : "logging-in-border-zone", at: time)
            return
        }
        let (persons, vehicle) = sim.travellers(.truck)
        var trip = sim.incidentTrip(persons, vehicle)
        let wood = sim.rng.pick(Self.wood)
        let weight = ((vehicle?.declaredWeightKg ?? 20000) * 0.6).rounded()
        trip.goods = [Goods(hs: wood.hs, description: wood.description, weightKg: weight, valueUsd: (weight * sim.uniform(0.15...0.5)).rounded(), origin: trip.pair.from(outbound: trip.outbound).country)]
        let variant: String
        switch (nearMiss, sim.rng.below(3)) {
        case (true, 0):
            trip.permits = [Permit(id: sim.ids.permit("PHYTO"), type: .phytosanitary, validUntil: sim.validUntil(days: 5 + sim.rng.below(60), from: time), covers: [wood.hs])]
            variant = "valid-phytosanitary"
        case (true, _):
            trip.permits = [Permit(id: sim.ids.permit("TIMB"), type: .timberOrigin, validUntil: sim.validUntil(days: 5 + sim.rng.below(60), from: time), covers: ["44"])]
            variant = "valid-timber-origin"
        case (false, 0):
            variant = "no-permit"
        case (false, 1):
            trip.permits = [Permit(id: sim.ids.permit("TIMB"), type: .timberOrigin, validUntil: sim.validUntil(days: -1 - sim.rng.below(30), from: time), covers: ["44"])]
            variant = "expired-timber-origin"
        case (false, _):
            trip.permits = [Permit(id: sim.ids.permit("PHYTO"), type: .phytosanitary, validUntil: sim.validUntil(days: 30, from: time), covers: ["0808"])]
            variant = "permit-covers-other-goods"
        }
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "plate", keyValue: vehicle?.plate ?? "")],
            variant: variant, at: time)
    }
}

struct PillarTampering: IncidentPlanter {
    let rule = "demarcation.pillar-tampering"

    /// A patrol finds a demarcation pillar missing or damaged, or a fence sensor reports tampering.
    /// Near misses: fence damage with the pillars intact; a fence sensor tripping on an animal.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let geography = sim.geography
        let fences = geography.sensors.filter { $0.type == .fence && $0.sector != nil }
        let event: Event
        let variant: String
        if sim.rng.chance(0.3), !fences.isEmpty {
            let fence = sim.rng.pick(fences)
            event =
                nearMiss
                ? sim.sensorEvent(fence, .animal, confidence: sim.uniform(0.6...0.9), count: 1 + sim.rng.below(3))
                : sim.sensorEvent(fence, .tamper, confidence: sim.uniform(0.85...1))
            variant = nearMiss ? "fence-sensor-animal" : "fence-sensor-tamper"
        } else {
            guard let (unit, country) = sim.patrolUnit(), let position = sim.position(offset: 0...0.02, where: { geography.sector(at: $0) != nil })
            else { return }
            let observation: Observation = nearMiss ? .fenceDamage : sim.rng.pick([.pillarMissing, .pillarDamaged])
            event = sim.patrolEvent(
                unit: unit, country: country, at: position, observation,
                pillar: nearMiss ? nil : "KZ-RU-" + Identities.padded(UInt64(sim.rng.below(4000)), 4))
            variant = "patrol-" + observation.rawValue
        }
        let sector: String? =
            switch event.body {
            case .sensor(let sensor): sensor.sector
            case .patrol(let patrol): patrol.sector
            default: nil
            }
        guard let sector, nearMiss || sim.isFree(rule, sector, at: time) else { return }
        if !nearMiss { sim.claim(rule, sector, at: time, for: 2 * hour) }
        sim.plant(events: [(event, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "sector", keyValue: sector)], variant: variant, at: time)
    }
}
