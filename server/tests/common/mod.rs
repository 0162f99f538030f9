//! Starts a real `countersign-server` on a free loopback port with a fresh database.

#![allow(dead_code)]

pub mod burst;
pub mod phone;
pub mod receiver;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_countersign-server");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Default)]
pub struct Options {
    /// Register a callback URL on a port the test listens on.
    pub callback: bool,
    pub env: Vec<(String, String)>,
    /// Put the SQLite database in this folder (e.g. a small tmpfs) instead of the temporary one.
    pub sqlite_dir: Option<PathBuf>,
    /// Serve HTTPS with a certificate for 127.0.0.1/localhost from a fresh test CA
    /// ([`Server::ca_cert`]); `base_url` is then `https://…`.
    pub tls: bool,
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub base_url: String,
    pub api_key: String,
    pub app_id: i64,
    pub callback_port: u16,
    pub database_url: String,
    /// The test CA that signed the server's certificate, when it serves HTTPS.
    pub ca_cert: Option<PathBuf>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    port: u16,
}

/// `COUNTERSIGN_TEST_DATABASE_URL` selects PostgreSQL (a fresh schema per server) instead
/// of a SQLite file.
fn database_url(dir: &std::path::Path, sqlite_dir: Option<&std::path::Path>) -> String {
    match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("t{}", std::process::id() as u64 * 1000 + free_port() as u64);
            let status = Command::new("psql")
                .arg(&base)
                .args(["-qc", &format!("CREATE SCHEMA {schema}")])
                .status()
                .unwrap();
            assert!(status.success(), "cannot create a schema in {base}");
            let separator = if base.contains('?') { "&" } else { "?" };
            format!("{base}{separator}options=-csearch_path%3D{schema}")
        }
        _ => format!(
            "sqlite:{}",
            sqlite_dir.unwrap_or(dir).join("server.db").display()
        ),
    }
}

impl Server {
    /// Creates a user through the Authy API; returns its id.
    pub fn new_user(&self, phone: &str) -> i64 {
        let user: serde_json::Value = self
            .client()
            .post(format!("{}/protected/json/users/new", self.base_url))
            .header("X-Authy-API-Key", &self.api_key)
            .form(&[
                ("user[email]", "hermione@example.com"),
                ("user[cellphone]", phone),
                ("user[country_code]", "44"),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        user["user"]["id"].as_i64().unwrap()
    }

    /// A blocking client that trusts the server's test CA (when it has one).
    pub fn client(&self) -> reqwest::blocking::Client {
        let mut builder = reqwest::blocking::Client::builder();
        if let Some(ca) = &self.ca_cert {
            let pem = std::fs::read(ca).unwrap();
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        builder.build().unwrap()
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env("COUNTERSIGN_DATABASE_URL", &self.database_url).env(
            "COUNTERSIGN_MASTER_KEY_FILE",
            self.dir.path().join("master.key"),
        );
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The newest message the `log` sender delivered to `recipient`: (its text, the code in it).
    pub fn last_message(&self, recipient: &str) -> (String, String) {
        let command = self.outbox_command();
        let out = Command::new(&command[0])
            .args(&command[1..])
            .output()
            .unwrap();
        let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let text = list
            .iter()
            .rev()
            .find(|m| m["recipient"] == recipient)
            .expect("a message to the recipient")["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = text
            .split(|c: char| !c.is_ascii_digit())
            .rfind(|w| w.len() >= 4)
            .unwrap()
            .to_owned();
        (text, code)
    }

    pub fn outbox_command(&self) -> Vec<String> {
        // The Python side runs this to read delivered messages.
        let script = format!(
            "COUNTERSIGN_DATABASE_URL='{}' COUNTERSIGN_MASTER_KEY_FILE='{}' '{}' outbox --json",
            self.database_url,
            self.dir.path().join("master.key").display(),
            BIN
        );
        vec!["sh".into(), "-c".into(), script]
    }

    pub fn start(options: &Options) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let callback_port = free_port();
        let mut server = Server {
            database_url: database_url(dir.path(), options.sqlite_dir.as_deref()),
            dir,
            base_url: String::new(),
            api_key: String::new(),
            app_id: 0,
            callback_port,
            ca_cert: None,
            env: options.env.clone(),
            child: None,
            port: free_port(),
        };
        let mut create = server.command();
        create.args(["app", "create", "--name", "Gringotts", "--json"]);
        if options.callback {
            create.args([
                "--callback-url",
                &format!("http://127.0.0.1:{callback_port}/authy/callback"),
            ]);
        }
        let out = create.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        server.api_key = app["api_key"].as_str().unwrap().to_owned();
        server.app_id = app["app_id"].as_i64().unwrap();
        server.base_url = format!("http://127.0.0.1:{}", server.port);
        if options.tls {
            let tls = test_certificates(server.dir.path());
            server.env.push((
                "COUNTERSIGN_TLS_CERT".into(),
                tls.cert.display().to_string(),
            ));
            server
                .env
                .push(("COUNTERSIGN_TLS_KEY".into(), tls.key.display().to_string()));
            server.ca_cert = Some(tls.ca);
            server.base_url = format!("https://127.0.0.1:{}", server.port);
        }
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        let child = self
            .command()
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .env("RUST_LOG", "debug,sqlx=warn,hyper=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                let log = self.log();
                let tail = &log[log.len().saturating_sub(2000)..];
                panic!("the server did not start; its log ends with:\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the process (SIGTERM, graceful) and starts it again on the same database.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Everything the server logged so far (at debug level).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            self.print_log_tails();
        }
    }
}

impl Server {
    /// A failed test shows the last warnings of every instance's log: the temporary folder is gone
    /// afterwards, and a CI run leaves nothing else to read.
    fn print_log_tails(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .collect();
                let tail = &lines[lines.len().saturating_sub(40)..];
                eprintln!(
                    "--- the last {} warnings of {}:",
                    tail.len(),
                    path.display()
                );
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// A fresh database for a test that builds its own server state: a new PostgreSQL schema
/// when `COUNTERSIGN_TEST_DATABASE_URL` is set, else a SQLite file in `dir`.
pub fn fresh_database_url(dir: &std::path::Path) -> String {
    database_url(dir, None)
}

/// Waits up to a minute for a SIGTERM'd process to exit (then kills it); returns how long the
/// exit took.
fn terminate_child(child: &mut Child) -> Duration {
    let started = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// Another `countersign-server` process on the same database and master key as a [`Server`].
pub struct Instance {
    pub base_url: String,
    child: Option<Child>,
}

impl Server {
    /// Starts another instance on this server's database (several instances behind one load
    /// balancer), logging into `server-N.log` beside the first one's log.
    pub fn another_instance(&self) -> Instance {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("server-{port}.log")))
            .unwrap();
        let child = self
            .command()
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "debug,sqlx=warn,hyper=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the instance did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The same scheme as the first instance: it inherits the TLS settings too.
        let scheme = if self.ca_cert.is_some() {
            "https"
        } else {
            "http"
        };
        Instance {
            base_url: format!("{scheme}://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// SIGTERM; returns how long the process took to exit (at most a minute, then killed).
    pub fn terminate(&mut self) -> Duration {
        self.child
            .take()
            .map_or(Duration::ZERO, |mut child| terminate_child(&mut child))
    }

    /// Starts the process again after [`Server::terminate`] or [`Server::stop`].
    pub fn start_again(&mut self) {
        self.spawn();
    }
}

impl Instance {
    pub fn terminate(&mut self) -> Duration {
        self.child
            .take()
            .map_or(Duration::ZERO, |mut child| terminate_child(&mut child))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// SIGKILL: the process dies at once, with whatever it was doing unfinished.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A test CA and a server certificate it signed, all PEM files.
pub struct TestCertificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes, with the `openssl` command, a CA and a certificate for 127.0.0.1, ::1 and
/// localhost signed by it (P-256, valid for two days) in `dir/tls`.
pub fn test_certificates(dir: &std::path::Path) -> TestCertificates {
    let dir = dir.join("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("the openssl command");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &new_key,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Countersign test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &new_key,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "2",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    TestCertificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}
