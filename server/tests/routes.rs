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
