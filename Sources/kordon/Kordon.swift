import ArgumentParser

@main
struct Kordon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kordon",
        abstract: "Border alert pipeline: Kafka events in, stream detectors, alerts out.",
        subcommands: [
            Run.self, Validate.self, DevBroker.self, Check.self, Replay.self, TestRules.self, Simulate.self, ScoreAlerts.self, Tail.self,
            Stats.self,
        ])
}
