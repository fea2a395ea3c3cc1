import Foundation
import Yams

/// The OpenAPI 3.1 description of the HTTP API: `openapi.yaml`, built into the program, served
/// as it is at `GET /api/v1/openapi.yaml` and as JSON at `GET /api/v1/openapi.json`. The
/// end-to-end tests call every operation it lists and check it against the router's routes.
enum OpenAPIDocument {
    /// The document as written.
    static let yaml: [UInt8] = PackageResources.openapi_yaml

    /// The document as JSON, converted once.
    static let json: [UInt8] = {
        do {
            let tree = try Yams.load(yaml: String(decoding: yaml, as: UTF8.self))
            var data = try JSONSerialization.data(withJSONObject: tree as Any, options: [.sortedKeys])
            data.append(0x0A)
            return Array(data)
        } catch {
            // The tests read the document on every run, so a broken one never ships; say so if it did.
            return Array("{\"error\": \"openapi.yaml does not parse: \(error)\"}\n".utf8)
        }
    }()
}
