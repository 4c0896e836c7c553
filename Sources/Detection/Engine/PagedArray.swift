/// An array kept in pages of ``pageSize`` elements: every page but the last is
/// full, and only the last grows the way an array grows (doubling). So the
/// room allocated and not used is at most one page, where one array doubling
/// past a power of two leaves up to half of itself unused (a third on average
/// at 100,000 keys); and growing never copies the elements already in place.
struct PagedArray<Element>: RandomAccessCollection, MutableCollection {
    /// Elements per page (a power of two).
    static var pageSize: Int { 1 << pageShift }
    private static var pageShift: Int { 10 }
    private static var pageMask: Int { pageSize - 1 }

    private var pages: [[Element]] = []
    private(set) var count = 0

    init() {}

    /// Elements the pages have room for.
    var capacity: Int { pages.reduce(0) { $0 + $1.capacity } }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        // Read in place: a `get` returned a copy of the whole element (a key table's slot: its
        // key and state, a retain and release each) to read one field of it.
        _read { yield pages[position >> Self.pageShift][position & Self.pageMask] }
        _modify { yield &pages[position >> Self.pageShift][position & Self.pageMask] }
        set { pages[position >> Self.pageShift][position & Self.pageMask] = newValue }
    }

    mutating func append(_ element: Element) {
        if count & Self.pageMask == 0 { pages.append([]) }
        let last = pages.count - 1
        if pages[last].count == pages[last].capacity {
            // Doubling, but never past a page: an array's own growth takes a page of 8-byte
            // elements to a capacity of 1,023 (glibc's chunk sizes) and then to 2,047.
            pages[last].reserveCapacity(Swift.min(Self.pageSize, Swift.max(16, 2 * pages[last].capacity)))
        }
        pages[last].append(element)
        count += 1
    }

    /// Removes the last element (and its page, when that empties it).
    mutating func removeLast() {
        precondition(count > 0, "removeLast from an empty PagedArray")
        count -= 1
        if count & Self.pageMask == 0 {
            pages.removeLast()
        } else {
            pages[pages.count - 1].removeLast()
        }
    }
}
