import Foundation

/// The OpenAPI 3.1 description of the HTTP API, served at `GET /api/v1/openapi.json`. The
/// end-to-end tests call every operation it lists and check the answers against it.
enum OpenAPIDocument {
    /// The methods the document lists for each path, `{name}` standing for the rest of a path.
    static let operations: [(path: [Substring], methods: [String])] = {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let paths = doc["paths"] as? [String: [String: Any]] else { return [] }
        return paths.map { path, item in
            (path.split(separator: "/"), ["get", "post", "put", "delete"].filter { item[$0] != nil }.map { $0.uppercased() })
        }
    }()

    /// The methods documented for `path`; empty when the path is not in the document.
    static func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/")
        for op in operations {
            if op.path.last == "{name}" {
                let fixed = op.path.dropLast()
                if parts.count > fixed.count && Array(parts.prefix(fixed.count)) == Array(fixed) { return op.methods }
            } else if parts == op.path {
                return op.methods
            }
        }
        return []
    }

    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "SmokeTrace",
        "version": "0.1.0",
        "description": "Traceroute results over time: per-hop statistics, paths, path changes. Reads are open unless the server runs with --private-reads; writes need a bearer token. Queries use the language of docs/QUERY.md. Errors are JSON objects {error, line?, column?}."
      },
      "servers": [
        {
          "url": "http://127.0.0.1:8470"
        }
      ],
      "components": {
        "securitySchemes": {
          "bearer": {
            "type": "http",
            "scheme": "bearer"
          }
        },
        "parameters": {
          "format": {
            "name": "format",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "json",
                "csv",
                "table"
              ]
            },
            "description": "Answer format."
          },
          "at": {
            "name": "at",
            "in": "query",
            "schema": {
              "type": "string",
              "pattern": "^(now|newest|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$"
            },
            "description": "What relative times count from: now (default), newest (the newest data held) or an RFC 3339 time."
          },
          "target": {
            "name": "target",
            "in": "query",
            "schema": {
              "type": "string",
              "minLength": 1
            },
            "description": "A target name; repeat for several."
          },
          "group": {
            "name": "group",
            "in": "query",
            "schema": {
              "type": "string",
              "minLength": 1
            },
            "description": "A group of the targets file; repeat for several."
          },
          "from": {
            "name": "from",
            "in": "query",
            "schema": {
              "type": "string",
              "pattern": "^(now|-[0-9]+[smhdw]([0-9]+[smhdw])*|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$"
            },
            "description": "Start: RFC 3339, now, or an offset such as -24h."
          },
          "to": {
            "name": "to",
            "in": "query",
            "schema": {
              "type": "string",
              "pattern": "^(now|-[0-9]+[smhdw]([0-9]+[smhdw])*|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$"
            },
            "description": "End (excluded): RFC 3339, now, or an offset."
          }
        },
        "responses": {
          "Error": {
            "description": "The request failed; the body says why.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Rows": {
            "description": "The answer: JSON (an array of objects keyed by column), CSV with a header row, or an aligned table.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "type": "object"
                  }
                }
              },
              "text/csv": {},
              "text/plain": {}
            }
          }
        },
        "schemas": {
          "Error": {
            "type": "object",
            "required": [
              "error"
            ],
            "properties": {
              "error": {
                "type": "string"
              },
              "line": {
                "type": "integer"
              },
              "column": {
                "type": "integer"
              }
            }
          },
          "Health": {
            "type": "object",
            "required": [
              "status",
              "version",
              "targets",
              "stored_targets",
              "segments"
            ],
            "properties": {
              "status": {
                "type": "string"
              },
              "version": {
                "type": "string"
              },
              "targets": {
                "type": "integer"
              },
              "stored_targets": {
                "type": "integer"
              },
              "segments": {
                "type": "integer"
              },
              "newest_run": {
                "type": "string"
              },
              "monitor": {
                "type": "object",
                "properties": {
                  "started": {
                    "type": "integer"
                  },
                  "stored": {
                    "type": "integer"
                  },
                  "failed": {
                    "type": "integer"
                  },
                  "missed": {
                    "type": "integer"
                  }
                }
              }
            }
          },
          "Target": {
            "type": "object",
            "required": [
              "name",
              "address",
              "tool",
              "method",
              "interval_s",
              "probes",
              "first_ttl",
              "max_ttl",
              "tags"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "address": {
                "type": "string"
              },
              "tool": {
                "type": "string"
              },
              "method": {
                "type": "string"
              },
              "interval_s": {
                "type": "number"
              },
              "probes": {
                "type": "integer"
              },
              "first_ttl": {
                "type": "integer"
              },
              "max_ttl": {
                "type": "integer"
              },
              "tags": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          },
          "TargetSpec": {
            "type": "object",
            "required": [
              "name",
              "address"
            ],
            "properties": {
              "name": {
                "type": "string",
                "description": "Group path and name: core/gw.",
                "minLength": 1,
                "pattern": "^[^/]+(/[^/]+)*$"
              },
              "address": {
                "type": "string",
                "minLength": 1
              },
              "method": {
                "type": "string",
                "enum": [
                  "udp",
                  "icmp",
                  "tcp",
                  "udp-paris",
                  "icmp-paris",
                  "tcp-paris"
                ]
              },
              "tool": {
                "type": "string",
                "enum": [
                  "traceroute",
                  "tcptraceroute",
                  "mtr",
                  "scamper"
                ]
              },
              "interval": {
                "type": "string",
                "pattern": "^[0-9]+(ms|s|m|h|d)$"
              },
              "probes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10
              },
              "first_ttl": {
                "type": "integer",
                "minimum": 1,
                "maximum": 255
              },
              "max_ttl": {
                "type": "integer",
                "minimum": 1,
                "maximum": 255
              },
              "wait": {
                "type": "string",
                "pattern": "^[0-9]+(ms|s|m|h|d)$"
              },
              "flow": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535
              },
              "port": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535
              },
              "tags": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "mda": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 1,
                "description": "MDA confidence, native prober only."
              }
            }
          },
          "Run": {
            "type": "object",
            "required": [
              "target",
              "start",
              "destination",
              "probes"
            ],
            "properties": {
              "target": {
                "type": "string",
                "minLength": 1
              },
              "vantage": {
                "type": "string"
              },
              "method": {
                "type": "string"
              },
              "flow": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535
              },
              "start": {
                "type": "string",
                "format": "date-time"
              },
              "end": {
                "type": "string",
                "format": "date-time"
              },
              "destination": {
                "type": "string",
                "minLength": 2
              },
              "reached": {
                "type": "boolean"
              },
              "probes": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Probe"
                }
              }
            }
          },
          "Probe": {
            "type": "object",
            "required": [
              "ttl"
            ],
            "description": "A probe without an address was lost.",
            "properties": {
              "ttl": {
                "type": "integer",
                "minimum": 1,
                "maximum": 255
              },
              "address": {
                "type": "string"
              },
              "rtt_us": {
                "type": "integer",
                "minimum": 0,
                "maximum": 4294967295
              },
              "reply_ttl": {
                "type": "integer",
                "minimum": 0,
                "maximum": 255
              },
              "icmp_type": {
                "type": "integer",
                "minimum": 0,
                "maximum": 255
              },
              "icmp_code": {
                "type": "integer",
                "minimum": 0,
                "maximum": 255
              },
              "mpls": {
                "type": "array",
                "items": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 4294967295
                }
              }
            }
          },
          "Ingested": {
            "type": "object",
            "required": [
              "runs",
              "probes"
            ],
            "properties": {
              "runs": {
                "type": "integer"
              },
              "probes": {
                "type": "integer"
              },
              "failed": {
                "type": "integer",
                "description": "Atlas results that reported an error instead of hops, stored as failed traces (the missed query kind shows them)"
              }
            }
          },
          "Reloaded": {
            "type": "object",
            "required": [
              "targets"
            ],
            "properties": {
              "targets": {
                "type": "integer"
              }
            }
          }
        }
      },
      "paths": {
        "/": {
          "get": {
            "summary": "Where the API is.",
            "responses": {
              "200": {
                "description": "A line of text.",
                "content": {
                  "text/plain": {}
                }
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/metrics": {
          "get": {
            "summary": "The server's figures in Prometheus exposition format.",
            "responses": {
              "200": {
                "description": "Metrics.",
                "content": {
                  "text/plain": {}
                }
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/openapi.json": {
          "get": {
            "summary": "This document.",
            "responses": {
              "200": {
                "description": "OpenAPI 3.1.",
                "content": {
                  "application/json": {}
                }
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/health": {
          "get": {
            "summary": "Whether the server runs, with the store's and the monitor's figures.",
            "responses": {
              "200": {
                "description": "Health.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Health"
                    }
                  }
                }
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/query": {
          "get": {
            "summary": "Run a query.",
            "parameters": [
              {
                "name": "q",
                "in": "query",
                "required": true,
                "schema": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 16384
                },
                "description": "The query text."
              },
              {
                "$ref": "#/components/parameters/format"
              },
              {
                "$ref": "#/components/parameters/at"
              }
            ],
            "responses": {
              "200": {
                "$ref": "#/components/responses/Rows"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "422": {
                "$ref": "#/components/responses/Error"
              },
              "503": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          },
          "post": {
            "summary": "Run a query sent as the body.",
            "parameters": [
              {
                "$ref": "#/components/parameters/format"
              },
              {
                "$ref": "#/components/parameters/at"
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "text/plain": {
                  "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 16384
                  }
                }
              }
            },
            "responses": {
              "200": {
                "$ref": "#/components/responses/Rows"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "422": {
                "$ref": "#/components/responses/Error"
              },
              "503": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/export": {
          "get": {
            "summary": "Every probe of a selection, one row each (target, start, ttl, probe, address, rtt_us), streamed; or the answer of q.",
            "parameters": [
              {
                "$ref": "#/components/parameters/target"
              },
              {
                "$ref": "#/components/parameters/group"
              },
              {
                "$ref": "#/components/parameters/from"
              },
              {
                "$ref": "#/components/parameters/to"
              },
              {
                "name": "hop",
                "in": "query",
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 255
                },
                "description": "A TTL; repeat for several."
              },
              {
                "name": "q",
                "in": "query",
                "schema": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 16384
                },
                "description": "Export this query's answer instead."
              },
              {
                "$ref": "#/components/parameters/format"
              },
              {
                "$ref": "#/components/parameters/at"
              }
            ],
            "responses": {
              "200": {
                "$ref": "#/components/responses/Rows"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/paths": {
          "get": {
            "summary": "The routes of the selected targets with their lifetimes (a paths query).",
            "parameters": [
              {
                "$ref": "#/components/parameters/target"
              },
              {
                "$ref": "#/components/parameters/group"
              },
              {
                "$ref": "#/components/parameters/from"
              },
              {
                "$ref": "#/components/parameters/to"
              },
              {
                "$ref": "#/components/parameters/format"
              },
              {
                "$ref": "#/components/parameters/at"
              }
            ],
            "responses": {
              "200": {
                "$ref": "#/components/responses/Rows"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/changes": {
          "get": {
            "summary": "Path-change events of the selected targets (a changes query).",
            "parameters": [
              {
                "$ref": "#/components/parameters/target"
              },
              {
                "$ref": "#/components/parameters/group"
              },
              {
                "$ref": "#/components/parameters/from"
              },
              {
                "$ref": "#/components/parameters/to"
              },
              {
                "$ref": "#/components/parameters/format"
              },
              {
                "$ref": "#/components/parameters/at"
              }
            ],
            "responses": {
              "200": {
                "$ref": "#/components/responses/Rows"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/targets": {
          "get": {
            "summary": "The targets of the targets file, settings resolved.",
            "responses": {
              "200": {
                "description": "Targets.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Target"
                      }
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          },
          "post": {
            "summary": "Add a target to the targets file (its groups are created as needed).",
            "security": [
              {
                "bearer": []
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/TargetSpec"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Added.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Target"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "409": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/targets/{name}": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "The target's full name; its '/' separators stay as they are in the path (core/gw)."
            }
          ],
          "put": {
            "summary": "Replace a target's address and settings.",
            "security": [
              {
                "bearer": []
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/TargetSpec"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Changed.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Target"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          },
          "delete": {
            "summary": "Remove a target from the targets file (its data stays in the store).",
            "security": [
              {
                "bearer": []
              }
            ],
            "responses": {
              "204": {
                "description": "Removed."
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/reload": {
          "post": {
            "summary": "Re-read the targets file.",
            "security": [
              {
                "bearer": []
              }
            ],
            "responses": {
              "200": {
                "description": "Reloaded.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Reloaded"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/api/v1/runs": {
          "post": {
            "summary": "Store runs traced elsewhere: one Run, an array of them, or with format=atlas RIPE Atlas results. Answered once they are in the WAL.",
            "security": [
              {
                "bearer": []
              }
            ],
            "parameters": [
              {
                "name": "format",
                "in": "query",
                "schema": {
                  "type": "string",
                  "enum": [
                    "json",
                    "atlas"
                  ]
                }
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/Run"
                      },
                      {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/Run"
                        },
                        "minItems": 1
                      }
                    ]
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Stored.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Ingested"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              },
              "405": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        }
      }
    }
    """#
}
