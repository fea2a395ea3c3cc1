/// One record of the alert log (`alerts.pta`, FORMAT.md "Alert log"): an alert's state change,
/// a notification put in the outbox, the outcome of delivering it, a silence, an acknowledgement.
/// Replayed in order, the records give the alerts, the outbox and the silences as they were.
package enum AlertRecord: Sendable, Equatable {
    case transition(AlertTransition)
    case notification(QueuedNotification)
    case delivery(DeliveryOutcome)
    case silence(SilenceRecord)
    case acknowledgement(Acknowledgement)
}

/// An alert entering a state.
package struct AlertTransition: Sendable, Equatable {
    package enum State: UInt8, Sendable, Equatable, CaseIterable, CustomStringConvertible {
        /// The condition holds, not yet long enough to fire.
        case pending = 0
        /// Firing: notified.
        case firing = 1
        /// Resolved: the condition no longer holds (notified when it had fired).
        case resolved = 2
        /// A path change that went back before it lasted the runs its rule asks: recorded, not sent.
        case blip = 3
        /// A pending alert whose condition stopped holding before it fired.
        case cancelled = 4

        package var description: String {
            switch self {
            case .pending: "pending"
            case .firing: "firing"
            case .resolved: "resolved"
            case .blip: "blip"
            case .cancelled: "cancelled"
            }
        }
    }

    /// The alert's id, the same in each of its transitions.
    package var alertID: UInt64
    package var timeMicros: Int64
    package var state: State
    package var rule: String
    package var target: String
    /// The hop the alert is about, 0 for the target as a whole.
    package var hop: UInt8
    package var severity: String
    /// The figure that crossed the rule's bound, NaN where there is none.
    package var value: Double
    package var labels: [String: String]
    package var annotations: [String: String]
    /// The evidence as JSON text (the old and new path, the figures before and after).
    package var evidence: String

    package init(alertID: UInt64, timeMicros: Int64, state: State, rule: String, target: String, hop: UInt8 = 0,
                severity: String, value: Double = .nan, labels: [String: String] = [:], annotations: [String: String] = [:],
                evidence: String = "") {
        self.alertID = alertID
        self.timeMicros = timeMicros
        self.state = state
        self.rule = rule
        self.target = target
        self.hop = hop
        self.severity = severity
        self.value = value
        self.labels = labels
        self.annotations = annotations
        self.evidence = evidence
    }

    package static func == (a: AlertTransition, b: AlertTransition) -> Bool {
        a.alertID == b.alertID && a.timeMicros == b.timeMicros && a.state == b.state && a.rule == b.rule && a.target == b.target
            && a.hop == b.hop && a.severity == b.severity && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
            && a.labels == b.labels && a.annotations == b.annotations && a.evidence == b.evidence
    }
}

/// A notification put in the durable outbox for one receiver.
package struct QueuedNotification: Sendable, Equatable {
    /// Unique in the log; receivers see it as the idempotency key.
    package var id: UInt64
    package var timeMicros: Int64
    package var receiver: String
    /// Given up (and counted as expired) if not delivered by then.
    package var expiresMicros: Int64
    package var alertIDs: [UInt64]
    /// What is sent, as JSON text.
    package var payload: String

    package init(id: UInt64, timeMicros: Int64, receiver: String, expiresMicros: Int64, alertIDs: [UInt64], payload: String) {
        self.id = id
        self.timeMicros = timeMicros
        self.receiver = receiver
        self.expiresMicros = expiresMicros
        self.alertIDs = alertIDs
        self.payload = payload
    }
}

/// What became of one delivery attempt of a notification.
package struct DeliveryOutcome: Sendable, Equatable {
    package enum Result: UInt8, Sendable, Equatable {
        /// The receiver took it: the notification leaves the outbox.
        case delivered = 0
        /// This attempt failed; it is tried again.
        case failed = 1
        /// It was not delivered before it expired: it leaves the outbox undelivered.
        case expired = 2
    }

    package var notificationID: UInt64
    package var timeMicros: Int64
    package var result: Result
    package var attempt: UInt32
    /// Why it failed, in the receiver's words.
    package var detail: String

    package init(notificationID: UInt64, timeMicros: Int64, result: Result, attempt: UInt32, detail: String = "") {
        self.notificationID = notificationID
        self.timeMicros = timeMicros
        self.result = result
        self.attempt = attempt
        self.detail = detail
    }
}

/// A silence: alerts whose labels match every matcher are not notified between `starts` and
/// `ends`. A record with `removed` ends the silence of that id early.
package struct SilenceRecord: Sendable, Equatable {
    package var id: UInt64
    package var createdMicros: Int64
    package var startsMicros: Int64
    package var endsMicros: Int64
    /// Label name and the value it must have.
    package var matchers: [String: String]
    package var comment: String
    package var author: String
    package var removed: Bool

    package init(id: UInt64, createdMicros: Int64, startsMicros: Int64, endsMicros: Int64, matchers: [String: String],
                comment: String, author: String, removed: Bool = false) {
        self.id = id
        self.createdMicros = createdMicros
        self.startsMicros = startsMicros
        self.endsMicros = endsMicros
        self.matchers = matchers
        self.comment = comment
        self.author = author
        self.removed = removed
    }
}

/// An operator's acknowledgement of a firing alert: it is not sent again while it fires.
package struct Acknowledgement: Sendable, Equatable {
    package var alertID: UInt64
    package var timeMicros: Int64
    package var author: String
    package var comment: String

    package init(alertID: UInt64, timeMicros: Int64, author: String, comment: String) {
        self.alertID = alertID
        self.timeMicros = timeMicros
        self.author = author
        self.comment = comment
    }
}

// MARK: - Encoding (FORMAT.md, "Alert log")

extension AlertRecord {
    func encode(into out: inout [UInt8]) {
        func map(_ m: [String: String]) {
            out.appendVarint(m.count)
            for (k, v) in m.sorted(by: { $0.key < $1.key }) {
                out.appendString(k)
                out.appendString(v)
            }
        }
        switch self {
        case .transition(let t):
            out.append(1)
            out.appendLE(t.alertID)
            out.appendLE(t.timeMicros)
            out.append(t.state.rawValue)
            out.appendString(t.rule)
            out.appendString(t.target)
            out.append(t.hop)
            out.appendString(t.severity)
            out.appendLE(t.value.bitPattern)
            map(t.labels)
            map(t.annotations)
            out.appendString(t.evidence)
        case .notification(let n):
            out.append(2)
            out.appendLE(n.id)
            out.appendLE(n.timeMicros)
            out.appendString(n.receiver)
            out.appendLE(n.expiresMicros)
            out.appendVarint(n.alertIDs.count)
            for id in n.alertIDs { out.appendLE(id) }
            out.appendString(n.payload)
        case .delivery(let d):
            out.append(3)
            out.appendLE(d.notificationID)
            out.appendLE(d.timeMicros)
            out.append(d.result.rawValue)
            out.appendVarint(d.attempt)
            out.appendString(d.detail)
        case .silence(let s):
            out.append(4)
            out.appendLE(s.id)
            out.appendLE(s.createdMicros)
            out.appendLE(s.startsMicros)
            out.appendLE(s.endsMicros)
            map(s.matchers)
            out.appendString(s.comment)
            out.appendString(s.author)
            out.append(s.removed ? 1 : 0)
        case .acknowledgement(let a):
            out.append(5)
            out.appendLE(a.alertID)
            out.appendLE(a.timeMicros)
            out.appendString(a.author)
            out.appendString(a.comment)
        }
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> AlertRecord {
        func int64() throws(StorageError) -> Int64 { Int64(bitPattern: try c.readLE64()) }
        func map() throws(StorageError) -> [String: String] {
            let n = try c.readVarintInt(max: 10_000)
            var m = [String: String]()
            for _ in 0..<n {
                let k = try c.readString()
                m[k] = try c.readString()
            }
            return m
        }
        let kind = try c.readByte()
        let record: AlertRecord
        switch kind {
        case 1:
            let id = try c.readLE64(), time = try int64()
            let stateByte = try c.readByte()
            guard let state = AlertTransition.State(rawValue: stateByte) else { throw c.corruption("alert state \(stateByte) is not one of 0 to 4") }
            let rule = try c.readString(), target = try c.readString()
            let hop = try c.readByte()
            let severity = try c.readString()
            let value = Double(bitPattern: try c.readLE64())
            let labels = try map(), annotations = try map()
            record = .transition(AlertTransition(alertID: id, timeMicros: time, state: state, rule: rule, target: target, hop: hop,
                                                 severity: severity, value: value, labels: labels, annotations: annotations,
                                                 evidence: try c.readString()))
        case 2:
            let id = try c.readLE64(), time = try int64()
            let receiver = try c.readString()
            let expires = try int64()
            let n = try c.readVarintInt(max: 100_000)
            var ids = [UInt64]()
            for _ in 0..<n { ids.append(try c.readLE64()) }
            record = .notification(QueuedNotification(id: id, timeMicros: time, receiver: receiver, expiresMicros: expires,
                                                      alertIDs: ids, payload: try c.readString()))
        case 3:
            let id = try c.readLE64(), time = try int64()
            let resultByte = try c.readByte()
            guard let result = DeliveryOutcome.Result(rawValue: resultByte) else { throw c.corruption("delivery result \(resultByte) is not one of 0 to 2") }
            let attempt = UInt32(try c.readVarintInt())
            record = .delivery(DeliveryOutcome(notificationID: id, timeMicros: time, result: result, attempt: attempt, detail: try c.readString()))
        case 4:
            let id = try c.readLE64(), created = try int64(), starts = try int64(), ends = try int64()
            let matchers = try map()
            let comment = try c.readString(), author = try c.readString()
            let removed = try c.readByte()
            guard removed <= 1 else { throw c.corruption("silence removed flag \(removed) is not 0 or 1") }
            record = .silence(SilenceRecord(id: id, createdMicros: created, startsMicros: starts, endsMicros: ends, matchers: matchers,
                                            comment: comment, author: author, removed: removed == 1))
        case 5:
            let id = try c.readLE64(), time = try int64()
            let author = try c.readString()
            record = .acknowledgement(Acknowledgement(alertID: id, timeMicros: time, author: author, comment: try c.readString()))
        default:
            throw c.corruption("alert record kind \(kind) is not one of 1 to 5")
        }
        guard c.isAtEnd else { throw c.corruption("\(c.remaining) bytes past the end of an alert record") }
        return record
    }
}
