import Foundation
import Testing
@testable import Enrichment

/// The three real formats, from the snapshots in Fixtures/tor.
@Suite struct TorExitListParserTests {
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tor/" + name))))
    }

    @Test func bulkListParsesEveryAddressAtTheFetchTime() throws {
        let (format, observations) = try TorExitListParser.parse(try Self.bytes("torbulkexitlist-2024-03-12.txt"),
                                                                 fetchedAt: 1_710_252_000)
        #expect(format == .bulk)
        #expect(observations.count == 1174)
        #expect(Set(observations.map(\.address)).count == 1174)
        #expect(observations.allSatisfy { $0.seen == 1_710_252_000 })
        #expect(observations.first?.address == IPAddress("185.241.208.232"))
    }

    @Test func exitAddressesCarryTheirOwnTimes() throws {
        let (format, observations) = try TorExitListParser.parse(try Self.bytes("exit-addresses-2024-03-12.txt"),
                                                                 fetchedAt: 0)
        #expect(format == .exitAddresses)
        #expect(observations.count == 2378)
        // "ExitAddress 185.241.208.232 2024-03-12 08:10:51"
        #expect(observations.first == TorExitObservation(address: .v4(0xB9F1_D0E8), seen: 1_710_231_051))
        // The matched pair: the same 1174 addresses as the bulk list of that moment.
        let bulk = try TorExitListParser.parse(try Self.bytes("torbulkexitlist-2024-03-12.txt"), fetchedAt: 0).1
        #expect(Set(observations.map(\.address)) == Set(bulk.map(\.address)))
    }

    @Test func onionooKeepsOnlyRelaysWithTheExitFlag() throws {
        let (format, observations) = try TorExitListParser.parse(try Self.bytes("onionoo-details-sample.json"),
                                                                 fetchedAt: 0)
        #expect(format == .onionoo)
        let expected = ["204.8.96.141", "204.137.14.106", "178.218.144.18"].compactMap { IPAddress($0) }
        #expect(Set(observations.map(\.address)) == Set(expected))
        // last_seen "2026-09-04 03:00:00"
        #expect(observations.allSatisfy { $0.seen == 1_788_490_800 })
    }

    @Test(arguments: [
        "<html><body>Captive portal</body></html>",
        "185.220.101.1\n185.220.10",       // truncated mid-line
        "185.220.101.1\nnot an address\n",
        "ExitNode ABC\nExitAddress 1.2.3.4 2024-03-12\n",
        "ExitNode ABC\nExitAddress 1.2.3.4 2024-03-12 25:00:00\n",
        "ExitNode ABC\nGarbage here\n",
        "{\"relays\": [",
        "",
        "\n\n# only a comment\n",
    ])
    func brokenBodiesAreRefused(body: String) {
        #expect(throws: EnrichmentError.self) {
            try TorExitListParser.parse(Array(body.utf8), fetchedAt: 0)
        }
    }

    @Test func mappedAndIPv6AddressesAreAccepted() throws {
        let body = "::ffff:1.2.3.4\n2001:db8::7\n"
        let (_, observations) = try TorExitListParser.parse(Array(body.utf8), fetchedAt: 5)
        #expect(observations.map(\.address) == [IPAddress("1.2.3.4"), IPAddress("2001:db8::7")])
    }

    @Test func historyJoinsNearbySightingsAndAnswersByTime() throws {
        let ip = try #require(IPAddress("185.220.101.1"))
        let other = try #require(IPAddress("185.220.101.2"))
        let hour: Int64 = 3600
        var history = TorExitHistory()
        for refresh in 0..<5 {  // listed at 5 hourly refreshes
            history = history.merging([.init(address: ip, seen: 100 * hour + Int64(refresh) * hour)],
                                       mergeGap: 2 * hour + 1, retention: 24 * hour, now: 100 * hour + Int64(refresh) * hour)
        }
        history = history.merging([.init(address: other, seen: 110 * hour)], mergeGap: 2 * hour + 1,
                                  retention: 24 * hour, now: 110 * hour)
        #expect(history.intervals[ip] == [.init(start: 100 * hour, end: 104 * hour)])
        #expect(history.contains(ip, at: 102 * hour, grace: hour))
        #expect(history.contains(ip, at: 99 * hour + 1, grace: hour))
        #expect(!history.contains(ip, at: 98 * hour, grace: hour))
        #expect(!history.contains(other, at: 101 * hour, grace: hour))
        // Without newer sightings nothing is forgotten (a list that stopped refreshing
        // keeps its last good day)...
        let stale = history.merging([], mergeGap: 2 * hour + 1, retention: 24 * hour, now: 500 * hour)
        #expect(stale == history)
        // ...and once newer sightings arrive, what ended more than the retention before them goes.
        let later = history.merging([.init(address: other, seen: 129 * hour)], mergeGap: 2 * hour + 1,
                                    retention: 24 * hour, now: 129 * hour)
        #expect(later.intervals[ip] == nil)
        #expect(later.intervals[other] == [.init(start: 110 * hour, end: 110 * hour), .init(start: 129 * hour, end: 129 * hour)])
    }

    @Test func historicalSnapshotLoadedLaterIsJudgedOnItsOwnTimeline() throws {
        // A check.torproject.org exit-addresses excerpt (2024-03-12), loaded in 2026.
        let body = """
        ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75
        Published 2024-03-11 13:07:19
        LastStatus 2024-03-12 08:00:00
        ExitAddress 185.241.208.232 2024-03-12 08:10:51
        ExitNode 30CA715FDFB4959E859134F76A53C370E72FDD06
        Published 2024-03-12 01:04:56
        LastStatus 2024-03-12 12:00:00
        ExitAddress 185.241.208.232 2024-03-12 12:22:01

        """
        let now: Int64 = 1_795_000_000  // 2026-11
        let (_, observations) = try TorExitListParser.parse(Array(body.utf8), fetchedAt: now)
        let history = TorExitHistory().merging(observations, mergeGap: 7_201, retention: 86_400, now: now)
        let ip = try #require(IPAddress("185.241.208.232"))
        #expect(history.contains(ip, at: 1_710_248_400, grace: 3_600))   // 2024-03-12 13:00 UTC
        #expect(!history.contains(ip, at: 1_710_000_000, grace: 3_600))  // 2024-03-09: not yet an exit
    }
}
