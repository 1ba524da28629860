import Foundation
import KordonEngine
import KordonEvents
import KordonTestSupport
import Testing

/// `kordon replay` reads its files a block at a time; lines must keep their numbers across blocks.
@Suite struct ReplayCommandTests {
    @Test func replaysAFileLargerThanItsReadBlockLineByLine() throws {
        let kordon = productsDirectory.appendingPathComponent("kordon").path
        let config = repositoryRoot.appendingPathComponent("config/kordon.yaml").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-replay-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let generated = directory.appendingPathComponent("generated.jsonl").path
        #expect(try run(kordon, ["simulate", "--events", "5000", "--seed", "5", "--output", generated, "--config", config]) == 0)

        // Blank lines, a malformed line and a last line without its newline, over more than one 1 MiB block.
        var lines = try String(contentsOfFile: generated, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert(contentsOf: ["", "  \t"], at: 0)
        lines.insert("{not json", at: 3000)
        let text = lines.joined(separator: "\n")
        #expect(text.utf8.count > 2 << 20)
        let file = directory.appendingPathComponent("input.jsonl")
        try text.write(to: file, atomically: true, encoding: .utf8)

        let stdout = directory.appendingPathComponent("stdout")
        let stderr = directory.appendingPathComponent("stderr")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kordon)
        process.arguments = ["replay", file.path, "--config", config]
        try Data().write(to: stdout)
        try Data().write(to: stderr)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let errors = try String(contentsOf: stderr, encoding: .utf8)
        #expect(errors.contains("\(file.path):3001: rejected: "))
        #expect(errors.contains("kordon replay: 5000 events,"))

        // The engine fed the same lines in process, each event at offset line − 1, gives the same alerts.
        let loaded = try shippedConfig()
        var settings = loaded.settings
        settings.watchlistCheck = nil
        var engine = Engine(rulebook: loaded.rulebook, geography: loaded.geography, settings: settings) {
            Timestamp(nanosecondsSinceEpoch: 0)
        }
        engine.register(InputID(topic: "input.jsonl", partition: 0))
        var alerts: [Alert] = []
        let decoder = EventDecoder()
        for (index, line) in lines.enumerated() {
            guard case .success(let event) = decoder.decode(line) else { continue }
            engine.ingest(event, from: EventOrigin(topic: "input.jsonl", partition: 0, offset: Int64(index)), into: &alerts)
        }
        engine.finish(into: &alerts)
        #expect(alerts.count > 10)
        let replayed = try String(contentsOf: stdout, encoding: .utf8).split(separator: "\n").map(withoutEmission)
        #expect(replayed == alerts.map { withoutEmission(String(decoding: $0.jsonBytes(), as: UTF8.self)) })
    }

    /// A file that is missing or a directory is named with the system's reason, not Foundation's
    /// "The operation could not be completed", by `replay` and `validate` alike.
    @Test(arguments: ["replay", "validate"])
    func unreadableFilesAreNamedWithTheReason(command: String) throws {
        let kordon = productsDirectory.appendingPathComponent("kordon").path
        let config = repositoryRoot.appendingPathComponent("config/kordon.yaml").path
        let directory = FileManager.default.temporaryDirectory.path
        for (path, reason) in [("/nonexistent-\(getpid()).jsonl", "No such file or directory"), (directory, "Is a directory")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: kordon)
            process.arguments = [command, path] + (command == "replay" ? ["--config", config] : [])
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(errors.contains("kordon \(command): cannot read \(path): \(reason)"), "\(errors)")
        }
    }

    private func withoutEmission(_ line: some StringProtocol) -> String {
        line.replacingOccurrences(of: #""emittedAt":"[^"]*""#, with: "", options: .regularExpression)
    }
}
