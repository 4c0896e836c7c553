import KafkaIO
import Synchronization

/// At-least-once bookkeeping for input records: a record is done when every record it
/// caused (repartitioned events, dead-letter records) is acknowledged by the broker, and
/// a partition's committable offset only moves past a contiguous run of done records.
///
/// Records are registered in offset order per partition (one worker owns a partition's
/// records in order); acknowledgements arrive in any order, from the producer's thread.
final class OffsetTracker: Sendable {
    /// A registration's handle: the partition's generation guards against late
    /// acknowledgements of work from before a revoke.
    struct Ticket: Sendable, Hashable {
        let partition: TopicPartition
        let offset: Int64
        let generation: UInt64
    }

    private struct Partition {
        var generation: UInt64
        /// Registered offsets not yet passed, in order; `head` is the first live one.
        var order: [Int64] = []
        var head = 0
        /// Outstanding acknowledgements per registered offset.
        var remaining: [Int64: Int] = [:]

        /// Pops done offsets from the front; the offset after the last popped one.
        mutating func advance() -> Int64? {
            var next: Int64?
            while head < order.count, remaining[order[head]] == 0 {
                remaining[order[head]] = nil
                next = order[head] + 1
                head += 1
            }
            if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            return next
        }

        var pending: Int { order.count - head }

        /// Adds an offset with `pending` outstanding acknowledgements; the new committable
        /// offset when nothing is pending and it was the oldest open one.
        mutating func register(_ offset: Int64, pending: Int) -> Int64? {
            order.append(offset)
            remaining[offset] = pending
            return pending == 0 ? advance() : nil
        }

        /// One acknowledgement of `ticket`; the new committable offset when the done run grew.
        mutating func acknowledge(_ ticket: Ticket) -> Int64? {
            guard generation == ticket.generation, let left = remaining[ticket.offset], left > 0 else { return nil }
            remaining[ticket.offset] = left - 1
            return left == 1 ? advance() : nil
        }
    }

    private let state = Mutex<(partitions: [TopicPartition: Partition], generation: UInt64)>(([:], 0))

    /// Registers an input record that caused `pending` output records. Returns its ticket and,
    /// when `pending` is 0 and it was the oldest open record, the partition's new committable offset.
    func register(_ partition: TopicPartition, offset: Int64, pending: Int) -> (Ticket, Int64?) {
        state.withLock { s in
            let generation: UInt64
            if let known = s.partitions[partition]?.generation {
                generation = known
            } else {
                s.generation += 1
                generation = s.generation
            }
            // Modified in place (`[key, default:]`): a copy taken out and stored back would copy
            // the partition's open offsets on every call.
            let next = s.partitions[partition, default: Partition(generation: generation)].register(offset, pending: pending)
            return (Ticket(partition: partition, offset: offset, generation: generation), next)
        }
    }

    /// One output record of `ticket` was acknowledged. Returns the partition's new committable
    /// offset when the contiguous done run grew; nil otherwise (or for a stale ticket).
    func acknowledge(_ ticket: Ticket) -> Int64? {
        state.withLock { s in s.partitions[ticket.partition]?.acknowledge(ticket) ?? nil }
    }

    /// Input records of these partitions still waiting for acknowledgements.
    func pending(_ partitions: some Sequence<TopicPartition>) -> Int {
        state.withLock { s in partitions.reduce(0) { $0 + (s.partitions[$1]?.pending ?? 0) } }
    }

    /// Per partition with records still waiting, the first of them (everything before it is done).
    var firstOpen: [TopicPartition: Int64] {
        state.withLock { s in
            var out: [TopicPartition: Int64] = [:]
            for (tp, p) in s.partitions where p.head < p.order.count { out[tp] = p.order[p.head] }
            return out
        }
    }

    /// All input records still waiting.
    var pendingTotal: Int {
        state.withLock { s in s.partitions.values.reduce(0) { $0 + $1.pending } }
    }

    /// Forgets these partitions (revoked): later acknowledgements of their tickets are ignored.
    func drop(_ partitions: some Sequence<TopicPartition>) {
        state.withLock { s in
            for partition in partitions { s.partitions[partition] = nil }
        }
    }
}
