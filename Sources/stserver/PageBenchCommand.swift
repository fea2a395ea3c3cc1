import ArgumentParser
import Foundation
import PathTSDB
import WebUI

/// `stserver bench-pages` (hidden): how long the web pages take to make on the server, for
/// `Benchmarks/pages.sh`. Fills `--data` (when it holds no store yet) with a target traced every
/// minute for 30 days over 30 hops, and 10,000 targets traced every hour of the last day, then
/// times a 30-day target page and the 10,000-target overview, each from snapshot to bytes, as
/// HTML and as JSON. Prints one JSON object per line.
struct PageBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-pages", shouldDisplay: false)

    @Option(help: "Data directory: filled on the first run, reused after.")
    var data: String

    @Option(name: .customLong("repeat"), help: "Repetitions (the median is reported).")
    var repetitions: Int = 5

    @Option(help: "Targets of the overview.")
    var targets: Int = 10_000

    /// The newest run's minute: the pages' "now".
    static let endMicros: Int64 = 1_796_083_200_000_000  // 2026-12-01T00:00:00Z
    static let pageTarget = "bench/page"

    func run() throws {
        try reportingErrors {
            if !StoreLayout(directory: data).exists { try fill() }
            let store = try PathStore(readingOnly: data)
            defer { try? store.close() }
            let snap = store.snapshot()
            let renderer = try PageRenderer(version: "bench")
            let now = Self.endMicros + 60_000_000
            let range = try PageRange(range: "30d", from: nil, to: nil, nowMicros: now)
            let page = TargetPage(target: Self.pageTarget, range: range)
            let overview = TargetsPage(filter: nil, onlyChanged: false, sort: nil)
            try measure("target_page_30d_html") { renderer.render("target", try page.model(snapshot: snap, nowMicros: now)) }
            try measure("target_page_30d_json") { try PageJSON.encode(try page.data(snapshot: snap, nowMicros: now)) }
            try measure("overview_\(targets)_targets_html") { renderer.render("targets", try overview.model(snapshot: snap, nowMicros: now)) }
            try measure("overview_\(targets)_targets_json") { try PageJSON.encode(try overview.data(snapshot: snap, nowMicros: now)) }
        }
    }

    private func measure(_ name: String, _ make: () throws -> String) throws {
        var times = [Double]()
        var bytes = 0
        for i in 0...max(1, repetitions) {
            let clock = ContinuousClock()
            let t0 = clock.now
            bytes = try make().utf8.count
            if i > 0 { times.append(BenchCommand.seconds(clock.now - t0)) }  // the first warms caches
        }
        print(#"{"measure":"page","name":"\#(name)","bytes":\#(bytes),"median_ms":\#(BenchCommand.median(times) * 1000),"min_ms":\#((times.min() ?? 0) * 1000)}"#)
    }

    /// The page target: 43,200 runs (a minute apart) of 30 hops, three probes each, RTTs rising
    /// with the TTL and swinging with the time of day, 1 % loss, and the path changing at hop 12
    /// every five days. The overview's targets: 24 runs each (an hour apart) of 10 hops.
    private func fill() throws {
        var options = StoreOptions()
        options.walSync = .never
        let store = try PathStore(directory: data, options: options)
        // Spread without a generator: Knuth's multiplicative hash of the probe's coordinates.
        func scatter(_ a: Int, _ b: Int, _ c: Int) -> UInt32 { UInt32(truncatingIfNeeded: (a &* 31 &+ b &* 7 &+ c) &* 2_654_435_761) >> 8 }
        let minute: Int64 = 60_000_000
        let first = Self.endMicros - 30 * 1440 * minute
        var batch = [TraceRun]()
        for m in 0..<(30 * 1440) {
            let start = first + Int64(m) * minute
            let dayPhase = Double((m % 1440)) / 1440
            var probes = [ProbeReply]()
            let swing = UInt32(3000 * (1 + sin(dayPhase * 2 * Double.pi)))
            for ttl in 1...30 {
                let address: UInt32 = ttl == 12 && (m / 7200) % 2 == 1 ? 0x0A0C_0002 : 0x0A00_0000 | UInt32(ttl)
                for p in 0..<3 {
                    let lost = scatter(m, ttl, p) % 100 == 0
                    let rtt = UInt32(ttl * 900) + swing + scatter(p, m, ttl) % 800
                    probes.append(ProbeReply(ttl: UInt8(ttl), address: lost ? nil : IPAddress(v4: address), rttMicros: rtt, replyTTL: 64, icmpType: ttl == 30 ? 0 : 11))
                }
            }
            batch.append(TraceRun(target: Self.pageTarget, vantage: "bench", method: .udpParis, flowID: 1, startMicros: start,
                                  endMicros: start + 900_000, destination: IPAddress(v4: 0x0A00_001E), reached: true, probes: probes))
            if batch.count == 1000 {
                try store.append(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        let hour: Int64 = 3_600_000_000
        for h in 0..<24 {
            for t in 0..<targets {
                let start = Self.endMicros - Int64(23 - h) * hour + Int64(t % 3600) * 1_000_000
                var probes = [ProbeReply]()
                for ttl in 1...10 {
                    for p in 0..<3 {
                        probes.append(ProbeReply(ttl: UInt8(ttl), address: IPAddress(v4: 0x0B00_0000 | UInt32(t % 256) << 8 | UInt32(ttl)),
                                                 rttMicros: UInt32(ttl * 1000) + scatter(t, h * 3 + p, ttl) % 500, replyTTL: 64, icmpType: ttl == 10 ? 0 : 11))
                    }
                }
                batch.append(TraceRun(target: "bench/g\(t / 100)/t\(t)", vantage: "bench", method: .udpParis, flowID: 1, startMicros: start,
                                      endMicros: start + 500_000, destination: IPAddress(v4: 0x0B00_000A | UInt32(t % 256) << 8), reached: true, probes: probes))
                if batch.count == 2000 {
                    try store.append(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { try store.append(batch) }
        try store.flush()
        try store.compact(includeOpenWindows: true)
        try store.close()
    }
}
