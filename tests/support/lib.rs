//! What the end-to-end tests share: a bank's Countersign server started in the test's own
//! process, through the same calls the server binary makes (`countersign_server::run`), on a
//! free loopback port with a fresh database — a SQLite file in a temporary folder, or a new
//! PostgreSQL schema when `COUNTERSIGN_TEST_DATABASE_URL` is set (`scripts/with-postgres`).
//!
//! In-process rather than a spawned `countersign-server`: Cargo hands a test the path of a
//! binary of its own package only, and this crate's job is to use the others' crates.
//!
//! The `countersign` command is run as this package's binary `countersign-e2e-cli`
//! (`support/cli_main.rs`): the CLI is a library whose one entry point both that binary and the
//! real `countersign` call, so it is the same program, and Cargo builds it with the tests and
//! gives its path (`CARGO_BIN_EXE_countersign-e2e-cli`) — never a stale or missing binary
//! found by guessing where another package's build put it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failure panics the test

mod database;

use serde_json::Value;

use database::fresh_database_url;

/// How to configure a server beyond the defaults.
#[derive(Default)]
pub struct Options {
    /// Configuration-file keys and values (docs/server-api.md), e.g. `("fcm_endpoint", url)`.
    pub settings: Vec<(&'static str, String)>,
}

/// A server running on its own runtime; stopped (gracefully) when dropped.
pub struct Server {
    pub base_url: String,
    pub api_key: String,
    pub app_id: i64,
    runtime: tokio::runtime::Runtime,
    running: Option<countersign_server::run::Running>,
    config: countersign_server::config::FileConfig,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with an app ("Gringotts", 7-digit tokens) created in it.
    pub fn start(options: &Options) -> Server {
        let dir = tempfile::tempdir().unwrap();
        // As many workers as the binary's `#[tokio::main]` would have.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (running, app_id, api_key, config) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let config = config(&dir, &address.to_string(), options);
            let state = countersign_server::run::state(&config).await.unwrap();
            let (app_id, api_key) =
                countersign_server::run::create_app(&state, "Gringotts", 7, None, "post")
                    .await
                    .unwrap();
            let running = countersign_server::run::start(state, listener).unwrap();
            (running, app_id, api_key, config)
        });
        Server {
            base_url: format!("http://{}", running.address),
            api_key,
            app_id,
            runtime,
            running: Some(running),
            config,
            _dir: dir,
        }
    }

    /// Runs an administrator's action (what a `countersign-server` subcommand does) on a
    /// state built from this server's configuration, as the subcommand would build it.
    pub fn admin<T, F: std::future::Future<Output = T>>(
        &self,
        action: impl FnOnce(countersign_server::state::AppState) -> F,
    ) -> T {
        self.runtime.block_on(async {
            let state = countersign_server::run::state(&self.config).await.unwrap();
            action(state).await
        })
    }

    /// The bank's backend: a POST of `form` to the Authy API with the app's key; the JSON
    /// answer, whatever its status.
    pub fn call(&self, path: &str, form: &[(&str, &str)]) -> Value {
        reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.base_url))
            .header("X-Authy-API-Key", &self.api_key)
            .form(form)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// Creates a user through the Authy API; returns its id.
    pub fn new_user(&self, phone: &str) -> i64 {
        let user = self.call(
            "/protected/json/users/new",
            &[
                ("user[email]", "hermione@example.com"),
                ("user[cellphone]", phone),
                ("user[country_code]", "44"),
            ],
        );
        user["user"]["id"].as_i64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = self.runtime.block_on(running.stop());
        }
    }
}

/// The server's configuration, written as its configuration file would be (the documented
/// keys), so that the tests depend on that format rather than on the server's structs.
fn config(
    dir: &tempfile::TempDir,
    listen: &str,
    options: &Options,
) -> countersign_server::config::FileConfig {
    let mut table = toml::Table::new();
    let mut set = |key: &str, value: String| {
        table.insert(key.to_owned(), toml::Value::String(value));
    };
    set("database_url", fresh_database_url(dir.path()));
    set("listen", listen.to_owned());
    set("public_url", format!("http://{listen}"));
    // Needed with PostgreSQL (every instance shares it); beside the database with SQLite.
    let key_file = dir.path().join("master.key");
    set("master_key_file", key_file.display().to_string());
    for (key, value) in &options.settings {
        set(key, value.clone());
    }
    table.try_into().unwrap()
}
