import AuditEvents

/// A field named in a condition, resolved once at compile time.
///
/// A name is a normalized field (`user.name`, ``NormalizedField``), a geo
/// field of the source IP (`source.geo.country_iso_code`, ``GeoField``), or a
/// raw JSON path (`annotations."authorization.k8s.io/decision"`).
public struct FieldReference: Sendable, Hashable, CustomStringConvertible {
    /// The raw JSON path, as ``AuditEvent/rawValue(at:)`` resolves it.
    public let path: FieldPath
    /// The normalized field this name denotes, if any.
    public let normalized: NormalizedField?
    /// The geo field of the source IP this name denotes, if any.
    public let geo: GeoField?
    /// The canonical text: quoted segments where keys hold dots or slashes.
    public let name: String
    /// The keys joined by dots, without quoting (`[N]` for indexes).
    public let dottedName: String

    public init(path: FieldPath) {
        self.path = path
        name = path.description
        var dotted = ""
        for segment in path.segments {
            switch segment {
            case .key(let k): dotted += dotted.isEmpty ? k : "." + k
            case .index(let n): dotted += "[\(n)]"
            }
        }
        dottedName = dotted
        normalized = NormalizedField(rawValue: dotted)
        geo = GeoField(fieldName: dotted)
    }

    /// A reference from path text (`user.name`, `a."b.c"`); nil when invalid.
    public init?(_ text: String) {
        guard let path = try? FieldPath(text) else { return nil }
        self.init(path: path)
    }

    public var description: String { name }
}
