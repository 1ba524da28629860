import Foundation
import KordonEvents
import Testing

@testable import KordonEngine

/// `Condition.possible` lets a rule skip events whose lists rule its condition out, and compiled
/// conditions stand in for `Condition.holds`: both must agree with evaluating the condition itself.
@Suite struct ConditionPresenceTests {
    /// The presences (0..<16) a condition can hold under.
    func presences(_ condition: Condition) -> [Int] {
        (0..<16).filter { condition.possible >> $0 & 1 != 0 }
    }

    func with(_ collections: Collection...) -> [Int] {
        let bits = collections.reduce(0) { $0 | Int($1.bit) }
        return (0..<16).filter { $0 & bits == bits }
    }

    @Test func quantifiersDecideWhatCanHold() {
        let test = Condition.test(.goodsHs, .prefix(["93"]))
        let finding = Condition.test(.findingCategory, .isIn(["weapon"]))
        #expect(presences(test) == Array(0..<16))
        #expect(presences(.some(.goods, test)) == with(.goods))
        #expect(presences(.none(.finding, finding)) == Array(0..<16))
        // Not none: an element must exist.
        #expect(presences(.not(.none(.finding, finding))) == with(.finding))
        #expect(presences(.all([.some(.goods, test), .some(.person, test)])) == with(.goods, .person))
        #expect(presences(.any([.some(.goods, test), .some(.finding, finding)])) == (0..<16).filter { $0 & 3 != 0 })
        // A nested quantifier needs its own list too, and `none` of an empty list is certain.
        #expect(presences(.some(.goods, .some(.permit, test))) == with(.goods, .permit))
        #expect(presences(.not(.none(.goods, .none(.permit, test)))) == with(.goods))
        #expect(presences(.not(.any([.none(.goods, test), test]))) == with(.goods))
    }

    /// Every event of the shipped fixtures under every rule of its kind: the compiled condition gives
    /// what `holds` gives, and a condition that holds was possible for the event's lists.
    @Test func shippedRulesAgreeWithTheirConditions() throws {
        let config = try shippedConfig()
        let lookups = Lookups(geography: config.geography, watchlists: config.rulebook.watchlists)
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/fixtures")
        var held = 0
        var skipped = 0
        var evaluated = 0
        for file in try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) {
            let fixture = try RuleFixture.parse(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
            for testCase in fixture.cases {
                let records = testCase.events.map { EventRecord(event: $0, origin: EventOrigin(topic: "t", partition: 0, offset: 0)) }
                for record in records {
                    let joined = record.inspection.flatMap { inspection in records.first { $0.id == inspection.crossingId } }
                    for rule in config.rulebook.rules where rule.on.contains(record.kind) {
                        guard let condition = rule.when else { continue }
                        let plan = RulePlan(rule)
                        let scope = Scope(record: record, joined: rule.joinsCrossing ? joined : nil, lookups: lookups)
                        var elements: [Scope] = []
                        if let collection = rule.forEach {
                            var each = scope
                            _ = each.bindEach(collection) { element in
                                elements.append(element)
                                return false
                            }
                        } else {
                            elements = [scope]
                        }
                        let possible = plan.possible >> scope.presence & 1 != 0
                        if !possible { skipped += 1 }
                        for element in elements {
                            var direct = element
                            var compiled = element
                            let holds = condition.holds(&direct)
                            #expect(plan.when(&compiled) == holds, "\(rule.id) on \(record.id) in \(file.lastPathComponent)")
                            #expect(compiled.bound == direct.bound, "\(rule.id) on \(record.id): bindings")
                            #expect(!holds || possible, "\(rule.id) held on \(record.id), which its lists ruled out")
                            evaluated += 1
                            if holds { held += 1 }
                        }
                    }
                }
            }
        }
        // Enough of each for the checks above to mean something.
        #expect(evaluated > 200)
        #expect(held > 30)
        #expect(skipped > 20)
    }

    /// Fields holding one of a fixed set of words are compiled to compare cases, not words: on every
    /// fixture event, equality and membership with words seen, unknown words and absent fields give
    /// what evaluating the test on the field's value gives.
    @Test func wordFieldsCompiledToCasesAgreeWithTheirValues() throws {
        let config = try shippedConfig()
        let lookups = Lookups(geography: config.geography, watchlists: config.rulebook.watchlists)
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/fixtures")
        var records: [EventRecord] = []
        for file in try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) {
            let fixture = try RuleFixture.parse(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
            for testCase in fixture.cases {
                records += testCase.events.map { EventRecord(event: $0, origin: EventOrigin(topic: "t", partition: 0, offset: 0)) }
            }
        }
        let fields: [Field] = [
            .eventKind, .crossingDirection, .vehicleType, .inspectionMethod, .findingCategory, .personRole, .permitType,
            .patrolObservation, .sensorType, .sensorDetection, .vesselActivity,
        ]
        var agreed = 0
        var held = 0
        for field in fields {
            // Conditions on a list's field bind an element first, as rules must.
            func wrapped(_ test: Condition.Test) -> [Condition] {
                guard case .element(let collection) = field.source else { return [.test(field, test)] }
                return [.some(collection, .test(field, test)), .none(collection, .test(field, test))]
            }
            var words: Set<String> = ["no-such-word", ""]
            for record in records {
                var scope = Scope(record: record, lookups: lookups)
                for condition in wrapped(.exists(true)) {
                    _ = condition.holds(&scope)
                    if case .string(let word)? = field.value(in: scope) { words.insert(word) }
                }
            }
            #expect(words.count > 2, "\(field.rawValue) seen in the fixtures")
            let seen = words.sorted()
            var tests: [Condition.Test] = [.isIn(Set(seen.prefix(2))), .notIn(Set(seen.suffix(2))), .isIn([]), .notIn([])]
            for word in seen { tests += [.eq(.string(word)), .ne(.string(word))] }
            for record in records {
                for test in tests {
                    for condition in wrapped(test) {
                        var direct = Scope(record: record, lookups: lookups)
                        var compiled = direct
                        let holds = condition.holds(&direct)
                        #expect(condition.compiled(&compiled) == holds, "\(field.rawValue) \(test) on \(record.id)")
                        agreed += 1
                        if holds { held += 1 }
                    }
                }
            }
        }
        #expect(agreed > 1000)
        #expect(held > 100)
    }
}
