import Alerting
import Hummingbird
import Probe

/// The targets file through the API: list, add, change, remove, reload.
struct TargetController: Sendable {
    let registry: TargetRegistry
    let rules: RuleSet?
    let settings: ServerSettings

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.reads.get("targets") { _, _ in
            try jsonResponse(registry.targets.map { Schemas.Target($0) })
        }
        routes.writes.post("targets") { request, _ in
            let spec = try await RequestJSON.decode(TargetSpec.self, from: request, limit: settings.maxBodyBytes)
            let list = try await registry.edit { try $0.add(spec) }
            return try jsonResponse(try Schemas.Target(list.first { $0.name == spec.name }), status: .created)
        }
        routes.writes.put("targets/**") { request, context in
            var spec = try await RequestJSON.decode(TargetSpec.self, from: request, limit: settings.maxBodyBytes)
            spec.name = context.parameters.getCatchAll().joined(separator: "/")
            let list = try await registry.edit { [spec] in try $0.update(spec) }
            return try jsonResponse(try Schemas.Target(list.first { $0.name == spec.name }))
        }
        routes.writes.delete("targets/**") { _, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            _ = try await registry.edit { try $0.remove(name) }
            return Response(status: .noContent)
        }
        // The rules file is read first: a bad one leaves both files' contents in force.
        routes.writes.post("reload") { _, _ in
            if let rules {
                let file = try await offload { [path = rules.path] in try RuleSet.read(path) }
                let targets = try await registry.reload()
                rules.engine.reload(file)
                return try jsonResponse(["targets": targets, "rules": file.rules.count])
            }
            return try jsonResponse(["targets": try await registry.reload()])
        }
    }
}
