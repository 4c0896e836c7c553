/// A group key as text: the values of the group-by fields, each tagged with its
/// type (so the string "5" and the number 5 make different keys); a dictionary
/// key of rule state and part of an alert's id.
///
/// Fields are separated by U+001F, values of one field by U+001E, and each
/// value starts with `s`, `n` or `b` (string, number, bool).
enum GroupKey {
    static let fieldSeparator: UInt8 = 0x1F
    static let valueSeparator: UInt8 = 0x1E

    /// The key of the values of each group-by field, in order.
    static func text(_ fields: some Sequence<FieldValues>) -> String {
        var bytes: [UInt8] = []
        for (i, values) in fields.enumerated() {
            if i > 0 { bytes.append(fieldSeparator) }
            write(values, into: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The key of the group-by `fields` in `context`.
    static func text<C: EvaluationContext>(of fields: [FieldReference], in context: C) -> String {
        var bytes: [UInt8] = []
        write(fields, in: context, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the key of the group-by `fields` in `context` as UTF-8 into `bytes`
    /// (appending): the bytes of ``text(of:in:)``, without making the `String`.
    static func write<C: EvaluationContext>(_ fields: [FieldReference], in context: C, into bytes: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { bytes.append(fieldSeparator) }
            write(context.values(of: field), into: &bytes)
        }
    }

    /// The same bytes for a decoded event: a normalized text field is written from the
    /// event in place (the generic form made a `FieldValues` per field, retaining its strings).
    static func write(_ fields: [FieldReference], in context: AuditEventContext, into bytes: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { bytes.append(fieldSeparator) }
            guard let text = field.textField else {
                write(context.values(of: field), into: &bytes)
                continue
            }
            var first = true
            _ = text.contains(in: context.event) { value in
                if !first { bytes.append(valueSeparator) }
                first = false
                bytes.append(UInt8(ascii: "s"))
                bytes.append(contentsOf: value.utf8)
                return false  // every value
            }
        }
    }

    /// Writes the key of one value per field (an aggregate group's) as UTF-8 into `bytes`.
    static func write(values: [FieldValue], into bytes: inout [UInt8]) {
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(fieldSeparator) }
            write(value, into: &bytes)
        }
    }

    static func write(_ values: FieldValues, into bytes: inout [UInt8]) {
        switch values {
        case .none: break
        case .one(let v): write(v, into: &bytes)
        case .many(let vs):
            for (i, v) in vs.enumerated() {
                if i > 0 { bytes.append(valueSeparator) }
                write(v, into: &bytes)
            }
        }
    }

    @inline(__always)
    private static func write(_ value: FieldValue, into bytes: inout [UInt8]) {
        switch value {
        case .string(let s):
            bytes.append(UInt8(ascii: "s"))
            bytes.append(contentsOf: s.utf8)
        case .number(let n):
            bytes.append(UInt8(ascii: "n"))
            bytes.append(contentsOf: FieldValue.number(n).text.utf8)
        case .bool(let b):
            bytes.append(contentsOf: (b ? "btrue" : "bfalse").utf8)
        }
    }

    /// The values of each of `fields` group-by fields read back from a key's text;
    /// nil when the text does not have that shape. (A string value holding a
    /// separator reads back differently: callers compare before relying on it.)
    static func values(of key: String, fields: Int) -> [FieldValues]? {
        if fields == 0 { return key.isEmpty ? [] : nil }
        let parts = key.utf8.split(separator: fieldSeparator, omittingEmptySubsequences: false)
        guard parts.count == fields else { return nil }
        var out: [FieldValues] = []
        out.reserveCapacity(fields)
        for part in parts {
            if part.isEmpty {
                out.append(.none)
                continue
            }
            var values: [FieldValue] = []
            for text in part.split(separator: valueSeparator, omittingEmptySubsequences: false) {
                guard let tag = text.first else { return nil }
                let rest = String(decoding: text.dropFirst(), as: UTF8.self)
                switch tag {
                case UInt8(ascii: "s"): values.append(.string(rest))
                case UInt8(ascii: "n"):
                    guard let n = Double(rest) else { return nil }
                    values.append(.number(n))
                case UInt8(ascii: "b"):
                    guard rest == "true" || rest == "false" else { return nil }
                    values.append(.bool(rest == "true"))
                default: return nil
                }
            }
            out.append(values.count == 1 ? .one(values[0]) : .many(values))
        }
        return out
    }
}
