/// The bucket sizes rollups are kept at.
package enum RollupTier: UInt8, Sendable, CaseIterable, Comparable {
    case fiveMinutes = 0
    case oneHour = 1
    case oneDay = 2

    package var seconds: Int64 {
        switch self {
        case .fiveMinutes: 300
        case .oneHour: 3600
        case .oneDay: 86400
        }
    }

    package var micros: Int64 { seconds * 1_000_000 }

    /// Tiers written with every segment. Five-minute rollups hold about as many bytes as the raw
    /// samples they summarise (15 per bucket at a one-minute interval), so they are written only
    /// when retention drops the raw data; until then raw data answers 5-minute questions exactly.
    static let storedWithSegments: [RollupTier] = [.oneHour, .oneDay]

    package static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The bucket that contains `micros`, as its start in microseconds.
    package func bucketStart(ofMicros micros: Int64) -> Int64 {
        TimeArithmetic.floorMultiple(micros, of: self.micros)
    }
}

/// One rollup row: what the probes of one hop of one target did in one bucket.
package struct RollupRow: Hashable, Sendable {
    package var target: TargetID
    package var tier: RollupTier
    /// The hop; 0 for the end-to-end row, which holds each run's destination probes
    /// (`EndToEnd`; segments of version 4 on).
    package var ttl: UInt8
    /// Bucket start, microseconds since the epoch.
    package var bucketMicros: Int64
    /// Probes sent.
    package var sent: UInt32
    /// Probes that got no reply.
    package var lost: UInt32
    package var minMicros: UInt32
    package var maxMicros: UInt32
    package var sumMicros: UInt64
    package var sketch: QuantileSketch
    /// Replies without a time (a report's: `ProbeReply.untimed`); the RTT figures are of the
    /// others.
    package var untimed: UInt32 = 0

    package var answered: UInt32 { sent - lost }
    /// Replies with a time: what the extremes, the sum and the sketch hold.
    package var timed: UInt32 { answered - untimed }
    package var meanMicros: Double? { timed == 0 ? nil : Double(sumMicros) / Double(timed) }

    /// Adds another partial row of the same (target, tier, ttl, bucket).
    package mutating func merge(_ o: RollupRow) {
        if o.timed > 0 {
            minMicros = timed == 0 ? o.minMicros : min(minMicros, o.minMicros)
            maxMicros = timed == 0 ? o.maxMicros : max(maxMicros, o.maxMicros)
        }
        sent += o.sent
        lost += o.lost
        untimed += o.untimed
        sumMicros += o.sumMicros
        sketch.merge(o.sketch)
    }
}
