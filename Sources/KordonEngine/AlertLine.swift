import Foundation
import KordonEvents

/// An alert as read back from the alert log or an alert topic (contract v1): what operator tools,
/// scoring and restart-time deduplication need, without the evidence details.
public struct AlertLine: Sendable, Equatable, Decodable {
    public struct Key: Sendable, Equatable, Decodable {
        public var type: String
        public var value: String
    }

    public struct Location: Sendable, Equatable, Decodable {
        public struct Point: Sendable, Equatable, Decodable {
            public var lat: Double
            public var lon: Double
        }

        public var checkpoint: String?
        public var country: String?
        public var direction: String?
        public var sector: String?
        public var zone: String?
        public var position: Point?
    }

    public struct EvidenceItem: Sendable, Equatable, Decodable {
        public var id: String
    }

    public var id: String
    public var rule: String
    public var category: String
    public var severity: String
    public var title: String
    public var time: String
    public var emittedAt: String
    public var key: Key
    public var location: Location
    public var evidence: [EvidenceItem]
    public var evidenceTotal: Int
    public var suppressed: Int

    /// Parses one line; `nil` when it is not an alert of contract v1.
    /// The id of an alert as Kordon writes it (`{"v":1,"id":"…",`), without decoding the rest.
    public static func id(in line: ArraySlice<UInt8>) -> String? {
        let prefix = #"{"v":1,"id":""#.utf8
        guard line.starts(with: prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")), end != rest.startIndex else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }

    public init?(json line: some StringProtocol) {
        guard let parsed = try? JSONDecoder().decode(AlertLine.self, from: Data(line.utf8)) else { return nil }
        self = parsed
    }

    public var eventTime: Timestamp? { Timestamp(rfc3339: time) }
    public var emitted: Timestamp? { Timestamp(rfc3339: emittedAt) }
}
