import Foundation

/// A head cut handed to the cutter: the blocks to write and everything they were written with.
struct CutJob: Sendable {
    var blocks: [HeadBlock]
    /// The catalog and detector as they were when the cut began (values: later appends do not
    /// change them).
    var catalog: Catalog
    var detector: PathChangeDetector
    var segmentID: SegmentID
    /// WAL files that begin before this sequence hold only records of these blocks (or of
    /// earlier, finished cuts): they go once the segment is on disk. `.none` keeps every file.
    var walRotatedAt: WALSequence
}

/// The thread that writes head cuts as segments while the writer goes on appending. One cut at
/// a time: `submit` is only called when `isBusy` is false, and the writer waits (`waitUntilIdle`)
/// before it cuts again or when the head has grown to twice the cut size.
///
/// `@unchecked Sendable`: `job`, `busy` and `stopping` are read and written only with
/// `condition` locked; `perform` is itself `Sendable`.
final class SegmentCutter: @unchecked Sendable {
    private let condition = NSCondition()
    private var job: CutJob?
    private var busy = false
    private var stopping = false
    private var running = true
    private var thread: Thread?
    private let perform: @Sendable (CutJob) -> Void

    init(perform: @escaping @Sendable (CutJob) -> Void) {
        self.perform = perform
        let thread = Thread { [self] in self.loop() }
        thread.name = "pathtsdb-cutter"
        self.thread = thread
        thread.start()
    }

    var isBusy: Bool {
        condition.lock()
        defer { condition.unlock() }
        return busy
    }

    func submit(_ next: CutJob) {
        condition.lock()
        precondition(!busy, "a cut was submitted while another was in flight")
        job = next
        busy = true
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilIdle() {
        condition.lock()
        while busy { condition.wait() }
        condition.unlock()
    }

    /// Finishes the cut in flight, if any, and ends the thread. Called on the cutter thread
    /// itself (the store's last reference dropped there), it only asks the loop to end.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        if Thread.current != thread {
            while running { condition.wait() }
        }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while job == nil && !stopping { condition.wait() }
            guard let next = job else {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            job = nil
            condition.unlock()
            perform(next)
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
