import Alerting
// Public: `OutputFormat`, a public type, conforms to `ExpressibleByArgument` below.
public import ArgumentParser
import PathTSDB
import Probe
import Query

/// Exit codes, after sysexits(3), so scripts can tell what went wrong.
enum ExitStatus {
    static let dataError: Int32 = 65      // EX_DATAERR: malformed input
    static let noInput: Int32 = 66        // EX_NOINPUT: an input file cannot be opened
    static let software: Int32 = 70       // EX_SOFTWARE
    static let ioError: Int32 = 74        // EX_IOERR: the store failed
    static let noPermission: Int32 = 77   // EX_NOPERM: the server refused the token
    static let locked: Int32 = 75         // EX_TEMPFAIL: the data directory is in use, or a query timed out

    /// Prints `error` to standard error and returns the matching exit code.
    static func report(_ error: any Error) -> ExitCode {
        StandardError.write("stserver: \(error)\n")
        switch error {
        case let e as StorageError:
            switch e.code {
            case .locked: return ExitCode(locked)
            case .corruption, .invalidArgument: return ExitCode(dataError)
            case .notFound: return ExitCode(noInput)
            default: return ExitCode(ioError)
            }
        case let e as ProbeError:
            return ExitCode(e.code == .io || e.code == .notFound ? noInput : dataError)
        case let e as QueryError:
            switch e.code {
            case .notFound: return ExitCode(noInput)
            case .timeout: return ExitCode(locked)
            default: return ExitCode(dataError)
            }
        case let e as AlertingError:
            return ExitCode(e.code == .io || e.code == .notFound ? noInput : dataError)
        default:
            return ExitCode(software)
        }
    }
}

/// Runs a command's body: usage errors and chosen exit codes pass through; every other error
/// is printed and turned into its exit code.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw commandError(error)
    }
}

/// `reportingErrors` for an async body.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw commandError(error)
    }
}

/// What a command throws for `error`: usage errors and exit codes as they are, anything else
/// reported and turned into its exit code.
private func commandError(_ error: any Error) -> any Error {
    if error is ValidationError || error is ExitCode { return error }
    return ExitStatus.report(error)
}

extension OutputFormat: ExpressibleByArgument {}

/// `--format`, shared by the commands that print a result table.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output: table, csv or json.")
    var format: OutputFormat = .table
}
