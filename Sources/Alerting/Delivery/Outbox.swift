import Logging
package import PathTSDB
import Synchronization

/// The durable outbox: every notification is in the alert log before a delivery is tried, and
/// leaves the outbox only with a logged outcome (delivered or expired). After a restart the
/// log is replayed and what was not delivered is tried again; what was is not sent twice.
/// Each receiver has at most one attempt in flight, so a receiver that hangs or fails holds up
/// only its own notifications.
package final class Outbox: Sendable {
    /// Per receiver: delivered, failed attempts, expired, waiting.
    package struct Counts: Sendable, Equatable {
        package var delivered = 0
        package var failedAttempts = 0
        package var expired = 0
        package var waiting = 0
        package var lastError: String?
        package init() {}
    }

    struct Entry: Sendable {
        var notification: QueuedNotification
        var attempts: UInt32
        var nextAttemptMicros: Int64
    }

    struct State {
        var waiting: [UInt64: Entry] = [:]
        var inFlight: Set<String> = []
        var counts: [String: Counts] = [:]
        var receivers: [String: any AlertReceiver] = [:]
    }

    private let log: AlertLog
    private let logger: Logger
    private let state: Mutex<State>
    /// First retry after 1 s, doubling to at most this.
    static let maxBackoffMicros: Int64 = 300_000_000

    init(log: AlertLog, records: [AlertRecord], logger: Logger) {
        self.log = log
        self.logger = logger
        var s = State()
        for record in records {
            switch record {
            case .notification(let n):
                s.waiting[n.id] = Entry(notification: n, attempts: 0, nextAttemptMicros: n.timeMicros)
            case .delivery(let d):
                guard var e = s.waiting[d.notificationID] else { continue }
                switch d.result {
                case .failed:
                    e.attempts = d.attempt
                    e.nextAttemptMicros = d.timeMicros + Outbox.backoff(after: d.attempt)
                    s.waiting[d.notificationID] = e
                case .delivered, .expired:
                    s.waiting[d.notificationID] = nil
                }
            default:
                break
            }
        }
        state = Mutex(s)
    }

    func setReceivers(_ receivers: [any AlertReceiver]) {
        state.withLock { s in s.receivers = Dictionary(receivers.map { ($0.config.name, $0) }, uniquingKeysWith: { a, _ in a }) }
    }

    static func backoff(after attempt: UInt32) -> Int64 {
        min(1_000_000 << Int64(min(attempt, 20)) / 2, maxBackoffMicros)
    }

    /// Puts notifications in the log and the outbox.
    func enqueue(_ notifications: [QueuedNotification]) throws(StorageError) {
        try log.append(notifications.map { .notification($0) })
        state.withLock { s in
            for n in notifications { s.waiting[n.id] = Entry(notification: n, attempts: 0, nextAttemptMicros: n.timeMicros) }
        }
    }

    package var counts: [String: Counts] {
        state.withLock { s in
            var c = s.counts
            for e in s.waiting.values { c[e.notification.receiver, default: Counts()].waiting += 1 }
            return c
        }
    }

    /// The notifications not yet delivered, oldest first.
    package var waiting: [QueuedNotification] {
        state.withLock { $0.waiting.values.map(\.notification) }.sorted { $0.id < $1.id }
    }

    /// Starts every delivery that is due, one per receiver at most, in `group`.
    func deliverDue(now: Int64, in group: inout DiscardingTaskGroup) {
        let due: [(Entry, (any AlertReceiver)?)] = state.withLock { s in
            var picked = [(Entry, (any AlertReceiver)?)]()
            for e in s.waiting.values.sorted(by: { $0.notification.id < $1.notification.id })
            where e.nextAttemptMicros <= now && !s.inFlight.contains(e.notification.receiver) {
                s.inFlight.insert(e.notification.receiver)
                picked.append((e, s.receivers[e.notification.receiver]))
            }
            return picked
        }
        for (entry, receiver) in due {
            group.addTask { await self.attempt(entry, receiver: receiver) }
        }
    }

    private func attempt(_ entry: Entry, receiver: (any AlertReceiver)?) async {
        let n = entry.notification
        let attempt = entry.attempts + 1
        var outcome: DeliveryOutcome
        if WallClock.nowMicros() >= n.expiresMicros {
            outcome = DeliveryOutcome(notificationID: n.id, timeMicros: WallClock.nowMicros(), result: .expired, attempt: entry.attempts,
                                      detail: "not delivered in time")
        } else if let receiver {
            do {
                try await receiver.deliver(n)
                outcome = DeliveryOutcome(notificationID: n.id, timeMicros: WallClock.nowMicros(), result: .delivered, attempt: attempt)
            } catch {
                outcome = DeliveryOutcome(notificationID: n.id, timeMicros: WallClock.nowMicros(), result: .failed, attempt: attempt,
                                          detail: error.description)
            }
        } else {
            outcome = DeliveryOutcome(notificationID: n.id, timeMicros: WallClock.nowMicros(), result: .failed, attempt: attempt,
                                      detail: "receiver \(n.receiver) is not in the rules file")
        }
        do {
            try log.append([.delivery(outcome)])
        } catch {
            logger.error("delivery outcome not logged; the notification stays in the outbox", metadata: ["error": "\(error)"])
        }
        switch outcome.result {
        case .delivered: logger.info("notification delivered", metadata: ["receiver": "\(n.receiver)", "id": "\(n.id)", "attempt": "\(attempt)"])
        case .failed: logger.warning("notification not delivered; will retry", metadata: ["receiver": "\(n.receiver)", "id": "\(n.id)", "error": "\(outcome.detail)"])
        case .expired: logger.error("notification expired undelivered", metadata: ["receiver": "\(n.receiver)", "id": "\(n.id)"])
        }
        state.withLock { s in
            s.inFlight.remove(n.receiver)
            var c = s.counts[n.receiver, default: Counts()]
            switch outcome.result {
            case .delivered:
                c.delivered += 1
                s.waiting[n.id] = nil
            case .expired:
                c.expired += 1
                s.waiting[n.id] = nil
            case .failed:
                c.failedAttempts += 1
                c.lastError = outcome.detail
                s.waiting[n.id]?.attempts = attempt
                s.waiting[n.id]?.nextAttemptMicros = outcome.timeMicros + Outbox.backoff(after: attempt)
            }
            s.counts[n.receiver] = c
        }
    }
}
