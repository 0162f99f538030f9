//! Migration from Authy (`countersign-server users import`): users keep their Authy ids, new
//! ids continue above them, imported users receive and verify SMS codes at once, bad rows are
//! reported by line while the rest is imported, re-runs are no-ops, a dry run writes nothing,
//! and a hostile file is refused. Runs on SQLite, and on PostgreSQL under scripts/with-postgres.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::path::PathBuf;

use common::{Options, Server};
use serde_json::{Value, json};

struct Import {
    code: i32,
    report: Value,
    stderr: String,
}

fn write(server: &Server, name: &str, text: &str) -> PathBuf {
    let path = server.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(server: &Server, file: &std::path::Path, extra: &[&str]) -> Import {
    let out = server
        .command()
        .args(["users", "import"])
        .arg(file)
        .args(["--app-id", &server.app_id.to_string(), "--json"])
        .args(extra)
        .output()
        .unwrap();
    Import {
        code: out.status.code().unwrap(),
        report: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn get(server: &Server, path: &str) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn status(server: &Server, id: i64) -> (u16, Value) {
    get(server, &format!("/protected/json/users/{id}/status"))
}

fn new_user(base_url: &str, server: &Server, phone: &str) -> i64 {
    let body: Value = reqwest::blocking::Client::new()
        .post(format!("{base_url}/protected/json/users/new"))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "new@example.com"),
            ("user[cellphone]", phone),
            ("user[country_code]", "1"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["user"]["id"].as_i64().unwrap()
}

const THREE_USERS: &str = "authy_id,email,country_code,cellphone,custom_user_id\n\
    1000017,ron@example.com,44,7700 900123,\n\
    5,ginny@example.com,+1,(555) 555-0100,gw-5\n\
    4200000,luna@example.com,49,1512 3456789,\n";

#[test]
fn authy_ids_are_kept_and_new_ids_continue_above_the_highest() {
    let server = Server::start(&Options::default());
    let file = write(&server, "users.csv", THREE_USERS);
    let run = import(&server, &file, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report["imported"], 3);
    assert_eq!(run.report["failed"], json!([]));

    let (code, body) = status(&server, 1_000_017);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["authy_id"], 1_000_017);
    assert_eq!(body["status"]["email"], "ron@example.com");
    assert_eq!(body["status"]["country_code"], 44);
    assert_eq!(body["status"]["phone_number"], "XXX-XXX-0123");
    assert_eq!(status(&server, 5).1["status"]["country_code"], 1);
    let (code, body) = get(
        &server,
        "/protected/json/registrations/status?custom_user_id=gw-5",
    );
    assert_eq!((code, &body["registration"]["authy_id"]), (200, &json!(5)));

    // Users are keyed by phone: an imported phone gets its Authy id back from users/new.
    assert_eq!(new_user(&server.base_url, &server, "555 555 0100"), 5);
    // A new user, on this instance and on another one, gets ids above every imported one.
    assert_eq!(new_user(&server.base_url, &server, "5550111"), 4_200_001);
    let other = server.another_instance();
    assert_eq!(new_user(&other.base_url, &server, "5550112"), 4_200_002);
}

#[test]
fn imported_users_verify_sms_codes_at_once() {
    let server = Server::start(&Options::default());
    let file = write(
        &server,
        "users.json",
        "[\n  {\"authy_id\": 31337, \"email\": \"neville@example.com\", \"country_code\": 44, \"cellphone\": \"7700900555\"}\n]\n",
    );
    let run = import(&server, &file, &[]);
    assert_eq!(
        (run.code, &run.report["imported"]),
        (0, &json!(1)),
        "{}",
        run.stderr
    );

    let (code, body) = get(&server, "/protected/json/sms/31337?force=true");
    assert_eq!(code, 200, "{body}");
    let (_, sms_code) = server.last_message("+447700900555");
    let (code, body) = get(&server, &format!("/protected/json/verify/{sms_code}/31337"));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["success"], "true", "{body}");
    let wrong = if sms_code.starts_with('0') { "1" } else { "0" };
    let wrong = format!("{wrong}{}", &sms_code[1..]);
    let (code, _) = get(&server, &format!("/protected/json/verify/{wrong}/31337"));
    assert_eq!(code, 401);
}

#[test]
fn bad_rows_are_reported_by_line_and_the_rest_is_imported() {
    let server = Server::start(&Options::default());
    let taken = server.new_user("7700900999");
    let text = format!(
        "Authy_ID,Email,Country_Code,Cellphone,Name\n\
         101,harry@example.com,44,7700900101,Harry\n\
         abc,hermione@example.com,44,7700900102,Hermione\n\
         103,not-an-email,44,7700900103,\n\
         104,draco@example.com,44,12,Draco\n\
         105,cho@example.com,1000,7700900105,\n\
         101,fred@example.com,44,7700900106,Fred\n\
         107,george@example.com,44,7700900101,George\n\
         {taken},percy@example.com,44,7700900108,Percy\n\
         109,bill@example.com,44,7700900999,Bill\n\
         \n\
         \"110\",\"charlie@example.com\",\"44\",\"7700 900 110\",\"Charlie, the elder\"\n"
    );
    let file = write(&server, "users.csv", &text);
    let run = import(&server, &file, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report["imported"], 2, "{}", run.report);
    let failed: Vec<(u64, String)> = run.report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let lines: Vec<u64> = failed.iter().map(|f| f.0).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10], "{failed:?}");
    assert!(failed[0].1.contains("authy_id"));
    assert!(failed[1].1.contains("email is invalid"));
    assert!(failed[2].1.contains("cellphone is invalid"));
    assert!(failed[3].1.contains("country_code"));
    assert!(failed[4].1.contains("also on line 2"));
    assert!(failed[5].1.contains("also on line 2"));
    assert!(failed[6].1.contains("different user"));
    assert!(failed[7].1.contains(&format!("user {taken}")));

    assert_eq!(
        status(&server, 101).1["status"]["email"],
        "harry@example.com"
    );
    assert_eq!(
        status(&server, 110).1["status"]["phone_number"],
        "XXX-XXX-0110"
    );
    assert_eq!(status(&server, 103).0, 404);
    // The user that held the id keeps its own phone and email.
    assert_eq!(
        status(&server, taken).1["status"]["email"],
        "hermione@example.com"
    );
}

#[test]
fn a_second_run_changes_nothing_and_a_dry_run_writes_nothing() {
    let server = Server::start(&Options::default());
    let file = write(&server, "users.csv", THREE_USERS);
    let dry = import(&server, &file, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        (&dry.report["dry_run"], &dry.report["imported"]),
        (&json!(true), &json!(3))
    );
    assert_eq!(status(&server, 5).0, 404);
    let first_new = new_user(&server.base_url, &server, "5550150");
    assert!(first_new < 5_000, "a dry run moved the ids: {first_new}");

    let first = import(&server, &file, &[]);
    assert_eq!((first.code, &first.report["imported"]), (0, &json!(3)));
    let again = import(&server, &file, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.report["imported"], 0);
    assert_eq!(again.report["unchanged"], 3);
    let dry_again = import(&server, &file, &["--dry-run"]);
    assert_eq!(dry_again.report["unchanged"], 3);

    // The same id with another person's details is not "unchanged".
    let changed = write(
        &server,
        "changed.csv",
        "authy_id,email,country_code,cellphone\n5,someone.else@example.com,1,5555550100\n",
    );
    let run = import(&server, &changed, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.report["failed"][0]["line"], 2);
    assert_eq!(status(&server, 5).1["status"]["email"], "ginny@example.com");
}

#[test]
fn a_hostile_file_is_refused_with_its_reason_and_nothing_is_written() {
    let server = Server::start(&Options::default());
    let long_line = format!(
        "authy_id,email,country_code,cellphone\n7,a@example.com,1,5550107\n8,{}@example.com,1,5550108\n",
        "x".repeat(1 << 20)
    );
    let run = import(&server, &write(&server, "long.csv", &long_line), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("line 3 is longer than"),
        "{}",
        run.stderr
    );

    let mut many = String::from("authy_id,email,country_code,cellphone\n");
    for i in 1..=1_000_001u64 {
        many.push_str(&format!("{i},u@example.com,1,{}\n", 5_550_000_000u64 + i));
    }
    let run = import(&server, &write(&server, "many.csv", &many), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("more than 1000000 rows"),
        "{}",
        run.stderr
    );

    let json_many = format!("[{}{{}}]", "{},".repeat(1_000_000));
    let run = import(&server, &write(&server, "many.json", &json_many), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("more than 1000000 rows"),
        "{}",
        run.stderr
    );

    let huge = server.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let run = import(&server, &huge, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);

    let headless = write(&server, "headless.csv", "id,mail\n1,a@example.com\n");
    let run = import(&server, &headless, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("authy_id, email, country_code, cellphone"),
        "{}",
        run.stderr
    );

    let not_a_list = write(&server, "object.json", "{\"authy_id\": 7}");
    assert_eq!(import(&server, &not_a_list, &[]).code, 2);
    assert_eq!(status(&server, 7).0, 404);
}

#[test]
fn json_rows_carry_their_line_and_the_optional_fields() {
    let server = Server::start(&Options::default());
    let text = r#"[
  {"authy_id": 9001, "email": "minerva@example.com", "country_code": "44", "cellphone": 7700900901,
   "created_at": 1400000000, "confirmed": true, "registered": true, "notes": "ignored"},
  {"authy_id": 9002, "email": "albus@example.com", "country_code": 44, "cellphone": ["7700900902"]},
  {"authy_id": 9003, "email": "pomona@example.com", "country_code": 44, "cellphone": "7700900903", "confirmed": "false"},
  "not an object",
  {"authy_id": 9004, "email": "severus@example.com", "country_code": 44, "cellphone": "7700900904", "confirmed": "maybe"}
]"#;
    let file = write(&server, "export.JSON", text);
    let run = import(&server, &file, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report["imported"], 2);
    let lines: Vec<u64> = run.report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 6, 7], "{}", run.report);
    let body = status(&server, 9001).1;
    assert_eq!(body["status"]["confirmed"], true);
    assert_eq!(body["status"]["phone_number"], "XXX-XXX-0901");
    assert_eq!(status(&server, 9003).1["status"]["confirmed"], false);
}

#[test]
fn an_import_while_two_instances_create_users_hands_out_no_id_twice() {
    let server = Server::start(&Options::default());
    let other = server.another_instance();
    let mut text = String::from("authy_id,email,country_code,cellphone\n");
    for id in 2..=3001u64 {
        text.push_str(&format!(
            "{id},u{id}@example.com,44,{}\n",
            7_700_000_000u64 + id
        ));
    }
    let file = write(&server, "users.csv", &text);
    let bases = [server.base_url.clone(), other.base_url.clone()];
    let created = std::thread::scope(|scope| {
        let creators: Vec<_> = bases
            .iter()
            .enumerate()
            .map(|(n, base)| {
                let server = &server;
                scope.spawn(move || {
                    (0..40)
                        .map(|i| new_user(base, server, &format!("55501{n}{i:02}")))
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        let run = import(&server, &file, &[]);
        let created: Vec<i64> = creators
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        (run, created)
    });
    let (run, created) = created;
    let mut distinct = created.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), created.len(), "an id was handed out twice");
    // Every file id is imported, or failed because users/new had taken it first.
    let failed: Vec<i64> = run.report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["authy_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        run.report["imported"].as_u64().unwrap() + failed.len() as u64,
        3000,
        "{}",
        run.report
    );
    assert!(failed.iter().all(|id| created.contains(id)), "{failed:?}");
    for id in created.iter().filter(|id| (2..=3001).contains(*id)) {
        assert_eq!(status(&server, *id).1["status"]["email"], "new@example.com");
    }
    let highest = created.iter().copied().max().unwrap().max(3001);
    assert_eq!(new_user(&other.base_url, &server, "5550999"), highest + 1);
}

#[test]
fn the_app_is_the_only_one_or_the_one_named() {
    let server = Server::start(&Options::default());
    let file = write(&server, "users.csv", THREE_USERS);
    let out = server
        .command()
        .args(["users", "import"])
        .arg(&file)
        .args(["--app-id", "999", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no app 999"));
    // One app: --app-id may be left out.
    let out = server
        .command()
        .args(["users", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported: 3"));
    let second = server
        .command()
        .args(["app", "create", "--name", "Other"])
        .output()
        .unwrap();
    assert!(second.status.success());
    let out = server
        .command()
        .args(["users", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--app-id"));
    // A file that is neither .csv nor .json needs --format.
    let text = write(&server, "users.txt", THREE_USERS);
    let out = server
        .command()
        .args(["users", "import"])
        .arg(&text)
        .args(["--app-id", &server.app_id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let run = import(&server, &text, &["--format", "csv"]);
    assert_eq!((run.code, &run.report["unchanged"]), (0, &json!(3)));
}
