#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rule state by group key, found from the key's bytes: the per-match path
/// writes the group-by values into a reused buffer (``GroupKey/write(_:in:into:)``),
/// hashes it and compares it with the stored key text; the `String` is made
/// only when the key is new. Keys with equal hashes are chained, so a
/// collision costs a comparison, never a wrong answer.
///
/// Slots are reused after removal; a slot index is valid until its key is removed.
struct GroupTable<State> {
    struct Slot {
        /// The key text (``GroupKey``); empty in a free slot.
        var key: String
        /// The next slot whose key has the same hash (-1: none).
        var next: Int32
        /// nil in a free slot.
        var state: State?
    }

    /// Live and free slots; a live slot has a state.
    var slots: [Slot] = []
    /// Hash → the first slot of its chain.
    private var index: [UInt64: Int32] = [:]
    private var free: [Int32] = []
    /// Live keys.
    private(set) var count = 0
    /// Bits of the hash kept (tests narrow it to make keys collide).
    private let hashMask: UInt64

    init(hashMask: UInt64 = .max) {
        self.hashMask = hashMask
    }

    /// The slot holding the key whose text is `bytes`, made with `make()` when there is none.
    mutating func slot(for bytes: [UInt8], default make: () -> State) -> (slot: Int, isNew: Bool) {
        let hash = Self.hash(bytes) & hashMask
        var i = index[hash] ?? -1
        while i >= 0 {
            if Self.equal(slots[Int(i)].key, bytes) { return (Int(i), false) }
            i = slots[Int(i)].next
        }
        let at = insert(String(decoding: bytes, as: UTF8.self), hash: hash, make())
        return (at, true)
    }

    /// The slot of `key`, if it is there.
    func find(_ key: String) -> Int? {
        var i = index[Self.hash(key) & hashMask] ?? -1
        while i >= 0 {
            if slots[Int(i)].key == key { return Int(i) }
            i = slots[Int(i)].next
        }
        return nil
    }

    /// The state of `key`; setting nil removes it.
    subscript(key: String) -> State? {
        get { find(key).flatMap { slots[$0].state } }
        set {
            if let at = find(key) {
                if let newValue { slots[at].state = newValue } else { remove(at: at) }
            } else if let newValue {
                _ = insert(key, hash: Self.hash(key) & hashMask, newValue)
            }
        }
    }

    /// Removes the key in slot `at` (its slot becomes free).
    mutating func remove(at: Int) {
        guard slots[at].state != nil else { return }
        let hash = Self.hash(slots[at].key) & hashMask
        let next = slots[at].next
        if index[hash] == Int32(at) {
            index[hash] = next >= 0 ? next : nil
        } else {
            var i = index[hash] ?? -1
            while i >= 0 {
                if slots[Int(i)].next == Int32(at) {
                    slots[Int(i)].next = next
                    break
                }
                i = slots[Int(i)].next
            }
        }
        slots[at] = Slot(key: "", next: -1, state: nil)
        free.append(Int32(at))
        count -= 1
    }

    /// The indices of the live slots.
    var liveSlots: [Int] { slots.indices.filter { slots[$0].state != nil } }

    /// Every key and its state (slot order).
    var entries: [(key: String, state: State)] {
        slots.compactMap { slot in slot.state.map { (slot.key, $0) } }
    }

    var keys: [String] { slots.compactMap { $0.state == nil ? nil : $0.key } }

    private mutating func insert(_ key: String, hash: UInt64, _ state: State) -> Int {
        let head = index[hash] ?? -1
        let slot = Slot(key: key, next: head, state: state)
        let at: Int
        if let reused = free.popLast() {
            at = Int(reused)
            slots[at] = slot
        } else {
            at = slots.count
            slots.append(slot)
        }
        index[hash] = Int32(at)
        count += 1
        return at
    }

    private static func equal(_ key: String, _ bytes: [UInt8]) -> Bool {
        let same = key.utf8.withContiguousStorageIfAvailable { stored in
            bytes.withUnsafeBufferPointer { wanted in
                stored.count == wanted.count
                    && (stored.isEmpty || memcmp(stored.baseAddress!, wanted.baseAddress!, stored.count) == 0)
            }
        }
        return same ?? key.utf8.elementsEqual(bytes)
    }

    static func hash(_ key: String) -> UInt64 {
        if let h = key.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return h }
        return hash(Array(key.utf8))
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// A 64-bit hash of `bytes`: eight bytes per step, multiplied and folded, then
    /// murmur3's finalizer. Not keyed: the dictionary over it hashes with its own
    /// seed, and equal hashes are chained.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        }
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
