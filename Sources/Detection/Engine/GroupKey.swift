/// A group key as text: the values of the group-by fields, each tagged with its
/// type (so the string "5" and the number 5 make different keys); a dictionary
/// key of rule state and part of an alert's id.
///
/// Fields are separated by U+001F, values of one field by U+001E, and each
/// value starts with `s`, `n` or `b` (string, number, bool).
enum GroupKey {
    static let fieldSeparator: Character = "\u{1F}"
    static let valueSeparator: Character = "\u{1E}"

    static func text(_ fields: [[FieldValue]]) -> String {
        var out = ""
        for (i, values) in fields.enumerated() {
            if i > 0 { out.append(fieldSeparator) }
            append(FieldValues(values), to: &out)
        }
        return out
    }

    /// The key of the group-by `fields` in `context`, without intermediate arrays.
    static func text<C: EvaluationContext>(of fields: [FieldReference], in context: C) -> String {
        var out = ""
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(fieldSeparator) }
            append(context.values(of: field), to: &out)
        }
        return out
    }

    private static func append(_ values: FieldValues, to out: inout String) {
        var first = true
        func one(_ v: FieldValue) {
            if !first { out.append(valueSeparator) }
            first = false
            switch v {
            case .string(let s): out.append("s"); out.append(s)
            case .number(let n): out.append("n"); out.append(FieldValue.number(n).text)
            case .bool(let b): out.append(b ? "btrue" : "bfalse")
            }
        }
        switch values {
        case .none: break
        case .one(let v): one(v)
        case .many(let vs): for v in vs { one(v) }
        }
    }
}
