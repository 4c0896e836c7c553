/// A sorted list of match references that keeps a single reference inline:
/// most windows and groups hold exactly one, and an array of one is a heap
/// block of ~96 bytes. The inline one is an ``InlineReference`` (23 bytes, its
/// origin's name numbered; the list's tag sits in the spare bits of its file flag, a `Bool`).
/// Two or more live in an array as before.
struct MatchList: RandomAccessCollection, Sendable {
    private enum Storage: Sendable {
        case one(InlineReference)
        /// Not exactly one element, unless that one's origin name has no number.
        case many([MatchReference])
    }

    private var storage: Storage = .many([])

    init() {}

    init<C: Collection>(_ matches: C) where C.Element == MatchReference {
        if matches.count == 1, let only = matches.first, let inline = InlineReference(only) {
            storage = .one(inline)
        } else {
            storage = .many(Array(matches))
        }
    }

    var startIndex: Int { 0 }
    var endIndex: Int {
        switch storage {
        case .one: return 1
        case .many(let list): return list.count
        }
    }

    subscript(position: Int) -> MatchReference {
        switch storage {
        case .one(let only):
            precondition(position == 0, "MatchList index out of range")
            return only.reference
        case .many(let list): return list[position]
        }
    }

    /// The time of the last (latest) reference, read without making it (its origin's name).
    var lastTime: Int64? {
        switch storage {
        case .one(let only): return only.time
        case .many(let list): return list.last?.time
        }
    }

    var array: [MatchReference] {
        switch storage {
        case .one(let only): return [only.reference]
        case .many(let list): return list
        }
    }

    /// ``Swift/Array/insert(sorted:cap:)`` on this list.
    mutating func insert(sorted match: MatchReference, cap: Int) {
        switch storage {
        case .many(let list) where list.isEmpty:
            if cap >= 1 { self = MatchList(CollectionOfOne(match)) }
        case .one(let only):
            var list = [only.reference]
            list.insert(sorted: match, cap: cap)
            self = MatchList(list)
        case .many(var list):
            storage = .many([])  // the only reference: sorted in place
            list.insert(sorted: match, cap: cap)
            storage = .many(list)
        }
    }

    /// Keeps the first `cap` references.
    mutating func cap(_ cap: Int) {
        if count > cap { self = MatchList(prefix(cap)) }
    }
}
