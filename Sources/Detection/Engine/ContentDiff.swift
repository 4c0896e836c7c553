import AuditEvents

/// The values of an alert's content that differ from a template's, packed into
/// bytes a store keeps in its ``DiffArena``: a fired key whose alert read its own
/// user name and location keeps those bytes and the template's reference, not a
/// whole ``AlertContent`` with an array of values and a location of its own
/// (~550 bytes at 100,000 such keys), nor a heap block of its own (~50 bytes
/// of header and rounding).
///
/// The items compared are the content values (``AlertContent/values``, one per
/// content field) and the source's address, country, country code, region,
/// city, latitude and longitude; everything else (the builder, group-by
/// values, Tor flag, data versions, count) must equal the template's, and
/// items past the 63rd may not differ. Layout of
/// the bytes: the bit set of the items that differ (LEB128; bit 63: the alert's
/// `last_seen` follows, 8 bytes), then each such item's values
/// (``ContentDiff/write(_:against:into:)``); a string is written
/// as the lengths of the prefix and suffix it shares with the template's
/// string and the bytes between, or whole when it shares neither.
enum ContentDiff {
    /// The bit of the mask that says the alert's `last_seen` is kept.
    private static let lastSeenBit: UInt64 = 1 << 63
    /// The bytes of a diff of nothing.
    static let unchanged: [UInt8] = [0]

    /// The alert's `last_seen`, when the diff `bytes` keep it.
    static func lastSeen(in bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var reader = CompactReader(bytes)
        guard reader.varint() & lastSeenBit != 0 else { return nil }
        return Int64(bitPattern: reader.fixed64())
    }

    /// The content the diff `bytes` against `template` were made of.
    static func content(_ bytes: UnsafeBufferPointer<UInt8>, against template: AlertContent) -> AlertContent {
        var items = Self.items(of: template)
        var reader = CompactReader(bytes)
        let changed = reader.varint()
        if changed & lastSeenBit != 0 { _ = reader.fixed64() }
        for i in items.indices where i < 63 && changed & (1 << UInt64(i)) != 0 {
            items[i] = values(against: items[i], from: &reader)
        }
        let n = template.values.count
        var source = template.source
        if source != nil {
            func string(_ i: Int) -> String? {
                if case .one(.string(let s)) = items[n + i] { return s }
                return nil
            }
            func number(_ i: Int) -> Double? {
                if case .one(.number(let d)) = items[n + i] { return d }
                return nil
            }
            source?.ip = string(0) ?? ""
            source?.country = string(1)
            source?.countryCode = string(2)
            source?.region = string(3)
            source?.city = string(4)
            source?.latitude = number(5)
            source?.longitude = number(6)
        }
        return AlertContent(builder: template.builder, values: Array(items[..<n]), groupValues: template.groupValues,
                            source: source, sourceIPField: template.sourceIPField,
                            dataVersions: template.dataVersions, count: template.count)
    }

    /// The items compared, as values: the content values, then the source's
    /// address, country, country code, region, city (strings) and latitude,
    /// longitude (numbers), none where absent.
    static func items(of content: AlertContent) -> [FieldValues] {
        var items = content.values
        let source = content.source
        for text in [source?.ip, source?.country, source?.countryCode, source?.region, source?.city] {
            items.append(text.map { .one(.string($0)) } ?? .none)
        }
        for number in [source?.latitude, source?.longitude] {
            items.append(number.map { .one(.number($0)) } ?? .none)
        }
        return items
    }

    /// The packed diff of `content` against `template`; nil when they differ in
    /// more than their items, or in more than half of them (then `content`
    /// should be a template of its own).
    static func encode(_ content: AlertContent, against template: AlertContent, lastSeen: Int64? = nil) -> [UInt8]? {
        encode(items(of: content), of: content, against: template, lastSeen: lastSeen)
    }

    /// ``encode(_:against:lastSeen:)`` with the content's items given (``items(of:)``): a
    /// content tried against several templates makes them once.
    static func encode(_ mine: [FieldValues], of content: AlertContent, against template: AlertContent,
                       lastSeen: Int64?) -> [UInt8]? {
        guard content.builder === template.builder, content.groupValues == template.groupValues,
              content.sourceIPField == template.sourceIPField, content.dataVersions == template.dataVersions,
              content.count == template.count, (content.source == nil) == (template.source == nil),
              content.source?.isTorExit == template.source?.isTorExit,
              content.values.count == template.values.count
        else { return nil }
        let theirs = items(of: template)
        var changed: UInt64 = 0
        for i in mine.indices where !identical(mine[i], theirs[i]) {
            guard i < 63 else { return nil }
            changed |= 1 << UInt64(i)
        }
        guard changed.nonzeroBitCount * 2 <= mine.count else { return nil }
        var writer = CompactWriter(capacity: 32)
        writer.varint(changed | (lastSeen == nil ? 0 : lastSeenBit))
        if let lastSeen { writer.fixed64(UInt64(bitPattern: lastSeen)) }
        for i in mine.indices where changed & (1 << UInt64(i)) != 0 {
            write(mine[i], against: theirs[i], into: &writer)
        }
        return writer.bytes
    }

    /// Whether `content`, equal to `template` (`==`), would have a diff of nothing against it (no
    /// number of its items with other bits): what ``encode(_:against:lastSeen:)`` would answer
    /// with ``unchanged`` when no `last_seen` is kept, without writing the bytes.
    static func isUnchanged(_ content: AlertContent, against template: AlertContent) -> Bool {
        guard content.values.count == template.values.count,
              content.source?.latitude?.bitPattern == template.source?.latitude?.bitPattern,
              content.source?.longitude?.bitPattern == template.source?.longitude?.bitPattern
        else { return false }
        for i in content.values.indices where !identical(content.values[i], template.values[i]) { return false }
        return true
    }

    /// Equal, and a single number with the same bits (`-0.0` is not `0.0` here: a
    /// location's coordinate is rendered as it is).
    private static func identical(_ a: FieldValues, _ b: FieldValues) -> Bool {
        if case .one(.number(let x)) = a, case .one(.number(let y)) = b { return x.bitPattern == y.bitPattern }
        return a == b
    }

    // Value tags.
    private static let none: UInt8 = 0, string: UInt8 = 1, number: UInt8 = 2, falseValue: UInt8 = 3,
                       trueValue: UInt8 = 4, many: UInt8 = 5, wholeString: UInt8 = 6

    /// Writes `values`; a single string as what it shares with `base`'s single string.
    static func write(_ values: FieldValues, against base: FieldValues, into writer: inout CompactWriter) {
        switch values {
        case .none: writer.byte(none)
        case .one(let value):
            var baseText = ""
            if case .one(.string(let text)) = base { baseText = text }
            write(value, against: baseText, into: &writer)
        case .many(let list):
            writer.byte(many)
            writer.varint(UInt64(list.count))
            for value in list { write(value, against: "", into: &writer) }
        }
    }

    private static func write(_ value: FieldValue, against base: String, into writer: inout CompactWriter) {
        switch value {
        case .string(let text):
            // The two strings' bytes read in place (copied into arrays, each string written cost two
            // allocations: a fired alert tries up to four templates).
            var text = text, base = base
            text.withUTF8 { mine in
                base.withUTF8 { theirs in
                    var prefix = 0
                    while prefix < mine.count, prefix < theirs.count, mine[prefix] == theirs[prefix] { prefix += 1 }
                    var suffix = 0
                    while suffix < mine.count - prefix, suffix < theirs.count - prefix,
                          mine[mine.count - 1 - suffix] == theirs[theirs.count - 1 - suffix] { suffix += 1 }
                    guard prefix + suffix > 0 else {
                        // Nothing shared: no prefix and suffix lengths (two bytes a string).
                        writer.byte(wholeString)
                        writer.varint(UInt64(mine.count))
                        writer.raw(mine)
                        return
                    }
                    writer.byte(string)
                    writer.varint(UInt64(prefix))
                    writer.varint(UInt64(suffix))
                    writer.varint(UInt64(mine.count - prefix - suffix))
                    writer.raw(UnsafeBufferPointer(rebasing: mine[prefix..<(mine.count - suffix)]))
                }
            }
        case .number(let n):
            writer.byte(number)
            writer.fixed64(n.bitPattern)
        case .bool(let b):
            writer.byte(b ? trueValue : falseValue)
        }
    }

    /// Reads what ``write(_:against:into:)`` wrote.
    private static func values(against base: FieldValues, from reader: inout CompactReader) -> FieldValues {
        let tag = reader.byte()
        switch tag {
        case none: return .none
        case many:
            let count = Int(reader.varint())
            return .many((0..<count).map { _ in value(tag: reader.byte(), against: "", from: &reader) })
        default:
            var baseText = ""
            if case .one(.string(let text)) = base { baseText = text }
            return .one(value(tag: tag, against: baseText, from: &reader))
        }
    }

    private static func value(tag: UInt8, against base: String, from reader: inout CompactReader) -> FieldValue {
        switch tag {
        case wholeString:
            return .string(String(decoding: reader.take(Int(reader.varint())), as: UTF8.self))
        case string:
            let prefix = Int(reader.varint()), suffix = Int(reader.varint()), middle = Int(reader.varint())
            let theirs = Array(base.utf8)
            var text = Array(theirs[..<prefix])
            text += reader.take(middle)
            text += theirs[(theirs.count - suffix)...]
            return .string(String(decoding: text, as: UTF8.self))
        case number:
            return .number(Double(bitPattern: reader.fixed64()))
        default:
            return .bool(tag == trueValue)
        }
    }
}

/// Diff bytes of a store's fired keys, packed back to back in pages of up to
/// 64 KiB (only the last page grows): a diff costs its bytes and a length
/// byte or two, where a heap block of its own cost a 16-byte object header, a
/// 12-byte header and glibc's 8-byte chunk header and rounding to 16. A
/// window holds its diff's handle (4 bytes). Bytes of windows that ended stay
/// until ``ThresholdStore`` copies the live ones into a fresh arena at a sweep
/// (``copy(_:into:)``), when at least half are dead.
struct DiffArena {
    static let pageSize = 1 << 16
    private var pages: [[UInt8]] = []
    /// Bytes written, live or dead (with their length prefixes).
    private(set) var written = 0
    /// Bytes the pages have room for.
    var capacity: Int { pages.reduce(0) { $0 + $1.capacity } }

    /// Stores `bytes`; their handle (never 0), or nil when they do not fit a page or
    /// the handles are used up.
    mutating func add(_ bytes: [UInt8]) -> UInt32? {
        let size = Self.stored(bytes.count)
        guard size <= Self.pageSize else { return nil }
        if pages.isEmpty || pages[pages.count - 1].count + size > Self.pageSize {
            guard pages.count < 0xFFFF else { return nil }
            pages.append([])
        }
        let page = pages.count - 1
        let at = page << 16 | pages[page].count
        if pages[page].count + size > pages[page].capacity {
            // Doubling, but never past a page (an array's own growth would take a full page
            // to twice its size).
            let room = Swift.max(pages[page].count + size, 2 * pages[page].capacity, 64)
            pages[page].reserveCapacity(Swift.min(Self.pageSize, room))
        }
        CompactWriter.appendVarint(UInt64(bytes.count), to: &pages[page])
        pages[page].append(contentsOf: bytes)
        written += size
        return UInt32(at + 1)
    }

    /// Reads the bytes of `handle` in place.
    func read<Result>(_ handle: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        let at = Int(handle) - 1
        return pages[at >> 16].withUnsafeBufferPointer { page in
            var reader = CompactReader(UnsafeBufferPointer(rebasing: page[(at & 0xFFFF)...]))
            return body(reader.take(Int(reader.varint())))
        }
    }

    /// The room `handle`'s bytes take (with their length prefix).
    func size(of handle: UInt32) -> Int {
        read(handle) { Self.stored($0.count) }
    }

    /// The room `count` bytes take: their varint length prefix and themselves.
    private static func stored(_ count: Int) -> Int {
        CompactWriter.varintSize(UInt64(count)) + count
    }

    /// `handle`'s bytes stored again in `other`; their handle there.
    func copy(_ handle: UInt32, into other: inout DiffArena) -> UInt32? {
        other.add(read(handle) { Array($0) })
    }
}

/// A store's interned alert contents (templates), forgotten each sweep, and the
/// diffs its fired keys keep: a fired alert's content is a template equal to
/// it, else its diff against the recent template it differs least from, else a
/// new template.
struct ContentInterner {
    private var templates: Set<AlertContent> = []
    /// The templates made last (newest last), tried for a diff.
    private var recent: [AlertContent] = []
    static let recentCount = 4
    /// The diffs of the store's fired windows (``ThresholdWindow/diff``).
    var diffs = DiffArena()

    /// `candidate` as a fired key keeps it, with the alert's `last_seen` when given: a
    /// template and the handle of its diff in ``diffs`` (0: none); nil when no diff
    /// could be stored (the window keeps its alert whole).
    mutating func intern(_ candidate: AlertContent, lastSeen: Int64? = nil) -> (AlertContent, diff: UInt32)? {
        let template: AlertContent
        if let existing = templates.firstIndex(of: candidate) {
            template = templates[existing]
        } else {
            var best: (bytes: [UInt8], template: AlertContent)?
            let items = recent.isEmpty ? [] : ContentDiff.items(of: candidate)
            for template in recent {
                guard let bytes = ContentDiff.encode(items, of: candidate, against: template, lastSeen: lastSeen)
                else { continue }
                if bytes.count < best?.bytes.count ?? .max { best = (bytes, template) }
            }
            if let best, let handle = diffs.add(best.bytes) { return (best.template, handle) }
            templates.insert(candidate)
            recent.append(candidate)
            if recent.count > Self.recentCount { recent.removeFirst() }
            template = candidate
        }
        // Equal may still not be identical (a coordinate of -0.0 against 0.0): then a diff.
        if lastSeen == nil, ContentDiff.isUnchanged(candidate, against: template) { return (template, 0) }
        guard let bytes = ContentDiff.encode(candidate, against: template, lastSeen: lastSeen),
              bytes != ContentDiff.unchanged else { return (template, 0) }
        return diffs.add(bytes).map { (template, $0) }
    }

    /// Forgets the templates (windows keep theirs; later alerts share anew); the diffs stay.
    mutating func forgetTemplates() {
        templates = []
        recent = []
    }
}
