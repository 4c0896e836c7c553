import AuditEvents
import Enrichment

/// What a rule raised: an alert, or the dedup summary that closes one.
///
/// `json` renders one JSON line with a stable key order (see the Detection
/// README, "Alerts").
public struct Alert: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A new alert: the first match (dedup), the threshold-th match
        /// (threshold), a matching event (stateless) or a closed window whose
        /// `having` holds (aggregate).
        case alert
        /// Sent when a dedup period ends and it held matches after the alert:
        /// the final count and last_seen, on the same `alert_id`.
        case summary = "dedup_summary"
    }

    /// A named field and its values (group key, output fields, statistics).
    public struct Field: Sendable, Hashable, Codable {
        public var name: String
        public var values: [FieldValue]
        public init(name: String, values: [FieldValue]) {
            self.name = name
            self.values = values
        }
    }

    /// The primary source IP and what enrichment knew of it.
    public struct Source: Sendable, Hashable, Codable {
        public var ip: String
        public var isTorExit: Bool
        public var country: String?
        public var countryCode: String?
        public var region: String?
        public var city: String?
        public var latitude: Double?
        public var longitude: Double?

        public init(ip: String, isTorExit: Bool, geo: GeoLocation?) {
            self.ip = ip
            self.isTorExit = isTorExit
            country = geo?.country
            countryCode = geo?.countryCode
            region = geo?.region
            city = geo?.city
            latitude = geo?.latitude
            longitude = geo?.longitude
        }
    }

    /// The versions of the enrichment data that judged the events.
    public struct DataVersions: Sendable, Hashable, Codable {
        public var geoDatabaseType: String?
        public var geoBuildEpoch: UInt64?
        public var torListTime: Int64?

        public init(_ enrichment: EventEnrichment) {
            geoDatabaseType = enrichment.geoDatabaseType
            geoBuildEpoch = enrichment.geoBuildEpoch
            torListTime = enrichment.torListTime
        }
    }

    /// Deterministic: SHA-256 of rule id, group key and window start (first
    /// 32 hex digits), so a replay of the same events yields the same id.
    public var id: String
    public var kind: Kind
    public var ruleID: String
    /// The rule's title template rendered over the event that completed the alert
    /// (aggregate: over the group-by fields and statistics).
    public var title: String
    public var severity: Severity
    public var mitre: [String]
    public var runbook: String
    /// The rule's dedup key template rendered (Panther's `dedup()` string), if it has one.
    public var dedupKey: String?
    /// Where the window starts (threshold/dedup: its first match; aggregate:
    /// the clock-aligned start; stateless: the event's time).
    public var windowStart: EventTime
    /// Event times of the earliest and latest match in the alert.
    public var firstSeen: EventTime
    public var lastSeen: EventTime
    /// Matches in the alert so far (summary: in the whole period).
    public var count: Int
    public var groupKey: [Field]
    public var source: Source?
    public var output: [Field]
    /// Aggregate rules: the statistics of the window, in rule order.
    public var statistics: [Field]
    /// The causing events, earliest first, at most ``EngineSettings/maxEventReferences``.
    public var events: [EventOrigin]
    /// Causing events not listed in ``events``.
    public var eventsOmitted: Int
    public var dataVersions: DataVersions

    /// The id for a rule, group key text and window start: the first 128 bits of the SHA-256 of `rule`, NUL, `groupKey`, NUL, `seconds.nanoseconds`, in hex.
    public static func id(rule: String, groupKey: String, windowStart: EventTime) -> String {
        // Built with room for all of it (an interpolation grew its buffer twice per alert).
        var text = ""
        text.reserveCapacity(rule.utf8.count + groupKey.utf8.count + 32)
        text += rule
        text += "\u{0}"
        text += groupKey
        text += "\u{0}"
        text += String(windowStart.seconds)
        text += "."
        text += String(windowStart.nanoseconds)
        return SHA256.hex(text, bytes: 16)
    }
}
