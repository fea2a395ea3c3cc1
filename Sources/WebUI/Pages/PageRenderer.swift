import Mustache

/// Renders pages from the templates compiled into the module (`Templates/`): the page's own
/// template, then the layout around it. Values are HTML-escaped by the templates (`{{…}}`);
/// only SVG the chart writer made, and the page body, go in unescaped (`{{{…}}}`).
package struct PageRenderer: Sendable {
    private let layout: MustacheTemplate
    private let pages: [String: MustacheTemplate]
    private let version: String

    /// - Throws: when a template does not parse (a build defect, found by the tests).
    package init(version: String) throws {
        layout = try MustacheTemplate(string: String(decoding: PackageResources.layout_mustache, as: UTF8.self))
        pages = [
            "target": try MustacheTemplate(string: String(decoding: PackageResources.target_mustache, as: UTF8.self)),
            "targets": try MustacheTemplate(string: String(decoding: PackageResources.targets_mustache, as: UTF8.self)),
            "error": try MustacheTemplate(string: String(decoding: PackageResources.error_mustache, as: UTF8.self)),
            "diff": try MustacheTemplate(string: String(decoding: PackageResources.diff_mustache, as: UTF8.self)),
            "alerts": try MustacheTemplate(string: String(decoding: PackageResources.alerts_mustache, as: UTF8.self)),
            "login": try MustacheTemplate(string: String(decoding: PackageResources.login_mustache, as: UTF8.self)),
            "console": try MustacheTemplate(string: String(decoding: PackageResources.console_mustache, as: UTF8.self)),
            "report": try MustacheTemplate(string: String(decoding: PackageResources.report_mustache, as: UTF8.self)),
        ]
        self.version = version
    }

    /// An error page: what went wrong, in words.
    package func error(_ heading: String, _ message: String) -> String {
        render("error", ["title": heading, "heading": heading, "message": message])
    }

    /// The page `name` with `model`, inside the layout.
    package func render(_ name: String, _ model: [String: Any]) -> String {
        let body = pages[name]?.render(model) ?? ""
        return layout.render(["title": model["title"] ?? "SmokeTrace", "version": version, "body": body] as [String: Any])
    }
}
