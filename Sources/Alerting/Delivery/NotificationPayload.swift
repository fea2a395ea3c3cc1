import Foundation
import PathTSDB

/// What a receiver is sent: a group of alerts with their state, labels, annotations and
/// evidence. Webhooks get it as it is (the `WebhookNotification` schema of openapi.yaml); the
/// program receiver on its standard input; Alertmanager, mail and syslog get it reshaped.
package struct NotificationPayload: Codable, Sendable, Equatable {
    package struct Alert: Codable, Sendable, Equatable {
        package var id: UInt64
        /// firing or resolved.
        package var status: String
        package var rule: String
        package var target: String
        package var hop: Int?
        package var severity: String
        package var value: Double?
        package var labels: [String: String]
        package var annotations: [String: String]
        package var startsAt: String
        package var endsAt: String?
        package var evidence: AlertEvidence?

        enum CodingKeys: String, CodingKey {
            case id, status, rule, target, hop, severity, value, labels, annotations, evidence
            case startsAt = "starts_at", endsAt = "ends_at"
        }
    }

    package var version = "1"
    /// The idempotency key: the same for every attempt at this notification.
    package var id: String
    package var receiver: String
    /// firing when any alert of the group fires, else resolved.
    package var status: String
    package var groupKey: String
    package var alerts: [Alert]

    enum CodingKeys: String, CodingKey {
        case version, id, receiver, status, alerts
        case groupKey = "group_key"
    }

    package func json() -> String {
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
