import Foundation
import KordonTestSupport
import Testing

/// The systemd unit and the install script, as a packager and systemd see them.
final class DeployTests {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-root-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: root) }

    private func install() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository.appendingPathComponent("deploy/install.sh").path]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "DESTDIR": root.path, "PREFIX": "/opt/kordon",
            "KORDON_BINARY": productsDirectory.appendingPathComponent("kordon").path,
        ]) { _, new in new }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func output(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func installHonoursDestdirAndPrefixAndKeepsAnEditedConfig() throws {
        #expect(try install() == 0)
        let files = FileManager.default
        #expect(files.isExecutableFile(atPath: root.path + "/opt/kordon/bin/kordon"))
        for path in [
            "/opt/kordon/lib/systemd/system/kordon.service", "/opt/kordon/lib/sysusers.d/kordon.conf",
            "/opt/kordon/lib/tmpfiles.d/kordon.conf", "/etc/logrotate.d/kordon", "/etc/kordon/kordon.yaml",
            "/etc/kordon/rules.yaml", "/etc/kordon/geography.yaml",
        ] {
            #expect(files.fileExists(atPath: root.path + path), "\(path) missing")
        }
        let unit = try String(contentsOfFile: root.path + "/opt/kordon/lib/systemd/system/kordon.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/kordon/bin/kordon run --config /etc/kordon/kordon.yaml"))
        let mode = try files.attributesOfItem(atPath: root.path + "/etc/kordon/kordon.yaml")[.posixPermissions] as? Int
        #expect(mode == 0o640)

        // An operator's edit survives a reinstall; the shipped file lands beside it.
        try "# edited\n".write(toFile: root.path + "/etc/kordon/kordon.yaml", atomically: true, encoding: .utf8)
        #expect(try install() == 0)
        #expect(try String(contentsOfFile: root.path + "/etc/kordon/kordon.yaml", encoding: .utf8) == "# edited\n")
        #expect(files.fileExists(atPath: root.path + "/etc/kordon/kordon.yaml.new"))
    }

    /// `systemd-analyze verify` accepts the unit, and `security --offline` rates it 2.0 or better.
    @Test func unitVerifiesAndIsHardened() throws {
        let analyze = try #require(which("systemd-analyze"), "systemd-analyze is missing: make test installs systemd")
        #expect(try install() == 0)
        // verify checks that ExecStart exists: point it at the staged binary.
        let unit = try String(contentsOfFile: root.path + "/opt/kordon/lib/systemd/system/kordon.service", encoding: .utf8)
            .replacingOccurrences(of: "/opt/kordon/bin/kordon", with: root.path + "/opt/kordon/bin/kordon")
        let staged = root.appendingPathComponent("kordon.service").path
        try unit.write(toFile: staged, atomically: true, encoding: .utf8)

        let verify = try output(analyze, ["verify", staged])
        #expect(verify.status == 0, "\(verify.text)")

        let security = try output(analyze, ["security", "--offline=true", staged])
        let line = try #require(security.text.split(separator: "\n").first { $0.contains("Overall exposure level") })
        print("systemd-analyze security: \(line)")
        let figure = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        #expect(figure <= 2.0)
    }
}
