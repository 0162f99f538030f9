//! Every route of the route table answers over real HTTP: the router is made from the same
//! list as the OpenAPI document, so a route listed but not routed (or routed to the wrong
//! method) fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use countersign_server::http::routes::{Access, Method, ROUTES};

/// A concrete path for a route pattern: `{format}` → json, the user's id, anything else x.
fn concrete(pattern: &str, user: i64) -> String {
    pattern
        .split('/')
        .map(|segment| match segment {
            "{format}" => "json".to_owned(),
            "{id}" => user.to_string(),
            s if s.starts_with('{') => "1".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_route_in_the_table_answers_each_of_its_methods() {
    let server = common::Server::start(&common::Options::default());
    let user = server.new_user("555-010-0042");
    let http = reqwest::blocking::Client::new();
    assert!(ROUTES.len() >= 24, "the table lists every route");
    for route in ROUTES {
        let url = format!("{}{}", server.base_url, concrete(route.path, user));
        for method in route.methods {
            let request = match method {
                Method::Get => http.get(&url),
                Method::Post => http.post(&url),
            };
            let status = request.send().unwrap().status().as_u16();
            // Without credentials: the API key routes ask for a key, the device routes for a
            // signature or a body; the open routes answer.
            let expected: &[u16] = match route.access {
                Access::ApiKey => &[401],
                Access::Device => &[400, 401],
                Access::Open { .. } => &[200],
            };
            assert!(
                expected.contains(&status),
                "{} {} answered {status}",
                method.name(),
                route.path
            );
        }
    }
    let unrouted = http
        .get(format!("{}/protected/json/not/a/route", server.base_url))
        .send()
        .unwrap();
    assert_eq!(unrouted.status().as_u16(), 404);
}

/// With the app's key and no parameters, every Authy route of the table, in either format and
/// for each of its methods, answers without a server error; a refusal is Authy's error shape
/// with one of Authy's error codes (`600xx`, a string).
#[test]
fn every_authy_route_answers_a_documented_answer_with_the_key() {
    let server = common::Server::start(&common::Options::default());
    let http = reqwest::blocking::Client::new();
    for (i, route) in ROUTES
        .iter()
        .filter(|r| r.access == Access::ApiKey)
        .enumerate()
    {
        // A user of its own: some routes (deletion) change it.
        let user = server.new_user(&format!("555-011-{i:04}"));
        for format in ["json", "xml"] {
            let path = concrete(route.path, user).replacen("/json/", &format!("/{format}/"), 1);
            let url = format!("{}{path}", server.base_url);
            for method in route.methods {
                let request = match method {
                    Method::Get => http.get(&url),
                    Method::Post => http.post(&url),
                };
                let response = request
                    .header("X-Authy-API-Key", &server.api_key)
                    .send()
                    .unwrap();
                let status = response.status().as_u16();
                let name = format!("{} {path}", method.name());
                assert!(status < 500, "{name} answered {status}");
                if format == "xml" {
                    continue;
                }
                let body: serde_json::Value = response.json().unwrap();
                if status == 200 {
                    assert_eq!(body["success"], serde_json::json!(true), "{name}: {body}");
                } else {
                    assert_eq!(body["success"], serde_json::json!(false), "{name}: {body}");
                    let code = body["error_code"].as_str().unwrap_or_default();
                    assert!(code.len() == 5 && code.starts_with("600"), "{name}: {body}");
                    assert_eq!(body["message"], body["errors"]["message"], "{name}");
                }
            }
        }
    }
}
