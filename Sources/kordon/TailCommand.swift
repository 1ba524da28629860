import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents
import KordonOperations

/// `kordon tail`: the alert log as aligned one-line summaries, for people who run `tail -f | jq`.
struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the alert log as one line per alert: severity, time, rule, key, location, title.",
        discussion: """
            Prints the last --lines alerts that pass the filters, then with --follow keeps printing \
            new ones, across log rotation (a moved or truncated log is followed to its new file). \
            --since compares with the time an alert was emitted; --severity shows that severity and \
            above. Lines that are not alerts are skipped.
            """)

    @Argument(help: "The alert log. Default: the config's daemon.alertLog, without a config \(KordonConfig.defaultAlertLog).")
    var file: String?

    @Flag(name: .shortAndLong, help: "Keep printing alerts as they are appended.")
    var follow = false

    @Option(help: "Minimum severity: low, medium, high or critical.")
    var severity: String?

    @Option(help: "Only this rule (repeatable); a trailing * matches a prefix, e.g. weapons.*")
    var rule: [String] = []

    @Option(help: "Only alerts emitted since: a duration back from now (30m, 2h, 1d) or an RFC 3339 time.")
    var since: String?

    @Option(name: [.customShort("n"), .long], help: "How many of the existing alerts to show first.")
    var lines = 20

    @Flag(help: "Print the alerts' JSON lines instead of summaries.")
    var json = false

    @Option(help: "Color the severity: auto (when writing to a terminal), always or never.")
    var color = "auto"

    @OptionGroup var config: ConfigOption

    func validate() throws {
        if let severity, !AlertFilter.severities.contains(severity) {
            throw ValidationError("--severity must be one of \(AlertFilter.severities.joined(separator: ", "))")
        }
        if let since, sinceTime(since) == nil {
            throw ValidationError("--since: expected a duration like 2h or an RFC 3339 time, got \"\(since)\"")
        }
        guard ["auto", "always", "never"].contains(color) else { throw ValidationError("--color: auto, always or never") }
    }

    func run() throws {
        let filter = AlertFilter(minimumSeverity: severity, rules: rule, since: since.flatMap(sinceTime))
        let formatter = AlertLineFormatter(color: color == "always" || (color == "auto" && isatty(STDOUT_FILENO) == 1))
        let file = try file ?? alertLog(of: config, command: "tail")
        guard FileManager.default.fileExists(atPath: file) || follow else {
            printError("kordon tail: \(file): no such file")
            throw ExitCode(2)
        }
        let follower = LogFollower(path: file)
        func show(_ lines: [String]) -> [String] {
            lines.compactMap { line in
                guard let alert = AlertLine(json: line), filter.matches(alert) else { return nil }
                return json ? line : formatter.format(alert)
            }
        }
        for line in show(follower.poll()).suffix(lines) { print(line) }
        fflush(nil)
        while follow {
            Thread.sleep(forTimeInterval: 0.25)
            let new = show(follower.poll())
            guard !new.isEmpty else { continue }
            for line in new { print(line) }
            fflush(nil)
        }
    }

    private func sinceTime(_ text: String) -> Timestamp? {
        if let time = Timestamp(rfc3339: text) { return time }
        guard let back = parseDuration(text) else { return nil }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        return Timestamp(nanosecondsSinceEpoch: now - back)
    }
}

/// `kordon stats`: what an alert log holds, by rule, severity, checkpoint and day.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Summarise alert logs: counts by severity, rule, checkpoint and day (event time, UTC).")

    @Argument(
        help: "Alert logs (JSON lines), plain or rotated and gzip-compressed. Default: the config's daemon.alertLog, without a config \(KordonConfig.defaultAlertLog).")
    var files: [String] = []

    @OptionGroup var config: ConfigOption

    func run() throws {
        var stats = AlertStats()
        for file in try files.isEmpty ? [alertLog(of: config, command: "stats")] : files {
            let bytes: [UInt8]
            do {
                bytes = try AlertLogFile.contents(of: file)
            } catch let corrupt as AlertLogFile.Corrupt {
                printError("kordon stats: cannot read \(file): \(corrupt)")
                throw ExitCode(2)
            } catch {
                printError("kordon stats: cannot read \(file): \(readFailure(file, error))")
                throw ExitCode(2)
            }
            for line in bytes.split(separator: UInt8(ascii: "\n")) { stats.add(line: String(decoding: line, as: UTF8.self)) }
        }
        print(stats.report, terminator: "")
    }
}

/// The alert log the config names (see `ConfigOption.loadIfPresent`), else the default one. A config
/// that does not load is reported with a hint: the log can be named instead.
private func alertLog(of config: ConfigOption, command: String) throws -> String {
    do {
        return try config.loadIfPresent()?.daemon.alertLog ?? KordonConfig.defaultAlertLog
    } catch {
        printError("kordon \(command): to read an alert log without the config \(config.file), name it: kordon \(command) FILE")
        throw error
    }
}
