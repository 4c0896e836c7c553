import AuditEvents
import Enrichment

/// Evaluates conditions against a decoded ``AuditEvent``.
///
/// Normalized names resolve to the event's normalized fields, `source.geo.*`
/// to `geo` (the location of the event's first source IP, looked up by the
/// caller), anything else to the raw JSON path. Tor membership is answered by
/// `torExit`, which the caller binds to the Tor set at the event's time, or,
/// built from an ``EventEnrichment``, by its ``EventEnrichment/isTorExit(_:)``.
public struct AuditEventContext: EvaluationContext {
    public let event: AuditEvent
    /// The location of the event's first source IP: the enrichment's, or the one given.
    public var geo: GeoLocation? {
        if let borrowed { return borrowed.pointee.geo }
        return ownEnrichment == nil ? givenGeo : ownEnrichment?.geo
    }
    public let torExit: (String) -> Bool
    /// The enrichment the context was built from, if any (answers geo fields and Tor membership).
    public var enrichment: EventEnrichment? { borrowed?.pointee ?? ownEnrichment }
    /// The location given to ``init(event:geo:torExit:)``; the enrichment's
    /// is not copied here (a context is built per event: each stored
    /// reference is a retain and a release).
    private let givenGeo: GeoLocation?
    private let ownEnrichment: EventEnrichment?
    /// The engine's contexts borrow the enrichment for one call (``withBorrowed(event:enrichment:_:)``)
    /// instead of copying it: its location's strings and lists were retained and released per event.
    private let borrowed: UnsafePointer<EventEnrichment>?

    public init(event: AuditEvent, geo: GeoLocation? = nil, torExit: @escaping (String) -> Bool = { _ in false }) {
        self.event = event
        givenGeo = geo
        self.torExit = torExit
        ownEnrichment = nil
        borrowed = nil
    }

    /// A context answering geo fields from `enrichment.geo` and Tor membership
    /// from `enrichment.isTorExit` (what ingest computed for this event).
    public init(event: AuditEvent, enrichment: EventEnrichment) {
        self.event = event
        givenGeo = nil
        torExit = { _ in false }
        ownEnrichment = enrichment
        borrowed = nil
    }

    private init(event: AuditEvent, borrowing enrichment: UnsafePointer<EventEnrichment>) {
        self.event = event
        givenGeo = nil
        torExit = { _ in false }
        ownEnrichment = nil
        borrowed = enrichment
    }

    /// Runs `body` with a context over `event` and `enrichment` that reads the
    /// enrichment in place; the context must not outlive the call.
    @inline(__always)
    static func withBorrowed<R>(event: AuditEvent, enrichment: EventEnrichment,
                                _ body: (AuditEventContext) -> R) -> R {
        withUnsafePointer(to: enrichment) { body(AuditEventContext(event: event, borrowing: $0)) }
    }

    /// Whether the enrichment says none of the event's source IPs is a Tor exit
    /// (false when the context has no enrichment: then `torExit` is asked).
    var enrichmentHasNoTorExit: Bool {
        if let borrowed { return borrowed.pointee.torExitIPs.isEmpty }
        return ownEnrichment?.torExitIPs.isEmpty == true
    }

    public func values(of field: FieldReference) -> FieldValues {
        if let normalized = field.normalized { return values(of: normalized) }
        if let geoField = field.geo {
            guard let geo, let value = geoField.value(in: geo) else { return .none }
            return .one(value)
        }
        return Self.values(from: event.rawValue(at: field.path))
    }

    public func containsValue(of field: FieldReference, where predicate: (FieldValue) -> Bool) -> Bool {
        if let normalized = field.normalized { return contains(normalized, where: predicate) }
        return values(of: field).contains(where: predicate)
    }

    /// Whether `ip` is public: ``IPAddress/isGlobal`` (the protocol's default, stated
    /// here so lowered conditions can ask without a context).
    public func isPublic(_ ip: String) -> Bool { Self.isPublic(ip) }

    static func isPublic(_ ip: String) -> Bool { IPAddress(ip)?.isGlobal ?? false }

    public func isTorExit(_ ip: String) -> Bool {
        // Optional chaining reads the stored enrichment in place (binding it
        // with `if let` copied the whole value per call).
        if let borrowed { return borrowed.pointee.isTorExit(ip) }
        if let answer = ownEnrichment?.isTorExit(ip) { return answer }
        return torExit(ip)
    }

    /// Scalars of a JSON value; arrays are flattened, objects and null are no value.
    static func values(from json: JSONValue?) -> FieldValues {
        guard let json else { return .none }
        if let scalar = scalar(json) { return .one(scalar) }
        guard case .array(let elements) = json else { return .none }
        var out: [FieldValue] = []
        out.reserveCapacity(elements.count)
        for element in elements {
            if let s = scalar(element) {
                out.append(s)
            } else if case .array = element {
                out.append(contentsOf: values(from: element).all)
            }
        }
        return FieldValues(out)
    }

    private static func scalar(_ json: JSONValue) -> FieldValue? {
        switch json {
        case .string(let s): return .string(s)
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .null, .array, .object: return nil
        }
    }
}
