//! JSON parsing with a bound on the tree it builds. A parsed value takes up to 16 times
//! the bytes of its text (`[0,0,0,…]`: 2 bytes of text, 32 of `Value`), so the file-size
//! limit alone does not bound memory. One linear pass over the text counts the values it
//! can hold — at most one per `,`, `[`, `{` outside strings, plus one — and refuses a
//! document over [`MAX_JSON_VALUES`] before anything is allocated.

use serde::de::DeserializeOwned;

use super::{ImportError, ImportFormat};

/// Most JSON values one document may hold: some 60,000 accounts (an Aegis entry has about
/// 15), and a parsed tree of at most about 32 MiB (32 bytes a value) plus its strings.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// An upper bound on the number of values in `text`, or `None` once it exceeds `limit`.
fn values_within(text: &[u8], limit: usize) -> Option<usize> {
    let mut count = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b',' | b'[' | b'{' => {
                count += 1;
                if count > limit {
                    return None;
                }
            }
            _ => {}
        }
    }
    Some(count)
}

/// Parses `text` as `T` after checking the size of the tree it can build.
pub fn parse<T: DeserializeOwned>(format: ImportFormat, text: &[u8]) -> Result<T, ImportError> {
    if values_within(text, MAX_JSON_VALUES).is_none() {
        return Err(ImportError::invalid(
            format,
            format!("more than {MAX_JSON_VALUES} JSON values"),
        ));
    }
    serde_json::from_slice(text).map_err(|e| ImportError::invalid(format, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_structure_outside_strings_only() {
        assert_eq!(values_within(b"0", 10), Some(1));
        assert_eq!(values_within(b"[0,0,0]", 10), Some(4));
        assert_eq!(values_within(br#"{"a,[{":"\",{["}"#, 10), Some(2));
        assert_eq!(values_within(b"[[[[[[", 5), None);
    }

    #[test]
    fn refuses_a_document_with_too_many_values() {
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        let parsed: Result<serde_json::Value, _> = parse(ImportFormat::Aegis, many.as_bytes());
        assert!(matches!(parsed, Err(ImportError::InvalidFile { .. })));
        let fine: serde_json::Value = parse(ImportFormat::Aegis, b"[0,1,2]").unwrap();
        assert_eq!(fine, serde_json::json!([0, 1, 2]));
    }
}
