//! The applications pages: the list, creating one (its API key shown once), one app's page
//! with its settings, renaming, rotating the API key (the old key keeps working for a
//! chosen grace period; the new one shown once), suspending and resuming (a suspended
//! app's API keys get Authy's 60061) and deleting (after confirmation).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{html, problem_text};
use crate::http::console::layout::{Notice, notice, page};
use crate::http::console::session::{ConsoleForm, Operator, internal_error};
use crate::service::{apps, console_actions};
use crate::state::{App, AppState};
use crate::store::apps::AppUpdate;

/// `?done=…` after an action: which fixed notice to show (never text from the URL).
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn done_notice(done: &Done) -> Option<Markup> {
    let text = match done.done.as_deref()? {
        "renamed" => "The application was renamed.",
        "settings" => "The settings were saved.",
        "deleted" => "The application was deleted.",
        "suspended" => "The application was suspended: its API keys are refused.",
        "resumed" => "The application was resumed.",
        _ => return None,
    };
    Some(notice(Notice::Done, text))
}

/// `GET /console`.
pub async fn home(_operator: Operator) -> Redirect {
    Redirect::to("/console/apps")
}

fn app_url(id: i64) -> String {
    format!("/console/apps/{id}")
}

fn create_form(operator: &Operator) -> Markup {
    html! {
        form.card method="post" action="/console/apps" {
            h2 { "New application" }
            (operator.csrf.field())
            label for="name" { "Name" }
            input #name type="text" name="name" maxlength="200" required;
            label for="token_length" { "Token length" }
            input #token_length type="number" name="token_length" min="6" max="10" value="7";
            p { button type="submit" { "Create" } }
        }
    }
}

fn state_text(app: &App) -> &'static str {
    if app.suspended { "Suspended" } else { "Active" }
}

fn list_page(operator: &Operator, apps: &[App], top: Option<Markup>) -> Markup {
    page(
        "Applications",
        operator,
        html! {
            @if let Some(top) = top { (top) }
            table {
                thead { tr { th { "Id" } th { "Name" } th { "State" } th { "Token length" } th { "Callback" } } }
                tbody {
                    @for app in apps {
                        tr {
                            td { (app.id) }
                            td { a href=(app_url(app.id)) { (app.name) } }
                            td.app-state { (state_text(app)) }
                            td { (app.token_length) }
                            td { (app.callback_url.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
            (create_form(operator))
        },
    )
}

/// `GET /console/apps`.
pub async fn list(
    State(state): State<AppState>,
    operator: Operator,
    Query(done): Query<Done>,
) -> Response {
    match apps::list(&state).await {
        Ok(list) => html(
            StatusCode::OK,
            list_page(&operator, &list, done_notice(&done)),
        ),
        Err(e) => internal_error(&e),
    }
}

/// The new key, shown once.
fn key_notice(what: &str, key: &str) -> Markup {
    html! {
        section.card.notice.done {
            p { (what) " Its API key is shown only now; copy it:" }
            p { code.secret #api-key { (key) } }
        }
    }
}

/// `POST /console/apps`.
pub async fn create(State(state): State<AppState>, form: ConsoleForm) -> Response {
    let name = form.get("name").unwrap_or_default();
    let length = form
        .get("token_length")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let created = async {
        let created = console_actions::create_app(&state, form.operator.id, name, length).await?;
        Ok((created, apps::list(&state).await?))
    };
    let operator = &form.operator;
    match created.await {
        Ok(((id, key), list)) => {
            let top = key_notice(&format!("Application {id} was created."), &key);
            html(StatusCode::OK, list_page(operator, &list, Some(top)))
        }
        Err(e) => {
            let top = notice(Notice::Problem, &problem_text(&e));
            let list = apps::list(&state).await.unwrap_or_default();
            html(
                StatusCode::BAD_REQUEST,
                list_page(operator, &list, Some(top)),
            )
        }
    }
}

/// App `id`, or the answer that there is none.
async fn load(state: &AppState, operator: &Operator, id: i64) -> Result<App, Response> {
    match apps::by_id(state, id).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(html(
            StatusCode::NOT_FOUND,
            page(
                "No such application",
                operator,
                html! { p { a href="/console/apps" { "Back to the applications" } } },
            ),
        )),
        Err(e) => Err(internal_error(&e)),
    }
}

fn checked(on: bool) -> Option<&'static str> {
    on.then_some("checked")
}

fn settings_form(operator: &Operator, app: &App) -> Markup {
    html! {
        form.card method="post" action={ (app_url(app.id)) "/settings" } {
            h2 { "Settings" }
            (operator.csrf.field())
            label for="token_length" { "Token length (6 to 10 digits)" }
            input #token_length type="number" name="token_length" min="6" max="10" value=(app.token_length);
            label for="callback_url" { "OneTouch callback URL (empty: none)" }
            input #callback_url type="url" name="callback_url" value=(app.callback_url.as_deref().unwrap_or(""));
            label for="callback_method" { "Callback method" }
            select #callback_method name="callback_method" {
                @for method in ["POST", "GET"] {
                    option value=(method) selected[app.callback_method == method] { (method) }
                }
            }
            label { input type="checkbox" name="transactional_totp" value="on" checked=[checked(app.transactional_totp)]; " Transactional TOTP accepted" }
            label { input type="checkbox" name="number_matching" value="on" checked=[checked(app.number_matching)]; " Number matching for approval requests that do not say" }
            label for="approval_default_seconds" { "Approval request lifetime, default (seconds; 0: the server's)" }
            input #approval_default_seconds type="number" name="approval_default_seconds" min="0" value=(app.approval_default_seconds);
            label for="approval_max_seconds" { "Approval request lifetime, maximum (seconds; 0: the server's)" }
            input #approval_max_seconds type="number" name="approval_max_seconds" min="0" value=(app.approval_max_seconds);
            p { button type="submit" { "Save settings" } }
        }
    }
}

/// "Suspend" for an active app, "Resume" for a suspended one.
fn suspension_form(operator: &Operator, app: &App) -> Markup {
    let (path, explanation, button) = if app.suspended {
        (
            "/resume",
            "This application is suspended: its API keys are answered 403 with Authy's error 60061.",
            "Resume",
        )
    } else {
        (
            "/suspend",
            "Suspending refuses this application's API keys (403, Authy's error 60061) until it is resumed; its users, devices and settings stay.",
            "Suspend",
        )
    };
    html! {
        form.card #suspension method="post" action={ (app_url(app.id)) (path) } {
            h2 { "State: " (state_text(app)) }
            (operator.csrf.field())
            p.muted { (explanation) }
            p { button type="submit" { (button) } }
        }
    }
}

fn app_page(operator: &Operator, app: &App, top: Option<Markup>) -> Markup {
    page(
        &format!("Application {}", app.id),
        operator,
        html! {
            @if let Some(top) = top { (top) }
            form.card method="post" action={ (app_url(app.id)) "/rename" } {
                h2 { "Name" }
                (operator.csrf.field())
                input #app-name type="text" name="name" maxlength="200" value=(app.name) required;
                p { button type="submit" { "Rename" } }
            }
            (settings_form(operator, app))
            form.card method="post" action={ (app_url(app.id)) "/rotate-key" } {
                h2 { "API key" }
                (operator.csrf.field())
                p.muted { "A new key is made and shown once. The current key keeps working for the grace period, then is refused." }
                label for="grace_seconds" { "Grace period for the current key (seconds)" }
                input #grace_seconds type="number" name="grace_seconds" min="0" max=(apps::MAX_GRACE_SECONDS) value="86400";
                p { button type="submit" { "Rotate the API key" } }
            }
            (suspension_form(operator, app))
            section.card {
                h2 { "Delete" }
                p { a href={ (app_url(app.id)) "/delete" } { "Delete this application…" } }
            }
        },
    )
}

/// `GET /console/apps/{id}`.
pub async fn show(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    match load(&state, &operator, id).await {
        Ok(app) => html(
            StatusCode::OK,
            app_page(&operator, &app, done_notice(&done)),
        ),
        Err(response) => response,
    }
}

/// Applies `update` to app `id`: back to its page with a notice, or the page with the
/// refusal.
async fn apply(
    state: &AppState,
    form: &ConsoleForm,
    id: i64,
    update: AppUpdate,
    action: &'static str,
    done: &str,
) -> Response {
    let operator = &form.operator;
    let app = match load(state, operator, id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    match console_actions::update_app(state, operator.id, id, action, update).await {
        Ok(()) => Redirect::to(&format!("{}?done={done}", app_url(id))).into_response(),
        Err(e) => {
            let top = notice(Notice::Problem, &problem_text(&e));
            html(StatusCode::BAD_REQUEST, app_page(operator, &app, Some(top)))
        }
    }
}

/// `POST /console/apps/{id}/rename`.
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    let update = AppUpdate {
        name: Some(form.get("name").unwrap_or_default().to_owned()),
        ..AppUpdate::default()
    };
    apply(&state, &form, id, update, "app.rename", "renamed").await
}

/// A number field: `Err` names it when it is there but no number.
fn number(form: &ConsoleForm, name: &str) -> Result<Option<i64>, crate::error::ServerError> {
    match form.get(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| crate::error::ServerError::Config(format!("{name} must be a number"))),
    }
}

fn settings_update(form: &ConsoleForm) -> Result<AppUpdate, crate::error::ServerError> {
    let token_length = number(form, "token_length")?.map(|n| u32::try_from(n).unwrap_or(0));
    let callback_url = form.get("callback_url").map(|u| Some(u.trim().to_owned()));
    Ok(AppUpdate {
        token_length,
        callback_url,
        callback_method: form.get("callback_method").map(str::to_owned),
        transactional_totp: Some(form.get("transactional_totp") == Some("on")),
        number_matching: Some(form.get("number_matching") == Some("on")),
        approval_default_seconds: number(form, "approval_default_seconds")?,
        approval_max_seconds: number(form, "approval_max_seconds")?,
        ..AppUpdate::default()
    })
}

/// `POST /console/apps/{id}/settings`.
pub async fn settings(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    match settings_update(&form) {
        Ok(update) => apply(&state, &form, id, update, "app.update", "settings").await,
        Err(e) => {
            let operator = &form.operator;
            match load(&state, operator, id).await {
                Ok(app) => {
                    let top = notice(Notice::Problem, &problem_text(&e));
                    html(StatusCode::BAD_REQUEST, app_page(operator, &app, Some(top)))
                }
                Err(response) => response,
            }
        }
    }
}

/// `POST /console/apps/{id}/rotate-key`: the page again, with the new key shown once.
pub async fn rotate_key(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    let operator = &form.operator;
    let app = match load(&state, operator, id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    let rotated = match number(&form, "grace_seconds") {
        Ok(grace) => {
            console_actions::rotate_app_key(&state, operator.id, id, grace.unwrap_or(0)).await
        }
        Err(e) => Err(e),
    };
    match rotated {
        Ok(key) => {
            let top = key_notice("The key was rotated.", &key);
            html(StatusCode::OK, app_page(operator, &app, Some(top)))
        }
        Err(e) => {
            let top = notice(Notice::Problem, &problem_text(&e));
            html(StatusCode::BAD_REQUEST, app_page(operator, &app, Some(top)))
        }
    }
}

fn confirm_page(operator: &Operator, app: &App, problem: Option<&str>) -> Markup {
    page(
        &format!("Delete application {}", app.id),
        operator,
        html! {
            @if let Some(text) = problem { (notice(Notice::Problem, text)) }
            form.card method="post" action={ (app_url(app.id)) "/delete" } {
                (operator.csrf.field())
                p { "Deleting " strong { (app.name) } " stops its API key at once. Its users can no longer be reached. This cannot be undone." }
                label for="confirm_name" { "Type the application's name to confirm" }
                input #confirm_name type="text" name="confirm_name" required;
                p { button.danger type="submit" { "Delete for good" } }
            }
        },
    )
}

/// `GET /console/apps/{id}/delete`.
pub async fn confirm_delete(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<i64>,
) -> Response {
    match load(&state, &operator, id).await {
        Ok(app) => html(StatusCode::OK, confirm_page(&operator, &app, None)),
        Err(response) => response,
    }
}

/// `POST /console/apps/{id}/delete`: only when the typed name is the app's.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    let operator = &form.operator;
    let app = match load(&state, operator, id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    if form.get("confirm_name").map(str::trim) != Some(app.name.as_str()) {
        let problem = Some("The name typed is not the application's; nothing was deleted.");
        return html(
            StatusCode::BAD_REQUEST,
            confirm_page(operator, &app, problem),
        );
    }
    match crate::service::apps::carries_operator_phones(&state, id).await {
        Ok(false) => {}
        Ok(true) => {
            let problem = Some(
                "This application carries the operators' sign-in phones (the console's push second factor): it cannot be deleted.",
            );
            return html(StatusCode::CONFLICT, confirm_page(operator, &app, problem));
        }
        Err(e) => return internal_error(&e),
    }
    match console_actions::delete_app(&state, operator.id, id).await {
        Ok(()) => Redirect::to("/console/apps?done=deleted").into_response(),
        Err(e) => internal_error(&e),
    }
}

/// `POST /console/apps/{id}/suspend`.
pub async fn suspend(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    let update = AppUpdate {
        suspended: Some(true),
        ..AppUpdate::default()
    };
    apply(&state, &form, id, update, "app.suspend", "suspended").await
}

/// `POST /console/apps/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: ConsoleForm,
) -> Response {
    let update = AppUpdate {
        suspended: Some(false),
        ..AppUpdate::default()
    };
    apply(&state, &form, id, update, "app.resume", "resumed").await
}
