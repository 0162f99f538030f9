//! The operator console over HTTP: signing in (password and TOTP), the limits on guessing,
//! sessions (logout, idle time-out), CSRF and cross-site refusals, the security headers,
//! escaping, and the applications pages whose changes the Authy API must honour.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header;

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "ops@example.com";

/// A server with one TOTP operator, and a browser-like client that follows no redirect and
/// keeps the session cookie by hand.
struct Console {
    server: common::Server,
    client: Client,
    totp_uri: String,
    cookie: Option<String>,
}

fn start() -> Console {
    start_with(&common::Options::default())
}

fn start_with(options: &common::Options) -> Console {
    let server = common::Server::start(options);
    let totp_uri = create_operator(&server, EMAIL);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Console {
        server,
        client,
        totp_uri,
        cookie: None,
    }
}

/// `operator create --totp` with the password on standard input; returns the TOTP URI.
fn create_operator(server: &common::Server, email: &str) -> String {
    use std::io::Write;
    let mut child = server
        .command()
        .args([
            "operator",
            "create",
            "--email",
            email,
            "--totp",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let uri = stdout
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .unwrap();
    assert!(uri.contains("issuer=Countersign"), "{uri}");
    uri.to_owned()
}

/// The TOTP code `steps_ahead` steps from now, as an authenticator shows it.
fn totp(uri: &str, steps_ahead: u64) -> String {
    let account = countersign_otp::otpauth::parse(uri).unwrap().account;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    account.code_at(now + 30 * steps_ahead).code.to_string()
}

/// The session cookie a response sets (its value), if any.
fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Host-countersign_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The value of `<input name="csrf" value="…">` in a page.
fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

impl Console {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    fn origin(&self) -> String {
        self.server.base_url.clone()
    }

    fn get(&self, path: &str) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(
                header::COOKIE,
                format!("__Host-countersign_session={cookie}"),
            );
        }
        request.send().unwrap()
    }

    /// A same-origin form post, as the browser sends it from a console page.
    fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_from(path, form, Some(&self.origin()))
    }

    fn post_from(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(
                header::COOKIE,
                format!("__Host-countersign_session={cookie}"),
            );
        }
        request.send().unwrap()
    }

    /// The password step; keeps the pending session's cookie.
    fn password(&mut self, email: &str, password: &str) -> Response {
        let response = self.post(
            "/console/login",
            &[("email", email), ("password", password)],
        );
        if let Some(cookie) = session_cookie(&response) {
            self.cookie = Some(cookie);
        }
        response
    }

    /// Password and TOTP (the code `steps_ahead` steps on); the active session's cookie kept.
    fn sign_in(&mut self, steps_ahead: u64) {
        let response = self.password(EMAIL, PASSWORD);
        assert_eq!(response.status(), 303);
        let page = self.get("/console/login/second-factor").text().unwrap();
        let code = totp(&self.totp_uri, steps_ahead);
        let response = self.post(
            "/console/login/totp",
            &[("csrf", &csrf_in(&page)), ("code", &code)],
        );
        assert_eq!(response.status(), 303, "{:?}", response.text());
        assert_eq!(response.headers()["location"], "/console/apps");
        self.cookie = Some(session_cookie(&response).expect("an active session cookie"));
    }

    /// A page's CSRF token (from its forms).
    fn csrf(&self, path: &str) -> String {
        csrf_in(&self.get(path).text().unwrap())
    }
}

fn is_login_redirect(response: &Response) -> bool {
    response.status() == 303 && response.headers()["location"] == "/console/login"
}

#[test]
fn password_and_totp_sign_in_and_the_cookie_is_locked_down() {
    let mut console = start();
    assert!(is_login_redirect(&console.get("/console/apps")));
    let response = console.password(EMAIL, PASSWORD);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    // The pending session opens no page but the second factor.
    assert!(is_login_redirect(&console.get("/console/apps")));
    let pending = console.cookie.clone().unwrap();
    let page = console.get("/console/login/second-factor").text().unwrap();
    let wrong = console.post(
        "/console/login/totp",
        &[("csrf", &csrf_in(&page)), ("code", "000000")],
    );
    assert_eq!(wrong.status(), 401);
    let code = totp(&console.totp_uri, 0);
    let done = console.post(
        "/console/login/totp",
        &[("csrf", &csrf_in(&page)), ("code", &code)],
    );
    assert_eq!(done.status(), 303);
    let active = session_cookie(&done).unwrap();
    assert_ne!(active, pending, "the session id changes at sign-in");
    assert_eq!(active.len(), 43, "256 random bits, base64url");
    console.cookie = Some(active);
    let apps = console.get("/console/apps");
    assert_eq!(apps.status(), 200);
    assert!(apps.text().unwrap().contains("Gringotts"));
    // The same code cannot sign in twice.
    console.cookie = None;
    console.password(EMAIL, PASSWORD);
    let page = console.get("/console/login/second-factor").text().unwrap();
    let again = console.post(
        "/console/login/totp",
        &[("csrf", &csrf_in(&page)), ("code", &code)],
    );
    assert_eq!(again.status(), 401);
}

#[test]
fn wrong_password_and_unknown_email_get_the_same_refusal() {
    let mut console = start();
    let wrong = console.password(EMAIL, "not the password at all");
    assert_eq!(wrong.status(), 401);
    assert!(session_cookie(&wrong).is_none());
    let wrong_text = wrong.text().unwrap();
    let unknown = console.password("nobody@example.com", PASSWORD);
    assert_eq!(unknown.status(), 401);
    assert_eq!(unknown.text().unwrap(), wrong_text);
    assert!(wrong_text.contains("Sign-in failed."));
}

#[test]
fn an_account_is_locked_after_five_attempts_even_with_the_right_password() {
    let mut console = start();
    for _ in 0..5 {
        assert_eq!(console.password(EMAIL, "a wrong password!").status(), 401);
    }
    let locked = console.password(EMAIL, PASSWORD);
    assert_eq!(locked.status(), 401);
    assert!(session_cookie(&locked).is_none());
}

#[test]
fn guesses_in_parallel_do_not_get_past_the_limit() {
    let console = start();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                scope.spawn(|| {
                    let answer = console.post(
                        "/console/login",
                        &[("email", EMAIL), ("password", PASSWORD)],
                    );
                    answer.status().as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    // Right passwords all, but only five attempts fit in the window. An attempt answered
    // "busy" (all password checks taken) was not counted.
    assert_eq!(count(303), 5.min(12 - count(503)), "{statuses:?}");
    assert_eq!(count(303) + count(401) + count(503), 12, "{statuses:?}");
}

/// A flood of sign-in posts (no account needed) is answered 401 or 503 "busy", never with a
/// failure, while the API keeps answering: password hashes are bounded process-wide, and an
/// address over its attempts is refused without one.
#[test]
fn a_flood_of_sign_ins_is_bounded_and_the_api_keeps_answering() {
    let console = start();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let console = &console;
                scope.spawn(move || {
                    let email = format!("nobody{i}@example.com");
                    let answer =
                        console.post("/console/login", &[("email", &email), ("password", "x")]);
                    answer.status().as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    let status = console
        .client
        .get(format!(
            "{}/protected/json/app/details",
            console.server.base_url
        ))
        .header("X-Authy-API-Key", &console.server.api_key)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    // Each answered attempt counted against the address (a "busy" one did not): past its 30,
    // even the right password is refused.
    let counted = statuses.iter().filter(|s| **s == 401).count();
    let after = console.post(
        "/console/login",
        &[("email", EMAIL), ("password", PASSWORD)],
    );
    let expected = if counted >= 30 { 401 } else { 303 };
    assert_eq!(after.status(), expected, "{counted} counted: {statuses:?}");
}

#[test]
fn forms_without_the_token_or_from_another_site_are_refused() {
    let mut console = start();
    console.sign_in(0);
    let token = console.csrf("/console/apps");
    let name = [("name", "Refused"), ("token_length", "6")];
    let missing = console.post("/console/apps", &name);
    assert_eq!(missing.status(), 403);
    let wrong = console.post(
        "/console/apps",
        &[("csrf", "x".repeat(43).as_str()), name[0], name[1]],
    );
    assert_eq!(wrong.status(), 403);
    let with = [("csrf", token.as_str()), name[0], name[1]];
    let cross = console.post_from("/console/apps", &with, Some("https://evil.example"));
    assert_eq!(cross.status(), 403);
    let unlabelled = console.post_from("/console/apps", &with, None);
    assert_eq!(unlabelled.status(), 403);
    let list = console.get("/console/apps").text().unwrap();
    assert!(
        !list.contains("Refused"),
        "no refused form created anything"
    );
    let accepted = console.post("/console/apps", &with);
    assert_eq!(accepted.status(), 200);
    assert!(accepted.text().unwrap().contains("Refused"));
    // What Chromium sends from a console page under `Referrer-Policy: no-referrer`.
    let chromium = console
        .client
        .post(console.url("/console/login"))
        .header(header::ORIGIN, "null")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(chromium.status(), 303);
    // A post from another site, as a browser labels it, is refused.
    let labelled = console
        .client
        .post(console.url("/console/login"))
        .header(header::ORIGIN, "null")
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(labelled.status(), 403);
    // A cross-site login post is refused too.
    let login = console.post_from(
        "/console/login",
        &[("email", EMAIL), ("password", PASSWORD)],
        Some("http://127.0.0.2"),
    );
    assert_eq!(login.status(), 403);
}

#[test]
fn a_replayed_cookie_after_logout_is_refused() {
    let mut console = start();
    console.sign_in(0);
    let token = console.csrf("/console/apps");
    let out = console.post("/console/logout", &[("csrf", &token)]);
    assert!(is_login_redirect(&out));
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The browser forgot it; an attacker who kept it gets nothing.
    assert!(is_login_redirect(&console.get("/console/apps")));
    assert!(is_login_redirect(&console.get("/console/apps/1")));
}

/// Runs one statement on the server's database (to age a session).
fn execute(server: &common::Server, statement: &str) {
    sqlx::any::install_default_drivers();
    let url = server.database_url.clone();
    let statement = statement.to_owned();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .unwrap();
            sqlx::query(&statement).execute(&pool).await.unwrap();
            pool.close().await;
        });
}

#[test]
fn an_idle_session_ends() {
    let mut console = start();
    console.sign_in(0);
    assert_eq!(console.get("/console/apps").status(), 200);
    // Fourteen minutes unused: still alive (the default idle time-out is 15 minutes).
    execute(
        &console.server,
        "UPDATE console_sessions SET last_seen = last_seen - 14 * 60",
    );
    assert_eq!(console.get("/console/apps").status(), 200);
    execute(
        &console.server,
        "UPDATE console_sessions SET last_seen = last_seen - 16 * 60",
    );
    assert!(is_login_redirect(&console.get("/console/apps")));
    // And it is gone, not merely refused once.
    execute(
        &console.server,
        "UPDATE console_sessions SET last_seen = last_seen + 16 * 60",
    );
    assert!(is_login_redirect(&console.get("/console/apps")));
}

#[test]
fn a_session_ends_after_eight_hours_however_busy() {
    let mut console = start();
    console.sign_in(0);
    execute(
        &console.server,
        "UPDATE console_sessions SET created_at = created_at - 8 * 3600 - 1",
    );
    assert!(is_login_redirect(&console.get("/console/apps")));
}

#[test]
fn console_pages_carry_the_security_headers() {
    let mut console = start();
    let login = console.get("/console/login");
    console.sign_in(0);
    let apps = console.get("/console/apps");
    for response in [&login, &apps] {
        let headers = response.headers();
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
    let page = apps.text().unwrap();
    assert!(!page.contains("<script>"), "no inline script");
    let script = page
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let asset = console.get(script);
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

#[test]
fn an_app_named_like_markup_is_shown_as_text() {
    let mut console = start();
    console.sign_in(0);
    let token = console.csrf("/console/apps");
    let name = "<script>alert(1)</script>";
    let created = console.post(
        "/console/apps",
        &[("csrf", &token), ("name", name), ("token_length", "7")],
    );
    assert_eq!(created.status(), 200);
    let list = console.get("/console/apps").text().unwrap();
    assert!(!list.contains(name));
    assert!(list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// `GET /protected/json/app/details` with `key`: the HTTP status.
fn key_status(console: &Console, key: &str) -> u16 {
    console
        .client
        .get(console.url("/protected/json/app/details"))
        .header("X-Authy-API-Key", key)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// The key shown once on a page (`<code class="secret" id="api-key">`).
fn shown_key(page: &str) -> String {
    let at = page
        .find("id=\"api-key\">")
        .expect("the new key on the page")
        + 13;
    page[at..].split('<').next().unwrap().to_owned()
}

#[test]
fn a_rotated_key_works_through_its_grace_period_then_gets_401() {
    let mut console = start();
    console.sign_in(0);
    let app = format!("/console/apps/{}", console.server.app_id);
    let old = console.server.api_key.clone();
    assert_eq!(key_status(&console, &old), 200);
    let token = console.csrf(&app);
    let rotated = console.post(
        &format!("{app}/rotate-key"),
        &[("csrf", &token), ("grace_seconds", "2")],
    );
    assert_eq!(rotated.status(), 200);
    let new = shown_key(&rotated.text().unwrap());
    assert_ne!(new, old);
    assert_eq!(key_status(&console, &new), 200);
    assert_eq!(key_status(&console, &old), 200, "within the grace period");
    // The grace period, plus the few seconds a key stays cached (docs/console.md).
    std::thread::sleep(Duration::from_secs(2 + 6));
    assert_eq!(key_status(&console, &old), 401);
    assert_eq!(key_status(&console, &new), 200);
    // The page never shows the key again.
    assert!(!console.get(&app).text().unwrap().contains(&new));
    // The audit trail has the sign-in and the rotation by this operator, and no key.
    let export = audit_export(&console.server);
    assert!(!export.contains(&new) && !export.contains(&old));
    let entries: Vec<serde_json::Value> = export
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let by_operator = |action: &str| {
        entries
            .iter()
            .any(|e| e["actor"] == "operator:1" && e["action"] == action)
    };
    assert!(by_operator("operator.sign_in"), "{export}");
    assert!(by_operator("app.key_rotate"), "{export}");
}

/// `countersign-server audit export`: one JSON entry a line.
fn audit_export(server: &common::Server) -> String {
    let out = server.command().args(["audit", "export"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn settings_changed_in_the_console_are_what_the_api_does() {
    let mut console = start();
    console.sign_in(0);
    let app = format!("/console/apps/{}", console.server.app_id);
    let token = console.csrf(&app);
    let saved = console.post(
        &format!("{app}/settings"),
        &[
            ("csrf", &token),
            ("token_length", "8"),
            ("callback_url", "https://bank.example/authy"),
            ("callback_method", "GET"),
            ("number_matching", "on"),
            ("approval_default_seconds", "120"),
            ("approval_max_seconds", "300"),
        ],
    );
    assert_eq!(saved.status(), 303, "{:?}", saved.text());
    let back = saved.headers()["location"].to_str().unwrap().to_owned();
    let page = console.get(&back).text().unwrap();
    assert!(page.contains("The settings were saved."));
    assert!(page.contains("value=\"https://bank.example/authy\""));
    // Wait out the API key cache, which holds the app's settings for a few seconds.
    std::thread::sleep(Duration::from_secs(6));
    let user = console.server.new_user("7700900123");
    let create = |extra: &[(&str, &str)]| -> serde_json::Value {
        let mut form = vec![("message", "Sign in?")];
        form.extend_from_slice(extra);
        let answer: serde_json::Value = console
            .client
            .post(console.url(&format!("/onetouch/json/users/{user}/approval_requests")))
            .header("X-Authy-API-Key", &console.server.api_key)
            .form(&form)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let uuid = answer["approval_request"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        console
            .client
            .get(console.url(&format!("/onetouch/json/approval_requests/{uuid}")))
            .header("X-Authy-API-Key", &console.server.api_key)
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()["approval_request"]
            .clone()
    };
    let by_default = create(&[]);
    assert_eq!(by_default["seconds_to_expire"], 120);
    assert!(
        by_default["number"].as_i64().is_some(),
        "number matching by default: {by_default}"
    );
    let long = create(&[("seconds_to_expire", "3600"), ("number_matching", "false")]);
    assert_eq!(
        long["seconds_to_expire"], 300,
        "capped at the app's maximum"
    );
    assert!(long["number"].is_null());
    // Transactional TOTP was left unticked: a code bound to a transaction is refused.
    let verify = console
        .client
        .get(console.url(&format!(
            "/protected/json/verify/1234567/{user}?force=true&message=Pay%2010%20EUR"
        )))
        .header("X-Authy-API-Key", &console.server.api_key)
        .send()
        .unwrap();
    assert_eq!(verify.status(), 400);
    let body: serde_json::Value = verify.json().unwrap();
    assert_eq!(body["error_code"], "60004");
    assert_eq!(
        body["message"],
        "Transactional TOTP is turned off for this application."
    );
    // A bad value is refused with a reason, and nothing changes.
    let token = console.csrf(&app);
    let refused = console.post(
        &format!("{app}/settings"),
        &[("csrf", &token), ("token_length", "12")],
    );
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .unwrap()
            .contains("token length must be 6 to 10")
    );
    assert!(console.get(&app).text().unwrap().contains("value=\"8\""));
}

#[test]
fn a_disabled_operator_is_signed_out_and_cannot_sign_in() {
    let mut console = start();
    console.sign_in(0);
    assert_eq!(console.get("/console/apps").status(), 200);
    let out = console
        .server
        .command()
        .args(["operator", "disable", "--email", EMAIL])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(is_login_redirect(&console.get("/console/apps")));
    let again = console.password(EMAIL, PASSWORD);
    assert_eq!(again.status(), 401);
    let listed = console
        .server
        .command()
        .args(["operator", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(EMAIL) && listed.contains("disabled"),
        "{listed}"
    );
}

#[test]
fn an_app_is_renamed_and_deleted_only_with_its_name_typed() {
    let mut console = start();
    console.sign_in(0);
    let app = format!("/console/apps/{}", console.server.app_id);
    let token = console.csrf(&app);
    let renamed = console.post(
        &format!("{app}/rename"),
        &[("csrf", &token), ("name", "Gringotts Bank")],
    );
    assert_eq!(renamed.status(), 303);
    assert!(
        console
            .get("/console/apps")
            .text()
            .unwrap()
            .contains("Gringotts Bank")
    );
    let wrong = console.post(
        &format!("{app}/delete"),
        &[("csrf", &token), ("confirm_name", "Gringotts")],
    );
    assert_eq!(wrong.status(), 400);
    assert_eq!(console.get(&app).status(), 200);
    let deleted = console.post(
        &format!("{app}/delete"),
        &[("csrf", &token), ("confirm_name", "Gringotts Bank")],
    );
    assert_eq!(deleted.status(), 303);
    assert_eq!(console.get(&app).status(), 404);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(key_status(&console, &console.server.api_key), 401);
}

#[test]
fn every_route_that_needs_a_login_sends_a_visitor_to_the_login_page() {
    use countersign_server::http::console::routes::CONSOLE_ROUTES;
    use countersign_server::http::routes::Method;
    let console = start();
    for route in CONSOLE_ROUTES {
        let path = route
            .full_path()
            .replace("{id}", "1")
            .replace("{name}", "console.css");
        let response = match route.method {
            Method::Get => console.get(&path),
            Method::Post => console.post(&path, &[("csrf", "x")]),
        };
        if route.needs_login {
            assert!(
                is_login_redirect(&response),
                "{path}: {}",
                response.status()
            );
        } else {
            assert!(
                !is_login_redirect(&response) || path.starts_with("/console/login/"),
                "{path}"
            );
        }
        // Every console answer, even a refusal, carries the policy.
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
    }
}

#[test]
fn an_app_suspended_in_the_console_gets_60061_until_resumed_and_both_are_audited() {
    let mut console = start();
    console.sign_in(0);
    let app = format!("/console/apps/{}", console.server.app_id);
    let key = console.server.api_key.clone();
    assert_eq!(key_status(&console, &key), 200, "the key is now cached");
    let page = console.get(&app).text().unwrap();
    assert!(page.contains("State: Active") && page.contains(">Suspend</button>"));
    // Without the CSRF token nothing happens.
    let forged = console.post(&format!("{app}/suspend"), &[]);
    assert_ne!(forged.status(), 303);
    assert_eq!(key_status(&console, &key), 200);

    let token = console.csrf(&app);
    let suspended = console.post(&format!("{app}/suspend"), &[("csrf", &token)]);
    assert_eq!(suspended.status(), 303, "{:?}", suspended.text());
    let back = suspended.headers()["location"].to_str().unwrap().to_owned();
    let page = console.get(&back).text().unwrap();
    assert!(page.contains("The application was suspended"), "{page}");
    assert!(page.contains("State: Suspended") && page.contains(">Resume</button>"));
    let list = console.get("/console/apps").text().unwrap();
    assert!(
        list.contains("<td class=\"app-state\">Suspended</td>"),
        "{list}"
    );
    // This instance forgets the cached key at once (others within the cache's seconds).
    let refused = console
        .client
        .get(console.url("/protected/json/app/details"))
        .header("X-Authy-API-Key", &key)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().unwrap();
    assert_eq!(body["error_code"], "60061");
    assert_eq!(body["message"], "Application suspended");

    let token = console.csrf(&app);
    let resumed = console.post(&format!("{app}/resume"), &[("csrf", &token)]);
    assert_eq!(resumed.status(), 303, "{:?}", resumed.text());
    assert_eq!(key_status(&console, &key), 200);
    let list = console.get("/console/apps").text().unwrap();
    assert!(
        list.contains("<td class=\"app-state\">Active</td>"),
        "{list}"
    );

    let entries: Vec<serde_json::Value> = audit_export(&console.server)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let subject = format!("app:{}", console.server.app_id);
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e["actor"] == "operator:1" && e["subject"] == subject.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["app.suspend", "app.resume"]);
}

/// The app whose users are the operators' sign-in phones (the console's push second factor)
/// cannot be deleted: that would end push sign-in for every operator.
#[test]
fn the_app_carrying_operators_phones_cannot_be_deleted() {
    let mut console = start();
    console.sign_in(0);
    let phone_user = console.server.new_user("7700900777");
    // What `operator register-phone` leaves: the operator's push phone is a user of the app.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = countersign_server::store::db::Db::connect(&console.server.database_url)
            .await
            .unwrap();
        sqlx::query("UPDATE operators SET push_user_id = $1")
            .bind(phone_user)
            .execute(&db.writer)
            .await
            .unwrap();
    });
    let details: serde_json::Value = console
        .client
        .get(format!(
            "{}/protected/json/app/details",
            console.server.base_url
        ))
        .header("X-Authy-API-Key", &console.server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let name = details["app"]["name"].as_str().unwrap().to_owned();
    let path = format!("/console/apps/{}/delete", console.server.app_id);
    let token = console.csrf(&path);
    let refused = console.post(&path, &[("csrf", &token), ("confirm_name", &name)]);
    assert_eq!(refused.status(), 409);
    assert!(refused.text().unwrap().contains("cannot be deleted"));
    let still = console
        .client
        .get(format!(
            "{}/protected/json/app/details",
            console.server.base_url
        ))
        .header("X-Authy-API-Key", &console.server.api_key)
        .send()
        .unwrap();
    assert_eq!(still.status(), 200, "the app and its key are still there");
}

/// A callback URL is bounded (2,048 bytes), so that every change of one fits its audit entry:
/// an oversized URL is refused before anything changes, from the CLI and from the console.
#[test]
fn an_overlong_callback_url_is_refused_before_anything_changes() {
    let mut console = start();
    let long = format!("https://bank.example/{}", "a".repeat(3_000));
    let id = console.server.app_id.to_string();
    let out = console
        .server
        .command()
        .args(["app", "update", "--id", &id, "--callback-url", &long])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 2048 bytes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    console.sign_in(0);
    let path = format!("/console/apps/{id}");
    let token = console.csrf(&path);
    let answer = console.post(&path, &[("csrf", &token), ("callback_url", &long)]);
    assert_ne!(answer.status(), 200);
    let page = console.get(&path).text().unwrap();
    assert!(!page.contains(&long[..200]), "the long URL was not stored");
}
