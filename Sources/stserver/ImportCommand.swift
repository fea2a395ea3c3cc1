import ArgumentParser
import PathTSDB
import Probe
import Query

/// `stserver import`: loads traceroute results traced elsewhere into the store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load traceroute results into the store.",
        discussion: """
            atlas: RIPE Atlas traceroute results (one JSON object per line, or the Atlas API's JSON array). \
            scamper-json: scamper -O json output (any number of traces; also nested in another JSON document, as archives \
            such as M-Lab's wrap them; ping, tracelb and other measurements are counted, not read). \
            warts: scamper's binary output, -O warts (any number of traces; other measurements in it are counted, not read). \
            traceroute: the text of traceroute or tcptraceroute run with -n (one trace per file). \
            mtr-raw: mtr --raw output (one trace per file; needs --destination). \
            mtr-report: mtr --report or --report-wide text, run with -n or -b (one report per file; needs --destination). \
            mtr-json: mtr --json output, run with -n or -b (one report per file). \
            A report holds per-hop counts and figures, not probe times: its hops' sent and lost probes and the path are \
            stored, its replies without a time, and its Last/Avg/Best/Wrst/StDev beside them. Use - for standard input.
            """)

    enum InputFormat: String, ExpressibleByArgument, CaseIterable {
        case atlas
        case scamperJSON = "scamper-json"
        case warts
        case traceroute
        case mtrRaw = "mtr-raw"
        case mtrReport = "mtr-report"
        case mtrJSON = "mtr-json"
    }

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Input format: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: InputFormat = .atlas

    @Option(name: .long, help: "WAL fsync policy: always, never, or an interval such as 1s.")
    var sync: String = "never"

    @Flag(name: .long, help: "Compact the store when the import is done, the newest window included.")
    var compact = false

    @Option(name: .long, help: "traceroute, mtr-*, scamper-json, warts: the target name to store under (default: the destination address).")
    var target: String?

    @Option(name: .long, help: "mtr-raw, mtr-report, mtr-json: the address mtr traced (raw output and text reports do not say).")
    var destination: String?

    @Option(name: .long, help: "traceroute, mtr-raw, mtr-report, mtr-json: the method traced with (udp, icmp, tcp).")
    var method: String?

    @Option(name: .long, help: "traceroute, mtr-*, scamper-json, warts: the vantage point to store under.")
    var vantage: String = "import"

    @Option(name: .long, help: "traceroute, mtr-raw, mtr-report, mtr-json: when the trace ran (RFC 3339; default: an mtr text report's Start: line, else the file's modification time; now for standard input).")
    var time: String?

    @Argument(help: "Files to read (- for standard input).")
    var files: [String]

    /// The runs of one file in a tracer's own format.
    func tracerRuns(_ file: String, bytes: inout Int64) throws -> [TraceRun] {
        let raw = try readFileBytes(file)
        bytes += Int64(raw.count)
        let text = format == .warts ? "" : String(decoding: raw, as: UTF8.self)
        let explicitStart = try time.map { t -> Int64 in
            guard let v = RFC3339.parse(t) else { throw ValidationError("--time takes an RFC 3339 time") }
            return v
        }
        // A file's time is when the tracer finished writing it: the same file imported again
        // is then the same run, which the store keeps once.
        let start = explicitStart ?? modificationMicros(file) ?? WallClock.nowMicros()
        func run(_ output: TracerOutput, method: TraceMethod, flow: UInt16 = 0, start: Int64) throws -> TraceRun {
            guard let r = output.run(target: target ?? output.destination?.description ?? "", vantage: vantage, method: method,
                                     flowID: flow, startMicros: start, endMicros: start) else {
                throw ProbeError(.malformedInput, "the output does not name the destination", source: file)
            }
            return r
        }
        switch format {
        case .atlas:
            preconditionFailure("Atlas files are streamed")
        case .scamperJSON:
            var others = [String: Int]()
            let traces = try ScamperJSONParser(source: file).parse(text, otherMeasurements: &others)
            for (type, count) in others.sorted(by: { $0.key < $1.key }) {
                StandardError.write("stserver: \(file): \(count) \(type) objects (not traces) not read\n")
            }
            // A file with no trace is not an empty import: it is the wrong file, or scamper failed.
            guard !traces.isEmpty else {
                throw ProbeError(.malformedInput, "no trace in the file (scamper JSON holds objects of \"type\": \"trace\")", source: file)
            }
            return try traces.map {
                try run($0.output, method: $0.method, flow: $0.flowID, start: $0.startMicros > 0 ? $0.startMicros : start)
            }
        case .warts:
            let result = try ScamperWartsParser(source: file).parse(raw)
            for (type, count) in result.otherObjects.sorted(by: { $0.key < $1.key }) {
                StandardError.write("stserver: \(file): \(count) warts objects of type \(type) (not traces) not read\n")
            }
            if result.tracesWithUnreadSections > 0 {
                StandardError.write("stserver: \(file): \(result.tracesWithUnreadSections) traces have PMTU, last-ditch or doubletree sections, not read\n")
            }
            guard !result.traces.isEmpty else {
                throw ProbeError(.malformedInput, "no trace in the file (warts objects of type 6)", source: file)
            }
            return try result.traces.map {
                try run($0.output, method: $0.method, flow: $0.flowID, start: $0.startMicros > 0 ? $0.startMicros : start)
            }
        case .traceroute:
            let m = try methodOption(default: .udp)
            return [try run(TracerouteTextParser(method: m, destination: destination.flatMap(IPAddress.init), source: file).parse(text),
                            method: m, start: start)]
        case .mtrRaw:
            guard let d = destination.flatMap(IPAddress.init) else {
                throw ValidationError("mtr-raw needs --destination ADDRESS: mtr's raw output does not name it")
            }
            let m = try methodOption(default: .icmp)
            return [try run(MtrRawParser(destination: d, method: m, source: file).parse(text), method: m, start: start)]
        case .mtrReport, .mtrJSON:
            let report = format == .mtrReport ? try MtrReportParser(source: file).parse(text) : try MtrJSONParser(source: file).parse(text)
            guard let d = destination.flatMap(IPAddress.init) ?? report.destination else {
                throw ValidationError(format == .mtrReport
                    ? "mtr-report needs --destination ADDRESS: a text report names only the host mtr ran on"
                    : "mtr-json needs --destination ADDRESS: the report's \"dst\" is not an address")
            }
            let m = try methodOption(default: .icmp)
            return [try run(report.output(destination: d, method: m), method: m, start: explicitStart ?? report.startMicros ?? start)]
        }
    }

    func methodOption(default fallback: TraceMethod) throws -> TraceMethod {
        guard let method else { return fallback }
        guard let m = TraceMethod(name: method), [.udp, .icmp, .tcp].contains(m) else {
            throw ValidationError("--method takes udp, icmp or tcp for \(format.rawValue)")
        }
        return m
    }

    func run() throws {
        if format != .atlas && files.contains("-") && files.count > 1 { throw ValidationError("read standard input alone") }
        var options = StoreOptions()
        options.walSync = try SyncPolicyText.parse(sync)
        try reportingErrors {
            let store = try PathStore(directory: store.data, options: options)
            var progress = ProgressLine()
            var tally = ImportTally()
            var bytes: Int64 = 0
            let reader = AtlasStreamReader()
            for file in files where format != .atlas {
                try tally.store(try tracerRuns(file, bytes: &bytes), into: store)
            }
            for file in files where format == .atlas {
                let summary = try reader.readConcurrently(path: file) { batch in
                    try tally.store(batch, into: store)
                    let rate = Int(Double(tally.samples) / max(progress.elapsedSeconds, 0.001))
                    progress.update("\(file): \(Format.grouped(tally.results)) results, \(Format.grouped(tally.samples)) RTT samples, \(Format.grouped(rate)) samples/s")
                }
                bytes += summary.bytes
                guard summary.results > 0 else {
                    throw ProbeError(.malformedInput, "no traceroute result in the file", source: file)
                }
                if summary.lateReplies + summary.duplicateReplies + summary.hopErrors + summary.trailers > 0 {
                    StandardError.write("\(file): not stored as probes: \(summary.lateReplies) late replies, \(summary.duplicateReplies) duplicate replies, \(summary.hopErrors) hops reporting an error, \(summary.trailers) hop-255 trailers\n")
                }
                if !summary.failures.isEmpty {
                    // Failed traces are data: stored with their reason, shown by `missed`.
                    let recorded = try store.recordMissed(summary.failures)
                    tally.failed += recorded
                    tally.held += summary.failures.count - recorded
                    StandardError.write("\(file): \(summary.failures.count) results reported an error instead of hops, stored as failed (stserver query 'missed where reason = \"failed\"'); the first: \(summary.failures[0].target): \(summary.failures[0].detail)\n")
                }
            }
            try store.flush()
            if compact { _ = try store.compact(includeOpenWindows: true) }
            try store.close()
            progress.finish()
            let secs = progress.elapsedSeconds
            print(tally.line(bytes: bytes, seconds: secs))
        }
    }
}

/// What an import stored, and what it found stored already.
struct ImportTally {
    var results = 0, probes = 0, samples = 0, failed = 0, interrupted = 0, reports = 0
    /// Runs (and failed traces) the store held already: an import run again stores only what
    /// it had not stored before.
    var held = 0
    /// Stores `runs`, but those the store holds already, and counts them.
    mutating func store(_ runs: [TraceRun], into store: PathStore) throws {
        let result = try store.appendReporting(runs)
        held += result.duplicates.count
        for r in result.storedIndices(of: runs.count).map({ runs[$0] }) {
            results += 1
            probes += r.probes.count
            for p in r.probes where p.isTimed { samples += 1 }
            if r.interrupted { interrupted += 1 }
            if r.figures != nil { reports += 1 }
        }
    }

    /// The summary line: what was stored, then what was not.
    func line(bytes: Int64, seconds: Double) -> String {
        var kinds = [String]()
        if reports > 0 { kinds.append("\(Format.grouped(reports)) reports") }
        if interrupted > 0 { kinds.append("\(Format.grouped(interrupted)) interrupted") }
        var s = "imported \(Format.grouped(results)) results\(kinds.isEmpty ? "" : " (" + kinds.joined(separator: ", ") + ")")"
        if failed > 0 { s += " and \(Format.grouped(failed)) failed traces" }
        s += ": \(Format.grouped(probes)) probes, \(Format.grouped(samples)) RTT samples, \(Format.grouped(Int(bytes))) bytes in \(Format.fixed(seconds, 2)) s (\(Format.grouped(Int(Double(samples) / max(seconds, 0.001)))) samples/s)"
        if held > 0 { s += "; \(Format.grouped(held)) already stored, not stored again" }
        return s
    }
}

enum SyncPolicyText {
    static func parse(_ text: String) throws -> WALSyncPolicy {
        switch text {
        case "always": return .always
        case "never": return .never
        default:
            guard let us = DurationText.parseMicros(text) else {
                throw ValidationError("--sync takes always, never or a duration such as 1s, not \"\(text)\"")
            }
            return .interval(.microseconds(us))
        }
    }
}
