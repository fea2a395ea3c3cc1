package import PathTSDB

/// Something that takes notifications: one per receiver of the rules file. `deliver` returns
/// once the receiver has taken the notification and throws when it did not (it is then tried
/// again, with backoff, until it expires).
package protocol AlertReceiver: Sendable {
    var config: ReceiverConfig { get }
    func deliver(_ notification: QueuedNotification) async throws(AlertingError)
}

extension ReceiverConfig {
    /// The receiver that delivers as this configuration says.
    package func makeReceiver() -> any AlertReceiver {
        switch kind {
        case .webhook: WebhookReceiver(config: self)
        case .alertmanager: AlertmanagerReceiver(config: self)
        case .program: ProgramReceiver(config: self)
        case .email: MailReceiver(config: self)
        case .syslog: SyslogReceiver(config: self)
        }
    }
}
