import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents

/// `kordon replay FILE... [--config FILE]`: runs the rulebook over JSON-lines event files.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the rulebook over JSON-lines event files; print alerts as JSON lines.",
        discussion: """
            Each file is one input with its own watermark; files are read a line from each in turn, \
            as partitions would be consumed. Alerts go to stdout, one per line; rejected and late events \
            and a summary go to stderr. Evidence names each event by topic = the file's name, \
            partition 0, offset = line number − 1. The same events in any order within the allowed \
            lateness give the same alerts, byte for byte apart from emittedAt. Exits 2 when a file \
            cannot be read or the config is invalid.
            """)

    @Argument(help: "JSON-lines files, one event per line.")
    var files: [String]

    @OptionGroup var config: ConfigOption

    func run() throws {
        let loaded = try config.load()
        var inputs: [(name: String, lines: LineReader)] = []
        for file in files {
            do {
                inputs.append(((file as NSString).lastPathComponent, try LineReader(path: file)))
            } catch {
                printError("kordon replay: cannot read \(file): \(readFailure(file, error))")
                throw ExitCode(2)
            }
        }
        // Watchlists are read once, with the config: a replay must not depend on when a file changes.
        var settings = loaded.settings
        settings.watchlistCheck = nil
        var engine = Engine(rulebook: loaded.rulebook, geography: loaded.geography, settings: settings) {
            // Microseconds: a Double holds no more precision for today's dates.
            Timestamp(nanosecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1e6).rounded()) * 1000)
        }
        for input in inputs { engine.register(InputID(topic: input.name, partition: 0)) }
        let decoder = EventDecoder()
        var alerts: [Alert] = []
        var rejected = 0
        let out = FileHandle.standardOutput
        func flush() {
            guard !alerts.isEmpty else { return }
            var bytes: [UInt8] = []
            for alert in alerts {
                bytes += alert.jsonBytes()
                bytes.append(UInt8(ascii: "\n"))
            }
            out.write(Data(bytes))
            alerts.removeAll(keepingCapacity: true)
        }
        var active = inputs.indices.filter { !inputs[$0].lines.isAtEnd }
        while !active.isEmpty {
            for index in active {
                let next: (Int, ArraySlice<UInt8>)?
                do { next = try inputs[index].lines.next() } catch {
                    printError("kordon replay: cannot read \(files[index]): \(readFailure(files[index], error))")
                    throw ExitCode(2)
                }
                guard let (number, line) = next else { continue }
                let origin = EventOrigin(topic: inputs[index].name, partition: 0, offset: Int64(number - 1))
                switch line.withUnsafeBytes({ decoder.decode($0) }) {
                case .failure(let rejection):
                    rejected += 1
                    printError("\(files[index]):\(number): rejected: \(rejection)")
                case .success(let event):
                    if case .late(let watermark) = engine.ingest(event, from: origin, into: &alerts) {
                        printError("\(files[index]):\(number): late: \(event.id) at \(event.time) is before the watermark \(watermark)")
                    }
                }
            }
            flush()
            active = active.filter { !inputs[$0].lines.isAtEnd }
        }
        engine.finish(into: &alerts)
        flush()
        let stats = engine.stats
        printError(
            "kordon replay: \(stats.accepted) events, \(stats.alerts) alerts, \(rejected) rejected, "
                + "\(stats.late) late, \(stats.duplicates) duplicates, \(stats.unknownCheckpoints) unknown checkpoints, "
                + "\(stats.unjoinedInspections) inspections without their crossing, "
                + "\(stats.openAbsences) absences still open at the end")
    }
}

/// Non-blank lines of a file with their 1-based numbers, read a block at a time: a day of traffic
/// replays without the day's file in memory (reading it whole took twice its size).
private final class LineReader {
    private let file: FileHandle
    private var buffer: [UInt8] = []
    /// The first byte of `buffer` not yet returned.
    private var start = 0
    private var exhausted = false
    private var number = 0
    /// The next non-blank line, read ahead so that `isAtEnd` is known before asking for it.
    private var ahead: (number: Int, line: ArraySlice<UInt8>)?
    private static let block = 1 << 20

    init(path: String) throws {
        file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        try readAhead()
    }

    var isAtEnd: Bool { ahead == nil }

    func next() throws -> (Int, ArraySlice<UInt8>)? {
        guard let line = ahead else { return nil }
        ahead = nil
        try readAhead()
        return line
    }

    /// Lines of only white space are skipped (as `kordon validate` does) but still numbered.
    private func readAhead() throws {
        while ahead == nil {
            let line: ArraySlice<UInt8>
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                line = buffer[start..<newline]
                start = newline + 1
            } else if !exhausted {
                try refill()
                continue
            } else if start < buffer.count {
                // A last line without its newline.
                line = buffer[start...]
                start = buffer.count
            } else {
                return
            }
            number += 1
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { ahead = (number, line) }
        }
    }

    /// Drops what was returned and appends the file's next block.
    private func refill() throws {
        buffer.removeSubrange(0..<start)
        start = 0
        guard let data = try file.read(upToCount: Self.block), !data.isEmpty else {
            exhausted = true
            return
        }
        buffer.append(contentsOf: data)
    }
}

