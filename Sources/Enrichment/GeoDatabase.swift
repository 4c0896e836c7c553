import CMaxMindDB
import Foundation

/// Which data judged a lookup: the database's own metadata.
public struct GeoDatabaseMetadata: Sendable, Hashable {
    /// The file the database was opened from.
    public let path: String
    /// `database_type`, e.g. `GeoLite2-City`, `GeoIP2-Country`, `DBIP-City-Lite`.
    public let databaseType: String
    /// When the database was built (`build_epoch`), in seconds since 1970.
    public let buildEpoch: UInt64
    /// The languages its `names` maps carry.
    public let languages: [String]
    /// 4 or 6: the IP version of the search tree.
    public let ipVersion: Int
    public let nodeCount: Int

    /// `build_epoch` as a date.
    public var buildDate: Date { Date(timeIntervalSince1970: TimeInterval(buildEpoch)) }
}

/// An open MaxMind-format database (GeoLite2/GeoIP2 City or Country, DB-IP City
/// Lite): the only type that calls libmaxminddb.
///
/// - Important: Lookups are thread-safe (libmaxminddb documents lookups on an
///   opened `MMDB_s` as such, and nothing here writes to it after `init`). The
///   file is memory-mapped: replace it by an atomic rename, never in place.
public final class GeoDatabase: @unchecked Sendable {
    // Safe: `handle` is written only by MMDB_open in init and MMDB_close in
    // deinit; every other use is a read-only lookup, which libmaxminddb allows
    // from many threads at once. `paths` is immutable after init.
    private let handle: UnsafeMutablePointer<MMDB_s>
    private let paths: MMDBPaths
    private let records: GeoRecordMemo?
    public let metadata: GeoDatabaseMetadata

    /// Opens `path` and checks that it is a City or Country database.
    /// - Parameters:
    ///   - language: the `names` language to return, English as fallback.
    ///   - recordCacheCapacity: decoded records kept by data offset (0: none, decode every time).
    public init(path: String, language: String = "en",
                recordCacheCapacity: Int = 1 << 18) throws(EnrichmentError) {
        let handle = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), handle)
        guard status == MMDB_SUCCESS else {
            handle.deallocate()
            throw EnrichmentError(.databaseOpenFailed,
                                  "\(path): \(String(cString: MMDB_strerror(status)))",
                                  status: Int(status))
        }
        let meta = handle.pointee.metadata
        let type = meta.database_type.map { String(cString: $0) } ?? ""
        var languages: [String] = []
        if let names = meta.languages.names {
            for index in 0..<Int(meta.languages.count) {
                if let name = names[index] { languages.append(String(cString: name)) }
            }
        }
        guard GeoDatabase.isSupported(type: type) else {
            MMDB_close(handle)
            handle.deallocate()
            throw EnrichmentError(.unsupportedDatabase,
                                  "\(path): database type '\(type)' is not a City or Country database")
        }
        self.handle = handle
        self.paths = MMDBPaths(language: language)
        self.records = recordCacheCapacity > 0 ? GeoRecordMemo(capacity: recordCacheCapacity) : nil
        self.metadata = GeoDatabaseMetadata(path: path, databaseType: type, buildEpoch: meta.build_epoch,
                                            languages: languages, ipVersion: Int(meta.ip_version),
                                            nodeCount: Int(meta.node_count))
    }

    deinit {
        MMDB_close(handle)
        handle.deallocate()
    }

    /// The language names are returned in.
    public var language: String { paths.language }

    /// City, Country, Enterprise (GeoIP2/GeoLite2) and DB-IP City/Country files.
    static func isSupported(type: String) -> Bool {
        let lower = type.lowercased()
        return lower.contains("city") || lower.contains("country") || lower.contains("enterprise")
    }

    /// Looks `address` up (IPv4-mapped IPv6 as IPv4). Nil when the database has
    /// no record with any location field, as Splunk adds no fields then; also nil
    /// for an IPv6 address in an IPv4-only database.
    public func lookup(_ address: IPAddress) -> GeoLocation? {
        var error: Int32 = 0
        let result: MMDB_lookup_result_s
        switch address.unmapped {
        case .v4(let value):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_addr.s_addr = value.bigEndian
            result = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    MMDB_lookup_sockaddr(handle, $0, &error)
                }
            }
        case .v6(let value):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { bytes in
                for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> (8 * (15 - index))) }
            }
            result = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    MMDB_lookup_sockaddr(handle, $0, &error)
                }
            }
        }
        guard error == MMDB_SUCCESS, result.found_entry else { return nil }
        let entry = result.entry
        guard let records else { return located(entry) }
        return records.record(at: entry.offset) { located(entry) }
    }

    private func located(_ entry: MMDB_entry_s) -> GeoLocation? {
        let location = decode(entry)
        return location.isEmpty ? nil : location
    }

    private func decode(_ entry: MMDB_entry_s) -> GeoLocation {
        var city, country, countryCode, region, regionCode, continent, continentCode: String?
        var postalCode, timeZone: String?
        var latitude, longitude: Double?
        var accuracyRadius, metroCode: Int?
        if let map = submap(entry, paths.city) {
            city = name(map)
        }
        if let map = submap(entry, paths.country) {
            country = name(map)
            countryCode = string(map, paths.isoCode)
        }
        if let map = submap(entry, paths.subdivision) {
            region = name(map)
            regionCode = string(map, paths.isoCode)
        }
        if let map = submap(entry, paths.continent) {
            continent = name(map)
            continentCode = string(map, paths.code)
        }
        if let map = submap(entry, paths.postal) {
            postalCode = string(map, paths.code)
        }
        if let map = submap(entry, paths.location) {
            latitude = double(map, paths.latitude)
            longitude = double(map, paths.longitude)
            timeZone = string(map, paths.timeZone)
            accuracyRadius = integer(map, paths.accuracyRadius)
            metroCode = integer(map, paths.metroCode)
        }
        return GeoLocation(city: city, country: country, countryCode: countryCode, region: region,
                           regionCode: regionCode, continent: continent, continentCode: continentCode,
                           postalCode: postalCode, timeZone: timeZone, latitude: latitude,
                           longitude: longitude, accuracyRadius: accuracyRadius, metroCode: metroCode)
    }

    // MARK: Reading values by path (MMDB_aget_value; strings are length-delimited)

    private func value(_ start: MMDB_entry_s, _ path: MMDBPaths.Path) -> MMDB_entry_data_s? {
        var start = start
        var data = MMDB_entry_data_s()
        let status = MMDB_aget_value(&start, &data, UnsafePointer(path.pointer))
        guard status == MMDB_SUCCESS, data.has_data else { return nil }
        return data
    }

    /// A map inside the record, as an entry to look relative paths up in.
    private func submap(_ entry: MMDB_entry_s, _ path: MMDBPaths.Path) -> MMDB_entry_s? {
        guard let data = value(entry, path), data.type == UInt32(MMDB_DATA_TYPE_MAP) else { return nil }
        return MMDB_entry_s(mmdb: entry.mmdb, offset: data.offset)
    }

    private func name(_ entry: MMDB_entry_s) -> String? {
        string(entry, paths.namesInLanguage) ?? string(entry, paths.namesInEnglish)
    }

    private func string(_ entry: MMDB_entry_s, _ path: MMDBPaths.Path) -> String? {
        guard let data = value(entry, path), data.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING),
              let bytes = data.utf8_string else { return nil }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(data.data_size))
        return String(decoding: buffer, as: UTF8.self)
    }

    private func double(_ entry: MMDB_entry_s, _ path: MMDBPaths.Path) -> Double? {
        guard let data = value(entry, path) else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_DOUBLE: return data.double_value
        case MMDB_DATA_TYPE_FLOAT: return Double(data.float_value)
        default: return nil
        }
    }

    private func integer(_ entry: MMDB_entry_s, _ path: MMDBPaths.Path) -> Int? {
        guard let data = value(entry, path) else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_UINT16: return Int(data.uint16)
        case MMDB_DATA_TYPE_UINT32: return Int(data.uint32)
        case MMDB_DATA_TYPE_INT32: return Int(data.int32)
        case MMDB_DATA_TYPE_UINT64: return Int(exactly: data.uint64)
        default: return nil
        }
    }
}
