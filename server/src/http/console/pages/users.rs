//! The users pages: a search box (Authy id, email or phone; exact or prefix) with paged
//! results, and one user's page (status, devices with a revoke button, recent verifications,
//! recent approval requests, delete with a confirmation step). Bodies only: plain data in,
//! maud markup out (every value escaped by maud).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::html;
use super::shown::{path_id, query, refused, time};
use crate::http::console::layout::{Notice, notice, page};
use crate::http::console::session::{ConsoleForm, Operator};
use crate::service::operator_users::{self, UserPage, UserView};
use crate::state::{AppState, now};
use crate::store::devices::DeviceRow;
use crate::store::user_search::FoundUser;

fn phone(user: &FoundUser) -> String {
    format!("+{} {}", user.country_code, user.cellphone)
}

fn status(user: &FoundUser, now: i64) -> &'static str {
    if user.locked_until > now {
        "locked out"
    } else if user.confirmed {
        "registered"
    } else {
        "not yet confirmed"
    }
}

/// The search form and, when something was searched, its results.
pub fn search(text: &str, page: Option<&UserPage>, now: i64) -> Markup {
    html! {
        form method="get" action="/console/users" role="search" {
            label for="q" { "Authy id, email or phone (exact or beginning)" }
            input id="q" name="q" type="search" maxlength="254" value=(text);
            button type="submit" { "Search" }
        }
        @if let Some(page) = page {
            @if page.users.is_empty() {
                p.empty { "No user matches." }
            } @else {
                table.users {
                    thead { tr { th { "Authy id" } th { "App" } th { "Email" } th { "Phone" } th { "Status" } th { "Created" } } }
                    tbody {
                        @for user in &page.users {
                            tr {
                                td { a href={ "/console/users/" (user.id) } { (user.id) } }
                                td { (user.app_id) }
                                td.email { (user.email) }
                                td { (phone(user)) }
                                td { (status(user, now)) }
                                td { (time(user.created_at)) }
                            }
                        }
                    }
                }
                @if let Some(after) = page.next_after {
                    a.next href={ "/console/users?" (query(&[("q", Some(text.to_owned())), ("after", Some(after.to_string()))])) } { "Next page" }
                }
            }
        }
    }
}

/// One user's page; `csrf` goes into every form.
pub fn user(view: &UserView, csrf: &str, now: i64) -> Markup {
    let user = &view.user;
    html! {
        dl.user {
            dt { "App" } dd { (user.app_id) }
            dt { "Email" } dd #user-email { (user.email) }
            dt { "Phone" } dd { (phone(user)) }
            dt { "Status" } dd #user-status { (status(user, now)) }
            dt { "Failed attempts" } dd { (user.failed_attempts) }
            dt { "Created" } dd { (time(user.created_at)) }
        }
        (devices(user.id, &view.devices, csrf))
        (verifications(view))
        h2 { "Recent approval requests" }
        (super::approvals::lines(&view.approvals, now))
        h2 { "Delete" }
        form method="get" action={ "/console/users/" (user.id) "/delete" } {
            button.danger type="submit" { "Delete this user…" }
        }
    }
}

fn devices(user_id: i64, devices: &[DeviceRow], csrf: &str) -> Markup {
    html! {
        h2 { "Devices" }
        @if devices.is_empty() {
            p.empty { "No registered device." }
        } @else {
            table.devices {
                thead { tr { th { "Id" } th { "Name" } th { "OS" } th { "Registered" } th { "Last seen" } th { "Push" } th { "State" } } }
                tbody {
                    @for device in devices {
                        tr data-device=(device.id) {
                            td { (device.id) }
                            td { (device.name) }
                            td { (device.os_type) }
                            td { (time(device.created_at)) }
                            td { (time(device.last_seen)) }
                            td { @if device.push_token.as_deref().is_some_and(|t| !t.is_empty()) { "yes" } @else { "no" } }
                            td {
                                @if device.revoked {
                                    "revoked"
                                } @else {
                                    form method="post" action={ "/console/users/" (user_id) "/devices/" (device.id) "/revoke" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.danger type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn verifications(view: &UserView) -> Markup {
    html! {
        h2 { "Recent verifications" }
        @if view.verifications.is_empty() {
            p.empty { "No verification yet." }
        } @else {
            table.verifications {
                thead { tr { th { "Time" } th { "Outcome" } th { "Channel" } } }
                tbody {
                    @for line in &view.verifications {
                        tr { td { (time(line.created_at)) } td { (line.outcome) } td { (line.channel) } }
                    }
                }
            }
        }
    }
}

/// The confirmation step before a user is deleted.
pub fn confirm_delete(user: &FoundUser, csrf: &str) -> Markup {
    html! {
        p { "The user " strong { (user.email) } " (" (phone(user)) ") and their seed are deleted; their devices stop working. This cannot be undone." }
        form method="post" action={ "/console/users/" (user.id) "/delete" } {
            input type="hidden" name="csrf" value=(csrf);
            button.danger type="submit" { "Delete" }
            " "
            a href={ "/console/users/" (user.id) } { "Cancel" }
        }
    }
}

/// `?q=…&after=…` of the search page.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    after: Option<String>,
}

/// `GET /console/users`.
pub async fn search_page(
    operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let text = query.q.unwrap_or_default();
    let after = query.after.and_then(|a| a.parse().ok()).unwrap_or(0);
    let found = if text.trim().is_empty() {
        None
    } else {
        match operator_users::search(&state, &text, after).await {
            Ok(found) => Some(found),
            Err(e) => return refused(&operator, &e),
        }
    };
    let body = search(&text, found.as_ref(), now());
    html(StatusCode::OK, page("Users", &operator, body))
}

/// `?done=…` after an action: a fixed notice (never text from the URL).
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /console/users/{id}`.
pub async fn show(
    operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let view = match path_id(&id, "User") {
        Ok(id) => operator_users::view(&state, id).await,
        Err(e) => Err(e),
    };
    match view {
        Ok(view) => {
            let top = match done.done.as_deref() {
                Some("revoked") => Some(notice(Notice::Done, "The device was revoked.")),
                _ => None,
            };
            let body = html! { @if let Some(top) = top { (top) } (user(&view, operator.csrf.value(), now())) };
            let title = format!("User {}", view.user.id);
            html(StatusCode::OK, page(&title, &operator, body))
        }
        Err(e) => refused(&operator, &e),
    }
}

/// `POST /console/users/{id}/devices/{device}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path((id, device)): Path<(String, String)>,
    form: ConsoleForm,
) -> Response {
    let operator = &form.operator;
    let done = match (path_id(&id, "User"), path_id(&device, "Device")) {
        (Ok(id), Ok(device)) => {
            let actor = format!("operator:{}", operator.id);
            operator_users::revoke_device(&state, &actor, id, device)
                .await
                .map(|()| id)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match done {
        Ok(id) => Redirect::to(&format!("/console/users/{id}?done=revoked")).into_response(),
        Err(e) => refused(operator, &e),
    }
}

/// `GET /console/users/{id}/delete`: the confirmation.
pub async fn ask_delete(
    operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let view = match path_id(&id, "User") {
        Ok(id) => operator_users::view(&state, id).await,
        Err(e) => Err(e),
    };
    match view {
        Ok(view) => {
            let body = confirm_delete(&view.user, operator.csrf.value());
            let title = format!("Delete user {}?", view.user.id);
            html(StatusCode::OK, page(&title, &operator, body))
        }
        Err(e) => refused(&operator, &e),
    }
}

/// `POST /console/users/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: ConsoleForm,
) -> Response {
    let operator = &form.operator;
    let done = match path_id(&id, "User") {
        Ok(id) => {
            let actor = format!("operator:{}", operator.id);
            operator_users::delete(&state, &actor, id)
                .await
                .map(|()| id)
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(id) => {
            let body = notice(Notice::Done, &format!("User {id} was deleted."));
            html(StatusCode::OK, page("User deleted", operator, body))
        }
        Err(e) => refused(operator, &e),
    }
}
