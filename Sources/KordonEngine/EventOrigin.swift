/// Where an event came from, carried into alert evidence.
///
/// From Kafka: the message's topic, partition and offset. From a file replay:
/// topic = the file's name (last path component), partition 0,
/// offset = line number − 1 (the first line is offset 0).
public struct EventOrigin: Hashable, Sendable, Codable {
    // The offset before the partition: the four bytes after it are left to whatever follows.
    public var topic: String
    public var offset: Int64
    public var partition: Int32

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
