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
    private var table = RunTable()
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

    /// Appends the rows of the next runs, about `rows` of them; false when nothing is left.
    mutating func next(into out: inout [[ResultValue]], rows: Int, context: QueryContext) throws(QueryError) -> Bool {
        while out.count < rows {
            if runIndex < table.runs.count {
                emit(run: table.runs[runIndex], into: &out)
                runIndex += 1
                continue
            }
            guard targetIndex < plan.targets.count else { return !out.isEmpty }
            if windowIndex >= windows.count {
                targetIndex += 1
                windowIndex = 0
                continue
            }
            try context.checkDeadline()
            let (t, p) = snapshot.runs(of: plan.targets[targetIndex].id, in: windows[windowIndex])
            problems += p
            table = t
            runIndex = 0
            windowIndex += 1
        }
        return true
    }

    /// Appends the CSV rows of the next runs straight as bytes, at least `bytes` of them unless
    /// the answer ends and at most `maxRows` rows; returns the rows written (0: nothing is left).
    /// The same rows as `next(into:)` renders through `ResultWriter`, without building cells.
    mutating func nextCSV(into out: inout [UInt8], bytes: Int, maxRows: Int, context: QueryContext) throws(QueryError) -> Int {
        let start = out.count
        var rows = 0
        while out.count - start < bytes && rows < maxRows {
            if runIndex < table.runs.count {
                rows += emitCSV(run: table.runs[runIndex], into: &out, maxRows: maxRows - rows)
                runIndex += 1
                continue
            }
            guard targetIndex < plan.targets.count else { break }
            if windowIndex >= windows.count {
                targetIndex += 1
                windowIndex = 0
                targetField = nil
                continue
            }
            try context.checkDeadline()
            let (t, p) = snapshot.runs(of: plan.targets[targetIndex].id, in: windows[windowIndex])
            problems += p
            table = t
            runIndex = 0
            windowIndex += 1
        }
        return rows
    }

    /// The current target's CSV field and a comma.
    private var targetField: [UInt8]?
    /// Address CSV fields by id, filled as addresses are met.
    private var addressField: [[UInt8]?] = []

    private mutating func emitCSV(run: RunRecord, into out: inout [UInt8], maxRows: Int) -> Int {
        if targetField == nil { targetField = Array((CSVRenderer.field(plan.targets[targetIndex].name) + ",").utf8) }
        if addressField.isEmpty { addressField = [[UInt8]?](repeating: nil, count: snapshot.catalog.addresses.count + 1) }
        let prefix = (targetField ?? []) + Array((RFC3339.format(micros: run.startMicros) + ",").utf8)
        let probes = table.probes[run.probeRange]
        if hops.needsHopAddresses { HopMatcher.hopAddresses(probes, into: &hopAddress) }
        var lastTTL: UInt8 = 0
        var index = 0
        var rows = 0
        for p in probes {
            index = p.ttl == lastTTL ? index + 1 : 1
            lastTTL = p.ttl
            guard rows < maxRows else { break }
            guard hops.keeps(ttl: p.ttl, hop: hops.needsHopAddresses ? hopAddress[Int(p.ttl)] : .none) else { continue }
            out.append(contentsOf: prefix)
            ProbeStream.appendDecimal(UInt64(p.ttl), to: &out)
            out.append(0x2C)
            ProbeStream.appendDecimal(UInt64(index), to: &out)
            out.append(0x2C)
            if !p.isLoss {
                let i = Int(p.address.rawValue)
                if i < addressField.count, let f = addressField[i] {
                    out.append(contentsOf: f)
                } else {
                    let f = Array((snapshot.catalog.address(of: p.address)?.description ?? "?").utf8)
                    if i < addressField.count { addressField[i] = f }
                    out.append(contentsOf: f)
                }
            }
            out.append(0x2C)
            if !p.isLoss { ProbeStream.appendDecimal(UInt64(p.rttMicros), to: &out) }
            out.append(0x0D)
            out.append(0x0A)
            rows += 1
        }
        return rows
    }

    @inline(__always)
    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 {
            out.append(0x30 + UInt8(v))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = v
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[count] = 0x30 + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
        }
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
                        p.isLoss ? .null : .integer(Int64(p.rttMicros))])
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
