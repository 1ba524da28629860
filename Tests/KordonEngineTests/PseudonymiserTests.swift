import Foundation
import KordonEvents
import Testing

@testable import KordonEngine

@Suite struct PseudonymiserTests {
    let pseudonymiser = Pseudonymiser(key: Array(0..<32))

    @Test func sameInputSamePseudonymOtherKeyOrTypeAnother() {
        // Pinned: changing the recipe would break linking alerts across versions.
        #expect(pseudonymiser.pseudonym("N0448812", type: "doc") == "ps:24ea3f5b2d7d9dae5006e72dec885612")
        #expect(pseudonymiser.pseudonym("123ABC15", type: "plate") == "ps:6caa0c25ebe94262f8bd6e1d0a83238e")
        #expect(pseudonymiser.pseudonym("N0448812", type: "doc") == Pseudonymiser(key: Array(0..<32)).pseudonym("N0448812", type: "doc"))
        #expect(pseudonymiser.pseudonym("N0448812", type: "doc") != pseudonymiser.pseudonym("N0448812", type: "plate"))
        #expect(pseudonymiser.pseudonym("N0448812", type: "doc") != pseudonymiser.pseudonym("N0448813", type: "doc"))
        #expect(pseudonymiser.pseudonym("N0448812", type: "doc") != Pseudonymiser(key: Array(1...32)).pseudonym("N0448812", type: "doc"))
    }

    // MARK: - Key files

    final class KeyFile {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-key-\(UUID().uuidString)").path

        init(_ bytes: [UInt8], mode: mode_t = 0o600) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            chmod(path, mode)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func loadsAKeyFileLessItsTrailingNewline() throws {
        let key = Array("0123456789abcdef0123456789abcdef".utf8)
        let file = try KeyFile(key + [0x0A], mode: 0o640)
        let loaded = try Pseudonymiser.load(keyFile: file.path)
        #expect(loaded.pseudonym("N0448812", type: "doc") == Pseudonymiser(key: key).pseudonym("N0448812", type: "doc"))
    }

    @Test func refusesUnsafeOrUselessKeyFiles() throws {
        func reason(_ path: String) -> String? {
            #expect(throws: PseudonymiserError.self) { try Pseudonymiser.load(keyFile: path) }?.description
        }
        let open = try KeyFile(Array(repeating: 7, count: 32), mode: 0o644)
        #expect(reason(open.path) == "pseudonymisation key file \(open.path): others may access it (mode 644); chmod o= \(open.path)")
        let empty = try KeyFile([0x0A])
        #expect(reason(empty.path) == "pseudonymisation key file \(empty.path): the key is empty")
        let short = try KeyFile(Array("secret".utf8))
        #expect(reason(short.path)?.hasPrefix("pseudonymisation key file \(short.path): the key is 6 bytes, at least 32") == true)
        let missing = empty.path + "-missing"
        #expect(reason(missing) == "pseudonymisation key file \(missing): No such file or directory")
        #expect(reason(FileManager.default.temporaryDirectory.path)?.hasSuffix(": not a regular file") == true)
    }

    // MARK: - Alerts

    static let rules = """
        rules:
          - id: test.plate
            category: contraband
            severity: high
            kind: match
            on: crossing
            forEach: person
            key: plate
            title: "{key.type} {key} driven by {person.doc} for {crossing.docsHeld.holder} at {crossing.checkpoint}"
            when:
              person.role: driver
            facts:
              plate: crossing.vehicle.plate
              driver: person.doc
              holder: crossing.docsHeld.holder
              checkpoint: crossing.checkpoint
          - id: test.doc
            category: trafficking
            severity: medium
            kind: match
            on: crossing
            forEach: person
            key: {doc: person.doc}
            title: "Document {key} held by {person.docHolder} ({crossing.direction})"
            when:
              person.docHolder: {exists: true}
            facts:
              heldBy: person.docHolder
          - id: test.absence
            category: illegal-crossing
            severity: medium
            kind: absence
            on: crossing
            key: doc
            within: 6h
            title: "No entry of {key} in {crossing.vehicle.plate}"
            when:
              crossing.direction: exit
            expect:
              on: crossing
              when:
                crossing.direction: entry
              correlate:
                crossing.vehicle.plate: crossing.vehicle.plate
        """

    /// A truck whose driver holds the documents of three passengers.
    func truck(plate: String, driver: String, passengers: [String]) -> Event {
        let persons = [#"{"doc":"\#(driver)","role":"driver"}"#]
            + passengers.map { #"{"doc":"\#($0)","role":"passenger","docHolder":"\#(driver)"}"# }
        return event(
            #"{"v":1,"id":"kz-ptr-1","kind":"crossing","time":"\#(at(minutes: 1).rfc3339)","checkpoint":"KZ-PETROPAVL-1","country":"KZ","direction":"exit","persons":[\#(persons.joined(separator: ","))],"vehicle":{"plate":"\#(plate)","type":"truck"}}"#
        )
    }

    /// Moves event time past every absence deadline, carrying no identifier itself.
    let later = event(
        #"{"v":1,"id":"tick","kind":"patrol","time":"\#(at(minutes: 600).rfc3339)","unit":"U-1","position":{"lat":54.9,"lon":69.1},"observation":"other"}"#
    )

    /// Every alert carried an identifier before, and none is left anywhere in its bytes after.
    func expectNoRawIdentifier(_ alerts: [Alert], rulebook: Rulebook, raw: [String]) -> [Alert] {
        alerts.map { alert in
            #expect(raw.contains { alert.json.contains($0) })
            let hidden = pseudonymiser.pseudonymise(alert, rulebook: rulebook)
            for identifier in raw {
                #expect(!hidden.json.contains(identifier), "\(identifier) in \(hidden.json)")
            }
            #expect(!hidden.json.contains(alert.id))
            #expect(hidden.id == Alert.id(rule: hidden.rule, key: hidden.key, evidence: hidden.evidence, evidenceTotal: hidden.evidenceTotal))
            return hidden
        }
    }

    @Test func alertsKeyedByPlateOrDocCarryNoRawIdentifier() throws {
        var harness = try Harness(rules: Self.rules)
        let passengers = ["P7766554", "P7766555", "P7766556"]
        harness.feed([truck(plate: "123ABC15", driver: "N0448812", passengers: passengers), later])
        harness.finish()
        #expect(Set(harness.alerts.map(\.rule)) == ["test.plate", "test.doc", "test.absence"])
        let hidden = expectNoRawIdentifier(
            harness.alerts, rulebook: harness.engine.rulebook, raw: ["123ABC15", "N0448812"] + passengers)

        let plate = pseudonymiser.pseudonym("123ABC15", type: "plate")
        let driver = pseudonymiser.pseudonym("N0448812", type: "doc")
        let byPlate = try #require(hidden.first { $0.rule == "test.plate" })
        #expect(byPlate.key == AlertKey(type: .plate, value: plate))
        #expect(byPlate.title == "plate \(plate) driven by \(driver) for \(driver) at KZ-PETROPAVL-1")
        #expect(byPlate.facts.map { $0.name } == ["plate", "driver", "holder", "checkpoint"])
        #expect(byPlate.facts.map { $0.value } == [.string(plate), .string(driver), .string(driver), .string("KZ-PETROPAVL-1")])

        let byDoc = hidden.filter { $0.rule == "test.doc" }
        #expect(byDoc.map(\.key.value) == passengers.map { pseudonymiser.pseudonym($0, type: "doc") })
        #expect(byDoc.map(\.title) == passengers.map { "Document \(pseudonymiser.pseudonym($0, type: "doc")) held by \(driver) (exit)" })
        #expect(byDoc.allSatisfy { $0.facts.first?.value == .string(driver) })

        let absence = try #require(hidden.first { $0.rule == "test.absence" })
        #expect(absence.key == AlertKey(type: .doc, value: driver))
        #expect(absence.title == "No entry of \(driver) in \(plate)")
        #expect(absence.facts.first { $0.name == "expectedPlate" }?.value == .string(plate))
    }

    @Test func shippedRulesCarryNoRawIdentifier() throws {
        let config = try shippedConfig()
        var harness = Harness(config: config)
        // Watchlisted (config/watchlist.yaml), holding three passengers' documents, and never entering.
        let passengers = ["P7766554", "P7766555", "P7766556"]
        harness.feed([truck(plate: "000XXX00", driver: "TEST0000001", passengers: passengers), later])
        harness.finish()
        #expect(
            Set(harness.alerts.map(\.rule)).isSuperset(of: ["watchlist.hit", "trafficking.indicators", "crossing.missing-counterpart"]))
        _ = expectNoRawIdentifier(harness.alerts, rulebook: config.rulebook, raw: ["000XXX00", "TEST0000001"] + passengers)
    }

    @Test func aTitleNotFromTheRuleIsReplacedWhole() throws {
        let rulebook = try Rulebook.parse(yaml: Self.rules, file: "rules.yaml")
        let alert = Alert(
            rule: "test.plate", category: "contraband", severity: .high, title: "Edited by hand: 123ABC15",
            time: at(minutes: 1), emittedAt: at(minutes: 2), key: AlertKey(type: .plate, value: "123ABC15"),
            location: AlertLocation(), evidence: [], facts: [], suppressed: 0)
        let plate = pseudonymiser.pseudonym("123ABC15", type: "plate")
        #expect(pseudonymiser.pseudonymise(alert, rulebook: rulebook).title == "test.plate: plate \(plate)")
        // A key that is no person or vehicle identifier stays, and so does the id.
        var sector = alert
        sector.key = AlertKey(type: .sector, value: "KZ-SKO-03")
        sector.title = "Sector KZ-SKO-03"
        sector.id = Alert.id(rule: sector.rule, key: sector.key, evidence: [], evidenceTotal: 0)
        let kept = pseudonymiser.pseudonymise(sector, rulebook: rulebook)
        #expect(kept.key == sector.key)
        #expect(kept.id == sector.id)
    }
}
