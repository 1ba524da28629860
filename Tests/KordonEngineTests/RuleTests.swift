import KordonEvents
import Testing

@testable import KordonEngine

/// Each shipped rule fires on a case and stays silent on a near miss.
@Suite struct RuleTests {
    let config: KordonConfig

    init() throws {
        config = try shippedConfig()
    }

    func run(_ events: [Event], rule: String) -> [Alert] { alerts(of: rule, from: events, config: config) }

    func inspected(_ findings: String, crossingExtra: String = "") -> [Event] {
        [crossing("c1", minute: 0, extra: crossingExtra), inspection("i1", minute: 20, of: "c1", findings: findings)]
    }

    func fact(_ alert: Alert?, _ name: String) -> Value? {
        alert?.facts.first { $0.name == name }?.value
    }

    // MARK: weapons.undeclared

    @Test func undeclaredAmmunitionFires() {
        let alerts = run(inspected(#"[{"category":"ammunition","declared":false,"concealed":true}]"#), rule: "weapons.undeclared")
        #expect(alerts.count == 1)
        #expect(alerts.first?.severity == .critical)
        #expect(alerts.first?.key == AlertKey(type: .plate, value: "123ABC15"))
        #expect(
            alerts.first?.title == "Undeclared or unpermitted ammunition on plate 123ABC15 at KZ-PETROPAVL-1 (exit)")
    }

    @Test func declaredWeaponWithAnExpiredPermitFires() {
        let permit = #","permits":[{"id":"H-1","type":"hunting","validUntil":"2026-11-27"}]"#
        let alerts = run(inspected(#"[{"category":"weapon","declared":true}]"#, crossingExtra: permit), rule: "weapons.undeclared")
        #expect(alerts.count == 1)
    }

    @Test func declaredWeaponWithAValidPermitIsSilent() {
        let permit = #","permits":[{"id":"H-1","type":"hunting","validUntil":"2026-11-28"}]"#
        #expect(run(inspected(#"[{"category":"weapon","declared":true}]"#, crossingExtra: permit), rule: "weapons.undeclared").isEmpty)
        // A permit of another type does not cover arms.
        let cites = #","permits":[{"id":"C-1","type":"cites"}]"#
        #expect(run(inspected(#"[{"category":"weapon","declared":true}]"#, crossingExtra: cites), rule: "weapons.undeclared").count == 1)
    }

    @Test func pedestrianIsKeyedByDoc() {
        let events = [
            crossing("c1", minute: 0, plate: nil, doc: "D77", role: "pedestrian"),
            inspection("i1", minute: 5, of: "c1", findings: #"[{"category":"explosive"}]"#),
        ]
        #expect(run(events, rule: "weapons.undeclared").first?.key == AlertKey(type: .doc, value: "D77"))
    }

    // MARK: weapons.repeat-movement

    static let rifles = #","goods":[{"hs":"930320","description":"hunting rifle"}]"#

    @Test func thirdArmsCrossingTheSameWayIn30DaysFires() {
        let day = 24.0 * 60
        let events = [
            crossing("c1", minute: 0, extra: Self.rifles),
            crossing("c2", minute: 10 * day),
            inspection("i2", minute: 10 * day + 30, of: "c2", findings: #"[{"category":"ammunition","declared":true}]"#),
            crossing("c3", minute: 20 * day, extra: Self.rifles),
            inspection("i3", minute: 20 * day + 30, of: "c3", findings: #"[{"category":"weapon","declared":true}]"#),
            crossing("c4", minute: 29 * day, extra: Self.rifles),
        ]
        let alerts = run(events, rule: "weapons.repeat-movement")
        #expect(alerts.count == 1)
        #expect(alerts.first?.evidence.last?.id == "c3")
        #expect(fact(alerts.first, "distinct") == .number(3))
        #expect(fact(alerts.first, "direction") == .string("exit"))
    }

    @Test func armsCrossingsInBothDirectionsOrSpreadOverMoreThan30DaysAreSilent() {
        let day = 24.0 * 60
        let bothWays = [
            crossing("c1", minute: 0, extra: Self.rifles),
            crossing("c2", minute: 1 * day, direction: "entry", extra: Self.rifles),
            crossing("c3", minute: 2 * day, extra: Self.rifles),
            crossing("c4", minute: 3 * day, direction: "entry", extra: Self.rifles),
        ]
        #expect(run(bothWays, rule: "weapons.repeat-movement").isEmpty)
        let spread = (0..<3).map { crossing("s\($0)", minute: Double($0) * 16 * day, extra: Self.rifles) }
        #expect(run(spread, rule: "weapons.repeat-movement").isEmpty)
        // Goods and a finding on one crossing count it once: two crossings, not four.
        let twice = [
            crossing("t1", minute: 0, extra: Self.rifles),
            inspection("u1", minute: 30, of: "t1", findings: #"[{"category":"weapon","declared":true}]"#),
            crossing("t2", minute: day, extra: Self.rifles),
            inspection("u2", minute: day + 30, of: "t2", findings: #"[{"category":"ammunition","declared":true}]"#),
        ]
        #expect(run(twice, rule: "weapons.repeat-movement").isEmpty)
    }

    // MARK: narcotics

    @Test func narcoticSeizureFires() {
        let alerts = run(
            inspected(#"[{"category":"narcotic","substance":"hashish","weightKg":14.5,"concealed":true},{"category":"masking-agent"}]"#),
            rule: "narcotics.seizure")
        #expect(alerts.count == 1)
        #expect(fact(alerts.first, "weightKg") == .number(14.5))
        #expect(fact(alerts.first, "substance") == .string("hashish"))
    }

    @Test func seizureIsSilentWithoutNarcotics() {
        #expect(run(inspected(#"[{"category":"tobacco","declared":false}]"#), rule: "narcotics.seizure").isEmpty)
    }

    @Test func canineAlertWithoutFindFires() {
        let alerts = run(inspected(#"[{"category":"other","canineAlert":true}]"#), rule: "narcotics.concealment-indicators")
        #expect(alerts.map(\.severity) == [.high])
    }

    @Test func indicatorsAreSilentWhenNarcoticsAreFound() {
        let findings = #"[{"category":"masking-agent"},{"category":"narcotic","canineAlert":true}]"#
        #expect(run(inspected(findings), rule: "narcotics.concealment-indicators").isEmpty)
    }

    // MARK: contraband

    @Test func undeclaredGoodsAreMediumOrHighWhenConcealed() {
        #expect(run(inspected(#"[{"category":"tobacco","declared":false}]"#), rule: "contraband.undeclared-goods").map(\.severity) == [.medium])
        let concealed = #"[{"category":"alcohol"},{"category":"caviar","declared":false,"concealed":true}]"#
        #expect(run(inspected(concealed), rule: "contraband.undeclared-goods").map(\.severity) == [.high])
    }

    @Test func declaredGoodsAreSilent() {
        #expect(run(inspected(#"[{"category":"tobacco","declared":true,"concealed":true}]"#), rule: "contraband.undeclared-goods").isEmpty)
        #expect(run(inspected(#"[{"category":"document-fraud","declared":false}]"#), rule: "contraband.undeclared-goods").isEmpty)
    }

    @Test func repeatedSmallDeclarationsAddingUpFire() {
        let goods = #","goods":[{"hs":"6403","valueUsd":450},{"hs":"6204","valueUsd":400}]"#
        let events = (0..<4).map { crossing("c\($0)", minute: Double($0) * 1440, extra: goods) }
        let alerts = run(events, rule: "contraband.structuring")
        #expect(alerts.count == 1)
        #expect(fact(alerts.first, "count") == .number(4))
        #expect(fact(alerts.first, "sum") == .number(3400))
    }

    @Test func structuringNeedsFourCrossingsEachUnderTheValueTogetherOver3000() {
        let small = #","goods":[{"hs":"6403","valueUsd":700}]"#
        let tooSmall = (0..<4).map { crossing("a\($0)", minute: Double($0) * 1440, plate: "A", extra: small) }  // 2800
        let big = #","goods":[{"hs":"6403","valueUsd":1200}]"#
        let overTheLimit = (0..<4).map { crossing("b\($0)", minute: Double($0) * 1440, plate: "B", extra: big) }
        let three = #","goods":[{"hs":"6403","valueUsd":999}]"#
        let onlyThree = (0..<3).map { crossing("d\($0)", minute: Double($0) * 1440, plate: "D", extra: three) }
        #expect(run(tooSmall + overTheLimit + onlyThree, rule: "contraband.structuring").isEmpty)
    }

    @Test func weightMismatchFires() {
        let weights = #","vehicle":{"plate":"123ABC15","declaredWeightKg":18200,"measuredWeightKg":19650}"#
        let alerts = run([crossing("c1", minute: 0, plate: nil, extra: weights)], rule: "contraband.weight-mismatch")
        #expect(alerts.count == 1)
        #expect(fact(alerts.first, "differenceKg") == .number(1450))
    }

    @Test func weightMismatchNeedsBothFivePercentAnd500Kilograms() {
        let small = #","vehicle":{"plate":"A","declaredWeightKg":8000,"measuredWeightKg":8480}"#  // 6 %, 480 kg
        let relative = #","vehicle":{"plate":"B","declaredWeightKg":40000,"measuredWeightKg":41900}"#  // 4.75 %, 1900 kg
        let events = [crossing("c1", minute: 0, plate: nil, extra: small), crossing("c2", minute: 1, plate: nil, extra: relative)]
        #expect(run(events, rule: "contraband.weight-mismatch").isEmpty)
    }

    // MARK: psychotropics

    @Test func controlledSubstanceFiresOnDeclarationAndOnFinding() {
        let goods = #","goods":[{"hs":"3004","substance":"Sibutramine"}]"#
        let declared = run([crossing("c1", minute: 0, extra: goods)], rule: "psychotropics.controlled-substance")
        #expect(declared.count == 1)
        #expect(fact(declared.first, "declaredSubstance") == .string("sibutramine"))
        let found = run(inspected(#"[{"category":"psychotropic","substance":"tropicamide"}]"#), rule: "psychotropics.controlled-substance")
        #expect(found.count == 1)
        #expect(found.first?.evidence.map(\.id) == ["c1", "i1"])
    }

    @Test func otherSubstancesAreSilent() {
        let goods = #","goods":[{"hs":"3004","substance":"paracetamol"}]"#
        #expect(run([crossing("c1", minute: 0, extra: goods)], rule: "psychotropics.controlled-substance").isEmpty)
    }

    // MARK: capacity.overload

    func crossings(_ count: Int, spread minutes: Double) -> [Event] {
        (0..<count).map { crossing("c\($0)", minute: Double($0) * minutes / Double(count), plate: "P\($0)") }
    }

    @Test func moreCrossingsThanCapacityIn15MinutesFires() {
        // KZ-PETROPAVL-1: capacity 60.
        let alerts = run(crossings(61, spread: 14), rule: "capacity.overload")
        #expect(alerts.count == 1)
        #expect(alerts.first?.key == AlertKey(type: .checkpoint, value: "KZ-PETROPAVL-1"))
        #expect(fact(alerts.first, "count") == .number(61))
        #expect(fact(alerts.first, "countAbove") == .number(60))
        #expect(alerts.first?.evidenceTotal == 61)
        #expect(alerts.first?.evidence.count == 50)
    }

    @Test func capacityIsSilentAtCapacityOrWhenSpreadOut() {
        #expect(run(crossings(60, spread: 14), rule: "capacity.overload").isEmpty)
        #expect(run(crossings(70, spread: 20), rule: "capacity.overload").isEmpty)
    }

    // MARK: crossing.missing-counterpart

    @Test func exitWithoutEntryFiresOnceEventTimePassesTheDeadline() {
        let events = [
            crossing("x1", minute: 0), crossing("tick", minute: 400, checkpoint: "KZ-AUYL-1", direction: "entry", plate: "Q"),
        ]
        let alerts = run(events, rule: "crossing.missing-counterpart")
        #expect(alerts.count == 1)
        #expect(alerts.first?.title == "No entry at RU-PETUKHOVO-1 within 6h of the exit of plate 123ABC15 at KZ-PETROPAVL-1")
        #expect(fact(alerts.first, "deadline") == .string("2026-11-28T06:00:00Z"))
    }

    @Test func entryAtTheFacingCheckpointIsSilent() {
        let events = [
            crossing("x1", minute: 0),
            crossing("n1", minute: 300, checkpoint: "RU-PETUKHOVO-1", direction: "entry"),
            crossing("tick", minute: 400, checkpoint: "KZ-AUYL-1", direction: "entry", plate: "Q"),
        ]
        #expect(run(events, rule: "crossing.missing-counterpart").isEmpty)
        // An exit at a checkpoint without a pair is not watched.
        #expect(run([crossing("x2", minute: 0, checkpoint: "KZ-NOWHERE"), events[2]], rule: "crossing.missing-counterpart").isEmpty)
    }
}
