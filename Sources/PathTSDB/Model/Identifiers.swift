/// A target's number in the store's catalog; stable for the life of the data directory.
public struct TargetID: RawRepresentable, Hashable, Comparable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A vantage point's number (the host or Atlas probe a trace ran from).
public struct VantageID: RawRepresentable, Hashable, Comparable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A distinct path's number in the path dictionary; every run refers to one.
public struct PathID: RawRepresentable, Hashable, Comparable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// An address's number in the address dictionary; 0 means "no reply".
public struct AddressID: RawRepresentable, Hashable, Comparable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The id of an unresponsive hop or a lost probe.
    public static let none = AddressID(rawValue: 0)
    /// Whether this is `none`: no reply.
    public var isNone: Bool { rawValue == 0 }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A segment's number: its file name (`segments/` and `rollups/`), unique for the life of the
/// data directory, and what a compacted segment lists as the sources it replaces.
package struct SegmentID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package let rawValue: UInt64
    package init(rawValue: UInt64) { self.rawValue = rawValue }
    package static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The id after this one.
    var next: SegmentID { SegmentID(rawValue: rawValue + 1) }
    package var description: String { String(rawValue) }
}

/// A WAL record's sequence number: one more than the record before it, across files. A segment
/// records the highest it holds (its high water); 0 is "none yet".
package struct WALSequence: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package let rawValue: UInt64
    package init(rawValue: UInt64) { self.rawValue = rawValue }
    package static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// Before the first record.
    static let none = WALSequence(rawValue: 0)
    /// The sequence after this one.
    var next: WALSequence { WALSequence(rawValue: rawValue &+ 1) }
    /// The sequence before this one (`.none` stays `.none`).
    var previous: WALSequence { WALSequence(rawValue: rawValue == 0 ? 0 : rawValue - 1) }
    package var description: String { String(rawValue) }
}
