import KordonEvents

/// Plants incidents of one rule, and near misses: cases just short of what the rule
/// looks for, which must not raise its alert. A new rule plugs in with a planter here
/// and an entry in `Planters.all`.
///
/// Figures come from the rulebook the simulator is given (`Simulator.figures`): a planted
/// incident clears each threshold and a near miss stays clear of it by a margin that
/// survives the checkpoint queues (at most 15 minutes of delay) and the allowed lateness.
protocol IncidentPlanter: Sendable {
    var rule: String { get }
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64)
}

public enum Planters {
    static let all: [any IncidentPlanter] = [
        WeaponsUndeclared(), WeaponsRepeatMovement(), MissingCounterpart(), UndeclaredGoods(), WeightMismatch(),
        Structuring(), NarcoticsSeizure(), ConcealmentIndicators(), ControlledSubstance(), CapacityOverload(),
        UnauthorizedCrossing(), TraffickingIndicators(), RestrictedZonePoaching(), UndocumentedTimber(),
        PillarTampering(), ReleaseAnomaly(), ImpossibleTravel(), WatchlistHit(),
    ]

    /// The rule ids the simulator plants incidents and near misses for.
    public static var rules: [String] { all.map(\.rule) }
}

/// What a planted incident expects: this rule fires (or, for a near miss, does not) about this key.
struct Expectation {
    var rule: String
    var fire: Bool
    var keyType: String
    var keyValue: String
}

extension Simulator {
    /// A traveller for an incident: a vehicle of one of `modes` (its plate is the key) or a pedestrian (the doc).
    mutating func suspect(_ modes: [SimGeography.Mode]) -> (persons: [Person], vehicle: Vehicle?, keyType: String, key: String) {
        let (persons, vehicle) = travellers(rng.pick(modes))
        if let vehicle { return (persons, vehicle, "plate", vehicle.plate) }
        return (persons, nil, "doc", persons[0].doc)
    }

    mutating func incidentTrip(
        _ persons: [Person], _ vehicle: Vehicle?, pair: SimGeography.Pair? = nil, outbound: Bool? = nil
    ) -> Trip {
        // Short journeys: a second sighting at the facing checkpoint falls in the first alert's suppression (1h).
        Trip(
            pair: pair ?? rng.pick(geography.pairs), outbound: outbound ?? rng.chance(0.5), persons: persons,
            vehicle: vehicle, travel: seconds(900 + rng.unit() * 1200))
    }

    /// Schedules the trips of one incident (each at `time` + its offset) with its labels; returns
    /// the ids of their events.
    @discardableResult mutating func plant(
        _ trips: [(trip: Trip, after: Int64)], expect: [Expectation], variant: String, at time: Int64,
        absence: Int64? = nil, within parent: Int? = nil
    ) -> [String] {
        let last = trips.map { time + $0.after + ($0.trip.arrives ? $0.trip.travel : 0) + ($0.trip.inspection?.after ?? 0) }.max()
        guard let last, completes(by: last) else { return [] }
        let number = reserveIncident()
        var events: [String] = []
        var planned: [(exit: Int, at: Int64)] = []
        for (trip, after) in trips {
            let (exit, ids) = build(trip, at: time + after, incident: number)
            events += ids.all
            planned.append((exit, time + after))
        }
        let labels = expect.map {
            Label(
                incident: incidentName(number), rule: $0.rule, fire: $0.fire, keyType: $0.keyType, keyValue: $0.keyValue,
                variant: variant, events: events)
        }
        commitIncident(number, events: events.count, labels: labels, absence: absence, within: parent)
        for (exit, at) in planned { plan(slot: exit, at: at) }
        return events
    }

    /// Schedules single events of one incident (each at `time` + its offset) with its labels.
    mutating func plant(events: [(event: Event, after: Int64)], expect: [Expectation], variant: String, at time: Int64) {
        guard let last = events.map(\.after).max(), completes(by: time + last) else { return }
        let number = reserveIncident()
        let labels = expect.map {
            Label(
                incident: incidentName(number), rule: $0.rule, fire: $0.fire, keyType: $0.keyType, keyValue: $0.keyValue,
                variant: variant, events: events.map(\.event.id))
        }
        commitIncident(number, events: events.count, labels: labels, absence: nil)
        for (event, after) in events { plan(event, incident: number, at: time + after) }
    }

    /// Whether no planted incident or near miss holds `key` of `rule` at `time`.
    func isFree(_ rule: String, _ key: String, at time: Int64) -> Bool {
        (keyFree[rule + "|" + key] ?? .min) <= time
    }

    /// Holds `key` of `rule` from `time` for `duration`: alerts of match rules about one key are
    /// suppressed for an hour, so incidents sharing a sector, zone or watchlisted plate are spaced out.
    mutating func claim(_ rule: String, _ key: String, at time: Int64, for duration: Int64) {
        keyFree[rule + "|" + key] = time + duration
    }

    /// A trip back with nothing declared, between the legs of a repeat pattern; not part of the incident.
    mutating func returnTrip(_ trip: Trip, at time: Int64) {
        var back = trip
        back.outbound.toggle()
        back.goods = nil
        back.permits = nil
        back.inspection = nil
        back.measuredAtEntry = nil
        plan(slot: build(back, at: time).exit, at: time)
    }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + rng.unit() * (range.upperBound - range.lowerBound)
    }

    mutating func validUntil(days: Int, from time: Int64) -> ValidUntil {
        let today = Int(time / day)
        return .date(CalendarDate(daysSinceEpoch: today + days))
    }
}

/// Gaps (seconds) between `count` trips of one pattern: `usual`, scaled down where needed so all
/// of them fall within 80 % of the rule's `window`.
func spacing(_ count: Int, within window: Int64, usual: ClosedRange<Double>) -> ClosedRange<Double> {
    let scale = min(1, 0.8 * Double(window / nanosPerSecond) / Double(max(count - 1, 1)) / usual.upperBound)
    return usual.lowerBound * scale...usual.upperBound * scale
}

/// A figure as variant names show it: 5, 2.5.
func shown(_ figure: Double) -> String {
    figure == figure.rounded() && abs(figure) < 1e15 ? String(Int(figure)) : String(figure)
}

/// A count as variant names spell it ("three-trips-with-arms").
func spelled(_ count: Int) -> String {
    let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    return words.indices.contains(count) ? words[count] : String(count)
}

struct WeaponsUndeclared: IncidentPlanter {
    let rule = "weapons.undeclared"

    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .truck, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        let variant: String
        if nearMiss || sim.rng.chance(0.3) {
            // A hunter declares a rifle; the permit is valid (near miss) or expired yesterday (incident).
            trip.goods = [Goods(hs: "9303", description: "hunting rifle", quantity: 1, unit: "pcs", weightKg: 3.4, valueUsd: sim.uniform(1200...4000).rounded())]
            trip.permits = [Permit(id: sim.ids.permit("HUNT"), type: .hunting, validUntil: sim.validUntil(days: nearMiss ? 30 + sim.rng.below(300) : -1 - sim.rng.below(60), from: time), covers: ["9303"])]
            trip.inspection = Trip.InspectionPlan(
                method: .documents, findings: [Finding(category: .weapon, description: "hunting rifle", quantity: 1, hs: "9303", declared: true, concealed: false)],
                after: seconds(sim.uniform(300...1800)))
            variant = nearMiss ? "declared-valid-permit" : "declared-expired-permit"
        } else {
            let ammunition = sim.rng.chance(0.4)
            trip.inspection = Trip.InspectionPlan(
                method: sim.rng.pick([.xray, .manual]),
                findings: [
                    Finding(
                        category: ammunition ? .ammunition : .weapon, description: ammunition ? "9x18 cartridges" : "pistol",
                        quantity: ammunition ? Double(20 + sim.rng.below(400)) : 1, unit: "pcs", declared: false,
                        concealed: sim.rng.chance(0.6))
                ], after: seconds(sim.uniform(300...1800)))
            variant = ammunition ? "undeclared-ammunition" : "undeclared-weapon"
        }
        sim.plant([(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)], variant: variant, at: time)
    }
}

struct WeaponsRepeatMovement: IncidentPlanter {
    let rule = "weapons.repeat-movement"

    /// As many trips the same way with declared, permitted arms as the rule counts in its window
    /// (by default 3 in 30 days); a near miss makes one fewer.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard let figures = sim.figures[rule], let window = figures.window,
            let count = figures.distinct?.least ?? figures.count?.least
        else { return }
        let trips = max(0, nearMiss ? count - 1 : count)
        let gaps = spacing(count, within: window, usual: 18 * 3600...40 * 3600)
        let (persons, vehicle, keyType, key) = sim.suspect([.van, .car])
        let pair = sim.rng.pick(sim.geography.pairs)
        let outbound = sim.rng.chance(0.5)
        let permit = Permit(id: sim.ids.permit("ARMS"), type: .weapon, validUntil: sim.validUntil(days: 365, from: time), covers: ["93"])
        var planned: [(trip: Trip, after: Int64)] = []
        var offset: Int64 = 0
        for _ in 0..<trips {
            var trip = sim.incidentTrip(persons, vehicle, pair: pair, outbound: outbound)
            trip.goods = [
                Goods(hs: "9303", description: "sporting rifles", quantity: Double(2 + sim.rng.below(6)), unit: "pcs", weightKg: 20, valueUsd: sim.uniform(3000...9000).rounded()),
                Goods(hs: "9306", description: "cartridges", quantity: Double(500 + sim.rng.below(2000)), unit: "pcs", weightKg: 15, valueUsd: sim.uniform(300...900).rounded()),
            ]
            trip.permits = [permit]
            planned.append((trip, offset))
            sim.returnTrip(trip, at: time + offset + seconds(sim.uniform(3 * 3600...8 * 3600)))
            offset += seconds(sim.uniform(gaps))
        }
        sim.plant(
            planned, expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)],
            variant: "\(spelled(trips))-trips-with-arms", at: time)
    }
}

struct MissingCounterpart: IncidentPlanter {
    let rule = "crossing.missing-counterpart"

    /// An exit never followed by an entry at the facing checkpoint; a near miss arrives 24 to 60
    /// minutes before the rule's `within` (by default 6 hours) runs out.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard let within = sim.figures[rule]?.within, !nearMiss || within >= 2 * hour else { return }
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .truck, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        if nearMiss {
            let deadline = Double(within / nanosPerSecond)
            trip.travel = seconds(sim.uniform(deadline - 3600...deadline - 1440))
        } else {
            trip.arrives = false
        }
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)],
            variant: nearMiss ? "late-arrival" : "never-arrived", at: time, absence: nearMiss ? nil : within)
    }
}

struct UndeclaredGoods: IncidentPlanter {
    let rule = "contraband.undeclared-goods"

    /// Contraband found undeclared; the near miss is the same kind of goods found where the declaration lists it.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .truck, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        let (category, description, hs) = sim.rng.pick(Catalog.contraband)
        let weight = (sim.uniform(vehicle?.type == .truck ? 200...3000 : 2...60) * 10).rounded() / 10
        if nearMiss {
            trip.goods = [Goods(hs: hs, description: description, weightKg: weight, valueUsd: sim.uniform(1500...5000).rounded())]
        }
        trip.inspection = Trip.InspectionPlan(
            method: sim.rng.pick([.xray, .manual]),
            findings: [Finding(category: category, description: description, weightKg: weight, hs: hs, declared: nearMiss, concealed: !nearMiss && sim.rng.chance(0.5))],
            after: seconds(sim.uniform(300...1800)))
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)],
            variant: nearMiss ? "declared-goods-found" : "undeclared-\(category.rawValue)", at: time)
    }
}

struct WeightMismatch: IncidentPlanter {
    let rule = "contraband.weight-mismatch"

    /// Measured gross off the declaration by more than the rule's share and weight (by default 5 % and
    /// 500 kg); near misses: a heavy truck 0.5–2 points under the share, or a light van 3–7 points
    /// over it but under the weight.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard let figures = sim.figures[rule], let percent = figures.lowerBound("crossing.vehicle.weightDifferencePercent")?.value
        else { return }
        let kg = figures.lowerBound("crossing.vehicle.weightDifferenceKg")?.value ?? 0
        let van = nearMiss && sim.rng.chance(0.5)
        let (persons, vehicle) = sim.travellers(van ? .van : .truck)
        let declared = vehicle?.declaredWeightKg ?? 20000
        let low: Double
        let high: Double
        if van {
            (low, high) = ((percent + 3) / 100, min((percent + 7) / 100, (kg - 50) / declared))
        } else if nearMiss {
            (low, high) = (max(0, percent - 2) / 100, (percent - 0.5) / 100)
        } else {
            // At least 300 kg over the rule's weight, also on the lightest trucks.
            low = max((percent + 2) / 100, (kg + 300) / declared)
            high = max((percent + 15) / 100, low + 0.05)
        }
        guard low >= 0, low < high else { return }
        let share = sim.uniform(low...high)
        var trip = sim.incidentTrip(persons, vehicle)
        trip.goods = sim.freight(grossKg: declared, origin: trip.pair.from(outbound: trip.outbound).country)
        trip.measuredAtEntry = (declared * (1 + (sim.rng.chance(0.7) ? share : -share))).rounded()
        let plate = vehicle?.plate ?? ""
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "plate", keyValue: plate)],
            variant: (van ? "light-van-over-" : nearMiss ? "under-" : "over-") + "\(shown(percent))-percent", at: time)
    }
}

struct Structuring: IncidentPlanter {
    let rule = "contraband.structuring"

    /// As many trips the same way as the rule counts in its window (by default 4 in 7 days), each
    /// declared under the duty-free value (1000 USD) but together over the sum (3000 USD). Near
    /// misses: one trip fewer, or all of them with a total under the sum.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard let figures = sim.figures[rule], let window = figures.window, let count = figures.count?.least, count > 0,
            let dutyFree = figures.upperBound("crossing.goods.valueUsd")?.value
        else { return }
        let sum = figures.sum?.value
        // Each declaration stays 1 % under the duty-free value and carries its share of the sum with 1 % to spare
        // (a near miss: 5 % short of it).
        let over = (low: max(0.76 * dutyFree, 1.01 * (sum ?? 0) / Double(count)), high: 0.99 * dutyFree)
        let underHigh = min(0.7 * dutyFree, 0.95 * (sum ?? 0) / Double(count))
        let under = (low: 0.45 * dutyFree < underHigh ? 0.45 * dutyFree : underHigh / 2, high: underHigh)
        guard over.low < over.high else { return }
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .van, .pedestrian])
        let pair = sim.rng.pick(sim.geography.pairs)
        let outbound = sim.rng.chance(0.5)
        // Without a sum to stay under, a near miss can only be a trip short.
        let fewer = nearMiss && (sim.rng.chance(0.5) || sum == nil)
        let values = nearMiss && !fewer ? under.low...under.high : over.low...over.high
        let gaps = spacing(count, within: window, usual: 10 * 3600...30 * 3600)
        let legs = fewer ? count - 1 : count
        var trips: [(trip: Trip, after: Int64)] = []
        var offset: Int64 = 0
        for _ in 0..<legs {
            var trip = sim.incidentTrip(persons, vehicle, pair: pair, outbound: outbound)
            let item = sim.rng.pick(Catalog.personal)
            trip.goods = [Goods(hs: item.hs, description: item.description, weightKg: Double(5 + sim.rng.below(30)), valueUsd: sim.uniform(values).rounded(), origin: pair.from(outbound: outbound).country)]
            trips.append((trip, offset))
            sim.returnTrip(trip, at: time + offset + seconds(sim.uniform(2 * 3600...6 * 3600)))
            offset += seconds(sim.uniform(gaps))
        }
        sim.plant(
            trips, expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)],
            variant: "\(spelled(legs))-trips-" + (nearMiss && !fewer ? "small-total" : "under-duty-free"), at: time)
    }
}

struct NarcoticsSeizure: IncidentPlanter {
    let rule = "narcotics.seizure"

    /// Narcotics or precursors found, often concealed under masking cargo; the near miss is an
    /// ordinary declared medicine found on inspection.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .truck, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        var findings: [Finding]
        let variant: String
        if nearMiss {
            let substance = sim.rng.pick(Catalog.ordinaryMedicines)
            trip.goods = [Goods(hs: "3004", description: "medicaments", quantity: Double(1 + sim.rng.below(10)), unit: "packs", valueUsd: sim.uniform(10...200).rounded(), substance: substance)]
            findings = [Finding(category: .other, description: "medicaments", substance: substance, hs: "3004", declared: true, concealed: false)]
            variant = "declared-ordinary-medicine"
        } else if sim.rng.chance(0.25) {
            findings = [Finding(category: .precursor, substance: sim.rng.pick(Catalog.precursors), weightKg: (sim.uniform(5...200) * 10).rounded() / 10, declared: false, concealed: sim.rng.chance(0.5))]
            variant = "precursor"
        } else {
            let canine = sim.rng.chance(0.4)
            findings = [Finding(category: .narcotic, substance: sim.rng.pick(Catalog.narcotics), weightKg: (sim.uniform(0.2...40) * 10).rounded() / 10, declared: false, concealed: true, canineAlert: canine ? true : nil)]
            if sim.rng.chance(0.5) { findings.append(Finding(category: .maskingAgent, description: "ground coffee around the cavity")) }
            variant = "narcotic-concealed"
        }
        trip.inspection = Trip.InspectionPlan(method: sim.rng.pick([.xray, .canine, .manual]), findings: findings, after: seconds(sim.uniform(300...2400)))
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)], variant: variant, at: time)
    }
}

struct ConcealmentIndicators: IncidentPlanter {
    let rule = "narcotics.concealment-indicators"

    /// A canine indication or a masking agent with nothing narcotic found; the near miss is a canine
    /// search without an indication.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .truck, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        let findings: [Finding]
        let variant: String
        if nearMiss {
            trip.goods = [sim.goods(sim.rng.pick(Catalog.personal), origin: trip.pair.from(outbound: trip.outbound).country)]
            findings = [Finding(category: .food, description: "declared food", declared: true, concealed: false, canineAlert: false)]
            variant = "canine-no-indication"
        } else if sim.rng.chance(0.5) {
            findings = [Finding(category: .other, description: "canine indication at the fuel tank, nothing found", canineAlert: true)]
            variant = "canine-alert-nothing-found"
        } else {
            findings = [Finding(category: .maskingAgent, description: "pepper and coffee packed around an empty cavity", concealed: true)]
            variant = "masking-agent"
        }
        trip.inspection = Trip.InspectionPlan(
            method: nearMiss || variant.hasPrefix("canine") ? .canine : .xray, findings: findings, after: seconds(sim.uniform(300...2400)))
        sim.plant(
            [(trip, 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)], variant: variant, at: time)
    }
}

struct ControlledSubstance: IncidentPlanter {
    let rule = "psychotropics.controlled-substance"

    /// A controlled substance declared as a medicine, or found undeclared (which is also a seizure);
    /// the near miss declares a medicine whose substance is not controlled.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let (persons, vehicle, keyType, key) = sim.suspect([.car, .van, .pedestrian])
        var trip = sim.incidentTrip(persons, vehicle)
        var expect = [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: key)]
        let variant: String
        if nearMiss || sim.rng.chance(0.5) {
            let substance = nearMiss ? sim.rng.pick(Catalog.ordinaryMedicines) : sim.rng.pick(Catalog.controlledSubstances)
            trip.goods = [Goods(hs: "3004", description: "medicaments", quantity: Double(2 + sim.rng.below(40)), unit: "packs", valueUsd: sim.uniform(20...400).rounded(), substance: substance)]
            variant = nearMiss ? "declared-ordinary-medicine" : "declared-controlled"
        } else {
            trip.inspection = Trip.InspectionPlan(
                method: sim.rng.pick([.xray, .manual]),
                findings: [Finding(category: .psychotropic, substance: sim.rng.pick(Catalog.controlledSubstances), quantity: Double(50 + sim.rng.below(2000)), unit: "tablets", weightKg: (sim.uniform(0.05...5) * 100).rounded() / 100, declared: false, concealed: sim.rng.chance(0.5))],
                after: seconds(sim.uniform(300...1800)))
            expect.append(Expectation(rule: "narcotics.seizure", fire: true, keyType: keyType, keyValue: key))
            variant = "found-undeclared"
        }
        sim.plant([(trip, 0)], expect: expect, variant: variant, at: time)
    }
}

struct CapacityOverload: IncidentPlanter {
    let rule = "capacity.overload"

    /// A rush of 3 to 8 crossings more than the rule allows (by default the geography's capacity per
    /// 15 minutes) in 8/15 of its window, that bypasses the checkpoint queue; the near miss is a rush of
    /// exactly the allowance through the queue, which fills the window to the limit.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        // The queues follow the rule's limit only when it reads as a number or the capacity.
        guard let figures = sim.figures[rule], let window = figures.window, figures.count?.most(capacity: 0) != nil else { return }
        let candidates = sim.geography.pairs.flatMap { pair in [(pair, true), (pair, false)] }.filter { pair, outbound in
            let side = pair.from(outbound: outbound)
            return side.queue != nil && sim.isFree(rule, side.id, at: time)
        }
        guard !candidates.isEmpty else { return }
        let (pair, outbound) = sim.rng.pick(candidates)
        let side = pair.from(outbound: outbound)
        let capacity = side.queue.map { sim.queues[$0].capacity } ?? 0
        let rush = Double(window / nanosPerSecond) * 8 / 15
        sim.claim(rule, side.id, at: time, for: max(2 * hour, 3 * window))
        var trips: [(trip: Trip, after: Int64)] = []
        for _ in 0..<(nearMiss ? capacity : capacity + 3 + sim.rng.below(6)) {
            let (persons, vehicle) = sim.travellers(sim.rng.pick([.car, .pedestrian, .pedestrian]))
            var trip = sim.incidentTrip(persons, vehicle, pair: pair, outbound: outbound)
            trip.travel = seconds(sim.uniform(1200...3600))
            trip.throttled = nearMiss
            trips.append((trip, seconds(sim.uniform(0...rush))))
        }
        sim.plant(
            trips, expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "checkpoint", keyValue: side.id)],
            variant: nearMiss ? "rush-at-capacity" : "rush-over-capacity", at: time)
    }
}
