/// Where notifications go: a receiver of the rules file.
package struct ReceiverConfig: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A JSON POST to `url` (the schema is `WebhookNotification` in openapi.yaml), retried with
        /// backoff, with an `Idempotency-Key` header per notification.
        case webhook(url: String, headers: [String: String])
        /// Prometheus Alertmanager's v2 API at `url` (`POST /api/v2/alerts`).
        case alertmanager(url: String)
        /// A program started with these arguments (never through a shell), the notification as
        /// JSON on its standard input; exit status 0 is delivered.
        case program(command: [String])
        /// Mail through the local sendmail interface (`sendmail -t -i`).
        case email(to: [String], from: String, sendmail: String)
        /// A syslog datagram (RFC 5424) to a local socket, `/dev/log` by default.
        case syslog(socket: String, facility: Int)
    }

    package var name: String
    package var kind: Kind
    /// Longest a single delivery attempt may take.
    package var timeoutMicros: Int64
    /// A notification not delivered by then is dropped, and counted and logged as expired.
    package var expireAfterMicros: Int64

    package init(name: String, kind: Kind, timeoutMicros: Int64 = 10_000_000, expireAfterMicros: Int64 = 86_400_000_000) {
        self.name = name
        self.kind = kind
        self.timeoutMicros = timeoutMicros
        self.expireAfterMicros = expireAfterMicros
    }
}

/// Which alerts a receiver gets: label matchers, grouping, and how often a still-firing group
/// is sent again.
package struct AlertRoute: Sendable, Equatable {
    package var receiver: String
    /// Label values that must all match exactly (`severity`, `rule`, `target` and the rule's labels).
    package var match: [String: String]
    /// Alerts with the same values of these labels go out in one notification.
    package var groupBy: [String]
    /// A group still firing is sent again after this long.
    package var repeatIntervalMicros: Int64
    /// Whether the routes after this one are tried too once it matched.
    package var continueMatching: Bool

    package init(receiver: String, match: [String: String] = [:], groupBy: [String] = ["rule", "target"],
                repeatIntervalMicros: Int64 = 4 * 3_600_000_000, continueMatching: Bool = false) {
        self.receiver = receiver
        self.match = match
        self.groupBy = groupBy
        self.repeatIntervalMicros = repeatIntervalMicros
        self.continueMatching = continueMatching
    }

    package func matches(_ labels: [String: String]) -> Bool {
        match.allSatisfy { labels[$0.key] == $0.value }
    }
}
