import ArgumentParser
import Foundation
import PathTSDB
import Probe
import Query

#if canImport(Glibc)
import Glibc
#endif

/// `stserver export`: the raw data of a selection, one row per probe sent, streamed.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every probe of a time range and target selection as CSV (or any query's answer).",
        discussion: """
            Columns: target, start (the run's start, RFC 3339), ttl, probe (1-based within the TTL), \
            address, rtt_us (empty when the probe was lost). Rows stream as they are read, so an export \
            of months needs no more memory than one target-day.
            """)

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "A target to export; repeat for several (default: every target).")
    var target: [String] = []

    @Option(name: .long, help: "A group of targets (names under GROUP/); repeat for several.")
    var group: [String] = []

    @Option(name: .long, help: "Start: RFC 3339, now, or relative to the newest data (-7d). Default: the oldest data.")
    var from: String?

    @Option(name: .long, help: "End (excluded): RFC 3339, now, or relative to the newest data. Default: after the newest data.")
    var to: String?

    @Option(name: .long, help: "Export this query's answer instead (docs/QUERY.md).")
    var query: String?

    @Option(name: .long, help: "Output: csv or json.")
    var format: OutputFormat = .csv

    @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        try reportingErrors {
            let db = try store.openForReading()
            defer { try? db.close() }
            let snap = db.snapshot()
            let newest = snap.timeRange?.upperBound ?? WallClock.nowMicros()
            let context = QueryContext(nowMicros: newest + 1)
            var cursor: QueryCursor
            if let query {
                cursor = try QueryEngine.cursor(query, snapshot: snap, context: context)
            } else {
                let q = try QuerySelection(targets: target, groups: group, from: from, to: to).query(.probes) { "--\($0)" }
                cursor = try QueryEngine.cursor(q, snapshot: snap, context: context)
            }
            let fd: Int32
            if let output {
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw ProbeError.system(.io, "cannot create", errno: errno, source: output) }
            } else {
                fd = 1
            }
            defer { if fd != 1 { close(fd) } }
            var sink = FileSink(fd: fd, name: output ?? "standard output")
            var writer = ResultWriter(format: format, columns: cursor.columns.map(\.name))
            var progress = ProgressLine()
            var rows = 0
            try sink.write(writer.header())
            if format == .csv && cursor.rendersCSVDirectly {
                // The bulk path: probe rows rendered straight to bytes on this thread while
                // another writes the previous chunks, so the export runs at the speed of the
                // slower of the two, usually the disk.
                try sink.flush()
                let queue = BoundedBatchQueue<[UInt8]>(capacity: 4)
                // Chunks go back and forth between the threads: fresh 2 MiB buffers would each
                // cost the kernel page faults, more than the writes themselves.
                let spare = BoundedBatchQueue<[UInt8]>(capacity: 8)
                for _ in 0..<6 { _ = spare.put([UInt8]()) }
                let written = WrittenBytes()
                let writerSink = sink
                let writer = Thread {
                    var s = writerSink
                    do {
                        while var chunk = try queue.take() {
                            try s.write(bytes: chunk)
                            written.add(chunk.count)
                            chunk.removeAll(keepingCapacity: true)
                            _ = spare.put(chunk)
                        }
                        try s.flush()
                        written.finish(nil)
                    } catch {
                        written.finish(error)
                        queue.cancel()
                        spare.finish()
                    }
                }
                writer.start()
                var failure: (any Error)?
                do {
                    while true {
                        guard var chunk = try spare.take() else { break }
                        chunk.reserveCapacity(1 << 21)
                        guard try cursor.nextCSV(into: &chunk) else { break }
                        guard queue.put(chunk) else { break }
                        progress.update("exported \(Format.fixed(Double(written.bytes) / 1e6, 1)) MB")
                    }
                } catch {
                    failure = error
                }
                queue.finish()
                if let e = written.waitUntilFinished() { throw e }
                if let failure { throw failure }
                sink.bytes += Int64(written.bytes)
                rows = cursor.rowsEmitted
            } else {
                while let batch = try cursor.next() {
                    rows += batch.count
                    try sink.write(writer.rows(batch))
                    progress.update("exported \(Format.grouped(rows)) rows, \(Format.fixed(Double(sink.bytes) / 1e6, 1)) MB")
                }
            }
            try sink.write(writer.finish())
            try sink.flush()
            progress.finish()
            for p in cursor.problems { StandardError.write("stserver: warning: \(p)\n") }
            if output != nil {
                StandardError.write("exported \(Format.grouped(rows)) rows, \(Format.grouped(Int(sink.bytes))) bytes in \(Format.fixed(progress.elapsedSeconds, 2)) s\n")
            }
        }
    }
}

/// Buffered writes to a file descriptor; a failed write is an error naming the output.
struct FileSink {
    let fd: Int32
    let name: String
    private var buffer: [UInt8] = []
    var bytes: Int64 = 0

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
        buffer.reserveCapacity(1 << 20)
    }

    mutating func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func write(bytes: [UInt8]) throws {
        if buffer.isEmpty && bytes.count >= 1 << 20 {
            try writeAll(bytes)
            self.bytes += Int64(bytes.count)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func writeAll(_ data: [UInt8]) throws {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, b.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ProbeError.system(.io, "write failed", errno: errno, source: name) }
            offset += n
        }
    }

    mutating func flush() throws {
        try writeAll(buffer)
        bytes += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// What the export's writer thread has written, and how it ended.
///
/// `@unchecked Sendable`: its state is read and written only under `condition`.
final class WrittenBytes: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0
    private var done = false
    private var failure: (any Error)?

    var bytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    func add(_ n: Int) {
        condition.lock()
        count += n
        condition.unlock()
    }

    func finish(_ error: (any Error)?) {
        condition.lock()
        done = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the writer to end; its error, if it failed.
    func waitUntilFinished() -> (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        while !done { condition.wait() }
        return failure
    }
}
