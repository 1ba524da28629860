import ArgumentParser
import Foundation
import KordonEngine

/// The `--config` option of every command that needs the daemon config.
struct ConfigOption: ParsableArguments {
    @Option(
        help: """
            The daemon config; it names the rulebook and geography relative to itself. Default: \
            $KORDON_CONFIG, else /etc/kordon/kordon.yaml if it exists, else config/kordon.yaml.
            """)
    var config: String?

    var file: String { config ?? KordonConfig.defaultPath() }

    /// The loaded config; on errors, prints each (file:line: field: problem) to stderr and exits 2.
    func load() throws -> KordonConfig {
        do {
            return try KordonConfig.load(file: file)
        } catch {
            for problem in error.errors { printError(problem.description) }
            throw ExitCode(2)
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
