import HTTPTypes
import PathTSDB
import Probe

struct TargetView: Encodable {
    var name: String
    var address: String
    var tool: String
    var method: String
    var intervalSeconds: Double
    var probes: Int
    var firstTTL: Int
    var maxTTL: Int
    var tags: [String]
    var hopMetrics: Bool

    enum CodingKeys: String, CodingKey {
        case name, address, tool, method, probes, tags
        case intervalSeconds = "interval_s", firstTTL = "first_ttl", maxTTL = "max_ttl", hopMetrics = "hop_metrics"
    }

    init(_ t: ScheduledTarget) {
        name = t.name
        address = t.address.text
        tool = t.tool.rawValue
        method = t.settings.method.description
        intervalSeconds = Double(t.intervalMicros) / 1e6
        probes = t.settings.probesPerHop
        firstTTL = t.settings.firstTTL
        maxTTL = t.settings.maxTTL
        tags = t.tags
        hopMetrics = t.hopMetrics
    }

    init(_ t: ScheduledTarget?) throws {
        guard let t else { throw APIError(.internalServerError, "the target was written but is not in the reloaded file") }
        self.init(t)
    }
}

struct MonitorView: Encodable {
    var started, stored, failed, missed: Int
}

struct HealthView: Encodable {
    var status: String
    var version: String
    var targets: Int
    var storedTargets: Int
    var segments: Int
    var newestRun: String?
    var monitor: MonitorView?

    enum CodingKeys: String, CodingKey {
        case status, version, targets, segments, monitor
        case storedTargets = "stored_targets", newestRun = "newest_run"
    }
}
