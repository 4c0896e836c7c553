import ArgumentParser
import AuditEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigil decode`: raw records in (one per line), normalized events out (one
/// JSON line each). The tool to reach for when a detection does not fire.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode raw audit records (one per line) into normalized events, one JSON line each.",
        discussion: """
            Reads FILEs (or stdin) and writes one JSON line per event, with the field names \
            detections use: log_type, time, cluster, kubernetes, source.ip, source.ips, user.name, \
            user.uid, user.groups, verb, object.resource, object.subresource, object.namespace, \
            object.name, object.api_group, object.api_version, request.uri, response.code, \
            response.status, response.reason, response.message, response.grpc_code, user_agent, \
            stage, audit_id, level, authorization.decision, authorization.reason, process.name, \
            process.args, process.interactive, process.executable, process.pid, process.parent.name, \
            container.id, container.image.name, host.os.type, event.type, event.action, \
            event.category, event.kind, warnings. Fields without a value are left out.

            A record that yields no event writes {"outcome": "skipped"|"dead_letter", "reason": ..., \
            "detail": ..., "line": N} (plus "file" and, for batch elements, "position"). \
            A summary goes to stderr. Exit status 1 when any record was dead-lettered.
            """)

    @Option(name: .long, help: "Record format: auto, eks, aks, gke, kubernetes or process.")
    var logType: String = "auto"

    @Option(name: .long, help: "Also print this raw field (dotted path; repeatable), under \"fields\".")
    var field: [String] = []

    @Option(name: .long, help: "Cluster name for events whose record carries none.")
    var cluster: String?

    @Option(name: .long, help: "Records larger than this many bytes are dead-lettered.")
    var maxRecordBytes: Int = 1 << 20

    @Argument(help: "Files of records, one per line (stdin when none).")
    var files: [String] = []

    func run() throws {
        guard let format = SourceFormat(rawValue: logType) else {
            throw ValidationError("unknown --log-type \(logType); use one of "
                + SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let paths: [FieldPath]
        do {
            paths = try field.map { try FieldPath($0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let options = DecoderOptions(maxRecordBytes: maxRecordBytes, clusterLabel: cluster, extractedPaths: paths)
        let decoder = try AuditRecordDecoder(format: format, options: options)
        var summary = Summary()
        if files.isEmpty {
            guard let input = fdopen(0, "rb") else { throw ValidationError("cannot read stdin") }
            decodeLines(of: input, name: nil, decoder, paths, &summary)
        }
        for file in files {
            guard let input = fopen(file, "rb") else { throw ValidationError("cannot open \(file)") }
            defer { fclose(input) }
            decodeLines(of: input, name: file, decoder, paths, &summary)
        }
        Console.error("decoded \(summary.decoded) events, skipped \(summary.skipped), dead-lettered "
            + "\(summary.deadLettered), from \(summary.lines) records")
        if summary.deadLettered > 0 { throw ExitCode(1) }
    }

    struct Summary {
        var lines = 0, decoded = 0, skipped = 0, deadLettered = 0
    }

    private func decodeLines(
        of input: UnsafeMutablePointer<FILE>, name: String?, _ decoder: AuditRecordDecoder,
        _ paths: [FieldPath], _ summary: inout Summary
    ) {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var number = 0
        var outcomes: [DecodeOutcome] = []
        while true {
            let n = getline(&buffer, &capacity, input)
            guard n >= 0, let buffer else { break }
            number += 1
            var length = n
            while length > 0, buffer[length - 1] == 10 || buffer[length - 1] == 13 { length -= 1 }
            if length == 0 { continue }  // blank lines are not records
            let record = UnsafeRawBufferPointer(start: buffer, count: length).map { $0 }
            summary.lines += 1
            outcomes.removeAll(keepingCapacity: true)
            decoder.decode(record, into: &outcomes)
            for outcome in outcomes {
                print(Self.render(outcome, line: number, file: name, paths: paths))
                switch outcome {
                case .decoded: summary.decoded += 1
                case .skipped: summary.skipped += 1
                case .deadLetter: summary.deadLettered += 1
                }
            }
        }
    }

    static func render(_ outcome: DecodeOutcome, line: Int, file: String?, paths: [FieldPath]) -> String {
        switch outcome {
        case .decoded(let event):
            guard !paths.isEmpty else { return event.jsonLine() }
            var fields: [JSONValue.Member] = []
            for (path, value) in zip(paths, event.extracted) {
                fields.append(.init(key: path.description, value: value ?? .null))
            }
            var line = event.jsonLine()
            line.removeLast()
            return line + ",\"fields\":" + JSONValue.object(fields).jsonText + "}"
        case .skipped(let issue), .deadLetter(let issue):
            var members: [JSONValue.Member] = [
                .init(key: "outcome", value: .string(outcome.label)),
                .init(key: "reason", value: .string(issue.reason.rawValue)),
                .init(key: "detail", value: .string(issue.detail)),
                .init(key: "line", value: .int(Int64(line))),
            ]
            if let file { members.append(.init(key: "file", value: .string(file))) }
            if let position = issue.position { members.append(.init(key: "position", value: .int(Int64(position)))) }
            return JSONValue.object(members).jsonText
        }
    }
}
