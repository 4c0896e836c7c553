import AuditEvents
import Testing

/// Each bad input becomes an explicit outcome with a reason.
@Suite struct RobustnessTests {
    static let good = #"{"kind":"Event","verb":"get","sourceIPs":["1.2.3.4"],"user":{"username":"u"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#

    func only(_ record: [UInt8], _ format: SourceFormat = .auto, options: DecoderOptions = DecoderOptions()) throws -> DecodeOutcome {
        let outcomes = try AuditRecordDecoder(format: format, options: options).decode(record)
        #expect(outcomes.count == 1)
        return try #require(outcomes.first)
    }

    func deadLetterReason(_ text: String, _ format: SourceFormat = .auto) throws -> DecodeIssue.Reason? {
        guard case .deadLetter(let issue) = try only(Array(text.utf8), format) else { return nil }
        #expect(!issue.detail.isEmpty)
        return issue.reason
    }

    @Test func malformedJSONIsDeadLettered() throws {
        #expect(try deadLetterReason("{not json") == .malformedJSON)
        #expect(try deadLetterReason("garbage") == .malformedJSON)
        #expect(try deadLetterReason("   ") == .malformedJSON)
    }

    @Test func truncatedRecordIsDeadLettered() throws {
        for cut in [1, 10, Self.good.utf8.count / 2, Self.good.utf8.count - 1] {
            let record = Array(Self.good.utf8.prefix(cut))
            guard case .deadLetter(let issue) = try only(record) else {
                Issue.record("cut at \(cut) was not dead-lettered")
                continue
            }
            #expect(issue.reason == .malformedJSON)
        }
    }

    @Test func invalidUTF8IsDeadLettered() throws {
        var record = Array(Self.good.utf8)
        let at = try #require(record.firstIndex(of: UInt8(ascii: "u")))
        record[at] = 0xFF
        guard case .deadLetter(let issue) = try only(record) else {
            Issue.record("not dead-lettered")
            return
        }
        #expect(issue.reason == .invalidUTF8)
    }

    @Test func stringCodeIsCoercedAndFlagged() throws {
        let text = Self.good.replacingOccurrences(#""code":200"#, #""code":"403""#)
        let event = try #require(try only(Array(text.utf8)).event)
        #expect(event.response.code == 403)
        #expect(event.warnings.contains(.coercedType))
    }

    @Test func wrongTypesAreIgnoredAndFlagged() throws {
        let text = #"{"kind":"Event","verb":["get"],"user":"alice","sourceIPs":"1.2.3.4","objectRef":7,"responseStatus":{"code":{"x":1}}}"#
        let event = try #require(try only(Array(text.utf8)).event)
        #expect(event.verb == nil && event.user.name == nil && event.response.code == nil)
        #expect(event.sourceIPs == ["1.2.3.4"])
        #expect(event.warnings.contains(.wrongType))
    }

    @Test func missingFieldsStillDecode() throws {
        let event = try #require(try only(Array(#"{"kind":"Event"}"#.utf8)).event)
        #expect(event.verb == nil && event.time == nil)
        #expect(event.warnings.isSuperset(of: [.missingField, .missingTime, .missingSourceIP]))
    }

    @Test func emptyAndInvalidSourceIPs() throws {
        let empty = try #require(try only(Array(#"{"kind":"Event","sourceIPs":[]}"#.utf8)).event)
        #expect(empty.sourceIP == nil && empty.warnings.contains(.missingSourceIP))
        let mixed = try #require(try only(Array(#"{"kind":"Event","sourceIPs":["999.1.1.1",5,"::1"]}"#.utf8)).event)
        #expect(mixed.sourceIPs == ["999.1.1.1", "::1"])
        #expect(mixed.warnings.isSuperset(of: [.invalidSourceIP, .wrongType]))
    }

    @Test func oversizedRecordIsDeadLetteredAtTheConfiguredLimit() throws {
        let options = DecoderOptions(maxRecordBytes: 64)
        guard case .deadLetter(let issue) = try only(Array(Self.good.utf8), options: options) else {
            Issue.record("not dead-lettered")
            return
        }
        #expect(issue.reason == .tooLarge)
        #expect(DecoderOptions().maxRecordBytes == 1 << 20)
    }

    @Test func pathologicalNestingIsDeadLettered() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(try deadLetterReason(#"{"kind":"Event","x":"# + deep + "}") == .tooDeep)
        let objects = String(repeating: #"{"a":"#, count: 5000) + "1" + String(repeating: "}", count: 5000)
        #expect(try deadLetterReason(objects) == .tooDeep)
    }

    /// The deepest nesting a decoder may allow is read whole on a worker thread: an extracted
    /// value that deep is built, written and dropped (each recursing once a level) without
    /// overflowing the stack; a deeper limit is refused when the decoder is made.
    @Test func nestingAtTheLargestAllowedDepthIsReadOnAWorkerThread() async throws {
        let depth = DecoderOptions.maxNesting - 2  // the record's object and the innermost array are levels too
        let record = #"{"kind":"Event","auditID":"x","verb":"get","requestObject":"#
            + String(repeating: #"{"a":"#, count: depth - 1) + "[1]" + String(repeating: "}", count: depth - 1) + "}"
        var options = DecoderOptions(maxDepth: DecoderOptions.maxNesting)
        options.extractedPaths = [try FieldPath("requestObject")]
        let decoder = try AuditRecordDecoder(format: .eks, options: options)
        let bytes = Array(record.utf8)
        let written = await Task.detached {
            var outcomes: [DecodeOutcome] = []
            decoder.decode(bytes, into: &outcomes)
            guard case .decoded(let event)? = outcomes.first, let value = event.extracted.first ?? nil else { return 0 }
            return value.jsonText.count
        }.value
        #expect(written == record.utf8.count - #"{"kind":"Event","auditID":"x","verb":"get","requestObject":}"#.utf8.count)
        #expect(throws: AuditEventsError.self) {
            _ = try AuditRecordDecoder(options: DecoderOptions(maxDepth: DecoderOptions.maxNesting + 1))
        }
    }

    @Test func propertiesLogThatIsNotJSONIsDeadLettered() throws {
        let record = #"{"category":"kube-audit","properties":{"log":"I0102 12:00:00 not json"}}"#
        #expect(try deadLetterReason(record) == .embeddedLogNotJSON)
        let number = #"{"category":"kube-audit","properties":{"log":42}}"#
        #expect(try deadLetterReason(number) == .wrongType)
        let array = #"{"category":"kube-audit","properties":{"log":"[1,2]"}}"#
        #expect(try deadLetterReason(array) == .embeddedLogNotJSON)
        let missing = #"{"category":"kube-audit","properties":{}}"#
        #expect(try deadLetterReason(missing, .aks) == .missingField)
    }

    @Test func emptyRecordIsASkippedTombstone() throws {
        guard case .skipped(let issue) = try only([]) else {
            Issue.record("not skipped")
            return
        }
        #expect(issue.reason == .emptyRecord)
    }

    @Test func nonObjectsAreDeadLettered() throws {
        for text in ["[1,2]", "42", "\"event\"", "null", "true"] {
            #expect(try deadLetterReason(text) == .notAnObject, "\(text)")
        }
    }

    @Test func unknownShapeIsDeadLetteredInAutoMode() throws {
        #expect(try deadLetterReason(#"{"hello":"world"}"#) == .unrecognizedFormat)
    }

    @Test func gkeEntryWithoutPayloadIsDeadLettered() throws {
        #expect(try deadLetterReason(#"{"insertId":"x"}"#, .gke) == .missingField)
        #expect(try deadLetterReason(#"{"protoPayload":"x"}"#, .gke) == .wrongType)
    }

    @Test func badBatchElementsGetTheirOwnOutcome() throws {
        let batch = #"{"records":[7,{"category":"kube-audit","properties":{"log":"{oops"}},{"category":"kube-audit","properties":{"log":"{\"verb\":\"get\"}"}}]}"#
        let outcomes = try AuditRecordDecoder().decode(Array(batch.utf8))
        #expect(outcomes.count == 3)
        #expect(outcomes[0].issue?.reason == .notAnObject && outcomes[0].issue?.position == 0)
        #expect(outcomes[1].issue?.reason == .embeddedLogNotJSON && outcomes[1].issue?.position == 1)
        #expect(outcomes[2].event?.verb == "get")
        let empty = try AuditRecordDecoder().decode(Array(#"{"records":[]}"#.utf8))
        #expect(empty.count == 1 && empty.first?.issue?.reason == .emptyBatch)
    }

    @Test func badCloudWatchMessagesGetTheirOwnOutcome() throws {
        let batch = #"{"messageType":"DATA_MESSAGE","logGroup":"/aws/eks/c/cluster","logEvents":[{"message":"nope"},{"id":"2"},{"message":"{\"verb\":\"get\"}","timestamp":1700000000000}]}"#
        let outcomes = try AuditRecordDecoder(format: .eks).decode(Array(batch.utf8))
        #expect(outcomes.count == 3)
        #expect(outcomes[0].issue?.reason == .embeddedLogNotJSON)
        #expect(outcomes[1].issue?.reason == .missingField)
        #expect(outcomes[2].event?.cluster == "c" && outcomes[2].event?.time == EventTime(milliseconds: 1_700_000_000_000))
        #expect(try deadLetterReason(#"{"messageType":"DATA_MESSAGE","logEvents":{}}"#) == .wrongType)
    }

    @Test func deadLetterHeadersCarryTheReason() throws {
        let issue = DecodeIssue(.malformedJSON, "bad", position: 2)
        #expect(issue.headers.map(\.key) == ["vigil-dlq-reason", "vigil-dlq-detail", "vigil-dlq-position"])
        #expect(issue.headers.first?.value == "malformed_json")
        #expect(DecodeOutcome.deadLetter(issue).label == "dead_letter")
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
