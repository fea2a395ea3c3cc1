import Foundation
import Testing
@testable import Alerting
import PathTSDB
@testable import WebUI

/// The alerts page from alerts of known content: the evidence shown, the diff linked, forms only
/// when signed in, and nothing an alert's names could inject.
@Suite struct AlertsPageTests {
    static func alert(target: String) -> ActiveAlert {
        var e = AlertEvidence(kind: "path_changed")
        e.oldPathID = 3
        e.newPathID = 7
        e.diff = [.init(ttl: 1, old: "10.0.0.1", new: "10.0.0.1", change: "same"), .init(ttl: 2, old: "10.0.0.2", new: "10.9.9.9", change: "changed")]
        e.verdict = ["hop_count": .init(before: 5, after: 6, verdict: "worse"), "median_rtt_ms": .init(before: 20, after: 20.4, verdict: "same")]
        return ActiveAlert(id: 42, key: AlertKey(rule: "path", target: target, hop: 0), state: .firing, sinceMicros: 1_796_000_000_000_000,
                           firedMicros: 1_796_000_060_000_000, severity: .critical, labels: [:], annotations: ["summary": "path changed"],
                           value: 2, evidence: EvidenceJSON.encode(e))
    }

    func render(_ page: AlertsPage) throws -> String { try PageRenderer(version: "test").render("alerts", page.model()) }

    @Test func anAlertWithItsEvidenceItsDiffAndNoFormWithoutASession() throws {
        let page = AlertsPage(active: [Self.alert(target: "core/gw")], recent: [], silences: [], csrf: nil, hasRules: true)
        let html = try render(page)
        #expect(html.contains("<h3 id=\"alert-42\">path · <a href=\"/targets/core/gw\">core/gw</a></h3>"), "\(html)")
        #expect(html.contains("<a href=\"/diff?target=core%2Fgw&amp;old=3&amp;new=7\">diff of the paths</a>"))
        #expect(html.contains("<tr class=\"worse\"><td>hop_count</td><td>5</td><td>6</td><td>worse</td></tr>"))
        #expect(html.contains("<tr class=\"changed\"><td>2</td><td>10.0.0.2</td><td>10.9.9.9</td><td>changed</td></tr>"))
        #expect(!html.contains("<td>10.0.0.1</td><td>10.0.0.1</td>"))   // only the hops that differ
        #expect(!html.contains("<form method=\"post\" action=\"/alerts/42/ack\">") && html.contains("/login?next=/alerts"))
        let data = page.data()
        #expect(data.active.first?.diff == "/diff?target=core%2Fgw&old=3&new=7" && data.active.first?.evidence?.verdict?["hop_count"]?.verdict == "worse")
    }

    @Test func signedInEachAlertHasFormsCarryingTheCSRFToken() throws {
        let html = try render(AlertsPage(active: [Self.alert(target: "core/gw")], recent: [], silences: [], csrf: "abc123", hasRules: true))
        #expect(html.contains("<form method=\"post\" action=\"/alerts/42/ack\"><input type=\"hidden\" name=\"csrf\" value=\"abc123\">"))
        #expect(html.contains("<form method=\"post\" action=\"/alerts/42/silence\"><input type=\"hidden\" name=\"csrf\" value=\"abc123\">"))
        #expect(html.contains("<form class=\"inline\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"abc123\">"))
    }

    @Test func hostileNamesAreText() throws {
        let html = try render(AlertsPage(active: [Self.alert(target: "x/<script>alert(1)</script>")], recent: [], silences: [], csrf: "t", hasRules: true))
        #expect(!html.contains("<script>") && html.contains("x/&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("href=\"/targets/x/%3Cscript%3Ealert%281%29%3C/script%3E\""))
    }
}
