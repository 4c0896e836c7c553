import Foundation

/// Paths of test data: fixtures in this folder, MaxMind's test databases and
/// the real Tor snapshots (copied here with their source and license, see
/// Fixtures/README.md), and the GeoLite2-City database that ops/setup.sh installs.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// geo/GeoLite2-City.mmdb (git-ignored; ops/setup.sh fetches it).
    static var geoLite2City: String? {
        let path = repositoryRoot.appendingPathComponent("geo/GeoLite2-City.mmdb").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-enrich-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
