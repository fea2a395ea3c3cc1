import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PathTSDB

/// POSTs the notification as JSON, with `Idempotency-Key: smoketrace-ID` so that a receiver
/// that got an attempt whose answer was lost can tell the retry from a new notification.
struct WebhookReceiver: AlertReceiver {
    let config: ReceiverConfig

    func deliver(_ notification: QueuedNotification) async throws(AlertingError) {
        guard case .webhook(let url, let headers) = config.kind else { return }
        var extra = headers
        extra["Idempotency-Key"] = "smoketrace-\(notification.id)"
        try await HTTPPost.send(notification.payload, to: url, headers: extra, timeoutMicros: config.timeoutMicros, receiver: config.name)
    }
}

/// Sends alerts to Prometheus Alertmanager's v2 API (`POST /api/v2/alerts`), so that operators
/// keep their routing, grouping, inhibition and silences there. A resolved alert is sent with
/// its `endsAt`.
struct AlertmanagerReceiver: AlertReceiver {
    let config: ReceiverConfig

    struct PostableAlert: Encodable {
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: String
        var endsAt: String?
        var generatorURL: String?
    }

    func deliver(_ notification: QueuedNotification) async throws(AlertingError) {
        guard case .alertmanager(let base) = config.kind else { return }
        let payload = try NotificationPayload.decode(notification.payload)
        let alerts = payload.alerts.map { a in
            var annotations = a.annotations
            if let e = a.evidence, let diff = e.diff {
                annotations["path_diff"] = diff.filter { $0.change != "same" }.map { "TTL \($0.ttl): \($0.old) -> \($0.new)" }.joined(separator: "; ")
            }
            if let first = a.evidence?.firstHop { annotations["first_hop"] = String(first) }
            return PostableAlert(labels: a.labels, annotations: annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: nil)
        }
        let body: String
        do {
            body = String(decoding: try JSONEncoder().encode(alerts), as: UTF8.self)
        } catch {
            throw AlertingError(.delivery, "receiver \(config.name): cannot encode the alerts: \(error)")
        }
        let url = base.hasSuffix("/") ? base + "api/v2/alerts" : base + "/api/v2/alerts"
        try await HTTPPost.send(body, to: url, headers: [:], timeoutMicros: config.timeoutMicros, receiver: config.name)
    }
}

/// One JSON POST through the process's shared HTTP client; anything but a 2xx answer is a failure.
enum HTTPPost {
    static func send(_ body: String, to url: String, headers: [String: String], timeoutMicros: Int64, receiver: String) async throws(AlertingError) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "SmokeTrace")
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .microseconds(timeoutMicros))
        } catch {
            throw AlertingError(.delivery, "receiver \(receiver): POST \(url) failed: \(error)")
        }
        let answer = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
        guard (200..<300).contains(response.status.code) else {
            throw AlertingError(.delivery, "receiver \(receiver): POST \(url) answered \(response.status.code): \(answer.prefix(200))")
        }
    }
}
