import DequeModule
import Foundation
import PathTSDB

#if canImport(Glibc)
import Glibc
#endif

/// The native prober's one I/O thread, as scamper has one event loop: it sends every probe at
/// the paced rate, reads every reply socket, and ends the batches whose deadline has passed, all
/// from one poll(2) loop. Replies, deadlines and the next batches of a trace (started from the
/// callbacks of the batch that ended) never cross threads; only a trace's first batch and its
/// final answer do.
///
/// `@unchecked Sendable`: `inbox`, `sockets` and `running` are touched only under `lock`; every
/// other stored property only on the loop thread.
final class ProbeLoop: @unchecked Sendable {
    struct Probe {
        var id: UInt16
        var ttl: UInt8
        var bytes: [UInt8]
    }

    struct Batch {
        var socket: RawSocket
        var destination: IPAddress
        var probes: [Probe]
        var waiter: HopWaiter
        var wait: Duration
    }

    typealias DatagramHandler = @Sendable (_ socket: RawSocket, _ tcp: Bool, _ datagram: RawSocket.Datagram) -> Void

    private let lock = NSLock()
    private var inbox: [Batch] = []
    private var sockets: [(RawSocket, Bool)] = []
    private var running = true
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var loopThread: pthread_t?

    // Loop thread only.
    private var queue = Deque<Batch>()
    private var deadlines: [(deadline: ContinuousClock.Instant, waiter: HopWaiter)] = []
    private var next = ContinuousClock.now
    private let interval: Duration
    /// How far ahead of the average rate an idle loop may send: a short burst, never more.
    private let burst: Duration = .milliseconds(5)
    private let stamp: @Sendable ([(UInt16, Int64)]) -> Void
    private let handle: DatagramHandler

    /// - Parameters:
    ///   - stamp: records probes' send times (microseconds since the epoch) by their ids.
    ///   - handle: reads one received datagram (on the loop thread).
    init(packetsPerSecond: Int, stamp: @escaping @Sendable ([(UInt16, Int64)]) -> Void, handle: @escaping DatagramHandler) {
        interval = .nanoseconds(1_000_000_000 / Int64(max(1, packetsPerSecond)))
        self.stamp = stamp
        self.handle = handle
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        let thread = Thread { [weak self] in self?.run() }
        thread.name = "smoketrace-native-io"
        thread.start()
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Hands a batch to the loop: sent when the rate allows, its deadline started once sent.
    func enqueue(_ batch: Batch) {
        lock.lock()
        inbox.append(batch)
        let fromLoop = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        lock.unlock()
        if !fromLoop { wake() }
    }

    /// Reads `socket` from now on (`tcp`: it receives TCP, not ICMP).
    func watch(_ socket: RawSocket, tcp: Bool) {
        lock.lock()
        sockets.append((socket, tcp))
        lock.unlock()
        wake()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
        wake()
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    // MARK: - The loop

    private func run() {
        lock.lock()
        loopThread = pthread_self()
        lock.unlock()
        var buffer = [UInt8](repeating: 0, count: 2048)
        var watched: [(RawSocket, Bool)] = []
        while true {
            lock.lock()
            let keepGoing = running
            queue.append(contentsOf: inbox)
            inbox.removeAll(keepingCapacity: true)
            if watched.count != sockets.count { watched = sockets }
            lock.unlock()
            guard keepGoing else { break }

            sendDue()
            expireDue()

            // Sleep until a reply, a wake-up, the next send slot or the next deadline.
            var timeout = Duration.milliseconds(200)
            let now = ContinuousClock.now
            if !queue.isEmpty {
                let slot = max(next, now - burst)
                timeout = min(timeout, max(.zero, now.duration(to: slot)))
            }
            if let d = deadlines.first { timeout = min(timeout, max(.zero, now.duration(to: d.deadline))) }
            lock.lock()
            if !inbox.isEmpty { timeout = .zero }
            lock.unlock()
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for (s, _) in watched { fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)) }
            let c = timeout.components
            let ms = Int32(c.seconds * 1000 + (c.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            let ready = poll(&fds, nfds_t(fds.count), ms)
            guard ready > 0 else { continue }
            if fds[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 256)
                while read(wakeRead, &sink, sink.count) > 0 {}
            }
            var received = false
            for (i, (socket, tcp)) in watched.enumerated() where fds[i + 1].revents != 0 {
                // Everything queued now; RTTs come from kernel timestamps, so reading in batches
                // costs no accuracy.
                while let d = socket.receive(into: &buffer, wait: false) {
                    handle(socket, tcp, d)
                    received = true
                }
            }
            // While replies stream in, gather them for a millisecond rather than waking for each.
            if received && queue.isEmpty { usleep(1000) }
        }
        let left = Array(queue) + inbox
        for b in left { b.waiter.fail(ProbeError(.tracerFailed, "the prober was shut down")) }
        for d in deadlines { d.waiter.expire() }
    }

    /// Sends the batches whose slot has come (up to a millisecond early).
    private func sendDue() {
        while let batch = queue.first {
            let now = ContinuousClock.now
            let slot = max(next, now - burst)
            guard now.duration(to: slot) <= .milliseconds(1) else { return }
            queue.removeFirst()
            next = slot + interval * batch.probes.count
            // Send times are noted as each probe leaves and recorded together afterwards: the
            // answers are read on this thread too, so none can come before the record.
            var times = [(UInt16, Int64)]()
            times.reserveCapacity(batch.probes.count)
            do {
                for p in batch.probes {
                    times.append((p.id, WallClock.nowMicros()))
                    try batch.socket.send(p.bytes, to: batch.destination, hopLimit: p.ttl)
                }
                stamp(times)
                push(batch.waiter, at: .now + batch.wait)
            } catch {
                stamp(times)
                batch.waiter.fail(error)
            }
        }
    }

    /// Ends the batches whose deadline has passed.
    private func expireDue() {
        let now = ContinuousClock.now
        while let first = deadlines.first, first.deadline <= now {
            pop().expire()
        }
    }

    // A binary min-heap of deadlines.

    private func push(_ waiter: HopWaiter, at deadline: ContinuousClock.Instant) {
        deadlines.append((deadline, waiter))
        var i = deadlines.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard deadlines[i].deadline < deadlines[parent].deadline else { break }
            deadlines.swapAt(i, parent)
            i = parent
        }
    }

    private func pop() -> HopWaiter {
        let top = deadlines[0].waiter
        let last = deadlines.removeLast()
        if !deadlines.isEmpty {
            deadlines[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < deadlines.count && deadlines[l].deadline < deadlines[m].deadline { m = l }
                if r < deadlines.count && deadlines[r].deadline < deadlines[m].deadline { m = r }
                guard m != i else { break }
                deadlines.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
