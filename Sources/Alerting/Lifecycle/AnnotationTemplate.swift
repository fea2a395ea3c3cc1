import Foundation

/// Annotation templates: `{{target}}`, `{{hop}}`, `{{rule}}`, `{{severity}}`, `{{value}}` and
/// `{{detail}}` (what the condition found, in words) are replaced.
enum AnnotationTemplate {
    static func render(_ templates: [String: String], alert: ActiveAlert, detail: String) -> [String: String] {
        var out = [String: String]()
        var t = templates
        if t["summary"] == nil { t["summary"] = "{{rule}} on {{target}}: {{detail}}" }
        for (name, text) in t {
            out[name] = text
                .replacingOccurrences(of: "{{target}}", with: alert.key.target)
                .replacingOccurrences(of: "{{hop}}", with: alert.key.hop == 0 ? "destination" : String(alert.key.hop))
                .replacingOccurrences(of: "{{rule}}", with: alert.key.rule)
                .replacingOccurrences(of: "{{severity}}", with: alert.severity.rawValue)
                .replacingOccurrences(of: "{{value}}", with: alert.value.isNaN ? "" : ConditionEvaluator.number(alert.value))
                .replacingOccurrences(of: "{{detail}}", with: detail)
        }
        return out
    }
}
