/// What an alert shows an operator: for a path change the old and new path hop by hop and
/// whether the new one is worse, for latency and loss the hop where it starts and every hop's
/// figures before and now. Sent with every notification and stored with every transition.
package struct AlertEvidence: Codable, Sendable, Equatable {
    package struct PathHop: Codable, Sendable, Equatable {
        package var ttl: Int
        /// Every address that answered at this TTL (branches of a load balancer joined by `|`), `*` for none.
        package var address: String
    }

    package struct DiffRow: Codable, Sendable, Equatable {
        package var ttl: Int
        package var old: String
        package var new: String
        /// same, changed, added, removed, silent (one side did not answer).
        package var change: String
    }

    /// One criterion of "is the new path worse?": the figure before and after, and the verdict
    /// (`worse`, `better`, `same`, or `unknown (…)` with the reason).
    package struct Criterion: Codable, Sendable, Equatable {
        package var before: Double?
        package var after: Double?
        package var verdict: String
    }

    /// One hop's figures over the baseline runs and the runs judged.
    package struct HopRow: Codable, Sendable, Equatable {
        package var ttl: Int
        package var address: String
        package var medianBeforeMillis: Double?
        package var medianNowMillis: Double?
        package var lossBeforePercent: Double?
        package var lossNowPercent: Double?

        enum CodingKeys: String, CodingKey {
            case ttl, address
            case medianBeforeMillis = "median_before_ms", medianNowMillis = "median_now_ms"
            case lossBeforePercent = "loss_before_percent", lossNowPercent = "loss_now_percent"
        }
    }

    package var kind: String
    package var oldPath: [PathHop]?
    package var newPath: [PathHop]?
    /// The paths' ids in the store's catalog, as `changes` and `paths` list them (for a diff).
    package var oldPathID: UInt32?
    package var newPathID: UInt32?
    package var diff: [DiffRow]?
    package var oldFirstSeen: String?
    package var oldLastSeen: String?
    package var newFirstSeen: String?
    package var newLastSeen: String?
    /// By criterion: hop_count, median_rtt_ms, p95_rtt_ms, loss_percent, as_hops.
    package var verdict: [String: Criterion]?
    /// The first hop where a latency or loss rise appears (and stays to the destination).
    package var firstHop: Int?
    package var hops: [HopRow]?
    /// Runs counted on each side of the comparison.
    package var runsBefore: Int?
    package var runsNow: Int?
    /// Addresses never seen on this target before (new_address).
    package var newAddresses: [String]?

    package init(kind: String) { self.kind = kind }

    enum CodingKeys: String, CodingKey {
        case kind, diff, verdict, hops
        case oldPath = "old_path", newPath = "new_path", oldPathID = "old_path_id", newPathID = "new_path_id"
        case oldFirstSeen = "old_first_seen", oldLastSeen = "old_last_seen"
        case newFirstSeen = "new_first_seen", newLastSeen = "new_last_seen"
        case firstHop = "first_hop", runsBefore = "runs_before", runsNow = "runs_now", newAddresses = "new_addresses"
    }
}
