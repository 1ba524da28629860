import KordonEngine
import KordonEvents

// Planters for rules about who crosses: held documents, officers, documents seen twice, watchlists.

struct TraffickingIndicators: IncidentPlanter {
    let rule = "trafficking.indicators"

    /// One adult, the driver or an escorting passenger, holds the documents of as many other adults
    /// as the rule counts (by default 3), or up to two more, in a car, van or bus. Near misses: a parent
    /// holding their 2–4 children's documents (normal, never counted), or an adult holding one fewer.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        guard let held = sim.figures[rule]?.lowerBound("crossing.docsHeld.max")?.least else { return }
        var (persons, vehicle) = sim.travellers(sim.rng.pick([.car, .van, .bus]))
        var holder = persons[0]
        if !nearMiss, sim.rng.chance(0.4) {
            holder = Person(doc: sim.ids.doc(), role: .passenger)
            persons.append(holder)
        }
        let variant: String
        if nearMiss, held < 2 || sim.rng.chance(0.5) {
            for _ in 0..<(2 + sim.rng.below(3)) { persons.append(Person(doc: sim.ids.doc(), role: .passenger, minor: true, docHolder: holder.doc)) }
            variant = "parent-holds-minors-documents"
        } else {
            for _ in 0..<(nearMiss ? held - 1 : max(held, 1) + sim.rng.below(3)) {
                persons.append(Person(doc: sim.ids.doc(), role: .passenger, docHolder: holder.doc))
            }
            variant = nearMiss ? "holds-\(spelled(held - 1))-adults-documents" : holder.role == .driver ? "driver-holds-adults-documents" : "escort-holds-adults-documents"
        }
        sim.plant(
            [(sim.incidentTrip(persons, vehicle), 0)], expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "doc", keyValue: holder.doc)],
            variant: variant, at: time)
    }
}

struct ReleaseAnomaly: IncidentPlanter {
    let rule = "integrity.release-anomaly"

    /// One exit officer releases as many travellers over a few days as the rule counts in its window
    /// (by default 3 in 30 days) whom the entry side's inspection then finds carrying narcotics, an
    /// undeclared weapon or undeclared goods, each of which also fires its own rule; the near miss
    /// releases one fewer. The officer is reserved around the pattern, so the background rotation
    /// adds no release to it. Each trip is an incident of its own within the pattern, labelled as soon
    /// as it is complete, since its find alerts whether or not the stream runs until the last release.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        // A trip's entry and inspection follow its exit within two hours, which `followedBy` must allow.
        guard let figures = sim.figures[rule], let window = figures.window, let count = figures.count?.least, count >= 2,
            let follow = figures.within, follow >= 2 * hour, !sim.geography.pairs.isEmpty
        else { return }
        let releases = nearMiss ? count - 1 : count
        let gaps = spacing(count, within: window, usual: 4 * 3600...30 * 3600)
        let pair = sim.rng.pick(sim.geography.pairs)
        let outbound = sim.rng.chance(0.5)
        var offsets: [Int64] = [0]
        for _ in 1..<releases { offsets.append(offsets[offsets.count - 1] + seconds(sim.uniform(gaps))) }
        guard sim.completes(by: time + offsets[offsets.count - 1] + 2 * hour) else { return }
        let officer = sim.reserveOfficer(pair.from(outbound: outbound), for: offsets.map { time + $0 }, span: window + day)
        let pattern = sim.reserveIncident()
        var events: [String] = []
        for offset in offsets {
            let (persons, vehicle, keyType, key) = sim.suspect([.car, .van, .truck, .pedestrian])
            var trip = sim.incidentTrip(persons, vehicle, pair: pair, outbound: outbound)
            trip.exitOfficer = officer
            let finding: Finding
            let found: String
            switch sim.rng.below(3) {
            case 0:
                finding = Finding(category: .narcotic, substance: sim.rng.pick(Catalog.narcotics), weightKg: (sim.uniform(0.5...20) * 10).rounded() / 10, declared: false, concealed: true)
                found = "narcotics.seizure"
            case 1:
                finding = Finding(category: .weapon, description: "pistol", quantity: 1, unit: "pcs", declared: false, concealed: true)
                found = "weapons.undeclared"
            default:
                let (category, description, hs) = sim.rng.pick(Catalog.contraband)
                finding = Finding(category: category, description: description, weightKg: (sim.uniform(2...60) * 10).rounded() / 10, hs: hs, declared: false, concealed: sim.rng.chance(0.5))
                found = "contraband.undeclared-goods"
            }
            trip.inspection = Trip.InspectionPlan(method: sim.rng.pick([.xray, .manual]), findings: [finding], after: seconds(sim.uniform(300...1800)))
            events += sim.plant(
                [(trip, offset)], expect: [Expectation(rule: found, fire: true, keyType: keyType, keyValue: key)],
                variant: "released-then-found", at: time, within: pattern)
        }
        let label = Label(
            incident: sim.incidentName(pattern), rule: rule, fire: !nearMiss, keyType: "officer", keyValue: officer,
            variant: "\(spelled(releases))-releases-found", events: events)
        sim.commitIncident(pattern, events: events.count, labels: [label], absence: nil)
    }
}

struct ImpossibleTravel: IncidentPlanter {
    let rule = "documents.impossible-travel"

    /// A document crosses at one checkpoint pair and, in another vehicle, at another pair sooner
    /// than 0.4 × the distance at the rule's speed (by default over 200 km/h; even a 15-minute queue
    /// leaves it over 260 km/h). The near miss is the same traveller driving on at a quarter to
    /// 45 % of that speed.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let pairs = sim.geography.pairs
        guard let figures = sim.figures[rule], let speed = figures.speed?.value, speed > 0, let within = figures.within,
            pairs.count >= 2
        else { return }
        let first = sim.rng.below(pairs.count)
        let second = (first + 1 + sim.rng.below(pairs.count - 1)) % pairs.count
        let outbound = sim.rng.chance(0.5)
        let km = greatCircleKm(pairs[first].to(outbound: outbound).position, pairs[second].from(outbound: !outbound).position)
        let pedestrian = sim.rng.chance(0.4)
        let person = Person(doc: sim.ids.doc(), role: pedestrian ? .pedestrian : .driver)
        let car = pedestrian ? nil : Vehicle(plate: sim.ids.plate(), type: .car)
        let trip = sim.incidentTrip([person], car, pair: pairs[first], outbound: outbound)
        let clone = pedestrian || nearMiss ? car : Vehicle(plate: sim.ids.plate(), type: .car)
        let after =
            nearMiss
            ? trip.travel + seconds(km / sim.uniform(0.25 * speed...0.45 * speed) * 3600) + 20 * minute
            : seconds(km / speed * 3600 * sim.uniform(0.1...0.4))
        // The rule compares sightings at most `within` apart; an hour covers the queues.
        guard nearMiss || after + hour < within else { return }
        sim.plant(
            [(trip, 0), (sim.incidentTrip([person], clone, pair: pairs[second], outbound: !outbound), after)],
            expect: [Expectation(rule: rule, fire: !nearMiss, keyType: "doc", keyValue: person.doc)],
            variant: nearMiss ? "plausible-travel" : "cloned-document", at: time)
    }
}

struct WatchlistHit: IncidentPlanter {
    let rule = "watchlist.hit"

    /// A car with a plate, or a traveller with a document, from the rulebook's watchlists crosses.
    /// Each identifier keeps to one checkpoint pair (two listed ones may share a near miss), so its
    /// repeats never look like impossible travel. The near miss carries an identifier one character off a listed one.
    func plant(in sim: inout Simulator, nearMiss: Bool, at time: Int64) {
        let listed = sim.watchlisted.plates.map { ("plate", $0) } + sim.watchlisted.docs.map { ("doc", $0) }
        guard !listed.isEmpty, !sim.geography.pairs.isEmpty else { return }
        let (keyType, entry) = sim.rng.pick(listed)
        guard let identifier = nearMiss ? Self.similar(to: entry, avoiding: Set(listed.map(\.1))) : entry,
            sim.isFree(rule, identifier, at: time)
        else { return }
        sim.claim(rule, identifier, at: time, for: 4 * hour)
        let pair = sim.geography.pairs[identifier.hashValueStable % sim.geography.pairs.count]
        var persons: [Person]
        var vehicle: Vehicle?
        if keyType == "plate" {
            (persons, vehicle) = sim.travellers(.car)
            vehicle?.plate = identifier
        } else {
            let walks = sim.rng.chance(0.5)
            persons = [Person(doc: identifier, role: walks ? .pedestrian : .driver)]
            vehicle = walks ? nil : Vehicle(plate: sim.ids.plate(), type: .car)
        }
        sim.plant(
            [(sim.incidentTrip(persons, vehicle, pair: pair), 0)],
            expect: [Expectation(rule: rule, fire: !nearMiss, keyType: keyType, keyValue: identifier)],
            variant: nearMiss ? "similar-\(keyType)" : "listed-\(keyType)", at: time)
    }

    /// `entry` with its last character changed so that it matches no listed identifier.
    static func similar(to entry: String, avoiding listed: Set<String>) -> String? {
        guard let last = entry.last else { return nil }
        let alphabet = Array(last.isNumber ? "0123456789" : "ABCDEFGHJKLMNPQRSTUVWXYZ")
        let start = alphabet.firstIndex(of: last) ?? 0
        for step in 1..<alphabet.count {
            let candidate = String(entry.dropLast()) + String(alphabet[(start + step) % alphabet.count])
            if !listed.contains(candidate) { return candidate }
        }
        return nil
    }
}
