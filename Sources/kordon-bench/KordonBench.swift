import ArgumentParser

@main
struct KordonBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kordon-bench",
        abstract: "Kordon's benchmarks: each prints its figures beside a reference measured in the same run.",
        subcommands: [ConsumeBench.self, DecodeBench.self, EngineBench.self, PipelineBench.self, SimulateBench.self])
}
