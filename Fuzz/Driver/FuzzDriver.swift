import Foundation
import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

/// `smoketrace-fuzz TARGET [ARGUMENT…]`.
///
/// Built with `-sanitize=fuzzer -DSMOKETRACE_LIBFUZZER` (`scripts/fuzz`), it hands TARGET to
/// libFuzzer and the other arguments to libFuzzer's own command line (a corpus directory,
/// `-runs=N`, `-max_total_time=S`…). Built plainly, it runs each file named (or each file of
/// each directory named) through TARGET once and prints what each came to: the way to replay a
/// crash that a fuzzing run saved.
@main struct FuzzDriver {
    static func main() {
        var arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(name: arguments[1]) else {
            let names = FuzzTarget.allCases.map(\.description).joined(separator: ", ")
            printError("usage: smoketrace-fuzz TARGET [libFuzzer arguments | FILE…]\ntargets: \(names)")
            exit(64)
        }
        let scratch: FuzzScratch
        do { scratch = try FuzzScratch() } catch {
            printError("smoketrace-fuzz: cannot make the scratch store: \(error)")
            exit(74)
        }
        defer { scratch.remove() }
        arguments.remove(at: 1)
        #if SMOKETRACE_LIBFUZZER
        FuzzSession.current = FuzzSession(target: target, scratch: scratch)
        exit(runLibFuzzer(arguments))
        #else
        exit(replay(target, files: Array(arguments.dropFirst()), scratch: scratch))
        #endif
    }

    /// Runs every file through `target`; 66 when a name is neither a file nor a directory.
    static func replay(_ target: FuzzTarget, files: [String], scratch: FuzzScratch) -> Int32 {
        var status: Int32 = 0
        for name in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) else {
                printError("smoketrace-fuzz: \(name): no such file")
                status = 66
                continue
            }
            let paths = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: name)) ?? []).sorted().map { name + "/" + $0 }
                : [name]
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                print("\(path): \(target.run(Array(data), scratch: scratch))")
            }
        }
        return status
    }

    static func printError(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

#if SMOKETRACE_LIBFUZZER
/// The target libFuzzer's callback runs: a C function pointer carries no context, so it is a
/// global, set once before libFuzzer starts and only read after.
struct FuzzSession: Sendable {
    let target: FuzzTarget
    let scratch: FuzzScratch
    nonisolated(unsafe) static var current: FuzzSession?
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

func runLibFuzzer(_ arguments: [String]) -> Int32 {
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    var argc = Int32(arguments.count)
    return argv.withUnsafeMutableBufferPointer { buffer in
        guard var base = buffer.baseAddress else { return 70 }
        return LLVMFuzzerRunDriver(&argc, &base) { fuzzOneInput($0, $1) }
    }
}

/// libFuzzer's callback, under the name its own objects refer to as well.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let session = FuzzSession.current else { return 0 }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = session.target.run(bytes, scratch: session.scratch)
    return 0
}
#endif
