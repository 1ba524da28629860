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

    /// For commands that work without a config and take defaults from one (the alert log, topics):
    /// the config `--config` or `KORDON_CONFIG` names, else the default one where it exists; nil when
    /// there is none. A config named or found must load (see `load`).
    func loadIfPresent() throws -> KordonConfig? {
        let named = config != nil || !(ProcessInfo.processInfo.environment["KORDON_CONFIG"] ?? "").isEmpty
        guard named || FileManager.default.fileExists(atPath: file) else { return nil }
        return try load()
    }

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

/// Why `path` cannot be read, in the system's words ("No such file or directory", "Is a directory",
/// "Permission denied"), where Foundation says "The operation could not be completed"; `error` as
/// Foundation put it when the file opens after all.
func readFailure(_ path: String, _ error: any Error) -> String {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return String(cString: strerror(errno)) }
    defer { close(descriptor) }
    var status = stat()
    if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { return String(cString: strerror(EISDIR)) }
    return error.localizedDescription
}
