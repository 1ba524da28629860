import Foundation

/// Runs blocking work (librdkafka polls, flushes, commits) on a thread of its own, off Swift's
/// cooperative pool, and resumes the caller with its result.
public func onDedicatedThread<T: Sendable>(
    name: String, _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = name
        thread.start()
    }
}
