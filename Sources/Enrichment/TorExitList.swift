import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import Synchronization

/// The Tor exit-node set, refreshed from a URL or file (hourly by default, as
/// Panther does) and never worse for a bad download.
///
/// A failed, empty, unparseable or suspiciously shrunken download keeps the
/// last good list; the last good list is saved to ``Configuration/stateFile``
/// and loaded at start, so a restart without network still has one. Readers
/// take ``snapshot`` (an immutable ``TorExitSnapshot``) and ask it.
///
/// - Important: Call ``refresh()`` from one task at a time (``run()`` does).
public final class TorExitList: Sendable {
    public struct Configuration: Sendable {
        public var source: TorExitSource
        /// The format, or nil to detect it from each body.
        public var format: TorExitListFormat?
        public var refreshInterval: Duration = .seconds(3600)
        /// Whole-request limit: connect, headers and body.
        public var requestTimeout: Duration = .seconds(30)
        /// Further attempts after a failed download, with doubling backoff.
        public var retries = 3
        public var retryBackoff: Duration = .seconds(2)
        public var maximumBackoff: Duration = .seconds(60)
        /// After a refresh that failed (retries included), the next try comes this soon.
        public var failureRetryInterval: Duration = .seconds(300)
        /// Older than this, the list marks the component degraded.
        public var maximumAge: Duration = .seconds(6 * 3600)
        /// A new list smaller than this fraction of the last good one is refused...
        public var minimumRetainedFraction = 0.5
        /// ...unless the same smaller list arrives this many refreshes in a row.
        public var shrinkConfirmations = 3
        /// How long sightings are remembered for event-time membership.
        public var retention: Duration = .seconds(24 * 3600)
        /// How far from a sighting an event still counts; nil: one refresh interval.
        public var membershipGrace: Duration?
        /// Where the last good list is saved; nil: not saved.
        public var stateFile: String?
        public var maximumBytes = 64 << 20

        public init(source: TorExitSource, stateFile: String? = nil) {
            self.source = source
            self.stateFile = stateFile
        }

        var graceSeconds: Int64 { (membershipGrace ?? refreshInterval).components.seconds }
        var mergeGapSeconds: Int64 { 2 * refreshInterval.components.seconds + 1 }
    }

    /// What ``refresh()`` did.
    public enum RefreshOutcome: Sendable, Equatable {
        /// A new list was parsed and swapped in.
        case updated(count: Int)
        /// The source said the list is unchanged (304, same file); its age restarts.
        case notModified
        /// The download failed or was refused; the last good list (if any) stays.
        case kept(EnrichmentError)
    }

    /// The component's health, for `vigil tor status` and readiness checks.
    public struct Status: Sendable {
        public var source: String
        public var count: Int
        /// Seconds since the list was last confirmed current; nil without a list.
        public var age: TimeInterval?
        public var lastAttempt: Date?
        public var lastError: EnrichmentError?
        /// No list, or one older than ``Configuration/maximumAge``.
        public var degraded: Bool
    }

    private struct State {
        var lastAttempt: Int64?
        var lastError: EnrichmentError?
        /// The refused smaller list and how many times in a row it came.
        var shrunk: (addresses: Set<IPAddress>, times: Int)?
    }

    public let configuration: Configuration
    private let current: Mutex<TorExitSnapshot?>
    private let state = Mutex(State())
    private let fetcher: TorExitFetcher
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let sizeGauge = Gauge(label: "vigil_tor_exit_nodes")

    /// Loads the saved state, if any; does not fetch (call ``refresh()`` or ``run()``).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared,
                logger: Logger = Logger(label: "vigil.enrichment.tor"),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.fetcher = TorExitFetcher(source: configuration.source, client: httpClient,
                                      timeout: configuration.requestTimeout, maximumBytes: configuration.maximumBytes)
        self.now = now
        self.logger = logger
        var loaded: TorExitSnapshot?
        var lastAttempt: Int64?
        var lastError: EnrichmentError?
        if let path = configuration.stateFile {
            do {
                if let saved = try TorExitState.load(from: path) {
                    loaded = try saved.snapshot(grace: configuration.graceSeconds)
                    lastAttempt = saved.lastAttempt
                    lastError = saved.lastError.map { EnrichmentError(.fetchFailed, $0) }
                }
            } catch {
                logger.warning("Tor exit state not loaded; starting without a list",
                               metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        self.current = Mutex(loaded)
        self.state.withLock {
            $0.lastAttempt = lastAttempt
            $0.lastError = lastError
        }
        sizeGauge.record(loaded?.count ?? 0)
    }

    /// The last good list, or nil before the first one.
    public var snapshot: TorExitSnapshot? { current.withLock { $0 } }

    /// Whether `address` is on the current list.
    public func isExit(_ address: IPAddress) -> Bool { snapshot?.contains(address) ?? false }

    /// Whether `address` was a Tor exit at `time` (see ``TorExitSnapshot/wasExit(_:at:)``).
    public func wasExit(_ address: IPAddress, at time: Date) -> Bool {
        snapshot?.wasExit(address, at: time) ?? false
    }

    public var status: Status {
        let snapshot = self.snapshot
        let (attempt, error) = state.withLock { ($0.lastAttempt, $0.lastError) }
        let age = snapshot?.age(now: now())
        let maximum = TimeInterval(configuration.maximumAge.components.seconds)
        return Status(source: configuration.source.description, count: snapshot?.count ?? 0, age: age,
                      lastAttempt: attempt.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                      lastError: error, degraded: age.map { $0 > maximum } ?? true)
    }

    /// Downloads the list once (with retries) and swaps it in when it is good.
    @discardableResult
    public func refresh() async -> RefreshOutcome {
        let started = Int64(now().timeIntervalSince1970)
        let previous = snapshot
        let outcome: RefreshOutcome
        do {
            let result = try await fetchWithRetries(previous: previous)
            outcome = try accept(result, previous: previous, at: Int64(now().timeIntervalSince1970))
        } catch {
            outcome = .kept(error)
        }
        let errorNow: EnrichmentError?
        if case .kept(let error) = outcome { errorNow = error } else { errorNow = nil }
        state.withLock {
            $0.lastAttempt = started
            $0.lastError = errorNow
        }
        record(outcome)
        persist()
        return outcome
    }

    /// Refreshes when due (at once without a list), then every
    /// ``Configuration/refreshInterval`` (``Configuration/failureRetryInterval``
    /// after a failed refresh), until the task is cancelled.
    public func run() async {
        let interval = configuration.refreshInterval.components.seconds
        var failed = false
        while !Task.isCancelled {
            let age = snapshot.map { Int64($0.age(now: now())) }
            if failed || age.map({ $0 >= interval }) ?? true {
                if case .kept = await refresh() { failed = true } else { failed = false }
            }
            var wait = max(1, interval - (snapshot.map { Int64($0.age(now: now())) } ?? 0))
            if failed { wait = min(wait, max(1, configuration.failureRetryInterval.components.seconds)) }
            do {
                try await Task.sleep(for: .seconds(min(wait, interval)))
            } catch {
                return
            }
        }
    }

    // MARK: Steps

    private func fetchWithRetries(previous: TorExitSnapshot?) async throws(EnrichmentError) -> TorExitFetcher.Result {
        var backoff = configuration.retryBackoff
        var attempt = 0
        while true {
            do {
                return try await fetcher.fetch(etag: previous?.etag, lastModified: previous?.lastModified)
            } catch {
                guard error.retryable, attempt < configuration.retries, !Task.isCancelled else { throw error.error }
                logger.debug("Tor exit list fetch failed; retrying", metadata: [
                    "attempt": "\(attempt + 1)", "error": "\(error.error)",
                ])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, configuration.maximumBackoff)
                attempt += 1
            }
        }
    }

    private func accept(_ result: TorExitFetcher.Result, previous: TorExitSnapshot?,
                        at time: Int64) throws(EnrichmentError) -> RefreshOutcome {
        let retention = configuration.retention.components.seconds
        let gap = configuration.mergeGapSeconds
        switch result {
        case .notModified:
            guard let previous else {
                throw EnrichmentError(.fetchFailed, "source answered 'not modified' but no list is held")
            }
            var history = previous.history
            if previous.format == .bulk {
                let seen = previous.addresses.map { TorExitObservation(address: $0, seen: time) }
                history = history.merging(seen, mergeGap: gap, retention: retention, now: time)
            }
            current.withLock { $0 = previous.confirmed(at: time, history: history) }
            return .notModified
        case .body(let body, let etag, let lastModified):
            let (format, observations) = try TorExitListParser.parse(body, format: configuration.format,
                                                                     fetchedAt: time)
            let addresses = Set(observations.map(\.address))
            try checkShrinkage(addresses, previous: previous)
            let history = (previous?.history ?? TorExitHistory())
                .merging(observations, mergeGap: gap, retention: retention, now: time)
            let changedAt = previous.flatMap { $0.addresses == addresses ? $0.changedAt : nil } ?? time
            let fresh = TorExitSnapshot(addresses: addresses, history: history,
                                        source: configuration.source.description, format: format,
                                        confirmedAt: time, changedAt: changedAt, etag: etag,
                                        lastModified: lastModified, grace: configuration.graceSeconds)
            current.withLock { $0 = fresh }
            return .updated(count: addresses.count)
        }
    }

    /// Refuses a list much smaller than the last good one, until the same list
    /// has come ``Configuration/shrinkConfirmations`` times in a row.
    private func checkShrinkage(_ addresses: Set<IPAddress>,
                                previous: TorExitSnapshot?) throws(EnrichmentError) {
        guard let previous,
              Double(addresses.count) < Double(previous.count) * configuration.minimumRetainedFraction else {
            state.withLock { $0.shrunk = nil }
            return
        }
        let times = state.withLock { state -> Int in
            let times = state.shrunk.map { $0.addresses == addresses ? $0.times + 1 : 1 } ?? 1
            state.shrunk = (addresses, times)
            return times
        }
        guard times >= configuration.shrinkConfirmations else {
            throw EnrichmentError(.shrunkenList, "new list has \(addresses.count) addresses, the last good one "
                                  + "\(previous.count); refused (\(times) of \(configuration.shrinkConfirmations))")
        }
        state.withLock { $0.shrunk = nil }
    }

    private func record(_ outcome: RefreshOutcome) {
        let label: String
        switch outcome {
        case .updated(let count):
            label = "updated"
            logger.info("Tor exit list updated", metadata: ["count": "\(count)"])
        case .notModified:
            label = "not_modified"
        case .kept(let error):
            label = "failed"
            logger.warning("Tor exit list refresh failed; keeping the last good list", metadata: [
                "source": "\(configuration.source)", "error": "\(error)",
                "count": "\(snapshot?.count ?? 0)",
            ])
        }
        Counter(label: "vigil_tor_refreshes_total", dimensions: [("outcome", label)]).increment()
        sizeGauge.record(snapshot?.count ?? 0)
    }

    private func persist() {
        guard let path = configuration.stateFile, let snapshot else { return }
        let (attempt, error) = state.withLock { ($0.lastAttempt, $0.lastError) }
        do {
            try TorExitState(snapshot: snapshot, lastAttempt: attempt, lastError: error?.description).save(to: path)
        } catch {
            logger.error("Tor exit state not saved", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
