import Foundation
import KordonEngine
import KordonEvents
import KordonOperations
import Testing

private func alert(
    id: String = "a1", rule: String = "weapons.undeclared", severity: String = "critical",
    emittedAt: String = "2026-11-28T07:00:00Z", checkpoint: String? = "KZ-PETROPAVL-1"
) -> String {
    let location = checkpoint.map { #"{"checkpoint":"\#($0)","direction":"exit"}"# } ?? #"{"sector":"KZ-7"}"#
    return #"{"v":1,"id":"\#(id)","rule":"\#(rule)","category":"weapons","severity":"\#(severity)","title":"Undeclared ammunition on truck 123ABC15","time":"2026-11-28T06:41:00Z","emittedAt":"\#(emittedAt)","key":{"type":"plate","value":"123ABC15"},"location":\#(location),"evidence":[{"id":"e1","kind":"inspection","time":"2026-11-28T06:41:00Z","topic":"t","partition":0,"offset":1}],"evidenceTotal":1,"facts":{},"suppressed":0}"#
}

final class LogFollowerTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-follow-\(UUID().uuidString)").path
    var path: String { directory + "/alerts.jsonl" }

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func append(_ text: String, to file: String? = nil) throws {
        let target = file ?? path
        if !FileManager.default.fileExists(atPath: target) { _ = FileManager.default.createFile(atPath: target, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: target))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    @Test func followsAcrossRotationWithoutLosingALine() throws {
        let follower = LogFollower(path: path)
        #expect(follower.poll().isEmpty)  // not there yet
        try append("one\ntw")
        #expect(follower.poll() == ["one"])  // half a line waits for its end
        try append("o\n")
        #expect(follower.poll() == ["two"])

        // logrotate: the file moves away (a last line lands in it), a new one starts.
        try append("three\n")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append("four\n", to: path + ".1")
        try append("five\n")
        #expect(follower.poll() == ["three", "four", "five"])
        try append("six\n")
        #expect(follower.poll() == ["six"])
    }

    @Test func startsOverWhenTruncatedInPlace() throws {
        try append("old line\n")
        let follower = LogFollower(path: path)
        #expect(follower.poll() == ["old line"])
        try Data().write(to: URL(fileURLWithPath: path))  // copytruncate
        try append("new\n")
        #expect(follower.poll() == ["new"])
    }
}

struct AlertViewTests {
    @Test func readsAnAlertLineOfTheContract() throws {
        let line = try #require(AlertLine(json: alert()))
        #expect(line.rule == "weapons.undeclared" && line.key.value == "123ABC15" && line.location.checkpoint == "KZ-PETROPAVL-1")
        #expect(line.evidence.map(\.id) == ["e1"])
        #expect(AlertLine(json: "not json") == nil)
        #expect(AlertLine(json: #"{"id":"x"}"#) == nil)
    }

    @Test func filtersBySeverityRuleAndTime() throws {
        let critical = try #require(AlertLine(json: alert()))
        let medium = try #require(AlertLine(json: alert(rule: "capacity.overload", severity: "medium")))
        #expect(AlertFilter(minimumSeverity: "high").matches(critical))
        #expect(!AlertFilter(minimumSeverity: "high").matches(medium))
        #expect(AlertFilter(rules: ["weapons.*"]).matches(critical))
        #expect(!AlertFilter(rules: ["weapons.*"]).matches(medium))
        #expect(AlertFilter(rules: ["capacity.overload"]).matches(medium))
        #expect(AlertFilter(since: Timestamp(rfc3339: "2026-11-28T06:00:00Z")).matches(critical))
        #expect(!AlertFilter(since: Timestamp(rfc3339: "2026-11-28T08:00:00Z")).matches(critical))
    }

    @Test func formatsOneAlignedLine() throws {
        let line = AlertLineFormatter(color: false).format(try #require(AlertLine(json: alert())))
        #expect(
            line == "CRITICAL  2026-11-28 06:41:00  weapons.undeclared                  plate 123ABC15            "
                + "KZ-PETROPAVL-1 (exit)   Undeclared ammunition on truck 123ABC15")
        let colored = AlertLineFormatter(color: true).format(try #require(AlertLine(json: alert())))
        #expect(colored.hasPrefix("\u{1B}[1;31mCRITICAL\u{1B}[0m  "))
    }

    @Test func statsCountByRuleSeverityCheckpointAndDay() {
        var stats = AlertStats()
        stats.add(line: alert(id: "1"))
        stats.add(line: alert(id: "2", rule: "capacity.overload", severity: "low"))
        stats.add(line: alert(id: "3", checkpoint: nil))
        stats.add(line: "garbage")
        #expect(stats.total == 3 && stats.unreadable == 1)
        #expect(stats.byRule == ["weapons.undeclared": 2, "capacity.overload": 1])
        #expect(stats.bySeverity == ["critical": 2, "low": 1])
        #expect(stats.byCheckpoint == ["KZ-PETROPAVL-1": 2])
        #expect(stats.byDay == ["2026-11-28": 3])
        #expect(stats.report.hasPrefix("3 alerts (1 unreadable lines)\n\nby severity\n  critical  2\n  low       1\n"))
    }
}

/// Rotated days, as logrotate compresses them (`compress` in deploy/kordon.logrotate), read as the plain log.
final class AlertLogFileTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-logfile-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Compressed with the system's gzip, which logrotate runs.
    private func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kf", path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func readsPlainGzippedAndConcatenatedLogsAlike() throws {
        // Past the reader's 256 KiB output chunk, so inflating takes more than one round.
        let text = (0..<2_000).map { alert(id: "a\($0)") + "\n" }.joined()
        let plain = directory + "/alerts.jsonl"
        try text.write(toFile: plain, atomically: true, encoding: .utf8)
        try gzip(plain)
        #expect(try AlertLogFile.contents(of: plain) == Array(text.utf8))
        #expect(try AlertLogFile.contents(of: plain + ".gz") == Array(text.utf8))

        // Two gzip members one after the other read as both days, as `zcat` gives them.
        let compressed = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        try (compressed + compressed).write(to: URL(fileURLWithPath: directory + "/two.jsonl.gz"))
        #expect(try AlertLogFile.contents(of: directory + "/two.jsonl.gz") == Array((text + text).utf8))
    }

    @Test func aTruncatedGzipFileIsAnError() throws {
        let plain = directory + "/alerts.jsonl"
        try (0..<100).map { alert(id: "a\($0)") + "\n" }.joined().write(toFile: plain, atomically: true, encoding: .utf8)
        try gzip(plain)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: directory + "/cut.jsonl.gz"))
        #expect(throws: AlertLogFile.Corrupt.self) { try AlertLogFile.contents(of: self.directory + "/cut.jsonl.gz") }
    }
}
