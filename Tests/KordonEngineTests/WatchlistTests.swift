import Foundation
import KordonEvents
import Synchronization
import Testing

@testable import KordonEngine

/// Watchlist files: loading, located errors, reloading on change, and replays that cannot see a change.
@Suite struct WatchlistTests {
    /// A rules file naming a watchlist beside it, in a fresh directory.
    struct Files {
        let directory: URL
        var rules: String { directory.appendingPathComponent("rules.yaml").path }
        var list: String { directory.appendingPathComponent("list.yaml").path }

        init(list: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-watchlist-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.rulesYAML.write(toFile: rules, atomically: true, encoding: .utf8)
            try write(list: list, modified: Date(timeIntervalSince1970: 1_000_000))
        }

        /// Writes the list with an explicit modification time, so a change is seen whatever the file system's clock resolution.
        func write(list text: String, modified: Date) throws {
            try text.write(toFile: list, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: list)
        }

        func rulebook() throws -> Rulebook {
            try Rulebook.parse(yaml: String(contentsOfFile: rules, encoding: .utf8), file: rules)
        }

        static let rulesYAML = """
            watchlists:
              wanted: list.yaml
            rules:
              - id: watchlist.hit
                category: watchlist
                severity: high
                kind: match
                on: crossing
                key: plate
                title: "listed {key}"
                when:
                  crossing.vehicle.plate: {watchlist: wanted}
            """
    }

    /// A wall clock the test moves by hand.
    final class ManualClock: Sendable {
        let nanos = Atomic<Int64>(0)

        func advance(seconds: Int64) { nanos.add(seconds * 1_000_000_000, ordering: .relaxed) }
        var now: Timestamp { Timestamp(nanosecondsSinceEpoch: nanos.load(ordering: .relaxed)) }
    }

    func plates(_ alerts: [Alert]) -> [String] { alerts.map(\.key.value) }

    /// Each list answers for its own plates and docs only, and a plate is not a doc.
    @Test func listsKeepTheirEntriesApart() {
        let lookups = Lookups(
            geography: Geography(),
            watchlists: [
                "wanted": Watchlist(name: "wanted", file: "w.yaml", plates: ["AAA"], docs: ["D1"]),
                "stolen": Watchlist(name: "stolen", file: "s.yaml", plates: ["BBB", "D1"]),
                "empty": Watchlist(name: "empty", file: "e.yaml"),
            ])
        #expect(lookups.lists("AAA", in: "wanted", as: .plate))
        #expect(lookups.lists("D1", in: "wanted", as: .doc))
        #expect(!lookups.lists("AAA", in: "wanted", as: .doc))
        #expect(!lookups.lists("AAA", in: "stolen", as: .plate))
        #expect(lookups.lists("BBB", in: "stolen", as: .plate))
        #expect(!lookups.lists("BBB", in: "wanted", as: .plate))
        #expect(lookups.lists("D1", in: "stolen", as: .plate))
        #expect(!lookups.lists("D1", in: "stolen", as: .doc))
        #expect(!lookups.lists("AAA", in: "empty", as: .plate))
        #expect(!lookups.lists("AAA", in: "unknown", as: .plate))
    }

    @Test func listsAreReadRelativeToTheRulebook() throws {
        let files = try Files(list: "plates: [AAA]\ndocs: [D1]\n")
        let rulebook = try files.rulebook()
        #expect(rulebook.watchlists["wanted"]?.plates == ["AAA"])
        #expect(rulebook.watchlists["wanted"]?.docs == ["D1"])
    }

    @Test func errorsNameTheWatchlistFileLineAndField() throws {
        let files = try Files(list: "plates: [AAA]\nnames: [x]\n")
        let text = try String(contentsOfFile: files.rules, encoding: .utf8)
        do {
            _ = try Rulebook.parse(yaml: text, file: files.rules)
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.description) == ["\(files.list):2: names: unknown field (known: docs, plates)"])
        }
        let missing = """
            watchlists:
              wanted: nowhere.yaml
            rules: []
            """
        do {
            _ = try Rulebook.parse(yaml: missing, file: files.rules)
            Issue.record("expected errors")
        } catch {
            let expected = "\(files.rules):2: watchlists.wanted: cannot read the watchlist file "
                + files.directory.appendingPathComponent("nowhere.yaml").path
            #expect(error.errors.map(\.description) == [expected])
        }
    }

    @Test func changesAreSeenOnlyAfterAReload() throws {
        let files = try Files(list: "plates: [AAA]\n")
        var harness = Harness(rulebook: try files.rulebook())
        harness.feed([crossing("c1", minute: 0, plate: "AAA"), crossing("c2", minute: 1, plate: "BBB")])
        try files.write(list: "plates: [BBB]\n", modified: Date(timeIntervalSince1970: 2_000_000))
        // Without a reload (replays never reload by themselves) the list is the one loaded.
        harness.feed([crossing("c3", minute: 20, plate: "BBB")])
        #expect(plates(harness.alerts) == ["AAA"])
        #expect(harness.engine.reloadWatchlists().isEmpty)
        harness.feed([crossing("c4", minute: 40, plate: "BBB"), crossing("c5", minute: 41, plate: "AAA")])
        harness.finish()
        #expect(plates(harness.alerts) == ["AAA", "BBB"])
        #expect(harness.engine.stats.watchlistReloads == 1)
    }

    @Test func theEngineChecksTheFileAtMostOncePerInterval() throws {
        let files = try Files(list: "plates: [AAA]\n")
        let clock = ManualClock()
        var engine = Engine(
            rulebook: try files.rulebook(), geography: Geography(), settings: EngineSettings(watchlistCheck: 5_000_000_000)
        ) { clock.now }
        var alerts: [Alert] = []
        let origin = EventOrigin(topic: "t", partition: 0, offset: 0)
        try files.write(list: "plates: [BBB]\n", modified: Date(timeIntervalSince1970: 2_000_000))
        clock.advance(seconds: 4)
        engine.ingest(crossing("c1", minute: 0, plate: "BBB"), from: origin, into: &alerts)
        #expect(engine.watchlists["wanted"]?.plates == ["AAA"])
        clock.advance(seconds: 1)
        engine.ingest(crossing("c2", minute: 1, plate: "BBB"), from: origin, into: &alerts)
        #expect(engine.watchlists["wanted"]?.plates == ["BBB"])
        // A broken file keeps the last good list and is counted once per change.
        try files.write(list: "plates: {AAA: 1}\n", modified: Date(timeIntervalSince1970: 3_000_000))
        for minute in 2..<5 {
            clock.advance(seconds: 6)
            engine.ingest(crossing("c\(minute + 1)", minute: Double(minute), plate: "BBB"), from: origin, into: &alerts)
        }
        #expect(engine.watchlists["wanted"]?.plates == ["BBB"])
        #expect(engine.stats.watchlistErrors == 1)
        engine.finish(into: &alerts)
        // The first crossing was decided after the reload too: rules run when the watermark passes an event.
        #expect(alerts.count == 1)
    }
}
