#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A minimal HTTP/1.1 server for Prometheus scrapes and health probes:
/// `GET /metrics` (the registry's exposition text), `GET /healthz` (200 while the process runs) and
/// `GET /readyz` (200, or 503 with the reason `readiness` gives). Anything else is 404; a known
/// path with another method is 405. Every response closes its connection.
///
/// It runs on a thread of its own, not Swift's cooperative pool, so a busy pipeline cannot starve
/// probes. One poll loop serves several clients at once, each within `requestTimeout` from accept,
/// so a slow or silent client delays no other and is then dropped.
public final class HTTPStatusServer: Sendable {
    /// The port it listens on: the kernel's choice when asked for port 0.
    public let port: UInt16
    /// The write end of the pipe that wakes the loop to stop.
    private let wakeWriter: Int32
    /// `nil` once stopped.
    private let thread: Mutex<pthread_t?>

    /// Listens on `host` (an address or a name; IPv6 too) and `port`, and starts serving.
    /// `readiness` runs on the server's thread for each `/readyz`: `nil` means ready, else the reason not.
    public init(
        host: String = "127.0.0.1", port: UInt16 = 0, registry: MetricsRegistry, requestTimeout: Duration = .seconds(5),
        readiness: @escaping @Sendable () -> String?
    ) throws(StatusServerError) {
        precondition(requestTimeout > .zero, "status server: requestTimeout must be positive")
        let listener = try Self.listen(host: host, port: port)
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            let error = StatusServerError("pipe", errno: errno)
            close(listener)
            throw error
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        self.port = Self.boundPort(listener)
        wakeWriter = pipeEnds[1]
        let loop = ServeLoop(
            listener: listener, wakeReader: pipeEnds[0], registry: registry, requestTimeout: requestTimeout,
            readiness: readiness)
        let context = Unmanaged.passRetained(loop).toOpaque()
        var id = pthread_t()
        let created = pthread_create(
            &id, nil,
            { context in
                Unmanaged<ServeLoop>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<ServeLoop>.fromOpaque(context).release()
            for fd in [listener, pipeEnds[0], pipeEnds[1]] { close(fd) }
            throw StatusServerError("pthread_create", errno: created)
        }
        thread = Mutex(id)
    }

    deinit { stop() }

    /// Closes the listener and every open connection, and waits for the thread to end. Idempotent;
    /// must not be called from `readiness`.
    public func stop() {
        guard let id = thread.withLock({ thread in thread.take() }) else { return }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
        pthread_join(id, nil)
        close(wakeWriter)
    }

    private static func listen(host: String, port: UInt16) throws(StatusServerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let list else {
            throw StatusServerError(message: "\(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var failure = StatusServerError(message: "\(host): no address")
        var candidate: UnsafeMutablePointer<addrinfo>? = list
        while let info = candidate {
            candidate = info.pointee.ai_next
            // Non-blocking: the loop accepts until none is left.
            let fd = socket(
                info.pointee.ai_family,
                info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else {
                failure = StatusServerError("socket", errno: errno)
                continue
            }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 {
                return fd
            }
            failure = StatusServerError("listen on \(host) port \(port)", errno: errno)
            close(fd)
        }
        throw failure
    }

    private static func boundPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        let family = Int32(address.ss_family)
        return withUnsafePointer(to: &address) { pointer in
            if family == AF_INET6 {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            } else {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        }
    }
}

public struct StatusServerError: Error, CustomStringConvertible, Sendable {
    public var message: String

    init(message: String) { self.message = message }

    init(_ operation: String, errno: Int32) {
        message = "\(operation): \(String(cString: strerror(errno)))"
    }

    public var description: String { "status server: \(message)" }
}

/// The server's thread: owns the listener, the wake pipe's read end and the connections.
private final class ServeLoop {
    /// Beyond this many open connections, new ones wait in the listen backlog.
    static let maxConnections = 32
    /// A request head (request line and headers) longer than this is refused with 431.
    static let maxHead = 8192

    final class Connection {
        let fd: Int32
        let deadline: ContinuousClock.Instant
        var input: [UInt8] = []
        /// The response, once the request head is complete.
        var output: [UInt8]?
        var sent = 0

        init(fd: Int32, deadline: ContinuousClock.Instant) {
            self.fd = fd
            self.deadline = deadline
        }
    }

    let listener: Int32
    let wakeReader: Int32
    let registry: MetricsRegistry
    let requestTimeout: Duration
    let readiness: @Sendable () -> String?
    var connections: [Connection] = []

    init(
        listener: Int32, wakeReader: Int32, registry: MetricsRegistry, requestTimeout: Duration,
        readiness: @escaping @Sendable () -> String?
    ) {
        self.listener = listener
        self.wakeReader = wakeReader
        self.registry = registry
        self.requestTimeout = requestTimeout
        self.readiness = readiness
    }

    func run() {
        // The name `top -H` and perf show (what pthread_setname_np does; Swift's Glibc does not declare it).
        let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        if comm >= 0 {
            _ = write(comm, "kordon-status", 13)
            close(comm)
        }
        defer {
            for connection in connections { close(connection.fd) }
            close(listener)
            close(wakeReader)
        }
        while true {
            // A negative fd is ignored by poll: at capacity, the listener waits.
            var fds = [
                pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
                pollfd(fd: connections.count < Self.maxConnections ? listener : -1, events: Int16(POLLIN), revents: 0),
            ]
            for connection in connections {
                fds.append(pollfd(fd: connection.fd, events: Int16(connection.output == nil ? POLLIN : POLLOUT), revents: 0))
            }
            let now = ContinuousClock.now
            let timeout = connections.map { Self.milliseconds(now.duration(to: $0.deadline)) }.min() ?? -1
            if poll(&fds, nfds_t(fds.count), timeout) < 0 {
                if errno != EINTR { usleep(100_000) }  // ENOMEM and the like: back off, do not spin
                continue
            }
            if fds[0].revents != 0 { return }
            let after = ContinuousClock.now
            var open: [Connection] = []
            for (connection, polled) in zip(connections, fds[2...]) {
                if after < connection.deadline && serve(connection, events: polled.revents) {
                    open.append(connection)
                } else {
                    close(connection.fd)
                }
            }
            connections = open
            if fds[1].revents & Int16(POLLIN) != 0 { accept(at: after) }
        }
    }

    /// Rounded up, so the loop does not wake just before a deadline and spin.
    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return Int32(clamping: min(seconds, 1_000_000) * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    private func accept(at now: ContinuousClock.Instant) {
        while connections.count < Self.maxConnections {
            // Glibc does not export accept4, so the flags are set just after.
            let fd = Glibc.accept(listener, nil, nil)
            guard fd >= 0 else {
                // Out of descriptors (EMFILE and the like) the listener stays readable: back off, do not spin.
                if ![EAGAIN, EINTR, ECONNABORTED].contains(errno) { usleep(100_000) }
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            connections.append(Connection(fd: fd, deadline: now + requestTimeout))
        }
    }

    /// Reads or writes what the socket allows; false when the connection is done with.
    private func serve(_ connection: Connection, events: Int16) -> Bool {
        if events & Int16(POLLNVAL) != 0 { return false }
        if connection.output == nil {
            guard events & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { return true }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(connection.fd, &buffer, buffer.count, 0)
            if count < 0 { return errno == EAGAIN || errno == EINTR }
            if count == 0 { return false }  // closed before a whole request: nothing to answer
            let searchFrom = max(0, connection.input.count - 3)
            connection.input += buffer[..<count]
            if let headEnd = Self.endOfHead(connection.input, from: searchFrom) {
                connection.output = respond(to: connection.input[..<headEnd])
            } else if connection.input.count > Self.maxHead {
                connection.output = Self.response(431, "Request Header Fields Too Large", body: "request head too large\n")
            } else {
                return true
            }
        }
        guard let output = connection.output, events & Int16(POLLOUT | POLLERR | POLLHUP) != 0 || connection.sent == 0
        else { return true }
        let count = output[connection.sent...].withUnsafeBytes {
            send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        connection.sent += count
        guard connection.sent == output.count else { return true }
        // Read what is left of the request, so closing does not reset the connection under the response.
        shutdown(connection.fd, Int32(SHUT_WR))
        var drain = [UInt8](repeating: 0, count: 4096)
        while recv(connection.fd, &drain, drain.count, Int32(MSG_DONTWAIT)) > 0 {}
        return false
    }

    /// Where the request head ends: after the blank line (CRLF CRLF, or bare LF LF, which RFC 9112 lets servers accept).
    private static func endOfHead(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    private func respond(to head: ArraySlice<UInt8>) -> [UInt8] {
        let line = head.prefix { $0 != 0x0A }.split(separator: 0x20, omittingEmptySubsequences: false)
        guard line.count == 3, !line[0].isEmpty, line[1].first == UInt8(ascii: "/"),
            line[2].starts(with: "HTTP/1.".utf8)
        else {
            return Self.response(400, "Bad Request", body: "bad request\n")
        }
        let method = String(decoding: line[0], as: UTF8.self)
        let path = String(decoding: line[1].prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
        guard ["/metrics", "/healthz", "/readyz"].contains(path) else {
            return Self.response(404, "Not Found", body: "not found\n")
        }
        guard method == "GET" else {
            return Self.response(405, "Method Not Allowed", body: "method not allowed\n", headers: "Allow: GET\r\n")
        }
        switch path {
        case "/metrics":
            return Self.response(
                200, "OK", body: registry.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/readyz":
            if let reason = readiness() { return Self.response(503, "Service Unavailable", body: reason + "\n") }
            return Self.response(200, "OK", body: "ok\n")
        default:
            return Self.response(200, "OK", body: "ok\n")
        }
    }

    private static func response(
        _ status: Int, _ reason: String, body: String, contentType: String = "text/plain; charset=utf-8",
        headers: String = ""
    ) -> [UInt8] {
        let head =
            "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
            + "\(headers)Connection: close\r\n\r\n"
        return Array(head.utf8) + Array(body.utf8)
    }
}
