import Foundation
import KordonKafka
import KordonPipeline
import KordonTestSupport
import Logging
import Testing

extension Kafka {
    /// Taking up the role creates clients of both kinds from the operator's settings: none may be
    /// handed the other kind's properties, which librdkafka warns about at every start.
    @Suite struct ConfigWarningTests {
        @Test func takingUpTheRoleLogsNoConfigurationWarnings() async throws {
            let cluster = try MockCluster(brokers: 1, logger: testLogger)
            try cluster.createTopic("in", partitions: 1)
            let directory = try temporaryDirectory("config-warnings")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let handler = CapturingLogHandler()
            handler.logLevel = .warning
            // The consumer's settings carry consumer-only properties (session and heartbeat timings).
            let pipeline = try makePipeline(
                cluster, group: "g-config-warnings", inputs: ["in"], directory: directory,
                logger: Logger(label: "capture") { _ in handler })
            async let finished: Void = onDedicatedThread(name: "pipeline") { try pipeline.run() }
            let active = ContinuousClock.now + .seconds(30)
            while !pipeline.isActive, ContinuousClock.now < active { try await Task.sleep(for: .milliseconds(20)) }
            #expect(pipeline.isActive)
            pipeline.stop()
            try await finished
            let warnings = handler.entries.withLock { $0 }.filter { $0.metadata["rdkafka.facility"] == "CONFWARN" }
            #expect(warnings.isEmpty, "\(warnings.map(\.message))")
        }
    }
}
