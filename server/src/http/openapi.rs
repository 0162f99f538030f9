//! The OpenAPI document (`/openapi.json`), made from the route table.

use serde_json::{Value, json};

use super::routes::{Access, ROUTES, Route};

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = if name == "format" {
                json!({"type": "string", "enum": ["json", "xml"]})
            } else {
                json!({"type": "string"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The operation of an Authy route: API key security and Authy's error answers.
fn authy_operation(route: &Route) -> Value {
    json!({
        "summary": route.summary,
        "parameters": path_parameters(route.path),
        "security": [{"ApiKey": []}],
        "responses": {
            "200": {"description": "Success"},
            "400": {"description": "Invalid request (error_code 60002, 60004, 60027, 60029, 60033)"},
            "401": {"description": "Invalid API key (60001) or invalid token (60020, 60022)"},
            "403": {"description": "Application suspended (60061)"},
            "404": {"description": "Unknown user (60026), approval request (60049), phone verification (60023) or resource"},
            "429": {"description": "Too many failed attempts (60003)"},
        },
    })
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let operation = match route.access {
            Access::ApiKey => authy_operation(route),
            Access::Open { documented: true } => {
                json!({"summary": route.summary, "responses": {"200": {"description": "Healthy"}}})
            }
            Access::Device | Access::Open { documented: false } => continue,
        };
        let Some(method) = route.methods.first() else {
            continue;
        };
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[method.name()] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Countersign server (Authy-compatible API)", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Authy-API-Key"}}},
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_route_is_in_the_document_with_its_path_parameters() {
        let document = document();
        for route in ROUTES {
            let method = route.methods[0].name();
            let entry = &document["paths"][route.path][method];
            match route.access {
                Access::ApiKey => {
                    assert_eq!(entry["summary"], route.summary, "{}", route.path);
                    let names: Vec<&str> = entry["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    assert!(names.contains(&"format"), "{}", route.path);
                }
                Access::Open { documented: true } => assert!(entry.is_object()),
                _ => assert!(
                    document["paths"].get(route.path).is_none(),
                    "{}",
                    route.path
                ),
            }
        }
    }
}
