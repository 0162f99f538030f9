//! The audit trail page: entries newest first, a page at a time, filtered by exact actor
//! and/or subject (`service::audit`). Hashes are shown so an auditor can match an entry with
//! `countersign-server audit export`; `audit verify` is the check of the chain itself.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::html;
use super::shown::{query, refused, time};
use crate::http::console::layout::page;
use crate::http::console::session::Operator;
use crate::service::audit::{self, AuditPage, AuditQuery};
use crate::state::AppState;

pub fn body(page: &AuditPage, actor: Option<&str>, subject: Option<&str>) -> Markup {
    html! {
        form method="get" action="/console/audit" {
            label for="actor" { "Actor" }
            input id="actor" name="actor" maxlength="256" placeholder="operator:1" value=[actor];
            label for="subject" { "Subject" }
            input id="subject" name="subject" maxlength="256" placeholder="user:17" value=[subject];
            button type="submit" { "Filter" }
        }
        table.audit {
            thead { tr { th { "#" } th { "Time" } th { "Actor" } th { "Action" } th { "Subject" } th { "Details" } th { "Hash" } } }
            tbody {
                @for entry in &page.entries {
                    tr {
                        td { (entry.seq) }
                        td { (time(entry.time)) }
                        td { (entry.actor) }
                        td.action { (entry.action) }
                        td { (entry.subject) }
                        td { code { (entry.details) } }
                        td { code.hash title=(entry.hash) { (entry.hash.get(..16).unwrap_or(&entry.hash)) "…" } }
                    }
                }
            }
        }
        @if let Some(before) = page.next_before {
            a.next href={ "/console/audit?" (query(&[
                ("actor", actor.map(str::to_owned)),
                ("subject", subject.map(str::to_owned)),
                ("before", Some(before.to_string())),
            ])) } { "Older entries" }
        }
    }
}

/// `?actor=…&subject=…&before=…`.
#[derive(Deserialize)]
pub struct AuditFilter {
    actor: Option<String>,
    subject: Option<String>,
    before: Option<String>,
}

/// Entries per page.
const PAGE_SIZE: i64 = 50;

/// `GET /console/audit`.
pub async fn show(
    operator: Operator,
    State(state): State<AppState>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let text = |t: Option<String>| t.filter(|t| !t.trim().is_empty() && t.len() <= 256);
    let query = AuditQuery {
        actor: text(filter.actor),
        subject: text(filter.subject),
        before: filter.before.and_then(|b| b.parse().ok()),
        limit: PAGE_SIZE,
    };
    match audit::list(&state, &query).await {
        Ok(found) => {
            let content = body(&found, query.actor.as_deref(), query.subject.as_deref());
            html(StatusCode::OK, page("Audit trail", &operator, content))
        }
        Err(e) => refused(&operator, &e),
    }
}
