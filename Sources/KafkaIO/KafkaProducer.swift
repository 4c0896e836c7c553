import CRdKafka
import Foundation
import Logging
import Synchronization

/// An idempotent producer with librdkafka's Java-compatible murmur2 partitioner.
///
/// `send` waits for the broker's acknowledgement; `enqueue` returns once the record is
/// handed to librdkafka and reports delivery to a callback. Both wait (never fail) while
/// `maxInFlight` records are unacknowledged. `close()` flushes.
///
/// - Important: a dedicated thread polls the handle and runs delivery callbacks; keep
///   them short (they run on that thread).
public final class KafkaProducer: Sendable {
    private let handle: RDKafkaHandle
    private let gate: InFlightGate
    private let state = Locked(ProducerState())
    private let latestStatistics: LatestValue<KafkaStatistics>
    public let settings: ProducerSettings

    private struct ProducerState {
        var closing = false
        var closed = false
        /// Set to stop the poll thread, which then flushes (this long), purges and destroys the handle.
        var stopPolling = false
        var shutdownFlushMilliseconds: Int32 = 0
        /// Records that waited because librdkafka's queue was full.
        var queueFullWaits = 0
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(settings: ProducerSettings, logger: Logger,
                onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil) throws(KafkaError) {
        let config = try RDKafkaConfig.producer(settings)
        let context = RDKafkaContext(logger: logger)
        let latest = LatestValue<KafkaStatistics>()
        let gate = InFlightGate(limit: settings.maxInFlight)
        context.onStatistics = { stats in
            latest.set(stats)
            onStatistics?(stats)
        }
        let topicNames = TopicNameCache()
        context.onDelivery = { message in
            KafkaProducer.delivered(message, topicNames)
            gate.release()
        }
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, config: config, context: context)
        self.gate = gate
        self.latestStatistics = latest
        self.settings = settings
        // The poll thread owns the handle's end: only it destroys the handle, after its last
        // poll has returned (destroying from another thread while it polls is a use-after-free).
        let thread = Thread { [handle, state] in
            nameCurrentThread("vigil-producer")
            while !state.withLock({ $0.stopPolling }) {
                rd_kafka_poll(handle.pointer, 100)
            }
            KafkaProducer.shutDown(handle, flushMilliseconds: state.withLock { $0.shutdownFlushMilliseconds })
            let waiters = state.withLock { s in
                s.closed = true
                defer { s.closeWaiters = [] }
                return s.closeWaiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.start()
    }

    deinit {
        // Without close(): the poll thread stops, purges what is left (each callback runs
        // with an error) and destroys the handle.
        state.withLock { $0.stopPolling = true }
    }

    /// Unacknowledged records.
    public var inFlight: Int { gate.count }

    /// Back-pressure so far: records that waited for room under `maxInFlight`, and records that
    /// waited because librdkafka's own queue (`queue.buffering.max.*`) was full.
    public var waits: (inFlight: Int, queueFull: Int) { (gate.waits, state.withLock { $0.queueFullWaits }) }

    /// The latest librdkafka statistics (needs `statisticsInterval`).
    public var statistics: KafkaStatistics? { latestStatistics.get() }

    /// Produces a record and waits for the broker's acknowledgement.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        let slot = DeliverySlot()
        try await enqueue(record) { slot.fill($0) }
        return try await slot.result().get()
    }

    /// Hands a record to librdkafka, waiting while `maxInFlight` records are unacknowledged.
    /// `onDelivery` runs once, on the producer's poll thread, with the broker's answer.
    public func enqueue(_ record: ProducerRecord,
                        onDelivery: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) async throws(KafkaError) {
        if state.withLock({ $0.closing || $0.closed }) { throw KafkaError.closedHandle }
        do { try await gate.acquire() } catch {
            throw KafkaError(code: .other, detail: "cancelled while waiting for room to send")
        }
        let box = Unmanaged.passRetained(DeliveryBox(onDelivery))
        var backoff: UInt64 = 1_000_000
        while true {
            let err = Self.produce(handle.pointer, record, opaque: box.toOpaque())
            guard let err else { return }
            let waiting = err.code == .queueFull && state.withLock { s in
                guard !s.closing && !s.closed else { return false }
                if backoff == 1_000_000 { s.queueFullWaits += 1 }
                return true
            }
            if waiting {
                // librdkafka's byte bound bit before our record bound: wait, do not fail.
                try? await Task.sleep(nanoseconds: backoff)
                backoff = min(backoff * 2, 50_000_000)
                continue
            }
            box.release()
            gate.release()
            throw err
        }
    }

    /// Waits until every record handed over so far is acknowledged (or failed).
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let deadline = ContinuousClock.now + timeout
        while gate.count > 0 {
            if ContinuousClock.now >= deadline {
                throw KafkaError(code: .timedOut, detail: "\(gate.count) records still unacknowledged after \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Flushes (up to `timeout`), fails what is left, stops the poll thread and frees the
    /// handle. Idempotent; every caller returns once the handle is gone.
    public func close(timeout: Duration = .seconds(30)) async {
        let first = state.withLock { s in
            defer { s.closing = true }
            return !s.closing
        }
        if first {
            try? await flush(timeout: timeout)
            state.withLock { s in
                s.shutdownFlushMilliseconds = 1_000
                s.stopPolling = true
            }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s in
                if !s.closed { s.closeWaiters.append(c) }
                return s.closed
            }
            if done { c.resume() }
        }
    }

    private static func shutDown(_ handle: RDKafkaHandle, flushMilliseconds: Int32) {
        _ = rd_kafka_flush(handle.pointer, flushMilliseconds)
        // Whatever is left fails with a purge error (its callback runs), nothing hangs.
        _ = rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        _ = rd_kafka_flush(handle.pointer, 5_000)
        rd_kafka_poll(handle.pointer, 0)
        handle.destroy()
    }

    // MARK: librdkafka bridging

    private static func produce(_ rk: OpaquePointer, _ record: ProducerRecord,
                                opaque: UnsafeMutableRawPointer) -> KafkaError? {
        let headers: OpaquePointer? = record.headers.isEmpty ? nil : rd_kafka_headers_new(record.headers.count)
        if let headers {
            for header in record.headers {
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(headers, header.key, -1, bytes.baseAddress, bytes.count)
                    }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let error: OpaquePointer? = record.topic.withCString { topic in
            withBytes(record.key) { key in
                withBytes(record.value) { value in
                    // On the stack: no allocation per record.
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
                        var n = 0
                        func add(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                            var vu = rd_kafka_vu_t()
                            vu.vtype = type
                            set(&vu)
                            vus.initializeElement(at: n, to: vu)
                            n += 1
                        }
                        add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        add(RD_KAFKA_VTYPE_VALUE) {
                            $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value?.baseAddress)
                            $0.u.mem.size = value?.count ?? 0
                        }
                        if let key {
                            add(RD_KAFKA_VTYPE_KEY) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                $0.u.mem.size = key.count
                            }
                        }
                        add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
                        if let partition = record.partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
                        if let ts = record.timestampMilliseconds { add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = ts } }
                        if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
                        defer { vus.baseAddress.map { _ = $0.deinitialize(count: n) } }
                        return rd_kafka_produceva(rk, UnsafePointer(vus.baseAddress), n)
                    }
                }
            }
        }
        guard let error else { return nil } // librdkafka owns the headers now
        if let headers { rd_kafka_headers_destroy(headers) }
        return KafkaError(consuming: error)
    }

    /// A delivery report (poll thread): hand the result to the record's callback.
    private static func delivered(_ message: UnsafePointer<rd_kafka_message_t>, _ topicNames: TopicNameCache) {
        let m = message.pointee
        guard let opaque = m._private else { return }
        let box = Unmanaged<DeliveryBox>.fromOpaque(opaque).takeRetainedValue()
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = topicNames.name(of: m.rkt)
            box.callback(.success(DeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
        } else {
            box.callback(.failure(KafkaError(m.err)))
        }
    }
}

/// One delivery result, which may arrive before or after its reader starts waiting.
private final class DeliverySlot: Sendable {
    private enum State {
        case empty
        case filled(Result<DeliveryReport, KafkaError>)
        case waiting(CheckedContinuation<Result<DeliveryReport, KafkaError>, Never>)
    }

    private let state = Locked(State.empty)

    func fill(_ result: Result<DeliveryReport, KafkaError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<DeliveryReport, KafkaError>, Never>? in
            if case .waiting(let continuation) = s {
                s = .empty
                return continuation
            }
            s = .filled(result)
            return nil
        }
        waiter?.resume(returning: result)
    }

    func result() async -> Result<DeliveryReport, KafkaError> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Result<DeliveryReport, KafkaError>? in
                if case .filled(let result) = s { return result }
                s = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

private final class DeliveryBox: Sendable {
    let callback: @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    init(_ callback: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.callback = callback
    }
}

private func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
