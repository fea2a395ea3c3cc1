@testable import Alerting
import Foundation
import FoundationNetworking
import PathTSDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each receiver against the real thing on this machine: Prometheus Alertmanager started here,
/// a program, the local MTA's sendmail (dma, delivering to /var/mail), a syslog datagram socket.
@Suite(.serialized) struct ReceiverTests {
    typealias E = AlertEngineTests

    /// A path flip on lab/a judged by rule `pc`, with the receivers of `receivers` (YAML); then
    /// the outbox delivered until `delivered` notifications went through (at most 20 s).
    static func fireAndDeliver(_ receivers: String, flipBack: Bool = false, delivered: Int = 1,
                               until done: @escaping (Outbox.Counts) -> Bool = { _ in false }) async throws -> AlertEngine {
        let dir = E.Directory()
        let store = try E.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try E.rules("rules:\n  - name: pc\n    when: { path_changed: {} }\n" + receivers))
        var runs = (0..<5).map { E.run($0, E.pathA) } + (5..<8).map { E.run($0, E.pathB) }
        if flipBack { runs += (8..<10).map { E.run($0, E.pathA) } }
        _ = try E.feed(runs, store: store, engine: engine)
        let delivery = Task { await engine.run(targets: { [] }, tick: .milliseconds(50)) }
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline && engine.outbox.counts.values.reduce(0, { $0 + $1.delivered }) < delivered
            && !engine.outbox.counts.values.contains(where: done) {
            try await Task.sleep(for: .milliseconds(50))
        }
        delivery.cancel()
        await delivery.value
        return engine
    }

    @Test func aProgramGetsTheNotificationOnStandardInputWithoutAShell() async throws {
        let dir = E.Directory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        // tee writes its standard input to the file named by its argument: a real program, and
        // an argument with a space and a ';' that a shell would split.
        let out = dir.path + "/got it; rm -rf x.json"
        let engine = try await Self.fireAndDeliver("receivers:\n  - name: run\n    program: { command: [/usr/bin/tee, \"\(out)\"] }\n    timeout: 60s\n")
        #expect(engine.outbox.counts["run"]?.delivered == 1)
        let payload = try JSONDecoder().decode(NotificationPayload.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(payload.alerts.map(\.rule) == ["pc"] && payload.status == "firing")
    }

    @Test func aProgramThatFailsIsRetriedAndCounted() async throws {
        let engine = try await Self.fireAndDeliver("receivers:\n  - name: run\n    program: { command: [/bin/false] }\n",
                                                   until: { $0.failedAttempts >= 2 })
        #expect(engine.outbox.counts["run"]?.delivered == 0)
        #expect(engine.outbox.counts["run"]?.failedAttempts == 2, "tried again after the first failure")
        #expect(engine.outbox.counts["run"]?.lastError?.contains("exited with status 1") == true)
        #expect(engine.outbox.waiting.count == 1, "kept in the outbox until it expires")
    }

    /// A program that exits without reading its input (a megabyte, more than a pipe holds) is
    /// delivered or failed by its exit status, and nothing half-written is left to trap on.
    @Test func aProgramThatDoesNotReadItsInputIsJudgedByItsExitStatus() async throws {
        let big = String(repeating: "x", count: 1 << 20)
        for _ in 0..<5 {
            try await ProgramRun.run(["/bin/true"], input: big, timeoutMicros: 10_000_000, receiver: "t")
            await #expect(throws: AlertingError.self) {
                try await ProgramRun.run(["/bin/false"], input: big, timeoutMicros: 10_000_000, receiver: "t")
            }
        }
        // One that runs past its timeout is stopped and counted as failed.
        let started = ContinuousClock.now
        await #expect(throws: AlertingError.self) {
            try await ProgramRun.run(["/bin/sleep", "30"], input: "", timeoutMicros: 300_000, receiver: "t")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func syslogGetsOneRFC5424DatagramPerAlert() async throws {
        let dir = E.Directory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/log.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let engine = try await Self.fireAndDeliver("receivers:\n  - name: log\n    syslog: { socket: \"\(path)\", facility: local3 }\n")
        #expect(engine.outbox.counts["log"]?.delivered == 1)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        let message = String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self)
        // local3 (19) × 8 + warning (4) = 156.
        #expect(message.hasPrefix("<156>1 "), "\(message)")
        #expect(message.contains(" smoketrace - alert [smoketrace@32473 id=\"1\"") && message.contains("[FIRING] warning: pc on lab/a"), "\(message)")
    }

    @Test(.needsRoot) func mailGoesThroughTheLocalMTA() async throws {
        let marker = "st-\(UUID().uuidString.prefix(8))@smoketrace.test"
        let engine = try await Self.fireAndDeliver("receivers:\n  - name: mail\n    email: { to: [root], from: \"\(marker)\" }\n")
        #expect(engine.outbox.counts["mail"]?.delivered == 1, "\(engine.outbox.counts)")
        // dma delivers in the background once sendmail has queued the message.
        var mail = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let box = (try? String(contentsOfFile: "/var/mail/root", encoding: .utf8)) ?? ""
            if let start = box.range(of: "From: \(marker)") {
                mail = String(box[start.lowerBound...].prefix(4000))
                if mail.contains("10.0.0.13") { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(mail.contains("Subject: [FIRING] warning: pc on lab/a"), "\(mail)")
        #expect(mail.contains("3\t10.0.0.3\t10.0.0.13\tchanged"), "the path diff is in the body: \(mail)")
    }

    @Test func alertmanagerShowsTheAlertAndDropsItWhenResolved() async throws {
        let dir = E.Directory()
        try FileManager.default.createDirectory(atPath: dir.path + "/data", withIntermediateDirectories: true)
        try "route:\n  receiver: noc\nreceivers:\n  - name: noc\n".write(toFile: dir.path + "/am.yml", atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        let am = Process()
        am.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-alertmanager")
        am.arguments = ["--config.file=\(dir.path)/am.yml", "--storage.path=\(dir.path)/data", "--web.listen-address=127.0.0.1:\(port)",
                        "--cluster.listen-address="]
        am.standardOutput = FileHandle.nullDevice
        am.standardError = FileHandle.nullDevice
        try am.run()
        defer { am.terminate(); am.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        // Ready once it answers.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? await Self.get(base + "/-/ready")) == nil { try await Task.sleep(for: .milliseconds(100)) }
        let receivers = "receivers:\n  - name: am\n    alertmanager: { url: \"\(base)\" }\n"
        var engine = try await Self.fireAndDeliver(receivers)
        #expect(engine.outbox.counts["am"]?.delivered == 1)
        let alerts = try JSONSerialization.jsonObject(with: try await Self.get(base + "/api/v2/alerts")) as? [[String: Any]] ?? []
        let labels = alerts.first?["labels"] as? [String: String]
        #expect(labels?["alertname"] == "pc" && labels?["target"] == "lab/a" && labels?["severity"] == "warning", "\(alerts)")
        let annotations = alerts.first?["annotations"] as? [String: String]
        #expect(annotations?["path_diff"] == "TTL 3: 10.0.0.3 -> 10.0.0.13", "\(alerts)")
        // The path flips back: the resolution (with its endsAt) takes it out of the active alerts.
        engine = try await Self.fireAndDeliver(receivers, flipBack: true, delivered: 2)
        #expect(engine.outbox.counts["am"]?.delivered == 2)
        let after = try JSONSerialization.jsonObject(with: try await Self.get(base + "/api/v2/alerts")) as? [[String: Any]] ?? []
        #expect(after.isEmpty, "\(after)")
    }

    static func get(_ url: String) async throws -> Data {
        guard let u = URL(string: url) else { throw URLError(.badURL) }
        let (data, response) = try await URLSession.shared.data(from: u)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw URLError(.badServerResponse) }
        return data
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that deliver to the machine's own mailbox: run as root, as `.ci/run` does.
    static var needsRoot: Self {
        .enabled(if: geteuid() == 0, "needs root (the local MTA delivers to /var/mail/root); .ci/run runs as root")
    }
}
