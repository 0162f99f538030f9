//! The route table: the one list from which the router, the OpenAPI document and the test
//! that every route answers are all made.

use axum::routing::{MethodFilter, MethodRouter, on};

use super::handlers::{app, device_api, devices, metrics, onetouch, phones, system, tokens, users};
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// Who may call a route, which also decides how the OpenAPI document shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The Authy API: an app's API key (documented).
    ApiKey,
    /// The device API: requests signed by a registered device (docs/device-protocol.md).
    Device,
    /// Anyone: the health check (documented) and the document itself.
    Open { documented: bool },
}

pub struct Route {
    /// The first method is the documented one; `sms` and `call` also take POST, as older
    /// clients send them.
    pub methods: &'static [Method],
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub handler: fn(MethodFilter) -> MethodRouter<AppState>,
}

impl Route {
    pub fn method_router(&self) -> MethodRouter<AppState> {
        let filter = self
            .methods
            .iter()
            .map(|m| m.filter())
            .reduce(MethodFilter::or)
            .unwrap_or(MethodFilter::GET);
        (self.handler)(filter)
    }
}

const GET: &[Method] = &[Method::Get];
const POST: &[Method] = &[Method::Post];
const GET_POST: &[Method] = &[Method::Get, Method::Post];

const fn authy(
    methods: &'static [Method],
    path: &'static str,
    summary: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
) -> Route {
    Route {
        methods,
        path,
        summary,
        access: Access::ApiKey,
        handler,
    }
}

const fn device(
    methods: &'static [Method],
    path: &'static str,
    summary: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
) -> Route {
    Route {
        methods,
        path,
        summary,
        access: Access::Device,
        handler,
    }
}

/// Every route, in the order the OpenAPI document lists them.
pub static ROUTES: &[Route] = &[
    authy(
        POST,
        "/protected/{format}/users/new",
        "Create a user (user[email], user[cellphone], user[country_code])",
        |f| on(f, users::create),
    ),
    authy(
        GET,
        "/protected/{format}/users/{id}/status",
        "A user's status",
        |f| on(f, users::status),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/delete",
        "Delete a user",
        |f| on(f, users::delete),
    ),
    authy(
        POST,
        "/protected/{format}/users/delete/{id}",
        "Delete a user (the path of authy-node, authy-java, authy-php, authy-ruby)",
        |f| on(f, users::delete),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/remove",
        "Delete a user (the path of authy-client)",
        |f| on(f, users::delete),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/register_activity",
        "Register a user activity (type: banned, unbanned, cookie_login, password_reset; data[…])",
        |f| on(f, users::register_activity),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/secret",
        "Generic authenticator enrolment: otpauth URI and QR PNG",
        |f| on(f, tokens::secret),
    ),
    authy(
        GET,
        "/protected/{format}/registrations/status",
        "Registration status by custom_user_id",
        |f| on(f, users::registration_status),
    ),
    authy(
        GET_POST,
        "/protected/{format}/sms/{id}",
        "Send a code by SMS (force, action, action_message, locale)",
        |f| on(f, tokens::sms),
    ),
    authy(
        GET_POST,
        "/protected/{format}/call/{id}",
        "Send a code by voice call (force, locale)",
        |f| on(f, tokens::voice),
    ),
    authy(
        GET,
        "/protected/{format}/verify/{token}/{id}",
        "Verify a code (force, action, message, details[…], hidden_details[…])",
        |f| on(f, tokens::verify),
    ),
    authy(
        GET,
        "/protected/{format}/app/details",
        "The app's details",
        |f| on(f, app::details),
    ),
    authy(
        GET,
        "/protected/{format}/app/stats",
        "The app's statistics",
        |f| on(f, app::stats),
    ),
    authy(
        POST,
        "/protected/{format}/phones/verification/start",
        "Send a phone verification code",
        |f| on(f, phones::start),
    ),
    authy(
        GET,
        "/protected/{format}/phones/verification/check",
        "Check a phone verification code",
        |f| on(f, phones::check),
    ),
    authy(
        GET,
        "/protected/{format}/phones/verification/status",
        "A phone verification's status (pending, verified, expired)",
        |f| on(f, phones::status),
    ),
    authy(
        GET,
        "/protected/{format}/phones/info",
        "Offline phone number information",
        |f| on(f, phones::info),
    ),
    authy(
        POST,
        "/onetouch/{format}/users/{id}/approval_requests",
        "Create a OneTouch approval request",
        |f| on(f, onetouch::create),
    ),
    authy(
        GET,
        "/onetouch/{format}/approval_requests/{uuid}",
        "A OneTouch approval request's status",
        |f| on(f, onetouch::status),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/registrations",
        "A one-time device registration code, URI and QR",
        |f| on(f, devices::create_registration),
    ),
    authy(
        GET,
        "/protected/{format}/users/{id}/devices",
        "A user's registered devices",
        |f| on(f, devices::list),
    ),
    authy(
        POST,
        "/protected/{format}/users/{id}/devices/{device_id}/revoke",
        "Revoke a device",
        |f| on(f, devices::revoke),
    ),
    device(
        POST,
        "/device/v1/register",
        "Register a device with a one-time code",
        |f| on(f, devices::register),
    ),
    device(
        GET,
        "/device/v1/approval_requests",
        "Pending approval requests as signed challenges",
        |f| on(f, device_api::pending),
    ),
    device(
        POST,
        "/device/v1/push_token",
        "Set or clear the device's push token",
        |f| on(f, device_api::update_push_token),
    ),
    device(
        POST,
        "/device/v1/approval_requests/{uuid}/answer",
        "Answer an approval request with a signed JWS",
        |f| on(f, device_api::answer),
    ),
    Route {
        methods: GET,
        path: "/healthz",
        summary: "Liveness and database check",
        access: Access::Open { documented: true },
        handler: |f| on(f, system::healthz),
    },
    Route {
        methods: GET,
        path: "/openapi.json",
        summary: "This document",
        access: Access::Open { documented: false },
        handler: |f| on(f, system::openapi),
    },
    Route {
        methods: GET,
        path: "/metrics",
        summary: "Prometheus metrics (loopback clients, or the metrics bearer token)",
        access: Access::Open { documented: false },
        handler: |f| on(f, metrics::metrics),
    },
];
