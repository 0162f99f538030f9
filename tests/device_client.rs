//! The core's device client (countersign_app::device::DeviceClient) against a real server on
//! loopback: registration, verified challenges, approve/deny, number matching, a challenge
//! signed by the wrong key, push-token updates, and pushes through FCM and APNs fakes that
//! check the credentials the way Google and Apple do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_app::device::{
    self, ClientError, Decision, DeviceClient, DeviceCredentials, DeviceSigner, RegistrationLink,
    SoftwareSigner,
};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn registration_link(server: &countersign_e2e::Server, user: i64) -> RegistrationLink {
    let created: Value = Client::new()
        .post(format!(
            "{}/protected/json/users/{user}/registrations",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    RegistrationLink::parse(created["registration"]["uri"].as_str().unwrap()).unwrap()
}

fn create_request(server: &countersign_e2e::Server, user: i64, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("message", "Approve payment"),
        ("details[Amount]", "713.00 EUR"),
        ("details[Payee]", "Hermione Granger"),
        ("hidden_details[Reference]", "INV-2026-11"),
    ];
    form.extend_from_slice(extra);
    let created: Value = Client::new()
        .post(format!(
            "{}/onetouch/json/users/{user}/approval_requests",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    created["approval_request"].clone()
}

fn status(server: &countersign_e2e::Server, uuid: &str) -> Value {
    let body: Value = Client::new()
        .get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["approval_request"].clone()
}

#[test]
fn the_core_client_registers_verifies_challenges_and_answers() {
    let server = countersign_e2e::Server::start(&countersign_e2e::Options::default());
    let rt = runtime();
    let alice = server.new_user("7700900123");
    let signer = Arc::new(SoftwareSigner::generate());
    let device_key = signer.public_key_spki().unwrap();
    let (client, registration) = rt
        .block_on(DeviceClient::register(
            &registration_link(&server, alice),
            signer.clone(),
            "Pixel 9",
            "android",
            None,
        ))
        .unwrap();
    assert_eq!(registration.credentials.authy_id, alice);
    assert!(client.clock_offset().abs() <= 2, "loopback clocks agree");
    // The Authy-style TOTP account the app shows next to approvals.
    let account = registration.account.expect("the user's TOTP account");
    assert_eq!(account.params.digits(), 7);

    let first = create_request(&server, alice, &[]);
    let second = create_request(&server, alice, &[]);
    let pending = rt.block_on(client.pending()).unwrap();
    assert!(pending.refused.is_empty());
    assert_eq!(pending.challenges.len(), 2);
    let challenge = &pending.challenges[0];
    assert_eq!(challenge.uuid, first["uuid"].as_str().unwrap());
    assert_eq!(challenge.message, "Approve payment");
    assert_eq!(
        challenge.details,
        vec![
            ("Amount".to_owned(), "713.00 EUR".to_owned()),
            ("Payee".to_owned(), "Hermione Granger".to_owned())
        ]
    );
    assert_eq!(
        challenge.hidden_details_sha256,
        device::hidden_details_sha256(&[("Reference".into(), "INV-2026-11".into())])
    );
    assert_eq!(
        rt.block_on(client.answer(challenge, Decision::Approve, None))
            .unwrap(),
        "approved"
    );
    // The bank reads the evidence and checks it with the device's public key, independently.
    let approved = status(&server, &challenge.uuid);
    assert_eq!(approved["status"], "approved");
    let jws = approved["countersign"]["signed_answer"]["jws"]
        .as_str()
        .unwrap();
    let (_, payload) = device::verify_compact(jws, &device_key).unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["decision"], "approve");
    assert_eq!(payload["content_sha256"], challenge.content_sha256());

    let denied = &pending.challenges[1];
    assert_eq!(denied.uuid, second["uuid"].as_str().unwrap());
    assert_eq!(
        rt.block_on(client.answer(denied, Decision::Deny, None))
            .unwrap(),
        "denied"
    );
    assert_eq!(status(&server, &denied.uuid)["status"], "denied");
    // Answered twice: the server refuses, nothing changes.
    match rt.block_on(client.answer(challenge, Decision::Deny, None)) {
        Err(ClientError::Rejected { status, error, .. }) => {
            assert_eq!((status, error.as_str()), (409, "not_pending"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&server, &challenge.uuid)["status"], "approved");
    assert!(rt.block_on(client.pending()).unwrap().challenges.is_empty());
}

#[test]
fn number_matching_signs_the_number_picked_and_one_wrong_pick_denies() {
    let server = countersign_e2e::Server::start(&countersign_e2e::Options::default());
    let rt = runtime();
    let alice = server.new_user("7700900124");
    let (client, _) = rt
        .block_on(DeviceClient::register(
            &registration_link(&server, alice),
            Arc::new(SoftwareSigner::generate()),
            "iPhone",
            "ios",
            None,
        ))
        .unwrap();
    let shown = create_request(&server, alice, &[("number_matching", "true")]);
    let number = u8::try_from(shown["number"].as_i64().unwrap()).unwrap();
    assert!((10..=99).contains(&number));
    let challenge = rt.block_on(client.pending()).unwrap().challenges.remove(0);
    assert_eq!(challenge.number_choices.len(), 3);
    assert!(challenge.number_choices.contains(&number));
    let mut distinct = challenge.number_choices.clone();
    distinct.dedup();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
    // Approving needs a pick among the choices.
    assert!(matches!(
        rt.block_on(client.answer(&challenge, Decision::Approve, None)),
        Err(ClientError::NumberRequired(_))
    ));
    assert_eq!(
        rt.block_on(client.answer(&challenge, Decision::Approve, Some(number)))
            .unwrap(),
        "approved"
    );

    let guessed = create_request(&server, alice, &[("number_matching", "true")]);
    let challenge = rt.block_on(client.pending()).unwrap().challenges.remove(0);
    let wrong = *challenge
        .number_choices
        .iter()
        .find(|&&n| i64::from(n) != guessed["number"].as_i64().unwrap())
        .unwrap();
    match rt.block_on(client.answer(&challenge, Decision::Approve, Some(wrong))) {
        Err(ClientError::Rejected { error, .. }) => assert_eq!(error, "wrong_number"),
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&server, &challenge.uuid)["status"], "denied");
}

#[test]
fn a_challenge_not_signed_by_the_servers_key_is_never_shown() {
    let server = countersign_e2e::Server::start(&countersign_e2e::Options::default());
    let rt = runtime();
    let alice = server.new_user("7700900125");
    let signer = Arc::new(SoftwareSigner::generate());
    let (client, registration) = rt
        .block_on(DeviceClient::register(
            &registration_link(&server, alice),
            signer.clone(),
            "Pixel",
            "android",
            None,
        ))
        .unwrap();
    let uuid = create_request(&server, alice, &[])["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same device, but holding another key as "the server's": every challenge fails.
    let impostor_key = SoftwareSigner::generate().public_key_spki().unwrap();
    let fooled = DeviceClient::new(
        DeviceCredentials {
            server_public_key: impostor_key,
            ..registration.credentials.clone()
        },
        signer,
    )
    .unwrap();
    let pending = rt.block_on(fooled.pending()).unwrap();
    assert!(pending.challenges.is_empty());
    assert_eq!(pending.refused, vec![ClientError::BadChallengeSignature]);
    // A forged challenge (well-formed, for this user, signed by an attacker's key) too.
    let attacker = SoftwareSigner::generate();
    let forged = device::sign_compact(
        &json!({"alg": "ES256", "typ": "countersign-challenge+jws", "kid": "server"}),
        json!({
            "v": 1, "typ": "payment-approval", "uuid": uuid, "authy_id": alice,
            "message": "Approve payment", "details": [["Amount", "1.00 EUR"]],
            "hidden_details_sha256": "00", "created_at": 0, "expires_at": 0, "nonce": "n",
        })
        .to_string()
        .as_bytes(),
        &attacker,
    )
    .unwrap();
    assert_eq!(
        client.verify_challenge(&forged),
        Err(ClientError::BadChallengeSignature)
    );
    assert_eq!(
        client.verify_challenge("not.a.jws"),
        Err(ClientError::BadChallengeSignature)
    );
    // The genuine client still sees the real one; nothing was answered.
    assert_eq!(
        rt.block_on(client.pending()).unwrap().challenges[0].uuid,
        uuid
    );
    assert_eq!(status(&server, &uuid)["status"], "pending");
}

/// What the push fakes received: (path, headers of interest, body).
type Received = Arc<Mutex<Vec<(String, Value)>>>;

struct PushFakes {
    base_url: String,
    received: Received,
    token_requests: Arc<Mutex<u32>>,
}

/// A fake Google OAuth token endpoint + FCM v1, and a fake APNs, on one loopback port. Each
/// checks credentials as the real service does: the RS256 service-account assertion, the
/// FCM bearer token, the APNs ES256 provider token, its key id, team and topic.
fn start_push_fakes(
    rt: &tokio::runtime::Runtime,
    rsa_public: Vec<u8>,
    apns_public: Vec<u8>,
) -> PushFakes {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    #[derive(Clone)]
    struct Fakes {
        rsa_public: Arc<Vec<u8>>,
        apns_public: Arc<Vec<u8>>,
        received: Received,
        token_requests: Arc<Mutex<u32>>,
        base_url: String,
    }
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let token_requests = Arc::new(Mutex::new(0));
    let state = Fakes {
        rsa_public: Arc::new(rsa_public),
        apns_public: Arc::new(apns_public),
        received: received.clone(),
        token_requests: token_requests.clone(),
        base_url: base_url.clone(),
    };
    async fn token(State(f): State<Fakes>, body: String) -> (StatusCode, axum::Json<Value>) {
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
        let assertion = form.get("assertion").cloned().unwrap_or_default();
        let parts: Vec<&str> = assertion.split('.').collect();
        let verified = parts.len() == 3
            && form.get("grant_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
            && aws_lc_rs::signature::UnparsedPublicKey::new(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                f.rsa_public.as_slice(),
            )
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default(),
            )
            .is_ok();
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(parts.get(1).unwrap_or(&""))
                .unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        if !verified
            || claims["iss"] != "push@demo-project.iam.gserviceaccount.com"
            || claims["aud"] != format!("{}/token", f.base_url)
            || claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging"
        {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_grant"})),
            );
        }
        *f.token_requests.lock().unwrap() += 1;
        (
            StatusCode::OK,
            axum::Json(json!({"access_token": "ya29.fake", "expires_in": 3600})),
        )
    }
    async fn fcm(
        State(f): State<Fakes>,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, axum::Json<Value>) {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer ya29.fake") {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": {"status": "UNAUTHENTICATED"}})),
            );
        }
        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let gone = body["message"]["token"] == "gone";
        f.received.lock().unwrap().push(("fcm".into(), body));
        if gone {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(
                    json!({"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}),
                ),
            );
        }
        (
            StatusCode::OK,
            axum::Json(json!({"name": "projects/demo-project/messages/1"})),
        )
    }
    async fn apns(
        State(f): State<Fakes>,
        Path(token): Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, axum::Json<Value>) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let jwt = header("authorization")
            .strip_prefix("bearer ")
            .unwrap_or("")
            .to_owned();
        let Ok((jwt_header, claims)) = device::verify_compact(&jwt, &f.apns_public) else {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"reason": "InvalidProviderToken"})),
            );
        };
        let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
        if jwt_header["kid"] != "KEY1234567" || claims["iss"] != "TEAM123456" {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"reason": "InvalidProviderToken"})),
            );
        }
        if header("apns-topic") != "com.example.countersign" || header("apns-push-type") != "alert"
        {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"reason": "BadTopic"})),
            );
        }
        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        f.received
            .lock()
            .unwrap()
            .push((format!("apns/{token}"), body));
        if token == "dead" {
            return (
                StatusCode::GONE,
                axum::Json(json!({"reason": "Unregistered"})),
            );
        }
        (StatusCode::OK, axum::Json(json!({})))
    }
    let app = axum::Router::new()
        .route("/token", post(token))
        .route("/v1/projects/demo-project/messages:send", post(fcm))
        .route("/3/device/{token}", post(apns))
        .with_state(state);
    rt.spawn(async move { axum::serve(listener, app).await });
    PushFakes {
        base_url,
        received,
        token_requests,
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed().as_secs() < 10,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn pushes_carry_only_ids_through_fcm_and_apns_and_dead_tokens_are_forgotten() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;
    use p256::pkcs8::EncodePrivateKey;
    let rt = runtime();
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let apns_signer = SoftwareSigner::generate();
    let fakes = start_push_fakes(
        &rt,
        rsa.public_key().as_ref().to_vec(),
        apns_signer.public_key_spki().unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let pem = |label: &str, der: &[u8]| {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    let account_file = dir.path().join("service-account.json");
    std::fs::write(
        &account_file,
        json!({
            "type": "service_account",
            "project_id": "demo-project",
            "client_email": "push@demo-project.iam.gserviceaccount.com",
            "private_key": pem("PRIVATE KEY", rsa.as_der().unwrap().as_ref()),
            "token_uri": format!("{}/token", fakes.base_url),
        })
        .to_string(),
    )
    .unwrap();
    let p8 = dir.path().join("AuthKey_KEY1234567.p8");
    let apns_key = p256::SecretKey::from_slice(&apns_signer.secret()).unwrap();
    std::fs::write(
        &p8,
        apns_key
            .to_pkcs8_pem(Default::default())
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let setting = |k: &'static str, v: &str| (k, v.to_owned());
    let server = countersign_e2e::Server::start(&countersign_e2e::Options {
        settings: vec![
            setting("fcm_service_account_file", account_file.to_str().unwrap()),
            setting("fcm_endpoint", &fakes.base_url),
            setting("apns_key_file", p8.to_str().unwrap()),
            setting("apns_key_id", "KEY1234567"),
            setting("apns_team_id", "TEAM123456"),
            setting("apns_topic", "com.example.countersign"),
            setting("apns_endpoint", &fakes.base_url),
        ],
    });
    let alice = server.new_user("7700900126");
    let (android, _) = rt
        .block_on(DeviceClient::register(
            &registration_link(&server, alice),
            Arc::new(SoftwareSigner::generate()),
            "Pixel",
            "android",
            Some("fcm-token-1"),
        ))
        .unwrap();
    let (iphone, _) = rt
        .block_on(DeviceClient::register(
            &registration_link(&server, alice),
            Arc::new(SoftwareSigner::generate()),
            "iPhone",
            "ios",
            None,
        ))
        .unwrap();
    rt.block_on(iphone.update_push_token(Some("a1b2c3d4")))
        .unwrap();

    let uuid = create_request(&server, alice, &[])["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for("both pushes", || fakes.received.lock().unwrap().len() == 2);
    let received = fakes.received.lock().unwrap().clone();
    let fcm = &received.iter().find(|(p, _)| p == "fcm").unwrap().1;
    assert_eq!(fcm["message"]["token"], "fcm-token-1");
    assert_eq!(
        fcm["message"]["data"],
        json!({"type": "approval_request", "uuid": uuid})
    );
    let apns = &received
        .iter()
        .find(|(p, _)| p == "apns/a1b2c3d4")
        .unwrap()
        .1;
    assert_eq!(apns["uuid"], uuid.as_str());
    assert_eq!(apns["type"], "approval_request");
    for (_, body) in &received {
        let text = body.to_string();
        assert!(
            !text.contains("713")
                && !text.contains("Hermione")
                && !text.contains("Approve payment"),
            "a push carries ids only: {text}"
        );
    }
    assert_eq!(*fakes.token_requests.lock().unwrap(), 1);
    wait_for("notified", || status(&server, &uuid)["notified"] == true);

    // Tokens the providers report as dead are forgotten; a device can clear its own.
    rt.block_on(android.update_push_token(Some("gone")))
        .unwrap();
    rt.block_on(iphone.update_push_token(Some("dead"))).unwrap();
    create_request(&server, alice, &[]);
    let devices = || -> Vec<bool> {
        let listed: Value = Client::new()
            .get(format!(
                "{}/protected/json/users/{alice}/devices",
                server.base_url
            ))
            .header("X-Authy-API-Key", &server.api_key)
            .send()
            .unwrap()
            .json()
            .unwrap();
        listed["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["push"].as_bool().unwrap())
            .collect()
    };
    wait_for("dead tokens forgotten", || devices() == [false, false]);
    assert_eq!(
        *fakes.token_requests.lock().unwrap(),
        1,
        "the access token is reused"
    );
    rt.block_on(iphone.update_push_token(Some("a1b2c3d4")))
        .unwrap();
    assert_eq!(devices(), [false, true]);
    rt.block_on(iphone.update_push_token(None)).unwrap();
    assert_eq!(devices(), [false, false]);
}
