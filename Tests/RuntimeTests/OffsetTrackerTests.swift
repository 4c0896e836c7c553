import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

@Suite struct OffsetTrackerTests {
    let p = TopicPartition("raw", 0)

    @Test func offsetAdvancesOnlyOverAContiguousRunOfDoneRecords() {
        let tracker = OffsetTracker()
        let (a, none0) = tracker.register(p, offset: 10, pending: 2)
        let (b, _) = tracker.register(p, offset: 11, pending: 1)
        let (c, _) = tracker.register(p, offset: 12, pending: 1)
        #expect(none0 == nil)
        #expect(tracker.acknowledge(c) == nil)   // 12 done, 10 and 11 not
        #expect(tracker.acknowledge(a) == nil)   // 10 has one more
        #expect(tracker.acknowledge(b) == nil)
        #expect(tracker.pending([p]) == 3)
        #expect(tracker.acknowledge(a) == 13)    // 10, 11, 12 all done
        #expect(tracker.pending([p]) == 0)
    }

    @Test func aRecordThatCausedNothingIsDoneAtOnceWhenNothingIsBeforeIt() {
        let tracker = OffsetTracker()
        #expect(tracker.register(p, offset: 5, pending: 0).1 == 6)
        let (t6, _) = tracker.register(p, offset: 6, pending: 1)
        #expect(tracker.register(p, offset: 7, pending: 0).1 == nil)   // waits for 6
        #expect(tracker.acknowledge(t6) == 8)
    }

    @Test func acknowledgementsFromBeforeARevokeAreIgnored() {
        let tracker = OffsetTracker()
        let (old, _) = tracker.register(p, offset: 1, pending: 1)
        tracker.drop([p])
        let (fresh, _) = tracker.register(p, offset: 1, pending: 1)
        #expect(tracker.acknowledge(old) == nil)
        #expect(tracker.pending([p]) == 1)
        #expect(tracker.acknowledge(fresh) == 2)
        #expect(tracker.acknowledge(fresh) == nil)   // no double count
    }

    @Test func aStaleTicketIsIgnoredWhenAnotherPartitionTookItsPlace() {
        // The tracker keeps partitions in slots that are reused after a drop: a ticket of the
        // dropped partition must not count for the partition now in its slot.
        let tracker = OffsetTracker()
        let q = TopicPartition("raw", 1)
        let (old, _) = tracker.register(p, offset: 7, pending: 1)
        tracker.drop([p])
        let (fresh, _) = tracker.register(q, offset: 7, pending: 2)
        #expect(tracker.acknowledge(old) == nil)
        #expect(tracker.pending([q]) == 1)
        #expect(tracker.acknowledge(fresh) == nil)   // one of two
        #expect(tracker.acknowledge(fresh) == 8)
        #expect(tracker.firstOpen.isEmpty)
    }

    @Test func longRunsAreTrimmedWithoutLosingTheirPlace() {
        // Past 1,024 passed offsets the front of the arrays is dropped; tickets registered
        // before the trim still find their entries after it.
        let tracker = OffsetTracker()
        var tickets: [OffsetTracker.Ticket] = []
        for offset in Int64(0)..<3_000 { tickets.append(tracker.register(p, offset: offset, pending: 1).0) }
        for ticket in tickets.prefix(2_000) { _ = tracker.acknowledge(ticket) }
        #expect(tracker.pending([p]) == 1_000)
        #expect(tracker.acknowledge(tickets[2_500]) == nil)
        for ticket in tickets[2_000..<2_500] { _ = tracker.acknowledge(ticket) }
        #expect(tracker.firstOpen[p] == 2_501)
        for ticket in tickets[2_501...] { _ = tracker.acknowledge(ticket) }
        #expect(tracker.pending([p]) == 0)
        #expect(tracker.register(p, offset: 3_000, pending: 0).1 == 3_001)
    }

    @Test func partitionsAreIndependent() {
        let tracker = OffsetTracker()
        let q = TopicPartition("raw", 1)
        let (a, _) = tracker.register(p, offset: 0, pending: 1)
        let (b, _) = tracker.register(q, offset: 0, pending: 1)
        #expect(tracker.acknowledge(b) == 1)
        #expect(tracker.pending([p]) == 1 && tracker.pending([q]) == 0)
        #expect(tracker.acknowledge(a) == 1)
    }
}
