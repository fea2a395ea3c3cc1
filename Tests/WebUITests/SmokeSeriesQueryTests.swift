import Foundation
import Testing
import PathTSDB
import Query
@testable import WebUI

/// The smoke read from a store of known runs: one bucket per step and hop, the right medians,
/// spread and loss, from raw data and from rollups alike.
@Suite struct SmokeSeriesQueryTests {
    static let t0: Int64 = 1_796_000_000_000_000 - 1_796_000_000_000_000 % 3_600_000_000
    static let minute: Int64 = 60_000_000

    /// Two hours of one run a minute of "lab/gw": hop 1 answers at 1–1.9 ms, hop 2 at 5–5.9 ms,
    /// the destination (TTL 3) at 20–29 ms and loses one probe of ten in the second hour.
    static func runs() -> [TraceRun] {
        (0..<120).map { m in
            let start = t0 + Int64(m) * minute
            var probes = [ProbeReply]()
            for p in 0..<10 {
                probes.append(ProbeReply(ttl: 1, address: IPAddress(v4: 0x0A00_0001), rttMicros: UInt32(1000 + 100 * p), replyTTL: 64, icmpType: 11))
            }
            for p in 0..<10 {
                probes.append(ProbeReply(ttl: 2, address: IPAddress(v4: 0x0A00_0002), rttMicros: UInt32(5000 + 100 * p), replyTTL: 63, icmpType: 11))
            }
            for p in 0..<10 {
                let lost = m >= 60 && p == 9
                probes.append(ProbeReply(ttl: 3, address: lost ? nil : IPAddress(v4: 0xC633_6401), rttMicros: UInt32(20_000 + 1000 * p),
                                         replyTTL: 62, icmpType: 0))
            }
            return TraceRun(target: "lab/gw", vantage: "v", method: .icmpParis, flowID: 1, startMicros: start, endMicros: start + 1_000_000,
                            destination: IPAddress(v4: 0xC633_6401), reached: true, probes: probes)
        }
    }

    @Test func twoHoursInOneHundredAndTwentyColumnsAreOneBucketAMinute() throws {
        try withStore(Self.runs()) { store in try twoHours(store) }
    }

    func twoHours(_ store: PathStore) throws {
        let q = SmokeSeriesQuery(target: "lab/gw", fromMicros: Self.t0, toMicros: Self.t0 + 120 * Self.minute, columns: 120)
        #expect(q.stepSeconds == 60)
        let series = try q.run(snapshot: store.snapshot(), context: QueryContext(nowMicros: Self.t0 + 121 * Self.minute))
        #expect(Set(series.keys) == [1, 2, 3])
        let hop2 = try #require(series[2])
        #expect(hop2.count == 120 && hop2.allSatisfy { $0.sent == 10 && $0.lost == 0 })
        // Ten probes at 5.0 … 5.9 ms: median 5.4 (rank ⌈0.5·10⌉), deciles from 5.0 to 5.9.
        #expect(hop2.allSatisfy { abs(($0.medianMillis ?? 0) - 5.4) < 0.01 && $0.quantilesMillis.count == 10 })
        #expect(abs((hop2.first?.quantilesMillis.first ?? 0) - 5.0) < 0.01 && abs((hop2.first?.quantilesMillis.last ?? 0) - 5.9) < 0.01)
        // The destination (TTL 3) loses one of ten in the second hour.
        let d = try #require(series[3])
        #expect(d.prefix(60).allSatisfy { $0.lost == 0 } && d.suffix(60).allSatisfy { $0.lost == 1 && $0.sent == 10 })
        // In 24 columns, five-minute buckets, read from the 5-minute rollups: the quantile sketch
        // is within 1 % of the RTT, and the counts exact.
        let coarse = try SmokeSeriesQuery(target: "lab/gw", fromMicros: Self.t0, toMicros: Self.t0 + 120 * Self.minute, columns: 24)
            .run(snapshot: store.snapshot(), context: QueryContext(nowMicros: Self.t0 + 121 * Self.minute))
        let coarse2 = try #require(coarse[2])
        #expect(coarse2.count == 24 && coarse2.allSatisfy { $0.sent == 50 && abs(($0.medianMillis ?? 0) - 5.4) < 0.06 })
        #expect(coarse[3]?.suffix(12).allSatisfy { $0.lost == 5 } == true)
    }

    @Test func aMonthInSevenHundredAndTwentyColumnsIsOneBucketAnHour() throws {
        let q = SmokeSeriesQuery(target: "core/gw", fromMicros: Self.t0, toMicros: Self.t0 + 30 * 1440 * Self.minute, columns: 720)
        #expect(q.stepSeconds == 3600)
        let text = try q.text()
        #expect(text.hasPrefix("stats count, loss, p50, min, p10") && text.hasSuffix("step 3600s by time, ttl"))
        _ = try Parser.parse(text)
        #expect(throws: WebUIError.self) { try SmokeSeriesQuery(target: "a\"b", fromMicros: 0, toMicros: 1, columns: 1).text() }
    }
}
