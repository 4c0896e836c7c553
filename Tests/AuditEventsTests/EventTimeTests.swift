import AuditEvents
import Testing

@Suite struct EventTimeTests {
    @Test(arguments: [
        ("2022-11-29T00:09:04.38Z", 1_669_680_544, 380_000_000),
        ("2022-11-29 00:09:04.38", 1_669_680_544, 380_000_000),
        ("2024-02-13 12:45:06.073905000", 1_707_828_306, 73_905_000),
        ("2021-02-02T15:00:00.0000000Z", 1_612_278_000, 0),
        ("2025-02-03T04:05:06.789012+01:00", 1_738_551_906, 789_012_000),
        ("2025-02-03T04:05:06-0230", 1_738_564_506, 0),
        ("2025-02-03t04:05:06.1234567891z", 1_738_555_506, 123_456_789),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1969-12-31T23:59:59.5Z", -1, 500_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800, 0),
    ])
    func parses(text: String, seconds: Int64, nanos: Int32) {
        #expect(EventTime(parsing: text) == EventTime(seconds: seconds, nanoseconds: nanos))
    }

    @Test(arguments: ["", "2022-11-29", "2022-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2022-11-29T25:00:00Z",
                      "2022-11-29T00:00:00.Z", "2022-11-29T00:00:00+5", "2022-11-29T00:00:00Zjunk", "not a time"])
    func rejects(text: String) {
        #expect(EventTime(parsing: text) == nil)
    }

    @Test func printsRFC3339UTC() {
        #expect(EventTime(seconds: 1_669_680_544, nanoseconds: 380_000_000).description == "2022-11-29T00:09:04.38Z")
        #expect(EventTime(seconds: -1, nanoseconds: 0).description == "1969-12-31T23:59:59Z")
        #expect(EventTime(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test func ordersByInstant() throws {
        let a = try #require(EventTime(parsing: "2025-02-03T04:05:06+01:00"))
        let b = try #require(EventTime(parsing: "2025-02-03T03:30:00Z"))
        #expect(a < b)
    }
}
