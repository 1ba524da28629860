import Foundation
import KordonTestSupport
import Synchronization
import Testing

/// `kordon tail --follow` as operators run it, on a log rotated while it follows.
@Test func tailFollowsTheAlertLogAcrossARotation() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-tail-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let log = directory + "/alerts.jsonl"
    func line(_ id: String) -> String {
        #"{"v":1,"id":"\#(id)","rule":"weapons.undeclared","category":"weapons","severity":"critical","title":"t","time":"2026-11-28T06:41:00Z","emittedAt":"2026-11-28T07:00:00Z","key":{"type":"plate","value":"123ABC15"},"location":{"checkpoint":"KZ-PETROPAVL-1","direction":"exit"},"evidence":[],"evidenceTotal":0,"facts":{},"suppressed":0}"#
            + "\n"
    }
    func append(_ ids: [String], to file: String) throws {
        if !FileManager.default.fileExists(atPath: file) { _ = FileManager.default.createFile(atPath: file, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(ids.map(line).joined().utf8))
        try handle.close()
    }
    try append(["a1", "a2"], to: log)

    let tail = Process()
    tail.executableURL = productsDirectory.appendingPathComponent("kordon")
    tail.arguments = ["tail", "--follow", "--json", log]
    let output = Pipe()
    tail.standardOutput = output
    let received = Mutex("")
    output.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        received.withLock { $0 += String(decoding: data, as: UTF8.self) }
    }
    try tail.run()
    defer {
        tail.terminate()
        tail.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
    }
    func ids() -> [String] {
        received.withLock { $0 }.split(separator: "\n").compactMap { text in
            text.range(of: #""id":""#).map { String(text[$0.upperBound...].prefix { $0 != "\"" }) }
        }
    }
    #expect(try await waitFor(timeout: .seconds(20)) { ids().count >= 2 })
    try append(["a3"], to: log)
    // logrotate: move away (the writer may still finish a line in the old file), then a new file.
    try FileManager.default.moveItem(atPath: log, toPath: log + "-20261129")
    try append(["a4"], to: log + "-20261129")
    try append(["a5", "a6"], to: log)
    #expect(try await waitFor(timeout: .seconds(20)) { ids().count >= 6 })
    #expect(ids() == ["a1", "a2", "a3", "a4", "a5", "a6"])
}
