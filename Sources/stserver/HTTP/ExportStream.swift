import Foundation
import Query

/// A query answer streamed chunk by chunk: the header, batches of rows, the end.
///
/// `@unchecked Sendable`: the response body writer calls `next()` from one task, one call after
/// the other (each on a Dispatch thread through `offload`), never two at once; the lock makes
/// that hand-over safe.
final class ExportStream: @unchecked Sendable {
    private var cursor: QueryCursor
    private var writer: ResultWriter
    private var state = 0  // 0 header, 1 rows, 2 done
    private let lock = NSLock()

    init(cursor: QueryCursor, format: OutputFormat) {
        self.cursor = cursor
        writer = ResultWriter(format: format, columns: cursor.columns.map(\.name))
    }

    var contentType: String { writer.contentType }

    /// The next piece of the answer, about 1 MiB (fewer, larger writes), or nil when complete.
    func next() throws -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        switch state {
        case 0:
            state = 1
            return Array(writer.header().utf8)
        case 1:
            if writer.format == .csv && cursor.rendersCSVDirectly {
                var out = [UInt8]()
                out.reserveCapacity(1 << 21)
                if try !cursor.nextCSV(into: &out) {
                    state = 2
                    out += Array(writer.finish().utf8)
                }
                return out
            }
            var out = ""
            while out.utf8.count < 1 << 20 {
                guard let rows = try cursor.next() else {
                    state = 2
                    return Array((out + writer.finish()).utf8)
                }
                out += writer.rows(rows)
            }
            return Array(out.utf8)
        default:
            return nil
        }
    }
}

