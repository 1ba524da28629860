import Foundation
import KordonEngine
import KordonEvents
import Testing

@testable import KordonSimulator

@Suite struct SimulatorTests {
    @Test func theSameSeedGivesTheSameStreamByteForByte() {
        let configure: (inout SimulationOptions) -> Void = { options in
            options.seed = 42
            options.duration = 12 * 3600 * nanosPerSecond
            options.lateFraction = 0.1
            options.duplicateFraction = 0.1
            options.invalidFraction = 0.1
        }
        let first = simulate(configure)
        let second = simulate(configure)
        let other = simulate { options in
            configure(&options)
            options.seed = 43
        }
        #expect(first.lines.count > 1000)
        #expect(first.bytes == second.bytes)
        #expect(first.labels == second.labels)
        #expect(first.bytes != other.bytes)
    }

    @Test func everyEventIsValidAndCanonicalAndEveryMalformedMessageIsRejected() {
        let decoder = EventDecoder()
        let writer = EventWriter()
        var counts: [Emitted: Int] = [:]
        for (emitted, line) in faultyWeek.lines {
            counts[emitted, default: 0] += 1
            #expect(line.last == 0x0A && line.dropLast().allSatisfy { $0 != 0x0A })
            switch decoder.decode(Array(line.dropLast())) {
            case .success(let event):
                #expect(emitted != .invalid, "accepted a malformed message: \(String(decoding: line, as: UTF8.self))")
                // Canonical: writing the decoded event again gives the same bytes.
                #expect(writer.line(event) == line)
            case .failure(let rejection):
                #expect(emitted == .invalid, "\(rejection): \(String(decoding: line, as: UTF8.self))")
            }
        }
        #expect((counts[.event(late: false)] ?? 0) > 10_000)
        #expect((counts[.event(late: true)] ?? 0) > 100)
        #expect((counts[.duplicate] ?? 0) > 100)
        #expect((counts[.invalid] ?? 0) > 100)
    }

    @Test func eventsCoverEveryKindModeAndCheckpointPair() throws {
        let decoder = EventDecoder()
        var kinds = Set<EventKind>()
        var vehicleTypes = Set<VehicleType>()
        var checkpoints = Set<String>()
        var pedestrians = 0
        for (emitted, line) in faultyWeek.lines where emitted != .invalid {
            let event = try decoder.decode(Array(line.dropLast())).get()
            kinds.insert(event.kind)
            if case .crossing(let crossing) = event.body {
                checkpoints.insert(crossing.checkpoint)
                if let type = crossing.vehicle?.type { vehicleTypes.insert(type) } else { pedestrians += 1 }
            }
        }
        #expect(kinds == Set(EventKind.allCases))
        #expect(vehicleTypes == [.truck, .van, .car, .bus, .rail])
        #expect(pedestrians > 0)
        #expect(checkpoints == Set(shippedConfig.geography.checkpoints.keys))
    }

    @Test func everyPlantedRuleHasIncidentsAndNearMissesAndExistsInTheRulebook() {
        let rulebook = Set(shippedConfig.rulebook.rules.map(\.id))
        for rule in Planters.rules {
            #expect(rulebook.contains(rule), "\(rule) is not in config/rules.yaml")
            let labels = faultyWeek.labels.filter { $0.rule == rule }
            #expect(labels.contains { $0.fire }, "no incident of \(rule)")
            #expect(labels.contains { !$0.fire }, "no near miss of \(rule)")
        }
        for label in faultyWeek.labels {
            #expect(!label.events.isEmpty && label.from <= label.until)
        }
    }

    @Test func patrolAndSensorEventsCarryTheSectorZoneOfTheirPosition() throws {
        let decoder = EventDecoder()
        var seen = 0
        for (emitted, line) in faultyWeek.lines where emitted != .invalid {
            let event = try decoder.decode(Array(line.dropLast())).get()
            let (sector, position): (String?, Position)
            switch event.body {
            case .patrol(let patrol): (sector, position) = (patrol.sector, patrol.position)
            case .sensor(let sensor): (sector, position) = (sensor.sector, sensor.position)
            default: continue
            }
            seen += 1
            #expect(sector != nil && sector == shippedConfig.geography.zone(.sector, containing: position)?.id, "\(event.id)")
        }
        #expect(seen > 1000)
    }

    @Test func poachingIsPlantedOnlyInTheClosedSeason() throws {
        let zone = try #require(shippedConfig.geography.zones.first { $0.type == .fishing })
        let labels = faultyWeek.labels.filter { $0.rule == "poaching.restricted-zone" }
        for label in labels where label.fire {
            #expect(zone.isClosed(at: label.from) && zone.isClosed(at: label.until), "\(label.variant) at \(label.from)")
        }
        // In December every poaching incident asked for becomes a near miss.
        let december = simulate { options in
            options.duration = 2 * 86_400 * nanosPerSecond
            options.trafficScale = 0
            options.mix = ["poaching.restricted-zone": 1]
        }
        #expect(!december.labels.isEmpty && december.labels.allSatisfy { !$0.fire && $0.rule == "poaching.restricted-zone" })
        #expect(december.labels.contains { $0.variant.hasSuffix("out-of-season") })
    }

    @Test func watchlistIncidentsUseTheConfiguredListsAndNearMissesAnIdentifierOneCharacterOff() throws {
        let list = try #require(shippedConfig.rulebook.watchlists["wanted"])
        let labels = faultyWeek.labels.filter { $0.rule == "watchlist.hit" }
        for label in labels {
            let listed = list.plates.contains(label.keyValue) || list.docs.contains(label.keyValue)
            #expect(listed == label.fire, "\(label.keyValue)")
            if !label.fire {
                let near = (label.keyType == "plate" ? list.plates : list.docs).contains {
                    $0.count == label.keyValue.count && zip($0, label.keyValue).filter { $0 != $1 }.count == 1
                }
                #expect(near, "\(label.keyValue)")
            }
        }
        #expect(WatchlistHit.similar(to: "TEST0000001", avoiding: ["TEST0000001", "TEST0000002"]) == "TEST0000003")
    }

    @Test func eventsOptionCountsGeneratedEvents() {
        let stream = simulate { options in
            options.events = 5000
            options.duplicateFraction = 0.1
            options.invalidFraction = 0.1
            options.lateFraction = 0.1
        }
        #expect(stream.lines.filter { if case .event = $0.emitted { true } else { false } }.count == 5000)
        #expect(stream.lines.count > 5000)
    }

    @Test func labelsRoundTripThroughTheirJSONLine() throws {
        for label in faultyWeek.labels.prefix(50) {
            let line = String(decoding: label.jsonLine().dropLast(), as: UTF8.self)
            #expect(try Label(jsonLine: line) == label)
        }
    }
}
