import AuditEvents
import Detection
import Logging
import Synchronization

/// Which events' repartition records carry their JSON documents (the raw document and the
/// AKS envelope): those of the log types read by a rule that reads a raw JSON path
/// (``Rule/rawPaths``). Every other field a rule reads travels in the compact encoding, so
/// without such rules no document crosses the broker.
///
/// Ingest keeps it in step with the rules folder (at start, every `rules.reload_check`, on
/// SIGHUP). A folder that does not load leaves the set as it was (the detect stage keeps
/// its rules in force too); one that never loaded carries every document. A hot reload that
/// adds a raw path takes effect for the events ingest encodes after it saw the new files:
/// records already on the repartition topic have no document, and the new rule reads the
/// path as absent on them (Sources/Runtime/README.md).
public final class DocumentPolicy: Sendable {
    private struct State {
        /// Bit `LogType.compactCode` set: events of that type carry their documents.
        var carried: UInt32
        var signature: RuleFolder.Signature?
        var rawPaths: [String]
    }

    private let state: Mutex<State>
    private let folder: RuleFolder
    private let logger: Logger

    init(directory: String, logger: Logger) {
        folder = RuleFolder(directory: directory)
        self.logger = logger
        state = Mutex(State(carried: Self.all, signature: nil, rawPaths: []))
        refresh(force: true)
    }

    /// Every log type's documents.
    public static let all: UInt32 = LogType.allCases.reduce(0) { $0 | 1 << UInt32($1.compactCode) }

    /// The log types whose documents travel now (read once per batch slice).
    var carried: UInt32 { state.withLock { $0.carried } }

    /// Whether events of `logType` carry their documents under `carried`.
    public static func carries(_ carried: UInt32, _ logType: LogType) -> Bool {
        carried & (1 << UInt32(logType.compactCode)) != 0
    }

    /// The log types read by an enabled rule that reads a raw JSON path.
    public static func carried(by rules: [Rule]) -> UInt32 {
        var bits: UInt32 = 0
        for rule in rules where rule.enabled && !rule.rawPaths.isEmpty {
            for type in LogType.allCases where rule.reads(type) { bits |= 1 << UInt32(type.compactCode) }
        }
        return bits
    }

    /// Reads the rules folder again when a rule file changed (or `force`: SIGHUP).
    func refresh(force: Bool) {
        guard let (signature, loaded) = folder.reload(since: state.withLock({ $0.signature }), force: force) else { return }
        guard loaded.problems.isEmpty else {
            state.withLock { $0.signature = signature }
            logger.warning("ingest: the rules folder does not load; documents travel as before",
                           metadata: ["folder": "\(folder.directory)", "problems": "\(loaded.problems.count)"])
            return
        }
        let carried = Self.carried(by: loaded.rules)
        var paths: [String] = []
        for rule in loaded.rules where rule.enabled { paths += rule.rawPaths.map { "\(rule.id): \($0.name)" } }
        let before = state.withLock { s in
            defer { s = State(carried: carried, signature: signature, rawPaths: paths) }
            return s
        }
        if before.carried != carried || before.rawPaths != paths {
            let types = LogType.allCases.filter { Self.carries(carried, $0) }.map(\.rawValue)
            logger.notice("ingest: repartition records carry the JSON documents of \(types.isEmpty ? "no log type" : types.joined(separator: ", "))",
                          metadata: ["raw_paths": "\(paths.joined(separator: "; "))"])
        }
    }

    /// Checks the folder every `interval` until cancelled (zero: never; SIGHUP still refreshes).
    func run(every interval: Duration) async {
        guard interval > .zero else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            refresh(force: false)
        }
    }
}
