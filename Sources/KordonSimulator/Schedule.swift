/// What the scheduler runs at a point in event time. Plain values only, so the heap moves no references.
enum Action: Sendable {
    /// The event in that slot of `PendingEvents`.
    case planned(Int)
    /// The next arrival of a background traffic source.
    case traffic(Int)
    case patrol(Int)
    case sensor
    /// The next report on that vessel lane (`Simulator.vessels`).
    case vessel(Int)
    case incident
    case nearMiss

    var isNearMiss: Bool {
        if case .nearMiss = self { return true }
        return false
    }
}

/// A binary min-heap on (time, insertion order): equal times run in the order they were scheduled,
/// which keeps the stream deterministic.
struct Schedule: Sendable {
    private struct Entry: Sendable {
        var time: Int64
        var order: UInt64
        var action: Action

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : order < other.order
        }
    }

    private var entries: [Entry] = []
    private var order: UInt64 = 0

    var peekTime: Int64? { entries.first?.time }

    mutating func push(_ time: Int64, _ action: Action) {
        order += 1
        let entry = Entry(time: time, order: order, action: action)
        entries.append(entry)
        // Sift up through a hole rather than by swaps: one store per level, no bounds checks.
        entries.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard entry.precedes(heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = entry
        }
    }

    /// Removes the earliest entry; the heap must not be empty.
    mutating func pop() -> (Int64, Action) {
        let top = entries[0]
        let last = entries.removeLast()
        entries.withUnsafeMutableBufferPointer { heap in
            guard !heap.isEmpty else { return }
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                var least = left
                if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { least = left + 1 }
                guard heap[least].precedes(last) else { break }
                heap[parent] = heap[least]
                parent = least
            }
            heap[parent] = last
        }
        return (top.time, top.action)
    }
}

/// A FIFO over an array with a moving head, compacted when the dead prefix dominates.
struct Ring<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }

    subscript(index: Int) -> Element { storage[head + index] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func removeFirst() -> Element {
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}
