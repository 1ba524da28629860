import ArgumentParser
import Foundation
import KordonEngine

/// `kordon check [--config FILE]`: validates the daemon config, rulebook and geography.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the daemon config, the rulebook and the geography.",
        discussion: """
            Prints FILE:LINE: FIELD: problem for every problem found in any of the files and exits 1, \
            or prints a summary and exits 0. Without --config: KORDON_CONFIG, else /etc/kordon/kordon.yaml \
            when it exists, else config/kordon.yaml under the working directory.
            """)

    @OptionGroup var config: ConfigOption

    func run() throws {
        let file = config.file
        let loaded: KordonConfig
        do {
            loaded = try KordonConfig.load(file: file)
        } catch {
            for problem in error.errors { print(problem) }
            throw ExitCode.failure
        }
        // Files the daemon reads only at start: secrets (whose contents are never shown) and the key.
        var problems: [String] = []
        for (name, path) in loaded.kafka.propertyFiles.sorted(by: { $0.key < $1.key })
        where !FileManager.default.isReadableFile(atPath: path) {
            problems.append("\(file): kafka.propertyFiles.\(name): cannot read \(path)")
        }
        if let keyFile = loaded.daemon.pseudonymKeyFile {
            do {
                _ = try Pseudonymiser.load(keyFile: keyFile)
            } catch {
                problems.append("\(file): daemon.pseudonymKeyFile: \(error)")
            }
        }
        guard problems.isEmpty else {
            for problem in problems { print(problem) }
            throw ExitCode.failure
        }
        print(
            "\(file): ok: \(Set(loaded.rulebook.rules.map(\.id)).count) rules enabled (\(loaded.rulesFile)), "
                + "\(loaded.geography.checkpoints.count) checkpoints, \(loaded.geography.zones.count) zones "
                + "(\(loaded.geographyFile)), \(loaded.rulebook.watchlists.count) watchlist\(loaded.rulebook.watchlists.count == 1 ? "" : "s")")
    }
}
