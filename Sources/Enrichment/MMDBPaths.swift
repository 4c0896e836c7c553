import CMaxMindDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NULL-terminated C string arrays for `MMDB_aget_value`, built once per
/// database and language so a lookup allocates nothing.
///
/// Absolute paths read the record's top-level maps once (`city`, `country`, ...);
/// relative paths are then looked up inside each sub-map, which saves walking the
/// record's keys again for every field.
final class MMDBPaths: @unchecked Sendable {
    // Safe: every pointer is written in init only, read afterwards, and freed
    // in deinit; nothing mutates them in between, so concurrent readers are fine.

    /// One path: `const char *const *`, NULL-terminated.
    struct Path {
        let pointer: UnsafeMutablePointer<UnsafePointer<CChar>?>
    }

    let city, country, subdivision, continent, location, postal: Path
    let namesInLanguage, namesInEnglish: Path
    let isoCode, code, latitude, longitude, timeZone, accuracyRadius, metroCode: Path
    let language: String
    private var allocations: [UnsafeMutablePointer<CChar>] = []
    private var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []

    init(language: String) {
        self.language = language
        var strings: [UnsafeMutablePointer<CChar>] = []
        var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
        func make(_ keys: [String]) -> Path {
            let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: keys.count + 1)
            for (index, key) in keys.enumerated() {
                let length = key.utf8.count
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: length + 1)
                key.utf8.enumerated().forEach { copy[$0.offset] = CChar(bitPattern: $0.element) }
                copy[length] = 0
                strings.append(copy)
                array[index] = UnsafePointer(copy)
            }
            array[keys.count] = nil
            arrays.append(array)
            return Path(pointer: array)
        }
        city = make(["city"])
        country = make(["country"])
        subdivision = make(["subdivisions", "0"])
        continent = make(["continent"])
        location = make(["location"])
        postal = make(["postal"])
        namesInLanguage = make(["names", language])
        namesInEnglish = make(["names", "en"])
        isoCode = make(["iso_code"])
        code = make(["code"])
        latitude = make(["latitude"])
        longitude = make(["longitude"])
        timeZone = make(["time_zone"])
        accuracyRadius = make(["accuracy_radius"])
        metroCode = make(["metro_code"])
        self.allocations = strings
        self.arrays = arrays
    }

    deinit {
        allocations.forEach { $0.deallocate() }
        arrays.forEach { $0.deallocate() }
    }
}
