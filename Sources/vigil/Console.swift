import Foundation
import Logging

/// What every subcommand shares for talking to the person at the terminal.
enum Console {
    /// One line to standard error (summaries, problems; stdout carries the data).
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Logs to standard error at `level` and up; returns a logger labelled `label`.
    static func logger(_ label: String, level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
