import Alerting
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PathTSDB
import Probe
import Query
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `stserver serve`: the HTTP API over the store, and the monitor when given a targets file.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (and trace the targets of --config on their schedule).",
        discussion: """
            Listens on 127.0.0.1 unless told otherwise. Writes (target changes, run ingest, reload) need a \
            bearer token from --token-file; reads are open unless --private-reads. SIGHUP reloads the targets \
            file and the rules file (each all or nothing); SIGINT or SIGTERM stop after the requests and traces in flight. With --listen HOST:0 the \
            port is chosen by the system; the first line printed says which.
            """)

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Address and port to listen on.")
    var listen: String = "127.0.0.1:8470"

    @Option(name: .long, help: "Targets file (YAML): trace its targets and manage them through the API.")
    var config: String?

    @Option(name: .long, help: "Alert rules file (YAML, docs/ALERTS.md): evaluate it after every run and deliver its notifications.")
    var rules: String?

    @Option(name: .long, help: "Vantage point name the runs are stored under.")
    var vantage: String = "local"

    @Option(name: .long, help: "File of API tokens, one per line ('#' starts a comment).")
    var tokenFile: String?

    @Flag(name: .long, help: "Reads need a token too.")
    var privateReads = false

    @Option(name: .long, help: "Largest request body, in bytes.")
    var maxBody: Int = 8 << 20

    @Option(name: .long, help: "Longest a query may run (e.g. 30s).")
    var queryTimeout: String = "30s"

    @Option(name: .long, help: "Close a connection that has not sent a whole request head this long after it opened or after its last answer (e.g. 10s).")
    var headerTimeout: String = "10s"

    @Option(name: .long, help: "Most rows a query answer may have.")
    var maxRows: Int = 1_000_000

    @Option(name: .long, help: "Run retention and compaction this often (e.g. 1h).")
    var maintenanceEvery: String = "1h"

    @Option(name: .long, help: "Drop raw data older than this once its rollups are written (e.g. 90d); keep it without.")
    var retention: String?

    @Option(name: .long, help: "When a run is acknowledged: always (once fsynced, syncs shared by the runs written meanwhile), never (once written; the kernel syncs), or an interval such as 1s (once written; synced at most this long after).")
    var sync: String = "always"

    @Option(name: .long, help: "Resolver for the names of hop addresses on the web pages: system (the first nameserver of /etc/resolv.conf), off, or ADDRESS[:PORT].")
    var reverseDNS: String = "system"

    @Option(name: .long, help: "At most this many traces at once.")
    var concurrency: Int = 64

    @Option(name: .long, help: "At most this many probes per second, all traces together.")
    var pps: Int = 10_000

    func run() async throws {
        try await reportingErrors {
            var settings = ServerSettings()
            let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 2, let port = Int(parts[parts.count - 1]), (0...65535).contains(port) else {
                throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:8470")
            }
            settings.host = parts.dropLast().joined(separator: ":").trimmingCharacters(in: ["[", "]"])
            settings.port = port
            settings.privateReads = privateReads
            settings.maxBodyBytes = maxBody
            settings.maxRows = maxRows
            guard let timeout = DurationText.parseMicros(queryTimeout) else { throw ValidationError("--query-timeout takes a duration such as 30s") }
            settings.queryTimeout = .microseconds(timeout)
            guard let headTimeout = DurationText.parseMicros(headerTimeout), headTimeout > 0 else {
                throw ValidationError("--header-timeout takes a duration such as 10s")
            }
            settings.headerTimeout = .microseconds(headTimeout)
            guard let every = DurationText.parseMicros(maintenanceEvery), every > 0 else {
                throw ValidationError("--maintenance-every takes a duration such as 1h")
            }
            switch reverseDNS {
            case "off": settings.reverseDNS = nil
            case "system": settings.reverseDNS = ReverseNameCache.Server.system()
            default:
                guard let server = ReverseNameCache.Server(reverseDNS) else {
                    throw ValidationError("--reverse-dns takes system, off or ADDRESS[:PORT], such as 127.0.0.1:5353")
                }
                settings.reverseDNS = server
            }
            if let tokenFile {
                settings.tokens = Set(try readTokens(tokenFile))
                guard !settings.tokens.isEmpty else { throw ValidationError("--token-file \(tokenFile) holds no token") }
            }
            var options = StoreOptions()
            options.walSync = try SyncPolicyText.parse(sync)
            if let retention {
                guard let r = DurationText.parseMicros(retention), r > 0 else { throw ValidationError("--retention takes a duration such as 90d") }
                options.rawRetention = .microseconds(r)
            }
            let db = try PathStore(directory: store.data, options: options)
            var logger = Logger(label: "smoketrace")
            logger.logLevel = .info
            let ruleSet = try rules.map { path in
                RuleSet(path: path, engine: try AlertEngine(store: db, rules: try RuleSet.read(path), logger: logger))
            }
            let engine = ruleSet?.engine
            let metrics = ServerMetrics()
            let monitor = config.map { _ in
                Monitor(store: db, vantage: vantage, maxConcurrent: concurrency, packetsPerSecond: pps,
                        onStored: { run, table in
                            engine?.markStored(target: run.target, table)
                            metrics.perTarget.observe(run)
                        })
            }
            let registry = try TargetRegistry(path: config, monitor: monitor, onInstall: { metrics.perTarget.configure($0) })
            let server = APIServer(store: db, registry: registry, monitor: monitor, settings: settings, metrics: metrics, rules: ruleSet)
            var services: [any Service] = [
                MaintenanceService(store: db, every: .microseconds(every), logger: logger),
                ReloadOnHangup(registry: registry, rules: ruleSet, logger: logger),
            ]
            if let ruleSet { services.append(AlertService(rules: ruleSet, registry: registry)) }
            if let monitor { services.append(MonitorService(monitor: monitor, registry: registry)) }
            let host = settings.host, configuredPort = settings.port, headDeadline = settings.headerTimeout
            let app = Application(
                router: server.buildRouter(),
                server: .http1(configuration: .init(additionalChannelHandlers: [RequestHeadGuard(timeout: headDeadline)])),
                configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "SmokeTrace/\(STServer.version)"),
                services: services,
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? configuredPort
                    // Written straight to the descriptor: tests and scripts read the port from it at once.
                    let line = "serving http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n"
                    var bytes = Array(line.utf8)
                    _ = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress, $0.count) }
                },
                logger: logger)
            try await app.runService()
            try db.close()
        }
    }
}
