/// Computes rollup rows from runs: per TTL, and (from segment version 4) per run's
/// destination probes under TTL 0, the end-to-end row (`EndToEnd`).
/// One TTL's running totals for the bucket being built.
private struct RollupAccumulator {
    var sent: UInt32 = 0, lost: UInt32 = 0, untimed: UInt32 = 0, minV = UInt32.max, maxV: UInt32 = 0, sum: UInt64 = 0
    var values: [UInt32] = []

    @inline(__always) mutating func add(answered: Bool, _ v: UInt32) {
        sent += 1
        guard answered else {
            lost += 1
            return
        }
        guard v != ProbeReply.untimed else {
            untimed += 1
            return
        }
        if v < minV { minV = v }
        if v > maxV { maxV = v }
        sum += UInt64(v)
        values.append(v)
    }
}

enum RollupBuilder {
    /// Rows for every (tier, ttl, bucket) that `runs` touch. The runs must all be of `target` and
    /// in start-time order, which lets each tier keep one accumulator per TTL and emit a bucket
    /// as soon as the next one starts.
    static func rows(target: TargetID, runs: some Collection<RunRecord>, probes: [ProbeRecord], tiers: [RollupTier]) -> [RollupRow] {
        // A coarser tier whose buckets are whole numbers of a finer one's is merged from the
        // finer rows rather than computed from the values again.
        let sortedTiers = tiers.sorted()
        guard let finest = sortedTiers.first else { return [] }
        var rows = valueRows(target: target, runs: runs, probes: probes, tier: finest)
        let base = rows
        for tier in sortedTiers.dropFirst() {
            // `base` is in (TTL, bucket) order, so each coarse bucket's rows are adjacent.
            var merged = [RollupRow]()
            for r in base {
                let bucket = tier.bucketStart(ofMicros: r.bucketMicros)
                if let last = merged.last, last.ttl == r.ttl, last.bucketMicros == bucket {
                    merged[merged.count - 1].merge(r)
                } else {
                    var m = r
                    m.tier = tier
                    m.bucketMicros = bucket
                    merged.append(m)
                }
            }
            rows += merged
        }
        return rows.sorted { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
    }

    /// Rows from several sources merged: rows of the same (tier, TTL, bucket) become one.
    static func merge(_ sources: [[RollupRow]]) -> [RollupRow] {
        var all = sources.flatMap { $0 }
        all.sort { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
        var out = [RollupRow]()
        out.reserveCapacity(all.count)
        for r in all {
            if let last = out.last, last.tier == r.tier, last.ttl == r.ttl, last.bucketMicros == r.bucketMicros {
                out[out.count - 1].merge(r)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Rows of one tier computed from the probes' values.
    static func valueRows(target: TargetID, runs: some Collection<RunRecord>, probes: [ProbeRecord], tier: RollupTier) -> [RollupRow] {
        var rows = [RollupRow]()
        var accs = [RollupAccumulator](repeating: RollupAccumulator(), count: 256)
        var ends = EndToEnd()
        do {
            var bucket: Int64?
            var used = [Int]()
            func flush() {
                guard let b = bucket else { return }
                for ttl in used.sorted() {
                    let a = accs[ttl]
                    rows.append(RollupRow(
                        target: target, tier: tier, ttl: UInt8(ttl), bucketMicros: b, sent: a.sent, lost: a.lost,
                        minMicros: a.values.isEmpty ? 0 : a.minV, maxMicros: a.maxV, sumMicros: a.sum,
                        sketch: QuantileSketch(values: a.values), untimed: a.untimed))
                    accs[ttl].values.removeAll(keepingCapacity: true)
                    accs[ttl] = RollupAccumulator(values: accs[ttl].values)
                }
                used.removeAll(keepingCapacity: true)
            }
            for run in runs {
                let b = tier.bucketStart(ofMicros: run.startMicros)
                if b != bucket {
                    flush()
                    bucket = b
                }
                for p in probes[run.probeRange] {
                    let t = Int(p.ttl)
                    if accs[t].sent == 0 { used.append(t) }
                    accs[t].add(answered: !p.isLoss, p.rttMicros)
                }
                // TTL 0: end to end, the run's destination probes (EndToEnd).
                ends.forEachProbe(destination: run.destination, probes: probes[run.probeRange], interrupted: run.interrupted) { reached, v in
                    if accs[0].sent == 0 { used.append(0) }
                    accs[0].add(answered: reached, v)
                }
            }
            flush()
        }
        return rows.sorted { ($0.ttl, $0.bucketMicros) < ($1.ttl, $1.bucketMicros) }
    }
}

/// The binary form of one target's rollup rows (FORMAT.md, "Rollup block"): column-wise, each
/// field in a stream of its own and coded against the previous bucket of the same hop, so that
/// the general-purpose compressor after it sees long runs of alike values.
enum RollupCodec {
    /// `a + b`, or a corruption error naming `what` at `c`'s position when it overflows.
    static func sum(_ a: Int64, _ b: Int64, _ c: ByteCursor, _ what: String) throws(StorageError) -> Int64 {
        let (s, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw c.corruption("\(what) out of range") }
        return s
    }

    /// Streams 0–9; version 5 adds stream 10, each row's untimed replies.
    static func streamCount(version: UInt16) -> Int { version >= SegmentFormat.reportVersion ? 11 : 10 }

    static func encode(_ rows: [RollupRow], into out: inout [UInt8]) {
        var st = [[UInt8]](repeating: [], count: streamCount(version: SegmentFormat.version))
        // 0 series: tier, ttl, row count · 1 bucket step − 1 · 2 sent (zigzag vs previous)
        // 3 lost · 4 min (zigzag vs previous) · 5 max − min · 6 sum − min·replies
        // 7 sketch: zero count, bin count · 8 sketch key gaps · 9 sketch counts − 1
        var sketchHeader = [UInt8](), sketchKeys = [UInt8](), sketchCounts = [UInt8]()
        var i = 0
        while i < rows.count {
            var j = i
            while j < rows.count && rows[j].tier == rows[i].tier && rows[j].ttl == rows[i].ttl { j += 1 }
            st[0].append(rows[i].tier.rawValue)
            st[0].append(rows[i].ttl)
            st[0].appendVarint(j - i)
            st[0].appendZigzag(rows[i].bucketMicros / rows[i].tier.micros)
            var prev: RollupRow?
            for r in rows[i..<j] {
                if let prev {
                    st[1].appendVarint(UInt64((r.bucketMicros - prev.bucketMicros) / r.tier.micros - 1))
                }
                st[2].appendZigzag(Int64(r.sent) - Int64(prev?.sent ?? 0))
                st[3].appendVarint(r.lost)
                st[10].appendVarint(r.untimed)
                if r.timed > 0 {
                    st[4].appendZigzag(Int64(r.minMicros) - Int64(prev?.minMicros ?? 0))
                    st[5].appendVarint(r.maxMicros - r.minMicros)
                    st[6].appendVarint(r.sumMicros - UInt64(r.minMicros) * UInt64(r.timed))
                    r.sketch.encode(header: &sketchHeader, keys: &sketchKeys, counts: &sketchCounts,
                                    keyHint: r.minMicros == 0 ? 0 : QuantileSketch.key(of: r.minMicros))
                }
                prev = r.timed > 0 ? r : RollupRow(target: r.target, tier: r.tier, ttl: r.ttl, bucketMicros: r.bucketMicros,
                                                      sent: r.sent, lost: r.lost, minMicros: prev?.minMicros ?? 0, maxMicros: 0,
                                                      sumMicros: 0, sketch: QuantileSketch())
            }
            i = j
        }
        st[7] = sketchHeader
        st[8] = sketchKeys
        st[9] = sketchCounts
        out.appendVarint(rows.count)
        for s in st {
            out.appendVarint(s.count)
            out.append(contentsOf: s)
        }
    }

    static func decode(_ c: inout ByteCursor, target: TargetID, version: UInt16) throws(StorageError) -> [RollupRow] {
        let n = try c.readVarintInt(max: 1 << 24)
        var st = [ByteCursor]()
        let streams = streamCount(version: version)
        for _ in 0..<streams {
            let len = try c.readVarintInt(max: c.remaining)
            let start = c.position
            try c.skip(len)
            st.append(ByteCursor(c.bytes, from: start, to: start + len, fileOffset: c.fileOffset))
        }
        var sketchHeader = st[7], sketchKeys = st[8], sketchCounts = st[9]
        var rows = [RollupRow]()
        rows.reserveCapacity(n)
        while rows.count < n {
            let tierRaw = try st[0].readByte()
            guard let tier = RollupTier(rawValue: tierRaw) else { throw st[0].corruption("unknown rollup tier \(tierRaw)") }
            let ttl = try st[0].readByte()
            let count = try st[0].readVarintInt(max: n - rows.count)
            guard count > 0 else { throw st[0].corruption("empty rollup series") }
            var bucketIndex = try st[0].readZigzag()
            var prevSent: Int64 = 0
            var prevMin: Int64 = 0
            for k in 0..<count {
                // Deltas from bytes that passed no checksum may carry a sum past Int64: each
                // addition is checked, as the multiplication below is.
                if k > 0 { bucketIndex = try RollupCodec.sum(bucketIndex, 1 + Int64(try st[1].readVarintInt(max: 1 << 40)), st[1], "rollup bucket") }
                let (bucket, overflow) = bucketIndex.multipliedReportingOverflow(by: tier.micros)
                guard !overflow else { throw st[1].corruption("rollup bucket out of range") }
                prevSent = try RollupCodec.sum(prevSent, try st[2].readZigzag(), st[2], "probe count")
                guard prevSent >= 0 && prevSent <= Int64(UInt32.max) else { throw st[2].corruption("probe count \(prevSent) out of range") }
                let sent = UInt32(prevSent)
                let lost = UInt32(try st[3].readVarintInt(max: Int(sent)))
                var row = RollupRow(target: target, tier: tier, ttl: ttl, bucketMicros: bucket, sent: sent, lost: lost,
                                    minMicros: 0, maxMicros: 0, sumMicros: 0, sketch: QuantileSketch())
                if streams > 10 { row.untimed = UInt32(try st[10].readVarintInt(max: Int(sent - lost))) }
                let timed = sent - lost - row.untimed
                if timed > 0 {
                    prevMin = try RollupCodec.sum(prevMin, try st[4].readZigzag(), st[4], "minimum")
                    guard prevMin >= 0 && prevMin <= Int64(UInt32.max) else { throw st[4].corruption("minimum \(prevMin) out of range") }
                    row.minMicros = UInt32(prevMin)
                    row.maxMicros = row.minMicros &+ UInt32(try st[5].readVarintInt(max: Int(UInt32.max)))
                    row.sumMicros = try st[6].readVarint() &+ UInt64(row.minMicros) * UInt64(timed)
                    row.sketch = try QuantileSketch.decode(counts: &sketchHeader, keys: &sketchKeys, binCounts: &sketchCounts,
                                                           keyHint: row.minMicros == 0 ? 0 : QuantileSketch.key(of: row.minMicros))
                    guard row.sketch.count == UInt64(timed) else {
                        throw sketchCounts.corruption("rollup sketch holds \(row.sketch.count) values, the row \(timed)")
                    }
                }
                rows.append(row)
            }
        }
        return rows
    }
}
