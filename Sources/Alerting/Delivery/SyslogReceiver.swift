import Foundation
import PathTSDB

#if canImport(Glibc)
import Glibc
#endif

/// One RFC 5424 syslog message per alert, as a datagram to a local socket (`/dev/log`, where
/// journald or rsyslog listen). Severity maps to syslog's: critical → crit, warning → warning,
/// info → info; a resolved alert is notice.
struct SyslogReceiver: AlertReceiver {
    let config: ReceiverConfig

    func deliver(_ notification: QueuedNotification) async throws(AlertingError) {
        guard case .syslog(let socketPath, let facility) = config.kind else { return }
        let payload = try NotificationPayload.decode(notification.payload)
        let host = ProcessInfo.processInfo.hostName
        for (alert, line) in zip(payload.alerts, payload.summaryLines) {
            let level = alert.status == "resolved" ? 5 : (alert.severity == "critical" ? 2 : alert.severity == "warning" ? 4 : 6)
            let stamp = RFC3339.format(micros: notification.timeMicros)
            let message = "<\(facility * 8 + level)>1 \(stamp) \(host) smoketrace - alert [smoketrace@32473 id=\"\(alert.id)\" notification=\"\(notification.id)\"] \(line)"
            try send(Array(message.utf8), to: socketPath)
        }
    }

    private func send(_ bytes: [UInt8], to path: String) throws(AlertingError) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw AlertingError(.delivery, "receiver \(config.name): socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw AlertingError(.delivery, "receiver \(config.name): socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
        }
        let sent = withUnsafePointer(to: &address) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        guard sent == bytes.count else {
            throw AlertingError(.delivery, "receiver \(config.name): sendto \(path): \(String(cString: strerror(errno)))")
        }
    }
}
