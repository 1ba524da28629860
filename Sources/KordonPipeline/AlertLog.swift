#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The local alert log operators tail: one JSON object a line.
///
/// Each line goes out in one `write(2)` on an `O_APPEND` descriptor, so a reader never sees half a
/// line and nothing is ever truncated. The file is created with mode 0640 whatever the umask. It
/// is reopened when asked (`requestReopen`, from SIGUSR1 after logrotate) and when the file at the
/// path is no longer the one open (moved away or deleted), so alerts never go to a rotated file.
public final class AlertLog: @unchecked Sendable {
    public let path: String
    private var fd: Int32 = -1
    private var openedAs = stat()
    private let reopenRequested = Atomic<Bool>(false)

    public init(path: String) throws(AlertLogError) {
        self.path = path
        try open()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Safe from any thread: the next append reopens the file first.
    public func requestReopen() { reopenRequested.store(true, ordering: .releasing) }

    /// Appends `line` and a newline. Call from one thread at a time.
    public func append(_ line: some Collection<UInt8>) throws(AlertLogError) {
        if reopenRequested.exchange(false, ordering: .acquiringAndReleasing) || movedAway() {
            close(fd)
            fd = -1
            try open()
        }
        var buffer = [UInt8]()
        buffer.reserveCapacity(line.count + 1)
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        let written = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        // A regular file takes an O_APPEND write whole unless the disk is full or a limit is hit.
        guard written == buffer.count else {
            throw AlertLogError(path: path, operation: "write", errno: written < 0 ? errno : ENOSPC)
        }
    }

    /// Makes every appended line durable (fsync): call before committing the offsets behind them.
    public func sync() throws(AlertLogError) {
        guard fsync(fd) == 0 else { throw AlertLogError(path: path, operation: "fsync", errno: errno) }
    }

    private func open() throws(AlertLogError) {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AlertLogError(path: path, operation: "open", errno: errno) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = errno
            close(descriptor)
            throw AlertLogError(path: path, operation: "stat", errno: error)
        }
        // The mode given to open is filtered by the umask; the log's mode is part of its contract.
        if info.st_size == 0, info.st_mode & 0o777 != 0o640 { fchmod(descriptor, 0o640) }
        fd = descriptor
        openedAs = info
    }

    private func movedAway() -> Bool {
        var current = stat()
        guard stat(path, &current) == 0 else { return true }
        return current.st_ino != openedAs.st_ino || current.st_dev != openedAs.st_dev
    }
}

public struct AlertLogError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var operation: String
    public var errno: Int32

    public var description: String { "alert log \(path): \(operation): \(String(cString: strerror(errno)))" }
}
