import Synchronization

/// The topic and file names of event origins, numbered once per process, so a
/// match reference kept inline in rule state holds a 4-byte number instead of
/// a 16-byte `String` (``MatchList``). Names are never forgotten: a process
/// reads few topics or files. Past ``limit`` names, new ones get no number
/// (their references are kept whole).
enum OriginNames {
    static let limit = 1 << 16
    private static let table = Mutex(Table())

    private struct Table {
        var names: [String] = []
        var numbers: [String: UInt32] = [:]
    }

    /// The number of `name` (given one on first use); nil past the limit.
    static func number(of name: String) -> UInt32? {
        table.withLock { table in
            if let number = table.numbers[name] { return number }
            guard table.names.count < limit else { return nil }
            let number = UInt32(table.names.count)
            table.names.append(name)
            table.numbers[name] = number
            return number
        }
    }

    /// The name numbered `number` by ``number(of:)``.
    static func name(_ number: UInt32) -> String {
        table.withLock { $0.names[Int(number)] }
    }
}

/// A ``MatchReference`` as rule state keeps it inline: 24 bytes (the
/// reference is 41, its origin's name a `String`), the name as its number.
struct InlineReference: Sendable {
    private let time: Int64
    /// The offset, or the line of a file.
    private let position: Int64
    private let partition: Int32
    /// The name's number in ``OriginNames``; ``fileFlag`` set for a file path.
    private let name: UInt32
    private static let fileFlag: UInt32 = 1 << 31

    /// nil when the origin's name has no number (past ``OriginNames/limit``).
    init?(_ match: MatchReference) {
        time = match.time
        switch match.origin {
        case .kafka(let topic, let partition, let offset):
            guard let number = OriginNames.number(of: topic) else { return nil }
            name = number
            self.partition = partition
            position = offset
        case .file(let path, let line):
            guard let number = OriginNames.number(of: path) else { return nil }
            name = number | Self.fileFlag
            partition = 0
            position = Int64(line)
        }
    }

    var reference: MatchReference {
        if name & Self.fileFlag != 0 {
            return MatchReference(time: time, origin: .file(path: OriginNames.name(name & ~Self.fileFlag),
                                                            line: Int(position)))
        }
        return MatchReference(time: time, origin: .kafka(topic: OriginNames.name(name), partition: partition,
                                                         offset: position))
    }
}
