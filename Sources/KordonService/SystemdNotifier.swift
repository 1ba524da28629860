#if canImport(Glibc)
import Glibc
#endif

/// The systemd notify protocol (sd_notify(3)) without libsystemd: newline-separated assignments
/// in one datagram to the AF_UNIX socket named by `NOTIFY_SOCKET`.
public struct SystemdNotifier: Sendable {
    /// Where the datagrams go: a filesystem path, or an abstract name (written with a leading `@`).
    public let socketPath: String

    /// `nil` when the process was not started by systemd with `Type=notify` (no `NOTIFY_SOCKET`).
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || path.hasPrefix("@"), path.utf8.count > 1
        else { return nil }
        socketPath = path
    }

    /// The watchdog interval systemd expects pings within (`WATCHDOG_USEC`), if the watchdog is on
    /// for this process (`WATCHDOG_PID`, when set, must be ours).
    public static func watchdogInterval(environment: [String: String], pid: Int32 = getpid()) -> Duration? {
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        return .microseconds(usec)
    }

    public func ready(status: String) throws(NotifyError) { try send(["READY": "1", "STATUS": status]) }
    public func status(_ text: String) throws(NotifyError) { try send(["STATUS": text]) }
    public func watchdog() throws(NotifyError) { try send(["WATCHDOG": "1"]) }
    public func reloading() throws(NotifyError) { try send(["RELOADING": "1"]) }
    public func stopping() throws(NotifyError) { try send(["STOPPING": "1"]) }

    /// Sends the assignments in one datagram, in a stable order. A value must not contain a newline.
    public func send(_ assignments: KeyValuePairs<String, String>) throws(NotifyError) {
        let message = assignments.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NotifyError(operation: "socket", errno: errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw NotifyError(operation: "address too long", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        guard sent == message.utf8.count else { throw NotifyError(operation: "sendto", errno: sent < 0 ? errno : EMSGSIZE) }
    }
}

public struct NotifyError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32

    public var description: String { "systemd notify: \(operation): \(String(cString: strerror(errno)))" }
}
