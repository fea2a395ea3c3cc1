import Foundation
import Testing

/// The web pages in a real browser: headless Chromium (from Debian, installed by
/// scripts/setup) loads them from a running server and the DOM it builds is checked. The pages
/// carry no script at all (checked on what the server sends), so what the browser shows needs
/// none. (Chromium's `--dump-dom` itself needs script, so it cannot be turned off here.)
@Suite(.serialized) struct BrowserTests {
    /// The DOM Chromium builds for `url`.
    static func dom(_ url: URL) async throws -> String {
        let profile = TemporaryDirectory("smoketrace-chromium")
        defer { profile.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
                       "--timeout=20000", "--dump-dom", url.absoluteString]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Read to the end before waiting: a page larger than the pipe's buffer would block it.
        let data = try await Task.detached { try out.fileHandleForReading.readToEnd() ?? Data() }.value
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "chromium exited with \(p.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }

    /// A screenshot of `url` by Chromium at `width`×`height`, dark or light; the PNG's bytes.
    static func screenshot(_ url: URL, width: Int, height: Int, dark: Bool) async throws -> [UInt8] {
        let profile = TemporaryDirectory("smoketrace-chromium")
        defer { profile.remove() }
        let file = profile.path + "/shot.png"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--hide-scrollbars",
                       "--timeout=20000", "--window-size=\(width),\(height)", "--screenshot=\(file)"] + (dark ? ["--force-dark-mode"] : [])
            + [url.absoluteString]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "chromium exited with \(p.terminationStatus)")
        return [UInt8](FileManager.default.contents(atPath: file) ?? Data())
    }

    /// A PNG's width and height, from its header (RFC 2083: the IHDR chunk after the 8-byte
    /// signature).
    static func pngSize(_ png: [UInt8]) -> (Int, Int)? {
        guard png.count > 24, png[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        func be32(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// The target page at the sizes the README shows (desktop and phone, light and dark).
    @Test func screenshotsAtFixedSizes() async throws {
        let server = try ServerTests.Running()
        defer { server.finish() }
        _ = try await http("POST", server.base.api("/api/v1/runs"), body: ServerTests.json("lab/a", ServerTests.runs("lab/a", count: 30)),
                           token: ServerTests.token)
        let url = server.base.api("/targets/lab/a", [("range", "30d")])
        var sizes = Set<Int>()
        for (width, height, dark) in [(1280, 900, false), (1280, 900, true), (390, 844, false), (390, 844, true)] {
            let png = try await Self.screenshot(url, width: width, height: height, dark: dark)
            let size = try #require(Self.pngSize(png), "not a PNG (\(png.count) bytes)")
            #expect(size == (width, height))
            sizes.insert(png.count)
        }
        // Light and dark differ: four different images.
        #expect(sizes.count == 4)
    }

    @Test func theOverviewTargetPageAndDiffRenderWithoutScript() async throws {
        let server = try ServerTests.Running()
        defer { server.finish() }
        _ = try await http("POST", server.base.api("/api/v1/runs"), body: ServerTests.json("lab/a", ServerTests.runs("lab/a", count: 30)),
                           token: ServerTests.token)
        // A browser at / lands on the overview.
        let overview = try await Self.dom(server.base.api("/"))
        #expect(overview.contains("<h1>Targets</h1>") && overview.contains("<a href=\"/targets/lab/a\">lab/a</a>"), "\(overview.prefix(2000))")
        // The target's page: four hops in the table, the path timeline, two heatmaps and a graph for each hop,
        // drawn as SVG in the DOM.
        let page = try await Self.dom(server.base.api("/targets/lab/a", [("range", "30d")]))
        #expect(page.contains("<td>10.77.0.4</td>"))
        #expect(page.components(separatedBy: "<svg ").count - 1 == 7)   // the path timeline, two heatmaps, and a graph per hop
        #expect(page.components(separatedBy: "role=\"img\"").count - 1 == 7)
        // Each chart labelled by its own title and description.
        let titles = page.components(separatedBy: "<title id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(titles.count == 7 && Set(titles).count == 7, "\(titles)")
        #expect(page.contains("\">lab/a — TTL 4</title>"))
        // Zooming by a link, as the browser found it in the page: the middle half of the range.
        let zoom = try #require(page.components(separatedBy: "\">zoom in</a>").first?.components(separatedBy: "<a href=\"").last)
        let zoomed = try await Self.dom(try #require(URL(string: zoom.replacingOccurrences(of: "&amp;", with: "&"), relativeTo: server.base)))
        #expect(zoomed.contains("<h1>lab/a</h1>") && zoomed.contains("\">zoom in</a>") && !zoomed.contains("aria-current=\"page\">30 days"),
                "\(zoom)")
        for path in ["/targets", "/targets/lab/a", "/diff?target=lab/a&old=1&new=1", "/alerts", "/login", "/console?q=paths", "/reports?period=week"] {
            let sent = try await http("GET", try #require(URL(string: path, relativeTo: server.base)))
            #expect(sent.status == 200 && !sent.text.lowercased().contains("<script"), "\(path)")
        }
        // A path's diff with itself: every TTL the same.
        let diff = try await Self.dom(server.base.api("/diff", [("target", "lab/a"), ("old", "1"), ("new", "1")]))
        #expect(diff.contains("<tr class=\"same\"><td>1</td><td>10.77.0.1</td><td>10.77.0.1</td><td>same</td>"), "\(diff.prefix(3000))")
    }
}
