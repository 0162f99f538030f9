//! The console's route table, apart from the Authy API's `http::routes::ROUTES` (the console
//! is no part of the API document). One row per page or action: the router is made from it,
//! the navigation bar lists the rows that name a `nav` label, and the tests check that every
//! row with `needs_login` sends a visitor without a session to the login page. Pages of
//! other modules APPEND their rows.

use axum::routing::{MethodRouter, get, post};

use super::pages::{approvals, apps, audit, deliveries, login, usage, users};
use crate::http::routes::Method;
use crate::state::AppState;

pub struct ConsoleRoute {
    pub method: Method,
    /// The path, under `/console`.
    pub path: &'static str,
    /// What the page shows or the action does.
    pub page: &'static str,
    /// Whether only a signed-in operator may use it (the handler takes `Operator` or
    /// `ConsoleForm`; the table says so for the tests and the docs).
    pub needs_login: bool,
    /// The navigation bar's label for this page, if it has one.
    pub nav: Option<&'static str>,
    pub handler: fn() -> MethodRouter<AppState>,
}

impl ConsoleRoute {
    /// The full path, as a browser asks for it.
    pub fn full_path(&self) -> String {
        format!("/console{}", self.path)
    }
}

const fn page(
    path: &'static str,
    page: &'static str,
    nav: Option<&'static str>,
    handler: fn() -> MethodRouter<AppState>,
) -> ConsoleRoute {
    ConsoleRoute {
        method: Method::Get,
        path,
        page,
        needs_login: true,
        nav,
        handler,
    }
}

const fn action(
    path: &'static str,
    page: &'static str,
    handler: fn() -> MethodRouter<AppState>,
) -> ConsoleRoute {
    ConsoleRoute {
        method: Method::Post,
        path,
        page,
        needs_login: true,
        nav: None,
        handler,
    }
}

const fn open(
    method: Method,
    path: &'static str,
    page: &'static str,
    handler: fn() -> MethodRouter<AppState>,
) -> ConsoleRoute {
    ConsoleRoute {
        method,
        path,
        page,
        needs_login: false,
        nav: None,
        handler,
    }
}

pub const CONSOLE_ROUTES: &[ConsoleRoute] = &[
    open(Method::Get, "/login", "the sign-in form", || {
        get(login::form)
    }),
    open(Method::Post, "/login", "checks email and password", || {
        post(login::password)
    }),
    open(
        Method::Get,
        "/login/second-factor",
        "asks for the TOTP code or the phone's approval",
        || get(login::second_factor),
    ),
    open(
        Method::Post,
        "/login/totp",
        "checks the TOTP code, starts the session",
        || post(login::totp),
    ),
    open(
        Method::Get,
        "/login/push-status",
        "the state of the phone's sign-in approval (polled)",
        || get(login::push_status),
    ),
    open(
        Method::Post,
        "/login/push",
        "starts the session once the phone approved",
        || post(login::push),
    ),
    open(
        Method::Get,
        "/assets/{name}",
        "the stylesheet and the script",
        || get(super::assets::serve),
    ),
    action("/logout", "ends the session", || post(login::logout)),
    page("", "goes to the applications", None, || get(apps::home)),
    page("/apps", "the applications", Some("Applications"), || {
        get(apps::list)
    }),
    action("/apps", "creates an application", || post(apps::create)),
    page(
        "/apps/{id}",
        "one application and its settings",
        None,
        || get(apps::show),
    ),
    action("/apps/{id}/rename", "renames an application", || {
        post(apps::rename)
    }),
    action(
        "/apps/{id}/settings",
        "changes an application's settings",
        || post(apps::settings),
    ),
    action(
        "/apps/{id}/rotate-key",
        "gives an application a new API key",
        || post(apps::rotate_key),
    ),
    page(
        "/apps/{id}/delete",
        "asks to confirm deleting an application",
        None,
        || get(apps::confirm_delete),
    ),
    action("/apps/{id}/delete", "deletes an application", || {
        post(apps::delete)
    }),
    action(
        "/apps/{id}/suspend",
        "suspends an application: its API keys get 60061",
        || post(apps::suspend),
    ),
    action(
        "/apps/{id}/resume",
        "resumes a suspended application",
        || post(apps::resume),
    ),
    // The operations pages: users, approval requests, deliveries, usage, the audit trail.
    page(
        "/users",
        "finds users by Authy id, email or phone",
        Some("Users"),
        || get(users::search_page),
    ),
    page(
        "/users/{id}",
        "one user: status, devices, recent verifications and approval requests",
        None,
        || get(users::show),
    ),
    action(
        "/users/{id}/devices/{device}/revoke",
        "revokes one of a user's devices",
        || post(users::revoke),
    ),
    page(
        "/users/{id}/delete",
        "asks to confirm deleting a user",
        None,
        || get(users::ask_delete),
    ),
    action("/users/{id}/delete", "deletes a user", || {
        post(users::delete)
    }),
    page(
        "/approvals",
        "approval requests with their state, kept up to date",
        Some("Approvals"),
        || get(approvals::list_page),
    ),
    page(
        "/approvals.json",
        "the approval list as JSON (polled by the list page)",
        None,
        || get(approvals::list_json),
    ),
    page(
        "/approvals/{uuid}",
        "one request as the customer saw it, and its signed evidence",
        None,
        || get(approvals::show),
    ),
    page(
        "/deliveries",
        "callbacks, SMS and calls with their state",
        Some("Deliveries"),
        || get(deliveries::show),
    ),
    page(
        "/usage",
        "usage per day over the last 30 days",
        Some("Usage"),
        || get(usage::show),
    ),
    page("/audit", "the audit trail", Some("Audit"), || {
        get(audit::show)
    }),
];
