import ArgumentParser
import AuditEvents
import Detection
import Enrichment
import Foundation

/// `vigil replay`: the backtest. Raw log files in, alerts out, through the
/// engine the runtime runs.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the rules over raw log files (JSON lines) in event-time order; alerts to stdout.",
        discussion: """
            Each FILE is decoded as --log-type (default: detected per record), or as the format \
            named before it: eks:FILE, aks:FILE, gke:FILE, kubernetes:FILE, process:FILE. Events \
            are enriched (GeoIP; Tor set from --tor), sorted by event time and run through the \
            detection engine; alerts are written as JSON lines to stdout, a summary and every \
            dead-lettered line (file:line: reason) to stderr. Exit status 1 when a line was \
            dead-lettered (the alerts are still written), 2 when rules, files or data do not load.
            """)

    @Option(help: "Rule folder or rule files (repeatable).")
    var rules: [String] = [RulesCommand.defaultPath]

    @Option(help: "GeoIP database (default: geo/GeoLite2-City.mmdb when present).")
    var geoip: String?

    @Option(help: "Tor exit list file (bulk, exit-addresses or Onionoo format).")
    var tor: String?

    @Flag(help: "Judge Tor membership against the list as it is, not at each event's time (old logs, a list without history).")
    var torIgnoreTime = false

    @Option(help: "Record format for files without a prefix: auto, eks, aks, gke, kubernetes or process.")
    var logType: String = "auto"

    @Option(help: "Allowed lateness of events (30s, 30m, 6h, 1d or seconds).")
    var allowedLateness: String?

    @Option(help: "Group keys tracked per rule before the oldest are evicted.")
    var maxKeysPerRule: Int?

    @Argument(help: "Log files of JSON lines, optionally FORMAT:FILE.")
    var files: [String]

    func run() async throws {
        let defaultFormat = try Self.format(logType)
        let loaded = RuleTestSuite.loadRules(paths: rules)
        guard loaded.problems.isEmpty else {
            for problem in loaded.problems { Console.error(problem.message) }
            throw ExitCode(2)
        }
        var settings = EngineSettings()
        if let allowedLateness {
            guard let seconds = Int64(allowedLateness) ?? RuleDuration(parsing: allowedLateness)?.seconds else {
                throw ValidationError("--allowed-lateness \(allowedLateness): not a duration (6h, 30m) nor seconds")
            }
            settings.allowedLateness = seconds
        }
        if let maxKeysPerRule { settings.maxKeysPerRule = max(1, maxKeysPerRule) }

        var input = ReplayInput()
        for argument in files {
            let (format, path) = Self.split(argument, default: defaultFormat)
            guard let data = FileManager.default.contents(atPath: path) else {
                Console.error("\(path): cannot read file")
                throw ExitCode(2)
            }
            input.add(contents: Array(data), path: path, decoder: try AuditRecordDecoder(format: format))
        }
        let replay = Replay(enricher: Enricher(geo: try openGeo(geoip), tor: try await loadTor()),
                            torAtEventTime: !torIgnoreTime, settings: settings)
        var summaries = 0
        let statistics = replay.run(input, rules: loaded.rules) { alert in
            print(alert.json)
            if alert.kind == .summary { summaries += 1 }
        }

        for rejected in input.rejected where rejected.deadLettered { Console.error("dead letter: \(rejected)") }
        Console.error("""
            replay: \(files.count) files, \(input.records) records, \(input.entries.count) events \
            (\(input.untimed) without a time), \(input.skipped) skipped, \(input.deadLettered) dead-lettered, \
            \(statistics.lateEvents) late
            """)
        let byRule = loaded.rules.map { rule in "\(rule.id) \(statistics.rules[rule.id]?.alerts ?? 0)" }
        Console.error("alerts: \(statistics.alerts) (\(byRule.joined(separator: ", "))), dedup summaries: \(summaries)")
        if input.deadLettered > 0 { throw ExitCode(1) }
    }

    /// The Tor list from `--tor`, loaded once; nil without the option.
    private func loadTor() async throws -> TorExitList? {
        guard let tor else { return nil }
        let list = TorExitList(configuration: .init(source: TorExitSource(tor)))
        let outcome = await list.refresh()
        guard list.snapshot != nil else { throw ValidationError("--tor \(tor): \(outcome)") }
        return list
    }

    static func format(_ text: String) throws -> SourceFormat {
        guard let format = SourceFormat(rawValue: text) else {
            throw ValidationError("unknown log type \(text); use one of "
                + SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return format
    }

    /// `eks:path` → (.eks, path); a path without a known format prefix keeps the default.
    static func split(_ argument: String, default format: SourceFormat) -> (SourceFormat, String) {
        guard let colon = argument.firstIndex(of: ":"),
              let named = SourceFormat(rawValue: String(argument[..<colon])) else { return (format, argument) }
        return (named, String(argument[argument.index(after: colon)...]))
    }

}
