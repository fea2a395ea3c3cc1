import Foundation
import PathTSDB

/// What a receiver is sent: a group of alerts with their state, labels, annotations and
/// evidence. Webhooks get it as it is (the `WebhookNotification` schema of openapi.yaml); the
/// program receiver on its standard input; Alertmanager, mail and syslog get it reshaped.
public struct NotificationPayload: Codable, Sendable, Equatable {
    public struct Alert: Codable, Sendable, Equatable {
        public var id: UInt64
        /// firing or resolved.
        public var status: String
        public var rule: String
        public var target: String
        public var hop: Int?
        public var severity: String
        public var value: Double?
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String?
        public var evidence: AlertEvidence?

        enum CodingKeys: String, CodingKey {
            case id, status, rule, target, hop, severity, value, labels, annotations, evidence
            case startsAt = "starts_at", endsAt = "ends_at"
        }
    }

    public var version = "1"
    /// The idempotency key: the same for every attempt at this notification.
    public var id: String
    public var receiver: String
    /// firing when any alert of the group fires, else resolved.
    public var status: String
    public var groupKey: String
    public var alerts: [Alert]

    enum CodingKeys: String, CodingKey {
        case version, id, receiver, status, alerts
        case groupKey = "group_key"
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decode(_ text: String) throws(AlertingError) -> NotificationPayload {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(NotificationPayload.self, from: Data(text.utf8))
        } catch {
            throw AlertingError(.delivery, "stored notification does not decode: \(error)")
        }
    }

    /// One line per alert, for mail subjects, syslog and logs.
    var summaryLines: [String] {
        alerts.map { a in
            let text = a.annotations["summary"] ?? "\(a.rule) on \(a.target)\(a.hop.map { " hop \($0)" } ?? "")"
            return "[\(a.status.uppercased())] \(a.severity): \(text)"
        }
    }
}
