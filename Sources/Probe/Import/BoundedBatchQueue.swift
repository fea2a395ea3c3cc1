import DequeModule
import Foundation
import PathTSDB

/// A blocking queue of at most `capacity` items between one producer thread and one consumer
/// thread: the producer waits when it is full, the consumer when it is empty, so a fast reader
/// cannot run ahead of a slow writer by more than `capacity` batches of memory.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition` is
/// locked.
package final class BoundedBatchQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = Deque<Element>()
    private let capacity: Int
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `item`, waiting for room. Returns false when the consumer has cancelled.
    package func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Marks the end of the input, with the error that ended it, if any.
    package func finish(throwing error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next item; nil at the end. Rethrows the producer's error once the items before it
    /// have been taken.
    package func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if let item = items.popFirst() {
            condition.broadcast()
            return item
        }
        if let failure { throw failure }
        return nil
    }

    /// Waits until the producer has called `finish`.
    package func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Stops the producer: its next `put` returns false.
    package func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
