import Foundation
import Testing

/// The `stserver` built beside the test bundle.
let stserverPath: String = {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var dir = here
    // The bundle may sit inside `…/debug/X.xctest/…`; walk up to the build directory.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("stserver").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return here.appendingPathComponent("stserver").path
}()

/// SIGPIPE ignored once for the test process: writing to a program that has exited must fail
/// the write, not kill the tests.
let ignoringBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `stserver` with `arguments` (and `input` on standard input) to completion.
func stserver(_ arguments: [String], input: Data? = nil) throws -> CommandResult {
    try command(stserverPath, arguments, input: input)
}

/// Runs the program at `path` with `arguments` (and `input` on standard input) to completion.
func command(_ path: String, _ arguments: [String], input: Data? = nil) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let inPipe = Pipe()
    p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
    _ = ignoringBrokenPipes
    try p.run()
    if let input {
        // A program that stops reading early (it refused the input) closes the pipe: the write
        // then fails with EPIPE, which is no error of the test's.
        try? inPipe.fileHandleForWriting.write(contentsOf: input)
        try? inPipe.fileHandleForWriting.close()
    }
    // Read both pipes fully before waiting, so a large output cannot block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

struct TemporaryDirectory {
    let path: String
    init(_ label: String = "smoketrace-e2e") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension Trait where Self == ConditionTrait {
    /// For tests that build network namespaces, open raw sockets or mount file systems: run
    /// as root, as `.ci/run` checks that CI does; skipped, saying why, otherwise.
    static var needsRoot: Self {
        .enabled(if: geteuid() == 0, "needs root (network namespaces, raw sockets, mounts); .ci/run runs as root")
    }
}
