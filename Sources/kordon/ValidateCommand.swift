import ArgumentParser
import Foundation
import KordonEvents

/// `kordon validate FILE...`: checks JSON-lines event files against the event contract v1.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check JSON-lines event files against the event contract v1.",
        discussion: """
            Each line is one message, decoded exactly as the daemon decodes Kafka messages. Prints \
            FILE:LINE: reason for every invalid line, then a summary. Lines that are empty or only \
            white space are skipped and counted nowhere (a blank Kafka message, by contrast, is \
            rejected). Exits 0 when every line is valid, 1 when any line is invalid, 2 when a file \
            cannot be read.
            """)

    @Argument(help: "JSON-lines files, one event per line.")
    var files: [String]

    @Option(help: "Largest line accepted, in bytes, as the daemon's message limit.")
    var maxBytes = EventDecoder.Limits().maxBytes

    func validate() throws {
        guard maxBytes > 0 else { throw ValidationError("--max-bytes must be positive") }
    }

    func run() throws {
        let decoder = EventDecoder(limits: .init(maxBytes: maxBytes))
        var filesRead = 0
        var lines = 0
        var invalid = 0
        var unreadable = false
        for file in files {
            let contents: Data
            do {
                contents = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
            } catch {
                printError("kordon validate: cannot read \(file): \(readFailure(file, error))")
                unreadable = true
                continue
            }
            filesRead += 1
            contents.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var lineNumber = 0
                var start = 0
                while start < bytes.count {
                    let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                    lineNumber += 1
                    let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                    start = end + 1
                    if line.allSatisfy(isJSONWhitespace) { continue }
                    lines += 1
                    if case .failure(let rejection) = decoder.decode(line) {
                        invalid += 1
                        print("\(file):\(lineNumber): \(rejection)")
                    }
                }
            }
        }
        print(
            "\(filesRead) file\(filesRead == 1 ? "" : "s"), \(lines) line\(lines == 1 ? "" : "s"), "
                + "\(lines - invalid) valid, \(invalid) invalid")
        if unreadable { throw ExitCode(2) }
        if invalid > 0 { throw ExitCode.failure }
    }
}

/// Space, tab, line feed, carriage return: the only white space JSON has.
private func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}
