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
        do {
            let loaded = try KordonConfig.load(file: file)
            print(
                "\(file): ok: \(Set(loaded.rulebook.rules.map(\.id)).count) rules enabled (\(loaded.rulesFile)), "
                    + "\(loaded.geography.checkpoints.count) checkpoints, \(loaded.geography.zones.count) zones "
                    + "(\(loaded.geographyFile)), \(loaded.rulebook.watchlists.count) watchlist\(loaded.rulebook.watchlists.count == 1 ? "" : "s")")
        } catch {
            for problem in error.errors { print(problem) }
            throw ExitCode.failure
        }
    }
}
