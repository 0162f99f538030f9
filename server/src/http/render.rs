//! Answers in the requested format: compact JSON (clients look for `"token":"is valid"`
//! byte for byte) or XML in the shape Rails' `to_xml` gives Authy's XML API.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

pub fn respond(format: Format, status: StatusCode, body: &Value) -> Response {
    match format {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            write_element(&mut out, "hash", body);
            (
                status,
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// XML element names: Rails dasherises underscores; anything not a name character becomes
/// a dash so that user-chosen keys (details) stay well-formed.
fn element_name(key: &str) -> String {
    let name: String = key
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    match name.chars().next() {
        Some(c) if c.is_alphabetic() => name,
        _ => format!("key-{name}"),
    }
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    let tag = element_name(name);
    match value {
        Value::Null => out.push_str(&format!("<{tag} nil=\"true\"/>")),
        Value::Bool(b) => out.push_str(&format!("<{tag} type=\"boolean\">{b}</{tag}>")),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            out.push_str(&format!("<{tag} type=\"integer\">{n}</{tag}>"))
        }
        Value::Number(n) => out.push_str(&format!("<{tag} type=\"float\">{n}</{tag}>")),
        Value::String(s) => out.push_str(&format!("<{tag}>{}</{tag}>", escape(s))),
        Value::Array(items) => {
            out.push_str(&format!("<{tag} type=\"array\">"));
            for item in items {
                write_element(out, "item", item);
            }
            out.push_str(&format!("</{tag}>"));
        }
        Value::Object(map) => {
            out.push_str(&format!("<{tag}>"));
            for (key, item) in map {
                write_element(out, key, item);
            }
            out.push_str(&format!("</{tag}>"));
        }
    }
}
