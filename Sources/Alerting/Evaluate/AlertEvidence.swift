/// What an alert shows an operator: for a path change the old and new path hop by hop and
/// whether the new one is worse, for latency and loss the hop where it starts and every hop's
/// figures before and now. Sent with every notification and stored with every transition.
public struct AlertEvidence: Codable, Sendable, Equatable {
    public struct PathHop: Codable, Sendable, Equatable {
        public var ttl: Int
        /// Every address that answered at this TTL (branches of a load balancer joined by `|`), `*` for none.
        public var address: String
    }

    public struct DiffRow: Codable, Sendable, Equatable {
        public var ttl: Int
        public var old: String
        public var new: String
        /// same, changed, added, removed, silent (one side did not answer).
        public var change: String
    }

    /// One criterion of "is the new path worse?": the figure before and after, and the verdict
    /// (`worse`, `better`, `same`, or `unknown (…)` with the reason).
    public struct Criterion: Codable, Sendable, Equatable {
        public var before: Double?
        public var after: Double?
        public var verdict: String
    }

    /// One hop's figures over the baseline runs and the runs judged.
    public struct HopRow: Codable, Sendable, Equatable {
        public var ttl: Int
        public var address: String
        public var medianBeforeMillis: Double?
        public var medianNowMillis: Double?
        public var lossBeforePercent: Double?
        public var lossNowPercent: Double?

        enum CodingKeys: String, CodingKey {
            case ttl, address
            case medianBeforeMillis = "median_before_ms", medianNowMillis = "median_now_ms"
            case lossBeforePercent = "loss_before_percent", lossNowPercent = "loss_now_percent"
        }
    }

    public var kind: String
    public var oldPath: [PathHop]?
    public var newPath: [PathHop]?
    public var diff: [DiffRow]?
    public var oldFirstSeen: String?
    public var oldLastSeen: String?
    public var newFirstSeen: String?
    public var newLastSeen: String?
    /// By criterion: hop_count, median_rtt_ms, p95_rtt_ms, loss_percent, as_hops.
    public var verdict: [String: Criterion]?
    /// The first hop where a latency or loss rise appears (and stays to the destination).
    public var firstHop: Int?
    public var hops: [HopRow]?
    /// Runs counted on each side of the comparison.
    public var runsBefore: Int?
    public var runsNow: Int?
    /// Addresses never seen on this target before (new_address).
    public var newAddresses: [String]?

    public init(kind: String) { self.kind = kind }

    enum CodingKeys: String, CodingKey {
        case kind, diff, verdict, hops
        case oldPath = "old_path", newPath = "new_path"
        case oldFirstSeen = "old_first_seen", oldLastSeen = "old_last_seen"
        case newFirstSeen = "new_first_seen", newLastSeen = "new_last_seen"
        case firstHop = "first_hop", runsBefore = "runs_before", runsNow = "runs_now", newAddresses = "new_addresses"
    }
}
