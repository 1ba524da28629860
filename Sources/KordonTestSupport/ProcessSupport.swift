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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(fd)
        if connected { return true }
        Thread.sleep(forTimeInterval: 0.1)
    }
    return false
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
