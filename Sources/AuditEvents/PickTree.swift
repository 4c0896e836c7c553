import CSimdJSON

/// The members picked by ``JSONNode/pick(_:_:)``, by key position.
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
/// after its parent's.
///
/// - Important: not thread-safe; owned by one decoder. A pick that does not
///   fit in what is left uses temporary memory instead.
final class PickScratch {
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

    /// A pick without a closure: `tree`'s members of `node` in the buffers
    /// after those in use, valid until ``end(_:)`` with the mark returned;
    /// nil when they do not fit (use ``JSONNode/pick(_:_:)`` then). A
    /// closure's context retained and released the decoder and the record
    /// (or document) around each pick: four reference-count calls.
    @inline(__always)
    func begin(_ node: JSONNode, _ tree: PickTree) -> (fields: PickedFields, mark: Int)? {
        guard tree.count > 0, tree.count <= capacity - used else { return nil }
        let at = used
        used += tree.count
        _ = vj_pick_tree(node.value, tree.tree, values + at, found + at)
        return (PickedFields(values: UnsafeMutableBufferPointer(start: values + at, count: tree.count),
                             found: UnsafeMutableBufferPointer(start: found + at, count: tree.count)), at)
    }

    /// Ends the pick ``begin(_:_:)`` began (and any after it): its buffers are free again.
    @inline(__always)
    func end(_ mark: Int) { used = mark }
}

extension JSONNode {
    /// Picks `tree`'s keys from this object and its nested objects in one
    /// call (none when not an object).
    func pick<R>(_ tree: PickTree, _ body: (PickedFields) -> R) -> R {
        let n = tree.count
        return withUnsafeTemporaryAllocation(of: vj_value.self, capacity: n) { values in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { found in
                if let valueBase = values.baseAddress, let foundBase = found.baseAddress {
                    _ = vj_pick_tree(value, tree.tree, valueBase, foundBase)
                    return body(PickedFields(values: values, found: found))
                }
                return body(PickedFields(values: values, found: UnsafeMutableBufferPointer(start: nil, count: 0)))
            }
        }
    }
}
