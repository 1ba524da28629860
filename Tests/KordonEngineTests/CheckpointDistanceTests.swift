import KordonEvents
import Testing

@testable import KordonEngine

/// Velocity rules read checkpoint distances from a table worked out with the geography; a geography too
/// large for one computes them as asked. Either way each distance is the great-circle one, bit for bit.
@Suite struct CheckpointDistanceTests {
    private func geography(_ count: Int) -> Geography {
        Geography(
            checkpoints: (0..<count).map { index in
                Geography.Checkpoint(
                    id: "C\(index)", name: "C\(index)", country: "KZ",
                    position: Position(lat: 40 + Double(index % 97) * 0.13, lon: 50 + Double(index / 97) * 0.71))
            })
    }

    @Test(arguments: [3, 40, 600])
    func distancesAreTheGreatCircleOnes(count: Int) {
        let geography = geography(count)
        let list = geography.checkpointList
        for from in stride(from: 0, to: count, by: max(1, count / 17)) {
            for to in stride(from: count - 1, through: 0, by: -max(1, count / 13)) {
                let expected = greatCircleKm(list[from].position, list[to].position)
                #expect(geography.distanceKm(from: Int32(from), to: Int32(to)) == expected, "\(list[from].id) to \(list[to].id)")
            }
        }
    }
}
