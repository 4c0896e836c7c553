/// LoadGen: realistic multi-cloud Kubernetes audit traffic with attacks inside, for the
/// demo, the benchmarks and the tests (`vigil loadgen`, `vigil bench`). Pure: no I/O; the
/// caller writes the records to Kafka or to files.

/// Where a record comes from: one raw topic each.
public enum Cloud: String, CaseIterable, Sendable {
    case eks, aks, gke, process
}

/// The seed attacks the generator can inject, each raising known alerts of the seed rules.
public enum Attack: String, CaseIterable, Sendable {
    /// Eight unauthenticated 403 probes within 30 s from a located public IP (AKS), and, with
    /// `closeWindows`, the scanner's next request after its hour's window closed.
    case scan
    /// Twelve 403s from one public IP on EKS within 3 minutes (stolen read-only credentials).
    case eks403 = "eks-403"
    /// Ten PERMISSION_DENIED (gRPC 7) from one public IP on GKE within 3 minutes.
    case gke403 = "gke-403"
    /// One API request from a Tor exit; successive instances rotate EKS, AKS, GKE.
    case tor
    /// An interactive shell in a pod, then `kubectl get secrets -A` and a `curl` with the
    /// service-account token against the API server.
    case interactive

    /// The alerts one instance raises, by rule id (a scan's only when its window closes).
    public var expectedAlerts: [String: Int] {
        switch self {
        case .scan: ["Kubernetes.Access.Scanning": 1]
        case .eks403: ["Amazon.EKS.Audit.Multiple403": 1, "Kubernetes.API.Multiple403.PublicIP": 1]
        case .gke403: ["Kubernetes.API.Multiple403.PublicIP": 1]
        case .tor: ["Kubernetes.API.IOC.Activity": 1]
        case .interactive: ["Kubernetes.Direct.Interactive.API.Request": 2]
        }
    }
}

/// One record as a shipper delivers it to a raw topic.
public struct GeneratedRecord: Sendable {
    public let cloud: Cloud
    /// The partitioning key a shipper would set (nil: none, the producer spreads records).
    public let key: [UInt8]?
    public let value: [UInt8]
    /// Events inside (a batch holds several; a malformed record none).
    public let events: Int
    /// The time of the record's last event, microseconds since the epoch.
    public let micros: Int64
}

/// What to generate.
public struct TrafficConfiguration: Sendable {
    /// Same seed, same start, same options → the same records, byte for byte.
    public var seed: UInt64 = 1
    /// Event time of the first background event, microseconds since the epoch.
    public var startMicros: Int64 = 0
    /// Background events (attack events come on top).
    public var count: Int = 1000
    /// Background events per second of event time.
    public var eventRate: Double = 1000
    /// Relative weights of the clouds in the background traffic.
    public var mix: [Cloud: Double] = [.eks: 4, .aks: 3, .gke: 2, .process: 1]
    /// Events per EKS record: 0 = one plain audit event per record (Fluent Bit, Firehose),
    /// n ≥ 1 = CloudWatch Logs subscription batches of n log events.
    public var eksBatch = 0
    /// Events per AKS record: 0 = one diagnostic record, n ≥ 1 = Event Hubs `{"records": [...]}`.
    public var aksBatch = 0
    /// Attack instances per kind, spread evenly over the stream.
    public var attacks: [Attack: Int] = [:]
    /// Spread the attack instances over this first part of the stream instead of all of it
    /// (microseconds of event time; nil: the whole span), so that an instance's later steps
    /// (up to 25 s after its first) still fall inside the background traffic.
    public var attackSpanMicros: Int64?
    /// Truncated records (cut short in transit) spread over the stream, on the first cloud of the mix.
    public var malformed = 0
    /// For scans: add the scanner's next request after its window's end plus this lateness, so
    /// the hourly aggregate closes inside the stream (nil: do not).
    public var closeWindowsAfterSeconds: Int64? = 600
    /// Tor exit addresses to attack from (distinct per instance while they last).
    public var torExits: [String] = []
    /// Whether GeoIP knows a country and city for an address (scanners must be located:
    /// the Splunk search drops events without them); nil accepts any.
    public var isLocated: (@Sendable (String) -> Bool)?
    /// EKS cluster name (the CloudWatch log group names it; plain events carry none).
    public var eksCluster = "demo-eks"

    public init() {}

    /// Alerts the attacks raise, by rule id.
    public var expectedAlerts: [String: Int] {
        var total: [String: Int] = [:]
        for (attack, n) in attacks where n > 0 {
            if attack == .scan && closeWindowsAfterSeconds == nil { continue }
            for (rule, k) in attack.expectedAlerts { total[rule, default: 0] += k * n }
        }
        return total
    }

    /// The event-time span of the background traffic, in microseconds (see ``spanProblem``).
    public var spanMicros: Int64 { Int64(Double(count) / max(eventRate, 1e-9) * 1e6) }

    /// The longest event-time span traffic may have, and a duration option of the commands
    /// that make it: 100 years, so event times (start + index / rate, in microseconds) stay
    /// far inside Int64.
    public static let maxSpanSeconds: Int64 = 100 * 365 * 86_400

    /// Why this traffic cannot be generated (a count below zero, a rate that is not a
    /// positive finite number, a span past ``maxSpanSeconds``, where the event-time
    /// arithmetic overflowed); nil when it can.
    public var spanProblem: String? {
        guard count >= 0, eventRate.isFinite, eventRate > 0 else {
            return "\(count) events at \(eventRate) a second: a count of 0 or more at a positive rate"
        }
        guard Double(count) / eventRate <= Double(Self.maxSpanSeconds) else {
            return "\(count) events at \(eventRate) a second of event time span more than 100 years"
        }
        return nil
    }
}
