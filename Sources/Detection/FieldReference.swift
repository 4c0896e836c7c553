import AuditEvents

/// A field named in a condition, resolved once at compile time.
///
/// A name is a normalized field (`user.name`, ``NormalizedField``), a geo
/// field of the source IP (`source.geo.country_iso_code`, ``GeoField``), or a
/// raw JSON path (`annotations."authorization.k8s.io/decision"`).
public struct FieldReference: Sendable, Hashable, CustomStringConvertible {
    /// The resolved reference, shared: copying a reference (conditions do per
    /// evaluation) is one retain, not one per string and array inside.
    private final class Storage: Sendable {
        let path: FieldPath
        let normalized: NormalizedField?
        let geo: GeoField?
        let name: String
        let dottedName: String

        init(path: FieldPath) {
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
    }

    private let storage: Storage

    /// The raw JSON path, as ``AuditEvent/rawValue(at:)`` resolves it.
    public var path: FieldPath { storage.path }
    /// The normalized field this name denotes, if any.
    public var normalized: NormalizedField? { storage.normalized }
    /// The geo field of the source IP this name denotes, if any.
    public var geo: GeoField? { storage.geo }
    /// The canonical text: quoted segments where keys hold dots or slashes.
    public var name: String { storage.name }
    /// The keys joined by dots, without quoting (`[N]` for indexes).
    public var dottedName: String { storage.dottedName }

    public init(path: FieldPath) {
        storage = Storage(path: path)
    }

    /// A reference from path text (`user.name`, `a."b.c"`); nil when invalid.
    public init?(_ text: String) {
        guard let path = try? FieldPath(text) else { return nil }
        self.init(path: path)
    }

    /// Equal when the paths are (everything else derives from the path).
    public static func == (a: FieldReference, b: FieldReference) -> Bool {
        a.storage === b.storage || a.storage.path == b.storage.path
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.path)
    }

    public var description: String { name }
}
