/// One normalized event, whatever cloud or log it came from. Pure data: no
/// Kafka, no I/O. Fields a source does not have are nil or empty.
///
/// A value type whose fields live in one shared, copy-on-write box: copying an
/// event (into an outcome, a channel, a batch) is one retain, not thirty. The
/// parts that repeat across events (``user``, ``object`` but its name,
/// ``response``, ``authorization`` and the request fields ``verb``,
/// ``userAgent``, ``stage``, ``level``) are one immutable shared value
/// inside it (``EventParts``), which the decoder reuses across events with
/// the same content: setting an event's parts is one retain. The values that
/// change from one request to the next (``requestURI``, the object's name,
/// ``auditID``, the source IPs) are the event's own.
public struct AuditEvent: Sendable, Hashable {
    /// The stored fields (see the public properties for their meaning). What
    /// a decoder has not read is nil or empty, so an initializer call names
    /// only what it has.
    @usableFromInline
    struct Fields: Sendable, Hashable {
        @usableFromInline var logType: LogType
        @usableFromInline var time: EventTime?
        @usableFromInline var cluster: String?
        @usableFromInline var isKubernetes: Bool
        @usableFromInline var parts: Shared<EventParts>
        /// Apart from `parts`: the same user, object and request come from
        /// many addresses, and the decoder's list cache shares the lists.
        @usableFromInline var sourceIPs: [String] = []
        /// Kept inline: a distinct ID per event, mostly a 36-byte UUID.
        @usableFromInline var auditID: InlineText?
        /// Apart from `parts`, like the source IPs: the values that change
        /// from one request to the next (a URI with its query, an object's
        /// name), so the parts around them stay shared on a stream of
        /// distinct requests.
        @usableFromInline var requestURI: String?
        @usableFromInline var objectName: String?
        @usableFromInline var process: ProcessDetails?
        @usableFromInline var warnings: DecodeWarnings = []
        var raw: RawJSON
        var envelope: RawJSON?
        var extracted: [JSONValue?] = []
    }

    /// The box that holds the fields.
    /// - Important: mutated only through `fields`' modify accessor, after a
    ///   uniqueness check; shared boxes are never written. That is why the
    ///   `@unchecked Sendable` is safe.
    @usableFromInline
    final class Box: @unchecked Sendable {
        // Exclusivity is guaranteed by the uniqueness check above, not by the
        // runtime's access tracking (which cost ~5% of decoding).
        @usableFromInline @exclusivity(unchecked) var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// Read in place by the inlinable getters (`AuditEvent+Reading.swift`);
    /// written only through `fields`.
    @usableFromInline var box: Box

    var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    /// Runs `body` on the stored fields in place, after one uniqueness check.
    mutating func withFields<R>(_ body: (inout Fields) -> R) -> R {
        body(&fields)
    }

    public static func == (a: AuditEvent, b: AuditEvent) -> Bool {
        a.box === b.box || a.box.fields == b.box.fields
    }

    public func hash(into hasher: inout Hasher) {
        box.fields.hash(into: &hasher)
    }

    public var logType: LogType {
        @inlinable get { box.fields.logType }
        _modify { yield &fields.logType }
    }

    /// The event's own time; nil when the record had none (`warnings` says so).
    public var time: EventTime? {
        @inlinable get { box.fields.time }
        _modify { yield &fields.time }
    }

    /// EKS: the configured label or `p_source_label` (or the CloudWatch log
    /// group's cluster); AKS: the cluster in `resourceId`; GKE:
    /// `resource.labels.cluster_name`; process: `orchestrator.cluster.name`.
    public var cluster: String? {
        @inlinable get { box.fields.cluster }
        _modify { yield &fields.cluster }
    }

    /// False for GCP entries of services other than `k8s.io` and for process events.
    public var isKubernetes: Bool {
        @inlinable get { box.fields.isKubernetes }
        _modify { yield &fields.isKubernetes }
    }

    /// The event with its parts changed by `change` (a new shared value;
    /// other events with the same parts keep theirs).
    private mutating func changeParts(_ change: (inout EventParts) -> Void) {
        withFields { $0.parts = $0.parts.with(change) }
    }

    /// All source IPs, in order, as written (GKE: `callerIp`).
    public var sourceIPs: [String] {
        @inlinable get { box.fields.sourceIPs }
        _modify { yield &fields.sourceIPs }
    }

    public var user: UserInfo {
        get { box.fields.parts.value.user.value }
        set { changeParts { $0.user = Shared(newValue) } }
    }

    /// Kubernetes verb (GKE: the last part of `methodName`).
    public var verb: String? {
        @inlinable get { box.fields.parts.value.request.value.verb }
        set { changeParts { $0.request = $0.request.with { $0.verb = newValue } } }
    }

    /// The object reference: the shared part with the event's own name.
    public var object: ObjectReference {
        get {
            var object = box.fields.parts.value.object.value
            object.name = box.fields.objectName
            return object
        }
        set {
            var shared = newValue
            shared.name = nil
            withFields { f in
                f.objectName = newValue.name
                f.parts = f.parts.with { $0.object = Shared(shared) }
            }
        }
    }

    /// Request URI (GKE has none: built from `resourceName`, see the GKE decoder).
    public var requestURI: String? {
        @inlinable get { box.fields.requestURI }
        _modify { yield &fields.requestURI }
    }

    public var response: ResponseStatus {
        get { box.fields.parts.value.response.value }
        set { changeParts { $0.response = Shared(newValue) } }
    }

    public var userAgent: String? {
        @inlinable get { box.fields.parts.value.request.value.userAgent }
        set { changeParts { $0.request = $0.request.with { $0.userAgent = newValue } } }
    }

    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`.
    public var stage: String? {
        @inlinable get { box.fields.parts.value.request.value.stage }
        set { changeParts { $0.request = $0.request.with { $0.stage = newValue } } }
    }

    /// `auditID` (GKE: `operation.id`, else `insertId`).
    public var auditID: String? {
        @inlinable get { box.fields.auditID?.string }
        set { fields.auditID = newValue.map(InlineText.init) }
    }

    /// Audit policy level (`Metadata`, `Request`, `RequestResponse`).
    public var level: String? {
        @inlinable get { box.fields.parts.value.request.value.level }
        set { changeParts { $0.request = $0.request.with { $0.level = newValue } } }
    }

    public var authorization: AuthorizationAnnotations {
        get { box.fields.parts.value.authorization.value }
        set { changeParts { $0.authorization = Shared(newValue) } }
    }

    /// Process fields; nil for audit events.
    public var process: ProcessDetails? {
        @inlinable get { box.fields.process }
        _modify { yield &fields.process }
    }

    public var warnings: DecodeWarnings {
        @inlinable get { box.fields.warnings }
        _modify { yield &fields.warnings }
    }

    /// The decoded document; read any field with ``RawJSON/value(at:)``.
    public var raw: RawJSON {
        get { box.fields.raw }
        _modify { yield &fields.raw }
    }

    /// The record around `raw` when there is one (the AKS diagnostic record).
    public var envelope: RawJSON? {
        get { box.fields.envelope }
        _modify { yield &fields.envelope }
    }

    /// Values of ``DecoderOptions/extractedPaths``, in the same order.
    public var extracted: [JSONValue?] {
        get { box.fields.extracted }
        _modify { yield &fields.extracted }
    }

    /// The first source IP: the one threshold keys and GeoIP use.
    @inlinable public var sourceIP: String? { box.fields.sourceIPs.first }

    public init(logType: LogType, raw: RawJSON = RawJSON([UInt8]())) {
        self.init(Fields(logType: logType, isKubernetes: logType != .ecsProcess, parts: noParts, raw: raw))
    }

    /// An event with these stored fields.
    init(_ fields: Fields) {
        box = Box(fields)
    }

    /// A raw field of the event by dotted path; the envelope is searched when
    /// the document has no such field.
    public func rawValue(at path: FieldPath) -> JSONValue? {
        raw.value(at: path) ?? envelope?.value(at: path)
    }
}

/// An immutable value shared by reference: a part of an event that many
/// events have in common (the same user, object, response), made once by the
/// decoder and referenced by each. Equality and hashing are by value.
@usableFromInline
final class Shared<Value: Hashable & Sendable>: Sendable, Hashable {
    @usableFromInline let value: Value

    init(_ value: Value) { self.value = value }

    @usableFromInline static func == (a: Shared, b: Shared) -> Bool { a === b || a.value == b.value }

    @usableFromInline func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }

    /// A new part: this one with `change` applied.
    func with(_ change: (inout Value) -> Void) -> Shared {
        var copy = value
        change(&copy)
        return Shared(copy)
    }
}

/// The parts of an event that repeat across events, each shared on its own
/// too (events of one user with different objects share the user).
@usableFromInline
struct EventParts: Sendable, Hashable {
    @usableFromInline var request: Shared<RequestLine>
    @usableFromInline var user: Shared<UserInfo>
    @usableFromInline var object: Shared<ObjectReference>
    @usableFromInline var response: Shared<ResponseStatus>
    @usableFromInline var authorization: Shared<AuthorizationAnnotations>
    /// What the decoder found wanting in these parts when it made them (no
    /// verb, no user), so an event that reuses them
    /// gets the same warnings without looking again. Not part of the value:
    /// equality and hashing ignore it.
    var derivedWarnings: DecodeWarnings = []

    @usableFromInline static func == (a: EventParts, b: EventParts) -> Bool {
        a.request == b.request && a.user == b.user && a.object == b.object && a.response == b.response
            && a.authorization == b.authorization
    }

    @usableFromInline func hash(into hasher: inout Hasher) {
        hasher.combine(request)
        hasher.combine(user)
        hasher.combine(object)
        hasher.combine(response)
        hasher.combine(authorization)
    }
}

/// The request fields of an event, which repeat together across events.
/// (The request URI is the event's own: ``AuditEvent/requestURI``.)
@usableFromInline
struct RequestLine: Sendable, Hashable {
    @usableFromInline var verb: String?
    @usableFromInline var userAgent: String?
    @usableFromInline var stage: String?
    @usableFromInline var level: String?
}

/// The parts of a new event (no user, object, response or annotations yet).
let noUser = Shared(UserInfo())
let noObject = Shared(ObjectReference())
let noResponse = Shared(ResponseStatus())
let noAuthorization = Shared(AuthorizationAnnotations())
let noRequest = Shared(RequestLine())
let noParts = Shared(EventParts(
    request: noRequest, user: noUser, object: noObject, response: noResponse, authorization: noAuthorization))

/// A list of source IPs and the warnings it gives (none, missing, invalid),
/// decided once per distinct list by the decoder's list cache.
struct SourceIPList: Sendable, Hashable {
    var ips: [String]
    var warnings: DecodeWarnings
}
