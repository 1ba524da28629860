#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KordonKafka

/// A point the daemon can restart from: the engine's state, the input offsets it covers, and
/// where the outputs made after it begin (on each output partition and in the alert log).
///
/// It is written only once every output caused before it is acknowledged, so restarting from it
/// misses nothing; outputs made after it are found again by reading from `outputs` and
/// `log`, so reprocessing does not repeat them.
public struct Checkpoint: Sendable, Equatable {
    public var group: String
    /// Next input offset per partition.
    public var inputs: [TopicPartition: Int64]
    /// Per output partition (alert topics, dead letters), the offset after the last output acknowledged.
    public var outputs: [TopicPartition: Int64]
    public var log: AlertLog.Position
    public var engine: [UInt8]

    public init(
        group: String, inputs: [TopicPartition: Int64], outputs: [TopicPartition: Int64], log: AlertLog.Position,
        engine: [UInt8]
    ) {
        self.group = group
        self.inputs = inputs
        self.outputs = outputs
        self.log = log
        self.engine = engine
    }
}

public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public var description: String { "state \(path): \(problem)" }
}

/// The state directory: one checkpoint file, replaced atomically (write, fsync, rename, fsync the directory).
public struct CheckpointStore: Sendable {
    public let directory: String
    private static let magic = Array("KORDONCP".utf8)
    private static let version: UInt32 = 1

    public init(directory: String) {
        self.directory = directory
    }

    public var path: String { directory + "/checkpoint" }

    public func save(_ checkpoint: Checkpoint) throws(CheckpointError) {
        try createDirectory()
        var bytes = Self.magic
        bytes.append(uint32: Self.version)
        bytes.append(string: checkpoint.group)
        for map in [checkpoint.inputs, checkpoint.outputs] {
            bytes.append(uint32: UInt32(map.count))
            for (tp, offset) in map.sorted(by: { $0.key < $1.key }) {
                bytes.append(string: tp.topic)
                bytes.append(uint32: UInt32(bitPattern: tp.partition))
                bytes.append(uint64: UInt64(bitPattern: offset))
            }
        }
        bytes.append(uint64: checkpoint.log.device)
        bytes.append(uint64: checkpoint.log.inode)
        bytes.append(uint64: UInt64(bitPattern: checkpoint.log.size))
        bytes.append(uint64: UInt64(checkpoint.engine.count))
        bytes += checkpoint.engine
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(temporary, "open") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else {
                let error = failure(temporary, "write")
                close(fd)
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let error = failure(temporary, "fsync")
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure(path, "rename") }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// The saved checkpoint, nil when there is none; a damaged file is an error (never silently ignored).
    public func load() throws(CheckpointError) -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw failure(path, "read") }
        var reader = ByteReader(bytes: [UInt8](data))
        guard reader.take(Self.magic.count) == Self.magic[...] else {
            throw CheckpointError(path: path, problem: "not a Kordon checkpoint")
        }
        guard let version = reader.uint32(), version == Self.version else {
            throw CheckpointError(path: path, problem: "unknown checkpoint version")
        }
        guard let group = reader.string() else { throw damaged }
        var maps: [[TopicPartition: Int64]] = []
        for _ in 0..<2 {
            guard let count = reader.uint32() else { throw damaged }
            var map: [TopicPartition: Int64] = [:]
            for _ in 0..<count {
                guard let topic = reader.string(), let partition = reader.uint32(), let offset = reader.uint64() else {
                    throw damaged
                }
                map[TopicPartition(topic, Int32(bitPattern: partition))] = Int64(bitPattern: offset)
            }
            maps.append(map)
        }
        guard let device = reader.uint64(), let inode = reader.uint64(), let size = reader.uint64(),
            let length = reader.uint64(), let engine = reader.take(Int(clamping: length)), reader.atEnd
        else { throw damaged }
        return Checkpoint(
            group: group, inputs: maps[0], outputs: maps[1],
            log: AlertLog.Position(device: device, inode: inode, size: Int64(bitPattern: size)), engine: Array(engine))
    }

    private var damaged: CheckpointError { CheckpointError(path: path, problem: "damaged (truncated or corrupt)") }

    private func createDirectory() throws(CheckpointError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(path: directory, problem: "cannot create: \(error.localizedDescription)")
        }
    }

    private func failure(_ file: String, _ operation: String) -> CheckpointError {
        CheckpointError(path: file, problem: "\(operation): \(String(cString: strerror(errno)))")
    }
}

extension [UInt8] {
    fileprivate mutating func append(uint32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func append(uint64 value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func append(string: String) {
        append(uint32: UInt32(string.utf8.count))
        append(contentsOf: string.utf8)
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - index >= count else { return nil }
        defer { index += count }
        return bytes[index..<index + count]
    }

    mutating func uint32() -> UInt32? {
        take(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    }

    mutating func uint64() -> UInt64? {
        take(8).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    }

    mutating func string() -> String? {
        guard let count = uint32(), let utf8 = take(Int(count)) else { return nil }
        return String(validating: utf8, as: UTF8.self)
    }
}
