import DequeModule
import Foundation
import PathTSDB

/// A blocking queue of at most `capacity` items between one producer thread and one consumer
/// thread: the producer waits when it is full, the consumer when it is empty, so a fast reader
/// cannot run ahead of a slow writer by more than `capacity` batches of memory.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition` is
/// locked.
final class BoundedBatchQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = Deque<Element>()
    private let capacity: Int
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `item`, waiting for room. Returns false when the consumer has cancelled.
    func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Marks the end of the input, with the error that ended it, if any.
    func finish(throwing error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next item; nil at the end. Rethrows the producer's error once the items before it
    /// have been taken.
    func take() throws -> Element? {
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
    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Stops the producer: its next `put` returns false.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

/// Reading stopped because the consumer gave up.
struct ImportCancelled: Error {}

extension AtlasStreamReader {
    /// Reads `path` on a thread of its own while `consume` runs on the calling thread, so parsing
    /// and storing use both cores. Batches reach `consume` in input order; at most `inFlight`
    /// are waiting at any time. An error from either side stops both and is thrown here, after
    /// every batch read before a parse error has been consumed.
    public func readConcurrently(path: String, batchSize: Int = 1024, inFlight: Int = 4,
                                 consume: ([TraceRun]) throws -> Void) throws -> Summary {
        let queue = BoundedBatchQueue<[TraceRun]>(capacity: inFlight)
        let summary = SummaryBox()
        let reader = self
        let thread = Thread {
            do {
                summary.value = try reader.read(path: path, batchSize: batchSize) { batch in
                    guard queue.put(batch) else { throw ImportCancelled() }
                }
                queue.finish()
            } catch {
                queue.finish(throwing: error)
            }
        }
        thread.stackSize = 1 << 22
        thread.start()
        do {
            while let batch = try queue.take() { try consume(batch) }
        } catch {
            queue.cancel()
            // Wait for the reader to notice, so no thread outlives the call.
            queue.waitUntilFinished()
            throw error
        }
        return summary.value
    }
}

/// The reader thread's result, handed to the caller once the queue reports the end.
/// `@unchecked Sendable`: written by the reader before `finish()`, read by the caller after
/// `take()` returned nil, and the queue's lock orders the two.
private final class SummaryBox: @unchecked Sendable {
    var value = AtlasStreamReader.Summary()
}
