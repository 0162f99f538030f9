//! Device registration over HTTP (docs/device-protocol.md), with the core's software signer.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_core::device::{self, DeviceSigner, SoftwareSigner};
use countersign_core::{Account, OtpParameters, Secret};
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
