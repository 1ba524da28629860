import Foundation
import KordonPipeline
import Testing

final class AlertLogTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-log-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func appendsOneLinePerAlertWithMode0640() throws {
        let path = directory + "/alerts.jsonl"
        let previous = umask(0o022)
        defer { umask(previous) }
        let log = try AlertLog(path: path)
        try log.append(Array(#"{"id":"a"}"#.utf8))
        try log.append(Array(#"{"id":"b"}"#.utf8))
        try log.sync()
        #expect(try lines(path) == [#"{"id":"a"}"#, #"{"id":"b"}"#, ""])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
    }

    @Test func neverTruncatesAnExistingLog() throws {
        let path = directory + "/alerts.jsonl"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        let log = try AlertLog(path: path)
        try log.append(Array("new".utf8))
        #expect(try lines(path) == ["old", "new", ""])
    }

    /// logrotate moves the file away and signals: new lines go to a new file at the path.
    @Test func reopensWhenRotated() throws {
        let path = directory + "/alerts.jsonl"
        let log = try AlertLog(path: path)
        try log.append(Array("before".utf8))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try log.append(Array("after".utf8))
        #expect(try lines(path + ".1") == ["before", ""])
        #expect(try lines(path) == ["after", ""])

        // copytruncate-style or a signal without a move: reopening keeps appending to the same file.
        log.requestReopen()
        try log.append(Array("again".utf8))
        #expect(try lines(path) == ["after", "again", ""])
    }

    @Test func reopensWhenDeleted() throws {
        let path = directory + "/alerts.jsonl"
        let log = try AlertLog(path: path)
        try log.append(Array("one".utf8))
        try FileManager.default.removeItem(atPath: path)
        try log.append(Array("two".utf8))
        #expect(try lines(path) == ["two", ""])
    }

    @Test func anUnwritableDirectoryIsAClearError() {
        #expect {
            _ = try AlertLog(path: "/nonexistent-dir/alerts.jsonl")
        } throws: { "\($0)" == "alert log /nonexistent-dir/alerts.jsonl: open: No such file or directory" }
    }
}

extension AlertLogTests {
    /// After a rotation under any name (logrotate's dateext), the lines since a position come from
    /// the rotated file, found by its inode, then from all of the new one.
    @Test func linesSinceAPositionFollowARotationUnderAnyName() throws {
        let path = directory + "/alerts.jsonl"
        let log = try AlertLog(path: path)
        try log.append(Array("old-1".utf8))
        let position = try log.position()
        try log.append(Array("old-2".utf8))
        try FileManager.default.moveItem(atPath: path, toPath: directory + "/alerts.jsonl-20261129")
        try log.append(Array("new-1".utf8))
        let lines = AlertLog.lines(since: position, path: path).map { String(decoding: $0, as: UTF8.self) }
        #expect(lines == ["old-2", "new-1"])
        #expect(AlertLog.lines(since: try log.position(), path: path).isEmpty)
    }
}
