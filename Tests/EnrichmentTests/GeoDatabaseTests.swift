import Foundation
import Testing
@testable import Enrichment

/// Lookups on MaxMind's test databases, generated ones and the GeoLite2-City
/// 2018 database that ops/setup.sh installs (answers checked with mmdblookup).
@Suite struct GeoDatabaseTests {
    static func open(_ name: String, language: String = "en") throws -> GeoDatabase {
        try GeoDatabase(path: Fixtures.path(name), language: language)
    }

    static func address(_ text: String) throws -> IPAddress {
        try #require(IPAddress(text))
    }

    @Test(arguments: [
        ("81.2.69.142", "GB", "London", "England"),
        ("2.125.160.216", "GB", "Boxford", "England"),
        ("216.160.83.56", "US", "Milton", "Washington"),
        ("89.160.20.112", "SE", "Linköping", "Östergötland County"),
        ("175.16.199.1", "CN", "Changchun", "Jilin Sheng"),
        ("2001:480:10::1", "US", "San Diego", "California"),
        ("::ffff:81.2.69.142", "GB", "London", "England"),
    ])
    func maxMindCityTestDatabaseAnswersKnownAddresses(ip: String, code: String, city: String, region: String) throws {
        let location = try #require(try Self.open("GeoIP2-City-Test.mmdb").lookup(try Self.address(ip)))
        #expect(location.countryCode == code)
        #expect(location.city == city)
        #expect(location.region == region)
    }

    @Test func cityRecordCarriesAllIplocationFields() throws {
        let location = try #require(try Self.open("GeoIP2-City-Test.mmdb").lookup(try Self.address("81.2.69.142")))
        #expect(location.country == "United Kingdom")
        #expect(location.latitude == 51.5142)
        #expect(location.longitude == -0.0931)
        #expect(location.accuracyRadius == 10)
        #expect(location.timeZone == "Europe/London")
        #expect(location.continent == "Europe")
        #expect(location.continentCode == "EU")
        #expect(location.regionCode == "ENG")
        let names = location.splunkFields().map(\.name)
        #expect(names == ["City", "Country", "Region", "lat", "lon"])
        #expect(location.splunkFields(all: true).contains { $0 == ("Timezone", "Europe/London") })
    }

    @Test(arguments: ["8.8.8.8", "10.0.0.1", "1.1.1.1", "214.1.1.1"])
    func addressesWithoutALocationGetNone(ip: String) throws {
        // 214.1.1.1 has a record holding only traits.is_anycast: no location fields.
        #expect(try Self.open("GeoIP2-City-Test.mmdb").lookup(try Self.address(ip)) == nil)
    }

    @Test func partialRecordsKeepWhatTheyHave() throws {
        let db = try Self.open("GeoIP2-City-Test.mmdb")
        let bhutan = try #require(db.lookup(try Self.address("67.43.156.1")))
        #expect(bhutan.countryCode == "BT")
        #expect(bhutan.city == nil)
        let europe = try #require(db.lookup(try Self.address("2.3.3.1")))
        #expect(europe.continentCode == "EU")
        #expect(europe.country == nil)
    }

    @Test(arguments: ["GeoLite2-City-Test.mmdb", "GeoIP2-Country-Test.mmdb", "GeoLite2-Country-Test.mmdb"])
    func otherMaxMindTestDatabasesOpenAndAnswer(name: String) throws {
        let db = try Self.open(name)
        #expect(db.lookup(try Self.address("89.160.20.112"))?.countryCode == "SE")
        #expect(db.lookup(try Self.address("2a02:ff40::1"))?.countryCode == "IM")
        #expect(db.lookup(try Self.address("8.8.8.8")) == nil)
    }

    @Test func metadataNamesTheDataThatJudged() throws {
        let db = try Self.open("GeoIP2-City-Test.mmdb")
        #expect(db.metadata.databaseType == "GeoIP2-City")
        #expect(db.metadata.ipVersion == 6)
        #expect(db.metadata.buildEpoch > 1_700_000_000)
        #expect(db.metadata.languages == ["en", "zh"])
    }

    @Test func namesFollowTheLanguageWithEnglishFallback() throws {
        let german = try Self.open("Vigil-City-Test.mmdb", language: "de")
        let munich = try #require(german.lookup(try Self.address("198.51.100.7")))
        #expect(munich.city == "München")
        #expect(munich.country == "Deutschland")
        #expect(munich.region == "Bayern")
        let seattle = try #require(german.lookup(try Self.address("203.0.113.9")))
        #expect(seattle.city == "Seattle")  // no German name: English
        #expect(seattle.country == "Vereinigte Staaten")
        #expect(seattle.metroCode == 819)
        #expect(seattle.postalCode == "98101")
        let chinese = try Self.open("Vigil-City-Test.mmdb", language: "zh-CN")
        #expect(chinese.lookup(try Self.address("2001:db8:1::42"))?.city == "慕尼黑")
        #expect(chinese.lookup(try Self.address("203.0.113.200")) == nil)  // anycast-only record
        #expect(chinese.lookup(try Self.address("192.0.2.1"))?.continent == "Asia")
    }

    @Test func ipv4OnlyDatabaseAnswersIPv4AndMappedButNotIPv6() throws {
        let db = try Self.open("Vigil-Country-V4-Test.mmdb")
        #expect(db.metadata.ipVersion == 4)
        #expect(db.lookup(try Self.address("198.51.100.1"))?.countryCode == "DE")
        #expect(db.lookup(try Self.address("::ffff:198.51.100.1"))?.countryCode == "DE")
        #expect(db.lookup(try Self.address("2001:db8:1::1")) == nil)
    }

    @Test func nonLocationDatabaseIsRefused() throws {
        #expect {
            try Self.open("Vigil-ASN-Test.mmdb")
        } throws: { ($0 as? EnrichmentError)?.code == .unsupportedDatabase }
    }

    @Test func missingOrCorruptFileIsRefused() throws {
        #expect { try Self.open("does-not-exist.mmdb") } throws: {
            ($0 as? EnrichmentError)?.code == .databaseOpenFailed
        }
        #expect { try Self.open("ip-classification.tsv") } throws: {
            ($0 as? EnrichmentError)?.code == .databaseOpenFailed
        }
    }

    @Test(.enabled(if: Fixtures.geoLite2City != nil, "ops/setup.sh installs geo/GeoLite2-City.mmdb"),
          arguments: [
              ("128.101.101.101", "US", "Minneapolis"), ("::ffff:128.101.101.101", "US", "Minneapolis"),
              ("81.2.69.142", "GB", "Willesden"), ("2001:4860:4860::8888", "US", "Mountain View"),
              ("1.1.1.1", "AU", "Research"),
          ])
    func geoLite2CityAnswersWellKnownAddresses(ip: String, code: String, city: String) throws {
        let db = try GeoDatabase(path: try #require(Fixtures.geoLite2City))
        #expect(db.metadata.databaseType == "GeoLite2-City")
        let location = try #require(db.lookup(try Self.address(ip)))
        #expect(location.countryCode == code)
        #expect(location.city == city)
    }

    @Test(.enabled(if: Fixtures.geoLite2City != nil, "ops/setup.sh installs geo/GeoLite2-City.mmdb"))
    func geoLite2CityHasFullLocationForMinneapolis() throws {
        let db = try GeoDatabase(path: try #require(Fixtures.geoLite2City))
        let location = try #require(db.lookup(try Self.address("128.101.101.101")))
        #expect(location.region == "Minnesota")
        #expect(location.latitude == 44.9759)
        #expect(location.longitude == -93.2166)
        #expect(location.metroCode == 613)
        #expect(location.timeZone == "America/Chicago")
        #expect(db.lookup(try Self.address("8.8.8.8"))?.city == nil)
        #expect(db.lookup(try Self.address("10.0.0.1")) == nil)
    }

    @Test func recordCacheAnswersExactlyAsDecodingEveryTime() throws {
        let cached = try Self.open("GeoIP2-City-Test.mmdb")
        let plain = try GeoDatabase(path: Fixtures.path("GeoIP2-City-Test.mmdb"), recordCacheCapacity: 0)
        let ips = ["81.2.69.142", "81.2.69.160", "2.125.160.216", "216.160.83.56", "89.160.20.112",
                   "175.16.199.1", "2001:480:10::1", "214.1.1.1", "8.8.8.8", "67.43.156.1", "2.3.3.1"]
        for _ in 0..<2 {
            for text in ips {
                let address = try Self.address(text)
                let a = cached.lookup(address)?.splunkFields(all: true).map { "\($0.name)=\($0.value)" }
                let b = plain.lookup(address)?.splunkFields(all: true).map { "\($0.name)=\($0.value)" }
                #expect(a == b, "\(text)")
            }
        }
    }
}
