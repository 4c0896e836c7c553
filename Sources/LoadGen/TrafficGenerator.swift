/// The records of a ``TrafficConfiguration``, in event-time order per cloud: background
/// traffic of controllers, nodes, CI and people on EKS, AKS and GKE and container process
/// execs, with the configured attacks interleaved at their times.
///
/// Background event `i` lies at `start + i / eventRate` (plus a jitter below one interval);
/// the instances of all attacks share the stream's span evenly, in the order scan, eks-403,
/// gke-403, tor, interactive, round-robin (so a stream with one scan starts with it).
public struct TrafficGenerator: Sequence, IteratorProtocol {
    public let configuration: TrafficConfiguration
    private var background: SplitMix64
    private var catalog: Catalog
    /// Attack events not yet emitted, latest first (popped from the end).
    private var attackEvents: [GeneratedEvent]
    /// Times of the malformed records not yet emitted, latest first.
    private var malformedTimes: [Int64]
    private var index = 0
    private var batches: [Cloud: [GeneratedEvent]] = [:]
    private var ready: [GeneratedRecord] = []
    private var readyIndex = 0
    private let cumulative: [(Cloud, Double)]
    private let interval: Double

    public init(_ configuration: TrafficConfiguration) {
        self.configuration = configuration
        var catalogRandom = SplitMix64(seed: configuration.seed ^ 0x5EED_CA7A)
        catalog = Catalog(random: &catalogRandom, torExits: Set(configuration.torExits))
        background = SplitMix64(seed: configuration.seed)
        var attackRandom = SplitMix64(seed: configuration.seed ^ 0xA77A_C4ED)
        attackEvents = AttackPlanner.events(configuration, catalog: &catalog, random: &attackRandom)
            .sorted { $0.micros > $1.micros }
        let span = configuration.spanMicros
        let m = Swift.max(configuration.malformed, 0)
        malformedTimes = (0..<m).map { configuration.startMicros + span * Int64(2 * $0 + 1) / Int64(2 * m) }.reversed()
        var total = 0.0
        var cumulative: [(Cloud, Double)] = []
        for cloud in Cloud.allCases {
            let weight = Swift.max(configuration.mix[cloud] ?? 0, 0)
            if weight > 0 { total += weight; cumulative.append((cloud, total)) }
        }
        self.cumulative = cumulative.map { ($0.0, $0.1 / Swift.max(total, 1e-12)) }
        interval = 1e6 / Swift.max(configuration.eventRate, 1e-9)
    }

    public mutating func next() -> GeneratedRecord? {
        while readyIndex == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            if index < configuration.count && !cumulative.isEmpty {
                let time = configuration.startMicros + Int64(Double(index) * interval + background.unit() * interval * 0.5)
                emitDue(upTo: time)
                let cloud = pickCloud()
                emit(catalog.benign(cloud, at: time, random: &background))
                index += 1
            } else if !attackEvents.isEmpty || !malformedTimes.isEmpty {
                emitDue(upTo: .max)
            } else if batches.values.contains(where: { !$0.isEmpty }) {
                for cloud in Cloud.allCases { flush(cloud) }
            } else {
                return nil
            }
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    private mutating func pickCloud() -> Cloud {
        let u = background.unit()
        for (cloud, edge) in cumulative where u < edge { return cloud }
        return cumulative[cumulative.count - 1].0
    }

    /// Emits the attack events and malformed records due by `time`, in time order.
    private mutating func emitDue(upTo time: Int64) {
        while true {
            let attack = attackEvents.last?.micros ?? .max
            let broken = malformedTimes.last ?? .max
            if attack <= broken, attack <= time, let event = attackEvents.popLast() {
                emit(event)
            } else if broken < attack, broken <= time, let at = malformedTimes.popLast() {
                emitMalformed(at: at)
            } else {
                return
            }
        }
    }

    private mutating func emit(_ event: GeneratedEvent) {
        let cloud = event.cloud
        let limit = cloud == .eks ? configuration.eksBatch : cloud == .aks ? configuration.aksBatch : 0
        if limit <= 0 {
            ready.append(record([event], cloud: cloud, batch: false))
            return
        }
        batches[cloud, default: []].append(event)
        if batches[cloud]!.count >= limit { flush(cloud) }
    }

    private mutating func flush(_ cloud: Cloud) {
        guard let events = batches[cloud], !events.isEmpty else { return }
        batches[cloud] = []
        ready.append(record(events, cloud: cloud, batch: true))
    }

    /// A record cut short in transit: its first 180 bytes (the dead-letter topic's business).
    private mutating func emitMalformed(at time: Int64) {
        let cloud = cumulative.first?.0 ?? .eks
        let whole = record([catalog.benign(cloud, at: time, random: &background)], cloud: cloud, batch: false)
        ready.append(GeneratedRecord(cloud: cloud, key: whole.key, value: Array(whole.value.prefix(180)),
                                     events: 0, micros: time))
    }

    private mutating func record(_ events: [GeneratedEvent], cloud: Cloud, batch: Bool) -> GeneratedRecord {
        let last = events.reduce(0) { Swift.max($0, $1.micros) }  // no array per record
        switch cloud {
        case .eks:
            let stream = catalog.logStreams[background.below(catalog.logStreams.count)]
            let value: [UInt8]
            if batch {
                var w = JSONBytes(capacity: 1500 * events.count)
                w.raw("{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"613298554017\"")
                w.field("logGroup", "/aws/eks/\(configuration.eksCluster)/cluster")
                w.field("logStream", stream)
                w.raw(",\"subscriptionFilters\":[\"vigil-audit\"],\"logEvents\":[")
                for (i, event) in events.enumerated() {
                    guard case .eks(let audit) = event else { continue }
                    if i > 0 { w.raw(",") }
                    w.raw("{\"id\":\"")
                    w.int(Int(audit.micros / 1000))
                    w.raw(String(format6: i))
                    w.raw("\",\"timestamp\":")
                    w.int(Int(audit.micros / 1000))
                    w.raw(",\"message\":")
                    w.embedded(audit.json())
                    w.raw("}")
                }
                w.raw("]}")
                value = w.bytes
            } else if case .eks(let audit) = events[0] {
                value = audit.json()
            } else {
                value = []
            }
            return GeneratedRecord(cloud: cloud, key: Array(stream.utf8), value: value, events: events.count, micros: last)
        case .aks:
            var w = JSONBytes(capacity: 1700 * events.count)
            if batch { w.raw("{\"records\":[") }
            for (i, event) in events.enumerated() {
                guard case .aks(let audit) = event else { continue }
                if i > 0 { w.raw(",") }
                w.raw("{\"category\":\"kube-audit\",\"operationName\":\"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read\"")
                w.raw(",\"properties\":{\"log\":")
                w.embedded(audit.json())
                w.field("containerID", catalog.apiServerContainer)
                w.field("stream", "stdout")
                w.field("pod", catalog.apiServerPod)
                w.raw("}")
                w.field("resourceId", Catalog.aksResourceID)
                w.field("serviceBuild", "na")
                w.field("time", Timestamp.rfc3339(micros: audit.micros + 9_871, digits: 7))
                w.raw("}")
            }
            if batch { w.raw("]}") }
            return GeneratedRecord(cloud: cloud, key: nil, value: w.bytes, events: events.count, micros: last)
        case .gke:
            guard case .gke(let entry) = events[0] else { break }
            return GeneratedRecord(cloud: cloud, key: nil, value: entry.json(), events: 1, micros: last)
        case .process:
            guard case .process(let exec) = events[0] else { break }
            return GeneratedRecord(cloud: cloud, key: Array(exec.host.utf8), value: exec.json(), events: 1, micros: last)
        }
        return GeneratedRecord(cloud: cloud, key: nil, value: [], events: 0, micros: last)
    }
}

extension String {
    /// `n` as six digits (CloudWatch event ids are long digit strings).
    fileprivate init(format6 n: Int) {
        let text = String(n % 1_000_000)
        self = String(repeating: "0", count: 6 - text.count) + text
    }
}
