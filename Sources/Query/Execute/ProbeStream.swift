import Dispatch
import PathTSDB

/// Streams a `probes` plan: one row per probe sent, target by target and window by window, so
/// that an export of months holds one target-day of runs at a time.
struct ProbeStream {
    private let plan: QueryPlan
    private let snapshot: StoreSnapshot
    private var hops: HopMatcher
    private var targetIndex = 0
    private var windows: [Range<Int64>] = []
    private var windowIndex = 0
    /// The table being read, and the target-window's tables after it (as the store hands
    /// them on, one per segment chunk, in time order).
    private var table = RunTable()
    private var laterTables: ArraySlice<RunTable> = []
    private var runIndex = 0
    private var hopAddress = [AddressID](repeating: .none, count: 256)
    /// Address text by id, filled as addresses are met.
    private var addressText: [String?]
    private(set) var problems: [StorageError] = []

    init(plan: QueryPlan, snapshot: StoreSnapshot) {
        self.plan = plan
        self.snapshot = snapshot
        hops = HopMatcher(plan.query.hops, catalog: snapshot.catalog, groupsByAddress: false)
        addressText = [String?](repeating: nil, count: snapshot.catalog.addresses.count + 1)
        windows = QueryWindows.split(plan.range, held: snapshot.timeRange)
    }

    /// The runs of one target-window, decoded while the previous one was being rendered:
    /// decoding and rendering then share the two cores instead of taking turns on one.
    private var prefetched: TablePrefetch?

    private mutating func load(target: Int, window: Int) -> ([RunTable], [StorageError]) {
        let result: ([RunTable], [StorageError])
        if let f = prefetched, f.target == target, f.window == window {
            result = f.wait()
        } else {
            result = snapshot.runTables(of: plan.targets[target].id, in: windows[window], fields: .timing)
        }
        prefetched = nil
        var (t, w) = (target, window + 1)
        if w >= windows.count { (t, w) = (t + 1, 0) }
        if t < plan.targets.count && !windows.isEmpty {
            prefetched = TablePrefetch(snapshot: snapshot, target: t, id: plan.targets[t].id, window: w, range: windows[w])
        }
        return result
    }

    /// Appends the rows of the next runs, about `rows` of them; false when nothing is left.
    mutating func next(into out: inout [[ResultValue]], rows: Int, context: QueryContext) throws(QueryError) -> Bool {
        while out.count < rows {
            guard let run = try nextRun(context: context) else { return !out.isEmpty }
            emit(run: run, into: &out)
        }
        return true
    }

    /// The next run the plan reads (of the target at `targetIndex`, whose runs `table` and
    /// `laterTables` hold), reading further target-windows as needed; nil when every one has
    /// been read.
    private mutating func nextRun(context: QueryContext) throws(QueryError) -> RunRecord? {
        while true {
            while runIndex < table.runs.count {
                let run = table.runs[runIndex]
                runIndex += 1
                if plan.reads(run.path, of: plan.targets[targetIndex].id) { return run }
            }
            if let next = laterTables.popFirst() {
                table = next
                runIndex = 0
                continue
            }
            guard try loadNextWindow(context: context) else { return nil }
        }
    }

    /// Reads the runs of the next target-window with any; false when every one has been read.
    private mutating func loadNextWindow(context: QueryContext) throws(QueryError) -> Bool {
        while targetIndex < plan.targets.count {
            if windowIndex >= windows.count {
                targetIndex += 1
                windowIndex = 0
                targetField = nil
                continue
            }
            try context.checkDeadline()
            let (tables, p) = load(target: targetIndex, window: windowIndex)
            problems += p
            table = tables.first ?? RunTable()
            laterTables = tables.dropFirst()
            runIndex = 0
            windowIndex += 1
            return true
        }
        return false
    }

    /// Appends the CSV rows of the next runs straight as bytes, at least `bytes` of them unless
    /// the answer ends and at most `maxRows` rows; returns the rows written (0: nothing is left).
    /// The same rows as `next(into:)` renders through `ResultWriter`, without building cells.
    mutating func nextCSV(into out: inout [UInt8], bytes: Int, maxRows: Int, context: QueryContext) throws(QueryError) -> Int {
        let start = out.count
        var rows = 0
        while out.count - start < bytes && rows < maxRows {
            guard let run = try nextRun(context: context) else { break }
            rows += emitCSV(run: run, into: &out, maxRows: maxRows - rows)
        }
        return rows
    }

    /// The current target's CSV field and a comma.
    private var targetField: [UInt8]?
    /// Address text of every address met so far, end to end, and where each id's text lies
    /// (start, length; length -1 until met), so that a row copies bytes without touching
    /// reference counts.
    private var addressBytes: [UInt8] = []
    private var addressSpans: [(Int32, Int32)] = []
    private var longestAddress = 0

    private mutating func emitCSV(run: RunRecord, into out: inout [UInt8], maxRows: Int) -> Int {
        if targetField == nil { targetField = Array((CSVRenderer.field(plan.targets[targetIndex].name) + ",").utf8) }
        if addressSpans.isEmpty { addressSpans = [(Int32, Int32)](repeating: (0, -1), count: snapshot.catalog.addresses.count + 1) }
        let prefix = (targetField ?? []) + Array((RFC3339.format(micros: run.startMicros) + ",").utf8)
        let range = run.probeRange
        if hops.needsHopAddresses { HopMatcher.hopAddresses(table.probes[range], into: &hopAddress) }
        // Learn the text of addresses not met before, then copy bytes only.
        for p in table.probes[range] where !p.isLoss {
            let i = Int(p.address.rawValue)
            guard i < addressSpans.count, addressSpans[i].1 < 0 else { continue }
            let text = Array((snapshot.catalog.address(of: p.address)?.description ?? "?").utf8)
            addressSpans[i] = (Int32(addressBytes.count), Int32(text.count))
            longestAddress = max(longestAddress, text.count)
            addressBytes += text
        }
        // Room for the longest possible rows (a TTL of 3 digits, a probe index and an RTT of at
        // most 10, the longest address met), written through a pointer, the rest cut off.
        let rowBound = prefix.count + 3 + 1 + 10 + 1 + longestAddress + 1 + 10 + 2
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: range.count * rowBound))
        var used = 0
        var lastTTL: UInt8 = 0
        var index = 0
        var rows = 0
        let selectsAll = hops.selectsAll
        table.probes.withUnsafeBufferPointer { probes in
            addressBytes.withUnsafeBufferPointer { text in
                addressSpans.withUnsafeBufferPointer { spans in
                    prefix.withUnsafeBufferPointer { prefixBytes in
                        out.withUnsafeMutableBufferPointer { buffer in
                            guard let start = buffer.baseAddress, let prefixStart = prefixBytes.baseAddress, let textStart = text.baseAddress else { return }
                            var w = start + base
                            for k in range {
                                let p = probes[k]
                                index = p.ttl == lastTTL ? index + 1 : 1
                                lastTTL = p.ttl
                                guard rows < maxRows else { break }
                                if !selectsAll && !hops.keeps(ttl: p.ttl, hop: hops.needsHopAddresses ? hopAddress[Int(p.ttl)] : .none) { continue }
                                w.update(from: prefixStart, count: prefixBytes.count)
                                w += prefixBytes.count
                                w = ProbeStream.writeDecimal(UInt32(p.ttl), at: w)
                                w.pointee = 0x2C
                                w = ProbeStream.writeDecimal(UInt32(index), at: w + 1)
                                w.pointee = 0x2C
                                w += 1
                                if !p.isLoss {
                                    let i = Int(p.address.rawValue)
                                    if i < spans.count {
                                        let (from, count) = spans[i]
                                        w.update(from: textStart + Int(from), count: Int(count))
                                        w += Int(count)
                                    }
                                }
                                w.pointee = 0x2C
                                w += 1
                                if p.isTimed { w = ProbeStream.writeDecimal(p.rttMicros, at: w) }
                                w.pointee = 0x0D
                                (w + 1).pointee = 0x0A
                                w += 2
                                rows += 1
                            }
                            used = w - (start + base)
                        }
                    }
                }
            }
        }
        out.removeLast(out.count - base - used)
        return rows
    }

    /// Writes `v` in decimal at `p`; returns the byte after it.
    @inline(__always)
    static func writeDecimal(_ v: UInt32, at p: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var n = v
        var digits = 1
        var t = v
        while t >= 10 {
            t /= 10
            digits += 1
        }
        var q = p + digits - 1
        repeat {
            q.pointee = 0x30 + UInt8(n % 10)
            n /= 10
            q -= 1
        } while n > 0
        return p + digits
    }

    private mutating func emit(run: RunRecord, into out: inout [[ResultValue]]) {
        let name = ResultValue.text(plan.targets[targetIndex].name)
        let start = ResultValue.time(run.startMicros)
        let probes = table.probes[run.probeRange]
        if hops.needsHopAddresses { HopMatcher.hopAddresses(probes, into: &hopAddress) }
        var lastTTL: UInt8 = 0
        var index = 0
        for p in probes {
            index = p.ttl == lastTTL ? index + 1 : 1
            lastTTL = p.ttl
            guard hops.keeps(ttl: p.ttl, hop: hops.needsHopAddresses ? hopAddress[Int(p.ttl)] : .none) else { continue }
            out.append([name, start, .integer(Int64(p.ttl)), .integer(Int64(index)),
                        p.isLoss ? .null : .text(text(of: p.address)),
                        p.isTimed ? .integer(Int64(p.rttMicros)) : .null])
        }
    }

    private mutating func text(of id: AddressID) -> String {
        let i = Int(id.rawValue)
        if i < addressText.count, let s = addressText[i] { return s }
        let s = snapshot.catalog.address(of: id)?.description ?? "?"
        if i < addressText.count { addressText[i] = s }
        return s
    }
}

/// One target-window's runs, read on a Dispatch thread; `wait()` blocks until they are there.
///
/// `@unchecked Sendable`: `result` is written once on the worker before `done` is signalled and
/// read only after `wait()` has seen that signal.
final class TablePrefetch: @unchecked Sendable {
    let target: Int
    let window: Int
    private var result: ([RunTable], [StorageError]) = ([], [])
    private let done = DispatchSemaphore(value: 0)

    init(snapshot: StoreSnapshot, target: Int, id: TargetID, window: Int, range: Range<Int64>) {
        self.target = target
        self.window = window
        DispatchQueue.global().async { [self] in
            result = snapshot.runTables(of: id, in: range, fields: .timing)
            done.signal()
        }
    }

    func wait() -> ([RunTable], [StorageError]) {
        done.wait()
        done.signal()  // a second wait returns at once
        return result
    }
}
