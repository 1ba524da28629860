/// A hash table for the engine's per-key state, which holds millions of entries: open addressing with
/// linear probing over flat arrays, filled up to 4/5 and, once large, grown by a quarter. `Dictionary` fills up to
/// 3/4 and doubles, so past a power of two it is half empty: at a million keys its six tables took
/// ~500 bytes a key. Each slot keeps 32 bits of its key's hash, so probing and growing compare and
/// move those rather than hashing keys again. Copy on write, like the standard collections.
///
/// The order of iteration depends on a per-process seed, as `Dictionary`'s does: nothing that decides
/// alerts may depend on it.
struct HashTable<Key: Hashable, Value> {
    private var storage: Storage

    init() {
        storage = Storage(capacity: 0)
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// A slot holding an entry: valid until the table next changes other than through it.
    struct Index {
        fileprivate let slot: Int
    }

    func index(forKey key: Key) -> Index? {
        let (slot, found) = storage.find(key, hash: Self.hash(key))
        return found ? Index(slot: slot) : nil
    }

    subscript(key: Key) -> Value? {
        get {
            let (slot, found) = storage.find(key, hash: Self.hash(key))
            return found ? storage.entries[slot].value : nil
        }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// The value under `key`, inserted as `defaultValue()` first if absent; changed in place.
    subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { self[key] ?? defaultValue() }
        _modify {
            let slot = insertionSlot(key, default: defaultValue)
            yield &storage.entries[slot].value
        }
    }

    subscript(valueAt index: Index) -> Value {
        get { storage.entries[index.slot].value }
        _modify {
            makeUnique()
            yield &storage.entries[index.slot].value
        }
    }

    /// Inserts or replaces; returns the value replaced.
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let hash = Self.hash(key)
        makeUnique(reserving: 1)
        let (slot, found) = storage.find(key, hash: hash)
        if found {
            var replaced = value
            swap(&storage.entries[slot].value, &replaced)
            return replaced
        }
        storage.insert(key, value, hash: hash, at: slot)
        return nil
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let index = index(forKey: key) else { return nil }
        return remove(at: index)
    }

    @discardableResult
    mutating func remove(at index: Index) -> Value {
        makeUnique()
        return storage.remove(at: index.slot).value
    }

    mutating func removeAll() {
        storage = Storage(capacity: 0)
    }

    /// Lets `update` change each value in place and removes the entries it returns false for.
    mutating func updateOrRemove(_ update: (inout Value) -> Bool) {
        guard !isEmpty else { return }
        makeUnique()
        storage.updateOrRemove(update)
    }

    /// Views, as `Dictionary`'s are: nothing is copied (the footprint reads them four times a second).
    var keys: LazyMapCollection<Self, Key> { lazy.map(\.key) }
    var values: LazyMapCollection<Self, Value> { lazy.map(\.value) }

    private mutating func insertionSlot(_ key: Key, default defaultValue: () -> Value) -> Int {
        let hash = Self.hash(key)
        makeUnique(reserving: 1)
        let (slot, found) = storage.find(key, hash: hash)
        if !found { storage.insert(key, defaultValue(), hash: hash, at: slot) }
        return slot
    }

    /// Copies the storage if it is shared, and grows it if `extra` more entries would fill it past 4/5.
    private mutating func makeUnique(reserving extra: Int = 0) {
        let unique = isKnownUniquelyReferenced(&storage)
        let needed = storage.count + extra
        if needed * 5 > storage.capacity * 4 {
            storage = storage.resized(to: Self.capacity(for: needed), moving: unique)
        } else if !unique {
            storage = storage.copy()
        }
    }

    /// Room for `count` entries at most 4/5 full, from fixed sizes so that the room a count takes does not
    /// depend on how the table grew: powers of two up to 4,096 (small tables, such as a window's distinct
    /// values, are many and short-lived), then four sizes to each doubling, a quarter apart.
    static func capacity(for count: Int) -> Int {
        let least = (count * 5 + 3) / 4
        guard least > 4096 else { return Swift.max(16, 1 << (Int.bitWidth - (least - 1).leadingZeroBitCount)) }
        let power = 1 << (Int.bitWidth - 1 - least.leadingZeroBitCount)
        let quarter = power / 4
        return power + (least - power + quarter - 1) / quarter * quarter
    }

    /// Never 0, which marks an empty slot.
    private static func hash(_ key: Key) -> UInt32 {
        UInt32(truncatingIfNeeded: UInt64(bitPattern: Int64(key._rawHashValue(seed: hashSeed))) >> 32) | 1
    }
}

/// Per process, so that bucket positions (and iteration order) differ between runs, as `Dictionary`'s do.
private let hashSeed = Int.random(in: .min ... .max)

extension HashTable {
    fileprivate final class Storage {
        let capacity: Int
        private(set) var count = 0
        /// Per slot: 0 when empty, else the hash of the key in it. Apart from the entries, so that a
        /// probe past other keys' slots scans 16 of them a cache line.
        private let hashes: UnsafeMutablePointer<UInt32>
        /// Per slot, the key with its value: a lookup that finds its key then reads the value from the
        /// same cache line. In two arrays, each hit missed the cache twice after the hash, in tables of
        /// millions of entries (a fifth of the time of the busiest rules went to those two loads).
        fileprivate let entries: UnsafeMutablePointer<(key: Key, value: Value)>

        init(capacity: Int) {
            self.capacity = capacity
            hashes = .allocate(capacity: capacity)
            hashes.initialize(repeating: 0, count: capacity)
            entries = .allocate(capacity: capacity)
        }

        deinit {
            for slot in 0..<capacity where hashes[slot] != 0 {
                (entries + slot).deinitialize(count: 1)
            }
            hashes.deallocate()
            entries.deallocate()
        }

        /// Where a hash belongs: its high bits scaled to the capacity (no power of two needed).
        private func home(_ hash: UInt32) -> Int {
            Int((UInt64(hash) &* UInt64(capacity)) >> 32)
        }

        /// The slot holding `key`, or the empty slot where it would go.
        func find(_ key: Key, hash: UInt32) -> (slot: Int, found: Bool) {
            guard capacity > 0 else { return (0, false) }
            var slot = home(hash)
            while true {
                let stored = hashes[slot]
                if stored == 0 { return (slot, false) }
                if stored == hash, entries[slot].key == key { return (slot, true) }
                slot += 1
                if slot == capacity { slot = 0 }
            }
        }

        /// `slot` must be the empty one `find` returned for this key.
        func insert(_ key: Key, _ value: Value, hash: UInt32, at slot: Int) {
            hashes[slot] = hash
            (entries + slot).initialize(to: (key, value))
            count += 1
        }

        /// Empties `slot` and moves later entries of its run back into the gap (no tombstones, so
        /// lookups never slow down with removals).
        func remove(at slot: Int) -> (key: Key, value: Value) {
            let removed = (entries + slot).move()
            count -= 1
            var gap = slot
            var next = slot
            while true {
                next += 1
                if next == capacity { next = 0 }
                let hash = hashes[next]
                if hash == 0 { break }
                // The entry may fill the gap unless its home lies cyclically after the gap, up to itself.
                let home = home(hash)
                let staysAfterGap = gap <= next ? (gap < home && home <= next) : (gap < home || home <= next)
                if staysAfterGap { continue }
                hashes[gap] = hash
                (entries + gap).moveInitialize(from: entries + next, count: 1)
                gap = next
            }
            hashes[gap] = 0
            return removed
        }

        /// From just past an empty slot round to it: no run of entries wraps around the start, so
        /// removing one (which moves only entries later in its run) neither skips nor revisits any.
        func updateOrRemove(_ update: (inout Value) -> Bool) {
            guard let empty = (0..<capacity).first(where: { hashes[$0] == 0 }) else { return }
            var slot = empty + 1 == capacity ? 0 : empty + 1
            while slot != empty {
                if hashes[slot] != 0, !update(&entries[slot].value) {
                    _ = remove(at: slot)
                    continue  // the slot may now hold the next entry of the run
                }
                slot += 1
                if slot == capacity { slot = 0 }
            }
        }

        /// The entries in a table of `newCapacity` slots; `moving` them leaves this one empty.
        func resized(to newCapacity: Int, moving: Bool) -> Storage {
            let table = Storage(capacity: newCapacity)
            for slot in 0..<capacity where hashes[slot] != 0 {
                let hash = hashes[slot]
                var target = table.home(hash)
                while table.hashes[target] != 0 {
                    target += 1
                    if target == newCapacity { target = 0 }
                }
                table.hashes[target] = hash
                if moving {
                    hashes[slot] = 0
                    (table.entries + target).moveInitialize(from: entries + slot, count: 1)
                } else {
                    (table.entries + target).initialize(to: entries[slot])
                }
            }
            table.count = count
            if moving { count = 0 }
            return table
        }

        /// A copy with every entry in the same slot, so that an `Index` taken before stays valid.
        func copy() -> Storage {
            let table = Storage(capacity: capacity)
            for slot in 0..<capacity where hashes[slot] != 0 {
                table.hashes[slot] = hashes[slot]
                (table.entries + slot).initialize(to: entries[slot])
            }
            table.count = count
            return table
        }

        /// The first slot from `slot` on that holds an entry, else `capacity`.
        func occupied(from slot: Int) -> Int {
            var slot = slot
            while slot < capacity, hashes[slot] == 0 { slot += 1 }
            return slot
        }

        /// The entry in `slot`, which must hold one.
        func entry(at slot: Int) -> (key: Key, value: Value) {
            entries[slot]
        }
    }
}

extension HashTable: Swift.Collection {
    var startIndex: Index { Index(slot: storage.occupied(from: 0)) }
    var endIndex: Index { Index(slot: storage.capacity) }
    func index(after index: Index) -> Index { Index(slot: storage.occupied(from: index.slot + 1)) }
    subscript(position: Index) -> (key: Key, value: Value) { storage.entry(at: position.slot) }
}

extension HashTable.Index: Comparable {
    static func < (a: Self, b: Self) -> Bool { a.slot < b.slot }
}

extension HashTable: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (Key, Value)...) {
        self.init()
        for (key, value) in elements { updateValue(value, forKey: key) }
    }
}

// The storage is only written while uniquely referenced (copy on write), as the standard collections'.
extension HashTable: @unchecked Sendable where Key: Sendable, Value: Sendable {}
