import ArgumentParser
import PathTSDB

/// `stserver verify`: reads back every chunk, rollup block and event block of a store (or of one
/// segment file, such as a quarantined one) and reports what fails, by target and offset, and
/// every file in quarantine (what it held and why it is there). Exits 65 when anything is.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum and decode every block of a store or of one segment file.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Verify this segment file (e.g. one in quarantine/) against the store's catalog.")
    var segment: String?

    func run() throws {
        try reportingErrors {
            let store = try store.openForReading()
            defer { try? store.close() }
            let snap = store.snapshot()
            let segments = try segment.map { [try Segment(path: $0, verifyBlocks: true)] } ?? (snap.segments + snap.rollupFiles)
            // Damage found on open (a segment that does not open, a WAL record lost): a reader
            // leaves it in place and reports it here.
            var failures = segment == nil ? store.recovery.problems.count : 0
            if segment == nil { for p in store.recovery.problems { print("\(p)") } }
            // A damaged block found on open is read again below: counted once.
            let reported = Set(segment == nil ? store.recovery.problems.map { "\($0)" } : [])
            // Files the writer took out of service earlier: their data is in no answer.
            let quarantined = segment == nil ? store.quarantinedFiles : []
            for q in quarantined { print("quarantined: \(q.summary)") }
            failures += quarantined.count
            var chunks = 0
            for seg in segments {
                for t in seg.targets {
                    chunks += 1
                    do {
                        _ = try seg.runs(of: t, catalog: snap.catalog)
                        _ = try seg.rollups(of: t)
                    } catch where !reported.contains("\(error)") {
                        failures += 1
                        print("\(seg.path): target \(snap.catalog.name(of: t) ?? "#\(t.rawValue)"): \(error)")
                    } catch {
                        print("\(seg.path): target \(snap.catalog.name(of: t) ?? "#\(t.rawValue)"): the damage above")
                    }
                }
                do { _ = try seg.events() } catch where !reported.contains("\(error)") {
                    failures += 1
                    print("\(seg.path): events: \(error)")
                } catch {
                    print("\(seg.path): events: the damage above")
                }
            }
            print("verified \(segments.count) files, \(chunks) target chunks: \(failures) failures")
            if failures > 0 { throw ExitCode(ExitStatus.dataError) }
        }
    }
}
