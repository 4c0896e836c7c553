import AuditEvents
import Testing

/// The writer stores through a pointer into storage of its own: what it writes must be what
/// appending to a byte array wrote, across growth and blocks, and a copied writer must stay a
/// value of its own.
@Suite struct CompactWriterTests {
    @Test func writesTheDocumentedBytesAcrossGrowth() throws {
        var rng = MutationFuzzTests.Generator(state: 7)
        // A capacity of 1 (16 bytes) makes the storage grow many times, inside blocks too.
        var w = CompactWriter(capacity: 1)
        // The reference: the same values appended to an array byte by byte, as the format reads.
        var expected: [UInt8] = []
        for round in 0..<300 {
            let n = rng.next()
            let text = String(repeating: "é", count: Int(n % 40)) + "x\(round)"
            w.block { w in
                w.varint(n >> (n % 64))
                w.int(Int64(bitPattern: n))
                w.string(text)
                w.optionalString(round % 3 == 0 ? nil : text)
                w.optionalInt(round % 4 == 0 ? nil : -Int64(round))
                w.optionalDouble(round % 5 == 0 ? nil : Double(round) / 3)
                w.fixed64(n)
                w.byte(UInt8(round % 256))
                w.strings([text, "", "a"])
                w.blob(Array(text.utf8.prefix(Int(n % 7))))
                w.raw([1, 2, 3])
            }
            var body: [UInt8] = []
            CompactWriter.appendVarint(n >> (n % 64), to: &body)
            let zigzag = { (v: Int64) in UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
            CompactWriter.appendVarint(zigzag(Int64(bitPattern: n)), to: &body)
            CompactWriter.appendVarint(UInt64(text.utf8.count), to: &body)
            body += Array(text.utf8)
            if round % 3 == 0 { body.append(0) } else {
                CompactWriter.appendVarint(UInt64(text.utf8.count) + 1, to: &body)
                body += Array(text.utf8)
            }
            if round % 4 == 0 { body.append(0) } else {
                body.append(1)
                CompactWriter.appendVarint(zigzag(-Int64(round)), to: &body)
            }
            if round % 5 == 0 { body.append(0) } else {
                body.append(1)
                withUnsafeBytes(of: (Double(round) / 3).bitPattern.littleEndian) { body += $0 }
            }
            withUnsafeBytes(of: n.littleEndian) { body += $0 }
            body.append(UInt8(round % 256))
            body.append(3)
            for s in [text, "", "a"] {
                CompactWriter.appendVarint(UInt64(s.utf8.count), to: &body)
                body += Array(s.utf8)
            }
            let blob = Array(text.utf8.prefix(Int(n % 7)))
            CompactWriter.appendVarint(UInt64(blob.count), to: &body)
            body += blob
            body += [1, 2, 3]
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { expected += $0 }
            expected += body
        }
        #expect(w.count == expected.count)
        #expect(w.bytes == expected)
    }

    @Test func aCopyIsAValueOfItsOwn() {
        var a = CompactWriter(capacity: 64)
        a.string("shared")
        var b = a
        b.string("only b")
        a.byte(9)
        #expect(a.bytes == [6] + Array("shared".utf8) + [9])
        #expect(b.bytes == [6] + Array("shared".utf8) + [6] + Array("only b".utf8))
        // A copy taken while a block is open is patched on its own.
        var c = CompactWriter()
        var inside: CompactWriter?
        c.block { w in
            w.byte(1)
            inside = w
            w.byte(2)
        }
        #expect(c.bytes == [2, 0, 0, 0, 1, 2])
        #expect(inside?.bytes == [0, 0, 0, 0, 1])
    }
}
