import AuditEvents

/// Fixture files beside this source file (no resource bundle needed).
enum Fixtures {
    static let directory: String = {
        let file = #filePath
        guard let slash = file.lastIndex(of: "/") else { return "Fixtures" }
        return String(file[..<slash]) + "/Fixtures"
    }()

    /// The shared sample store, when this checkout sits beside it.
    static let sharedData: String = {
        let fixtures = directory
        var parts = fixtures.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)  // Fixtures, AuditEventsTests, Tests, <checkout>
        return parts.joined(separator: "/") + "/shared/data"
    }()

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// The non-empty lines of a JSON-lines fixture (relative to Fixtures/ or absolute).
    static func lines(_ path: String) -> [[UInt8]] {
        let full = path.hasPrefix("/") ? path : directory + "/" + path
        guard let bytes = read(full) else { return [] }
        return bytes.split(separator: 10).map(Array.init).filter { !$0.allSatisfy { $0 == 32 || $0 == 13 } }
    }

    static func files(in folder: String, suffix: String) -> [String] {
        let full = folder.hasPrefix("/") ? folder : directory + "/" + folder
        guard let dir = opendir(full) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(suffix) { names.append(full + "/" + name) }
        }
        return names.sorted()
    }

    /// Decodes one line and returns its single event, or nil.
    static func event(_ line: [UInt8], format: SourceFormat = .auto) -> AuditEvent? {
        guard let decoder = try? AuditRecordDecoder(format: format) else { return nil }
        let outcomes = decoder.decode(line)
        guard outcomes.count == 1 else { return nil }
        return outcomes[0].event
    }

    static func event(_ text: String, format: SourceFormat = .auto) -> AuditEvent? {
        event(Array(text.utf8), format: format)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
