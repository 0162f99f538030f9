//! OneTouch callbacks: retried with back-off until the app's endpoint accepts them, delivered
//! concurrently so one app's slow endpoint delays no one else, exactly once across several
//! instances on one database, and handed back (never lost) when an instance shuts down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn a_failing_callback_endpoint_gets_retried_until_it_accepts() {
    let server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    let listener = TcpListener::bind(("127.0.0.1", server.callback_port)).unwrap();
    let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut seen = log.lock().unwrap();
            seen.push((Instant::now(), String::from_utf8(body).unwrap()));
            // The first two deliveries fail.
            let status = if seen.len() < 3 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = stream.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    let http = reqwest::blocking::Client::new();
    let user: Value = http
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "c@example.com"),
            ("user[cellphone]", "555-010-0077"),
            ("user[country_code]", "1"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let request: Value = http
        .post(format!(
            "{}/onetouch/json/users/{}/approval_requests",
            server.base_url, user["user"]["id"]
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[("message", "Log in"), ("seconds_to_expire", "1")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uuid = request["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        3,
        "two failures, then one success, then nothing more"
    );
    assert!(
        seen.iter().all(|(_, body)| body == &seen[0].1),
        "the same callback each time"
    );
    // Back-off of 1 s, then 2 s, counted in whole seconds of the server clock: the second wait
    // is always more than a second, the first is some positive time.
    let gaps: Vec<f64> = seen
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_secs_f64())
        .collect();
    assert!(gaps[0] > 0.0 && gaps[1] >= 1.0, "{gaps:?}");
    let status: Value = http
        .get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["approval_request"]["status"], "expired");
    assert_eq!(status["approval_request"]["notified"], true);
}

/// One callback request the test endpoint received.
#[derive(Clone, Debug)]
struct Receipt {
    at: Instant,
    path: String,
    uuid: String,
}

/// How long the endpoint waits before answering 200: by path and by how many earlier
/// receipts of the same request it had.
type Delay = dyn Fn(&str, usize) -> Duration + Send + Sync;

/// A callback endpoint answering each request on its own thread, after a delay.
#[derive(Clone)]
struct Endpoint {
    port: u16,
    receipts: Arc<Mutex<Vec<Receipt>>>,
}

impl Endpoint {
    fn start(port: u16, delay: impl Fn(&str, usize) -> Duration + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let endpoint = Endpoint {
            port: listener.local_addr().unwrap().port(),
            receipts: Arc::default(),
        };
        let delay: Arc<Delay> = Arc::new(delay);
        let receipts = endpoint.receipts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (receipts, delay) = (receipts.clone(), delay.clone());
                std::thread::spawn(move || answer(stream, &receipts, &*delay));
            }
        });
        endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn receipts(&self) -> Vec<Receipt> {
        self.receipts.lock().unwrap().clone()
    }

    /// Receipts per request uuid, for requests whose callbacks went to `path`.
    fn counts(&self, path: &str) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for receipt in self.receipts().iter().filter(|r| r.path == path) {
            *counts.entry(receipt.uuid.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Waits until `done` holds for the receipts, at most `limit`; true when it did.
    fn wait_until(&self, limit: Duration, done: impl Fn(&[Receipt]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done(&self.receipts()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        done(&self.receipts())
    }
}

fn answer(stream: std::net::TcpStream, receipts: &Mutex<Vec<Receipt>>, delay: &Delay) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let uuid = body["uuid"].as_str().unwrap_or("").to_owned();
    let earlier = {
        let mut receipts = receipts.lock().unwrap();
        let earlier = receipts.iter().filter(|r| r.uuid == uuid).count();
        receipts.push(Receipt {
            at: Instant::now(),
            path: path.clone(),
            uuid,
        });
        earlier
    };
    std::thread::sleep(delay(&path, earlier));
    let mut stream = stream;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// Creates another app on the server's database; returns its API key.
fn create_app(server: &common::Server, name: &str, callback_url: &str) -> String {
    let out = server
        .command()
        .args(["app", "create", "--name", name, "--json"])
        .args(["--callback-url", callback_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app: Value = serde_json::from_slice(&out.stdout).unwrap();
    app["api_key"].as_str().unwrap().to_owned()
}

fn new_user(base_url: &str, api_key: &str, phone: &str) -> i64 {
    let user: Value = reqwest::blocking::Client::new()
        .post(format!("{base_url}/protected/json/users/new"))
        .header("X-Authy-API-Key", api_key)
        .form(&[
            ("user[email]", "ron@example.com"),
            ("user[cellphone]", phone),
            ("user[country_code]", "44"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    user["user"]["id"].as_i64().unwrap()
}

/// An approval request expiring after a second: its expiry queues a callback.
fn expiring_request(base_url: &str, api_key: &str, user: i64) -> String {
    let request: Value = reqwest::blocking::Client::new()
        .post(format!(
            "{base_url}/onetouch/json/users/{user}/approval_requests"
        ))
        .header("X-Authy-API-Key", api_key)
        .form(&[("message", "Log in"), ("seconds_to_expire", "1")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    request["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

const HANGING: &str = "/authy/callback";
const PROMPT: &str = "/prompt";

#[test]
fn a_hanging_endpoint_delays_neither_other_apps_callbacks_nor_expiry() {
    let server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    // The first app's endpoint never answers in time; the second's answers at once.
    let endpoint = Endpoint::start(server.callback_port, |path, _| {
        if path == HANGING {
            Duration::from_secs(60)
        } else {
            Duration::ZERO
        }
    });
    let prompt_key = create_app(&server, "Prompt", &endpoint.url(PROMPT));
    let hanging_user = server.new_user("555-010-0001");
    for _ in 0..20 {
        expiring_request(&server.base_url, &server.api_key, hanging_user);
    }
    assert!(
        endpoint.wait_until(Duration::from_secs(10), |r| r
            .iter()
            .any(|r| r.path == HANGING)),
        "the hanging endpoint was called"
    );
    // Only expiry queues this callback, so its arrival shows expiry and delivery both ran.
    let prompt_user = new_user(&server.base_url, &prompt_key, "555-010-0002");
    let created = Instant::now();
    let uuid = expiring_request(&server.base_url, &prompt_key, prompt_user);
    let arrived = endpoint.wait_until(Duration::from_secs(20), |r| {
        r.iter().any(|r| r.uuid == uuid)
    });
    let receipts = endpoint.receipts();
    let at = receipts
        .iter()
        .find(|r| r.uuid == uuid)
        .map(|r| r.at - created);
    assert!(arrived, "the other app's callback never arrived");
    assert!(
        at.is_some_and(|at| at < Duration::from_secs(5)),
        "the other app's callback took {at:?} (its request expired after 1 s)"
    );
}

/// Each of `count` requests (expiring after a second) gets its callback exactly once across
/// the instances, with an endpoint that takes `answer_after` to answer.
fn exactly_once_across_instances(instances: usize, count: usize, answer_after: Duration) {
    let server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    let endpoint = Endpoint::start(server.callback_port, move |_, _| answer_after);
    let _others: Vec<common::Instance> =
        (1..instances).map(|_| server.another_instance()).collect();
    let user = server.new_user("555-010-0003");
    let uuids: Vec<String> = (0..count)
        .map(|_| expiring_request(&server.base_url, &server.api_key, user))
        .collect();
    let all_in = endpoint.wait_until(Duration::from_secs(45), |r| {
        let seen: std::collections::HashSet<&str> = r.iter().map(|r| r.uuid.as_str()).collect();
        uuids.iter().all(|u| seen.contains(u.as_str()))
    });
    // Time for a second, wrong delivery to show up.
    std::thread::sleep(answer_after + Duration::from_secs(3));
    let counts = endpoint.counts(HANGING);
    let missing = uuids.iter().filter(|u| !counts.contains_key(*u)).count();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        all_in && missing == 0,
        "{missing} of {count} callbacks never arrived"
    );
    assert!(
        twice.is_empty(),
        "callbacks delivered more than once: {twice:?}"
    );
}

#[test]
fn three_instances_on_one_database_deliver_each_callback_exactly_once() {
    exactly_once_across_instances(3, 45, Duration::from_secs(6));
}

#[test]
fn sigterm_with_slow_callbacks_exits_promptly_and_a_restart_delivers_the_rest_once() {
    let mut server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    let endpoint = Endpoint::start(server.callback_port, |_, _| Duration::from_secs(3));
    let user = server.new_user("555-010-0004");
    let uuids: Vec<String> = (0..20)
        .map(|_| expiring_request(&server.base_url, &server.api_key, user))
        .collect();
    assert!(endpoint.wait_until(Duration::from_secs(10), |r| !r.is_empty()));
    let exit = server.terminate();
    assert!(
        exit < Duration::from_secs(15),
        "SIGTERM took {exit:?} to exit (the bound is 15 s)"
    );
    server.start_again();
    assert!(
        endpoint.wait_until(Duration::from_secs(20), |r| r.len() >= uuids.len()),
        "after a restart every callback arrives"
    );
    std::thread::sleep(Duration::from_secs(4));
    let counts = endpoint.counts(HANGING);
    for uuid in &uuids {
        assert_eq!(counts.get(uuid), Some(&1), "{uuid}: {counts:?}");
    }
}

#[test]
fn sigterm_hands_back_deliveries_that_outlast_the_grace() {
    let mut server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    // First attempts take longer than the shutdown grace; later ones are answered at once.
    let endpoint = Endpoint::start(server.callback_port, |_, earlier| {
        if earlier == 0 {
            Duration::from_secs(12)
        } else {
            Duration::ZERO
        }
    });
    let user = server.new_user("555-010-0005");
    let uuids: Vec<String> = (0..5)
        .map(|_| expiring_request(&server.base_url, &server.api_key, user))
        .collect();
    assert!(endpoint.wait_until(Duration::from_secs(10), |r| r.len() >= uuids.len()));
    let exit = server.terminate();
    assert!(
        exit < Duration::from_secs(15),
        "SIGTERM took {exit:?} to exit (the bound is 15 s)"
    );
    let restarted = Instant::now();
    server.start_again();
    // Handed back, they are due at once: well before their 30 s leases would have run out.
    assert!(
        endpoint.wait_until(Duration::from_secs(10), |r| r.len() >= 2 * uuids.len()),
        "handed-back callbacks were sent again after the restart: {:?}",
        endpoint.counts(HANGING)
    );
    let again = restarted.elapsed();
    assert!(again < Duration::from_secs(12), "{again:?}");
}

/// Queues `count` callbacks for `app_id` directly in the database, all due now.
fn queue_callbacks(database_url: &str, app_id: i64, url: &str, count: usize) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for n in 0..count {
            sqlx::query("INSERT INTO callbacks (app_id, url, method, body, attempts, next_attempt_at, delivered, created_at) VALUES ($1, $2, 'POST', $3, 0, 0, 0, 0)")
                .bind(app_id)
                .bind(url)
                .bind(format!(r#"{{"uuid":"queued-{n}","status":"approved"}}"#))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        pool.close().await;
    });
}

/// Delivery rate of one instance working through a backlog of queued callbacks, with an
/// endpoint that answers at once (run by hand:
/// `cargo test -p countersign-server --test callbacks --locked -- --ignored --nocapture`).
#[test]
#[ignore = "a measurement; prints the delivery rate"]
fn delivery_rate_of_one_instance() {
    const COUNT: usize = 3000;
    let mut server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    let endpoint = Endpoint::start(server.callback_port, |_, _| Duration::ZERO);
    server.terminate();
    let url = endpoint.url(HANGING);
    queue_callbacks(&server.database_url, server.app_id, &url, COUNT);
    server.start_again();
    assert!(endpoint.wait_until(Duration::from_secs(120), |r| r.len() >= COUNT));
    let receipts = endpoint.receipts();
    let span = receipts[COUNT - 1].at - receipts[0].at;
    let rate = (COUNT - 1) as f64 / span.as_secs_f64();
    println!("{COUNT} queued callbacks delivered in {span:?}: {rate:.0} per second");
    assert!(rate > 200.0, "{rate:.0} callbacks per second");
}

#[test]
fn a_database_from_before_leases_gets_the_lease_column_and_keeps_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path());
    let connect_url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&connect_url).await.unwrap();
        for statement in [
            "CREATE TABLE schema_version (version BIGINT NOT NULL)",
            "INSERT INTO schema_version (version) VALUES (1)",
            "CREATE TABLE callbacks (id BIGINT PRIMARY KEY, app_id BIGINT NOT NULL, url TEXT NOT NULL, method TEXT NOT NULL, body TEXT NOT NULL, attempts BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL, delivered BIGINT NOT NULL, created_at BIGINT NOT NULL)",
            "INSERT INTO callbacks VALUES (1, 1, 'http://127.0.0.1:9/', 'POST', '{}', 0, 0, 0, 0)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool
    });
    let out = std::process::Command::new(common::BIN)
        .args(["app", "create", "--name", "Upgraded", "--json"])
        .env("COUNTERSIGN_DATABASE_URL", &url)
        .env("COUNTERSIGN_MASTER_KEY_FILE", dir.path().join("master.key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    runtime.block_on(async {
        let queued: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, lease_token FROM callbacks")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(queued, vec![(1, None)]);
        pool.close().await;
    });
}

#[test]
fn a_callback_whose_instance_died_mid_delivery_is_sent_again_after_its_lease() {
    let mut server = common::Server::start(&common::Options {
        callback: true,
        // Many requests pending at once for one user, more than the default limit.
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "1000".into())],
        ..Default::default()
    });
    // The first attempt is still waiting for its answer when the instance dies.
    let endpoint = Endpoint::start(server.callback_port, |_, earlier| {
        if earlier == 0 {
            Duration::from_secs(20)
        } else {
            Duration::ZERO
        }
    });
    let user = server.new_user("555-010-0007");
    let uuid = expiring_request(&server.base_url, &server.api_key, user);
    assert!(endpoint.wait_until(Duration::from_secs(10), |r| !r.is_empty()));
    let killed = Instant::now();
    server.kill();
    server.start_again();
    // Not lost: sent again once the 30 s lease of the dead instance ran out.
    assert!(
        endpoint.wait_until(Duration::from_secs(45), |r| r.len() >= 2),
        "the callback was lost with its instance"
    );
    let again = endpoint.receipts()[1].at - killed;
    assert!(
        again > Duration::from_secs(20),
        "not before the lease ran out: {again:?}"
    );
    assert_eq!(endpoint.counts(HANGING).get(&uuid), Some(&2));
}
