import Testing
@testable import Detection

/// The engine's key table (`GroupTable`) and the key text it is found by (`GroupKey`).
@Suite struct GroupTableTests {
    /// Keys whose hashes collide (two bits kept) are still told apart, found,
    /// removed and found again; freed slots are reused.
    @Test func collidingKeysAreToldApart() {
        var table = GroupTable<Int>(hashMask: 0b11)
        var expected: [String: Int] = [:]
        for n in 0..<200 {
            let key = "s10.0.\(n / 256).\(n % 256)"
            let (slot, isNew) = table.slot(for: Array(key.utf8)) { n }
            #expect(isNew)
            #expect(table.slots[slot].key == key)
            expected[key] = n
        }
        for (key, value) in expected {
            let (slot, isNew) = table.slot(for: Array(key.utf8)) { -1 }
            #expect(!isNew)
            #expect(table.slots[slot].state == value)
            #expect(table[key] == value)
        }
        // Remove every third key, from the middle of the chains too.
        for (key, value) in expected where value % 3 == 0 {
            let slot = try! #require(table.find(key))
            table.remove(at: slot)
            expected[key] = nil
        }
        #expect(table.count == expected.count)
        #expect(table.find("s10.0.0.0") == nil)
        for (key, value) in expected { #expect(table[key] == value) }
        let slotsBefore = table.slots.count
        table["s192.0.2.1"] = 7
        #expect(table.slots.count == slotsBefore)  // a freed slot taken
        #expect(table["s192.0.2.1"] == 7)
        table["s192.0.2.1"] = nil
        #expect(table["s192.0.2.1"] == nil)
        #expect(Set(table.keys) == Set(expected.keys))
    }

    /// Inserts and removals in a seeded random order, with hashes narrowed to eight bits
    /// (long probe runs that removal shifts back), agree with a dictionary at every step.
    @Test func randomInsertsAndRemovalsAgreeWithADictionary() {
        var table = GroupTable<Int>(hashMask: 0xFF)
        var model: [String: Int] = [:]
        var seed: UInt64 = 0x5EED
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        for step in 0..<6_000 {
            let key = "k\(next() % 700)"
            if next() % 3 == 0 {
                if let at = table.find(key) { table.remove(at: at) }
                model[key] = nil
            } else {
                let (slot, isNew) = table.slot(for: Array(key.utf8)) { step }
                #expect(isNew == (model[key] == nil))
                if isNew { model[key] = step }
                #expect(table.slots[slot].state == model[key])
            }
            #expect(table.count == model.count)
        }
        for n in 0..<700 { #expect(table["k\(n)"] == model["k\(n)"]) }
        #expect(Set(table.keys) == Set(model.keys))
    }

    /// A table past one page of slots (`PagedArray`) finds, changes and removes keys on every page.
    @Test func keysOnManyPagesAreFoundAndChanged() {
        var table = GroupTable<Int>()
        let n = PagedArray<Int>.pageSize * 3 + 17
        for i in 0..<n { _ = table.slot(for: Array("k\(i)".utf8)) { i } }
        #expect(table.slots.count == n)
        for i in stride(from: 0, to: n, by: 7) {
            let (slot, isNew) = table.slot(for: Array("k\(i)".utf8)) { -1 }
            #expect(!isNew)
            table.slots[slot].state! += 1_000_000
        }
        for i in stride(from: 3, to: n, by: 5) { table["k\(i)"] = nil }
        for i in 0..<n {
            let expected = i % 5 == 3 ? nil : i + (i % 7 == 0 ? 1_000_000 : 0)
            #expect(table["k\(i)"] == expected)
        }
        #expect(table.count == table.entries.count)
    }

    @Test func keyBytesAreTheKeyText() {
        let values: [FieldValues] = [.one("prod"), .many(["a", 403, true]), .none, .one(1.5)]
        var bytes: [UInt8] = []
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(0x1F) }
            GroupKey.write(v, into: &bytes)
        }
        let text = GroupKey.text(values)
        #expect(String(decoding: bytes, as: UTF8.self) == text)
        #expect(GroupKey.values(of: text, fields: 4) == values)
        #expect(GroupKey.values(of: text, fields: 3) == nil)
        // A value holding a separator does not read back as itself: callers compare.
        let odd = GroupKey.text([.one("a\u{1F}b")])
        #expect(GroupKey.values(of: odd, fields: 1) != [.one("a\u{1F}b")])
    }
}
