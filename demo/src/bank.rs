//! Step 7 and the bank's side of the rest: a bank's Countersign server started in this process
//! on a loopback port (temporary SQLite database), and the bank's backend calling its Authy API.

use std::path::Path;

use countersign_app::vault::Vault;
use countersign_server::config::FileConfig;
use serde_json::Value;

use crate::error::{DemoError, fail};
use crate::{phone, step};

/// The bank's backend: Authy API calls with its API key.
pub struct Bank {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl Bank {
    /// `GET` with `form` as the query, or `POST` with it as the form; the JSON answer, or an
    /// error when the status is not a success.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, DemoError> {
        let url = format!("{}{path}", self.base_url);
        let request = match method {
            "GET" => self.http.get(url).query(form),
            _ => self.http.post(url).form(form),
        };
        let response = request
            .header("X-Authy-API-Key", &self.api_key)
            .send()
            .await
            .map_err(|e| fail(format!("{path}: {e}")))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| fail(format!("{path}: {e}")))?;
        if !status.is_success() {
            return Err(fail(format!("{path} answered {status}: {body}")));
        }
        Ok(body)
    }
}

/// Runs steps `first`… of the demo with the unlocked `vault` as the phone's storage.
pub fn run(first: u32, dir: &Path, vault: &mut Vault) -> Result<(), DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(fail)?;
    runtime.block_on(serve(first, dir, vault))
}

/// Starts the bank's server, runs the phone's steps against it, stops it.
async fn serve(first: u32, dir: &Path, vault: &mut Vault) -> Result<(), DemoError> {
    step(first, "A bank's Countersign server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail)?;
    let address = listener.local_addr().map_err(fail)?;
    let base_url = format!("http://{address}");
    let config = FileConfig {
        database_url: Some(format!("sqlite:{}", dir.join("bank.db").display())),
        listen: Some(address.to_string()),
        public_url: Some(base_url.clone()),
        ..FileConfig::default()
    };
    let state = countersign_server::run::state(&config)
        .await
        .map_err(fail)?;
    let (app_id, api_key) =
        countersign_server::run::create_app(&state, "Gringotts Bank", 7, None, "post")
            .await
            .map_err(fail)?;
    let server = countersign_server::run::start(state, listener).map_err(fail)?;
    println!(
        "Serving the Authy API on {base_url} (SQLite in a temporary folder); app {app_id} created."
    );
    let bank = Bank {
        http: reqwest::Client::new(),
        base_url,
        api_key,
    };
    let outcome = phone::run(first, &bank, vault).await;
    server.stop().await.map_err(fail)?;
    println!("Server stopped.");
    outcome
}
