//! Who is asking, and whether a form really comes from the console: the [`Operator`]
//! extractor (a live, active session from the cookie, or a redirect to the login page), its
//! pending-stage twin [`PendingOperator`], and the form extractors: [`SameOriginForm`]
//! (refuses cross-site posts by `Sec-Fetch-Site` and `Origin`) and [`ConsoleForm`] (that, a
//! session, and its CSRF token compared in constant time). Every console POST takes one.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use subtle::ConstantTimeEq;

use crate::http::extract::ClientAddress;
use crate::service::console_sessions::{self, Stage};
use crate::state::AppState;

/// The session cookie. `__Host-`: the browser keeps it only if it is `Secure`, has
/// `Path=/` and no `Domain`, so no sibling host can plant or read it.
pub const COOKIE: &str = "__Host-countersign_session";
/// The largest form body the console reads.
pub const MAX_FORM: usize = 64 * 1024;
pub const LOGIN_PATH: &str = "/console/login";

/// A signed-in operator: the session was found, is active, neither idle too long nor too
/// old, and the operator is enabled.
#[derive(Clone, Debug)]
pub struct Operator {
    pub id: i64,
    pub email: String,
    pub csrf: CsrfToken,
    /// The cookie's session id (logout ends it).
    pub session_id: String,
}

/// A session that passed the password and awaits the second factor.
#[derive(Clone, Debug)]
pub struct PendingOperator {
    pub operator: crate::service::operators::Operator,
    pub session: console_sessions::Session,
    pub csrf: CsrfToken,
    pub session_id: String,
}

/// The session's CSRF token: put in every form by [`CsrfToken::field`], checked by
/// [`ConsoleForm`]. Not secret from the operator, but from every other site.
#[derive(Clone)]
pub struct CsrfToken(String);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// The hidden form field carrying the token.
    pub fn field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.0); }
    }

    /// The token itself, for the one script that posts without a form (none yet).
    pub fn value(&self) -> &str {
        &self.0
    }

    /// Whether `posted` is this token (constant time).
    pub fn matches(&self, posted: Option<&str>) -> bool {
        posted.is_some_and(|p| bool::from(p.as_bytes().ct_eq(self.0.as_bytes())))
    }
}

/// The session id in the request's cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The `Set-Cookie` value that gives the browser session `id`.
pub fn set_cookie(id: &str) -> HeaderValue {
    let value = format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that makes the browser forget the session.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-countersign_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict",
    )
}

/// Back to the login page, the cookie forgotten.
pub fn to_login() -> Response {
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    response
}

/// Back to the login page when the request carried no session cookie: nothing to forget, and
/// clearing it anyway would let another site's form post (which the browser sends without the
/// SameSite=Strict cookie) sign the operator out (found by tests/console_browser).
fn to_login_without_cookie() -> Response {
    Redirect::to(LOGIN_PATH).into_response()
}

/// The answer when the database fails under a console page.
pub fn internal_error(error: &crate::error::ServerError) -> Response {
    tracing::error!(%error, "console request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
}

/// The client's address as text (the login limits and the push prompt use it).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientAddress>()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.to_string())
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(operator) = parts.extensions.get::<Operator>() {
            return Ok(operator.clone());
        }
        let id = session_cookie(&parts.headers).ok_or_else(to_login_without_cookie)?;
        let (session, operator) = console_sessions::find(state, &id, Stage::Active)
            .await
            .map_err(|e| internal_error(&e))?
            .ok_or_else(to_login)?;
        let operator = Operator {
            id: operator.id,
            email: operator.email,
            csrf: CsrfToken(session.csrf_token),
            session_id: id,
        };
        parts.extensions.insert(operator.clone());
        Ok(operator)
    }
}

impl FromRequestParts<AppState> for PendingOperator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = session_cookie(&parts.headers).ok_or_else(to_login_without_cookie)?;
        let (session, operator) = console_sessions::find(state, &id, Stage::Pending)
            .await
            .map_err(|e| internal_error(&e))?
            .ok_or_else(to_login)?;
        Ok(PendingOperator {
            operator,
            csrf: CsrfToken(session.csrf_token.clone()),
            session,
            session_id: id,
        })
    }
}

/// A posted form whose request the browser marked as coming from this console itself.
pub struct SameOriginForm {
    fields: Vec<(String, String)>,
    /// The client's address (for the login limits).
    pub client: String,
}

impl SameOriginForm {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Refused: a cross-site (or unlabelled) post.
fn forbidden(why: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("Refused: {why}")).into_response()
}

/// Whether the browser says this request comes from this very site. `Sec-Fetch-Site`, when
/// sent, decides: it must be `same-origin`. Without it, `Origin` must name this host. An
/// `Origin` naming another host is refused either way. (`Origin: null` is what Chromium sends
/// with a same-origin form post under `Referrer-Policy: no-referrer`, so it proves nothing and
/// refutes nothing: `Sec-Fetch-Site` must then vouch for the request.)
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let host = text(header::HOST);
    let origin = text(header::ORIGIN).filter(|o| *o != "null");
    let origin_is_host = origin.map(|origin| {
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        authority.is_some() && authority == host
    });
    match (fetch_site, origin_is_host) {
        (Some(site), origin) => site == "same-origin" && origin != Some(false),
        (None, Some(is_host)) => is_host,
        (None, None) => false,
    }
}

impl FromRequest<AppState> for SameOriginForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        if !same_origin(request.headers()) {
            return Err(forbidden("this form was not sent from the console"));
        }
        let (parts, body) = request.into_parts();
        let client = client_address(&parts);
        let request = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.len() > MAX_FORM {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "Form too large.").into_response());
        }
        let fields = form_urlencoded::parse(&bytes)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        Ok(SameOriginForm { fields, client })
    }
}

/// A form posted by a signed-in operator from the console, with the session's CSRF token.
pub struct ConsoleForm {
    pub operator: Operator,
    pub form: SameOriginForm,
}

impl ConsoleForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form.get(name)
    }
}

impl FromRequest<AppState> for ConsoleForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let operator = Operator::from_request_parts(&mut parts, state).await?;
        let form = SameOriginForm::from_request(Request::from_parts(parts, body), state).await?;
        if !operator.csrf.matches(form.get("csrf")) {
            return Err(forbidden(
                "the form's token is missing or wrong; reload the page",
            ));
        }
        Ok(ConsoleForm { operator, form })
    }
}
