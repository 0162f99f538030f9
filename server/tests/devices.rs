//! Device registration over HTTP (docs/device-protocol.md), with the core's software signer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_otp::{Account, OtpParameters, Secret};
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn register(
    server: &common::Server,
    code: &str,
    signer: &SoftwareSigner,
    proof_signer: &SoftwareSigner,
) -> reqwest::blocking::Response {
    let public_key = URL_SAFE_NO_PAD.encode(signer.public_key_spki().unwrap());
    let message = device::registration_string(
        code,
        &public_key,
        "Pixel 9",
        "android",
        Some("push-token-1"),
    );
    let signature = URL_SAFE_NO_PAD.encode(proof_signer.sign_raw(message.as_bytes()).unwrap());
    Client::new()
        .post(format!("{}/device/v1/register", server.base_url))
        .json(&json!({"code": code, "public_key": public_key, "name": "Pixel 9", "os": "android", "push_token": "push-token-1", "signature": signature}))
        .send()
        .unwrap()
}

#[test]
fn a_device_registers_once_with_a_proof_of_its_key() {
    let server = common::Server::start(&common::Options::default());
    let http = Client::new();
    let call = |method: &str, path: &str| {
        let url = format!("{}{path}", server.base_url);
        let request = if method == "GET" {
            http.get(url)
        } else {
            http.post(url)
        };
        request
            .header("X-Authy-API-Key", &server.api_key)
            .send()
            .unwrap()
    };
    let user: Value = http
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "h@example.com"),
            ("user[cellphone]", "555-010-0101"),
            ("user[country_code]", "1"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = user["user"]["id"].as_i64().unwrap();
    let registration: Value = call("POST", &format!("/protected/json/users/{id}/registrations"))
        .json()
        .unwrap();
    let code = registration["registration"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = registration["registration"]["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("countersign://register?v=1&server=")
            && uri.ends_with(&format!("&code={code}")),
        "{uri}"
    );
    assert!(
        registration["qr_code"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );

    let signer = SoftwareSigner::generate();
    // A registration signed by another key than the one it registers is refused.
    let forged = register(&server, &code, &signer, &SoftwareSigner::generate());
    assert_eq!(forged.status().as_u16(), 401);
    assert_eq!(
        forged.json::<Value>().unwrap()["error"],
        "invalid_signature"
    );

    let answer = register(&server, &code, &signer, &signer);
    assert_eq!(answer.status().as_u16(), 200);
    let answer: Value = answer.json().unwrap();
    assert_eq!(answer["authy_id"], id);
    assert!(
        URL_SAFE_NO_PAD
            .decode(answer["server_public_key"].as_str().unwrap())
            .unwrap()
            .len()
            > 60
    );
    // The code is used up, and an unknown one never worked.
    let again = register(&server, &code, &signer, &signer);
    assert_eq!(again.status().as_u16(), 410);
    assert_eq!(
        again.json::<Value>().unwrap()["error"],
        "registration_invalid"
    );
    assert_eq!(
        register(&server, "AAAAAAAAAAAAAAAAAAAAAAAAAA", &signer, &signer)
            .status()
            .as_u16(),
        410
    );

    // The app's TOTP parameters are the user's: a code the device computes verifies.
    let totp = &answer["totp"];
    let account = Account::new(
        None,
        "",
        Secret::from_base32(totp["secret"].as_str().unwrap()).unwrap(),
        OtpParameters::totp(
            Default::default(),
            totp["digits"].as_u64().unwrap() as u32,
            30,
        )
        .unwrap(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code_now = account.code_at(now).code;
    let verified = call(
        "GET",
        &format!("/protected/json/verify/{code_now}/{id}?force=true"),
    )
    .text()
    .unwrap();
    assert!(verified.contains("\"token\":\"is valid\""), "{verified}");

    // With a registered app, SMS is skipped unless forced; after revoking, it is sent again.
    let ignored: Value = call("GET", &format!("/protected/json/sms/{id}"))
        .json()
        .unwrap();
    assert_eq!(
        (ignored["ignored"].clone(), ignored["device"].clone()),
        (json!(true), json!("android")),
        "{ignored}"
    );
    let forced: Value = call("GET", &format!("/protected/json/sms/{id}?force=true"))
        .json()
        .unwrap();
    assert_eq!(forced["message"], "SMS token was sent");
    let status: Value = call("GET", &format!("/protected/json/users/{id}/status"))
        .json()
        .unwrap();
    assert_eq!(status["status"]["registered"], true);
    let devices: Value = call("GET", &format!("/protected/json/users/{id}/devices"))
        .json()
        .unwrap();
    let device_id = devices["devices"][0]["id"].as_i64().unwrap();
    assert_eq!(device_id, answer["device_id"].as_i64().unwrap());
    assert_eq!(
        call(
            "POST",
            &format!("/protected/json/users/{id}/devices/{device_id}/revoke")
        )
        .status()
        .as_u16(),
        200
    );
    assert_eq!(
        call(
            "POST",
            &format!("/protected/json/users/{id}/devices/999/revoke")
        )
        .status()
        .as_u16(),
        404
    );
    let sent: Value = call("GET", &format!("/protected/json/sms/{id}"))
        .json()
        .unwrap();
    assert_eq!(sent["message"], "SMS token was sent", "{sent}");
    let malformed = Client::new()
        .post(format!("{}/device/v1/register", server.base_url))
        .body("not json")
        .send()
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
}

use common::phone::{Phone as Device, Registration, unix_now};

fn registered_device(server: &common::Server, user: i64) -> Device {
    let registration = Registration {
        push_token: Some("push-token-1"),
        ..Registration::default()
    };
    common::phone::register_as(
        &server.base_url,
        &server.api_key,
        server.client(),
        user,
        &registration,
    )
}

/// A device that claims device id `id` with a key of its own.
fn impostor_of(of: &Device, id: i64) -> Device {
    Device {
        base_url: of.base_url.clone(),
        http: Client::new(),
        id,
        signer: SoftwareSigner::generate(),
        server_key: Vec::new(),
    }
}

/// A device request signed as the protocol says; `timestamp`/`nonce` overridable for attacks.
fn device_get(
    device: &Device,
    path: &str,
    timestamp: u64,
    nonce: &str,
) -> reqwest::blocking::Response {
    device
        .signed_at("GET", path, b"", timestamp, nonce)
        .send()
        .unwrap()
}

#[test]
fn pending_requests_arrive_as_server_signed_challenges_to_authenticated_devices() {
    let server = common::Server::start(&common::Options::default());
    let http = Client::new();
    let (alice, bob) = (
        server.new_user("555-010-0201"),
        server.new_user("555-010-0202"),
    );
    let phone = registered_device(&server, alice);
    let other = registered_device(&server, bob);
    let created: Value = http
        .post(format!(
            "{}/onetouch/json/users/{alice}/approval_requests",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("message", "Approve payment"),
            ("details[Amount]", "713.00 EUR"),
            ("details[Payee]", "Hermione Granger"),
            ("hidden_details[Payment ID]", "P-1"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uuid = created["approval_request"]["uuid"].as_str().unwrap();

    let path = "/device/v1/approval_requests";
    let listed: Value = device_get(&phone, path, unix_now(), "nonce-1")
        .json()
        .unwrap();
    let challenges = listed["approval_requests"].as_array().unwrap();
    assert_eq!(challenges.len(), 1);
    let (header, payload) =
        device::verify_compact(challenges[0].as_str().unwrap(), &phone.server_key).unwrap();
    assert_eq!(header["typ"], "countersign-challenge+jws");
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["uuid"], uuid);
    assert_eq!(
        payload["details"],
        json!([["Amount", "713.00 EUR"], ["Payee", "Hermione Granger"]])
    );
    assert_eq!(
        payload["hidden_details_sha256"],
        device::hidden_details_sha256(&[("Payment ID".into(), "P-1".into())])
    );
    assert!(
        !payload.to_string().contains("P-1"),
        "hidden details never reach the device"
    );
    // A challenge does not verify under any other key.
    assert!(
        device::verify_compact(
            challenges[0].as_str().unwrap(),
            &other.signer.public_key_spki().unwrap()
        )
        .is_err()
    );
    // Bob's device sees none of Alice's requests.
    let bobs: Value = device_get(&other, path, unix_now(), "nonce-b")
        .json()
        .unwrap();
    assert_eq!(bobs["approval_requests"], json!([]));

    let refused = |response: reqwest::blocking::Response, status: u16, error: &str| {
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.json::<Value>().unwrap()["error"], error);
    };
    refused(
        device_get(&phone, path, unix_now(), "nonce-1"),
        401,
        "replayed_request",
    );
    refused(
        device_get(&phone, path, unix_now() - 3600, "nonce-2"),
        401,
        "stale_request",
    );
    let impostor = impostor_of(&phone, phone.id);
    refused(
        device_get(&impostor, path, unix_now(), "nonce-3"),
        401,
        "invalid_signature",
    );
    let ghost = impostor_of(&phone, 999_999);
    // An unknown id is answered like a bad signature (issue 10, finding 13): no oracle for
    // which device ids exist.
    refused(
        device_get(&ghost, path, unix_now(), "nonce-4"),
        401,
        "invalid_signature",
    );
    refused(
        Client::new()
            .get(format!("{}{path}", server.base_url))
            .send()
            .unwrap(),
        401,
        "invalid_request",
    );
    http.post(format!(
        "{}/protected/json/users/{alice}/devices/{}/revoke",
        server.base_url, phone.id
    ))
    .header("X-Authy-API-Key", &server.api_key)
    .send()
    .unwrap();
    refused(
        device_get(&phone, path, unix_now(), "nonce-5"),
        403,
        "revoked_device",
    );
    // Whether a device was revoked is told only to its own key.
    let stranger = impostor_of(&phone, phone.id);
    refused(
        device_get(&stranger, path, unix_now(), "nonce-6"),
        401,
        "invalid_signature",
    );
}

fn device_post(device: &Device, path: &str, body: &Value) -> reqwest::blocking::Response {
    // One timestamp for both the signed string and the header: two clock reads can straddle a second.
    device_post_at(
        device,
        path,
        body,
        unix_now(),
        &format!("n{}", rand_suffix()),
    )
}

/// A signed device POST with the given timestamp and nonce (overridable for attacks).
fn device_post_at(
    device: &Device,
    path: &str,
    body: &Value,
    timestamp: u64,
    nonce: &str,
) -> reqwest::blocking::Response {
    device
        .signed_at("POST", path, body.to_string().as_bytes(), timestamp, nonce)
        .send()
        .unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) * 1_000_003 + unix_now()
}

/// The answer a device makes for a challenge it verified: what it showed, hashed and signed.
fn answer_for(
    device: &Device,
    challenge: &Value,
    decision: &str,
    tweak: impl Fn(&mut Value),
) -> String {
    let details: Vec<(String, String)> =
        serde_json::from_value(challenge["details"].clone()).unwrap();
    let shown = device::displayed_content(challenge["message"].as_str().unwrap(), &details);
    use sha2::Digest;
    let content: String = sha2::Sha256::digest(shown.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut payload = json!({
        "v": 1, "typ": "payment-approval", "uuid": challenge["uuid"], "nonce": challenge["nonce"],
        "device_id": device.id, "decision": decision, "content_sha256": content,
        "hidden_details_sha256": challenge["hidden_details_sha256"], "iat": unix_now(),
    });
    tweak(&mut payload);
    device::sign_compact(
        &json!({"alg": "ES256", "typ": "countersign-answer+jws", "kid": device.id.to_string()}),
        payload.to_string().as_bytes(),
        &device.signer,
    )
    .unwrap()
}

#[test]
fn signed_answers_approve_or_deny_exactly_what_was_shown() {
    let server = common::Server::start(&common::Options::default());
    let http = Client::new();
    let (alice, bob) = (
        server.new_user("555-010-0301"),
        server.new_user("555-010-0302"),
    );
    let phone = registered_device(&server, alice);
    let other = registered_device(&server, bob);
    let create = |seconds: &str| -> String {
        let created: Value = http
            .post(format!(
                "{}/onetouch/json/users/{alice}/approval_requests",
                server.base_url
            ))
            .header("X-Authy-API-Key", &server.api_key)
            .form(&[
                ("message", "Approve payment"),
                ("details[Amount]", "713.00 EUR"),
                ("details[Payee]", "Hermione Granger"),
                ("hidden_details[ID]", "P-9"),
                ("seconds_to_expire", seconds),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        created["approval_request"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let challenge = |uuid: &str| -> Value {
        let listed: Value = device_get(
            &phone,
            "/device/v1/approval_requests",
            unix_now(),
            &format!("g{}", rand_suffix()),
        )
        .json()
        .unwrap();
        listed["approval_requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|jws| {
                serde_json::from_slice::<Value>(
                    &device::verify_compact(jws.as_str().unwrap(), &phone.server_key)
                        .unwrap()
                        .1,
                )
                .unwrap()
            })
            .find(|p| p["uuid"] == uuid)
            .unwrap()
    };
    let status = |uuid: &str| -> Value {
        http.get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap()
    };
    let refused = |response: reqwest::blocking::Response, code: u16, error: &str| {
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(response.json::<Value>().unwrap()["error"], error);
    };
    let answer_path = |uuid: &str| format!("/device/v1/approval_requests/{uuid}/answer");

    // Approve: the signed answer is kept and returned as evidence.
    let first = create("120");
    let c = challenge(&first);
    let jws = answer_for(&phone, &c, "approve", |_| {});
    // Before the real answer: altered amount, another uuid, another user's device, another type.
    refused(
        device_post(
            &phone,
            &answer_path(&first),
            &json!({"answer": answer_for(&phone, &c, "approve", |p| p["content_sha256"] = json!(device::hidden_details_sha256(&[("Amount".into(), "714.00 EUR".into())])))}),
        ),
        400,
        "content_mismatch",
    );
    refused(
        device_post(
            &phone,
            &answer_path(&first),
            &json!({"answer": answer_for(&phone, &c, "approve", |p| p["typ"] = json!("login-approval"))}),
        ),
        400,
        "content_mismatch",
    );
    refused(
        device_post(
            &phone,
            &answer_path(&first),
            &json!({"answer": answer_for(&phone, &c, "approve", |p| p["nonce"] = json!("other"))}),
        ),
        400,
        "content_mismatch",
    );
    let second = create("120");
    refused(
        device_post(&phone, &answer_path(&second), &json!({"answer": jws})),
        400,
        "content_mismatch",
    );
    let bobs = answer_for(&other, &c, "approve", |_| {});
    refused(
        device_post(&other, &answer_path(&first), &json!({"answer": bobs})),
        403,
        "wrong_user",
    );
    refused(
        device_post(&other, &answer_path(&first), &json!({"answer": jws})),
        401,
        "invalid_signature",
    );
    assert_eq!(
        status(&first)["approval_request"]["status"],
        "pending",
        "refused answers change nothing"
    );

    assert_eq!(
        device_post(&phone, &answer_path(&first), &json!({"answer": jws}))
            .status()
            .as_u16(),
        200
    );
    let approved = status(&first);
    assert_eq!(approved["approval_request"]["status"], "approved");
    let evidence = approved["approval_request"]["countersign"]["signed_answer"]["jws"]
        .as_str()
        .unwrap();
    let (_, payload) =
        device::verify_compact(evidence, &phone.signer.public_key_spki().unwrap()).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap()["decision"],
        "approve"
    );
    // A replayed answer finds the request no longer pending.
    refused(
        device_post(&phone, &answer_path(&first), &json!({"answer": jws})),
        409,
        "not_pending",
    );

    // Deny.
    let c2 = challenge(&second);
    assert_eq!(
        device_post(
            &phone,
            &answer_path(&second),
            &json!({"answer": answer_for(&phone, &c2, "deny", |_| {})})
        )
        .status()
        .as_u16(),
        200
    );
    assert_eq!(status(&second)["approval_request"]["status"], "denied");

    // Expired. Expiry is counted in whole seconds: with 2 s the request is still listed
    // however close to a second's end it was created (1 s could already be over).
    let third = create("2");
    let c3 = challenge(&third);
    std::thread::sleep(std::time::Duration::from_millis(3100));
    refused(
        device_post(
            &phone,
            &answer_path(&third),
            &json!({"answer": answer_for(&phone, &c3, "approve", |_| {})}),
        ),
        410,
        "expired",
    );
    assert_eq!(status(&third)["approval_request"]["status"], "expired");
}

#[test]
fn answers_in_stale_or_replayed_requests_or_from_revoked_devices_change_nothing() {
    let server = common::Server::start(&common::Options::default());
    let http = Client::new();
    let alice = server.new_user("555-010-0401");
    let phone = registered_device(&server, alice);
    let created: Value = http
        .post(format!(
            "{}/onetouch/json/users/{alice}/approval_requests",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("message", "Approve payment"),
            ("details[Amount]", "713.00 EUR"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uuid = created["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed: Value = device_get(&phone, "/device/v1/approval_requests", unix_now(), "list-1")
        .json()
        .unwrap();
    let jws = listed["approval_requests"][0].as_str().unwrap();
    let challenge: Value =
        serde_json::from_slice(&device::verify_compact(jws, &phone.server_key).unwrap().1).unwrap();
    let path = format!("/device/v1/approval_requests/{uuid}/answer");
    let body = json!({"answer": answer_for(&phone, &challenge, "approve", |_| {})});
    let status = || -> Value {
        http.get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap()
    };
    let refused = |response: reqwest::blocking::Response, code: u16, error: &str| {
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(response.json::<Value>().unwrap()["error"], error);
        assert_eq!(
            status()["approval_request"]["status"],
            "pending",
            "{error}: state unchanged"
        );
    };

    // Stale: signed ten minutes ago (or ahead), outside the five-minute window.
    refused(
        device_post_at(&phone, &path, &body, unix_now() - 600, "stale-1"),
        401,
        "stale_request",
    );
    refused(
        device_post_at(&phone, &path, &body, unix_now() + 600, "stale-2"),
        401,
        "stale_request",
    );
    // Replayed: a request seen before (same nonce) is refused even though it verifies. Its
    // first delivery was refused on content, so the replay cannot be mistaken for an answer.
    let wrong = json!({"answer": answer_for(&phone, &challenge, "approve", |p| p["content_sha256"] = json!("00"))});
    let now = unix_now();
    refused(
        device_post_at(&phone, &path, &wrong, now, "once"),
        400,
        "content_mismatch",
    );
    refused(
        device_post_at(&phone, &path, &wrong, now, "once"),
        401,
        "replayed_request",
    );
    // Revoked device: its valid answer no longer counts.
    http.post(format!(
        "{}/protected/json/users/{alice}/devices/{}/revoke",
        server.base_url, phone.id
    ))
    .header("X-Authy-API-Key", &server.api_key)
    .send()
    .unwrap();
    refused(device_post(&phone, &path, &body), 403, "revoked_device");
}

/// Issue 10, finding 2: with decoys drawn per fetch, the number present in every fetch was
/// the right one. The choices are fixed when the request is created.
#[test]
fn number_matching_offers_the_same_choices_on_every_fetch() {
    let server = common::Server::start(&common::Options::default());
    let alice = server.new_user("555-010-0301");
    let phone = registered_device(&server, alice);
    let created: Value = Client::new()
        .post(format!(
            "{}/onetouch/json/users/{alice}/approval_requests",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[("message", "Approve payment"), ("number_matching", "true")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let number = created["approval_request"]["number"].as_i64().unwrap();
    let path = "/device/v1/approval_requests";
    let fetches: Vec<Vec<i64>> = (0..6)
        .map(|i| {
            let listed: Value = device_get(&phone, path, unix_now(), &format!("nm-{i}"))
                .json()
                .unwrap();
            let jws = listed["approval_requests"][0].as_str().unwrap();
            let (_, payload) = device::verify_compact(jws, &phone.server_key).unwrap();
            let payload: Value = serde_json::from_slice(&payload).unwrap();
            serde_json::from_value(payload["number_choices"].clone()).unwrap()
        })
        .collect();
    let first = &fetches[0];
    assert!(fetches.iter().all(|f| f == first), "{fetches:?}");
    assert_eq!(first.len(), 3);
    assert!(first.contains(&number));
    assert!(first[0] != first[1] && first[1] != first[2] && first[0] != first[2]);
    assert!(first.iter().all(|n| (10..100).contains(n)));
}
