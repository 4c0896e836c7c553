import AuditEvents

/// The decoded events of raw log files (JSON lines) for a backtest, in event-time
/// order, with every line that yielded no event accounted for.
///
/// Events without an event time keep their place in the file: they sort with
/// the timed event read before them (the engine gives them its current time).
public struct ReplayInput: Sendable {
    /// One decoded event and the line it came from.
    public struct Entry: Sendable {
        public let event: AuditEvent
        public let origin: EventOrigin
        /// The sort key: the event's time, or that of the timed event read before it.
        let time: EventTime?
        /// Read order, to keep equal times in file order.
        let sequence: Int
    }

    /// A line (or a batch element of one) that yielded no event.
    public struct Rejected: Sendable, CustomStringConvertible {
        public let path: String
        public let line: Int
        public let issue: DecodeIssue
        /// Dead-lettered (expected events, could not decode) rather than skipped.
        public let deadLettered: Bool

        /// `path:line: reason (batch element N): detail`.
        public var description: String { "\(path):\(line): \(issue)" }
    }

    /// Decoded events, in read order until ``sortByEventTime()``.
    public private(set) var entries: [Entry] = []
    /// Lines and batch elements that yielded no event, in read order.
    public private(set) var rejected: [Rejected] = []
    /// Non-blank lines read.
    public private(set) var records = 0
    /// Events without an event time.
    public private(set) var untimed = 0
    private var lastTime: EventTime?

    public init() {}

    public var deadLettered: Int { rejected.count(where: { $0.deadLettered }) }
    public var skipped: Int { rejected.count(where: { !$0.deadLettered }) }

    /// Decodes the JSON lines of one file (`contents`, read from `path`) with `decoder`.
    /// Blank lines are not records; `\r\n` line ends are accepted.
    public mutating func add(contents: [UInt8], path: String, decoder: AuditRecordDecoder) {
        var outcomes: [DecodeOutcome] = []
        var lineNumber = 0
        var start = 0
        lastTime = nil
        while start <= contents.count {
            let end = contents[start...].firstIndex(of: 10) ?? contents.count
            lineNumber += 1
            var stop = end
            while stop > start, contents[stop - 1] == 13 || contents[stop - 1] == 32 { stop -= 1 }
            if stop > start {
                records += 1
                outcomes.removeAll(keepingCapacity: true)
                decoder.decode(Array(contents[start..<stop]), into: &outcomes)
                for outcome in outcomes { add(outcome, path: path, line: lineNumber) }
            }
            start = end + 1
        }
    }

    private mutating func add(_ outcome: DecodeOutcome, path: String, line: Int) {
        switch outcome {
        case .decoded(let event):
            if let time = event.time { lastTime = time } else { untimed += 1 }
            entries.append(Entry(event: event, origin: .file(path: path, line: line), time: lastTime,
                                 sequence: entries.count))
        case .skipped(let issue):
            rejected.append(Rejected(path: path, line: line, issue: issue, deadLettered: false))
        case .deadLetter(let issue):
            rejected.append(Rejected(path: path, line: line, issue: issue, deadLettered: true))
        }
    }

    /// Orders the events by event time (stable: equal times keep read order;
    /// untimed events at the start of a file come first).
    public mutating func sortByEventTime() {
        entries.sort { a, b in
            switch (a.time, b.time) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return true
            case (_?, nil): return false
            default: return a.sequence < b.sequence
            }
        }
    }
}
