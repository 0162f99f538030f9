//! `countersign-server`: serve the API, create apps, read the outbox.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use countersign_server::config::FileConfig;
use countersign_server::error::ServerError;
use countersign_server::run;
use countersign_server::service::{apps, audit, audit_check, migration};
use countersign_server::store::apps::AppUpdate;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "countersign-server",
    version,
    about = "The Authy API, self-hosted"
)]
struct Cli {
    /// A TOML configuration file (or COUNTERSIGN_CONFIG).
    #[arg(long, global = true, env = "COUNTERSIGN_CONFIG")]
    config: Option<PathBuf>,
    /// Address to serve on (default 127.0.0.1:8080).
    #[arg(long, global = true)]
    listen: Option<String>,
    /// sqlite:FILE (default sqlite:countersign.db) or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(flatten)]
    transport: TransportFlags,
    /// Log lines as `text` (default) or `json`, one object per line (or log_format).
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// How `serve` reaches its clients (see docs/server-api.md, TLS and reverse proxies).
#[derive(clap::Args)]
struct TransportFlags {
    /// PEM certificate chain (leaf first) to serve HTTPS (or COUNTERSIGN_TLS_CERT).
    #[arg(long, global = true)]
    tls_cert: Option<PathBuf>,
    /// PEM private key of that certificate (or COUNTERSIGN_TLS_KEY).
    #[arg(long, global = true)]
    tls_key: Option<PathBuf>,
    /// A reverse proxy terminates TLS: allow plain HTTP on a non-loopback address and
    /// believe the client address a proxy on this host forwards.
    #[arg(long, global = true)]
    behind_proxy: bool,
    /// Addresses or CIDR networks of the reverse proxies to believe (implies --behind-proxy).
    #[arg(long, global = true, value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
}

impl TransportFlags {
    fn apply(&self, config: &mut FileConfig) {
        if let Some(cert) = &self.tls_cert {
            config.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &self.tls_key {
            config.tls_key = Some(key.clone());
        }
        if self.behind_proxy {
            config.behind_proxy = Some(true);
        }
        if let Some(list) = &self.trusted_proxies {
            config.trusted_proxies = Some(list.clone());
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Applications and their API keys.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Console operators (docs/console.md).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Messages the `log` sender delivered.
    Outbox {
        #[arg(long)]
        json: bool,
    },
    /// Users (migration from Authy).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// The audit trail: check the chain, export it for an auditor (docs/audit.md).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Import users exported from an Authy deployment, keeping their Authy ids
    /// (docs/migrating-from-authy.md). Exit status: 0 all rows in, 1 some rows not, 2 refused.
    Import {
        /// A CSV or JSON file: authy_id, email, country_code, cellphone[, custom_user_id,
        /// created_at, confirmed, registered].
        file: PathBuf,
        /// The app the users belong to (may be left out when there is only one).
        #[arg(long)]
        app_id: Option<i64>,
        /// csv or json (default: from the file's extension).
        #[arg(long, value_parser = ["csv", "json"])]
        format: Option<String>,
        /// Check everything and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every entry's hash, link, sequence number and signature; exits 1 naming the
    /// first bad entry.
    Verify {
        /// Check signatures against this PEM public key (e.g. from an earlier export) rather
        /// than the server's own key.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// SEQ:HASH of a head the auditor kept (an export's last entry): it must still be
        /// in the chain.
        #[arg(long)]
        expect_head: Option<String>,
    },
    /// Write entries as JSON lines after a header with the public key (PEM and JWK).
    Export {
        #[arg(long, default_value_t = 1)]
        from: i64,
        #[arg(long, default_value_t = i64::MAX)]
        to: i64,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the server's audit public key (PEM, or JWK with --jwk).
    PublicKey {
        #[arg(long)]
        jwk: bool,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Change an app's settings (running servers pick them up within seconds).
    Update {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        token_length: Option<u32>,
        /// Where OneTouch status changes are sent; an empty value removes it.
        #[arg(long)]
        callback_url: Option<String>,
        #[arg(long, value_parser = ["POST", "GET"])]
        callback_method: Option<String>,
        /// `true` suspends the app (its API keys get Authy's 60061); `false` resumes it.
        #[arg(long, action = clap::ArgAction::Set)]
        suspended: Option<bool>,
    },
    /// Create an app; prints its id and API key (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Digits of the app's codes, 6 to 10 (Authy's default is 7).
        #[arg(long, default_value_t = 7)]
        token_length: u32,
        /// Where OneTouch status changes are sent.
        #[arg(long)]
        callback_url: Option<String>,
        #[arg(long, default_value = "POST", value_parser = ["POST", "GET"])]
        callback_method: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create an operator; prints the second factor's enrolment (shown once).
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (else one is made and
        /// printed once).
        #[arg(long)]
        password_stdin: bool,
        /// A TOTP second factor: prints its otpauth:// URI for an authenticator.
        #[arg(long)]
        totp: bool,
        /// Push approval to the operator's phone: prints the link for
        /// `countersign device register` (valid 10 minutes; `register-phone` makes another).
        #[arg(long)]
        phone: bool,
    },
    /// A new registration link for an operator's phone.
    RegisterPhone {
        #[arg(long)]
        email: String,
    },
    /// List the operators.
    List,
    /// Disable an operator and end their sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
}

fn config(cli: &Cli) -> Result<FileConfig, ServerError> {
    let mut config = match &cli.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    // Flags over the environment over the file.
    let file = config.clone();
    config = FileConfig {
        listen: None,
        database_url: None,
        ..config
    }
    .overlay_env();
    config.listen = cli.listen.clone().or(config.listen).or(file.listen);
    config.database_url = cli
        .database_url
        .clone()
        .or(config.database_url)
        .or(file.database_url);
    cli.transport.apply(&mut config);
    if let Some(format) = &cli.log_format {
        config.log_format = Some(format.clone());
    }
    Ok(config)
}

async fn serve(config: FileConfig) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(config.listen())
        .await
        .map_err(|e| ServerError::Config(format!("cannot listen on {}: {e}", config.listen())))?;
    // Checked before the database is opened: a refused or broken setup changes nothing.
    let transport = run::transport(&config, listener.local_addr()?)?;
    let scheme = match transport {
        run::Transport::Tls(_) => "https",
        run::Transport::Plain => "http",
    };
    let state = run::state(&config).await?;
    let running = run::start_with(state, listener, transport)?;
    tracing::info!(address = %running.address, scheme, "countersign-server listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn create_app(
    config: FileConfig,
    name: &str,
    token_length: u32,
    callback_url: Option<String>,
    callback_method: &str,
    json_output: bool,
) -> Result<(), ServerError> {
    let inner = config.build().await?;
    let settings = app_settings(
        Some(name),
        Some(token_length),
        callback_url.as_deref(),
        Some(callback_method),
    );
    let (id, api_key) =
        run::create_app(&inner, name, token_length, callback_url, callback_method).await?;
    record_cli(&inner, "app.create", id, settings).await?;
    if json_output {
        println!("{}", json!({"app_id": id, "api_key": api_key}));
    } else {
        println!("app id:  {id}\napi key: {api_key}\n(the key is shown only now)");
    }
    Ok(())
}

/// `app update`'s settings flags.
struct AppSettings {
    name: Option<String>,
    token_length: Option<u32>,
    callback_url: Option<String>,
    callback_method: Option<String>,
}

async fn update_app(
    config: FileConfig,
    id: i64,
    changes: AppSettings,
    suspended: Option<bool>,
) -> Result<(), ServerError> {
    let AppSettings {
        name,
        token_length,
        callback_url,
        callback_method,
    } = changes;
    let settings = app_settings(
        name.as_deref(),
        token_length,
        callback_url.as_deref(),
        callback_method.as_deref(),
    );
    let changes_settings = settings.as_object().is_some_and(|s| !s.is_empty());
    let update = AppUpdate {
        name,
        token_length,
        callback_url: callback_url.map(Some),
        callback_method,
        suspended,
        ..AppUpdate::default()
    };
    // Refused before the database is opened (or created).
    apps::check_update(&update)?;
    let inner = config.build().await?;
    apps::update(&inner, id, update).await?;
    if changes_settings || suspended.is_none() {
        record_cli(&inner, "app.update", id, settings).await?;
    }
    // Suspension has its own audit actions, as in the console.
    if let Some(suspended) = suspended {
        let action = if suspended {
            "app.suspend"
        } else {
            "app.resume"
        };
        record_cli(&inner, action, id, json!({"suspended": suspended})).await?;
    }
    println!("updated app {id}");
    Ok(())
}

async fn outbox(config: FileConfig, json_output: bool) -> Result<(), ServerError> {
    let inner = config.build().await?;
    let list =
        countersign_server::delivery::sms::log::read_outbox(&inner.db, &inner.master).await?;
    if json_output {
        println!("{}", serde_json::Value::Array(list));
    } else {
        for m in &list {
            println!(
                "{}  {}  {}  {}",
                m["id"],
                m["channel"].as_str().unwrap_or(""),
                m["recipient"].as_str().unwrap_or(""),
                m["text"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

async fn import_users(config: FileConfig, command: UsersCommand) -> Result<(), ServerError> {
    let UsersCommand::Import {
        file,
        app_id,
        format,
        dry_run,
        json: json_output,
    } = command;
    let refused = |e: migration::ImportError| ServerError::ImportRefused(e.to_string());
    // The format is settled before the database is opened (or created).
    let format = migration::Format::choose(format.as_deref(), &file).map_err(refused)?;
    let inner = config.build().await?;
    let options = migration::ImportOptions {
        app_id,
        format,
        dry_run,
    };
    let report = migration::import_file(&inner, &file, options)
        .await
        .map_err(refused)?;
    if !report.dry_run {
        let details = json!({
            "format": if matches!(format, migration::Format::Csv) { "csv" } else { "json" },
            "imported": report.imported,
            "unchanged": report.unchanged,
            "failed": report.failed.len(),
        });
        record_cli(&inner, "users.import", report.app_id, details).await?;
    }
    if json_output {
        println!("{}", migration::report_json(&report));
    } else {
        print!("{}", migration::report_text(&report));
    }
    match report.failed.len() {
        0 => Ok(()),
        failed => Err(ServerError::RowsNotImported(failed)),
    }
}

/// The password for a new operator: standard input's first line, or a new random one
/// (printed once).
fn operator_password(from_stdin: bool) -> Result<(String, bool), ServerError> {
    if !from_stdin {
        let made = countersign_otp::Secret::generate(15).to_base32();
        return Ok((made, true));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
}

fn print_enrolment(enrolment: &countersign_server::service::console_push::Enrolment) {
    println!(
        "phone: register it within {} seconds with\ncountersign device register '{}'",
        enrolment.expires_in, enrolment.registration_uri
    );
}

async fn operator(config: FileConfig, command: OperatorCommand) -> Result<(), ServerError> {
    use countersign_server::service::{console_push, operators};
    match command {
        OperatorCommand::Create {
            email,
            password_stdin,
            totp,
            phone,
        } => {
            let (password, made) = operator_password(password_stdin)?;
            let state = run::state(&config).await?;
            if operators::normalize_email(&email).is_none() {
                return Err(ServerError::Config("that is not an email address".into()));
            }
            let enrolment = if phone {
                Some(console_push::enrol(&state, &email).await?)
            } else {
                None
            };
            let user_id = enrolment.as_ref().map(|e| e.user_id);
            let created = operators::create(&state, &email, &password, totp, user_id).await?;
            println!("operator id: {}", created.id);
            if made {
                println!("password:    {password}\n(shown only now)");
            }
            if let Some(uri) = created.totp_uri {
                println!("TOTP: add this to an authenticator (shown only now):\n{uri}");
            }
            if let Some(enrolment) = enrolment {
                print_enrolment(&enrolment);
            }
        }
        OperatorCommand::RegisterPhone { email } => {
            let state = run::state(&config).await?;
            print_enrolment(&console_push::new_registration(&state, &email).await?);
        }
        OperatorCommand::List => {
            let state = run::state(&config).await?;
            for o in operators::list(&state).await? {
                let status = if o.disabled { "disabled" } else { "enabled" };
                let totp = if o.totp_sealed.is_some() { " totp" } else { "" };
                let push = if o.push_user_id.is_some() {
                    " push"
                } else {
                    ""
                };
                println!("{}  {}  {status}{totp}{push}", o.id, o.email);
            }
        }
        OperatorCommand::Disable { email } => {
            let state = run::state(&config).await?;
            operators::disable(&state, &email).await?;
            println!("disabled {email}");
        }
    }
    Ok(())
}

/// An app's settings as the audit trail records them: the callback URL's origin and path
/// (credentials or tokens in its user part or query stay out) and the whole URL's hash.
fn app_settings(
    name: Option<&str>,
    token_length: Option<u32>,
    callback_url: Option<&str>,
    callback_method: Option<&str>,
) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let mut details = json!({});
    if let Some(name) = name {
        details["name"] = json!(name);
    }
    if let Some(length) = token_length {
        details["token_length"] = json!(length);
    }
    if let Some(url) = callback_url {
        let shown = reqwest::Url::parse(url).map_or_else(
            |_| String::new(),
            |u| format!("{}{}", u.origin().ascii_serialization(), u.path()),
        );
        details["callback_url"] = json!(shown);
        details["callback_url_sha256"] =
            json!(data_encoding::HEXLOWER.encode(&Sha256::digest(url)));
    }
    if let Some(method) = callback_method {
        details["callback_method"] = json!(method);
    }
    details
}

/// Records a CLI admin action (actor `cli`).
async fn record_cli(
    inner: &countersign_server::state::Inner,
    action: &'static str,
    app_id: i64,
    details: serde_json::Value,
) -> Result<(), ServerError> {
    let event = audit::AuditEvent {
        actor: "cli".into(),
        action,
        subject: format!("app:{app_id}"),
        details,
    };
    audit::record(inner, event).await.map_err(|e| {
        ServerError::Config(format!(
            "the audit entry could not be written: {}",
            e.message
        ))
    })
}

async fn audit_command(config: FileConfig, command: AuditCommand) -> Result<(), ServerError> {
    let inner = config.build().await?;
    match command {
        AuditCommand::Verify {
            public_key,
            expect_head,
        } => audit_verify(&inner, public_key, expect_head).await,
        AuditCommand::Export { from, to, out } => {
            let written = match out {
                Some(path) => {
                    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
                    audit_check::export(&inner, from, to, &mut file).await?
                }
                None => {
                    audit_check::export(&inner, from, to, &mut std::io::stdout().lock()).await?
                }
            };
            eprintln!("exported {written} audit entries");
            Ok(())
        }
        AuditCommand::PublicKey { jwk } => {
            let spki = audit_check::public_key(&inner).await?;
            match audit_check::public_key_jwk(&spki).filter(|_| jwk) {
                Some(jwk) => println!("{jwk}"),
                None => print!("{}", audit_check::public_key_pem(&spki)),
            }
            Ok(())
        }
    }
}

/// `audit verify`: prints the verdict; a broken chain exits with status 1 (a usage or
/// database error exits with 2, as every command).
async fn audit_verify(
    inner: &countersign_server::state::Inner,
    public_key: Option<PathBuf>,
    expect_head: Option<String>,
) -> Result<(), ServerError> {
    let key = match public_key {
        Some(path) => audit_check::public_key_from_pem(&std::fs::read_to_string(&path)?)
            .ok_or_else(|| {
                ServerError::Config(format!(
                    "{} is not a P-256 public key (PEM)",
                    path.display()
                ))
            })?,
        None => audit_check::public_key(inner).await?,
    };
    let expected = match expect_head {
        Some(text) => Some(
            text.split_once(':')
                .and_then(|(seq, hash)| Some((seq.parse().ok()?, hash.to_owned())))
                .ok_or_else(|| ServerError::Config("--expect-head must be SEQ:HASH".into()))?,
        ),
        None => None,
    };
    match audit_check::verify(&inner.db, &key, expected).await? {
        audit_check::Verdict::Intact { entries, head } => {
            let head =
                head.map_or_else(|| "empty".to_owned(), |(seq, hash)| format!("{seq}:{hash}"));
            println!("audit chain intact: {entries} entries, head {head}");
            Ok(())
        }
        audit_check::Verdict::Broken(found) => {
            println!(
                "audit chain BROKEN at entry {}: {}",
                found.seq, found.reason
            );
            // Not an error of the command: the answer is "broken", told by the exit status.
            std::process::exit(1);
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = config(&cli);
    let log_format = config.as_ref().ok().and_then(|c| c.log_format.clone());
    if let Err(e) = init_logging(log_format.as_deref()) {
        eprintln!("countersign-server: {e}");
        return ExitCode::from(2);
    }
    let result = async {
        let config = config?;
        match cli.command {
            None | Some(Command::Serve) => serve(config).await,
            Some(Command::App {
                command:
                    AppCommand::Create {
                        name,
                        token_length,
                        callback_url,
                        callback_method,
                        json,
                    },
            }) => {
                create_app(
                    config,
                    &name,
                    token_length,
                    callback_url,
                    &callback_method,
                    json,
                )
                .await
            }
            Some(Command::App {
                command:
                    AppCommand::Update {
                        id,
                        name,
                        token_length,
                        callback_url,
                        callback_method,
                        suspended,
                    },
            }) => {
                let settings = AppSettings {
                    name,
                    token_length,
                    callback_url,
                    callback_method,
                };
                update_app(config, id, settings, suspended).await
            }
            Some(Command::Outbox { json }) => outbox(config, json).await,
            Some(Command::Users { command }) => import_users(config, command).await,
            Some(Command::Operator { command }) => operator(config, command).await,
            Some(Command::Audit { command }) => audit_command(config, command).await,
        }
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ ServerError::RowsNotImported(_)) => {
            eprintln!("countersign-server: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("countersign-server: {e}");
            ExitCode::from(2)
        }
    }
}

/// Logs to stderr as text, or as one JSON object per line (`--log-format json`). Secrets are
/// kept out of the fields at the call sites; the format changes nothing about that.
fn init_logging(format: Option<&str>) -> Result<(), ServerError> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,sqlx=warn".into())
    };
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    match format.unwrap_or("text") {
        "text" => builder.with_env_filter(filter()).init(),
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter())
            .init(),
        other => {
            return Err(ServerError::Config(format!(
                "log_format must be text or json, not {other:?}"
            )));
        }
    }
    Ok(())
}
