/// What the scheduler runs at a point in event time.
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

/// Actions in order of (time, insertion order): equal times run in the order they were scheduled,
/// which keeps the stream deterministic.
///
/// A 4-ary min-heap holds what is due up to the end of the current period (2^40 ns, about 18
/// minutes); what lies further ahead within `periods` waits in a bucket per period, unordered, and
/// joins the heap when its period begins. Trips back days later, the bulk of what is scheduled,
/// so stay out of the heap until they are near, and the heap stays a few levels deep.
struct Schedule: Sendable {
    private struct Entry: Sendable {
        /// The time (its sign bit flipped, so unsigned order is time order) above the insertion
        /// order: comparing two entries is one 128-bit comparison.
        var key: UInt128
        var action: Action

        init(time: Int64, order: UInt64, action: Action) {
            key = UInt128(UInt64(bitPattern: time) ^ 1 << 63) << 64 | UInt128(order)
            self.action = action
        }

        var time: Int64 { Int64(bitPattern: UInt64(truncatingIfNeeded: key >> 64) ^ 1 << 63) }

        @inline(__always) func precedes(_ other: Entry) -> Bool {
            key < other.key
        }
    }

    private static let periodBits: Int64 = 40
    private static let periods = 256

    private var heap: [Entry] = []
    /// Entries pushed for the time of the last one popped, in order: they come next, so they skip
    /// the heap (exits planned as a trip starts, reports as they are made).
    private var due = Ring<Entry>()
    private var now = Int64.min
    private var order: UInt64 = 0
    /// The heap holds every entry of a period up to this one; `later` those of the periods after it.
    private var loaded = Int64.min
    private var later = [[Entry]](repeating: [], count: periods)
    private var laterCount = 0

    mutating func push(_ time: Int64, _ action: Action) {
        order += 1
        let entry = Entry(time: time, order: order, action: action)
        let period = time >> Self.periodBits
        if time == now {
            due.append(entry)
        } else if loaded != .min, period > loaded, period - loaded <= Self.periods {
            later[Int(period & Int64(Self.periods - 1))].append(entry)
            laterCount += 1
        } else {
            insert(entry)
        }
    }

    /// Removes the earliest entry if there is one before `end`: looked up once, not peeked at first.
    mutating func pop(before end: Int64) -> (Int64, Action)? {
        if loaded == .min || laterCount > 0 && (heap.isEmpty || heap[0].time >> Self.periodBits > loaded) { load() }
        if let first = due.first, heap.isEmpty || first.precedes(heap[0]) {
            guard first.time < end else { return nil }
            _ = due.removeFirst()
            return (first.time, first.action)
        }
        guard let top = heap.first, top.time < end else { return nil }
        now = top.time
        let last = heap.removeLast()
        heap.withUnsafeMutableBufferPointer { heap in
            guard !heap.isEmpty else { return }
            var parent = 0
            while true {
                let first = 4 * parent + 1
                guard first < heap.count else { break }
                var least = first
                if first + 3 < heap.count {
                    if heap[first + 1].precedes(heap[least]) { least = first + 1 }
                    if heap[first + 2].precedes(heap[least]) { least = first + 2 }
                    if heap[first + 3].precedes(heap[least]) { least = first + 3 }
                } else {
                    for child in (first + 1)..<heap.count where heap[child].precedes(heap[least]) { least = child }
                }
                guard heap[least].precedes(last) else { break }
                heap[parent] = heap[least]
                parent = least
            }
            heap[parent] = last
        }
        return (top.time, top.action)
    }

    /// Moves the buckets of the periods that have begun into the heap: those up to the heap's
    /// earliest entry, or up to the next nonempty one when the heap is empty.
    private mutating func load() {
        if loaded == .min {
            // The first period is the one of the first action; all pushed so far are in the heap.
            guard let first = heap.first else { return }
            loaded = first.time >> Self.periodBits
        }
        while laterCount > 0, heap.isEmpty || heap[0].time >> Self.periodBits > loaded {
            loaded += 1
            let bucket = Int(loaded & Int64(Self.periods - 1))
            laterCount -= later[bucket].count
            for entry in later[bucket] { insert(entry) }
            later[bucket].removeAll(keepingCapacity: true)
        }
    }

    /// Sifts up through a hole rather than by swaps: one store per level, no bounds checks.
    private mutating func insert(_ entry: Entry) {
        heap.append(entry)
        heap.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 4
                guard entry.precedes(heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = entry
        }
    }
}

/// A FIFO in a circular buffer of a power-of-two size, doubled when full: appending and removing
/// move no other element and, once grown, allocate nothing.
struct Ring<Element: Sendable>: Sendable {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var first: Element? { isEmpty ? nil : storage[head] }

    subscript(index: Int) -> Element { storage[(head + index) & (storage.count - 1)]! }

    mutating func append(_ element: Element) {
        if count == storage.count {
            var larger = [Element?](repeating: nil, count: max(16, 2 * storage.count))
            for index in 0..<count { larger[index] = self[index] }
            storage = larger
            head = 0
        }
        storage[(head + count) & (storage.count - 1)] = element
        count += 1
    }

    mutating func removeFirst() -> Element {
        let element = storage[head]!
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return element
    }
}
