/// A scheduled run that did not start: when it was due, for which target, and why.
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

        /// The reason as the query language shows it.
        public var description: String {
            switch self {
            case .stillRunning: "still running"
            case .noCapacity: "no capacity"
            case .late: "late"
            }
        }
    }

    /// The target's name as the targets file gives it.
    public var target: String
    /// The vantage point whose monitor missed it.
    public var vantage: String
    /// When the run was due, microseconds since the epoch.
    public var slotMicros: Int64
    public var reason: Reason

    /// A missed slot of `target` at `slotMicros`.
    public init(target: String, vantage: String, slotMicros: Int64, reason: Reason) {
        self.target = target
        self.vantage = vantage
        self.slotMicros = slotMicros
        self.reason = reason
    }

    func encode(into out: inout [UInt8]) {
        out.appendLE(UInt64(bitPattern: slotMicros))
        out.append(reason.rawValue)
        out.appendString(target)
        out.appendString(vantage)
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> MissedSlot {
        let slot = Int64(bitPattern: try c.readLE64())
        let raw = try c.readByte()
        guard let reason = Reason(rawValue: raw) else { throw c.corruption("unknown missed-slot reason \(raw)") }
        return MissedSlot(target: try c.readString(), vantage: try c.readString(), slotMicros: slot, reason: reason)
    }
}
