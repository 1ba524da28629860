#if canImport(Glibc)
import Glibc
#endif

/// Reads whole lines appended to a log, across rotation: when the path names a new file (moved
/// away, then recreated), the rest of the old file is read first, then the new one from its
/// start; a file truncated in place (copytruncate) is read again from its start.
public final class LogFollower {
    public let path: String
    private var fd: Int32 = -1
    private var inode: ino_t = 0
    private var offset = 0
    private var partial: [UInt8] = []

    /// Starts at the beginning of the file, or waits for it to appear.
    public init(path: String) {
        self.path = path
        reopen()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The complete lines available now (without their newline); never blocks.
    public func poll() -> [String] {
        var lines: [String] = []
        if fd < 0 { reopen() }
        guard fd >= 0 else { return lines }
        var current = stat()
        if fstat(fd, &current) == 0, current.st_size < offset {
            // Truncated in place: start over.
            offset = 0
            partial = []
            lseek(fd, 0, SEEK_SET)
        }
        drain(into: &lines)
        var atPath = stat()
        if stat(path, &atPath) == 0, atPath.st_ino != inode {
            // Rotated: what was written to the old file is all read above; follow the new one.
            close(fd)
            fd = -1
            reopen()
            drain(into: &lines)
        }
        return lines
    }

    private func reopen() {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var info = stat()
        fstat(fd, &info)
        inode = info.st_ino
        offset = 0
        partial = []
    }

    private func drain(into lines: inout [String]) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { return }
            offset += count
            var start = 0
            for i in 0..<count where buffer[i] == UInt8(ascii: "\n") {
                partial.append(contentsOf: buffer[start..<i])
                lines.append(String(decoding: partial, as: UTF8.self))
                partial.removeAll(keepingCapacity: true)
                start = i + 1
            }
            partial.append(contentsOf: buffer[start..<count])
        }
    }
}
