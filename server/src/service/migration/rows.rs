//! One row of an export checked by the rules `users/new` applies (email, phone, country
//! code), plus the Authy id and the optional fields; and the file-wide rule that an id and a
//! phone appear once.

use std::collections::HashMap;

use super::input::RawRow;
use crate::service::users::{normalize_phone, parse_country_code, valid_email};

/// The largest id kept: integrators' JavaScript clients read ids as doubles, exact up to 2^53 − 1.
pub const MAX_AUTHY_ID: i64 = 9_007_199_254_740_991;
/// Longest `custom_user_id` (and any other free text) accepted.
pub const MAX_TEXT_CHARS: usize = 255;

/// A valid row.
pub struct UserRow {
    pub line: u64,
    pub id: i64,
    pub email: String,
    pub country_code: i64,
    pub cellphone: String,
    pub custom_user_id: Option<String>,
    pub confirmed: bool,
    pub created_at: Option<i64>,
}

/// A row that is not imported: its line, its id when one could be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    pub line: u64,
    pub authy_id: Option<i64>,
    pub reason: String,
}

fn parse_id(text: Option<&str>) -> Option<i64> {
    let id: i64 = text?.parse().ok()?;
    (1..=MAX_AUTHY_ID).contains(&id).then_some(id)
}

/// A yes/no column; `absent` when the row leaves it out.
fn parse_flag(name: &str, text: Option<&str>, absent: bool, errors: &mut Vec<String>) -> bool {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None => absent,
        Some("false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(_) => {
            errors.push(format!("{name} must be true or false"));
            false
        }
    }
}

/// Unix seconds from 0 to the year 9999.
fn parse_created_at(text: Option<&str>, errors: &mut Vec<String>) -> Option<i64> {
    let text = text?;
    match text.parse::<i64>() {
        Ok(seconds) if (0..=253_402_300_799).contains(&seconds) => Some(seconds),
        _ => {
            errors.push("created_at must be Unix seconds".into());
            None
        }
    }
}

/// Checks one row read from the file.
pub fn check(raw: RawRow) -> Result<UserRow, RowFailure> {
    let line = raw.line;
    let fields = raw.fields.map_err(|reason| RowFailure {
        line,
        authy_id: None,
        reason,
    })?;
    let [
        id,
        email,
        country,
        phone,
        custom,
        created,
        confirmed,
        _registered,
    ] = fields.each_ref().map(Option::as_deref);
    let authy_id = parse_id(id);
    let mut errors = Vec::new();
    if authy_id.is_none() {
        errors.push(format!(
            "authy_id must be a whole number from 1 to {MAX_AUTHY_ID}"
        ));
    }
    let email = email.unwrap_or("");
    if !valid_email(email) {
        errors.push("email is invalid".into());
    }
    let country_code = country.and_then(parse_country_code);
    if country_code.is_none() {
        errors.push("country_code is not supported".into());
    }
    let cellphone = phone.and_then(normalize_phone);
    if cellphone.is_none() {
        errors.push("cellphone is invalid".into());
    }
    if custom.is_some_and(|c| c.chars().count() > MAX_TEXT_CHARS) {
        errors.push(format!(
            "custom_user_id is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    let created_at = parse_created_at(created, &mut errors);
    // Users of a live Authy deployment have verified a code before: confirmed unless the file
    // says otherwise, so that codes are checked without `force=true`, as they were at Authy.
    let confirmed = parse_flag("confirmed", confirmed, true, &mut errors);
    match (authy_id, country_code, cellphone) {
        (Some(id), Some(country_code), Some(cellphone)) if errors.is_empty() => Ok(UserRow {
            line,
            id,
            email: email.to_owned(),
            country_code,
            cellphone,
            custom_user_id: custom.map(str::to_owned),
            confirmed,
            created_at,
        }),
        _ => Err(RowFailure {
            line,
            authy_id,
            reason: errors.join("; "),
        }),
    }
}

/// Keeps the first row of each id and of each phone; later ones fail, naming the first line.
pub fn first_of_each(rows: Vec<UserRow>, failures: &mut Vec<RowFailure>) -> Vec<UserRow> {
    let mut ids: HashMap<i64, u64> = HashMap::with_capacity(rows.len());
    let mut phones: HashMap<(i64, String), u64> = HashMap::with_capacity(rows.len());
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let reason = if let Some(first) = ids.get(&row.id) {
            format!("authy_id {} is also on line {first}", row.id)
        } else if let Some(first) = phones.get(&(row.country_code, row.cellphone.clone())) {
            format!(
                "phone +{} {} is also on line {first}",
                row.country_code, row.cellphone
            )
        } else {
            ids.insert(row.id, row.line);
            phones.insert((row.country_code, row.cellphone.clone()), row.line);
            kept.push(row);
            continue;
        };
        failures.push(RowFailure {
            line: row.line,
            authy_id: Some(row.id),
            reason,
        });
    }
    kept
}
