import KordonEvents
import Testing

@testable import KordonEngine

@Suite struct AlertTests {
    func evidence(_ id: String, minute: Double, offset: Int64 = 0) -> Evidence {
        Evidence(
            id: id, kind: .crossing, time: at(minutes: minute),
            origin: EventOrigin(topic: "border.checkpoint.events", partition: 3, offset: offset))
    }

    func sample(evidence: [Evidence]? = nil, key: AlertKey = AlertKey(type: .plate, value: "123ABC15")) -> Alert {
        Alert(
            rule: "contraband.weight-mismatch", category: "contraband", severity: .medium,
            title: "Weight \"mismatch\" on plate 123ABC15\n", time: at(minutes: 74.05),
            emittedAt: Timestamp(rfc3339: "2026-11-28T06:00:00.5Z")!, key: key,
            location: AlertLocation(checkpoint: "KZ-PETROPAVL-1", country: "KZ", direction: .exit),
            evidence: evidence ?? [self.evidence("kz-ptr-000187", minute: 74.05, offset: 187)],
            facts: [("declaredWeightKg", .number(18200)), ("differencePercent", .number(7.5)), ("tiny", .number(1e-7)),
                    ("huge", .number(1e21)), ("nan", .number(.nan)), ("flag", .bool(true)), ("text", .string("a\\b"))],
            suppressed: 2)
    }

    @Test func jsonHasTheContractOrderAndDeterministicFormatting() {
        let alert = sample()
        #expect(
            alert.json
                == #"{"v":1,"id":"\#(alert.id)","rule":"contraband.weight-mismatch","category":"contraband","severity":"medium","title":"Weight \"mismatch\" on plate 123ABC15\n","time":"2026-11-28T01:14:03Z","emittedAt":"2026-11-28T06:00:00.5Z","key":{"type":"plate","value":"123ABC15"},"location":{"checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit"},"evidence":[{"id":"kz-ptr-000187","kind":"crossing","time":"2026-11-28T01:14:03Z","topic":"border.checkpoint.events","partition":3,"offset":187}],"evidenceTotal":1,"facts":{"declaredWeightKg":18200,"differencePercent":7.5,"tiny":1e-07,"huge":1e+21,"nan":null,"flag":true,"text":"a\\b"},"suppressed":2}"#
        )
    }

    @Test func stringsEscapeControlCharactersAndKeepUnicode() {
        var json = JSONWriter()
        json.string("\u{1}\t\r\u{8}\u{c}\u{1f} Петропавл \u{7f}")
        #expect(String(decoding: json.bytes, as: UTF8.self) == #""\u0001\t\r\b\f\u001f Петропавл "# + "\u{7f}\"")
    }

    @Test func idIsDeterministicAndDependsOnRuleKeyAndEvidence() {
        let first = sample()
        #expect(first.id == sample().id)
        #expect(first.id.count == 32)
        #expect(first.id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
        // emittedAt, title, facts and suppressed do not enter the id.
        var later = sample()
        later.emittedAt = at(minutes: 9999)
        #expect(Alert.id(rule: later.rule, key: later.key, evidence: later.evidence, evidenceTotal: 1) == first.id)
        #expect(sample(key: AlertKey(type: .doc, value: "123ABC15")).id != first.id)
        let two = [evidence("a", minute: 1), evidence("b", minute: 2)]
        #expect(sample(evidence: two).id != sample(evidence: two.reversed()).id)
        // Length-prefixed fields: moving a boundary between fields changes the id.
        #expect(
            Alert.id(rule: "r", key: AlertKey(type: .plate, value: "ab"), evidence: [], evidenceTotal: 0)
                != Alert.id(rule: "ra", key: AlertKey(type: .plate, value: "b"), evidence: [], evidenceTotal: 0))
    }

    @Test func evidenceKeepsTheNewestFiftyAndCountsAll() {
        let items = (0..<60).map { evidence("e\($0)", minute: Double($0)) }
        let alert = sample(evidence: items)
        #expect(alert.evidenceTotal == 60)
        #expect(alert.evidence.count == 50)
        #expect(alert.evidence.first?.id == "e10")
        #expect(alert.evidence.last?.id == "e59")
    }
}
