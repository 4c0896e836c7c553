import Synchronization

/// Bounds the records handed to librdkafka and not yet acknowledged. `acquire` waits
/// (back-pressure) instead of failing when the bound is reached.
final class InFlightGate: Sendable {
    private struct State {
        var count = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
        /// Acquisitions that had to wait for room.
        var waits = 0
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = max(limit, 1)
    }

    var count: Int { state.withLock { $0.count } }

    /// Acquisitions that had to wait for room so far.
    var waits: Int { state.withLock { $0.waits } }

    func acquire() async throws {
        // Fast path: room available, no suspension.
        let acquired = state.withLock { s in
            guard s.count < limit, s.waiters.isEmpty else { return false }
            s.count += 1
            return true
        }
        if acquired { return }
        let id = state.withLock { s in
            s.nextID += 1
            s.waits += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { s -> Bool? in
                    if Task.isCancelled { return nil }
                    if s.count < limit && s.waiters.isEmpty {
                        s.count += 1
                        return true
                    }
                    s.waiters.append((id, c))
                    return false
                }
                switch now {
                case true?: c.resume()
                case nil: c.resume(throwing: CancellationError())
                case false?: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Frees one slot; hands it to the oldest waiter, if any.
    func release() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if !s.waiters.isEmpty {
                return s.waiters.removeFirst().continuation // the slot passes to it
            }
            s.count -= 1
            return nil
        }
        waiter?.resume()
    }
}
