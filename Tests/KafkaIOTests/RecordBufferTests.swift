@testable import KafkaIO
import Testing

@Suite struct RecordBufferTests {
    private func batch(_ offset: Int64, _ count: Int) -> [ConsumerRecord] {
        (0..<count).map { i in
            ConsumerRecord(topic: "t", partition: 0, offset: offset + Int64(i), key: nil, value: Array(repeating: 7, count: 1_300))
        }
    }

    /// What the reader took is released at once: the buffer keeps alive only the records it
    /// still holds (a taken batch left in its slot stayed until the next compaction, up to 64
    /// batches and half the array: with 5,000-record batches, most of a drain's backlog).
    @Test func takenBatchesAreReleasedNotKeptUntilCompaction() async throws {
        let buffer = RecordBuffer(capacity: 1_000_000, onDrained: {})
        for n in 0..<200 { _ = buffer.push(batch(Int64(n * 10), 10)) }
        #expect(buffer.count == 2_000 && buffer.heldRecords == 2_000)
        for n in 0..<60 {
            let taken = try #require(try await buffer.next())
            #expect(taken.first?.offset == Int64(n * 10) && taken.count == 10)
        }
        #expect(buffer.count == 1_400)
        #expect(buffer.heldRecords == 1_400)
        // Past the compaction point too, and down to empty.
        for _ in 0..<140 { _ = try await buffer.next() }
        #expect(buffer.count == 0 && buffer.heldRecords == 0)
        buffer.finish()
        #expect(try await buffer.next() == nil)
    }
}
