/// What GeoIP knows about one address: the fields Splunk's `iplocation` adds
/// (`City`, `Country`, `Region`, `lat`, `lon`) and, as `allfields=true` does,
/// continent, ISO country code, postal code, time zone, metro code and accuracy
/// radius, each only when the database has it.
public struct GeoLocation: Sendable, Hashable {
    /// City name in the configured language (English fallback).
    public var city: String?
    /// Country name in the configured language (English fallback).
    public var country: String?
    /// ISO 3166-1 alpha-2 country code.
    public var countryCode: String?
    /// The first (largest) subdivision's name: Splunk's `Region`.
    public var region: String?
    /// The first subdivision's ISO 3166-2 code (without the country part).
    public var regionCode: String?
    public var continent: String?
    /// Two-letter continent code (`EU`, `NA`, ...).
    public var continentCode: String?
    public var postalCode: String?
    /// IANA time zone (`Europe/London`).
    public var timeZone: String?
    public var latitude: Double?
    public var longitude: Double?
    /// Radius in kilometres around latitude/longitude where the address likely is.
    public var accuracyRadius: Int?
    /// US metro (DMA) code.
    public var metroCode: Int?

    public init() {}

    /// True when no field is set (a record with none of the location paths).
    public var isEmpty: Bool {
        self == GeoLocation()
    }

    /// The fields under Splunk's names, in iplocation's order; `all` adds the
    /// `allfields=true` ones. Absent fields are left out.
    public func splunkFields(all: Bool = false) -> [(name: String, value: String)] {
        var fields: [(String, String)] = []
        func add(_ name: String, _ value: String?) {
            if let value { fields.append((name, value)) }
        }
        add("City", city)
        add("Country", country)
        add("Region", region)
        add("lat", latitude.map { "\($0)" })
        add("lon", longitude.map { "\($0)" })
        if all {
            add("Continent", continent)
            add("ContinentCode", continentCode)
            add("CountryCode", countryCode)
            add("RegionCode", regionCode)
            add("PostalCode", postalCode)
            add("MetroCode", metroCode.map { "\($0)" })
            add("Timezone", timeZone)
            add("AccuracyRadius", accuracyRadius.map { "\($0)" })
        }
        return fields
    }
}
