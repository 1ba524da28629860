import KordonKafka
import KordonPipeline
import Testing

struct OffsetTrackerTests {
    let p0 = TopicPartition("in", 0)
    let p1 = TopicPartition("in", 1)

    @Test func messagesWithoutOutputsAreCommittableAtOnce() {
        var tracker = OffsetTracker()
        for offset in 0..<5 { tracker.consumed(p0, offset: Int64(offset), outputs: 0) }
        #expect(tracker.uncommitted() == [p0: 5])
    }

    @Test func anUnacknowledgedOutputHoldsBackEveryLaterOffset() {
        var tracker = OffsetTracker()
        tracker.consumed(p0, offset: 10, outputs: 0)
        tracker.consumed(p0, offset: 11, outputs: 2)
        tracker.consumed(p0, offset: 12, outputs: 1)
        tracker.consumed(p0, offset: 13, outputs: 0)
        #expect(tracker.uncommitted() == [p0: 11])
        tracker.acknowledged(p0, offset: 12)
        #expect(tracker.uncommitted() == [p0: 11])
        tracker.acknowledged(p0, offset: 11)
        #expect(tracker.uncommitted() == [p0: 11])
        #expect(tracker.outstanding(p0) == 1)
        tracker.acknowledged(p0, offset: 11)
        #expect(tracker.uncommitted() == [p0: 14])
        #expect(!tracker.hasOutstanding)
    }

    @Test func duplicateAcknowledgementsAreIgnored() {
        var tracker = OffsetTracker()
        tracker.consumed(p0, offset: 0, outputs: 1)
        tracker.consumed(p0, offset: 1, outputs: 1)
        tracker.acknowledged(p0, offset: 0)
        tracker.acknowledged(p0, offset: 0)
        #expect(tracker.uncommitted() == [p0: 1])
        #expect(tracker.outstanding(p0) == 1)
    }

    @Test func committedOffsetsAreNotOfferedAgain() {
        var tracker = OffsetTracker()
        tracker.consumed(p0, offset: 0, outputs: 0)
        tracker.consumed(p1, offset: 7, outputs: 0)
        tracker.markCommitted(tracker.uncommitted())
        #expect(tracker.uncommitted().isEmpty)
        tracker.consumed(p1, offset: 8, outputs: 0)
        #expect(tracker.uncommitted() == [p1: 9])
        #expect(tracker.uncommitted(in: [p0]).isEmpty)
    }

    @Test func revokedPartitionsAreForgotten() {
        var tracker = OffsetTracker()
        tracker.consumed(p0, offset: 0, outputs: 1)
        tracker.consumed(p1, offset: 0, outputs: 0)
        tracker.remove([p0])
        #expect(tracker.uncommitted() == [p1: 1])
        #expect(!tracker.hasOutstanding)
    }

    /// Acknowledgements in any order over many messages: the committable offset is always the
    /// oldest message still waiting.
    @Test func randomAcknowledgementOrder() {
        var rng = SystemRandomNumberGenerator()
        var tracker = OffsetTracker()
        var waiting: [Int64: Int] = [:]
        for offset in Int64(0)..<5000 {
            let outputs = Int.random(in: 0...2, using: &rng)
            tracker.consumed(p0, offset: offset, outputs: outputs)
            if outputs > 0 { waiting[offset] = outputs }
        }
        var acks = waiting.flatMap { offset, count in Array(repeating: offset, count: count) }
        acks.shuffle(using: &rng)
        for offset in acks {
            tracker.acknowledged(p0, offset: offset)
            waiting[offset]! -= 1
            if waiting[offset] == 0 { waiting[offset] = nil }
            let oldest = waiting.keys.min() ?? 5000
            #expect(tracker.uncommitted()[p0] == (oldest > 0 ? oldest : nil))
        }
        #expect(tracker.uncommitted() == [p0: 5000])
    }
}
