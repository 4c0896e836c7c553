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
    public let geo: GeoLocation?
    public let torExit: (String) -> Bool
    /// The enrichment the context was built from, if any (answers Tor membership).
    public let enrichment: EventEnrichment?
    /// `response.code` and `response.grpc_code`, read once: rules test them
    /// often, and each read of `event.response` copies the whole part.
    let responseCode: Int?
    let responseGRPCCode: Int?

    public init(event: AuditEvent, geo: GeoLocation? = nil, torExit: @escaping (String) -> Bool = { _ in false }) {
        self.event = event
        self.geo = geo
        self.torExit = torExit
        enrichment = nil
        let response = event.response
        responseCode = response.code
        responseGRPCCode = response.grpcCode
    }

    /// A context answering geo fields from `enrichment.geo` and Tor membership
    /// from `enrichment.isTorExit` (what ingest computed for this event).
    public init(event: AuditEvent, enrichment: EventEnrichment) {
        self.event = event
        geo = enrichment.geo
        torExit = { _ in false }
        self.enrichment = enrichment
        let response = event.response
        responseCode = response.code
        responseGRPCCode = response.grpcCode
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

    public func isTorExit(_ ip: String) -> Bool {
        // Optional chaining reads the stored enrichment in place (binding it
        // with `if let` copied the whole value per call).
        if let answer = enrichment?.isTorExit(ip) { return answer }
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
