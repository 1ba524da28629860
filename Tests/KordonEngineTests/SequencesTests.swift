import Testing

@testable import KordonEngine

/// A sequence rule's trigger index lists each identity's waiting triggers as `Sequences`: appended in
/// increasing order, removed when confirmed, and swept of those older than the oldest still waiting.
/// Against an array as the model.
@Suite struct SequencesTests {
    @Test func appendRemoveAndDropMatchTheModel() {
        var generator = SplitMix(seed: 11)
        var sequences = Sequences()
        var model: [Int64] = []
        var next: Int64 = 1
        for step in 0..<5_000 {
            switch generator.next() % 4 {
            case 0, 1:
                sequences.append(next)
                model.append(next)
            case 2:
                // Any listed one (or one long gone) confirmed.
                let sequence = model.isEmpty || generator.next() % 5 == 0 ? next - 3 : model[Int(generator.next() % UInt64(model.count))]
                sequences.remove(sequence)
                model.removeAll { $0 == sequence }
            default:
                // Sweeps cut anywhere: before all, among them, or past all.
                let oldest = next - Int64(generator.next() % 12)
                sequences.drop(before: oldest)
                model.removeAll { $0 < oldest }
            }
            next += Int64(1 + generator.next() % 3)
            #expect(sequences.all == model, "step \(step)")
            #expect(sequences.isEmpty == model.isEmpty)
        }
    }
}
