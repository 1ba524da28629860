import Foundation

/// Runs blocking work (librdkafka polls, flushes, commits) on a thread of its own, off Swift's
/// cooperative pool, and resumes the caller with its result. The work, and what it holds (Kafka
/// clients), is released before the caller resumes, not whenever the thread gets to exit: a client
/// outliving its caller's scope kept talking to brokers that had gone.
public func onDedicatedThread<T: Sendable>(
    name: String, _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let work = Work(body)
        let thread = Thread {
            let result = Result { try work.body!() }
            work.body = nil
            continuation.resume(with: result)
        }
        thread.name = name
        thread.start()
    }
}

/// Set before the thread starts and touched only by it after.
private final class Work<T>: @unchecked Sendable {
    var body: (@Sendable () throws -> T)?
    init(_ body: @escaping @Sendable () throws -> T) { self.body = body }
}
