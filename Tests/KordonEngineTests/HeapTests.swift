import Testing

@testable import KordonEngine

/// The event queue's and timers' heap against a sorted array as the model, with elements that own
/// a reference (as queued events do), so a lost or doubled element shows as a wrong live count.
@Suite struct HeapTests {
    final class Payload {
        nonisolated(unsafe) static var live = 0
        init() { Self.live += 1 }
        deinit { Self.live -= 1 }
    }

    struct Item: Comparable {
        let time: Int
        let id: String
        let payload: Payload

        static func < (a: Item, b: Item) -> Bool { (a.time, a.id) < (b.time, b.id) }
        static func == (a: Item, b: Item) -> Bool { (a.time, a.id) == (b.time, b.id) }
    }

    @Test func popsInOrderUnderRandomPushesAndPops() {
        var generator = SplitMix(seed: 5)
        do {
            var heap = Heap<Item>()
            var model: [Item] = []
            for step in 0..<6_000 {
                // Pushes outnumber pops, so the heap grows past several levels; few times, so ties are common.
                if generator.unit() < 0.6 {
                    let item = Item(time: Int(generator.next() % 50), id: "e\(step)", payload: Payload())
                    heap.push(item)
                    model.append(item)
                } else {
                    let popped = heap.pop()
                    let expected = model.min()
                    #expect(popped?.time == expected?.time && popped?.id == expected?.id, "step \(step)")
                    if let expected { model.remove(at: model.firstIndex(of: expected)!) }
                }
                #expect(heap.count == model.count)
                #expect(heap.min?.id == model.min()?.id)
            }
            var drained: [Item] = []
            while let item = heap.pop() { drained.append(item) }
            #expect(drained.map(\.id) == model.sorted().map(\.id))
            #expect(Payload.live == model.count)
        }
        #expect(Payload.live == 0)
    }
}
