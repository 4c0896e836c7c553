import Testing
@testable import Detection

/// `MatchList` (one reference inline, more in an array) keeps the same list as
/// the sorted, capped array it replaced, through every transition.
@Suite struct MatchListTests {
    @Test(arguments: [1, 2, 3, 5]) func agreesWithTheSortedArray(cap: Int) {
        var seed: UInt64 = 0xC0FFEE &+ UInt64(cap)
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        for _ in 0..<200 {
            var list = MatchList()
            var array: [MatchReference] = []
            #expect(list.isEmpty)
            for _ in 0..<(next() % 8) {
                let match = MatchReference(time: Int64(next() % 6),
                                           origin: .kafka(topic: "t", partition: 0, offset: Int64(next() % 4)))
                list.insert(sorted: match, cap: cap)
                array.insert(sorted: match, cap: cap)
                #expect(Array(list) == array)
                #expect(list.array == array)
                #expect(list.first == array.first && list.count == array.count)
            }
            let keep = next() % 3
            list.cap(keep)
            #expect(list.array == Array(array.prefix(keep)))
            #expect(MatchList(array).array == array)
        }
    }

    /// A reference kept inline (its topic or path as a number) gives back the one put in.
    @Test func anInlineReferenceIsTheOnePutIn() throws {
        let references = [
            MatchReference(time: -5, origin: .kafka(topic: "eks-audit", partition: 3, offset: 1 << 40)),
            MatchReference(time: 7, origin: .kafka(topic: "a topic name longer than fifteen bytes", partition: -1,
                                                   offset: 0)),
            MatchReference(time: .max, origin: .file(path: "/var/log/audit/kube-apiserver.jsonl", line: 123_456)),
            MatchReference(time: .min, origin: .file(path: "", line: 0)),
        ]
        for reference in references {
            let inline = try #require(InlineReference(reference))
            #expect(inline.reference == reference)
            #expect(MatchList([reference]).array == [reference])
            #expect(MatchList([reference])[0] == reference)
        }
        #expect(MemoryLayout<InlineReference>.size == 23)
    }
}
