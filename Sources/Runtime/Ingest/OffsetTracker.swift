import KafkaIO
import Synchronization

/// At-least-once bookkeeping for input records: a record is done when every record it
/// caused (repartitioned events, dead-letter records) is acknowledged by the broker, and
/// a partition's committable offset only moves past a contiguous run of done records.
///
/// Records are registered in offset order per partition (ingest registers a batch's records
/// in batch order, ``IngestProcessor/produce(_:)``; detect its records in order);
/// acknowledgements arrive in any order, from the producer's thread.
final class OffsetTracker: Sendable {
    /// A registration's handle: the partition's generation guards against late
    /// acknowledgements of work from before a revoke.
    struct Ticket: Sendable, Hashable {
        let partition: TopicPartition
        let offset: Int64
        let generation: UInt64
        /// Where the partition's state is kept, and the registration's number in it: an
        /// acknowledgement finds its entry without hashing the partition or the offset.
        fileprivate let slot: Int
        fileprivate let sequence: Int
    }

    private struct Partition {
        var generation: UInt64
        /// Registered offsets not yet passed and their outstanding acknowledgements, in
        /// registration order; `head` is the first live one.
        var offsets: [Int64] = []
        var remaining: [Int] = []
        var head = 0
        /// Registrations removed from the front of the arrays: the sequence number of `offsets[0]`.
        var base = 0

        /// Pops done offsets from the front; the offset after the last popped one.
        mutating func advance() -> Int64? {
            var next: Int64?
            while head < offsets.count, remaining[head] == 0 {
                next = offsets[head] + 1
                head += 1
            }
            if head > 1024 && head * 2 > offsets.count {
                offsets.removeFirst(head)
                remaining.removeFirst(head)
                base += head
                head = 0
            }
            return next
        }

        var pending: Int { offsets.count - head }

        /// Adds an offset with `pending` outstanding acknowledgements: its sequence number, and
        /// the new committable offset when nothing is pending and it was the oldest open one.
        mutating func register(_ offset: Int64, pending: Int) -> (sequence: Int, next: Int64?) {
            let sequence = base + offsets.count
            offsets.append(offset)
            remaining.append(pending)
            return (sequence, pending == 0 ? advance() : nil)
        }

        /// One acknowledgement of registration `sequence`; the new committable offset when the done run grew.
        mutating func acknowledge(_ sequence: Int) -> Int64? {
            let i = sequence - base
            guard i >= head, i < offsets.count, remaining[i] > 0 else { return nil }
            remaining[i] -= 1
            return remaining[i] == 0 ? advance() : nil
        }
    }

    private struct State {
        /// Partitions' bookkeeping by slot (nil: free); `slots` of dropped partitions are reused.
        var slots: [Partition?] = []
        var index: [TopicPartition: Int] = [:]
        var free: [Int] = []
        var generation: UInt64 = 0
        /// The partition of the last registration and its slot: a batch's records of one
        /// partition come in runs, which then need no lookup.
        var last: (partition: TopicPartition, slot: Int)?

        mutating func slot(of partition: TopicPartition) -> Int {
            if let last, last.partition == partition { return last.slot }
            let slot: Int
            if let known = index[partition] {
                slot = known
            } else {
                generation += 1
                slot = free.popLast() ?? slots.count
                if slot == slots.count { slots.append(nil) }
                slots[slot] = Partition(generation: generation)
                index[partition] = slot
            }
            last = (partition, slot)
            return slot
        }

        mutating func drop(_ partition: TopicPartition) {
            guard let slot = index.removeValue(forKey: partition) else { return }
            slots[slot] = nil
            free.append(slot)
            if last?.partition == partition { last = nil }
        }
    }

    private let state = Mutex(State())

    /// Registers an input record that caused `pending` output records. Returns its ticket and,
    /// when `pending` is 0 and it was the oldest open record, the partition's new committable offset.
    func register(_ partition: TopicPartition, offset: Int64, pending: Int) -> (Ticket, Int64?) {
        state.withLock { s in
            let slot = s.slot(of: partition)
            // Modified in place: a copy taken out and stored back would copy the arrays.
            let (sequence, next) = s.slots[slot]!.register(offset, pending: pending)
            return (Ticket(partition: partition, offset: offset, generation: s.slots[slot]!.generation,
                           slot: slot, sequence: sequence), next)
        }
    }

    /// One output record of `ticket` was acknowledged. Returns the partition's new committable
    /// offset when the contiguous done run grew; nil otherwise (or for a stale ticket).
    func acknowledge(_ ticket: Ticket) -> Int64? {
        state.withLock { s in
            guard ticket.slot < s.slots.count, s.slots[ticket.slot]?.generation == ticket.generation else { return nil }
            return s.slots[ticket.slot]!.acknowledge(ticket.sequence)
        }
    }

    /// Input records of these partitions still waiting for acknowledgements.
    func pending(_ partitions: some Sequence<TopicPartition>) -> Int {
        state.withLock { s in
            partitions.reduce(0) { sum, tp in sum + (s.index[tp].flatMap { s.slots[$0]?.pending } ?? 0) }
        }
    }

    /// Per partition with records still waiting, the first of them (everything before it is done).
    var firstOpen: [TopicPartition: Int64] {
        state.withLock { s in
            var out: [TopicPartition: Int64] = [:]
            for (tp, slot) in s.index {
                if let p = s.slots[slot], p.head < p.offsets.count { out[tp] = p.offsets[p.head] }
            }
            return out
        }
    }

    /// All input records still waiting.
    var pendingTotal: Int {
        state.withLock { s in s.slots.reduce(0) { $0 + ($1?.pending ?? 0) } }
    }

    /// Forgets these partitions (revoked): later acknowledgements of their tickets are ignored.
    func drop(_ partitions: some Sequence<TopicPartition>) {
        state.withLock { s in
            for partition in partitions { s.drop(partition) }
        }
    }
}
