import Foundation
import PathTSDB
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with the receiver's arguments (never through a shell) and the notification as
/// JSON on its standard input; exit status 0 is delivered. A program that runs past the
/// receiver's timeout is stopped and the attempt counts as failed.
struct ProgramReceiver: AlertReceiver {
    let config: ReceiverConfig

    func deliver(_ notification: QueuedNotification) async throws(AlertingError) {
        guard case .program(let command) = config.kind else { return }
        try await ProgramRun.run(command, input: notification.payload, timeoutMicros: config.timeoutMicros, receiver: config.name)
    }
}

/// Mail through the local sendmail interface (`sendmail -t -i`, which every MTA provides): a
/// plain-text message with one line per alert and the evidence.
struct MailReceiver: AlertReceiver {
    let config: ReceiverConfig

    func deliver(_ notification: QueuedNotification) async throws(AlertingError) {
        guard case .email(let to, let from, let sendmail) = config.kind else { return }
        let payload = try NotificationPayload.decode(notification.payload)
        let lines = payload.summaryLines
        let subject = lines.count == 1 ? lines[0] : "[\(payload.status.uppercased())] \(lines.count) SmokeTrace alerts (\(payload.groupKey))"
        let date = Self.rfc5322(Date(timeIntervalSince1970: Double(notification.timeMicros) / 1e6))
        var body = lines.joined(separator: "\n") + "\n"
        for a in payload.alerts {
            body += "\n\(a.rule) on \(a.target)\(a.hop.map { " hop \($0)" } ?? ""): \(a.status) since \(a.startsAt)\n"
            for (k, v) in a.annotations.sorted(by: { $0.key < $1.key }) { body += "  \(k): \(v)\n" }
            if let diff = a.evidence?.diff {
                body += "  path, old -> new:\n"
                for row in diff { body += "    \(row.ttl)\t\(row.old)\t\(row.new)\t\(row.change)\n" }
            }
            if let verdict = a.evidence?.verdict {
                for (k, c) in verdict.sorted(by: { $0.key < $1.key }) {
                    body += "  \(k): \(c.before.map { String($0) } ?? "-") -> \(c.after.map { String($0) } ?? "-"): \(c.verdict)\n"
                }
            }
        }
        let message = """
            From: \(from)
            To: \(to.joined(separator: ", "))
            Subject: \(subject.replacingOccurrences(of: "\n", with: " "))
            Date: \(date)
            Message-ID: <smoketrace-\(notification.id)-\(notification.timeMicros)@smoketrace>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            X-SmokeTrace-Notification: \(notification.id)

            \(body)
            """
        try await ProgramRun.run([sendmail, "-t", "-i"], input: message, timeoutMicros: config.timeoutMicros, receiver: config.name)
    }

    static func rfc5322(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}

enum ProgramRun {
    static func run(_ command: [String], input: String, timeoutMicros: Int64, receiver: String) async throws(AlertingError) {
        guard let first = command.first else { throw AlertingError(.delivery, "receiver \(receiver): no command") }
        let outcome: Result<String, AlertingError>
        do {
            outcome = try await withThrowingTaskGroup(of: Result<String, AlertingError>?.self) { group in
                // Standard input is a file, not a pipe written while the program runs: a program
                // that exits without reading it leaves nothing half-written behind.
                let stdin = try Self.inputFile(input)
                group.addTask {
                    let result = try await Subprocess.run(.path(FilePath(first)), arguments: Arguments(Array(command.dropFirst())),
                                                          input: .fileDescriptor(stdin, closeAfterSpawningProcess: true),
                                                          output: .discarded, error: .string(limit: 4096))
                    switch result.terminationStatus {
                    case .exited(0): return .success("")
                    case .exited(let code):
                        return .failure(AlertingError(.delivery, "receiver \(receiver): \(first) exited with status \(code): \(result.standardError.prefix(200))"))
                    case .signaled(let s):
                        return .failure(AlertingError(.delivery, "receiver \(receiver): \(first) was killed by signal \(s)"))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .microseconds(timeoutMicros))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first ?? .failure(AlertingError(.delivery, "receiver \(receiver): \(command[0]) ran past the timeout of \(timeoutMicros / 1_000_000) s and was stopped"))
            }
        } catch {
            throw AlertingError(.delivery, "receiver \(receiver): cannot run \(first): \(error)")
        }
        if case .failure(let e) = outcome { throw e }
    }

    /// `text` in an unlinked temporary file, open for reading from its start.
    static func inputFile(_ text: String) throws(AlertingError) -> FileDescriptor {
        var template = Array((FileManager.default.temporaryDirectory.path + "/smoketrace-notification-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw AlertingError(.delivery, "cannot make a temporary file: \(String(cString: strerror(errno)))") }
        _ = template.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { unlink($0) } }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw AlertingError(.delivery, "cannot write a temporary file: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
        lseek(fd, 0, SEEK_SET)
        return FileDescriptor(rawValue: fd)
    }
}
