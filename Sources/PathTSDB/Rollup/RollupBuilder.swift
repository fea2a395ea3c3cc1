/// Computes rollup rows from runs.
/// One TTL's running totals for the bucket being built.
private struct RollupAccumulator {
    var sent: UInt32 = 0, lost: UInt32 = 0, minV = UInt32.max, maxV: UInt32 = 0, sum: UInt64 = 0
    var values: [UInt32] = []
}

enum RollupBuilder {
    /// Rows for every (tier, ttl, bucket) that `runs` touch. The runs must all be of `target` and
    /// in start-time order, which lets each tier keep one accumulator per TTL and emit a bucket
    /// as soon as the next one starts.
    static func rows(target: TargetID, runs: some Collection<RunRecord>, probes: [ProbeRecord], tiers: [RollupTier]) -> [RollupRow] {
        var rows = [RollupRow]()
        var accs = [RollupAccumulator](repeating: RollupAccumulator(), count: 256)
        for tier in tiers {
            var bucket: Int64?
            var used = [Int]()
            func flush() {
                guard let b = bucket else { return }
                for ttl in used.sorted() {
                    let a = accs[ttl]
                    rows.append(RollupRow(
                        target: target, tier: tier, ttl: UInt8(ttl), bucketMicros: b, sent: a.sent, lost: a.lost,
                        minMicros: a.values.isEmpty ? 0 : a.minV, maxMicros: a.maxV, sumMicros: a.sum,
                        sketch: QuantileSketch(values: a.values)))
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
                    accs[t].sent += 1
                    if p.isLoss {
                        accs[t].lost += 1
                    } else {
                        let v = p.rttMicros
                        if v < accs[t].minV { accs[t].minV = v }
                        if v > accs[t].maxV { accs[t].maxV = v }
                        accs[t].sum += UInt64(v)
                        accs[t].values.append(v)
                    }
                }
            }
            flush()
        }
        return rows.sorted { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
    }
}

/// The binary form of one target's rollup rows (FORMAT.md, "Rollup block").
enum RollupCodec {
    static func encode(_ rows: [RollupRow], into out: inout [UInt8]) {
        out.appendVarint(rows.count)
        var prev: RollupRow?
        for r in rows {
            out.append(r.tier.rawValue)
            out.append(r.ttl)
            let sameSeries = prev.map { $0.tier == r.tier && $0.ttl == r.ttl } ?? false
            let lastBucket = sameSeries ? (prev?.bucketMicros ?? 0) : 0
            out.appendVarint(UInt64((r.bucketMicros - lastBucket) / r.tier.micros))
            out.appendVarint(r.sent)
            out.appendVarint(r.lost)
            guard r.answered > 0 else { prev = r; continue }
            out.appendVarint(r.minMicros)
            out.appendVarint(r.maxMicros - r.minMicros)
            out.appendVarint(r.sumMicros - UInt64(r.minMicros) * UInt64(r.answered))
            r.sketch.encode(into: &out, keyHint: r.minMicros == 0 ? 0 : QuantileSketch.key(of: r.minMicros))
            prev = r
        }
    }

    static func decode(_ c: inout ByteCursor, target: TargetID) throws(StorageError) -> [RollupRow] {
        let n = try c.readVarintInt(max: 1 << 24)
        var rows = [RollupRow]()
        rows.reserveCapacity(n)
        var prev: RollupRow?
        for _ in 0..<n {
            let tierRaw = try c.readByte()
            guard let tier = RollupTier(rawValue: tierRaw) else { throw c.corruption("unknown rollup tier \(tierRaw)") }
            let ttl = try c.readByte()
            let sameSeries = prev.map { $0.tier == tier && $0.ttl == ttl } ?? false
            let lastBucket = sameSeries ? (prev?.bucketMicros ?? 0) : 0
            let bucket = lastBucket + Int64(try c.readVarintInt(max: Int(Int64.max / tier.micros))) * tier.micros
            let sent = UInt32(try c.readVarintInt(max: Int(UInt32.max)))
            let lost = UInt32(try c.readVarintInt(max: Int(sent)))
            var row = RollupRow(target: target, tier: tier, ttl: ttl, bucketMicros: bucket, sent: sent, lost: lost,
                                minMicros: 0, maxMicros: 0, sumMicros: 0, sketch: QuantileSketch())
            if sent > lost {
                row.minMicros = UInt32(try c.readVarintInt(max: Int(UInt32.max)))
                row.maxMicros = row.minMicros &+ UInt32(try c.readVarintInt(max: Int(UInt32.max)))
                row.sumMicros = try c.readVarint() &+ UInt64(row.minMicros) * UInt64(sent - lost)
                row.sketch = try QuantileSketch.decode(&c, keyHint: row.minMicros == 0 ? 0 : QuantileSketch.key(of: row.minMicros))
                guard row.sketch.count == UInt64(sent - lost) else {
                    throw c.corruption("rollup sketch holds \(row.sketch.count) values, the row \(sent - lost)")
                }
            }
            rows.append(row)
            prev = row
        }
        return rows
    }
}
