/// A key's fired windows, the only one in a box of its own: most fired keys
/// hold one, and an array of one is a block with a 32-byte header (the box's
/// is 16). Two or more live in an array, sorted by start as before.
struct FiredWindows: RandomAccessCollection, MutableCollection, Sendable {
    /// Mutable, but only through ``FiredWindows``, which copies a shared box before writing.
    private final class Box: @unchecked Sendable {
        var window: ThresholdWindow
        init(_ window: ThresholdWindow) { self.window = window }
    }

    private enum Storage: Sendable {
        case one(Box)
        /// Never exactly one window.
        case many([ThresholdWindow])
    }

    private var storage: Storage = .many([])

    init() {}

    init(_ windows: [ThresholdWindow]) {
        storage = windows.count == 1 ? .one(Box(windows[0])) : .many(windows)
    }

    var array: [ThresholdWindow] {
        switch storage {
        case .one(let box): return [box.window]
        case .many(let list): return list
        }
    }

    var startIndex: Int { 0 }
    var endIndex: Int {
        switch storage {
        case .one: return 1
        case .many(let list): return list.count
        }
    }

    subscript(position: Int) -> ThresholdWindow {
        _read {
            switch storage {
            case .one(let box):
                precondition(position == 0, "FiredWindows index out of range")
                yield box.window
            case .many(let list): yield list[position]
            }
        }
        _modify {
            switch storage {
            case .one(var box):
                precondition(position == 0, "FiredWindows index out of range")
                storage = .many([])  // the only reference to the box, unless a copy shares it
                if !isKnownUniquelyReferenced(&box) { box = Box(box.window) }
                defer { storage = .one(box) }
                yield &box.window
            case .many(var list):
                storage = .many([])
                defer { storage = .many(list) }
                yield &list[position]
            }
        }
    }

    /// The position of the window holding event time `t` (`start <= t < end`), read in
    /// place (a search through the subscript copied each window: its references and alert).
    func firstIndex(containing t: Int64) -> Int? {
        switch storage {
        case .one(let box):
            return box.window.start <= t && t < box.window.end ? 0 : nil
        case .many(let list):
            return list.withUnsafeBufferPointer { windows in
                windows.firstIndex { $0.start <= t && t < $0.end }
            }
        }
    }

    /// The start of the first window starting after `time`, read in place.
    func firstStart(after time: Int64) -> Int64? {
        switch storage {
        case .one(let box):
            return box.window.start > time ? box.window.start : nil
        case .many(let list):
            return list.withUnsafeBufferPointer { windows in
                windows.firstIndex { $0.start > time }.map { windows[$0].start }
            }
        }
    }

    mutating func insert(_ window: ThresholdWindow, at position: Int) {
        var list = array
        list.insert(window, at: position)
        self = FiredWindows(list)
    }

    mutating func remove(at position: Int) {
        var list = array
        list.remove(at: position)
        self = FiredWindows(list)
    }
}
