/// A group key as text: the values of the group-by fields, each tagged with its
/// type, so it is both a dictionary key and decodable back into fields (a dedup
/// summary is emitted long after the event that made the key).
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
            for (j, v) in values.enumerated() {
                if j > 0 { out.append(valueSeparator) }
                switch v {
                case .string(let s): out.append("s"); out.append(s)
                case .number(let n): out.append("n"); out.append(n.rounded() == n && abs(n) < 9e15 ? String(Int64(n)) : String(n))
                case .bool(let b): out.append(b ? "btrue" : "bfalse")
                }
            }
        }
        return out
    }

    /// The fields of a key made by ``text(_:)`` for `names` (in order).
    static func fields(_ text: String, names: [String]) -> [Alert.Field] {
        if names.isEmpty { return [] }
        let parts = text.split(separator: fieldSeparator, omittingEmptySubsequences: false)
        return names.enumerated().map { i, name in
            guard i < parts.count, !parts[i].isEmpty else { return Alert.Field(name: name, values: []) }
            let values = parts[i].split(separator: valueSeparator, omittingEmptySubsequences: false).map { raw -> FieldValue in
                let body = String(raw.dropFirst())
                switch raw.first {
                case "n": return .number(Double(body) ?? 0)
                case "b": return .bool(body == "true")
                default: return .string(body)
                }
            }
            return Alert.Field(name: name, values: values)
        }
    }
}
