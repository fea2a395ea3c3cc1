import ArgumentParser
import Foundation
import NIOHTTP1

/// `stserver alerts`: the alerts of a running server, and an operator's answers to them —
/// silences and acknowledgements — through its API.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List a running server's alerts; silence and acknowledge them.",
        discussion: """
            Examples:
              stserver alerts list --server http://127.0.0.1:8470
              stserver alerts silence --server URL --token-file tokens target=core/gw --for 2h --comment "maintenance"
              stserver alerts ack --server URL --token-file tokens 17 --comment "looking"
            """,
        subcommands: [List.self, History.self, Silence.self, Unsilence.self, Silences.self, Ack.self])

    struct Connection: ParsableArguments {
        @Option(name: .long, help: "The server (http://127.0.0.1:8470).")
        var server: String = "http://127.0.0.1:8470"

        @Option(name: .long, help: "A file whose first token line is sent as the bearer token.")
        var tokenFile: String?

        var client: APIClient { get throws { try APIClient(server: server, tokenFile: tokenFile) } }
    }

    static func print(_ bytes: [UInt8]) {
        let out = StandardOutput()
        out.write(String(decoding: bytes, as: UTF8.self))
        out.flush()
    }

    static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts pending or firing, with their evidence (JSON).")
        @OptionGroup var connection: Connection
        func run() async throws {
            try await reportingErrors { AlertsCommand.print(try await connection.client.send(.GET, "/api/v1/alerts")) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest alert transitions (JSON).")
        @OptionGroup var connection: Connection
        @Option(help: "At most this many.") var limit: Int = 100
        func run() async throws {
            try await reportingErrors {
                AlertsCommand.print(try await connection.client.send(.GET, "/api/v1/alerts/history", query: [("limit", String(limit))]))
            }
        }
    }

    struct Silence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silence the alerts whose labels match (LABEL=VALUE …).")
        @OptionGroup var connection: Connection
        @Argument(help: "Matchers: target=core/gw, rule=path-changed, severity=critical, …") var matchers: [String]
        @Option(name: .customLong("for"), help: "How long (e.g. 2h).") var duration: String = "2h"
        @Option(help: "Why.") var comment: String = ""
        @Option(help: "Who.") var author: String = ProcessInfo.processInfo.environment["USER"] ?? "cli"
        func run() async throws {
            try await reportingErrors {
                var m = [String: String]()
                for text in matchers {
                    let parts = text.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("matcher '\(text)': expected LABEL=VALUE") }
                    m[String(parts[0])] = String(parts[1])
                }
                let body = try AlertsCommand.json(["matchers": m, "duration": duration, "comment": comment, "author": author])
                AlertsCommand.print(try await connection.client.send(.POST, "/api/v1/silences", body: body))
            }
        }
    }

    struct Unsilence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @OptionGroup var connection: Connection
        @Argument(help: "The silence's id.") var id: UInt64
        func run() async throws {
            try await reportingErrors { _ = try await connection.client.send(.DELETE, "/api/v1/silences/\(id)") }
        }
    }

    struct Silences: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The silences not yet ended (JSON).")
        @OptionGroup var connection: Connection
        func run() async throws {
            try await reportingErrors { AlertsCommand.print(try await connection.client.send(.GET, "/api/v1/silences")) }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge a pending or firing alert: it is not sent again while it fires.")
        @OptionGroup var connection: Connection
        @Argument(help: "The alert's id.") var id: UInt64
        @Option(help: "Why.") var comment: String = ""
        @Option(help: "Who.") var author: String = ProcessInfo.processInfo.environment["USER"] ?? "cli"
        func run() async throws {
            try await reportingErrors {
                _ = try await connection.client.send(.POST, "/api/v1/alerts/\(id)/ack",
                                                     body: try AlertsCommand.json(["comment": comment, "author": author]))
            }
        }
    }
}
