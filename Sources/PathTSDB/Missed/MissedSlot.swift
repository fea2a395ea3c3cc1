/// A scheduled run that did not start, or a trace that failed: when it was due, for which
/// target, and why.
public struct MissedSlot: Sendable, Equatable {
    /// Why a slot was missed.
    public enum Reason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// The target's previous run had not finished.
        case stillRunning = 1
        /// The concurrency limit or the packet budget was used up.
        case noCapacity = 2
        /// The monitor saw the slot an interval or more after it was due (it was stopped, or
        /// starved of CPU).
        case late = 3
        /// The trace started and failed: the tracer could not run, could not resolve the
        /// target, refused the method, or its output was unreadable; or an imported result
        /// (RIPE Atlas) reported an error instead of hops. `detail` says what.
        case failed = 4
        /// The slot was waiting for capacity when the monitor stopped.
        case stopped = 5

        /// The reason as the query language shows it.
        public var description: String {
            switch self {
            case .stillRunning: "still running"
            case .noCapacity: "no capacity"
            case .late: "late"
            case .failed: "failed"
            case .stopped: "stopped"
            }
        }
    }

    /// The target's name as the targets file gives it.
    public var target: String
    /// The vantage point whose monitor missed it.
    public var vantage: String
    /// When the run was due, microseconds since the epoch.
    public var slotMicros: Int64
    /// Why no run was traced.
    public var reason: Reason
    /// What failed, in the tracer's or the source's words; empty for the other reasons.
    public var detail: String

    /// A missed slot of `target` at `slotMicros`.
    public init(target: String, vantage: String, slotMicros: Int64, reason: Reason, detail: String = "") {
        self.target = target
        self.vantage = vantage
        self.slotMicros = slotMicros
        self.reason = reason
        self.detail = detail
    }

    /// Whether the record needs the file's version 2 (a reason or a field version 1 lacks).
    var needsVersion2: Bool { reason == .failed || !detail.isEmpty }

    /// The file version the record needs at least.
    var minimumVersion: UInt16 { reason == .stopped ? 3 : needsVersion2 ? 2 : 1 }

    func encode(into out: inout [UInt8]) {
        out.appendLE(UInt64(bitPattern: slotMicros))
        out.append(reason.rawValue)
        out.appendString(target)
        out.appendString(vantage)
        if needsVersion2 { out.appendString(detail) }
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> MissedSlot {
        let slot = Int64(bitPattern: try c.readLE64())
        let raw = try c.readByte()
        guard let reason = Reason(rawValue: raw) else { throw c.corruption("unknown missed-slot reason \(raw)") }
        var m = MissedSlot(target: try c.readString(), vantage: try c.readString(), slotMicros: slot, reason: reason)
        if c.remaining > 0 { m.detail = try c.readString() }
        guard c.remaining == 0 else { throw c.corruption("\(c.remaining) bytes left over in a missed-slot record") }
        return m
    }
}
