import CSimdJSON

/// The members picked by ``PickScratch/begin(_:_:)``, by key position.
struct PickedFields {
    let values: UnsafeMutableBufferPointer<vj_value>
    let found: UnsafeMutableBufferPointer<UInt8>

    subscript<K: RawRepresentable>(key: K) -> JSONNode? where K.RawValue == Int {
        let i = key.rawValue
        guard i >= 0, i < found.count, found[i] != 0 else { return nil }
        return JSONNode(value: values[i])
    }
}

/// Keys read from an object and the objects nested in it in one C call
/// (`vj_pick_tree`): one walk per object level, one hash probe per member.
///
/// Built once from static names, never mutated nor freed (trees are
/// static); that is why the `@unchecked Sendable` is safe.
struct PickTree: @unchecked Sendable {
    let tree: OpaquePointer?
    let count: Int

    /// `keys` in position order; `parent` is the position of the key whose
    /// object value holds this key, nil for a member of the root object.
    init(_ keys: [(name: StaticString, parent: Int?)]) {
        let cKeys = keys.map { key in
            vj_tree_key(
                name: key.name.hasPointerRepresentation
                    ? UnsafeRawPointer(key.name.utf8Start).assumingMemoryBound(to: CChar.self) : nil,
                length: key.name.hasPointerRepresentation ? key.name.utf8CodeUnitCount : 0,
                parent: Int32(key.parent ?? -1))
        }
        tree = cKeys.withUnsafeBufferPointer { vj_picktree_create($0.baseAddress, $0.count) }
        count = tree == nil ? 0 : cKeys.count
    }
}

/// A decoder's buffers for the members its picks find: the auto-detect
/// tree's ~70 keys (and the ECS tree's) need more than the 1 KiB
/// `withUnsafeTemporaryAllocation` keeps on the stack, so each took a heap
/// allocation per record. Lent as a stack: a nested pick takes the space
/// after its parent's. Picks return their buffers instead of running a
/// closure: a closure's context retained and released the decoder and the
/// record (or document) around each pick, four reference-count calls.
///
/// - Important: not thread-safe; owned by one decoder.
final class PickScratch {
    /// One pick's members, valid until ``PickScratch/end(_:)``.
    struct Pick {
        let fields: PickedFields
        /// Where the scratch stood before this pick; nil for a pick in buffers of its own.
        fileprivate let mark: Int?
    }

    private let values: UnsafeMutablePointer<vj_value>
    private let found: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private var used = 0

    init(capacity: Int) {
        self.capacity = capacity
        values = .allocate(capacity: capacity)
        found = .allocate(capacity: capacity)
    }

    deinit {
        values.deallocate()
        found.deallocate()
    }

    /// `tree`'s keys from `node` and the objects nested in it in one C call
    /// (none when `node` is not an object), in the buffers after those in
    /// use, or in buffers of its own when they do not fit; ``end(_:)`` ends it
    /// (and any pick begun after it).
    @inline(__always)
    func begin(_ node: JSONNode, _ tree: PickTree) -> Pick {
        let n = tree.count
        let fits = n <= capacity - used
        let v = fits ? values + used : .allocate(capacity: max(n, 1))
        let f = fits ? found + used : .allocate(capacity: max(n, 1))
        let mark = fits ? used : nil
        if fits { used += n }
        _ = vj_pick_tree(node.value, tree.tree, v, f)
        return Pick(fields: PickedFields(values: UnsafeMutableBufferPointer(start: v, count: n),
                                         found: UnsafeMutableBufferPointer(start: f, count: n)), mark: mark)
    }

    /// Ends `pick` (and any begun after it): its buffers are free again.
    @inline(__always)
    func end(_ pick: Pick) {
        if let mark = pick.mark {
            used = mark
        } else {
            pick.fields.values.baseAddress?.deallocate()
            pick.fields.found.baseAddress?.deallocate()
        }
    }
}
