import ArgumentParser
import Foundation
import KordonSimulator

/// `kordon score --truth LABELS --alerts ALERTS`: detection figures per rule against ground truth.
struct ScoreAlerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score alerts against the ground truth of `kordon simulate`: recall and precision per rule.",
        discussion: """
            An alert matches a label when rule, key type and key value are equal and the alert is about \
            the labelled incident: one of its evidence ids is among the label's events, or its time lies \
            within the label's from…until. Alerts are taken in file order: one matching incidents not yet \
            detected detects the earliest of them; one matching only detected incidents is a repeat \
            (reported, not counted as false); any other is a false alert (\"near-miss\" counts those about \
            a planted near miss, of all near misses). recall = detected / incidents, precision = detected / \
            (detected + false); \"-\" where undefined. Keys must not be pseudonymised. Prints a table per \
            rule and a total; exits 1 when a rule or the total is below --min-recall or --min-precision, \
            2 when a file cannot be read or parsed.
            """)

    @Option(help: "Labels written by `kordon simulate --labels`.")
    var truth: String

    @Option(help: "Alerts as JSON lines, e.g. from `kordon replay`.")
    var alerts: String

    @Option(help: "Lowest acceptable recall, per rule and in total.")
    var minRecall: Double?

    @Option(help: "Lowest acceptable precision, per rule and in total.")
    var minPrecision: Double?

    func run() throws {
        let labels = try readLines(truth) { line throws(ScoreInputError) in try Label(jsonLine: line) }
        let scored = try readLines(alerts) { line throws(ScoreInputError) in try ScoredAlert(jsonLine: line) }
        let score = Score(truth: labels, alerts: scored)
        print(score.table, terminator: "")
        let failures = score.failures(minRecall: minRecall, minPrecision: minPrecision)
        for failure in failures { printError("kordon score: below threshold: \(failure)") }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func readLines<T>(_ path: String, _ parse: (Substring) throws(ScoreInputError) -> T) throws -> [T] {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("kordon score: cannot read \(path)")
            throw ExitCode(2)
        }
        var items: [T] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do {
                items.append(try parse(line))
            } catch {
                printError("kordon score: \(path):\(number + 1): \(error)")
                throw ExitCode(2)
            }
        }
        return items
    }
}

