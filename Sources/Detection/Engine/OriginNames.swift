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

/// A ``MatchReference`` as rule state keeps it inline: 23 bytes (the
/// reference is 41, its origin's name a `String`), the name as its number.
/// ``MatchList`` keeps its tag in the spare bits of ``isFile``: the list is 23 bytes too
/// (with a 4-byte name it was 25, and a fired window 8 bytes longer).
struct InlineReference: Sendable {
    let time: Int64
    /// The offset, or the line of a file.
    private let position: Int64
    private let partition: Int32
    /// The name's number in ``OriginNames`` (below its ``OriginNames/limit``, 2^16).
    private let name: UInt16
    /// A file path's line, not a Kafka record.
    private let isFile: Bool

    /// nil when the origin's name has no number (past ``OriginNames/limit``).
    init?(_ match: MatchReference) {
        time = match.time
        switch match.origin {
        case .kafka(let topic, let partition, let offset):
            guard let number = OriginNames.number(of: topic) else { return nil }
            name = UInt16(number)
            isFile = false
            self.partition = partition
            position = offset
        case .file(let path, let line):
            guard let number = OriginNames.number(of: path) else { return nil }
            name = UInt16(number)
            isFile = true
            partition = 0
            position = Int64(line)
        }
    }

    var reference: MatchReference {
        if isFile {
            return MatchReference(time: time, origin: .file(path: OriginNames.name(UInt32(name)), line: Int(position)))
        }
        return MatchReference(time: time, origin: .kafka(topic: OriginNames.name(UInt32(name)), partition: partition,
                                                         offset: position))
    }
}
