/// A 4-ary min-heap; ties are broken by the elements' own ordering, so pop order is deterministic.
/// Four children to a node: half the levels of a binary heap, and siblings side by side in memory,
/// so a pop from the tens of thousands of events a sparse partition holds back misses the cache
/// half as often.
struct Heap<Element: Comparable> {
    private(set) var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }
    var count: Int { elements.count }
    var min: Element? { elements.first }

    // Sifting moves elements into a hole in the buffer: swapping or copying them retained what they reference.
    mutating func push(_ element: Element) {
        elements.append(element)
        elements.withUnsafeMutableBufferPointer { heap in
            let base = heap.baseAddress!
            var hole = heap.count - 1
            let item = (base + hole).move()
            while hole > 0 {
                let parent = (hole - 1) / 4
                guard item < base[parent] else { break }
                (base + hole).moveInitialize(from: base + parent, count: 1)
                hole = parent
            }
            (base + hole).initialize(to: item)
        }
    }

    mutating func pop() -> Element? {
        guard elements.count > 1 else { return elements.popLast() }
        let last = elements.removeLast()
        return elements.withUnsafeMutableBufferPointer { heap in
            let base = heap.baseAddress!
            let count = heap.count
            let top = base.move()
            var hole = 0
            while true {
                let first = 4 * hole + 1
                guard first < count else { break }
                var smallest = first
                for child in first + 1..<Swift.min(first + 4, count) where base[child] < base[smallest] { smallest = child }
                guard base[smallest] < last else { break }
                (base + hole).moveInitialize(from: base + smallest, count: 1)
                hole = smallest
            }
            (base + hole).initialize(to: last)
            return top
        }
    }
}

/// A first-in first-out queue over an array, popping in O(1) amortised.
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes the oldest element without reading it out (a copy would retain what it references).
    mutating func dropFirst() {
        head += 1
        // Reclaim the consumed prefix once it is at least half the storage.
        if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// What `read` takes from the oldest element, read in place (`first` copies it, retaining what it references).
    func peekFirst<T>(_ read: (Element) -> T) -> T? {
        isEmpty ? nil : read(storage[head])
    }

    /// Live elements, oldest first.
    var elements: ArraySlice<Element> { storage[head...] }

    /// The live element `offset` places after the oldest.
    subscript(offset: Int) -> Element {
        get { storage[head + offset] }
        set { storage[head + offset] = newValue }
    }
}

extension Dictionary {
    /// Lets `update` change each value in place and removes the entries it returns false for. Through
    /// the indices: the table is neither rebuilt (as `filter` does) nor copied (as removing while
    /// iterating it does), which matters for the sweeps over a million entries.
    mutating func updateOrRemove(_ update: (inout Value) -> Bool) {
        var gone: [Key] = []
        var index = startIndex
        while index != endIndex {
            if !update(&values[index]) { gone.append(keys[index]) }
            formIndex(after: &index)
        }
        for key in gone { self[key] = nil }
    }
}

extension Heap: Sendable where Element: Sendable {}
extension FIFO: Sendable where Element: Sendable {}

extension Int64 {
    /// Event times span nearly all of Int64 (1677 to 2262), so time arithmetic saturates instead of trapping.
    func plus(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func minus(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
