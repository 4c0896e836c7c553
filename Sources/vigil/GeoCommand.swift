import ArgumentParser
import AuditEvents
import Enrichment
import Foundation

/// `vigil geo`: GeoIP lookups as the pipeline makes them (Splunk `iplocation` fields).
struct GeoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geo",
        abstract: "GeoIP lookups through the configured MaxMind-format database.",
        subcommands: [Lookup.self, Info.self])

    struct Options: ParsableArguments {
        @Option(help: "MaxMind-format City or Country database (GeoLite2/GeoIP2, DB-IP City Lite).")
        var db: String = ProcessInfo.processInfo.environment["VIGIL_GEOIP_DB"] ?? "geo/GeoLite2-City.mmdb"
    }

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one JSON line per IP with the iplocation fields (none when the IP has no location).")

        @OptionGroup var options: Options

        @Option(help: "Language for names, English as fallback (en, de, es, fr, ja, pt-BR, ru, zh-CN).")
        var lang: String = "en"

        @Argument(help: "IPv4, IPv6 or IPv4-mapped IPv6 addresses.")
        var ips: [String]

        func run() throws {
            let database = try GeoDatabase(path: options.db, language: lang)
            var bad = 0
            for text in ips {
                var line = JSONLine()
                line.add("ip", text)
                if let address = IPAddress(text) {
                    line.addRaw("is_global", address.isGlobal ? "true" : "false")
                    if let location = database.lookup(address) {
                        for field in location.splunkFields(all: true) {
                            switch field.name {
                            case "lat", "lon", "MetroCode", "AccuracyRadius": line.addRaw(field.name, field.value)
                            default: line.add(field.name, field.value)
                            }
                        }
                    }
                } else {
                    line.add("error", "not an IP address")
                    bad += 1
                }
                print(line.text)
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the database's type, build date and languages.")

        @OptionGroup var options: Options

        func run() throws {
            let meta = try GeoDatabase(path: options.db).metadata
            var line = JSONLine()
            line.add("path", meta.path)
            line.add("database_type", meta.databaseType)
            line.addRaw("build_epoch", "\(meta.buildEpoch)")
            line.add("build_date", ISO8601DateFormatter().string(from: meta.buildDate))
            line.add("languages", meta.languages.joined(separator: ","))
            line.addRaw("ip_version", "\(meta.ipVersion)")
            print(line.text)
        }
    }
}

/// A JSON object written field by field, in order.
struct JSONLine {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: String) {
        fields.append("\(Self.quote(key)):\(Self.quote(value))")
    }

    /// A number, boolean or null, written as given.
    mutating func addRaw(_ key: String, _ value: String) {
        fields.append("\(Self.quote(key)):\(value)")
    }

    var text: String { "{" + fields.joined(separator: ",") + "}" }

    static func quote(_ text: String) -> String { JSONWriter.quoted(text) }
}
