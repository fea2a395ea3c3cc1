import Dispatch
import Foundation
package import Logging
package import PathTSDB
import Query
import Synchronization

/// A target as the rules see it.
package struct AlertTarget: Sendable, Equatable {
    package var name: String
    package var tags: [String]
    /// How often it is traced: how far back a rule's runs reach.
    package var intervalMicros: Int64

    package init(name: String, tags: [String] = [], intervalMicros: Int64 = 60_000_000) {
        self.name = name
        self.tags = tags
        self.intervalMicros = intervalMicros
    }
}

/// Alerting over one store: evaluates the rules after each round of runs, keeps the alerts'
/// lifecycle, stores every transition in the store's alert log, and hands notifications to the
/// durable outbox, which delivers them.
package final class AlertEngine: Sendable {
    struct State {
        var rules: RulesFile
        var tracker: AlertTracker
        /// Per target: runs up to this start time have been evaluated.
        var watermark: [String: Int64] = [:]
        var dirty: Set<String> = []
        /// Per target: its runs stored since the last round, as the store's tables of them.
        var fresh: [String: [RunTable]] = [:]
        /// Targets with runs stored that `fresh` does not hold (ingested through the API, say):
        /// their new runs are read from the store.
        var unheld: Set<String> = []
        var silences: [UInt64: SilenceRecord] = [:]
        var nextSilenceID: UInt64 = 1
        var nextNotificationID: UInt64 = 1
        /// Per group key: when it was last sent, for the repeat interval.
        var lastSent: [String: Int64] = [:]
        var recent: [AlertTransition] = []
        /// Per target: the summaries of its latest runs, so a round reads and summarises only
        /// the runs that are new.
        var histories: [String: CachedHistory] = [:]
        var evaluations = 0
        /// Targets judged from the tables handed over, and from runs read back from the store.
        var judgedFromTables = 0
        var judgedFromStore = 0
        var lastEvaluationMicros: Int64 = 0
    }

    package let store: PathStore
    package let log: AlertLog
    package let outbox: Outbox
    private let logger: Logger
    private let state: Mutex<State>
    /// The newest transitions kept in memory for the API and the `alerts` kind of the
    /// language (all are in the log).
    package static let recentLimit = 100_000

    /// Opens the store's alert log and restores the alerts, silences and outbox it holds. Runs
    /// already in the store count as evaluated: a restart does not judge them again, so it
    /// neither re-raises nor re-sends what was raised and sent before it.
    package init(store: PathStore, rules: RulesFile, logger: Logger = Logger(label: "smoketrace.alerts")) throws(StorageError) {
        self.store = store
        self.logger = logger
        log = try store.openAlertLog()
        if let problem = log.tailProblem {
            logger.error("alert log tail was damaged and cut off", metadata: ["error": "\(problem)"])
        }
        let records = log.records
        outbox = Outbox(log: log, records: records, logger: logger)
        var s = State(rules: rules, tracker: AlertTracker(replaying: records))
        for r in records {
            switch r {
            case .transition(let t):
                s.recent.append(t)
            case .silence(let sil):
                s.nextSilenceID = max(s.nextSilenceID, sil.id + 1)
                s.silences[sil.id] = sil.removed ? nil : sil
            case .notification(let n):
                s.nextNotificationID = max(s.nextNotificationID, n.id + 1)
                if let p = try? NotificationPayload.decode(n.payload) { s.lastSent["\(n.receiver)|\(p.groupKey)"] = n.timeMicros }
            default:
                break
            }
        }
        if s.recent.count > Self.recentLimit { s.recent.removeFirst(s.recent.count - Self.recentLimit) }
        let snap = store.snapshot()
        let newest = snap.timeRange?.upperBound ?? 0
        for name in snap.catalog.targetNames { s.watermark[name] = newest }
        state = Mutex(s)
        outbox.setReceivers(rules.receivers.map { $0.makeReceiver() })
    }

    // MARK: - Rules

    package var rules: RulesFile { state.withLock { $0.rules } }

    /// Puts new rules in force. Alerts of rules that are gone resolve at the next evaluation.
    package func reload(_ rules: RulesFile) {
        state.withLock { $0.rules = rules }
        outbox.setReceivers(rules.receivers.map { $0.makeReceiver() })
    }

    // MARK: - Evaluation

    /// Notes that `targets` have new runs, to be judged at the next evaluation (read from the
    /// store).
    package func markDirty(_ targets: some Sequence<String>) {
        state.withLock { s in
            s.dirty.formUnion(targets)
            s.unheld.formUnion(targets)
        }
    }

    /// Notes a run of `target` just stored, with the table `PathStore.append` returned for it:
    /// the next evaluation judges it from that table, without reading it back.
    package func markStored(target: String, _ table: RunTable) {
        state.withLock { s in
            s.dirty.insert(target)
            s.fresh[target, default: []].append(table)
        }
    }

    /// Judges every new run of the targets marked dirty (every target of `targets` with
    /// `all`), in order, against every rule that selects it; then the query rules once. Stores
    /// the transitions and queues their notifications; returns the transitions.
    @discardableResult
    package func evaluate(targets: [AlertTarget], now: Int64 = WallClock.nowMicros(), all: Bool = false) -> [AlertTransition] {
        let (rules, dirty, fresh) = state.withLock { s -> (RulesFile, Set<String>, [String: [RunTable]]) in
            defer {
                s.dirty.removeAll()
                s.fresh.removeAll()
                s.unheld.removeAll()
            }
            // A target with runs the tables do not hold is read from the store, tables or not.
            return (s.rules, s.dirty, s.fresh.filter { !s.unheld.contains($0.key) })
        }
        let snap = store.snapshot()
        var transitions = [AlertTransition]()
        let byName = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let judged = all ? targets : dirty.sorted().map { byName[$0] ?? AlertTarget(name: $0) }
        let runRules = rules.rules.filter { if case .query = $0.condition { false } else { true } }
        let watermarks = state.withLock { $0.watermark }
        let plans = judged.compactMap { target -> TargetPlan? in
            let selecting = runRules.filter { $0.selection.matches(target: target.name, tags: target.tags) }
            guard !selecting.isEmpty, let id = snap.catalog.targetID(named: target.name) else { return nil }
            return TargetPlan(target: target, id: id, rules: selecting, watermark: watermarks[target.name] ?? Int64.min, now: now)
        }
        transitions += evaluate(plans, snapshot: snap, fresh: fresh, now: now)
        if !dirty.isEmpty || all {
            for rule in rules.rules { if case .query(let text) = rule.condition { transitions += evaluateQuery(rule, text: text, targets: byName, snapshot: snap, now: now) } }
        }
        // Alerts of rules that are gone, or that no longer select their target.
        let retired = state.withLock { s in
            s.tracker.retire(where: { key in
                guard let rule = rules.rules.first(where: { $0.name == key.rule }) else { return true }
                guard let t = byName[key.target] else { return false }
                return !rule.selection.matches(target: t.name, tags: t.tags)
            }, time: now)
        }
        transitions += retired
        record(transitions, rules: rules, now: now)
        return transitions
    }

    /// A target's latest run summaries and the end-to-end tracker after them.
    struct CachedHistory {
        var runs: [RunSummary]
        var tracker: EndToEnd
        /// The start of the newest run summarised.
        var newest: Int64
        /// Whether the runs before the window were read (the window is whole).
        var keep: Int
        /// How many of the newest runs hold their hops (older ones their end-to-end figures).
        var hopKeep: Int
    }

    /// What one target's rules need read: how many runs back, how long back for path changes,
    /// whether the week before.
    struct TargetPlan {
        var target: AlertTarget
        var id: TargetID
        var rules: [AlertRule]
        /// Runs up to here were judged; `Int64.min` for a target never judged.
        var watermark: Int64
        var needRuns = 2
        /// Runs before the newest whose hops some rule reads (RTT baselines, new addresses, hop
        /// loss); older cached runs keep their end-to-end figures only.
        var needHopRuns = 1
        var eventWindow: Int64 = 0
        var weekAgo = false
        /// Where the newest judged run stands: the watermark, or for a new target a day ago.
        var anchor: Int64

        init(target: AlertTarget, id: TargetID, rules: [AlertRule], watermark: Int64, now: Int64) {
            self.target = target
            self.id = id
            self.rules = rules
            self.watermark = watermark
            anchor = watermark == Int64.min ? now - 86_400_000_000 : watermark
            for r in rules {
                switch r.condition {
                case .hopCountGrew(_, let n): needRuns = max(needRuns, n + 1)
                case .newAddress(let n):
                    needRuns = max(needRuns, n + 1)
                    needHopRuns = max(needHopRuns, n + 1)
                case .rttIncrease(_, _, _, let b):
                    if case .previousRuns(let n) = b {
                        needRuns = max(needRuns, n + 1)
                        needHopRuns = max(needHopRuns, n + 1)
                    } else {
                        weekAgo = true
                    }
                case .loss(_, _, let n):
                    needRuns = max(needRuns, n)
                    needHopRuns = max(needHopRuns, n)
                case .pattern(let p): needRuns = max(needRuns, p.span)
                case .flapping(_, let w): eventWindow = max(eventWindow, w)
                case .pathChanged(_, _, let lasting, let accept):
                    // The runs since the change, and 20 before it, for the verdict.
                    needRuns = max(needRuns, lasting + 21)
                    eventWindow = max(eventWindow, accept)
                case .destinationUnreachable, .asPathChanged, .query: break
                }
            }
        }

        /// The runs to read: enough before the first unjudged run for every rule, and from 21
        /// runs before the oldest path change still in play.
        func range(events: [PathChangeEvent], now: Int64) -> Range<Int64> {
            var from = anchor - Int64(needRuns + 2) * target.intervalMicros - 60_000_000
            if let first = events.first { from = min(from, first.timeMicros - 21 * target.intervalMicros) }
            return from..<(now + 1)
        }
    }

    /// Judges the run rules of every planned target: the events and the runs of all of them
    /// read in one pass over the store, then each target's new runs in order.
    private func evaluate(_ plans: [TargetPlan], snapshot: StoreSnapshot, fresh: [String: [RunTable]], now: Int64) -> [AlertTransition] {
        guard !plans.isEmpty else { return [] }
        var eventsByTarget = [TargetID: [PathChangeEvent]]()
        if let widest = plans.map(\.eventWindow).max(), widest > 0, let oldest = plans.map(\.anchor).min() {
            let (events, problems) = snapshot.events(in: (oldest - widest)..<(now + 1))
            for p in problems { logger.error("path-change events not read for alert evaluation", metadata: ["error": "\(p)"]) }
            let wanted = Set(plans.filter { $0.eventWindow > 0 }.map(\.id))
            for e in events where wanted.contains(e.target) { eventsByTarget[e.target, default: []].append(e) }
        }
        for (i, plan) in plans.enumerated() where plan.eventWindow > 0 {
            // Each target's own window, from the wider one read for all.
            eventsByTarget[plan.id] = eventsByTarget[plan.id]?.filter { $0.timeMicros > plans[i].anchor - plan.eventWindow }
        }
        // A target whose history is cached (summaries up to its watermark, as many as its rules
        // need) reads only its new runs; the others read their whole window.
        // Taken out of the state for the round and put back after: the dictionary is then
        // uniquely held and updated in place, not copied whole for every round.
        var cached = state.withLock { s in
            defer { s.histories = [:] }
            return s.histories
        }
        // Whether each target's cache covers what its rules need, decided once for the round.
        let incremental = plans.map { plan -> Bool in
            guard let c = cached[plan.target.name], c.newest == plan.watermark, c.keep >= plan.needRuns + 2,
                  c.hopKeep >= plan.needHopRuns + 2 else { return false }
            return (eventsByTarget[plan.id]?.first).map({ $0.timeMicros >= (c.runs.first?.startMicros ?? .max) }) ?? true
        }
        // A cached target whose new runs all came with their tables (the monitor's) is judged
        // from them; the others read their new runs, or their whole window, from the store.
        // By index: a plan is read in place, not copied with its rules and tags.
        let handed = plans.indices.map { i -> [RunTable]? in
            guard incremental[i], let list = fresh[plans[i].target.name] else { return nil }
            let (id, watermark) = (plans[i].id, plans[i].watermark)
            let fits = list.allSatisfy { t in t.runs.allSatisfy { $0.target == id && $0.startMicros > watermark && $0.startMicros <= now } }
            return fits ? list : nil
        }
        var reads = [(target: TargetID, range: Range<Int64>)]()
        for (i, plan) in plans.enumerated() where handed[i] == nil {
            reads.append(incremental[i] ? (plan.id, (plan.watermark + 1)..<(now + 1))
                                        : (plan.id, plan.range(events: eventsByTarget[plan.id] ?? [], now: now)))
        }
        let (tables, problems) = snapshot.runs(of: reads)
        for p in problems { logger.error("runs not read for alert evaluation", metadata: ["error": "\(p)"]) }
        var weekTables = [TargetID: RunTable]()
        let week: Int64 = 7 * 86_400_000_000
        let weekly = plans.filter(\.weekAgo)
        if !weekly.isEmpty {
            weekTables = snapshot.runs(of: weekly.map { ($0.id, ($0.anchor - week - 3_600_000_000)..<(now - week + 3_600_000_000)) }).tables
        }
        var out = [AlertTransition]()
        var fromTables = 0, fromStore = 0
        for (i, plan) in plans.enumerated() {
            let handedOver = handed[i]
            let newTables = handedOver ?? tables[plan.id].map { [$0] } ?? []
            guard !newTables.isEmpty else { continue }
            if handedOver != nil { fromTables += 1 } else { fromStore += 1 }
            var runs: [RunSummary]
            var tracker: EndToEnd
            if incremental[i], var c = cached.removeValue(forKey: plan.target.name) {
                // Moved out of the cache, so that appending to them copies nothing.
                tracker = c.tracker
                runs = c.runs
                c.runs = []
                for table in newTables { runs += RunSummary.summaries(of: table, catalog: snapshot.catalog, tracker: &tracker) }
            } else {
                guard let table = tables[plan.id] else { continue }
                tracker = EndToEnd()
                runs = RunSummary.summaries(of: table, catalog: snapshot.catalog, tracker: &tracker)
            }
            var history = TargetHistory(target: plan.target.name, tags: plan.target.tags,
                                        runs: runs,
                                        events: eventsByTarget[plan.id] ?? [],
                                        weekAgo: weekTables[plan.id].map { RunSummary.summaries(of: $0, catalog: snapshot.catalog) } ?? [],
                                        catalog: snapshot.catalog)
            runs = []
            out += judge(history, rules: plan.rules, after: plan.watermark, now: now)
            // Taken back out of the history, so that trimming them moves them in place.
            swap(&runs, &history.runs)
            let keep = plan.needRuns + 2
            if let newest = runs.last?.startMicros {
                runs.removeFirst(max(0, runs.count - keep))
                // Hops only where a rule reads them: the runs a path change's verdict counts back
                // to need their end-to-end figures alone, and hold most of the cache otherwise.
                let hopKeep = plan.needHopRuns + 2
                for j in runs.indices.dropLast(hopKeep) where runs[j].holdsHops { runs[j].dropHops() }
                cached[plan.target.name] = CachedHistory(runs: runs, tracker: tracker, newest: newest, keep: keep, hopKeep: hopKeep)
            }
        }
        state.withLock { s in
            s.judgedFromTables += fromTables
            s.judgedFromStore += fromStore
            if s.histories.isEmpty { s.histories = cached } else { s.histories.merge(cached) { _, ours in ours } }
        }
        return out
    }

    /// Every run of `history` after `watermark`, in order, against every rule.
    private func judge(_ history: TargetHistory, rules: [AlertRule], after watermark: Int64, now: Int64) -> [AlertTransition] {
        var quick = ConditionEvaluator(history: history)
        quick.detailed = false
        let evaluator = ConditionEvaluator(history: history)
        let fresh = history.runs.indices.filter { history.runs[$0].startMicros > watermark }
        guard let newest = fresh.last.map({ history.runs[$0].startMicros }) else { return [] }
        var out = [AlertTransition]()
        state.withLock { s in
            for i in fresh {
                let time = history.runs[i].startMicros
                for rule in rules {
                    // Evidence and detail only where the tracker will use them: a finding that
                    // holds or is a blip, or an alert of this key that is pending or firing.
                    guard var finding = quick.evaluate(rule.condition, at: i) else { continue }
                    let key = AlertKey(rule: rule.name, target: history.target, hop: finding.hop)
                    if finding.holds || finding.blip || s.tracker.active[key] != nil {
                        guard let full = evaluator.evaluate(rule.condition, at: i) else { continue }
                        finding = full
                    }
                    let detail = finding.detail
                    out += s.tracker.observe(finding, key: key, rule: rule, time: time) { a in
                        AnnotationTemplate.render(rule.annotations, alert: a, detail: detail)
                    }
                }
            }
            s.watermark[history.target] = newest
            s.evaluations += 1
            s.lastEvaluationMicros = now
        }
        return out
    }

    private func evaluateQuery(_ rule: AlertRule, text: String, targets: [String: AlertTarget], snapshot: StoreSnapshot, now: Int64) -> [AlertTransition] {
        let tags = targets.isEmpty ? nil : targets.mapValues(\.tags)
        let table: ResultTable
        do {
            table = try QueryEngine.table(text, snapshot: snapshot, context: QueryContext(nowMicros: now, tags: tags, maxRows: 100_000, deadline: .now + .seconds(30)))
        } catch {
            logger.error("query rule failed; its alerts keep their state", metadata: ["rule": "\(rule.name)", "error": "\(error)"])
            return []
        }
        let targetColumn = table.columns.firstIndex(of: "target")
        let ttlColumn = table.columns.firstIndex(of: "ttl")
        var seen = Set<AlertKey>()
        var out = [AlertTransition]()
        state.withLock { s in
            for row in table.rows {
                var name = "all"
                if let c = targetColumn, case .text(let t) = row[c] { name = t }
                if let t = targets[name], !rule.selection.matches(target: name, tags: t.tags) { continue }
                var hop = 0
                if let c = ttlColumn, case .integer(let v) = row[c] { hop = Int(v) }
                let key = AlertKey(rule: rule.name, target: name, hop: hop)
                seen.insert(key)
                let detail = zip(table.columns, row).map { "\($0)=\(Self.text($1))" }.joined(separator: " ")
                let value = row.lazy.compactMap { v -> Double? in if case .number(let d) = v { d } else { nil } }.last ?? .nan
                out += s.tracker.observe(Finding(hop: hop, holds: true, value: value, detail: detail), key: key, rule: rule, time: now) { a in
                    AnnotationTemplate.render(rule.annotations, alert: a, detail: detail)
                }
            }
            for key in s.tracker.active.keys where key.rule == rule.name && !seen.contains(key) {
                out += s.tracker.observe(Finding(hop: key.hop, holds: false), key: key, rule: rule, time: now) { a in
                    AnnotationTemplate.render(rule.annotations, alert: a, detail: "")
                }
            }
        }
        return out
    }

    static func text(_ v: ResultValue) -> String {
        switch v {
        case .null: ""
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .text(let t): t
        case .time(let t): RFC3339.format(micros: t)
        }
    }

    // MARK: - Notifications

    /// Stores the transitions and queues notifications for the ones receivers hear of.
    private func record(_ transitions: [AlertTransition], rules: RulesFile, now: Int64) {
        let notifications = state.withLock { s -> [QueuedNotification] in
            s.recent += transitions
            if s.recent.count > Self.recentLimit { s.recent.removeFirst(s.recent.count - Self.recentLimit) }
            return plan(transitions, rules: rules, state: &s, now: now)
        }
        do {
            try log.append(transitions.map { .transition($0) })
            if !notifications.isEmpty { try outbox.enqueue(notifications) }
        } catch {
            logger.error("alert transitions not stored", metadata: ["error": "\(error)", "transitions": "\(transitions.count)"])
        }
    }

    /// Groups the firing and resolved transitions by route and group key, and adds the groups
    /// whose repeat interval has passed while they still fire.
    ///
    /// Notifications, silences and repeat intervals run on the wall clock, whatever time the
    /// runs being judged carry (imported runs may be old).
    private func plan(_ transitions: [AlertTransition], rules: RulesFile, state s: inout State, now _: Int64) -> [QueuedNotification] {
        let now = WallClock.nowMicros()
        var groups: [String: (receiver: ReceiverConfig, route: AlertRoute?, alerts: [NotificationPayload.Alert])] = [:]
        func routes(for labels: [String: String]) -> [(ReceiverConfig, AlertRoute?)] {
            if rules.routes.isEmpty { return rules.receivers.map { ($0, nil) } }
            var out = [(ReceiverConfig, AlertRoute?)]()
            for r in rules.routes where r.matches(labels) {
                if let rc = rules.receivers.first(where: { $0.name == r.receiver }) { out.append((rc, r)) }
                if !r.continueMatching { break }
            }
            return out
        }
        func add(_ alert: NotificationPayload.Alert, labels: [String: String]) {
            guard !silenced(labels, s.silences, now) else { return }
            for (receiver, route) in routes(for: labels) {
                groups[Self.groupKey(receiver, route, labels), default: (receiver, route, [])].alerts.append(alert)
            }
        }
        var included = Set<UInt64>()
        for t in transitions where t.state == .firing || t.state == .resolved {
            // A resolution is sent only for an alert whose firing was (an acknowledged one too).
            add(Self.payloadAlert(t, startsAt: s.recent.last { $0.alertID == t.alertID && $0.state == .firing }?.timeMicros ?? t.timeMicros),
                labels: t.labels)
            included.insert(t.alertID)
        }
        // Still firing, not acknowledged: sent again once the group's repeat interval has passed.
        for a in s.tracker.active.values where a.state == .firing && !a.acknowledged && !included.contains(a.id) {
            for (receiver, route) in routes(for: a.labels) where !silenced(a.labels, s.silences, now) {
                let key = Self.groupKey(receiver, route, a.labels)
                let every = route?.repeatIntervalMicros ?? 4 * 3_600_000_000
                if groups[key] != nil || now - (s.lastSent[key] ?? now) >= every {
                    let t = AlertTransition(alertID: a.id, timeMicros: a.firedMicros ?? a.sinceMicros, state: .firing, rule: a.key.rule,
                                            target: a.key.target, hop: UInt8(clamping: a.key.hop), severity: a.severity.rawValue, value: a.value,
                                            labels: a.labels, annotations: a.annotations, evidence: a.evidence)
                    groups[key, default: (receiver, route, [])].alerts.append(Self.payloadAlert(t, startsAt: t.timeMicros))
                }
            }
        }
        var out = [QueuedNotification]()
        for (key, g) in groups.sorted(by: { $0.key < $1.key }) {
            let id = s.nextNotificationID
            s.nextNotificationID += 1
            let groupKey = String(key.drop { $0 != "|" }.dropFirst())
            let payload = NotificationPayload(id: "smoketrace-\(id)", receiver: g.receiver.name,
                                              status: g.alerts.contains { $0.status == "firing" } ? "firing" : "resolved",
                                              groupKey: groupKey, alerts: g.alerts)
            out.append(QueuedNotification(id: id, timeMicros: now, receiver: g.receiver.name, expiresMicros: now + g.receiver.expireAfterMicros,
                                          alertIDs: g.alerts.map(\.id), payload: payload.json()))
            s.lastSent[key] = now
        }
        return out
    }

    /// The receiver, then the values of the route's `group_by` labels: alerts with the same key
    /// go out in one notification.
    static func groupKey(_ receiver: ReceiverConfig, _ route: AlertRoute?, _ labels: [String: String]) -> String {
        let by = route?.groupBy ?? ["rule", "target"]
        return receiver.name + "|" + by.map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",")
    }

    private func silenced(_ labels: [String: String], _ silences: [UInt64: SilenceRecord], _ now: Int64) -> Bool {
        silences.values.contains { s in s.startsMicros <= now && now < s.endsMicros && s.matchers.allSatisfy { labels[$0.key] == $0.value } }
    }

    static func payloadAlert(_ t: AlertTransition, startsAt: Int64) -> NotificationPayload.Alert {
        let evidence: AlertEvidence? = t.evidence.isEmpty ? nil : try? JSONDecoder().decode(AlertEvidence.self, from: Data(t.evidence.utf8))
        return NotificationPayload.Alert(id: t.alertID, status: t.state == .firing ? "firing" : "resolved", rule: t.rule, target: t.target,
                                         hop: t.hop == 0 ? nil : Int(t.hop), severity: t.severity, value: t.value.isNaN ? nil : t.value,
                                         labels: t.labels, annotations: t.annotations, startsAt: RFC3339.format(micros: startsAt),
                                         endsAt: t.state == .resolved ? RFC3339.format(micros: t.timeMicros) : nil, evidence: evidence)
    }

    // MARK: - Operators

    /// Alerts pending or firing now.
    package var activeAlerts: [ActiveAlert] {
        state.withLock { Array($0.tracker.active.values) }.sorted { $0.id < $1.id }
    }

    /// The newest transitions, oldest first.
    package func transitions(limit: Int = 1000) -> [AlertTransition] {
        state.withLock { Array($0.recent.suffix(limit)) }
    }

    package var silences: [SilenceRecord] {
        let now = WallClock.nowMicros()
        return state.withLock { Array($0.silences.values) }.filter { $0.endsMicros > now }.sorted { $0.id < $1.id }
    }

    /// Adds a silence; alerts whose labels match every matcher are not notified until it ends.
    package func silence(matchers: [String: String], startsMicros: Int64, endsMicros: Int64, comment: String, author: String) throws(AlertingError) -> SilenceRecord {
        guard !matchers.isEmpty else { throw AlertingError(.invalidRules, "a silence needs at least one matcher, such as target=core/gw") }
        guard endsMicros > startsMicros else { throw AlertingError(.invalidRules, "a silence must end after it starts") }
        let record = state.withLock { s -> SilenceRecord in
            defer { s.nextSilenceID += 1 }
            let r = SilenceRecord(id: s.nextSilenceID, createdMicros: WallClock.nowMicros(), startsMicros: startsMicros, endsMicros: endsMicros,
                                  matchers: matchers, comment: comment, author: author)
            s.silences[r.id] = r
            return r
        }
        do { try log.append([.silence(record)]) } catch { throw AlertingError(.io, "silence not stored: \(error)") }
        return record
    }

    /// Ends a silence early.
    package func removeSilence(_ id: UInt64) throws(AlertingError) {
        guard var r = state.withLock({ s in s.silences.removeValue(forKey: id) }) else {
            throw AlertingError(.notFound, "no silence \(id)")
        }
        r.removed = true
        do { try log.append([.silence(r)]) } catch { throw AlertingError(.io, "silence removal not stored: \(error)") }
    }

    /// Acknowledges a firing alert: it is not sent again while it fires; its resolution still is.
    package func acknowledge(alertID: UInt64, author: String, comment: String) throws(AlertingError) {
        guard state.withLock({ $0.tracker.acknowledge(alertID) }) else { throw AlertingError(.notFound, "no pending or firing alert \(alertID)") }
        do {
            try log.append([.acknowledgement(Acknowledgement(alertID: alertID, timeMicros: WallClock.nowMicros(), author: author, comment: comment))])
        } catch {
            throw AlertingError(.io, "acknowledgement not stored: \(error)")
        }
    }

    package var evaluationCount: Int { state.withLock { $0.evaluations } }

    /// Targets judged from the tables the monitor handed over, and from runs read back.
    var judgedFrom: (tables: Int, store: Int) { state.withLock { ($0.judgedFromTables, $0.judgedFromStore) } }

    // MARK: - Running

    /// Evaluates whenever targets are marked dirty (checked every `tick`), re-sends groups whose
    /// repeat interval passed, and delivers the outbox, until the task is cancelled.
    package func run(targets: @escaping @Sendable () -> [AlertTarget], tick: Duration = .milliseconds(200)) async {
        await withDiscardingTaskGroup { group in
            var lastRepeatCheck: Int64 = 0
            while !Task.isCancelled {
                let now = WallClock.nowMicros()
                let hasDirty = state.withLock { !$0.dirty.isEmpty }
                if hasDirty {
                    // Store reads and judging on a thread of their own: the cooperative pool
                    // (a thread per core) stays free for tracing and queries.
                    let list = targets()
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        DispatchQueue.global().async {
                            self.evaluate(targets: list, now: now)
                            done.resume()
                        }
                    }
                } else if now - lastRepeatCheck >= 10_000_000 {
                    // Nothing new: only repeats of groups still firing are due.
                    let rules = self.rules
                    record([], rules: rules, now: now)
                    lastRepeatCheck = now
                }
                // The time after judging: what this round queued is due now, not a tick later.
                outbox.deliverDue(now: WallClock.nowMicros(), in: &group)
                try? await Task.sleep(for: tick)
            }
        }
    }
}

