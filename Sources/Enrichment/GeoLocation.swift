/// What GeoIP knows about one address: the fields Splunk's `iplocation` adds
/// (`City`, `Country`, `Region`, `lat`, `lon`) and, as `allfields=true` does,
/// continent, ISO country code, postal code, time zone, metro code and accuracy
/// radius, each only when the database has it.
///
/// Immutable and shared: a class, so a cached answer is handed out with one
/// retain instead of a copy of a dozen fields.
public final class GeoLocation: Sendable, Equatable {
    /// City name in the configured language (English fallback).
    public let city: String?
    /// Country name in the configured language (English fallback).
    public let country: String?
    /// ISO 3166-1 alpha-2 country code.
    public let countryCode: String?
    /// The first (largest) subdivision's name: Splunk's `Region`.
    public let region: String?
    /// The first subdivision's ISO 3166-2 code (without the country part).
    public let regionCode: String?
    public let continent: String?
    /// Two-letter continent code (`EU`, `NA`, ...).
    public let continentCode: String?
    public let postalCode: String?
    /// IANA time zone (`Europe/London`).
    public let timeZone: String?
    public let latitude: Double?
    public let longitude: Double?
    /// Radius in kilometres around latitude/longitude where the address likely is.
    public let accuracyRadius: Int?
    /// US metro (DMA) code.
    public let metroCode: Int?

    public init(city: String? = nil, country: String? = nil, countryCode: String? = nil,
                region: String? = nil, regionCode: String? = nil, continent: String? = nil,
                continentCode: String? = nil, postalCode: String? = nil, timeZone: String? = nil,
                latitude: Double? = nil, longitude: Double? = nil, accuracyRadius: Int? = nil,
                metroCode: Int? = nil) {
        self.city = city
        self.country = country
        self.countryCode = countryCode
        self.region = region
        self.regionCode = regionCode
        self.continent = continent
        self.continentCode = continentCode
        self.postalCode = postalCode
        self.timeZone = timeZone
        self.latitude = latitude
        self.longitude = longitude
        self.accuracyRadius = accuracyRadius
        self.metroCode = metroCode
    }

    /// True when no field is set (a record with none of the location paths).
    public var isEmpty: Bool {
        splunkFields(all: true).isEmpty
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

    /// Field-by-field equality (a shared answer and a copy of it are equal).
    public static func == (a: GeoLocation, b: GeoLocation) -> Bool {
        a === b || (a.city == b.city && a.country == b.country && a.countryCode == b.countryCode
            && a.region == b.region && a.regionCode == b.regionCode && a.continent == b.continent
            && a.continentCode == b.continentCode && a.postalCode == b.postalCode && a.timeZone == b.timeZone
            && a.latitude == b.latitude && a.longitude == b.longitude && a.accuracyRadius == b.accuracyRadius
            && a.metroCode == b.metroCode)
    }
}
