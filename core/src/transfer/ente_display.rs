//! Ente Auth's `codeDisplay` otpauth parameter: a percent-encoded JSON object Ente appends
//! to each exported line with the code's display state — `pinned`, `trashed`, `lastUsedAt`,
//! `tapCount`, `tags` (strings), `note`, `position`, `iconSrc`, `iconID` (Ente's
//! `CodeDisplay.fromJson` / `fromUri` in ente-io/ente; every key optional). Tags and the
//! note are read into the entry's metadata and written back, so they survive a trip through
//! Ente; the rest is Ente's own state and not kept.

use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};

use super::{ImportFormat, MAX_TAGS_PER_ENTRY, bounded_tag};
use crate::vault::EntryMeta;

const PARAMETER: &str = "codeDisplay";

/// The tags and note of an Ente line's `codeDisplay`, if it has one.
pub(crate) fn read(line: &str) -> Result<EntryMeta, String> {
    let Some(encoded) = parameter(line) else {
        return Ok(EntryMeta::default());
    };
    // Dart's `queryParameters` reads `+` as a space, as form encoding does.
    let text = percent_decode_str(&encoded.replace('+', " "))
        .decode_utf8()
        .map_err(|_| "codeDisplay is not UTF-8".to_owned())?
        .into_owned();
    let display: Value = super::json::parse(ImportFormat::Ente, text.as_bytes())
        .map_err(|_| "codeDisplay is not JSON".to_owned())?;
    let mut tags: Vec<String> = Vec::new();
    let names = display
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for name in names.filter_map(Value::as_str) {
        let tag = bounded_tag(name);
        if tags.len() == MAX_TAGS_PER_ENTRY {
            break;
        }
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let notes = display.get("note").and_then(Value::as_str).unwrap_or("");
    Ok(EntryMeta {
        tags,
        notes: notes.to_owned(),
        icon: None,
    })
}

/// `uri` with a `codeDisplay` holding `meta`'s tags and note, when it has any.
pub(crate) fn append(uri: &mut String, meta: &EntryMeta) {
    if meta.tags.is_empty() && meta.notes.is_empty() {
        return;
    }
    let display = json!({"pinned": false, "trashed": false, "tags": meta.tags, "note": meta.notes});
    uri.push('&');
    uri.push_str(PARAMETER);
    uri.push('=');
    uri.extend(utf8_percent_encode(&display.to_string(), NON_ALPHANUMERIC));
}

/// The raw value of the `codeDisplay` query parameter of `line`.
fn parameter(line: &str) -> Option<&str> {
    let (_, query) = line.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == PARAMETER)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_note_survive_a_round_trip() {
        let meta = EntryMeta {
            tags: vec!["work".into(), "a&b=c d+e".into()],
            notes: "line one, \"two\" 100%".into(),
            icon: None,
        };
        let mut uri = "otpauth://totp/a?secret=AA".to_owned();
        append(&mut uri, &meta);
        assert!(!uri[uri.find("codeDisplay=").unwrap()..].contains(['&', ' ', '"', '+']));
        assert_eq!(read(&uri).unwrap(), meta);
        let mut plain = "otpauth://totp/a?secret=AA".to_owned();
        append(&mut plain, &EntryMeta::default());
        assert_eq!(plain, "otpauth://totp/a?secret=AA");
    }

    #[test]
    fn reads_what_ente_writes_and_refuses_garbage() {
        let ente = "otpauth://totp/x?secret=AA&codeDisplay=%7B%22pinned%22%3Afalse%2C%22tags%22%3A%5B%22Bank%22%2C%22Bank%22%5D%2C%22note%22%3A%22pin+1234%22%7D";
        let meta = read(ente).unwrap();
        assert_eq!(meta.tags, vec!["Bank".to_string()]);
        assert_eq!(meta.notes, "pin 1234");
        assert!(read("otpauth://totp/x?secret=AA&codeDisplay=%7Bnope").is_err());
        assert_eq!(
            read("otpauth://totp/x?secret=AA").unwrap(),
            EntryMeta::default()
        );
    }
}
