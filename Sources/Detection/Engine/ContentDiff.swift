import AuditEvents

/// A fired alert's content as a key keeps it: a store's interned
/// ``AlertContent`` when the alert read exactly that, else the few values by
/// which it differs from one (``ContentDiff``, which also keeps the alert's
/// `last_seen` when its window's references do not give it). Both are
/// references: 8 bytes. Sendable: both are immutable once made (a
/// `ManagedBuffer` subclass may not declare it itself).
enum FiredContent: @unchecked Sendable {
    case shared(AlertContent)
    case own(ContentDiff)

    /// The alert's `last_seen`, when kept.
    var lastSeen: Int64? {
        switch self {
        case .shared: return nil
        case .own(let diff): return diff.lastSeen
        }
    }

    /// The content whole (a diff is applied to its template: a new object, made
    /// only when the alert is rendered again — summary, exported state).
    var content: AlertContent {
        switch self {
        case .shared(let content): return content
        case .own(let diff): return diff.content
        }
    }
}

/// The values of an alert's content that differ from a template's, packed into
/// the tail of one heap block: a fired key whose alert read its own user name
/// and location keeps those bytes, not a whole ``AlertContent`` with an array
/// of values and a location of its own (~550 bytes at 100,000 such keys).
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
/// string and the bytes between. Immutable; freed with the last window holding it.
final class ContentDiff: ManagedBuffer<ContentDiff.Header, UInt8> {
    struct Header {
        let template: AlertContent
        let count: Int32
    }

    /// The bit of the mask that says the alert's `last_seen` is kept.
    private static let lastSeenBit: UInt64 = 1 << 63
    /// The bytes of a diff of nothing.
    static let unchanged: [UInt8] = [0]

    /// A diff of `bytes` (``encode(_:against:)``) against `template`.
    static func make(_ bytes: [UInt8], against template: AlertContent) -> ContentDiff {
        let buffer = create(minimumCapacity: bytes.count) { _ in
            Header(template: template, count: Int32(bytes.count))
        }
        let diff = unsafeDowncast(buffer, to: ContentDiff.self)
        diff.withUnsafeMutablePointerToElements { tail in
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { tail.initialize(from: base, count: source.count) }
            }
        }
        return diff
    }

    var template: AlertContent { header.template }

    /// Reads the packed bytes in place.
    private func read<Result>(_ body: (inout CompactReader) -> Result) -> Result {
        withUnsafeMutablePointers { header, tail in
            var reader = CompactReader(UnsafeBufferPointer(start: tail, count: Int(header.pointee.count)))
            return body(&reader)
        }
    }

    /// The alert's `last_seen`, when kept.
    var lastSeen: Int64? {
        read { reader in
            guard reader.varint() & Self.lastSeenBit != 0 else { return nil }
            return Int64(bitPattern: reader.fixed64())
        }
    }

    /// The content this diff was made of.
    var content: AlertContent {
        let template = self.template
        var items = Self.items(of: template)
        read { reader in
            let changed = reader.varint()
            if changed & Self.lastSeenBit != 0 { _ = reader.fixed64() }
            for i in items.indices where i < 63 && changed & (1 << UInt64(i)) != 0 {
                items[i] = Self.values(against: items[i], from: &reader)
            }
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
        guard content.builder === template.builder, content.groupValues == template.groupValues,
              content.sourceIPField == template.sourceIPField, content.dataVersions == template.dataVersions,
              content.count == template.count, (content.source == nil) == (template.source == nil),
              content.source?.isTorExit == template.source?.isTorExit,
              content.values.count == template.values.count
        else { return nil }
        let mine = items(of: content), theirs = items(of: template)
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

    /// Equal, and a single number with the same bits (`-0.0` is not `0.0` here: a
    /// location's coordinate is rendered as it is).
    private static func identical(_ a: FieldValues, _ b: FieldValues) -> Bool {
        if case .one(.number(let x)) = a, case .one(.number(let y)) = b { return x.bitPattern == y.bitPattern }
        return a == b
    }

    // Value tags.
    private static let none: UInt8 = 0, string: UInt8 = 1, number: UInt8 = 2, falseValue: UInt8 = 3,
                       trueValue: UInt8 = 4, many: UInt8 = 5

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
            writer.byte(string)
            let mine = Array(text.utf8), theirs = Array(base.utf8)
            var prefix = 0
            while prefix < mine.count, prefix < theirs.count, mine[prefix] == theirs[prefix] { prefix += 1 }
            var suffix = 0
            while suffix < mine.count - prefix, suffix < theirs.count - prefix,
                  mine[mine.count - 1 - suffix] == theirs[theirs.count - 1 - suffix] { suffix += 1 }
            writer.varint(UInt64(prefix))
            writer.varint(UInt64(suffix))
            writer.varint(UInt64(mine.count - prefix - suffix))
            writer.raw(mine[prefix..<(mine.count - suffix)])
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

/// A store's interned alert contents (templates), emptied each sweep: a fired
/// alert's content is a template equal to it, else its diff against the recent
/// template it differs least from, else a new template.
struct ContentInterner {
    private var templates: Set<AlertContent> = []
    /// The templates made last (newest last), tried for a diff.
    private var recent: [AlertContent] = []
    static let recentCount = 4

    /// `candidate` as a fired key keeps it, with the alert's `last_seen` when given.
    mutating func intern(_ candidate: AlertContent, lastSeen: Int64? = nil) -> FiredContent {
        let template: AlertContent
        if let existing = templates.firstIndex(of: candidate) {
            template = templates[existing]
        } else {
            var best: (bytes: [UInt8], template: AlertContent)?
            for template in recent {
                guard let bytes = ContentDiff.encode(candidate, against: template, lastSeen: lastSeen) else { continue }
                if bytes.count < best?.bytes.count ?? .max { best = (bytes, template) }
            }
            if let best { return .own(ContentDiff.make(best.bytes, against: best.template)) }
            templates.insert(candidate)
            recent.append(candidate)
            if recent.count > Self.recentCount { recent.removeFirst() }
            template = candidate
        }
        // Equal may still not be identical (a coordinate of -0.0 against 0.0): then a diff.
        guard let bytes = ContentDiff.encode(candidate, against: template, lastSeen: lastSeen),
              bytes != ContentDiff.unchanged else { return .shared(template) }
        return .own(ContentDiff.make(bytes, against: template))
    }

    /// Forgets the templates (windows keep theirs; later alerts share anew).
    mutating func removeAll() {
        templates = []
        recent = []
    }
}
