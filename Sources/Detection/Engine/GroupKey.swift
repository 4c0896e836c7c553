/// A group key as text: the values of the group-by fields, each tagged with its
/// type (so the string "5" and the number 5 make different keys); a dictionary
/// key of rule state and part of an alert's id.
///
/// Fields are separated by U+001F, values of one field by U+001E, and each
/// value starts with `s`, `n` or `b` (string, number, bool).
enum GroupKey {
    static let fieldSeparator: Character = "\u{1F}"
    static let valueSeparator: Character = "\u{1E}"

    /// The key of the values of each group-by field, in order.
    static func text(_ fields: some Sequence<FieldValues>) -> String {
        var out = ""
        var first = true
        for values in fields {
            if !first { out.append(fieldSeparator) }
            first = false
            append(values, to: &out)
        }
        return out
    }

    /// The key of the group-by `fields` in `context`, without intermediate arrays.
    static func text<C: EvaluationContext>(of fields: [FieldReference], in context: C) -> String {
        text(fields.lazy.map { context.values(of: $0) })
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
