import Foundation
import Testing

/// A child process the test owns. Foundation makes it the leader of a process group of its own;
/// signals go to the whole group, so stopping it stops whatever it started too (a grandchild left
/// running would hold the test runner's output open). Killed with its group when released.
public final class ChildProcess {
    public let process = Process()

    /// `stderr`: a file to write the child's standard error to (appending), else the test's own.
    /// `environment`: added to the test's own.
    public init(_ executable: String, _ arguments: [String], stderr: String? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let stderr {
            if !FileManager.default.fileExists(atPath: stderr) { _ = FileManager.default.createFile(atPath: stderr, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            try handle.seekToEnd()
            process.standardError = handle
        } else {
            process.standardError = FileHandle.standardError
        }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the group and waits up to `timeout` for the exit status.
    public func terminate(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(-process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        kill(-process.processIdentifier, SIGKILL)
        if process.isRunning { process.waitUntilExit() }
    }
}

/// Where SwiftPM put this build's executables: beside the test bundle.
public let productsDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// A TCP port nobody listens on right now.
public func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            guard bind(fd, $0, length) == 0, getsockname(fd, $0, &length) == 0 else {
                throw POSIXError(.EADDRINUSE)
            }
        }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// Waits until something accepts TCP connections on `port`.
public func waitForListener(port: UInt16, timeout: Duration) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if LoopbackClient(port: port) != nil { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

/// A loopback TCP client, one connection per instance.
public final class LoopbackClient {
    public let fd: Int32

    public init?(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    public func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the server closes the connection; nil if it is still open after 5 s.
    public func receiveAll() -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += buffer[..<count]
        }
    }
}

/// A GET over a new loopback connection: the status and the body, nil when nothing answers.
public func httpGet(port: UInt16, path: String) -> (status: Int, body: String)? {
    guard let client = LoopbackClient(port: port) else { return nil }
    client.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    guard let text = client.receiveAll(), let blank = text.range(of: "\r\n\r\n"),
        let status = Int(text.dropFirst("HTTP/1.1 ".count).prefix(3))
    else { return nil }
    return (status, String(text[blank.upperBound...]))
}

/// The path of `command` on PATH, if any.
public func which(_ command: String) -> String? {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    return paths.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs a command to completion and returns its exit status.
@discardableResult
public func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
