//! The deliveries page: OneTouch callbacks with their state and attempts, pushes with their
//! outcome, and SMS and voice calls with the provider's answer (never the text, which holds a
//! code). Filter by app and channel.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::html;
use super::shown::{optional_id, refused, time};
use crate::http::console::layout::page;
use crate::http::console::session::Operator;
use crate::jobs::callbacks::MAX_ATTEMPTS;
use crate::service::operator_deliveries::{self, DeliveryPage, callback_state};
use crate::state::AppState;

pub fn body(
    page: &DeliveryPage,
    app: Option<i64>,
    channel: Option<&str>,
    max_attempts: i64,
) -> Markup {
    html! {
        form method="get" action="/console/deliveries" {
            label for="app" { "App id" }
            input id="app" name="app" type="number" min="1" value=[app];
            label for="channel" { "Messages" }
            select id="channel" name="channel" {
                option value="" { "SMS and calls" }
                option value="sms" selected[channel == Some("sms")] { "SMS" }
                option value="call" selected[channel == Some("call")] { "calls" }
            }
            button type="submit" { "Filter" }
        }
        h2 { "Callbacks" }
        table.callbacks {
            thead { tr { th { "Id" } th { "App" } th { "URL" } th { "Method" } th { "State" } th { "Attempts" } th { "Next attempt" } th { "Queued" } } }
            tbody {
                @for line in &page.callbacks {
                    tr {
                        td { (line.id) } td { (line.app_id) } td { code { (line.url) } } td { (line.method) }
                        td.state { (callback_state(line, max_attempts)) }
                        td { (line.attempts) }
                        td { @if line.delivered { "—" } @else { (time(line.next_attempt_at)) } }
                        td { (time(line.created_at)) }
                    }
                }
            }
        }
        h2 { "Pushes" }
        table.pushes {
            thead { tr { th { "Id" } th { "App" } th { "Request" } th { "Device" } th { "OS" } th { "State" } th { "Reason" } th { "Time" } } }
            tbody {
                @for line in &page.pushes {
                    tr {
                        td { (line.id) } td { (line.app_id) }
                        td { a href={ "/console/approvals/" (line.uuid) } { (line.uuid) } }
                        td { (line.device_id) } td { (line.os) } td.state { (line.state) } td { (line.reason) }
                        td { (time(line.created_at)) }
                    }
                }
            }
        }
        h2 { "SMS and calls" }
        table.messages {
            thead { tr { th { "Id" } th { "App" } th { "Channel" } th { "Recipient" } th { "State" } th { "Reason" } th { "Time" } } }
            tbody {
                @for line in &page.messages {
                    tr {
                        td { (line.id) } td { (line.app_id) } td { (line.channel) } td { (line.recipient) }
                        td.state { (line.state) } td { (line.reason) } td { (time(line.created_at)) }
                    }
                }
            }
        }
    }
}

/// `?app=…&channel=…&page=…`.
#[derive(Deserialize)]
pub struct DeliveryQuery {
    app: Option<String>,
    channel: Option<String>,
    page: Option<String>,
}

/// `GET /console/deliveries`.
pub async fn show(
    operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<DeliveryQuery>,
) -> Response {
    let channel = query.channel.as_deref().filter(|c| !c.is_empty());
    let number = query
        .page
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let found = match optional_id(query.app.as_deref()) {
        Ok(app) => operator_deliveries::list(&state, app, channel, number)
            .await
            .map(|found| (found, app)),
        Err(e) => Err(e),
    };
    match found {
        Ok((found, app)) => {
            let body = body(&found, app, channel, MAX_ATTEMPTS);
            html(StatusCode::OK, page("Deliveries", &operator, body))
        }
        Err(e) => refused(&operator, &e),
    }
}
