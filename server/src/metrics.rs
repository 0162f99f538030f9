//! The server's Prometheus metrics: one registry, held as plain data in [`Metrics`] (a cheap
//! handle every layer may record through; it knows neither axum nor SQL), encoded in the
//! Prometheus text format 0.0.4 for `GET /metrics`.
//!
//! Labels never carry a path, a code, a key or a phone number: requests are counted by the
//! route's PATTERN (`/protected/{format}/verify/{token}/{id}`), the rest by fixed words.
//! The crate is `prometheus-client`, the Prometheus project's own Rust client: the registry
//! is an explicit value (no process-wide recorder to install or to share between the
//! servers a test starts in one process), and it writes the 0.0.4 text format itself.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Latency bucket bounds, in seconds: from a cached verification (sub-millisecond) to the
/// request deadline (10 s).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    provider: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushLabels {
    provider: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabels {
    scope: &'static str,
}

/// Every metric the server keeps, and the registry that names them.
struct Families {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    verifications: Family<OutcomeLabels, Counter>,
    lockouts: Counter,
    deliveries: Family<DeliveryLabels, Counter>,
    callbacks: Family<ResultLabels, Counter>,
    callback_retries: Counter,
    callback_queue: Gauge,
    pushes: Family<PushLabels, Counter>,
    approvals: Family<StateLabels, Counter>,
    rate_limited: Family<ScopeLabels, Counter>,
}

/// A handle on the server's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Families>);

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut families = Families {
            registry: Registry::with_prefix("countersign"),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            verifications: Family::default(),
            lockouts: Counter::default(),
            deliveries: Family::default(),
            callbacks: Family::default(),
            callback_retries: Counter::default(),
            callback_queue: Gauge::default(),
            pushes: Family::default(),
            approvals: Family::default(),
            rate_limited: Family::default(),
        };
        families.register_all();
        Metrics(Arc::new(families))
    }

    /// One answered HTTP request: its route pattern (`(unmatched)` for none), method,
    /// status and time taken.
    pub fn request(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            route: route.to_owned(),
            method,
            status,
        };
        self.0.requests.get_or_create(&labels).inc();
        let route = RouteLabels {
            route: labels.route,
        };
        self.0.latency.get_or_create(&route).observe(seconds);
    }

    /// A verification's outcome: `ok`, `wrong`, `reused`, `locked` or `invalid`.
    pub fn verification(&self, outcome: &'static str) {
        let labels = OutcomeLabels { outcome };
        self.0.verifications.get_or_create(&labels).inc();
    }

    /// A user locked out by a wrong guess (the guess that crossed the threshold).
    pub fn lockout(&self) {
        self.0.lockouts.inc();
    }

    /// An SMS or voice delivery handed to `provider`: `result` is `sent` or `failed`.
    pub fn delivery(&self, channel: &'static str, provider: &'static str, result: &'static str) {
        let labels = DeliveryLabels {
            channel,
            provider,
            result,
        };
        self.0.deliveries.get_or_create(&labels).inc();
    }

    /// A callback attempt: `delivered` or `failed`; a failure to be tried again is a retry.
    pub fn callback(&self, result: &'static str, will_retry: bool) {
        let labels = ResultLabels { result };
        self.0.callbacks.get_or_create(&labels).inc();
        if will_retry {
            self.0.callback_retries.inc();
        }
    }

    /// Callbacks waiting for delivery, as the store counted them.
    pub fn callback_queue_depth(&self, depth: i64) {
        self.0.callback_queue.set(depth);
    }

    /// A push to one device by `provider`: `sent`, `unregistered` or `failed`.
    pub fn push(&self, provider: &'static str, result: &'static str) {
        let labels = PushLabels { provider, result };
        self.0.pushes.get_or_create(&labels).inc();
    }

    /// An approval request reaching its final state: `approved`, `denied` or `expired`.
    pub fn approval(&self, state: &'static str) {
        let labels = StateLabels { state };
        self.0.approvals.get_or_create(&labels).inc();
    }

    /// A request refused by a rate limit: `app` or `address`.
    pub fn rate_limited(&self, scope: &'static str) {
        let labels = ScopeLabels { scope };
        self.0.rate_limited.get_or_create(&labels).inc();
    }

    /// The metrics in the Prometheus text format 0.0.4.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an error would only mean a partial page.
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
            .is_err()
        {
            tracing::error!("encoding the metrics failed");
        }
        text
    }
}

impl Families {
    /// Names and describes every metric (the prefix and `_total` are added by the encoder).
    fn register_all(&mut self) {
        let r = &mut self.registry;
        let requests = "HTTP requests by route pattern, method and status";
        r.register("http_requests", requests, self.requests.clone());
        let latency = "Time to answer HTTP requests, by route pattern";
        r.register(
            "http_request_duration_seconds",
            latency,
            self.latency.clone(),
        );
        let verifications = "Token verifications by outcome";
        r.register("verifications", verifications, self.verifications.clone());
        let lockouts = "Users locked out after too many wrong codes";
        r.register("lockouts", lockouts, self.lockouts.clone());
        let deliveries = "SMS and voice deliveries by channel, provider and result";
        r.register("code_deliveries", deliveries, self.deliveries.clone());
        let callbacks = "Callback delivery attempts by result";
        r.register("callback_attempts", callbacks, self.callbacks.clone());
        let retries = "Failed callback attempts that will be tried again";
        r.register("callback_retries", retries, self.callback_retries.clone());
        let queue = "Callbacks waiting for delivery (read from the database when scraped)";
        r.register("callback_queue_depth", queue, self.callback_queue.clone());
        let pushes = "Pushes to devices by provider and result";
        r.register("pushes", pushes, self.pushes.clone());
        let approvals = "Approval requests by final state (approved, denied, expired)";
        r.register(
            "approval_requests_finished",
            approvals,
            self.approvals.clone(),
        );
        let limited = "Requests refused by a rate limit, by scope (app, address)";
        r.register("rate_limited", limited, self.rate_limited.clone());
    }
}
