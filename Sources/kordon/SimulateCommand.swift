import ArgumentParser
import Foundation
import KordonEngine
import KordonEvents
import KordonFeed
import KordonSimulator
import Logging

/// `kordon simulate`: a deterministic event stream with planted incidents and its ground truth.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate realistic border traffic with planted incidents, as JSON lines, and its ground truth.",
        discussion: """
            Background traffic runs through the checkpoint pairs of the config's geography in both \
            directions (trucks, vans, cars, buses, pedestrians, rail) with daily and weekly rhythms, each \
            exit followed by an entry at the facing checkpoint; declarations, weighbridge weights and \
            secondary inspections; patrol reports, ground sensors (mostly animals and noise) and vessels \
            on the Caspian. Into it go incidents of every rule the simulator plants, and near misses \
            that must not alert. The same seed and options give the same stream, byte for byte. \
            --labels writes one JSON line per planted incident and rule once the incident is complete \
            in the stream (see `kordon score`). --events counts generated events; redeliveries and \
            malformed messages come on top. With --brokers, each message goes to the contract's input topic \
            for its kind (crossing and inspection to the checkpoint topic, the others to the patrol topic), \
            with no key, through an idempotent producer; it waits for every delivery before it exits. A \
            summary goes to stderr.
            """)

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "Messages per second of wall time (default: as fast as possible).")
    var rate: Double?

    @Flag(help: "Write as fast as possible (the default).")
    var asFastAsPossible = false

    @Option(help: "Event time to cover, e.g. 6h, 1d, 2w (default 1d unless --events is given).")
    var duration: String?

    @Option(help: "Number of events to generate.")
    var events: Int?

    @Option(help: "Event time of the start, RFC 3339 (default 2026-12-01T00:00:00Z).")
    var start: String?

    @Option(help: "Share of events delivered out of order, within the allowed lateness.")
    var lateFraction = 0.0

    @Option(help: "Share of events delivered twice, within the allowed lateness.")
    var duplicateFraction = 0.0

    @Option(help: "Malformed messages per event.")
    var invalidFraction = 0.0

    @Option(help: "Planted incidents per day of event time.")
    var incidentsPerDay = 48.0

    @Option(help: "Planted near misses per day of event time.")
    var nearMissesPerDay = 48.0

    @Option(help: "Relative weights of rules among planted incidents, e.g. capacity.overload=0.5,contraband.structuring=2 (others keep 1; 0 plants none).")
    var mix: String?

    @Option(help: "Multiplies the background traffic rates (above about 2 checkpoints saturate and queue).")
    var trafficScale = 1.0

    @Option(help: "Where to write events: a file, or - for stdout (the default unless --brokers is given).")
    var output: String?

    @Option(help: "Kafka bootstrap servers (host:port,...) to publish the events to.")
    var brokers: String?

    @Option(help: "Topic for crossing and inspection events.")
    var checkpointTopic = "border.checkpoint.events"

    @Option(help: "Topic for patrol, sensor and vessel events.")
    var patrolTopic = "border.patrol.events"

    @Option(help: "Where to write the ground truth labels (JSON lines).")
    var labels: String?

    @OptionGroup var config: ConfigOption

    func validate() throws {
        if rate != nil, asFastAsPossible { throw ValidationError("--rate and --as-fast-as-possible exclude each other") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be above 0") }
        if let events, events < 0 { throw ValidationError("--events must be 0 or more") }
        if let duration, parseDuration(duration) == nil { throw ValidationError("--duration: expected e.g. 90s, 15m, 6h, 2d, 1w") }
        if let start, Timestamp(rfc3339: start) == nil { throw ValidationError("--start: expected an RFC 3339 time") }
        for (name, value) in [("--late-fraction", lateFraction), ("--duplicate-fraction", duplicateFraction), ("--invalid-fraction", invalidFraction)]
        where !(0...1).contains(value) {
            throw ValidationError("\(name) must lie in 0...1")
        }
        if incidentsPerDay < 0 || nearMissesPerDay < 0 || trafficScale < 0 {
            throw ValidationError("rates and scales must be 0 or more")
        }
        _ = try parsedMix()
    }

    private func parsedMix() throws -> [String: Double] {
        var weights = SimulationOptions().mix
        guard let mix else { return weights }
        for item in mix.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let weight = Double(parts[1]), weight >= 0 else {
                throw ValidationError("--mix: expected RULE=WEIGHT, got \"\(item)\"")
            }
            guard weights[parts[0]] != nil else {
                throw ValidationError("--mix: the simulator plants no \"\(parts[0])\"; it plants \(Planters.rules.joined(separator: ", "))")
            }
            weights[parts[0]] = weight
        }
        return weights
    }

    func run() throws {
        let loaded = try config.load()
        var options = SimulationOptions()
        options.seed = seed
        if let start, let time = Timestamp(rfc3339: start) { options.start = time }
        options.events = events
        options.duration = duration.flatMap(parseDuration) ?? (events == nil ? parseDuration("1d") : nil)
        options.lateFraction = lateFraction
        options.duplicateFraction = duplicateFraction
        options.invalidFraction = invalidFraction
        options.lateness = loaded.settings.lateness
        options.incidentsPerDay = incidentsPerDay
        options.nearMissesPerDay = nearMissesPerDay
        options.mix = try parsedMix()
        options.trafficScale = trafficScale
        var simulator = Simulator(options: options, geography: loaded.geography, rulebook: loaded.rulebook)

        let outputPath = output ?? (brokers == nil ? "-" : nil)
        let out = try outputPath.map(open)
        let kafka = try brokers.map { brokers in
            var logger = Logger(label: "kordon.simulate")
            logger.logLevel = .warning
            return try SimulatedFeed(brokers: brokers, checkpointTopic: checkpointTopic, patrolTopic: patrolTopic, logger: logger)
        }
        let labelsOut = try labels.map(open)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var labelBuffer: [UInt8] = []
        var originals = 0
        var late = 0
        var duplicates = 0
        var invalid = 0
        var incidents = 0
        var nearMisses = 0
        var written = 0
        let began = Date()
        func flush() {
            // Written in place: copying each megabyte into a Data first cost as much as the write.
            if !buffer.isEmpty {
                buffer.withUnsafeMutableBytes { out?.write(Data(bytesNoCopy: $0.baseAddress!, count: $0.count, deallocator: .none)) }
            }
            buffer.removeAll(keepingCapacity: true)
        }
        while true {
            let lineStart = buffer.count
            guard let message = simulator.next(into: &buffer) else { break }
            switch message.emitted {
            case .event(let isLate):
                originals += 1
                if isLate { late += 1 }
            case .duplicate: duplicates += 1
            case .invalid: invalid += 1
            }
            written += 1
            try kafka?.send(buffer[lineStart...], kind: message.kind)
            for label in simulator.takeLabels() {
                if label.fire { incidents += 1 } else { nearMisses += 1 }
                labelBuffer += label.jsonLine()
            }
            if let rate {
                // Pace by wall time: write out, then sleep until the schedule catches up.
                let due = Double(written) / rate
                let elapsed = Date().timeIntervalSince(began)
                if due > elapsed {
                    flush()
                    Thread.sleep(forTimeInterval: due - elapsed)
                }
            }
            if buffer.count >= 1 << 20 { flush() }
        }
        flush()
        do {
            try kafka?.finish(timeout: .seconds(120))
        } catch {
            printError("kordon simulate: \(error)")
            throw ExitCode(1)
        }
        labelsOut?.write(Data(labelBuffer))
        if outputPath != "-" { try out?.close() }
        try labelsOut?.close()
        printError(
            "kordon simulate: \(written) messages: \(originals) events (\(late) out of order), "
                + "\(duplicates) redeliveries, \(invalid) malformed; "
                + "\(incidents) incident labels, \(nearMisses) near-miss labels")
    }

    private func open(_ path: String) throws -> FileHandle {
        if path == "-" { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            printError("kordon simulate: cannot write \(path)")
            throw ExitCode(2)
        }
        return handle
    }
}
