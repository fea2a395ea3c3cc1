import Foundation
public import PathTSDB

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
