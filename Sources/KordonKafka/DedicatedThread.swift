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
        startThread(name: name) {
            let result = Result { try work.body!() }
            work.body = nil
            continuation.resume(with: result)
        }
    }
}

/// Starts a thread running `body` under `name` (at most 15 bytes), the name `top -H`, `ps -L`,
/// perf and debuggers show. Foundation's `Thread.name` does not reach the system on Linux, where a
/// thread otherwise shows the name of the one that started it (a dispatch worker's, as often as not).
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    precondition(name.utf8.count <= 15, "thread name \(name) is longer than Linux keeps")
    let thread = Thread {
        // What pthread_setname_np does, which Swift's Glibc module does not declare.
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = name.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
        body()
    }
    thread.start()
}

/// Set before the thread starts and touched only by it after.
private final class Work<T>: @unchecked Sendable {
    var body: (@Sendable () throws -> T)?
    init(_ body: @escaping @Sendable () throws -> T) { self.body = body }
}
