import PathTSDB

/// What a rule found for one target (and hop) at one run: whether its condition holds, the
/// figure it judged, a line saying why, and the evidence.
struct Finding: Sendable {
    /// 0 for the target as a whole.
    var hop: Int = 0
    var holds: Bool
    var value: Double = .nan
    var detail: String = ""
    var evidence: AlertEvidence?
    /// A path change that went back before lasting the runs the rule asks.
    var blip = false
}

/// Judges the run-based conditions of a rule for one target at one of its runs, from the runs
/// up to it: the same answer whenever it is asked, so a restart or `rules test` replays the
/// alerts exactly. Query rules are judged by the engine, over the store.
///
/// Without `detailed`, a finding carries whether the condition holds, its figure and its hop but
/// no evidence and no detail line: what a round needs for the many targets whose rules do not
/// hold and have no alert. The engine asks again, detailed, where it does need them; both
/// answers agree on `holds`, `value`, `hop` and `blip`.
struct ConditionEvaluator {
    let history: TargetHistory
    var detailed = true

    /// The finding of `condition` at run `index`, or nil when the run says nothing about it
    /// (an interrupted run, or too few runs to judge).
    func evaluate(_ condition: RuleCondition, at index: Int) -> Finding? {
        let runs = history.runs
        guard runs.indices.contains(index) else { return nil }
        let run = runs[index]
        switch condition {
        case .destinationUnreachable:
            guard !run.interrupted else { return nil }
            return Finding(holds: !run.reached, value: run.reached ? 0 : 1,
                           detail: run.reached ? "the destination answered" : "the destination did not answer")
        case .hopCountGrew(let by, let baselineRuns):
            guard !run.interrupted, run.reached else { return nil }
            let before = previousIndices(index, count: baselineRuns) { $0.reached }
            guard let base = Median.of(before.map { Double(runs[$0].hopCount) }) else { return nil }
            let grew = Double(run.hopCount) - base
            guard detailed else { return Finding(holds: grew >= Double(by), value: grew) }
            var e = AlertEvidence(kind: "hop_count_grew")
            e.verdict = ["hop_count": AlertEvidence.Criterion(before: base, after: Double(run.hopCount), verdict: Self.compare(base, Double(run.hopCount)))]
            e.newPath = history.hops(of: run.path)
            return Finding(holds: grew >= Double(by), value: grew, detail: "\(run.hopCount) hops against a median of \(Self.number(base))", evidence: e)
        case .newAddress(let historyRuns):
            guard !run.interrupted else { return nil }
            let before = previousIndices(index, count: historyRuns) { _ in true }
            guard !before.isEmpty else { return nil }
            var known = Set<AddressID>()
            for i in before { for h in runs[i].hops { known.formUnion(h.addresses) } }
            var fresh = [(ttl: Int, address: AddressID)]()
            for (i, h) in run.hops.enumerated() { for a in h.addresses where !known.contains(a) { fresh.append((i + 1, a)) } }
            guard detailed else { return Finding(holds: !fresh.isEmpty, value: Double(fresh.count)) }
            var e = AlertEvidence(kind: "new_address")
            e.newAddresses = fresh.map { history.addressText($0.address) }
            e.newPath = history.hops(of: run.path)
            return Finding(holds: !fresh.isEmpty, value: Double(fresh.count),
                           detail: fresh.isEmpty ? "no new address"
                               : "new: " + fresh.map { "\(history.addressText($0.address)) at TTL \($0.ttl)" }.joined(separator: ", "),
                           evidence: e)
        case .rttIncrease(let hop, let byMillis, let byPercent, let baseline):
            return rttIncrease(at: index, hop: hop, byMillis: byMillis, byPercent: byPercent, baseline: baseline)
        case .loss(let hop, let percent, let count):
            return loss(at: index, hop: hop, percent: percent, runs: count)
        case .pattern(let pattern):
            guard !run.interrupted else { return nil }
            let window = previousIndices(index + 1, count: pattern.span) { _ in true }
            let values: [Double?] = window.map { i in pattern.figure == .loss ? runs[i].destinationLossPercent : runs[i].destinationMedianMillis }
            let holds = pattern.matches(values)
            guard detailed else { return Finding(holds: holds, value: values.last.flatMap { $0 } ?? .nan) }
            let shown = values.suffix(8).map { $0.map(Self.number) ?? "U" }.joined(separator: ",")
            return Finding(holds: holds, value: values.last.flatMap { $0 } ?? .nan,
                           detail: "\(pattern.figure.rawValue) of the latest runs \(shown) \(holds ? "matches" : "does not match") \(pattern.text)")
        case .flapping(let changes, let window):
            let recent = history.events.filter { $0.timeMicros <= run.startMicros && $0.timeMicros > run.startMicros - window }
            guard detailed else { return Finding(holds: recent.count >= changes, value: Double(recent.count)) }
            return Finding(holds: recent.count >= changes, value: Double(recent.count),
                           detail: "\(recent.count) path changes in the last \(window / 60_000_000) min")
        case .pathChanged(let ttls, let ignoreFirst, let lasting, let acceptAfter):
            return pathChanged(at: index, ttls: ttls, ignoreFirst: ignoreFirst, lasting: lasting, acceptAfter: acceptAfter)
        case .asPathChanged:
            // No hop → AS data exists yet (the BGP issue brings it): nothing to compare.
            return nil
        case .query:
            return nil
        }
    }

    /// The indices of up to `count` runs before `index` (not interrupted, passing `keep`),
    /// oldest first: indices, so that a round's many evaluations read the runs in place.
    private func previousIndices(_ index: Int, count: Int, _ keep: (RunSummary) -> Bool) -> [Int] {
        var out = [Int]()
        out.reserveCapacity(min(count, max(index, 0)))
        var i = index - 1
        while i >= 0 && out.count < count {
            if !history.runs[i].interrupted && keep(history.runs[i]) { out.append(i) }
            i -= 1
        }
        out.reverse()
        return out
    }

    // MARK: - Latency

    private func rttIncrease(at index: Int, hop: HopChoice, byMillis: Double?, byPercent: Double?, baseline: Baseline) -> Finding? {
        let run = history.runs[index]
        guard !run.interrupted else { return nil }
        // The baseline runs, as indices into `source`: read in place, never copied.
        let source: [RunSummary], base: [Int]
        switch baseline {
        case .previousRuns(let n):
            source = history.runs
            base = previousIndices(index, count: n) { _ in true }
        case .sameHourLastWeek:
            let week: Int64 = 7 * 86_400_000_000, half: Int64 = 1_800_000_000
            source = history.weekAgo
            base = source.indices.filter { abs(source[$0].startMicros + week - run.startMicros) <= half && !source[$0].interrupted }
        }
        guard !base.isEmpty else { return nil }
        func rose(_ before: Double?, _ now: Double?) -> Bool {
            guard let before, let now else { return false }
            let d = now - before
            if let byMillis, d < byMillis { return false }
            if let byPercent, before <= 0 || d / before * 100 < byPercent { return false }
            return byMillis != nil || byPercent != nil
        }
        var top = run.hopTotal
        for i in base { top = max(top, source[i].hopTotal) }
        // One buffer for every median of the baseline, sorted in place.
        var pooled = [UInt32]()
        pooled.reserveCapacity(base.count * 4)
        func baseMedian(_ ttl: Int) -> Double? {
            pooled.removeAll(keepingCapacity: true)
            for i in base { pooled += source[i].rtts(atTTL: ttl) }
            return Median.sorting(&pooled).map { $0 / 1000 }
        }
        func destBefore() -> Double? {
            pooled.removeAll(keepingCapacity: true)
            for i in base { pooled += source[i].destinationRTTs }
            return Median.sorting(&pooled).map { $0 / 1000 }
        }
        let destNow = run.destinationMedianMillis
        guard detailed else {
            // The same answer as below, from the medians it needs only: the first hop from the
            // top whose rise breaks the run of risen hops.
            switch hop {
            case .destination:
                let before = destBefore()
                return Finding(hop: 0, holds: rose(before, destNow), value: (destNow ?? .nan) - (before ?? .nan))
            case .ttl(let t):
                let before = baseMedian(t), now = run.medianMillis(atTTL: t)
                return Finding(hop: t, holds: rose(before, now), value: (now ?? .nan) - (before ?? .nan))
            case .any:
                var first: (ttl: Int, before: Double, now: Double)?
                for ttl in stride(from: max(top, 1), through: 1, by: -1) where top > 0 {
                    guard let n = run.medianMillis(atTTL: ttl), let b = baseMedian(ttl) else { continue }
                    if rose(b, n) { first = (ttl, b, n) } else { break }
                }
                if let first { return Finding(hop: 0, holds: true, value: first.now - first.before) }
                let before = destBefore()
                return Finding(hop: 0, holds: false, value: (destNow ?? .nan) - (before ?? .nan))
            }
        }
        let destBeforeValue = destBefore()
        var rows = [AlertEvidence.HopRow]()
        var risen = [Bool]()
        for ttl in 1...max(top, 1) where top > 0 {
            let b = baseMedian(ttl), n = run.medianMillis(atTTL: ttl)
            rows.append(AlertEvidence.HopRow(ttl: ttl, address: run.hops.indices.contains(ttl - 1)
                                                ? run.hops[ttl - 1].addresses.map(history.addressText).joined(separator: "|") : "*",
                                             medianBeforeMillis: b, medianNowMillis: n,
                                             lossBeforePercent: nil, lossNowPercent: run.hops.indices.contains(ttl - 1) ? run.hops[ttl - 1].lossFraction.map { $0 * 100 } : nil))
            risen.append(rose(b, n))
        }
        // The first hop from which every later hop with figures has risen too: where an operator
        // looks first. A lone slow reply from a router's CPU is not a rise of the path.
        var firstHop: Int?
        for ttl in stride(from: risen.count, through: 1, by: -1) {
            guard rows[ttl - 1].medianNowMillis != nil && rows[ttl - 1].medianBeforeMillis != nil else { continue }
            if risen[ttl - 1] { firstHop = ttl } else { break }
        }
        var e = AlertEvidence(kind: "rtt_increase")
        e.hops = rows
        e.runsBefore = base.count
        e.runsNow = 1
        let before: Double?, now: Double?, hopNumber: Int
        switch hop {
        case .destination:
            (before, now, hopNumber) = (destBeforeValue, destNow, 0)
        case .ttl(let t):
            (before, now, hopNumber) = (baseMedian(t), run.medianMillis(atTTL: t), t)
        case .any:
            let t = firstHop ?? 0
            (before, now, hopNumber) = t == 0 ? (destBeforeValue, destNow, 0) : (rows[t - 1].medianBeforeMillis, rows[t - 1].medianNowMillis, 0)
        }
        e.firstHop = firstHop
        let holds: Bool
        if case .any = hop { holds = firstHop != nil } else { holds = rose(before, now) }
        let where_ = hopNumber == 0 ? "at the destination" : "at TTL \(hopNumber)"
        var detail = "median RTT \(where_) \(now.map(Self.number) ?? "none") ms against \(before.map(Self.number) ?? "none") ms"
        if holds, let firstHop { detail += "; the rise starts at TTL \(firstHop)" }
        return Finding(hop: hopNumber, holds: holds, value: (now ?? .nan) - (before ?? .nan), detail: detail, evidence: e)
    }

    // MARK: - Loss

    private func loss(at index: Int, hop: HopChoice, percent: Double, runs count: Int) -> Finding? {
        guard !history.runs[index].interrupted else { return nil }
        let runs = history.runs
        let indices = previousIndices(index + 1, count: count) { _ in true }
        guard !indices.isEmpty else { return nil }
        let value: Double?
        let hopNumber: Int
        switch hop {
        case .ttl(let t):
            var total = 0.0, n = 0
            for i in indices { if let f = runs[i].sharedLossFraction(atTTL: t) { total += f; n += 1 } }
            value = n == 0 ? nil : 100 * total / Double(n)
            hopNumber = t
        default:
            var sent = 0, lost = 0
            for i in indices { sent += runs[i].destinationSent; lost += runs[i].destinationLost }
            value = sent == 0 ? nil : 100 * Double(lost) / Double(sent)
            hopNumber = 0
        }
        guard let value else { return nil }
        guard detailed else { return Finding(hop: hopNumber, holds: value >= percent, value: value) }
        let window = indices.map { runs[$0] }
        // The per-hop table, and the first hop whose loss every later hop shares.
        let top = window.map(\.hops.count).max() ?? 0
        var rows = [AlertEvidence.HopRow]()
        var firstHop: Int?
        for ttl in stride(from: 1, through: top, by: 1) {
            let shares = window.compactMap { $0.sharedLossFraction(atTTL: ttl) }
            let shared = shares.isEmpty ? nil : 100 * shares.reduce(0, +) / Double(shares.count)
            let last = window[window.count - 1]
            rows.append(AlertEvidence.HopRow(ttl: ttl, address: last.hops.indices.contains(ttl - 1)
                                                ? last.hops[ttl - 1].addresses.map(history.addressText).joined(separator: "|") : "*",
                                             medianBeforeMillis: nil, medianNowMillis: last.medianMillis(atTTL: ttl),
                                             lossBeforePercent: nil, lossNowPercent: shared))
            if firstHop == nil, let shared, shared >= percent { firstHop = ttl }
        }
        var e = AlertEvidence(kind: "loss")
        e.hops = rows
        e.firstHop = firstHop
        e.runsNow = window.count
        let where_ = hopNumber == 0 ? "at the destination" : "from TTL \(hopNumber) on"
        return Finding(hop: hopNumber, holds: value >= percent, value: value,
                       detail: "loss \(where_) \(Self.number(value)) % over \(window.count) runs", evidence: e)
    }

    // MARK: - Path changes

    /// Replays the target's path-change events up to the run: an episode starts with a change
    /// inside the rule's TTLs and lasts until the path is back to what it was before (in those
    /// TTLs). The condition holds while an episode lasts and has held `lasting` runs.
    private func pathChanged(at index: Int, ttls: ClosedRange<Int>?, ignoreFirst: Int, lasting: Int, acceptAfter: Int64) -> Finding? {
        let run = history.runs[index]
        guard !run.interrupted else { return nil }
        func inScope(_ a: PathID, _ b: PathID) -> [Int] {
            guard let pa = history.catalog.path(of: a), let pb = history.catalog.path(of: b) else { return [] }
            return Self.differing(pa, pb).filter { ttl in ttl > ignoreFirst && (ttls?.contains(ttl) ?? true) }
        }
        var baseline: PathID?
        var episodeStart: PathChangeEvent?
        var current: PathChangeEvent?
        var endedAsBlip = false
        // A change older than accept_after is the path now, whatever followed it.
        for e in history.events where e.timeMicros <= run.startMicros && e.timeMicros > run.startMicros - acceptAfter {
            if let b = baseline {
                current = e
                if inScope(b, e.newPath).isEmpty {
                    // Back where it was: the episode ends; a blip if it never lasted.
                    endedAsBlip = runs(from: episodeStart?.timeMicros ?? e.timeMicros, before: e.timeMicros) < lasting
                    baseline = nil
                    episodeStart = nil
                }
            } else if !inScope(e.oldPath, e.newPath).isEmpty {
                baseline = e.oldPath
                episodeStart = e
                current = e
                endedAsBlip = false
            }
        }
        guard let start = episodeStart, let base = baseline, let now = current else {
            return Finding(holds: false, value: 0, detail: "the path is as before", blip: endedAsBlip && justEnded(at: index))
        }
        let held = runs(from: start.timeMicros, before: run.startMicros + 1)
        let differing = inScope(base, now.newPath)
        guard detailed else { return Finding(holds: held >= lasting, value: Double(differing.first ?? 0)) }
        var e = AlertEvidence(kind: "path_changed")
        e.oldPath = history.hops(of: base)
        e.newPath = history.hops(of: now.newPath)
        e.oldPathID = base.rawValue
        e.newPathID = now.newPath.rawValue
        e.diff = diffRows(base, now.newPath)
        let oldRuns = history.runs.filter { $0.startMicros < start.timeMicros && !$0.interrupted }
        let newRuns = history.runs[...index].filter { $0.startMicros >= start.timeMicros && !$0.interrupted }
        e.oldFirstSeen = oldRuns.first.map { RFC3339.format(micros: $0.startMicros) }
        e.oldLastSeen = oldRuns.last.map { RFC3339.format(micros: $0.startMicros) }
        e.newFirstSeen = RFC3339.format(micros: start.timeMicros)
        e.newLastSeen = newRuns.last.map { RFC3339.format(micros: $0.startMicros) }
        let comparable = min(oldRuns.count, newRuns.count, 20)
        e.verdict = Self.verdict(before: Array(oldRuns.suffix(max(comparable, min(oldRuns.count, 20)))), after: Array(newRuns.prefix(20)),
                                 oldHops: history.catalog.hopCount(of: base), newHops: history.catalog.hopCount(of: now.newPath))
        e.runsBefore = min(oldRuns.count, 20)
        e.runsNow = min(newRuns.count, 20)
        return Finding(holds: held >= lasting, value: Double(differing.first ?? 0),
                       detail: "path changed at TTL \(differing.map(String.init).joined(separator: ",")) \(held) runs ago"
                           + (held < lasting ? " (waiting for \(lasting) runs)" : ""),
                       evidence: e)
    }

    /// Whether the run at `index` is the first after an episode that ended as a blip.
    private func justEnded(at index: Int) -> Bool {
        guard index > 0 else { return false }
        let prev = history.runs[index - 1].startMicros, now = history.runs[index].startMicros
        return history.events.contains { $0.timeMicros > prev && $0.timeMicros <= now }
    }

    /// Runs (not interrupted) that started in `from..<before`.
    private func runs(from: Int64, before: Int64) -> Int {
        history.runs.reduce(0) { $0 + ($1.startMicros >= from && $1.startMicros < before && !$1.interrupted ? 1 : 0) }
    }

    /// TTLs whose sets of addresses differ, a TTL where one side heard nothing not counted.
    static func differing(_ a: PathHops, _ b: PathHops) -> [Int] {
        let top = max(a.hopCount, b.hopCount)
        guard top > 0 else { return [] }
        return (1...top).filter { ttl in
            let x = Set(a.addresses(atTTL: ttl)), y = Set(b.addresses(atTTL: ttl))
            return !x.isEmpty && !y.isEmpty && x != y || (ttl > min(a.hopCount, b.hopCount) && (x.isEmpty != y.isEmpty))
        }
    }

    private func diffRows(_ a: PathID, _ b: PathID) -> [AlertEvidence.DiffRow] {
        guard let pa = history.catalog.path(of: a), let pb = history.catalog.path(of: b) else { return [] }
        let top = max(pa.hopCount, pb.hopCount)
        guard top > 0 else { return [] }
        return (1...top).map { ttl in
            let x = pa.addresses(atTTL: ttl), y = pb.addresses(atTTL: ttl)
            let tx = x.isEmpty ? "*" : x.map(history.addressText).joined(separator: "|")
            let ty = y.isEmpty ? "*" : y.map(history.addressText).joined(separator: "|")
            let change: String
            if ttl > pa.hopCount { change = "added" } else if ttl > pb.hopCount { change = "removed" }
            else if x.isEmpty || y.isEmpty { change = Set(x) == Set(y) ? "same" : "silent" }
            else { change = Set(x) == Set(y) ? "same" : "changed" }
            return AlertEvidence.DiffRow(ttl: ttl, old: tx, new: ty, change: change)
        }
    }

    /// "Is the new path worse?", criterion by criterion, from comparable windows of runs.
    static func verdict(before: [RunSummary], after: [RunSummary], oldHops: Int?, newHops: Int?) -> [String: AlertEvidence.Criterion] {
        let enough = before.count >= 3 && after.count >= 3
        func criterion(_ b: Double?, _ a: Double?, tolerance: Double) -> AlertEvidence.Criterion {
            guard enough else {
                return AlertEvidence.Criterion(before: b, after: a, verdict: "unknown (too few runs: \(before.count) before, \(after.count) after)")
            }
            guard let b, let a else { return AlertEvidence.Criterion(before: b, after: a, verdict: "unknown (no replies on one side)") }
            return AlertEvidence.Criterion(before: b, after: a, verdict: compare(b, a, tolerance: tolerance))
        }
        func rtts(_ runs: [RunSummary]) -> [Double] { runs.flatMap { $0.destinationRTTs.map { Double($0) / 1000 } } }
        func lossPercent(_ runs: [RunSummary]) -> Double? {
            let sent = runs.reduce(0) { $0 + $1.destinationSent }
            return sent == 0 ? nil : 100 * Double(runs.reduce(0) { $0 + $1.destinationLost }) / Double(sent)
        }
        var out = [String: AlertEvidence.Criterion]()
        out["hop_count"] = AlertEvidence.Criterion(before: oldHops.map(Double.init), after: newHops.map(Double.init),
                                                   verdict: oldHops == nil || newHops == nil ? "unknown (path not in the catalog)"
                                                       : compare(Double(oldHops ?? 0), Double(newHops ?? 0)))
        let rb = rtts(before), ra = rtts(after)
        // Differences within 5 % (and 0.5 ms) are "same": a path's RTT varies that much by itself.
        out["median_rtt_ms"] = criterion(Median.percentile(rb, 50), Median.percentile(ra, 50), tolerance: 0.05)
        out["p95_rtt_ms"] = criterion(Median.percentile(rb, 95), Median.percentile(ra, 95), tolerance: 0.05)
        out["loss_percent"] = criterion(lossPercent(before), lossPercent(after), tolerance: 0)
        out["as_hops"] = AlertEvidence.Criterion(before: nil, after: nil, verdict: "unknown (no AS data: the BGP feed is not set up)")
        return out
    }

    /// `worse` when `after` is higher than `before` by more than the tolerance, `better` when lower.
    static func compare(_ before: Double, _ after: Double, tolerance: Double = 0) -> String {
        let slack = max(before * tolerance, tolerance > 0 ? 0.5 : 0)
        if after > before + slack { return "worse" }
        if after < before - slack { return "better" }
        return "same"
    }

    static func number(_ v: Double) -> String {
        var s = String(Double((v * 1000).rounded()) / 1000)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}
