//! Extractors: an Authy API call (answer format, the app its API key belongs to, the
//! parameters), a signed device request (authenticated by `service::device_auth`), and the
//! client's address (the peer, or what a trusted reverse proxy forwarded).

use axum::body::Bytes;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use serde_json::Value;
use tracing::Instrument;

use super::error::{Rejection, api_error};
use super::params::Params;
use super::render::{self, Format};
use crate::error::{ApiError, Refusal};
use crate::service::device_auth::{self, AuthenticatedDevice, SignedRequest};
use crate::state::{App, AppState};

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest device header value accepted, in bytes.
const MAX_DEVICE_HEADER: usize = 256;

/// The answer format of an Authy path: `/protected/{format}/…` and `/onetouch/{format}/…`.
pub fn format_of(path: &str) -> Option<Format> {
    path.split('/').nth(2).and_then(Format::parse)
}

/// An authenticated API call: the answer format, the app the API key belongs to, and the
/// request's parameters.
pub struct Call {
    pub format: Format,
    pub app: App,
    pub params: Params,
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl FromRequest<AppState> for Call {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Call, Rejection> {
        let path = req.uri().path().to_owned();
        let format = format_of(&path).ok_or_else(|| {
            Rejection(
                Format::Json,
                ApiError::not_found("Format not supported: use json or xml."),
            )
        })?;
        let query = req.uri().query().map(str::to_owned);
        let headers = req.headers().clone();
        let key = header_text(&headers, "x-authy-api-key")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        let content_type = header_text(&headers, header::CONTENT_TYPE).map(str::to_owned);
        let declared =
            header_text(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY) {
            let error = ApiError::new(
                Refusal::PayloadTooLarge,
                "60002",
                "The request body is too large.",
            );
            return Err(Rejection(format, error));
        }
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            Rejection(
                format,
                ApiError::invalid_request("The request body could not be read."),
            )
        })?;
        // The key may also come as the api_key parameter, as old Authy clients send it.
        let params = Params::parse(query.as_deref(), content_type.as_deref(), &body)
            .map_err(|e| Rejection(format, e))?;
        let key = key
            .or_else(|| params.text("api_key").map(str::to_owned))
            .ok_or_else(|| Rejection(format, ApiError::invalid_api_key()))?;
        let app = crate::service::apps::for_key(state, &key)
            .await
            .map_err(|e| Rejection(format, e))?;
        crate::service::rate_limit::check_app(state, app.id)
            .await
            .map_err(|e| Rejection(format, e))?;
        // Every authenticated call counts towards the app's `api_calls_count`.
        crate::service::stats::record(state, app.id, crate::service::stats::API_CALL);
        Ok(Call {
            format,
            app,
            params,
        })
    }
}

impl Call {
    /// Renders a service's result in this call's format (200 for a body).
    pub fn answer(&self, result: Result<Value, ApiError>) -> Response {
        match result {
            Ok(body) => render::respond(self.format, StatusCode::OK, &body),
            Err(error) => api_error(self.format, &error),
        }
    }
}

/// A device API request whose signature, freshness and nonce were checked, with its body.
pub struct DeviceRequest {
    pub device: AuthenticatedDevice,
    pub body: Bytes,
}

fn device_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header_text(headers, name)
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= MAX_DEVICE_HEADER)
}

impl FromRequest<AppState> for DeviceRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<DeviceRequest, Response> {
        let method = req.method().as_str().to_owned();
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let signed = SignedRequest {
            device: device_header(&headers, "x-countersign-device"),
            timestamp: device_header(&headers, "x-countersign-timestamp"),
            nonce: device_header(&headers, "x-countersign-nonce"),
            signature: device_header(&headers, "x-countersign-signature"),
            method: &method,
            path: &path,
            body: &body,
        };
        let device = device_auth::authenticate(state, &signed)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(DeviceRequest { device, body })
    }
}

/// The address of the connection's other end, as the listener (plain or TLS) saw it.
/// (The TLS listener's `Connected` is beside it, in `run`.)
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}

/// The client's address: the peer's, or the one a trusted reverse proxy forwarded
/// (`proxies`). Handlers that record where a request came from read it from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Middleware: works out the [`ClientAddress`], puts it in the request's extensions and
/// logs the request with it. Without a peer address (a router served without connect
/// info, as in unit tests) nothing is added.
pub async fn record_client(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<PeerAddr>>()
        .map(|info| info.0.0.ip());
    let Some(peer) = peer else {
        return next.run(request).await;
    };
    let proxies = &state.settings.trusted_proxies;
    let forwarded = request
        .headers()
        .get_all(proxies.header().name())
        .iter()
        .filter_map(|value| value.to_str().ok());
    let client = proxies.client_address(peer, forwarded);
    request.extensions_mut().insert(ClientAddress(client));
    if !tracing::enabled!(tracing::Level::DEBUG) {
        // The usual case, kept lean: no span to build for every request.
        return next.run(request).await;
    }
    // The route's pattern, never the path itself: paths carry codes (`verify/{token}/…`).
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    let span = tracing::debug_span!("request", %client);
    tracing::debug!(parent: &span, %client, %peer, method = %request.method(), route, "request");
    next.run(request).instrument(span).await
}
