/// The bucket sizes rollups are kept at.
public enum RollupTier: UInt8, Sendable, CaseIterable, Comparable {
    case fiveMinutes = 0
    case oneHour = 1
    case oneDay = 2

    public var seconds: Int64 {
        switch self {
        case .fiveMinutes: 300
        case .oneHour: 3600
        case .oneDay: 86400
        }
    }

    public var micros: Int64 { seconds * 1_000_000 }

    /// Tiers written with every segment. Five-minute rollups hold about as many bytes as the raw
    /// samples they summarise (15 per bucket at a one-minute interval), so they are written only
    /// when retention drops the raw data; until then raw data answers 5-minute questions exactly.
    static let storedWithSegments: [RollupTier] = [.oneHour, .oneDay]

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The bucket that contains `micros`, as its start in microseconds.
    public func bucketStart(ofMicros micros: Int64) -> Int64 {
        TimeArithmetic.floorMultiple(micros, of: self.micros)
    }
}

/// One rollup row: what the probes of one hop of one target did in one bucket.
public struct RollupRow: Hashable, Sendable {
    public var target: TargetID
    public var tier: RollupTier
    /// The hop; 0 for the end-to-end row, which holds each run's destination probes
    /// (`EndToEnd`; segments of version 4 on).
    public var ttl: UInt8
    /// Bucket start, microseconds since the epoch.
    public var bucketMicros: Int64
    /// Probes sent.
    public var sent: UInt32
    /// Probes that got no reply.
    public var lost: UInt32
    public var minMicros: UInt32
    public var maxMicros: UInt32
    public var sumMicros: UInt64
    public var sketch: QuantileSketch
    /// Replies without a time (a report's: `ProbeReply.untimed`); the RTT figures are of the
    /// others.
    public var untimed: UInt32 = 0

    public var answered: UInt32 { sent - lost }
    /// Replies with a time: what the extremes, the sum and the sketch hold.
    public var timed: UInt32 { answered - untimed }
    public var meanMicros: Double? { timed == 0 ? nil : Double(sumMicros) / Double(timed) }

    /// Adds another partial row of the same (target, tier, ttl, bucket).
    public mutating func merge(_ o: RollupRow) {
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
