import Foundation
import KafkaIOTesting
import Testing

/// One JSON object per output line.
func jsonLines(_ output: String) -> [[String: Any]] {
    output.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

@Suite struct EnrichmentCommandTests {
    @Test func geoLookupPrintsIplocationFieldsAndNothingForUnknownAddresses() async throws {
        let db = repositoryPath("Tests/EnrichmentTests/Fixtures/GeoIP2-City-Test.mmdb")
        let (status, output) = try await runVigil(["geo", "lookup", "--db", db, "81.2.69.142", "10.0.0.1", "2001:480:10::1"])
        #expect(status == 0, "\(output)")
        let lines = jsonLines(output)
        #expect(lines.count == 3, "\(output)")
        #expect(lines.first?["City"] as? String == "London")
        #expect(lines.first?["Country"] as? String == "United Kingdom")
        #expect(lines.first?["Region"] as? String == "England")
        #expect(lines.dropFirst().first?["City"] == nil)          // private: no location fields, as in Splunk
        #expect(lines.dropFirst().first?["is_global"] as? Bool == false)
        #expect(lines.last?["City"] as? String == "San Diego")
    }

    @Test func torCheckJudgesAnEventByTheListOfItsOwnTime() async throws {
        let list = repositoryPath("Tests/EnrichmentTests/Fixtures/tor/exit-addresses-2024-03-12.txt")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-tor-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (status, output) = try await runVigil(["tor", "check", "--source", list, "--state", state,
                                                   "--at", "2024-03-12T13:00:00Z", "185.241.208.232", "1.2.3.4"])
        #expect(status == 0, "\(output)")
        let lines = jsonLines(output)
        #expect(lines.map { $0["tor_exit"] as? Bool } == [true, false], "\(output)")
    }
}
