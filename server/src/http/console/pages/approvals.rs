//! The approval pages: the live list (filter by app and state; assets/approvals.js polls
//! `/console/approvals.json` every 2 s and redraws the rows) and one request as its customer
//! saw it, with the device's signed answer. The evidence box carries the JWS and the device's
//! key (JWK) in data attributes; assets/evidence.js verifies them in the browser and compares
//! the signed content with the message and details shown here, next to the server's verdict.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::html;
use super::shown::{optional_id, query, refused, time};
use crate::error::ApiError;
use crate::http::console::assets;
use crate::http::console::layout::page;
use crate::http::console::session::Operator;
use crate::service::operator_approvals::{self, ApprovalView, Evidence, STATES, shown_state};
use crate::state::{AppState, now};
use crate::store::approval_list::ApprovalLine;

/// The rows of a list of requests.
pub fn lines(lines: &[ApprovalLine], now: i64) -> Markup {
    html! {
        table.approvals {
            thead { tr { th { "Request" } th { "App" } th { "User" } th { "Message" } th { "State" } th { "Created" } } }
            tbody #approval-rows {
                @for line in lines {
                    tr {
                        td { a href={ "/console/approvals/" (line.uuid) } { (line.uuid) } }
                        td { (line.app_id) }
                        td { a href={ "/console/users/" (line.user_id) } { (line.user_id) } }
                        td { (line.message) }
                        td.state { (shown_state(line, now)) }
                        td { (time(line.created_at)) }
                    }
                }
            }
        }
    }
}

/// The same rows as JSON, for the polling script (which builds them with text nodes only).
pub fn lines_json(lines: &[ApprovalLine], now: i64) -> Value {
    let rows: Vec<Value> = lines
        .iter()
        .map(|line| {
            json!({
                "uuid": line.uuid, "app_id": line.app_id, "user_id": line.user_id,
                "message": line.message, "state": shown_state(line, now),
                "created": time(line.created_at),
            })
        })
        .collect();
    json!({ "requests": rows })
}

/// The live list with its filter form.
pub fn list(items: &[ApprovalLine], app: Option<i64>, state: Option<&str>, now: i64) -> Markup {
    let filters = query(&[
        ("app", app.map(|a| a.to_string())),
        ("state", state.map(str::to_owned)),
    ]);
    html! {
        form method="get" action="/console/approvals" {
            label for="app" { "App id" }
            input id="app" name="app" type="number" min="1" value=[app];
            label for="state" { "State" }
            select id="state" name="state" {
                option value="" { "any" }
                @for name in STATES {
                    option value=(name) selected[state == Some(name)] { (name) }
                }
            }
            button type="submit" { "Filter" }
        }
        div #approval-list data-poll={ "/console/approvals.json?" (filters) } {
            (lines(items, now))
        }
        script src=(assets::url(assets::APPROVALS)) defer {}
    }
}

/// One request's page.
pub fn request(view: &ApprovalView) -> Markup {
    let line = &view.record.line;
    html! {
        dl.request {
            dt { "Request" } dd #request-uuid { (line.uuid) }
            dt { "App" } dd { (line.app_id) }
            dt { "User" } dd { a href={ "/console/users/" (line.user_id) } { (line.user_id) } }
            dt { "State" } dd #request-state { (view.state) }
            dt { "Created" } dd { (time(line.created_at)) }
            dt { "Expires" } dd { (time(line.expires_at)) }
            dt { "Answered" } dd { (time(view.record.processed_at)) }
        }
        h2 { "What the customer saw" }
        (customer_view(view))
        h2 { "Signed evidence" }
        @match &view.evidence {
            Some(evidence) => (evidence_box(line, evidence)),
            None => p.empty { "No device has answered this request." },
        }
    }
}

fn customer_view(view: &ApprovalView) -> Markup {
    html! {
        div.phone {
            p.message #shown-message { (view.record.line.message) }
            table.details {
                tbody {
                    @for (key, value) in &view.details {
                        tr data-detail-key=(key) { th { (key) } td data-detail-value { (value) } }
                    }
                }
            }
            @if view.record.number > 0 {
                p.number { "Number to match: " span #shown-number { (view.record.number) } }
            }
            @if !view.logos.is_empty() {
                ul.logos {
                    @for (res, url) in &view.logos { li { (res) ": " code { (url) } } }
                }
            }
        }
        @if !view.hidden_details.is_empty() {
            h3 { "Hidden details (not shown to the customer, bound by their hash)" }
            table.hidden-details {
                tbody { @for (key, value) in &view.hidden_details { tr { th { (key) } td { (value) } } } }
            }
        }
    }
}

fn verdict(ok: bool, good: &'static str, bad: &'static str) -> Markup {
    html! { @if ok { span.good { (good) } } @else { span.bad { (bad) } } }
}

fn evidence_box(line: &ApprovalLine, evidence: &Evidence) -> Markup {
    html! {
        div #evidence data-uuid=(line.uuid) data-jws=(evidence.jws) data-jwk=[evidence.jwk.as_deref()] {
            dl {
                dt { "Device" } dd { (evidence.device_id) }
                dt { "Decision" } dd #evidence-decision { (evidence.decision) }
                dt { "Checked in this browser (WebCrypto)" }
                dd { span #evidence-browser-verdict { "checking…" } " — " span #evidence-browser-content {} }
                dt { "Checked by the server" }
                dd #evidence-server-verdict {
                    (verdict(evidence.signature_valid, "verified", "NOT VALID"))
                    " — "
                    (verdict(evidence.content_matches, "the signed content matches this request", "the signed content does NOT match this request"))
                }
                dt { "Device key (JWK)" } dd { code #evidence-jwk { (evidence.jwk.as_deref().unwrap_or("unknown device")) } }
                dt { "Signed answer (JWS)" } dd { code.jws #evidence-jws { (evidence.jws) } }
                @if let Some(payload) = &evidence.payload {
                    dt { "Signed payload" } dd { code #evidence-payload { (payload) } }
                }
            }
        }
        script src=(assets::url(assets::EVIDENCE)) defer {}
    }
}

/// `?app=…&state=…&page=…` of the list and its JSON.
#[derive(Deserialize)]
pub struct ListQuery {
    app: Option<String>,
    state: Option<String>,
    page: Option<String>,
}

async fn load_list(
    state: &AppState,
    query: &ListQuery,
) -> Result<(Vec<ApprovalLine>, Option<i64>, Option<String>), ApiError> {
    let app = optional_id(query.app.as_deref())?;
    let wanted = query.state.as_deref().filter(|s| !s.is_empty());
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let lines = operator_approvals::list(state, app, wanted, page).await?;
    Ok((lines, app, wanted.map(str::to_owned)))
}

/// `GET /console/approvals`.
pub async fn list_page(
    operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Response {
    match load_list(&state, &query).await {
        Ok((lines, app, wanted)) => {
            let body = list(&lines, app, wanted.as_deref(), now());
            html(StatusCode::OK, page("Approval requests", &operator, body))
        }
        Err(e) => refused(&operator, &e),
    }
}

/// `GET /console/approvals.json`: the list's rows, for assets/approvals.js.
pub async fn list_json(
    _operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Response {
    match load_list(&state, &query).await {
        Ok((lines, _, _)) => Json(lines_json(&lines, now())).into_response(),
        Err(e) => {
            let body = json!({"message": e.message});
            (crate::http::error::status(e.refusal), Json(body)).into_response()
        }
    }
}

/// `GET /console/approvals/{uuid}`.
pub async fn show(
    operator: Operator,
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Response {
    match operator_approvals::view(&state, &uuid).await {
        Ok(view) => html(
            StatusCode::OK,
            page("Approval request", &operator, request(&view)),
        ),
        Err(e) => refused(&operator, &e),
    }
}
