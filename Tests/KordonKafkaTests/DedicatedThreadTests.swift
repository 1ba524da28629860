import Foundation
import KordonKafka
import Testing

@Suite struct DedicatedThreadTests {
    /// Operators tell the pipeline's threads apart in `top -H` by the system's thread name, which a
    /// thread otherwise inherits from whichever thread started it.
    @Test func workRunsOnAThreadCarryingItsName() async throws {
        let seen = try await onDedicatedThread(name: "kordon-test") {
            try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        }
        #expect(seen == "kordon-test\n")
        let caller = try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        #expect(caller != "kordon-test\n")
    }
}
