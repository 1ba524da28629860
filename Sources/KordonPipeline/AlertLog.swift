#if canImport(Glibc)
import Glibc
#endif
import Foundation
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

    /// Which file the log is and how long it is: where lines appended from now on begin.
    public struct Position: Sendable, Equatable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64

        public init(device: UInt64, inode: UInt64, size: Int64) {
            self.device = device
            self.inode = inode
            self.size = size
        }
    }

    public func position() throws(AlertLogError) -> Position {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AlertLogError(path: path, operation: "stat", errno: errno) }
        return Position(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size))
    }

    /// The lines appended since `position`: from the file at the path, or, when that is a newer file
    /// (rotated since), from the rotated one, whatever logrotate named it (found in the same
    /// directory by its inode; gone if already compressed), and all of the newer one.
    public static func lines(since position: Position, path: String) -> [ArraySlice<UInt8>] {
        func read(_ file: String, from offset: Int64) -> [ArraySlice<UInt8>] {
            guard let handle = FileHandle(forReadingAtPath: file) else { return [] }
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(max(offset, 0)))
            let bytes = [UInt8]((try? handle.readToEnd()) ?? Data())
            return bytes.split(separator: UInt8(ascii: "\n"))
        }
        func isRecorded(_ file: String) -> Bool {
            var info = stat()
            return stat(file, &info) == 0 && UInt64(info.st_dev) == position.device && UInt64(info.st_ino) == position.inode
        }
        if isRecorded(path) { return read(path, from: position.size) }
        let directory = (path as NSString).deletingLastPathComponent
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        let rotated = siblings.lazy.map { (directory as NSString).appendingPathComponent($0) }.first(where: isRecorded)
        return (rotated.map { read($0, from: position.size) } ?? []) + read(path, from: 0)
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
