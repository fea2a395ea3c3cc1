import ArgumentParser
import PathTSDB
import Probe
import Query

/// Exit codes, after sysexits(3), so scripts can tell what went wrong.
enum ExitStatus {
    static let dataError: Int32 = 65      // EX_DATAERR: malformed input
    static let noInput: Int32 = 66        // EX_NOINPUT: an input file cannot be opened
    static let software: Int32 = 70       // EX_SOFTWARE
    static let ioError: Int32 = 74        // EX_IOERR: the store failed
    static let locked: Int32 = 75         // EX_TEMPFAIL: the data directory is in use

    /// Prints `error` to standard error and returns the matching exit code.
    static func report(_ error: any Error) -> ExitCode {
        StandardError.write("stserver: \(error)\n")
        switch error {
        case let e as StorageError:
            return ExitCode(e.code == .locked ? locked : e.code == .corruption ? dataError : ioError)
        case let e as ProbeError:
            return ExitCode(e.code == .io ? noInput : dataError)
        case is QueryError:
            return ExitCode(dataError)
        default:
            return ExitCode(software)
        }
    }
}
