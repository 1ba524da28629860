import CZlib
import Foundation

/// An alert log's bytes, plain or gzip-compressed as logrotate leaves the older days
/// (`compress` in deploy/kordon.logrotate), told apart by gzip's magic number.
public enum AlertLogFile {
    public struct Corrupt: Error, CustomStringConvertible {
        public let description: String
    }

    public static func contents(of path: String) throws -> [UInt8] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
        return try gunzip(bytes)
    }

    /// Every member of the gzip stream, one after the other, as `gzip -d` gives them.
    static func gunzip(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: a gzip header and trailer around the deflate data.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Corrupt(description: "zlib: cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[..<(chunk.count - Int(stream.avail_out))]
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END where stream.avail_in == 0:
                    return
                case Z_STREAM_END:
                    // Another member follows (files concatenated with cat, say).
                    guard inflateReset(&stream) == Z_OK else { throw Corrupt(description: "zlib: cannot restart inflating") }
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "truncated or not gzip data"
                    throw Corrupt(description: "not a readable gzip file (\(message))")
                }
            }
        }
        return output
    }
}
