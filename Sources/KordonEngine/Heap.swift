/// A binary min-heap; ties are broken by the elements' own ordering, so pop order is deterministic.
struct Heap<Element: Comparable> {
    private(set) var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }
    var count: Int { elements.count }
    var min: Element? { elements.first }

    // Sifting works on the buffer: comparing array elements by subscript copied them (retaining their references).
    mutating func push(_ element: Element) {
        elements.append(element)
        elements.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child] < heap[parent] else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }
    }

    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        // In the buffer: the array's own swap copied both elements (retaining what they reference).
        elements.withUnsafeMutableBufferPointer { $0.swapAt(0, $0.count - 1) }
        let top = elements.removeLast()
        elements.withUnsafeMutableBufferPointer { heap in
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                let right = left + 1
                let smaller = right < heap.count && heap[right] < heap[left] ? right : left
                guard heap[smaller] < heap[parent] else { break }
                heap.swapAt(parent, smaller)
                parent = smaller
            }
        }
        return top
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
