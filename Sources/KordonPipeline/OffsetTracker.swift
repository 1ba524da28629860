import KordonKafka

/// Which input offsets may be committed: per partition, everything before the oldest message
/// whose outputs (alerts, dead letters) are not all acknowledged yet.
///
/// Messages arrive in offset order per partition. A message with no outputs is done at once; one
/// with outputs stays pending until each is acknowledged, and holds back every later offset.
public struct OffsetTracker: Sendable {
    private struct Pending {
        var offset: Int64
        var outstanding: Int
    }

    private struct PartitionState {
        /// Messages with outputs in flight, oldest first; entries at `head` and after are live.
        var pending: [Pending] = []
        var head = 0
        /// One past the last message seen.
        var next: Int64 = 0

        var committable: Int64 { head < pending.count ? pending[head].offset : next }

        mutating func record(offset: Int64, outputs: Int) {
            next = offset + 1
            if outputs > 0 { pending.append(.init(offset: offset, outstanding: outputs)) }
        }

        mutating func acknowledge(offset: Int64) {
            // Binary search among the live entries: they are in offset order.
            var low = head
            var high = pending.count
            while low < high {
                let mid = (low + high) / 2
                if pending[mid].offset < offset { low = mid + 1 } else { high = mid }
            }
            guard low < pending.count, pending[low].offset == offset, pending[low].outstanding > 0 else { return }
            pending[low].outstanding -= 1
            compact()
        }

        mutating func compact() {
            while head < pending.count, pending[head].outstanding == 0 { head += 1 }
            if head > 1024, head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }
    }

    private var partitions: [TopicPartition: PartitionState] = [:]
    /// What has been committed, so the same offsets are not committed again.
    private var committed: [TopicPartition: Int64] = [:]

    public init() {}

    /// Records a consumed message and how many outputs it is waiting for.
    public mutating func consumed(_ tp: TopicPartition, offset: Int64, outputs: Int) {
        partitions[tp, default: PartitionState()].record(offset: offset, outputs: outputs)
    }

    /// One output of the message at `offset` is acknowledged.
    public mutating func acknowledged(_ tp: TopicPartition, offset: Int64) {
        partitions[tp]?.acknowledge(offset: offset)
    }

    /// Offsets that may be committed and have not been yet (the next offset to consume).
    public func uncommitted(in only: Set<TopicPartition>? = nil) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for (tp, state) in partitions where only?.contains(tp) ?? true {
            let offset = state.committable
            if offset > (committed[tp] ?? -1), offset > 0 { result[tp] = offset }
        }
        return result
    }

    public mutating func markCommitted(_ offsets: [TopicPartition: Int64]) {
        committed.merge(offsets) { max($0, $1) }
    }

    /// Outputs still awaited for messages of `tp`.
    public func outstanding(_ tp: TopicPartition) -> Int {
        guard let state = partitions[tp] else { return 0 }
        return state.pending[state.head...].reduce(0) { $0 + $1.outstanding }
    }

    public var hasOutstanding: Bool { partitions.keys.contains { outstanding($0) > 0 } }

    /// Forgets partitions that were revoked: their next owner starts from the committed offset.
    public mutating func remove(_ tps: some Sequence<TopicPartition>) {
        for tp in tps {
            partitions[tp] = nil
            committed[tp] = nil
        }
    }
}
