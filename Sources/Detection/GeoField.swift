import Enrichment

/// The geo fields of the event's source IP, named as ECS names them under
/// `source.geo.` (with the Splunk `iplocation` names `Country`, `City`,
/// `Region` as aliases).
public enum GeoField: String, Sendable, Hashable, CaseIterable {
    case countryName = "source.geo.country_name"
    case countryISOCode = "source.geo.country_iso_code"
    case cityName = "source.geo.city_name"
    case regionName = "source.geo.region_name"
    case regionISOCode = "source.geo.region_iso_code"
    case continentName = "source.geo.continent_name"
    case continentCode = "source.geo.continent_code"
    case postalCode = "source.geo.postal_code"
    case timezone = "source.geo.timezone"
    case latitude = "source.geo.location.lat"
    case longitude = "source.geo.location.lon"

    /// The geo field a dotted name denotes, if any.
    public init?(fieldName: String) {
        switch fieldName {
        case "Country": self = .countryName
        case "City": self = .cityName
        case "Region": self = .regionName
        default: self.init(rawValue: fieldName)
        }
    }

    /// This field's value in `location`, if it has one.
    public func value(in location: GeoLocation) -> FieldValue? {
        switch self {
        case .countryName: return location.country.map(FieldValue.string)
        case .countryISOCode: return location.countryCode.map(FieldValue.string)
        case .cityName: return location.city.map(FieldValue.string)
        case .regionName: return location.region.map(FieldValue.string)
        case .regionISOCode: return location.regionCode.map(FieldValue.string)
        case .continentName: return location.continent.map(FieldValue.string)
        case .continentCode: return location.continentCode.map(FieldValue.string)
        case .postalCode: return location.postalCode.map(FieldValue.string)
        case .timezone: return location.timeZone.map(FieldValue.string)
        case .latitude: return location.latitude.map(FieldValue.number)
        case .longitude: return location.longitude.map(FieldValue.number)
        }
    }
}
