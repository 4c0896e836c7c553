import Enrichment
import Foundation
import Testing

/// The ingest-side step: GeoIP of the primary source IP, Tor membership of every
/// source IP, and the data versions that judged the event.
@Suite struct EnricherTests {
    @Test func locatesThePrimaryIPAndFlagsTorExitsAmongAllSourceIPs() async throws {
        let locator = try GeoLocator(configuration: .init(path: Fixtures.path("GeoIP2-City-Test.mmdb")))
        let tor = TorExitList(configuration: .init(source: TorExitSource(Fixtures.path("tor/torbulkexitlist-2024-03-12.txt"))))
        #expect(await tor.refresh() == .updated(count: 1174))
        let exit = try #require(tor.snapshot?.addresses.first).description
        let enricher = Enricher(geo: locator, tor: tor)

        let result = enricher.enrich(sourceIPs: ["81.2.69.142", "10.0.0.1", exit], at: nil)
        #expect(result.geo?.city == "London")
        #expect(result.torExitIPs == [exit])
        #expect(result.isTorExit(exit))
        #expect(result.isTorExit("::ffff:" + exit) == exit.contains("."))
        #expect(!result.isTorExit("81.2.69.142"))
        #expect(result.geoDatabaseType == "GeoIP2-City")
        #expect(result.geoBuildEpoch == locator.metadata.buildEpoch)
        #expect(result.torListTime == tor.snapshot?.confirmedAt)

        // A private primary IP has no location; the Tor flag still comes from the others.
        let second = enricher.enrich(sourceIPs: ["10.0.0.1", exit], at: Date())
        #expect(second.geo == nil)
        #expect(second.torExitIPs == [exit])
    }

    @Test func withoutDataNothingIsAdded() {
        let result = Enricher(geo: nil, tor: nil).enrich(sourceIPs: ["81.2.69.142"], at: nil)
        #expect(result == .none)
        #expect(!result.isTorExit("81.2.69.142"))
    }
}
