import ArgumentParser
import Foundation
import KordonEngine
import KordonSimulator

/// Simulator throughput on one thread: the bytes of a stream to memory, then to a real file.
struct SimulateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulator: events/s and MB/s generating a stream to memory and to a file, and peak memory.",
        discussion: """
            Runs the simulator over the configured geography and rulebook with default options (background \
            traffic, 48 incidents and 48 near misses a day, labels taken as they complete) on one thread, as \
            `kordon simulate` does. To memory: each message goes into a 1 MiB buffer that is counted and \
            reused, so only generation is timed. To file: the same stream, the buffer written to a file \
            under /tmp whenever it fills, closed (not synced) and deleted. Best of --rounds each; then the \
            process's peak RSS (getrusage).
            """)

    @Option(help: "Events to generate per run.")
    var events = 2_000_000

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "Timed rounds per target; the fastest counts.")
    var rounds = 3

    @Option(help: "Config file naming the rulebook and geography.")
    var config = "config/kordon.yaml"

    func validate() throws {
        guard events > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
    }

    func run() throws {
        let loaded: KordonConfig
        do { loaded = try KordonConfig.load(file: config) } catch { throw ValidationError("\(error)") }
        var options = SimulationOptions()
        options.seed = seed
        options.events = events
        options.lateness = loaded.settings.lateness
        print("simulate: \(events) events, seed \(seed), geography and rulebook from \(config)")

        let memory = fastest { generate(options, loaded, into: nil) }
        report("to memory", memory)

        let path = "/tmp/kordon-bench-simulate-\(getpid()).jsonl"
        defer { unlink(path) }
        let file = try fastest { () throws -> Run in
            let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw ValidationError("cannot write \(path)") }
            defer { close(fd) }
            return generate(options, loaded, into: fd)
        }
        report("to file (/tmp, deleted after)", file)

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("  peak RSS \(String(format: "%.0f", Double(usage.ru_maxrss) / 1024)) MiB")
    }

    private struct Run {
        var seconds: Double
        var bytes: Int
        var labels: Int
    }

    /// One whole stream; with `fd`, every full buffer goes to it.
    private func generate(_ options: SimulationOptions, _ loaded: KordonConfig, into fd: Int32?) -> Run {
        let clock = ContinuousClock()
        var bytes = 0
        var labels = 0
        let elapsed = clock.measure {
            var simulator = Simulator(options: options, geography: loaded.geography, rulebook: loaded.rulebook)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20 + 64 << 10)
            func flush() {
                bytes += buffer.count
                if let fd { writeAll(fd, buffer) }
                buffer.removeAll(keepingCapacity: true)
            }
            while simulator.next(into: &buffer) != nil {
                labels += simulator.takeLabels().count
                if buffer.count >= 1 << 20 { flush() }
            }
            flush()
        }
        return Run(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, bytes: bytes, labels: labels)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(written > 0, "write failed: errno \(errno)")
                offset += written
            }
        }
    }

    private func fastest(_ body: () throws -> Run) rethrows -> Run {
        var best: Run?
        for _ in 0..<rounds {
            let run = try body()
            if best == nil || run.seconds < best!.seconds { best = run }
        }
        return best!
    }

    private func report(_ name: String, _ run: Run) {
        print(
            "  \(name.padding(toLength: 30, withPad: " ", startingAt: 0))"
                + "\(String(format: "%12.0f", Double(events) / run.seconds)) events/s "
                + "\(String(format: "%9.1f", Double(run.bytes) / run.seconds / 1e6)) MB/s "
                + "(\(String(format: "%.1f", Double(run.bytes) / 1e6)) MB, \(run.labels) labels, best of \(rounds))")
    }
}
