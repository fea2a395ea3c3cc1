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
    private var deadlines = DeadlineQueue<HopWaiter>()
    /// Send times of the batch being sent, kept to reuse its storage.
    private var sendTimes: [(UInt16, Int64)] = []
    private var next = ContinuousClock.now
    private let interval: Duration
    /// How far ahead of the average rate an idle loop may send: a short burst, never more.
    private let burst: Duration = .milliseconds(5)
    /// When the rate holds probes back, the loop sleeps until this much sending is due and then
    /// sends it at once (with the millisecond `sendDue` allows early, one `burst`): a fifth of
    /// the wake-ups of waking for every slot, at the same average rate.
    private let coalescing: Duration = .milliseconds(4)
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
        var drain = [UInt8](repeating: 0, count: 256)
        var watched: [(RawSocket, Bool)] = []
        // The wake-up pipe, then every watched socket.
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            lock.lock()
            let keepGoing = running
            queue.append(contentsOf: inbox)
            inbox.removeAll(keepingCapacity: true)
            if watched.count != sockets.count {
                watched = sockets
                fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                for (s, _) in watched { fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)) }
            }
            lock.unlock()
            guard keepGoing else { break }

            sendDue()
            expireDue()

            // Sleep until a reply, a wake-up, the next send slot or the next deadline.
            var timeout = Duration.milliseconds(200)
            let now = ContinuousClock.now
            if !queue.isEmpty {
                let slot = max(next, now - burst)
                timeout = min(timeout, slot > now ? now.duration(to: slot + coalescing) : .zero)
            }
            if let d = deadlines.earliest { timeout = min(timeout, max(.zero, now.duration(to: d))) }
            lock.lock()
            if !inbox.isEmpty { timeout = .zero }
            lock.unlock()
            for i in fds.indices { fds[i].revents = 0 }
            let c = timeout.components
            let ms = Int32(c.seconds * 1000 + (c.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            let ready = poll(&fds, nfds_t(fds.count), ms)
            guard ready > 0 else { continue }
            if fds[0].revents != 0 {
                while read(wakeRead, &drain, drain.count) > 0 {}
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
        for w in deadlines.removeAll() { w.expire() }
    }

    /// Sends the batches whose slot has come (up to a millisecond early).
    private func sendDue() {
        while !queue.isEmpty {
            let now = ContinuousClock.now
            let slot = max(next, now - burst)
            guard now.duration(to: slot) <= .milliseconds(1) else { return }
            let batch = queue.removeFirst()
            next = slot + interval * batch.probes.count
            // Send times are noted as each probe leaves and recorded together afterwards: the
            // answers are read on this thread too, so none can come before the record.
            sendTimes.removeAll(keepingCapacity: true)
            do {
                for i in batch.probes.indices {
                    sendTimes.append((batch.probes[i].id, WallClock.nowMicros()))
                    try batch.socket.send(batch.probes[i].bytes, to: batch.destination, hopLimit: batch.probes[i].ttl)
                }
                stamp(sendTimes)
                deadlines.append(batch.waiter, wait: batch.wait, now: .now)
            } catch {
                stamp(sendTimes)
                batch.waiter.fail(error)
            }
        }
    }

    /// Ends the batches whose deadline has passed.
    private func expireDue() {
        deadlines.removeDue(at: .now) { $0.expire() }
    }
}
