#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rule state by group key, found from the key's bytes: the per-match path
/// writes the group-by values into a reused buffer (``GroupKey/write(_:in:into:)``),
/// hashes it and compares it with the stored key text; the `String` is made
/// only when the key is new. The index is flat: open addressing with linear
/// probing over slot numbers (4 bytes a position, at most three quarters
/// full); a probe compares the key itself (its length first, then its bytes:
/// a key of up to 15 bytes lies inside its `String`), so a collision costs a
/// comparison, never a wrong answer; removal shifts the following run back (no
/// tombstones). A slot keeps no hash: removal and growth hash the keys they move
/// again, and the 8 bytes a stored hash took (with its padding) let a threshold
/// key's state be two words in a 32-byte slot.
///
/// Slots are reused after removal; a slot index is valid until its key is removed.
struct GroupTable<State> {
    struct Slot {
        /// The key text (``GroupKey``); empty in a free slot.
        var key: String
        /// nil in a free slot.
        var state: State?
    }

    /// Live and free slots; a live slot has a state. Paged: a table of 100,000
    /// keys in one array held ~30 % of its slots unused after its last doubling.
    var slots = PagedArray<Slot>()
    /// Position → slot number (-1: empty); a power of two long, or empty before the first key.
    private var index: [Int32] = []
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
        let start = probeStart(of: bytes)
        if !index.isEmpty {
            let mask = index.count - 1
            var at = start & mask
            while true {
                let i = Int(index[at])
                if i < 0 { break }
                if Self.equal(slots[i].key, bytes) { return (i, false) }
                at = (at + 1) & mask
            }
        }
        let at = insert(String(decoding: bytes, as: UTF8.self), start: start, make())
        return (at, true)
    }

    /// The slot of `key`, if it is there.
    func find(_ key: String) -> Int? {
        guard !index.isEmpty else { return nil }
        let mask = index.count - 1
        var at = probeStart(of: key) & mask
        while true {
            let i = Int(index[at])
            if i < 0 { return nil }
            if slots[i].key == key { return i }
            at = (at + 1) & mask
        }
    }

    /// The state of `key`; setting nil removes it.
    subscript(key: String) -> State? {
        get { find(key).flatMap { slots[$0].state } }
        set {
            if let at = find(key) {
                if let newValue { slots[at].state = newValue } else { remove(at: at) }
            } else if let newValue {
                _ = insert(key, start: probeStart(of: key), newValue)
            }
        }
    }

    /// Removes the key in slot `at` (its slot becomes free).
    mutating func remove(at: Int) {
        guard slots[at].state != nil else { return }
        let mask = index.count - 1
        var hole = probeStart(of: slots[at].key) & mask
        while index[hole] != Int32(at) { hole = (hole + 1) & mask }
        // Shift back each following entry of the run that may not sit past the hole.
        var next = hole
        while true {
            next = (next + 1) & mask
            let i = Int(index[next])
            if i < 0 { break }
            let home = probeStart(of: slots[i].key) & mask
            // `home` cyclically in (hole, next]: the entry stays.
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if stays { continue }
            index[hole] = index[next]
            hole = next
        }
        index[hole] = -1
        slots[at] = Slot(key: "", state: nil)
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

    private mutating func insert(_ key: String, start: Int, _ state: State) -> Int {
        if (count + 1) * 4 > index.count * 3 { grow() }
        let slot = Slot(key: key, state: state)
        let at: Int
        if let reused = free.popLast() {
            at = Int(reused)
            slots[at] = slot
        } else {
            at = slots.count
            slots.append(slot)
        }
        place(Int32(at), from: start)
        count += 1
        return at
    }

    /// Puts slot number `slot` at the first empty position from its key's probe start.
    private mutating func place(_ slot: Int32, from start: Int) {
        let mask = index.count - 1
        var at = start & mask
        while index[at] >= 0 { at = (at + 1) & mask }
        index[at] = slot
    }

    /// Doubles the index (16 positions at first) and places every live slot again.
    private mutating func grow() {
        index = Array(repeating: -1, count: max(16, index.count * 2))
        for i in slots.indices where slots[i].state != nil {
            place(Int32(i), from: probeStart(of: slots[i].key))
        }
    }

    /// Where the probe for `key` starts, before the index's mask.
    private func probeStart(of key: String) -> Int {
        Int(truncatingIfNeeded: Self.hash(key) & hashMask)
    }

    /// Where the probe for the key whose text is `bytes` starts, before the index's mask.
    private func probeStart(of bytes: [UInt8]) -> Int {
        Int(truncatingIfNeeded: Self.hash(bytes) & hashMask)
    }

    private static func equal(_ key: String, _ bytes: [UInt8]) -> Bool {
        // The length first: a native string has it without reading its bytes.
        guard key.utf8.count == bytes.count else { return false }
        let same = key.utf8.withContiguousStorageIfAvailable { stored in
            bytes.withUnsafeBufferPointer { wanted in
                stored.isEmpty || memcmp(stored.baseAddress!, wanted.baseAddress!, stored.count) == 0
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
