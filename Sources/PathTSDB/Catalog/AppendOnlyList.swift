/// A list that only grows, whose copies share all but its newest entries.
///
/// The writer appends to the catalog while every snapshot holds a copy of it. With a plain
/// array the first append after a copy copies the whole array (each element retained), so a
/// monitor adding its 100,000th target paid for 100,000 entries. Here full chunks are sealed
/// and shared by every copy; an append after a copy copies the chunk references and the open
/// chunk only.
package struct AppendOnlyList<Element>: RandomAccessCollection {
    /// Entries per chunk: a power of two, so that finding an entry is a shift and a mask.
    @usableFromInline static var chunkShift: Int { 10 }
    @usableFromInline static var chunkSize: Int { 1 << chunkShift }

    @usableFromInline var sealed: [[Element]] = []
    @usableFromInline var open: [Element] = []

    package init() {}

    package var startIndex: Int { 0 }
    package var endIndex: Int { sealed.count << Self.chunkShift + open.count }

    @inlinable package subscript(position: Int) -> Element {
        let chunk = position >> Self.chunkShift
        return chunk < sealed.count ? sealed[chunk][position & (Self.chunkSize - 1)] : open[position - sealed.count << Self.chunkShift]
    }

    /// Adds `element` at the end.
    mutating func append(_ element: Element) {
        if open.capacity < Self.chunkSize { open.reserveCapacity(Self.chunkSize) }
        open.append(element)
        if open.count == Self.chunkSize {
            sealed.append(open)
            open = []
        }
    }
}

extension AppendOnlyList: Sendable where Element: Sendable {}

/// A dictionary that only grows, whose copies share all but its newest entries: new keys go to a
/// small dictionary of recent entries, merged into the shared one when it reaches a quarter of
/// its size, so an insert after a copy costs a copy of the recent part, not of everything.
struct AppendOnlyIndex<Key: Hashable, Value> {
    private var settled: [Key: Value] = [:]
    private var recent: [Key: Value] = [:]

    subscript(key: Key) -> Value? {
        if !recent.isEmpty, let v = recent[key] { return v }
        return settled[key]
    }

    /// Adds `value` for a key not held yet.
    mutating func insert(_ value: Value, for key: Key) {
        recent[key] = value
        if recent.count >= max(256, settled.count / 4) {
            settled.merge(recent) { old, _ in old }
            recent = [:]
        }
    }
}

extension AppendOnlyIndex: Sendable where Key: Sendable, Value: Sendable {}
