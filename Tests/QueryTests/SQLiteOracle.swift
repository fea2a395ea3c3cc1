import Foundation
import Testing
@testable import PathTSDB

/// An independent answer: the same runs loaded into SQLite (the sqlite3 program from Debian),
/// one row per probe, asked in SQL.
struct SQLiteOracle {
    let database: String

    /// Loads `runs` into a new database file in `dir`. `hop` is the first address that answered
    /// at the probe's TTL in its run, which is the hop the query language attributes a probe to.
    init(runs: [TraceRun], dir: TemporaryDirectory) throws {
        database = dir.path + "/oracle.sqlite"
        var sql = "CREATE TABLE probes(target TEXT, start INTEGER, ttl INTEGER, idx INTEGER, hop TEXT, address TEXT, rtt INTEGER);\nBEGIN;\n"
        for r in runs {
            var hop = [UInt8: String]()
            for p in r.probes { if let a = p.address, hop[p.ttl] == nil { hop[p.ttl] = a.description } }
            var last: UInt8 = 0, idx = 0
            for p in r.probes {
                idx = p.ttl == last ? idx + 1 : 1
                last = p.ttl
                let h = hop[p.ttl].map { "'\($0)'" } ?? "NULL"
                let a = p.address.map { "'\($0)'" } ?? "NULL"
                let rtt = p.address == nil ? "NULL" : String(p.rttMicros)
                sql += "INSERT INTO probes VALUES('\(r.target)',\(r.startMicros),\(p.ttl),\(idx),\(h),\(a),\(rtt));\n"
            }
        }
        sql += "COMMIT;\n"
        _ = try run(sql)
    }

    /// Runs SQL and returns the rows of its last statement as CSV fields.
    func rows(_ sql: String) throws -> [[String]] {
        try run(sql).split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    private func run(_ sql: String) throws -> String {
        let script = database + ".sql"
        try sql.write(toFile: script, atomically: false, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = ["-batch", "-csv", database]
        let output = Pipe(), errors = Pipe()
        p.standardInput = FileHandle(forReadingAtPath: script)
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, err.isEmpty else {
            throw OracleError(message: String(decoding: err, as: UTF8.self))
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct OracleError: Error { var message: String }

    /// The SQL for the value of rank ⌈q·n⌉ (1-based) among the answered probes of each group of
    /// `g` (a common table expression), the group's rows being those equal on every key.
    static func quantile(_ q: Double, keys: [String]) -> String {
        let same = keys.map { "i.\($0) IS o.\($0)" }.joined(separator: " AND ")
        return """
            (SELECT rtt FROM (SELECT rtt, ROW_NUMBER() OVER (ORDER BY rtt) AS rn, COUNT(*) OVER () AS n
               FROM g i WHERE i.rtt IS NOT NULL AND \(same))
             WHERE rn = CAST(ceil(\(q) * n) AS INTEGER))
            """
    }
}
