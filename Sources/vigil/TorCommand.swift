import ArgumentParser
import Enrichment
import Foundation

/// `vigil tor`: the Tor exit-node set: refresh it, show its state, check IPs.
struct TorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tor",
        abstract: "The Tor exit-node set: status, check, refresh.",
        subcommands: [Status.self, Check.self, Refresh.self])

    static let defaultSource = "https://check.torproject.org/torbulkexitlist"

    struct StateOption: ParsableArguments {
        @Option(help: """
            The saved last good list. A running Vigil's is its topology's enrichment.tor.state_file; \
            the default is this user's own (VIGIL_TOR_STATE, or under XDG_STATE_HOME).
            """)
        var state: String = TorCommand.defaultStatePath
    }

    static var defaultStatePath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["VIGIL_TOR_STATE"] { return path }
        let base = environment["XDG_STATE_HOME"] ?? (NSHomeDirectory() + "/.local/state")
        return base + "/vigil/tor-exits.json"
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the saved list's source, size, age and last error as JSON.")

        @OptionGroup var options: StateOption

        @Option(help: "Age in seconds past which the list counts as degraded.")
        var maxAge: Int = 6 * 3600

        func run() throws {
            guard let state = try TorExitState.load(from: options.state) else {
                print(#"{"state":\#(JSONLine.quote(options.state)),"error":"no saved list","degraded":true}"#)
                throw ExitCode(1)
            }
            let now = Int64(Date().timeIntervalSince1970)
            let age = now - state.confirmedAt
            var line = JSONLine()
            line.add("source", state.source)
            line.add("format", state.format.rawValue)
            line.addRaw("size", "\(state.addresses.count)")
            line.addRaw("age_seconds", "\(age)")
            line.add("confirmed_at", Self.iso(state.confirmedAt))
            line.add("changed_at", Self.iso(state.changedAt))
            if let attempt = state.lastAttempt { line.add("last_attempt", Self.iso(attempt)) }
            if let error = state.lastError { line.add("last_error", error) } else { line.addRaw("last_error", "null") }
            line.addRaw("degraded", age > maxAge ? "true" : "false")
            print(line.text)
            if age > maxAge { throw ExitCode(2) }
        }

        static func iso(_ seconds: Int64) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print, per IP, whether it was a Tor exit at a time (now by default).")

        @Option(help: "Fetch the list from this file or URL instead of reading the saved state.")
        var source: String?

        @OptionGroup var options: StateOption

        @Option(help: "Event time: ISO 8601 (2024-03-12T14:00:00Z) or seconds since 1970.")
        var at: String?

        @Argument(help: "IP addresses.")
        var ips: [String]

        func run() async throws {
            let time = try at.map(Self.parseTime) ?? Date()
            let snapshot: TorExitSnapshot
            if let source {
                let list = TorExitList(configuration: .init(source: TorExitSource(source)))
                let outcome = await list.refresh()
                guard let fetched = list.snapshot else {
                    throw ValidationError("\(source): \(outcome)")
                }
                snapshot = fetched
            } else {
                guard let state = try TorExitState.load(from: options.state) else {
                    throw ValidationError("no saved list at \(options.state); pass --source FILE|URL")
                }
                snapshot = try state.snapshot(grace: 3600)
            }
            var bad = 0
            for text in ips {
                var line = JSONLine()
                line.add("ip", text)
                if let address = IPAddress(text) {
                    line.addRaw("tor_exit", snapshot.wasExit(address, at: time) ? "true" : "false")
                    line.addRaw("on_current_list", snapshot.contains(address) ? "true" : "false")
                    line.add("at", ISO8601DateFormatter().string(from: time))
                } else {
                    line.add("error", "not an IP address")
                    bad += 1
                }
                print(line.text)
            }
            if bad > 0 { throw ExitCode(1) }
        }

        static func parseTime(_ text: String) throws -> Date {
            if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            throw ValidationError("--at \(text): not ISO 8601 nor seconds since 1970")
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch the list once (conditional on the saved one) and save it.")

        @Option(help: "A file or an http(s) URL in the bulk, exit-addresses or Onionoo format.")
        var source: String = TorCommand.defaultSource

        @OptionGroup var options: StateOption

        func run() async throws {
            let list = TorExitList(configuration: .init(source: TorExitSource(source), stateFile: options.state))
            let outcome = await list.refresh()
            let status = list.status
            var line = JSONLine()
            line.add("outcome", "\(outcome)")
            line.addRaw("size", "\(status.count)")
            line.add("state", options.state)
            print(line.text)
            if case .kept = outcome { throw ExitCode(1) }
        }
    }
}
