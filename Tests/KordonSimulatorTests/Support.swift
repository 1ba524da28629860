import Foundation
import KordonEngine
import KordonEvents
import KordonSimulator

/// The repository's config, loaded once: the simulator must agree with the shipped rulebook and geography.
let shippedConfig: KordonConfig = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    do {
        return try KordonConfig.load(file: root.appendingPathComponent("config/kordon.yaml").path)
    } catch {
        fatalError("config/kordon.yaml does not load: \(error)")
    }
}()

struct Stream {
    var lines: [(emitted: Emitted, bytes: [UInt8])] = []
    var labels: [Label] = []

    var bytes: [UInt8] { lines.flatMap(\.bytes) }
}

/// Runs a simulator to its end, keeping each message apart.
func simulate(_ configure: (inout SimulationOptions) -> Void) -> Stream {
    var options = SimulationOptions()
    options.lateness = shippedConfig.settings.lateness
    configure(&options)
    var simulator = Simulator(options: options, geography: shippedConfig.geography)
    var stream = Stream()
    var buffer: [UInt8] = []
    while let message = simulator.next(into: &buffer) {
        stream.lines.append((message.emitted, buffer))
        buffer.removeAll(keepingCapacity: true)
        stream.labels += simulator.takeLabels()
    }
    return stream
}

/// A small stream of five days with every kind of delivery fault: long enough for the multi-day
/// patterns (structuring, repeated arms movement) to complete, light enough to replay in seconds.
let faultyWeek: Stream = simulate { options in
    options.seed = 2026
    options.duration = 5 * 86_400 * nanosPerSecond
    options.trafficScale = 0.15
    options.incidentsPerDay = 40
    options.nearMissesPerDay = 40
    options.lateFraction = 0.05
    options.duplicateFraction = 0.03
    options.invalidFraction = 0.02
}
