//! The architecture as plain data (docs/architecture.md draws the same picture). Changing
//! the architecture means changing a table here, in review, not slipping an edge in.

/// Which workspace crates each crate may depend on (normal, build and dev edges alike).
/// A crate missing from this table may not exist: a new crate takes its place here first.
pub const CRATE_EDGES: &[(&str, &[&str])] = &[
    ("countersign-otp", &[]),
    ("countersign-protocol", &["countersign-otp"]),
    (
        "countersign-app",
        &["countersign-otp", "countersign-protocol"],
    ),
    ("countersign-ffi", &["countersign-app"]),
    ("countersign-cli", &["countersign-app"]),
    (
        "countersign-server",
        &["countersign-otp", "countersign-protocol"],
    ),
    (
        "countersign-demo",
        &["countersign-app", "countersign-server"],
    ),
    (
        "countersign-e2e",
        &[
            "countersign-app",
            "countersign-server",
            "countersign-otp",
            "countersign-protocol",
            "countersign-cli",
        ],
    ),
    ("uniffi-bindgen", &[]),
    ("countersign-archcheck", &[]),
];

/// Third-party crates a workspace crate must not reach at all (through any path of
/// normal, build or dev dependencies, resolved for that crate alone as `cargo tree -p` does).
pub struct Forbidden {
    pub package: &'static str,
    pub crates: &'static [&'static str],
    pub why: &'static str,
}

pub const FORBIDDEN: &[Forbidden] = &[
    Forbidden {
        package: "countersign-server",
        crates: &[
            "countersign-app",
            "rxing",
            "rqrr",
            // the image crate and its decoders
            "image",
            "png",
            "jpeg-decoder",
            "zune-jpeg",
            "gif",
            "image-webp",
            "tiff",
            "rusqlite",
            "csv",
            "prost",
        ],
        why: "the server neither scans, nor opens vaults, nor imports files",
    },
    Forbidden {
        package: "countersign-cli",
        crates: &["countersign-server", "sqlx", "axum"],
        why: "the CLI is an authenticator; only the demo embeds a server",
    },
    Forbidden {
        package: "countersign-ffi",
        crates: &["countersign-server", "sqlx", "axum"],
        why: "the apps carry the authenticator, not the server",
    },
    Forbidden {
        package: "countersign-otp",
        crates: &["tokio", "reqwest", "rusqlite", "sqlx", "hyper"],
        why: "the OTP engine is pure computation, no I/O",
    },
    Forbidden {
        package: "countersign-protocol",
        crates: &["tokio", "reqwest", "rusqlite", "sqlx", "hyper"],
        why: "the protocol formats are pure computation, no I/O",
    },
];

/// The server's layers: which top-level modules of `server/src` may name `axum`, which may
/// hold SQL, and which may not import which.
pub struct ServerLayers {
    pub axum_allowed: &'static [&'static str],
    pub sql_allowed: &'static [&'static str],
    pub must_not_import: &'static [(&'static str, &'static [&'static str])],
}

pub const SERVER_LAYERS: ServerLayers = ServerLayers {
    // `run` and `main` wire the router to a listener; everything else below http is axum-free.
    axum_allowed: &["http", "run", "main"],
    sql_allowed: &["store"],
    must_not_import: &[
        ("service", &["http", "jobs", "run"]),
        ("store", &["http", "service", "delivery", "jobs", "run"]),
        ("delivery", &["http", "service", "jobs", "run"]),
        ("jobs", &["http", "run"]),
    ],
};

/// The longest function allowed outside tests, in lines from `fn` to its closing brace.
pub const MAX_FUNCTION_LINES: usize = 80;

/// Crates whose public error enums must be `#[non_exhaustive]` (a new failure is then not a
/// breaking change for whoever matches on them).
pub const OPEN_ERROR_CRATES: &[&str] = &["core/otp", "core/protocol", "core", "server", "bindings"];
