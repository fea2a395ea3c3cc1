import ArgumentParser
import PathTSDB
import Query

/// `stserver info`: what a data directory holds and how many bytes it takes.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a store: segments, sizes, bytes per sample.")

    @OptionGroup var store: DataOptions

    @Flag(name: .long, help: "List the target names, one per line, and nothing else.")
    var targets = false

    @Flag(name: .long, help: "Show where the segment bytes go, section by section.")
    var breakdown = false

    func run() throws {
        try reportingErrors {
            let store = try store.openForReading()
            let snap = store.snapshot()
            if targets {
                for (_, name) in snap.catalog.targets { print(name) }
                try store.close()
                return
            }
            let stats = try store.diskUsage()
            // A reader repairs nothing: this is damage the writer will cut off or quarantine.
            for p in store.recovery.problems { print("damaged: \(p)") }
            for q in store.quarantinedFiles { print("quarantined: \(q.summary)") }
            print("targets:      \(snap.catalog.targetNames.count)")
            print("paths:        \(snap.catalog.paths.count)")
            print("addresses:    \(snap.catalog.addresses.count)")
            print("segments:     \(snap.segments.count) (\(snap.rollupFiles.count) rollup-only files)")
            print("runs:         \(Format.grouped(stats.runs))")
            print("probes:       \(Format.grouped(stats.probes))")
            print("RTT samples:  \(Format.grouped(stats.samples))")
            if let r = snap.timeRange { print("time range:   \(RFC3339.format(micros: r.lowerBound)) … \(RFC3339.format(micros: r.upperBound))") }
            print("bytes:        \(Format.grouped(Int(stats.totalBytes))) (segments \(Format.grouped(Int(stats.segmentBytes))), catalog \(Format.grouped(Int(stats.catalogBytes))), wal \(Format.grouped(Int(stats.walBytes))), rollups \(Format.grouped(Int(stats.rollupBytes))))")
            if stats.samples > 0 {
                print("bytes/sample: \(Format.fixed(Double(stats.totalBytes) / Double(stats.samples), 3))")
            }
            if breakdown {
                var b = SegmentBreakdown()
                for s in snap.segments + snap.rollupFiles { try b.add(s) }
                let n = Double(max(stats.samples, 1))
                func line(_ name: String, _ bytes: Int) {
                    let pad = String(repeating: " ", count: max(0, 22 - name.count))
                    print("  \(name)\(pad)\(Format.grouped(bytes).leftPadded(13))  \(Format.fixed(Double(bytes) / n, 4)) B/sample")
                }
                print("segment bytes by section:")
                line("rtt rANS stream", b.rttStreamBytes)
                line("rtt raw low bits", b.rttRawBitsBytes)
                line("rtt rANS tables", b.rttTableBytes)
                line("columns (zstd)", b.columnBytes)
                line("rollups", b.rollupBytes)
                line("events", b.eventBytes)
                line("index and framing", b.indexAndFramingBytes)
                print("column bytes before zstd:")
                for (name, bytes) in b.columnRawBytes.sorted(by: { $0.value > $1.value }) where bytes > 0 { line(name, bytes) }
            }
            try store.close()
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
