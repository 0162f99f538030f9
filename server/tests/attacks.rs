//! Issue 10's attacks on the verification and approval promises, as an attacker sends them:
//! bursts released together (last-byte synchronised), on two server instances sharing one
//! database (SQLite here; PostgreSQL when COUNTERSIGN_TEST_DATABASE_URL is set, as
//! `scripts/test` runs every server suite a second time).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use common::burst::{Answer, Raw, count, release_together};
use countersign_server::seal::MasterKey;
use countersign_server::store::db::Db;
use reqwest::blocking::Client;
use serde_json::Value;
use sqlx::Row;

fn get(server: &common::Server, path: &str) -> Answer {
    let response = Client::new()
        .get(format!("{}{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    Answer {
        status,
        body: response.json().unwrap_or(Value::Null),
    }
}

fn post(server: &common::Server, path: &str, form: &[(&str, &str)]) -> Answer {
    let response = Client::new()
        .post(format!("{}{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(form)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    Answer {
        status,
        body: response.json().unwrap_or(Value::Null),
    }
}

fn sms_code(server: &common::Server, user: i64, phone: &str) -> String {
    let sent = get(server, &format!("/protected/json/sms/{user}?force=true"));
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    server.last_message(&format!("+44{phone}")).1
}

/// Codes of the same length as the real one, all different from it.
fn wrong_codes(real: &str, n: usize) -> Vec<String> {
    (0..)
        .map(|i: u64| {
            format!(
                "{:0width$}",
                (i * 7_919 + 13) % 10u64.pow(real.len() as u32),
                width = real.len()
            )
        })
        .filter(|c| c != real)
        .take(n)
        .collect()
}

fn verify_request(base: &str, key: &str, code: &str, user: i64) -> Raw {
    Raw::get(
        base,
        &format!("/protected/json/verify/{code}/{user}?force=true"),
        key,
    )
}

/// Finding 1: a burst of 200 wrong guesses, released together and split over two instances,
/// gets at most `max_failures` of them compared; every other one is answered "locked"; the
/// right code afterwards is refused. (Before the fix: about 50 compared, the right one taken.)
#[test]
fn a_burst_of_guesses_on_two_instances_is_compared_at_most_max_failures_times() {
    let server = common::Server::start(&common::Options::default());
    let second = server.another_instance();
    let user = server.new_user("7700900001");
    let code = sms_code(&server, user, "7700900001");
    let requests: Vec<Raw> = wrong_codes(&code, 200)
        .iter()
        .enumerate()
        .map(|(i, wrong)| {
            let base = if i % 2 == 0 {
                &server.base_url
            } else {
                &second.base_url
            };
            verify_request(base, &server.api_key, wrong, user)
        })
        .collect();
    let answers = release_together(&requests);
    let compared = count(&answers, 401);
    assert!(
        compared <= 5,
        "{compared} wrong guesses were compared (limit 5)"
    );
    assert_eq!(compared + count(&answers, 429), 200, "{answers:?}");
    let right = get(
        &server,
        &format!("/protected/json/verify/{code}/{user}?force=true"),
    );
    assert_eq!(
        right.status, 429,
        "the right code after the burst: {:?}",
        right.body
    );
}

/// Finding 15: six copies of one valid code sent at once (a client or balancer retry) are
/// accepted once; the other copies are not wrong guesses and lock nobody out.
#[test]
fn duplicate_submissions_of_a_valid_code_are_accepted_once_and_lock_nobody() {
    let server = common::Server::start(&common::Options::default());
    let second = server.another_instance();
    let users: Vec<(i64, String)> = (0..20)
        .map(|i| {
            let phone = format!("77009001{i:02}");
            let user = server.new_user(&phone);
            (user, sms_code(&server, user, &phone))
        })
        .collect();
    let mut requests = Vec::new();
    for (user, code) in &users {
        for copy in 0..6 {
            let base = if copy % 2 == 0 {
                &server.base_url
            } else {
                &second.base_url
            };
            requests.push(verify_request(base, &server.api_key, code, *user));
        }
    }
    let answers = release_together(&requests);
    for (i, (user, _)) in users.iter().enumerate() {
        let copies = &answers[i * 6..i * 6 + 6];
        assert_eq!(count(copies, 200), 1, "user {user}: {copies:?}");
        assert_eq!(count(copies, 401), 5, "user {user}: {copies:?}");
        // Not locked: a wrong code now is compared (401), not refused (429).
        let wrong = &wrong_codes(&users[i].1, 1)[0];
        let after = get(
            &server,
            &format!("/protected/json/verify/{wrong}/{user}?force=true"),
        );
        assert_eq!(
            after.status, 401,
            "user {user} was locked out: {:?}",
            after.body
        );
    }
}

/// The user's seed, read as only the server could (to compute the codes an attacker hopes
/// the server would accept).
fn seed(server: &common::Server, user: i64) -> Vec<u8> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = Db::connect(&server.database_url).await.unwrap();
        let sealed: String = sqlx::query("SELECT seed_sealed FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get(0);
        let master = MasterKey::load_or_create(&server.path().join("master.key")).unwrap();
        master
            .open(&format!("users.seed:{user}"), &sealed)
            .unwrap()
            .to_vec()
    })
}

/// Finding 1: only codes that could be in the user's hands are accepted: no SMS code when
/// no SMS was sent, no app code when no device received the seed.
#[test]
fn codes_the_user_was_never_given_are_refused() {
    let server = common::Server::start(&common::Options::default());
    let user = server.new_user("7700900201");
    let seed = seed(&server, user);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let digits = 7;
    let sms = countersign_server::service::otp::sms_account(&seed, digits, None).unwrap();
    let app = countersign_server::service::otp::app_account(&seed, digits).unwrap();
    for account in [&sms, &app] {
        let code = account.code_at(now as u64).code;
        let answer = get(
            &server,
            &format!("/protected/json/verify/{}/{user}?force=true", code.as_str()),
        );
        assert_eq!(
            answer.status, 401,
            "a code never given was accepted: {:?}",
            answer.body
        );
    }
    // A sent code is accepted once.
    let code = sms_code(&server, user, "7700900201");
    let ok = get(
        &server,
        &format!("/protected/json/verify/{code}/{user}?force=true"),
    );
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let again = get(
        &server,
        &format!("/protected/json/verify/{code}/{user}?force=true"),
    );
    assert_eq!(again.status, 401, "{:?}", again.body);
}

/// Finding 9: failures are counted per window; once a lock has passed, counting starts
/// again, so one wrong guess per lock-out period no longer keeps the user locked for ever.
#[test]
fn a_lock_passes_and_counting_starts_again() {
    let server = common::Server::start(&common::Options {
        env: vec![
            ("COUNTERSIGN_MAX_FAILURES".into(), "3".into()),
            ("COUNTERSIGN_LOCKOUT_SECONDS".into(), "2".into()),
        ],
        ..Default::default()
    });
    let user = server.new_user("7700900301");
    let code = sms_code(&server, user, "7700900301");
    let wrong = wrong_codes(&code, 6);
    let verify = |c: &str| {
        get(
            &server,
            &format!("/protected/json/verify/{c}/{user}?force=true"),
        )
        .status
    };
    assert_eq!(
        [verify(&wrong[0]), verify(&wrong[1]), verify(&wrong[2])],
        [401, 401, 401]
    );
    assert_eq!(verify(&wrong[3]), 429);
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    assert_eq!(verify(&wrong[4]), 401, "the first guess after the lock");
    assert_eq!(verify(&wrong[5]), 401, "the second guess after the lock");
    assert_eq!(verify(&code), 200, "the right code after the lock");
}

/// Finding 3: phone-verification checks released together get at most 5 codes compared.
#[test]
fn phone_verification_checks_released_together_are_limited() {
    let server = common::Server::start(&common::Options::default());
    let second = server.another_instance();
    let started = post(
        &server,
        "/protected/json/phones/verification/start",
        &[
            ("phone_number", "7700900401"),
            ("country_code", "44"),
            ("code_length", "6"),
        ],
    );
    assert_eq!(started.status, 200, "{:?}", started.body);
    let (_, code) = server.last_message("+447700900401");
    let requests: Vec<Raw> = wrong_codes(&code, 60)
        .iter()
        .enumerate()
        .map(|(i, wrong)| {
            let base = if i % 2 == 0 { &server.base_url } else { &second.base_url };
            Raw::get(
                base,
                &format!(
                    "/protected/json/phones/verification/check?phone_number=7700900401&country_code=44&verification_code={wrong}"
                ),
                &server.api_key,
            )
        })
        .collect();
    let answers = release_together(&requests);
    let compared = count(&answers, 401);
    assert!(compared <= 5, "{compared} checks were compared (limit 5)");
    assert_eq!(compared + count(&answers, 429), 60, "{answers:?}");
    let right = get(
        &server,
        &format!(
            "/protected/json/phones/verification/check?phone_number=7700900401&country_code=44&verification_code={code}"
        ),
    );
    assert_eq!(right.status, 429, "{:?}", right.body);
}

/// Finding 13: approval requests get a bounded lifetime and a limit on pending requests per
/// user, enforced for requests released together on two instances.
#[test]
fn approval_requests_have_a_bounded_lifetime_and_a_pending_limit() {
    let server = common::Server::start(&common::Options {
        env: vec![("COUNTERSIGN_MAX_PENDING_PER_USER".into(), "3".into())],
        ..Default::default()
    });
    let second = server.another_instance();
    let lifetime = |phone: &str, asked: Option<&str>| -> i64 {
        let user = server.new_user(phone);
        let mut form = vec![("message", "Log in")];
        if let Some(seconds) = asked {
            form.push(("seconds_to_expire", seconds));
        }
        let created = post(
            &server,
            &format!("/onetouch/json/users/{user}/approval_requests"),
            &form,
        );
        assert_eq!(created.status, 200, "{:?}", created.body);
        let uuid = created.body["approval_request"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let status = get(&server, &format!("/onetouch/json/approval_requests/{uuid}"));
        status.body["approval_request"]["seconds_to_expire"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(lifetime("7700900511", None), 600, "the default lifetime");
    assert_eq!(
        lifetime("7700900512", Some("0")),
        86_400,
        "\"never\" gets the maximum"
    );
    assert_eq!(
        lifetime("7700900513", Some("999999999")),
        86_400,
        "longer than the maximum"
    );
    assert_eq!(lifetime("7700900514", Some("120")), 120);

    let user = server.new_user("7700900502");
    let requests: Vec<Raw> = (0..12)
        .map(|i| {
            let base = if i % 2 == 0 {
                &server.base_url
            } else {
                &second.base_url
            };
            Raw::post_form(
                base,
                &format!("/onetouch/json/users/{user}/approval_requests"),
                &server.api_key,
                &[("message", "Approve payment")],
            )
        })
        .collect();
    let answers = release_together(&requests);
    assert_eq!(count(&answers, 200), 3, "{answers:?}");
    assert_eq!(count(&answers, 429), 9, "{answers:?}");
}

/// Finding 13: the `log` sender's outbox holds no code in clear: the database file (and its
/// write-ahead log) contain no message text.
#[test]
fn the_outbox_keeps_no_code_in_clear() {
    let server = common::Server::start(&common::Options::default());
    if !server.database_url.starts_with("sqlite:") {
        return; // The bytes of a PostgreSQL database are not ours to read.
    }
    let user = server.new_user("7700900601");
    let _ = sms_code(&server, user, "7700900601");
    let (text, _) = server.last_message("+447700900601");
    let mut bytes = Vec::new();
    for name in ["server.db", "server.db-wal"] {
        bytes.extend(std::fs::read(server.path().join(name)).unwrap_or_default());
    }
    let needle = text.as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "the message text is in the database file"
    );
}

/// Finding 11: what a phone shows is refused at creation when it cannot be shown as it is:
/// a line break that fakes an amount line, a bidirectional override, keys that read alike.
#[test]
fn approval_details_that_cannot_be_displayed_faithfully_are_refused() {
    let server = common::Server::start(&common::Options::default());
    let user = server.new_user("7700900701");
    let path = format!("/onetouch/json/users/{user}/approval_requests");
    let hostile: [&[(&str, &str)]; 4] = [
        &[("details[Payee]", "Hermione Granger\nAmount: 7.00 EUR")],
        &[("details[Payee]", "Gringotts \u{202e}RUE 00.317")],
        &[
            ("details[Amount]", "713.00 EUR"),
            ("details[amount]", "7.00 EUR"),
        ],
        &[("details[Payee]", "Hermione\u{200b}Granger")],
    ];
    for details in hostile {
        let mut form = vec![("message", "Approve payment")];
        form.extend_from_slice(details);
        let refused = post(&server, &path, &form);
        assert_eq!(refused.status, 400, "{details:?}: {:?}", refused.body);
        assert_eq!(refused.body["error_code"], "60004");
        let message = refused.body["message"].as_str().unwrap();
        assert!(
            !message.contains("Granger") && !message.contains("EUR"),
            "{message}"
        );
    }
    let fine = post(
        &server,
        &path,
        &[
            ("message", "Approve payment"),
            ("details[Amount]", "713.00 EUR"),
            ("details[Payee]", "Hermione Granger"),
            ("hidden_details[Note]", "free text\nis not shown"),
        ],
    );
    assert_eq!(fine.status, 200, "{:?}", fine.body);
}
