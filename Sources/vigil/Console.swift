import ArgumentParser
import Foundation
import Logging
import Observability

/// What every subcommand shares for talking to the person at the terminal.
enum Console {
    /// One line to standard error (summaries, problems; stdout carries the data).
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// How log lines look: text for people (the default), or one JSON object per line.
    enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json
    }

    /// Logs to standard error at `level` and up; returns a logger labelled `label`.
    static func logger(_ label: String, level: Logger.Level, format: LogFormat = .text) -> Logger {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: label)
    }
}
