import KordonEvents
import Testing

@testable import KordonEngine

@Suite struct EngineTests {
    /// One match rule: heavy trucks, keyed by plate, suppressed for 1h after an alert.
    static let matchRule = """
        rules:
          - id: contraband.weight-mismatch
            category: contraband
            severity: medium
            kind: match
            on: crossing
            key: plate
            title: "t"
            when:
              crossing.vehicle.plate: {exists: true}
        """

    static let windowRule = """
        rules:
          - id: capacity.overload
            category: capacity
            severity: low
            kind: window
            on: crossing
            key: checkpoint
            window: 15m
            title: "over"
            fire:
              count: {gt: 3}
        """

    @Test func eventsBehindTheWatermarkAreLateAndCounted() throws {
        var harness = try Harness(rules: Self.matchRule)
        harness.feed([
            crossing("a", minute: 0, plate: "P1"),
            crossing("b", minute: 30, plate: "P2"),  // watermark: 20 min
            crossing("c", minute: 21, plate: "P3"),  // within lateness
            crossing("d", minute: 19.9, plate: "P4"),  // late
        ])
        #expect(harness.admissions[2] == .accepted)
        #expect(harness.admissions[3] == .late(watermark: at(minutes: 20)))
        harness.finish()
        #expect(harness.engine.stats.late == 1)
        #expect(harness.engine.stats.lateByInput[InputID(topic: "test", partition: 0)] == 1)
        #expect(harness.alerts.map(\.key.value) == ["P1", "P3", "P2"])
    }

    @Test func watermarkIsTheSlowestInput() throws {
        var harness = try Harness(rules: Self.matchRule)
        harness.engine.register(InputID(topic: "slow", partition: 0))
        harness.feed([crossing("a", minute: 0, plate: "P1"), crossing("b", minute: 60, plate: "P2")], topic: "fast")
        #expect(harness.alerts.isEmpty)  // "slow" has not spoken: nothing is released
        harness.feed([crossing("c", minute: 5, plate: "P3")], topic: "slow")
        #expect(harness.admissions[2] == .accepted)
        harness.feed([crossing("d", minute: 40, plate: "P4")], topic: "slow")  // watermark: min(50, 30) = 30
        #expect(harness.alerts.map(\.key.value) == ["P1", "P3"])
    }

    /// The engine keeps the slowest input between events rather than scanning them all: after every event
    /// and idleness change (of one input or several at once), over inputs that overtake one another, its
    /// watermark must be the one worked out from scratch.
    @Test func watermarkFollowsTheSlowestInputAsItChangesHands() throws {
        var harness = try Harness(rules: Self.matchRule)
        let inputs = (0..<4).map { InputID(topic: "t\($0 % 2)", partition: Int32($0)) }
        var newest = [Int64?](repeating: nil, count: inputs.count)
        var idle = Set<Int>()
        var generator = SplitMix(seed: 11)
        var minute = [Double](repeating: 0, count: inputs.count)
        var expected = Int64.min
        for step in 0..<400 {
            let input = Int(generator.next() % UInt64(inputs.count))
            if generator.unit() < 0.1 {
                // One input, or several in one call as the daemon marks the partitions it has caught up on.
                let marked = inputs.indices.filter { $0 == input || generator.unit() < 0.3 }
                if marked.count == 1 {
                    harness.engine.markIdle(inputs[input], into: &harness.alerts)
                } else {
                    harness.engine.markIdle(marked.map { inputs[$0] }, into: &harness.alerts)
                }
                for index in marked where newest[index] != nil { idle.insert(index) }
            } else {
                // Each input moves on at its own pace, so which one is slowest keeps changing.
                minute[input] += generator.unit() * Double(input + 1) * 3
                let event = crossing("w\(step)", minute: minute[input], plate: "P\(step)")
                let origin = EventOrigin(topic: inputs[input].topic, partition: inputs[input].partition, offset: Int64(step))
                harness.feed([(event, origin)])
                // Any event makes its input active again; only an accepted one moves its time.
                idle.remove(input)
                if harness.admissions.last == .accepted {
                    newest[input] = max(newest[input] ?? .min, event.time.nanosecondsSinceEpoch)
                }
            }
            let heard = newest.indices.filter { newest[$0] != nil }
            let active = heard.filter { !idle.contains($0) }
            let bound = active.isEmpty ? heard.compactMap { newest[$0] }.max() : active.compactMap { newest[$0] }.min()
            if let bound { expected = max(expected, bound - EngineSettings.defaultLateness) }
            #expect(harness.engine.watermark == expected, "step \(step)")
        }
    }

    @Test func redeliveredIdsNeverCountTwice() throws {
        var harness = try Harness(rules: Self.matchRule)
        let first = crossing("a", minute: 0, plate: "P1")
        harness.feed([first, first, crossing("b", minute: 30, plate: "P2"), first])
        #expect(harness.admissions == [.accepted, .duplicate, .accepted, .duplicate])
        harness.finish()
        #expect(harness.engine.stats.duplicates == 2)
        #expect(harness.alerts(of: "contraband.weight-mismatch").count == 2)
    }

    /// Crossings and inspections at checkpoints the geography does not list are counted, each event once.
    @Test func unknownCheckpointsAreCounted() throws {
        var harness = Harness(config: try shippedConfig())
        harness.feed([
            crossing("c1", minute: 0, checkpoint: "KZ-PETROPAVL-1"),
            crossing("c2", minute: 1, checkpoint: "XX-NOWHERE"),
            inspection("i1", minute: 2, of: "c2", findings: "[]", checkpoint: "XX-NOWHERE"),
            inspection("i2", minute: 3, of: "c1", findings: "[]"),
            crossing("c3", minute: 4, checkpoint: "XX-ELSEWHERE"),
        ])
        harness.finish()
        #expect(harness.engine.stats.unknownCheckpoints == 3)
    }

    @Test func rememberedIdsAreForgottenBehindTheHorizon() throws {
        var harness = try Harness(rules: Self.matchRule)
        // Horizon: the 1h suppression (longer than the 10 min lateness).
        harness.feed((0..<300).map { crossing("e\($0)", minute: Double($0), plate: "P\($0)") })
        let footprint = harness.engine.footprint
        #expect(footprint.rememberedIds <= 60 + 10 + 2)
        #expect(footprint.suppressionKeys <= 2 * 70)
    }

    @Test func suppressedMatchesAreCarriedByTheNextAlert() throws {
        var harness = try Harness(rules: Self.matchRule)
        harness.feed([
            crossing("a", minute: 0), crossing("b", minute: 10), crossing("c", minute: 59),
            crossing("d", minute: 60), crossing("e", minute: 61),
        ])
        harness.finish()
        #expect(harness.alerts.map(\.suppressed) == [0, 2])
        #expect(harness.alerts.map { $0.evidence[0].id } == ["a", "d"])
    }

    @Test func slidingWindowFiresOncePerWindowAndFreesKeys() throws {
        var harness = try Harness(rules: Self.windowRule)
        let minutes: [Double] = [0, 5, 10, 14.9, 15, 16, 40, 41, 42, 43.5, 60]
        harness.feed(minutes.enumerated().map { crossing("c\($0.offset)", minute: $0.element, plate: "P\($0.offset)") })
        harness.feed([crossing("tick", minute: 200, checkpoint: "OTHER")])
        // Once the watermark passes every entry of a key by the window, the key is freed.
        #expect(harness.engine.footprint.windowKeys == 0)
        #expect(harness.engine.footprint.windowEntries == 0)
        let alerts = harness.alerts
        // 0, 5, 10, 14.9 → 4 in (−0.1, 14.9]; 15 and 16 are suppressed; 40–43.5 → 4 again after the suppression.
        #expect(alerts.count == 2)
        #expect(alerts[0].evidence.map(\.id) == ["c0", "c1", "c2", "c3"])
        #expect(alerts[0].facts.first { $0.name == "count" }?.value == .number(4))
        #expect(alerts[1].evidence.map(\.id) == ["c6", "c7", "c8", "c9"])
        #expect(alerts[1].suppressed == 2)
        // 0 and 15 are not both in one 15-minute window (t − 15m, t].
        var edge = try Harness(rules: Self.windowRule)
        edge.feed([0, 15, 20, 25].enumerated().map { crossing("x\($0.offset)", minute: $0.element) })
        edge.finish()
        #expect(edge.alerts.isEmpty)
    }

    static let absenceRule = """
        rules:
          - id: crossing.missing-counterpart
            category: illegal-crossing
            severity: medium
            kind: absence
            on: crossing
            key: [plate, doc]
            within: 6h
            title: "t"
            when:
              crossing.direction: exit
              crossing.paired: {exists: true}
            expect:
              on: crossing
              when:
                crossing.direction: entry
              correlate:
                crossing.checkpoint: crossing.paired
        """

    static let pair = Geography(checkpoints: [
        .init(id: "KZ-A", name: "A", country: "KZ", position: Position(lat: 54, lon: 68), paired: "RU-A"),
        .init(id: "RU-A", name: "A", country: "RU", position: Position(lat: 54, lon: 68), paired: "KZ-A"),
        .init(id: "KZ-B", name: "B", country: "KZ", position: Position(lat: 50, lon: 80)),
    ])

    @Test func absenceFiresOnlyWhenTheWatermarkPassesTheDeadline() throws {
        var harness = try Harness(rules: Self.absenceRule, geography: Self.pair)
        harness.feed([crossing("exit", minute: 0, checkpoint: "KZ-A")])
        harness.feed([crossing("other-1", minute: 370, checkpoint: "KZ-B", plate: "Q")])  // watermark = deadline
        #expect(harness.alerts.isEmpty)
        harness.feed([crossing("other-2", minute: 370.001, checkpoint: "KZ-B", plate: "Q")])
        #expect(harness.alerts.map(\.rule) == ["crossing.missing-counterpart"])
        #expect(harness.alerts[0].time == at(minutes: 0))
        #expect(harness.alerts[0].facts.first { $0.name == "expectedCheckpoint" }?.value == .string("RU-A"))
    }

    @Test func entryAtThePairedCheckpointUpToTheDeadlineClosesTheAbsence() throws {
        var harness = try Harness(rules: Self.absenceRule, geography: Self.pair)
        harness.feed([
            crossing("exit-1", minute: 0, checkpoint: "KZ-A", plate: "P1"),
            crossing("exit-2", minute: 0, checkpoint: "KZ-A", plate: "P2"),
            crossing("exit-3", minute: 0, checkpoint: "KZ-A", plate: nil, doc: "D3", role: "pedestrian"),
            crossing("entry-2", minute: 100, checkpoint: "KZ-B", direction: "entry", plate: "P2"),  // wrong checkpoint
            crossing("entry-3", minute: 200, checkpoint: "RU-A", direction: "entry", plate: nil, doc: "D3", role: "pedestrian"),
            crossing("entry-1", minute: 360, checkpoint: "RU-A", direction: "entry", plate: "P1"),  // exactly at the deadline
            crossing("tick", minute: 1000, checkpoint: "KZ-B", plate: "Q"),
        ])
        #expect(harness.alerts.map(\.key.value) == ["P2"])
        // Two closed, one fired; the tick is still buffered behind the lateness.
        #expect(harness.engine.footprint.openAbsences == 0)
    }

    @Test func finishFiresOnlyDeadlinesTheStreamHasPassed() throws {
        var harness = try Harness(rules: Self.absenceRule, geography: Self.pair)
        harness.feed([
            crossing("exit-1", minute: 0, checkpoint: "KZ-A", plate: "P1"),
            crossing("exit-2", minute: 100, checkpoint: "KZ-A", plate: "P2"),
            crossing("tick", minute: 361, checkpoint: "KZ-B", plate: "Q"),
        ])
        harness.finish()
        #expect(harness.alerts.map(\.key.value) == ["P1"])
        #expect(harness.engine.stats.openAbsences == 1)
    }

    @Test func suppressionDoesNotDependOnHowTheWatermarkAdvances() throws {
        let exits = [
            crossing("exit-1", minute: 0, checkpoint: "KZ-A"), crossing("exit-2", minute: 60, checkpoint: "KZ-A"),
            crossing("exit-3", minute: 700, checkpoint: "KZ-A"),
        ]
        let ticks = stride(from: 300.0, through: 1400, by: 37).map {
            crossing("tick-\($0)", minute: $0, checkpoint: "KZ-B", plate: "Q")
        }
        var stepwise = try Harness(rules: Self.absenceRule, geography: Self.pair)
        stepwise.feed((exits + ticks).sorted { $0.time < $1.time })
        stepwise.finish()
        var atOnce = try Harness(rules: Self.absenceRule, geography: Self.pair)
        atOnce.feed(exits + [crossing("end", minute: 1400, checkpoint: "KZ-B", plate: "Q")])
        atOnce.finish()
        // exit-2's deadline falls within the suppression after exit-1's alert; exit-3 carries it.
        #expect(stepwise.alerts.map { $0.evidence[0].id } == ["exit-1", "exit-3"])
        #expect(stepwise.alerts.map(\.suppressed) == [0, 1])
        let summary = { (alerts: [Alert]) in alerts.map { "\($0.evidence[0].id) \($0.time) \($0.suppressed)" } }
        #expect(summary(stepwise.alerts) == summary(atOnce.alerts))
    }

    static let joinRule = """
        rules:
          - id: narcotics.seizure
            category: narcotics
            severity: critical
            kind: match
            on: inspection
            join: crossing
            key: [plate, checkpoint]
            title: "{finding.substance} on {key}"
            when:
              some: finding
              where:
                finding.category: narcotic
        """

    @Test func inspectionsJoinTheirCrossingInEitherArrivalOrder() throws {
        let events = [
            crossing("c1", minute: 0),
            inspection("i1", minute: 5, of: "c1", findings: #"[{"category":"narcotic","substance":"hashish"}]"#),
        ]
        var inOrder = try Harness(rules: Self.joinRule)
        inOrder.feed(events)
        inOrder.finish()
        var reversed = try Harness(rules: Self.joinRule)
        reversed.feed(events.reversed())
        reversed.finish()
        #expect(reversed.engine.stats.late == 0)
        #expect(inOrder.alerts.count == 1)
        #expect(inOrder.alerts[0].key == AlertKey(type: .plate, value: "123ABC15"))
        #expect(inOrder.alerts[0].title == "hashish on 123ABC15")
        #expect(inOrder.alerts[0].evidence.map(\.id) == ["c1", "i1"])
        #expect(inOrder.alerts.map(\.id) == reversed.alerts.map(\.id))
        #expect(inOrder.alerts[0].evidence.map(\.id) == reversed.alerts[0].evidence.map(\.id))
    }

    @Test func anInspectionWaitsForACrossingWithALaterTimeThenRunsAloneAfterTheWait() throws {
        let narcotic = #"[{"category":"narcotic"}]"#
        var harness = try Harness(rules: Self.joinRule)
        harness.feed([
            inspection("i1", minute: 0, of: "c1", findings: narcotic),
            crossing("c1", minute: 30),  // clock skew: the crossing is stamped after its inspection
            inspection("i2", minute: 40, of: "missing", findings: narcotic),
            crossing("tick", minute: 200, checkpoint: "KZ-B", plate: "Q"),
        ])
        #expect(harness.alerts.map(\.key) == [
            AlertKey(type: .plate, value: "123ABC15"), AlertKey(type: .checkpoint, value: "KZ-PETROPAVL-1"),
        ])
        #expect(harness.engine.stats.unjoinedInspections == 1)
    }

    @Test func shuffledStreamWithinLatenessGivesTheSameAlerts() throws {
        let config = try shippedConfig()
        // The origin travels with the event: a reordered stream still names each event's own offset.
        let stream = mixedStream(count: 400).enumerated().map {
            ($0.element, EventOrigin(topic: "border.checkpoint.events", partition: 0, offset: Int64($0.offset)))
        }
        var ordered = Harness(config: config)
        ordered.feed(stream)
        ordered.finish()
        let expected = ordered.alerts.map(\.json)
        #expect(ordered.engine.stats.late == 0)
        #expect(Set(ordered.alerts.map(\.rule)).count >= 6)
        var generator = SplitMix(seed: 7)
        for _ in 0..<3 {
            // Each event arrives up to (not including) the lateness after its time, so none is late.
            let lateness = Double(EngineSettings.defaultLateness)
            let shuffled = stream.map { ($0, Double($0.0.time.nanosecondsSinceEpoch) + generator.unit() * lateness * 0.999) }
                .sorted { $0.1 < $1.1 }.map(\.0)
            #expect(shuffled.map(\.0.id) != stream.map(\.0.id))
            var replay = Harness(config: config)
            replay.feed(shuffled)
            replay.finish()
            #expect(replay.engine.stats.late == 0)
            let actual = replay.alerts.map(\.json)
            #expect(actual.count == expected.count)
            #expect(zip(actual, expected).first { $0 != $1 } == nil)
        }
    }

    @Test func stateStaysBoundedUnderManyDistinctKeys() throws {
        let config = try shippedConfig()
        var harness = Harness(
            rulebook: config.rulebook, geography: config.geography, settings: EngineSettings(idRetention: 6 * 3_600_000_000_000))
        // 20,000 distinct plates crossing and returning over ~6 days of event time.
        for index in 0..<20_000 {
            let minute = Double(index) * 0.5
            harness.feed([
                crossing("x\(index)", minute: minute, plate: "P\(index)"),
                crossing("n\(index)", minute: minute + 30, checkpoint: "RU-PETUKHOVO-1", direction: "entry", plate: "P\(index)"),
            ])
        }
        let footprint = harness.engine.footprint
        // Live state covers its horizon (6h of ids and absences ≈ 720 plates, 24h of crossings ≈ 2,900), not all 20,000.
        #expect(footprint.rememberedIds < 2 * 800 + 100)
        #expect(footprint.storedCrossings < 2 * 24 * 120 + 100)
        #expect(footprint.openAbsences < 800)
        #expect(footprint.windowKeys <= 2)
        #expect(harness.alerts(of: "crossing.missing-counterpart").isEmpty)
    }
}

/// A deterministic pseudo-random source for shuffles (SplitMix64).
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// In [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// A stream exercising every shipped rule: crossings with and without returns, weight
/// mismatches, busy minutes, inspections with findings, some arriving before their crossing's time.
func mixedStream(count: Int) -> [Event] {
    var events: [Event] = []
    var generator = SplitMix(seed: 42)
    let findings = [
        #"[{"category":"narcotic","substance":"heroin","concealed":true}]"#,
        #"[{"category":"ammunition","declared":false}]"#,
        #"[{"category":"tobacco","declared":false,"concealed":true}]"#,
        #"[{"category":"masking-agent"}]"#,
        #"[{"category":"psychotropic","substance":"Tramadol"}]"#,
        #"[]"#,
    ]
    for index in 0..<count {
        let minute = Double(index) * 0.2
        let plate = "P\(generator.next() % 40)"
        let weights = generator.next() % 4 == 0 ? #","goods":[{"hs":"3004","substance":"pregabalin"}]"# : ""
        var crossingEvent = crossing("c\(index)", minute: minute, plate: plate, extra: weights)
        if case .crossing(var body) = crossingEvent.body, generator.next() % 3 == 0 {
            body.vehicle?.declaredWeightKg = 10_000
            body.vehicle?.measuredWeightKg = 11_000
            crossingEvent.body = .crossing(body)
        }
        events.append(crossingEvent)
        if generator.next() % 3 == 0 {
            events.append(
                inspection(
                    "i\(index)", minute: minute + Double(generator.next() % 30) - 3, of: "c\(index)",
                    findings: findings[Int(generator.next() % UInt64(findings.count))]))
        }
        if generator.next() % 2 == 0 {
            events.append(
                crossing("r\(index)", minute: minute + 120, checkpoint: "RU-PETUKHOVO-1", direction: "entry", plate: plate))
        }
    }
    return events.sorted { $0.time < $1.time }
}
