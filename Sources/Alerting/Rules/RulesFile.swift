import PathTSDB
import Query
package import Yams

/// The rules file (YAML): alert rules, the receivers that get notifications, and the routes
/// between them. docs/ALERTS.md describes every key. Reading is all or nothing: the first error
/// is reported with its line and column, and a running server keeps its old rules.
package struct RulesFile: Sendable, Equatable {
    package var rules: [AlertRule] = []
    package var receivers: [ReceiverConfig] = []
    package var routes: [AlertRoute] = []

    package init(rules: [AlertRule] = [], receivers: [ReceiverConfig] = [], routes: [AlertRoute] = []) {
        self.rules = rules
        self.receivers = receivers
        self.routes = routes
    }

    /// Reads a rules file's text; `source` names it in errors.
    package static func parse(_ text: String, source: String = "rules") throws(AlertingError) -> RulesFile {
        guard let root = try composeYAML(text, source: source) else { return RulesFile() }
        let top = try YAMLFields(root, source: source, what: "the rules file")
        try top.only(["rules", "receivers", "routes"])
        var file = RulesFile()
        for node in try top.list("rules") {
            let rule = try parseRule(node, source: source)
            guard !file.rules.contains(where: { $0.name == rule.name }) else {
                throw YAMLFields.error("rule '\(rule.name)' is defined twice", at: node, source: source)
            }
            file.rules.append(rule)
        }
        for node in try top.list("receivers") {
            let r = try parseReceiver(node, source: source)
            guard !file.receivers.contains(where: { $0.name == r.name }) else {
                throw YAMLFields.error("receiver '\(r.name)' is defined twice", at: node, source: source)
            }
            file.receivers.append(r)
        }
        for node in try top.list("routes") {
            let route = try parseRoute(node, source: source)
            guard file.receivers.contains(where: { $0.name == route.receiver }) else {
                throw YAMLFields.error("route to receiver '\(route.receiver)', which is not defined under receivers", at: node, source: source)
            }
            file.routes.append(route)
        }
        return file
    }

    static let ruleKeys = ["name", "targets", "groups", "tags", "when", "for", "resolve_after", "hold_down", "severity", "labels", "annotations"]

    /// Reads one rule (also the API's body for a new or changed rule).
    package static func parseRule(_ node: Node, source: String) throws(AlertingError) -> AlertRule {
        var f = try YAMLFields(node, source: source, what: "a rule")
        let name = try f.requiredString("name")
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }), name.count <= 128 else {
            throw f.error("rule name '\(name)': use letters, digits, - _ . / (at most 128)", at: f["name"])
        }
        f = try YAMLFields(node, source: source, what: "rule '\(name)'")
        try f.only(ruleKeys)
        guard let whenNode = f["when"] else { throw f.error("rule '\(name)': when is required (the condition)") }
        let condition = try parseCondition(whenNode, source: source, rule: name)
        var rule = AlertRule(name: name, condition: condition)
        rule.selection = RuleSelection(targets: try f.strings("targets"), groups: try f.strings("groups"), tags: try f.strings("tags"))
        if let text = try f.string("for") { rule.pending = try parsePending(text, f: f) }
        rule.resolveAfterRuns = try f.int("resolve_after", in: 1...10_000) ?? 1
        rule.holdDownMicros = try f.duration("hold_down", allowingZero: true) ?? 0
        if let s = try f.string("severity") {
            guard let sev = Severity(rawValue: s) else {
                throw f.error("rule '\(name)': severity must be info, warning or critical", at: f["severity"])
            }
            rule.severity = sev
        }
        rule.labels = try f.stringMap("labels")
        for reserved in ["rule", "target", "hop", "severity", "alertname"] where rule.labels[reserved] != nil {
            throw f.error("rule '\(name)': label '\(reserved)' is set by SmokeTrace itself", at: f["labels"])
        }
        rule.annotations = try f.stringMap("annotations")
        return rule
    }

    /// `3` (runs in a row), `3 of 5` (runs out of the last runs), or a duration (`5m`).
    static func parsePending(_ text: String, f: YAMLFields) throws(AlertingError) -> PendingClause {
        let words = text.split(separator: " ")
        if words.count == 1, let n = Int(words[0]), (1...10_000).contains(n) { return .runs(n) }
        if words.count == 3, words[1] == "of", let n = Int(words[0]), let m = Int(words[2]), n >= 1, m >= n, m <= 10_000 {
            return .nOfM(n, m)
        }
        if words.count == 1, let d = DurationText.parseMicros(text), d > 0 { return .duration(d) }
        throw f.error("\(f.what): for must be a number of runs (3), N of M runs (3 of 5) or a duration (5m)", at: f["for"])
    }

    static let conditionKinds = ["path_changed", "hop_count_grew", "destination_unreachable", "new_address", "rtt_increase",
                                 "loss", "pattern", "flapping", "as_path_changed", "query"]

    static func parseCondition(_ node: Node, source: String, rule: String) throws(AlertingError) -> RuleCondition {
        let what = "rule '\(rule)': when"
        let f = try YAMLFields(node, source: source, what: what)
        guard f.keys.count == 1, let kind = f.keys.first else {
            throw f.error("\(what) must hold exactly one condition (one of \(conditionKinds.joined(separator: ", ")))")
        }
        guard conditionKinds.contains(kind) else {
            throw f.error("\(what): unknown condition '\(kind)' (known: \(conditionKinds.joined(separator: ", ")))", at: f.mapping.keys.first)
        }
        guard let body = f[kind] else { throw f.error("\(what): \(kind) has no value") }
        if kind == "query" {
            guard let text = body.scalar?.string else { throw f.error("\(what): query must be the text of a query", at: body) }
            do {
                _ = try Parser.parse(text)
            } catch {
                // The query's own position, counted from the start of the value in the file.
                // A quoted value's text starts one column after its quote.
                let quoted = body.scalar?.style == .doubleQuoted || body.scalar?.style == .singleQuoted
                let start = (body.mark?.column ?? 1) + (quoted ? 1 : 0)
                let line = (body.mark?.line ?? 1) + (error.line ?? 1) - 1
                throw AlertingError(.invalidRules, "\(what): query: \(error.message)", source: source, line: line,
                                    column: error.line == 1 || error.line == nil ? start + (error.column ?? 1) - 1 : error.column)
            }
            return .query(text)
        }
        // A condition with no settings may be written `destination_unreachable: {}` or `… : true`.
        let settings: YAMLFields
        if body.mapping != nil {
            settings = try YAMLFields(body, source: source, what: "\(what) \(kind)")
        } else if body.bool == true || body.null != nil {
            settings = YAMLFields(emptyAt: body, source: source, what: "\(what) \(kind)")
        } else {
            throw f.error("\(what): \(kind) takes a mapping of settings", at: body)
        }
        switch kind {
        case "path_changed":
            try settings.only(["ttls", "ignore_first", "lasting", "accept_after"])
            var range: ClosedRange<Int>?
            if let text = try settings.string("ttls") {
                let parts = text.split(separator: ".", omittingEmptySubsequences: true)
                guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, b >= a, b <= 255,
                      text.contains("..") else {
                    throw settings.error("\(settings.what): ttls must be a range such as 3..10", at: settings["ttls"])
                }
                range = a...b
            }
            return .pathChanged(ttls: range, ignoreFirst: try settings.int("ignore_first", in: 0...254) ?? 0,
                                lasting: try settings.int("lasting", in: 1...1000) ?? 1,
                                acceptAfterMicros: try settings.duration("accept_after") ?? 86_400_000_000)
        case "hop_count_grew":
            try settings.only(["by", "baseline_runs"])
            return .hopCountGrew(by: try settings.int("by", in: 1...254) ?? 1, baselineRuns: try settings.int("baseline_runs", in: 1...10_000) ?? 10)
        case "destination_unreachable":
            try settings.only([])
            return .destinationUnreachable
        case "new_address":
            try settings.only(["history_runs"])
            return .newAddress(historyRuns: try settings.int("history_runs", in: 1...100_000) ?? 1000)
        case "rtt_increase":
            try settings.only(["hop", "by_ms", "by_percent", "baseline"])
            let byMillis = try settings.double("by_ms", in: 0...3_600_000)
            let byPercent = try settings.double("by_percent", in: 0...1_000_000)
            guard byMillis != nil || byPercent != nil else {
                throw settings.error("\(settings.what): give by_ms, by_percent or both")
            }
            var baseline = Baseline.previousRuns(20)
            if let b = settings["baseline"] {
                if b.scalar?.string == "same_hour_last_week" {
                    baseline = .sameHourLastWeek
                } else {
                    let bf = try YAMLFields(b, source: source, what: "\(settings.what) baseline")
                    try bf.only(["runs"])
                    baseline = .previousRuns(try bf.int("runs", in: 1...10_000) ?? 20)
                }
            }
            return .rttIncrease(hop: try hop(settings, allowAny: true), byMillis: byMillis, byPercent: byPercent, baseline: baseline)
        case "loss":
            try settings.only(["hop", "percent", "runs"])
            guard let percent = try settings.double("percent", in: 0...100) else { throw settings.error("\(settings.what): percent is required") }
            return .loss(hop: try hop(settings, allowAny: false), percent: percent, runs: try settings.int("runs", in: 1...10_000) ?? 1)
        case "pattern":
            try settings.only(["loss", "rtt"])
            guard settings.keys.count == 1, let figure = SmokePingPattern.Figure(rawValue: settings.keys[0]) else {
                throw settings.error("\(settings.what) takes one of loss or rtt, such as loss: \">10%,*12*,>10%\"")
            }
            do {
                return .pattern(try SmokePingPattern(figure: figure, text: try settings.requiredString(figure.rawValue)))
            } catch {
                throw settings.error("\(settings.what): \(error.message)", at: settings[figure.rawValue])
            }
        case "flapping":
            try settings.only(["changes", "within"])
            guard let changes = try settings.int("changes", in: 2...10_000) else { throw settings.error("\(settings.what): changes is required") }
            return .flapping(changes: changes, windowMicros: try settings.duration("within") ?? 3_600_000_000)
        default:
            try settings.only([])
            return .asPathChanged
        }
    }

    private static func hop(_ f: YAMLFields, allowAny: Bool) throws(AlertingError) -> HopChoice {
        guard let text = try f.string("hop") else { return .destination }
        if text == "destination" { return .destination }
        if allowAny && text == "any" { return .any }
        guard let ttl = Int(text), (1...255).contains(ttl) else {
            throw f.error("\(f.what): hop must be destination, \(allowAny ? "any, " : "")or a TTL from 1 to 255", at: f["hop"])
        }
        return .ttl(ttl)
    }

    static func parseReceiver(_ node: Node, source: String) throws(AlertingError) -> ReceiverConfig {
        var f = try YAMLFields(node, source: source, what: "a receiver")
        let name = try f.requiredString("name")
        f = try YAMLFields(node, source: source, what: "receiver '\(name)'")
        let kinds = ["webhook", "alertmanager", "program", "email", "syslog"]
        try f.only(["name", "timeout", "expire_after"] + kinds)
        let given = kinds.filter { f[$0] != nil }
        guard given.count == 1, let kind = given.first, let body = try f.fields(kind, what: "receiver '\(name)' \(kind)") else {
            throw f.error("receiver '\(name)' needs exactly one of \(kinds.joined(separator: ", "))")
        }
        var config: ReceiverConfig
        switch kind {
        case "webhook":
            try body.only(["url", "headers"])
            config = ReceiverConfig(name: name, kind: .webhook(url: try url(body), headers: try body.stringMap("headers")))
        case "alertmanager":
            try body.only(["url"])
            config = ReceiverConfig(name: name, kind: .alertmanager(url: try url(body)))
        case "program":
            try body.only(["command"])
            let command = try body.strings("command")
            guard let first = command.first, first.hasPrefix("/") else {
                throw body.error("\(body.what): command must be a list whose first entry is an absolute path (it is run without a shell)", at: body["command"])
            }
            config = ReceiverConfig(name: name, kind: .program(command: command))
        case "email":
            try body.only(["to", "from", "sendmail"])
            let to = try body.strings("to")
            // A local user name (root) is a recipient too: sendmail delivers it to the local mailbox.
            guard !to.isEmpty, to.allSatisfy({ !$0.isEmpty && !$0.contains(where: { "\r\n<>, ".contains($0) }) }) else {
                throw body.error("\(body.what): to must list one address or more, such as noc@example.net", at: body["to"] ?? body.node)
            }
            let from = try body.string("from") ?? "smoketrace"
            guard !from.contains(where: { "\r\n".contains($0) }) else { throw body.error("\(body.what): from must be one line", at: body["from"]) }
            config = ReceiverConfig(name: name, kind: .email(to: to, from: from, sendmail: try body.string("sendmail") ?? "/usr/sbin/sendmail"))
        default:
            try body.only(["socket", "facility"])
            let facilities = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                              "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]
            let facility = try body.string("facility") ?? "daemon"
            guard let code = facilities.firstIndex(of: facility) else {
                throw body.error("\(body.what): facility must be one of \(facilities.joined(separator: ", "))", at: body["facility"])
            }
            config = ReceiverConfig(name: name, kind: .syslog(socket: try body.string("socket") ?? "/dev/log", facility: code))
        }
        if let t = try f.duration("timeout") { config.timeoutMicros = t }
        if let e = try f.duration("expire_after") { config.expireAfterMicros = e }
        return config
    }

    private static func url(_ f: YAMLFields) throws(AlertingError) -> String {
        let u = try f.requiredString("url")
        guard u.hasPrefix("http://") || u.hasPrefix("https://") else {
            throw f.error("\(f.what): url must start with http:// or https://", at: f["url"])
        }
        return u
    }

    static func parseRoute(_ node: Node, source: String) throws(AlertingError) -> AlertRoute {
        let f = try YAMLFields(node, source: source, what: "a route")
        try f.only(["receiver", "match", "group_by", "repeat_interval", "continue"])
        var route = AlertRoute(receiver: try f.requiredString("receiver"), match: try f.stringMap("match"))
        if f["group_by"] != nil { route.groupBy = try f.strings("group_by") }
        if let r = try f.duration("repeat_interval") { route.repeatIntervalMicros = r }
        route.continueMatching = try f.bool("continue") ?? false
        return route
    }
}
