import Foundation
import Synchronization

/// The bounded hand-over between a consumer's poll thread and the one task that reads
/// its records. Past `capacity` the poll thread stops taking records until the reader has
/// taken it down to `capacity / 2`, pausing its partitions if that takes long (it then keeps
/// polling, so the member stays in the group; told to resume below `capacity / 2`).
/// Nothing is ever dropped except on revoke, where records of revoked partitions are
/// purged because they were not marked done and the partition's next owner reads them.
final class RecordBuffer: Sendable {
    private struct State {
        var batches: [[ConsumerRecord]] = []
        var head = 0
        var count = 0
        var waiter: CheckedContinuation<[ConsumerRecord]?, any Error>?
        var finished = false
        var failure: KafkaError?
        var pauseRequested = false
    }

    private let state = Mutex(State())
    /// Signalled when the reader takes a batch (the poll thread may wait for room on it).
    private let taken = NSCondition()
    let capacity: Int
    private let onDrained: @Sendable () -> Void

    init(capacity: Int, onDrained: @escaping @Sendable () -> Void) {
        self.capacity = max(capacity, 1)
        self.onDrained = onDrained
    }

    var count: Int { state.withLock { $0.count } }

    /// Records the buffer's storage still references, taken slots included: what it keeps
    /// alive. Equal to ``count`` once taken batches are released.
    var heldRecords: Int { state.withLock { $0.batches.reduce(0) { $0 + $1.count } } }

    /// Adds a batch (poll thread). Returns true when the buffer is at or past capacity and
    /// the caller should pause its partitions.
    func push(_ batch: [ConsumerRecord]) -> Bool {
        guard !batch.isEmpty else { return false }
        let (waiter, full): (CheckedContinuation<[ConsumerRecord]?, any Error>?, Bool) = state.withLock { s in
            if s.finished { return (nil, false) }
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, false)
            }
            s.batches.append(batch)
            s.count += batch.count
            if s.count >= capacity {
                s.pauseRequested = true
                return (nil, true)
            }
            return (nil, false)
        }
        waiter?.resume(returning: batch)
        return full
    }

    /// Waits (poll thread) until the reader takes a batch, at most `timeout`. A batch taken
    /// just before the wait began is missed; the timeout bounds that.
    func waitForReader(timeout: Duration) {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        taken.lock()
        _ = taken.wait(until: Date(timeIntervalSinceNow: seconds))
        taken.unlock()
    }

    /// Removes buffered records of these partitions (poll thread, on revoke).
    func purge(_ partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty else { return }
        state.withLock { s in
            var kept: [[ConsumerRecord]] = []
            var count = 0
            for batch in s.batches[s.head...] {
                let rest = batch.filter { !partitions.contains($0.topicPartition) }
                if !rest.isEmpty { kept.append(rest); count += rest.count }
            }
            s.batches = kept
            s.head = 0
            s.count = count
        }
    }

    /// Ends the sequence after the buffered records; with an error, the reader sees it then.
    func finish(_ failure: KafkaError? = nil) {
        let waiter: CheckedContinuation<[ConsumerRecord]?, any Error>? = state.withLock { s in
            s.finished = true
            if s.failure == nil { s.failure = failure }
            defer { s.waiter = nil }
            return s.count == 0 ? s.waiter : nil
        }
        if let failure { waiter?.resume(throwing: failure) } else { waiter?.resume(returning: nil) }
    }

    /// The next batch, or nil when the consumer has closed (single reader).
    func next() async throws -> [ConsumerRecord]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ConsumerRecord]?, any Error>) in
                enum Outcome { case batch([ConsumerRecord], drained: Bool), end(KafkaError?), wait }
                let outcome: Outcome = state.withLock { s in
                    if s.head < s.batches.count {
                        // Moved out, not copied: a taken batch left in its slot stayed alive
                        // until the next compaction (up to 64 batches and half the array),
                        // records past the buffer's bound (ops/bench/e2e.md, session 18).
                        var batch: [ConsumerRecord] = []
                        swap(&batch, &s.batches[s.head])
                        s.head += 1
                        s.count -= batch.count
                        if s.head > 64 && s.head * 2 > s.batches.count {
                            s.batches.removeFirst(s.head)
                            s.head = 0
                        }
                        var drained = false
                        if s.pauseRequested && s.count <= capacity / 2 {
                            s.pauseRequested = false
                            drained = true
                        }
                        return .batch(batch, drained: drained)
                    }
                    if s.finished { return .end(s.failure) }
                    if Task.isCancelled { return .end(nil) }
                    s.waiter = continuation
                    return .wait
                }
                switch outcome {
                case .batch(let batch, let drained):
                    taken.lock()
                    taken.signal()
                    taken.unlock()
                    if drained { onDrained() }
                    continuation.resume(returning: batch)
                case .end(let failure?):
                    continuation.resume(throwing: failure)
                case .end(nil):
                    continuation.resume(returning: nil)
                case .wait:
                    break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

/// The batches a consumer hands over, in poll order (per-partition order is kept).
/// One reader at a time; the sequence ends when the consumer closes.
public struct ConsumerBatches: AsyncSequence, Sendable {
    public typealias Element = [ConsumerRecord]
    let buffer: RecordBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: RecordBuffer
        public mutating func next() async throws -> [ConsumerRecord]? {
            try await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}

/// The records a consumer hands over, one at a time (a flattening of `ConsumerBatches`).
public struct ConsumerRecords: AsyncSequence, Sendable {
    public typealias Element = ConsumerRecord
    let buffer: RecordBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: RecordBuffer
        var current: [ConsumerRecord] = []
        var index = 0

        public mutating func next() async throws -> ConsumerRecord? {
            while index >= current.count {
                guard let batch = try await buffer.next() else { return nil }
                current = batch
                index = 0
            }
            defer { index += 1 }
            return current[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
