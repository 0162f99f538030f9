//! What an approval request may put on the phone's screen (docs/device-protocol.md,
//! Displayable content).
//!
//! The phone shows the bank's message and each detail as one `key: value` line, and the
//! user's signature binds exactly that text. Text that renders differently from what it says
//! would let a bank page (or anyone who controls a detail, such as a payee name) forge lines:
//! `"Hermione Granger\nAmount: 7.00 EUR"` draws a fake amount line, a right-to-left override
//! reorders digits, a zero-width space makes two keys look alike. So one definition decides
//! what is displayable; the server refuses the rest at creation and the device refuses to
//! show what the server should have refused, even when its signature verifies.
//!
//! The check is linear in the input and looks at lengths before it reads any character, so it
//! is safe on untrusted input of any size.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{is_combining_mark, is_public_assigned};

/// Longest message, in characters (Unicode scalar values); the server's limit since issue 6.
pub const MAX_MESSAGE_CHARS: usize = 1024;
/// Most details one request may show.
pub const MAX_DETAILS: usize = 64;
/// Longest detail key, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// Longest detail value, in characters.
pub const MAX_VALUE_CHARS: usize = 512;
/// Most combining marks in a row on one base character ("Zalgo" text spills over lines).
pub const MAX_COMBINING_MARKS: usize = 4;

/// Which text an [`UndisplayableContent`] is about. Details count from 0, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayField {
    Message,
    DetailKey(usize),
    DetailValue(usize),
}

impl std::fmt::Display for DisplayField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisplayField::Message => write!(f, "message"),
            DisplayField::DetailKey(index) => write!(f, "key of detail {index}"),
            DisplayField::DetailValue(index) => write!(f, "value of detail {index}"),
        }
    }
}

/// Why a character cannot be displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForbiddenCharacter {
    /// C0 and C1 controls and DEL: line feed, carriage return, tab, NEL, escape, …
    Control,
    /// U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR: line breaks without being controls.
    LineBreak,
    /// Bidirectional marks, embeddings, overrides and isolates: they reorder what follows.
    Bidirectional,
    /// Format and default-ignorable characters that draw nothing (zero-width space and
    /// joiners, word joiner, BOM, soft hyphen, variation selectors, tags, …).
    Invisible,
    /// Unassigned code points, noncharacters and private-use characters: no agreed glyph.
    Unassigned,
}

impl std::fmt::Display for ForbiddenCharacter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ForbiddenCharacter::Control => "a control character",
            ForbiddenCharacter::LineBreak => "a line or paragraph separator",
            ForbiddenCharacter::Bidirectional => "a bidirectional control",
            ForbiddenCharacter::Invisible => "an invisible formatting character",
            ForbiddenCharacter::Unassigned => "an unassigned or private-use code point",
        })
    }
}

/// Why an approval request's message or details cannot be shown. The message names the field
/// and the reason, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UndisplayableContent {
    #[error("the {field} is empty")]
    Empty { field: DisplayField },
    #[error("the {field} is longer than {max} characters")]
    TooLong { field: DisplayField, max: usize },
    #[error("there are more than {max} details")]
    TooManyDetails { max: usize },
    #[error("the {field} starts or ends with white space")]
    SurroundingWhitespace { field: DisplayField },
    #[error("the {field} contains {class} (U+{code_point:04X}) at character {position}")]
    Forbidden {
        field: DisplayField,
        class: ForbiddenCharacter,
        code_point: u32,
        position: usize,
    },
    #[error("the {field} has more than {max} combining marks in a row at character {position}")]
    TooManyCombiningMarks {
        field: DisplayField,
        max: usize,
        position: usize,
    },
    #[error(
        "details {first} and {second} have the same key (compared ignoring case, width and white space)"
    )]
    DuplicateKey { first: usize, second: usize },
}

/// Checks that `message` and `details` (in display order) are displayable: the rules of
/// docs/device-protocol.md, Displayable content.
pub fn check_displayable(
    message: &str,
    details: &[(String, String)],
) -> Result<(), UndisplayableContent> {
    if details.len() > MAX_DETAILS {
        return Err(UndisplayableContent::TooManyDetails { max: MAX_DETAILS });
    }
    check_text(DisplayField::Message, message, MAX_MESSAGE_CHARS)?;
    for (index, (key, value)) in details.iter().enumerate() {
        check_text(DisplayField::DetailKey(index), key, MAX_KEY_CHARS)?;
        check_text(DisplayField::DetailValue(index), value, MAX_VALUE_CHARS)?;
    }
    check_unique_keys(details)
}

/// One field: length first (bytes bound characters, so huge input stops here), then every
/// character, then the ends.
fn check_text(field: DisplayField, text: &str, max: usize) -> Result<(), UndisplayableContent> {
    // A character is at most 4 bytes: more than 4 × max bytes is too long without counting.
    if text.len() > 4 * max || text.chars().count() > max {
        return Err(UndisplayableContent::TooLong { field, max });
    }
    if text.trim().is_empty() {
        return Err(UndisplayableContent::Empty { field });
    }
    let mut combining_run = 0;
    for (position, c) in text.chars().enumerate() {
        if let Some(class) = forbidden(c) {
            return Err(UndisplayableContent::Forbidden {
                field,
                class,
                code_point: u32::from(c),
                position,
            });
        }
        combining_run = if is_combining_mark(c) {
            combining_run + 1
        } else {
            0
        };
        if combining_run > MAX_COMBINING_MARKS {
            return Err(UndisplayableContent::TooManyCombiningMarks {
                field,
                max: MAX_COMBINING_MARKS,
                position,
            });
        }
    }
    if text.trim() != text {
        return Err(UndisplayableContent::SurroundingWhitespace { field });
    }
    Ok(())
}

/// The class of a character that must not be displayed, or `None` for a displayable one.
fn forbidden(c: char) -> Option<ForbiddenCharacter> {
    if c.is_control() {
        return Some(ForbiddenCharacter::Control);
    }
    let code = u32::from(c);
    match code {
        0x2028 | 0x2029 => Some(ForbiddenCharacter::LineBreak),
        0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 => {
            Some(ForbiddenCharacter::Bidirectional)
        }
        _ if is_invisible(code) => Some(ForbiddenCharacter::Invisible),
        _ if !is_public_assigned(c) => Some(ForbiddenCharacter::Unassigned),
        _ => None,
    }
}

/// Default_Ignorable_Code_Point and the remaining format (Cf) characters of Unicode 16,
/// bidirectional controls aside (matched before).
fn is_invisible(code: u32) -> bool {
    matches!(
        code,
        0x00AD
            | 0x034F
            | 0x0600..=0x0605
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200D
            | 0x2060..=0x2065
            | 0x206A..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Keys must differ as a reader sees them: compared after compatibility normalisation (NFKC:
/// full-width and ligature forms become plain letters), case folding and white-space runs
/// collapsed to one space.
fn check_unique_keys(details: &[(String, String)]) -> Result<(), UndisplayableContent> {
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(details.len());
    for (index, (key, _)) in details.iter().enumerate() {
        if let Some(first) = seen.insert(comparable_key(key), index) {
            return Err(UndisplayableContent::DuplicateKey {
                first,
                second: index,
            });
        }
    }
    Ok(())
}

/// The form two keys are compared in: NFKC, then full case folding (lowercase, with `ß` → `ss`
/// and final sigma → sigma as case folding does), white-space runs as one space, NFC again.
fn comparable_key(key: &str) -> String {
    let mut folded = String::with_capacity(key.len());
    let mut in_space = false;
    for c in key.nfkc().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            in_space = true;
            continue;
        }
        if in_space && !folded.is_empty() {
            folded.push(' ');
        }
        in_space = false;
        match c {
            'ß' => folded.push_str("ss"),
            'ς' => folded.push('σ'),
            other => folded.push(other),
        }
    }
    folded.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_authy_documentation_requests_are_displayable() {
        // docs/authy-docs: psd2-compliant-authentication.md and the OneTouch examples.
        check_displayable(
            "Please approve the following payment.",
            &details(&[
                ("Account Number", "8230985"),
                ("Payee", "Hermione Granger"),
                ("Amount", "713.00"),
                ("Currency", "Galleons"),
            ]),
        )
        .unwrap();
        check_displayable(
            "Requesting War Room Access",
            &details(&[("Location", "California, USA"), ("Room", "VR Room 1")]),
        )
        .unwrap();
        // Other scripts, accents (composed and decomposed), emoji and non-breaking spaces
        // inside a value are ordinary text.
        check_displayable(
            "Zahlung bestätigen — 支払いを承認 — تأكيد الدفع",
            &details(&[
                ("Montant", "713,00\u{202F}€"),
                ("Bénéficiaire", "Zoe\u{0308} Ðorđević 🙂"),
                ("Straße", "Königsallee 1"),
            ]),
        )
        .unwrap();
    }

    #[test]
    fn a_line_break_in_a_value_cannot_forge_a_line() {
        let error = check_displayable(
            "Approve payment",
            &details(&[
                ("Payee", "Hermione Granger\nAmount: 7.00 EUR"),
                ("Amount", "713.00 EUR"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            error,
            UndisplayableContent::Forbidden {
                field: DisplayField::DetailValue(0),
                class: ForbiddenCharacter::Control,
                code_point: 0x0A,
                position: 16,
            }
        );
        let text = error.to_string();
        assert_eq!(
            text,
            "the value of detail 0 contains a control character (U+000A) at character 16"
        );
        assert!(!text.contains("Hermione") && !text.contains("7.00"));
    }

    #[test]
    fn every_listed_character_is_refused_by_class() {
        let cases = [
            ('\t', ForbiddenCharacter::Control),
            ('\r', ForbiddenCharacter::Control),
            ('\u{7F}', ForbiddenCharacter::Control),
            ('\u{85}', ForbiddenCharacter::Control),
            ('\u{9B}', ForbiddenCharacter::Control),
            ('\u{2028}', ForbiddenCharacter::LineBreak),
            ('\u{2029}', ForbiddenCharacter::LineBreak),
            ('\u{061C}', ForbiddenCharacter::Bidirectional),
            ('\u{200E}', ForbiddenCharacter::Bidirectional),
            ('\u{200F}', ForbiddenCharacter::Bidirectional),
            ('\u{202A}', ForbiddenCharacter::Bidirectional),
            ('\u{202E}', ForbiddenCharacter::Bidirectional),
            ('\u{2066}', ForbiddenCharacter::Bidirectional),
            ('\u{2069}', ForbiddenCharacter::Bidirectional),
            ('\u{200B}', ForbiddenCharacter::Invisible),
            ('\u{200C}', ForbiddenCharacter::Invisible),
            ('\u{200D}', ForbiddenCharacter::Invisible),
            ('\u{2060}', ForbiddenCharacter::Invisible),
            ('\u{FEFF}', ForbiddenCharacter::Invisible),
            ('\u{00AD}', ForbiddenCharacter::Invisible),
            ('\u{FE0F}', ForbiddenCharacter::Invisible),
            ('\u{E0041}', ForbiddenCharacter::Invisible),
            ('\u{1D173}', ForbiddenCharacter::Invisible),
            ('\u{E000}', ForbiddenCharacter::Unassigned),
            ('\u{FDD0}', ForbiddenCharacter::Unassigned),
            ('\u{FFFF}', ForbiddenCharacter::Unassigned),
            ('\u{10FFFF}', ForbiddenCharacter::Unassigned),
        ];
        for (c, class) in cases {
            assert_eq!(forbidden(c), Some(class), "U+{:04X}", u32::from(c));
            let value = format!("713{c}00");
            assert!(
                matches!(
                    check_displayable("m", &details(&[("Amount", &value)])),
                    Err(UndisplayableContent::Forbidden { class: got, position: 3, .. }) if got == class
                ),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for c in [
            'a', ' ', '\u{A0}', '\u{202F}', '€', 'ß', '\u{0301}', '🙂', 'ي',
        ] {
            assert_eq!(forbidden(c), None, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn keys_collide_when_a_reader_cannot_tell_them_apart() {
        for (a, b) in [
            ("Amount", "amount"),
            ("Amount", "AMOUNT"),
            ("Amount", "Ａｍｏｕｎｔ"),
            ("Account Number", "account   number"),
            ("Straße", "STRASSE"),
            ("Café", "Cafe\u{0301}"),
            ("ΣΟΦΟΣ", "σοφος"),
        ] {
            assert_eq!(
                check_displayable("m", &details(&[(a, "1"), ("Payee", "x"), (b, "2")])),
                Err(UndisplayableContent::DuplicateKey {
                    first: 0,
                    second: 2
                }),
                "{a:?} and {b:?}"
            );
        }
        check_displayable("m", &details(&[("Amount", "1"), ("Amount due", "2")])).unwrap();
    }

    #[test]
    fn ends_emptiness_lengths_and_counts_are_bounded() {
        let field = DisplayField::DetailKey(0);
        assert_eq!(
            check_displayable("m", &details(&[("Amount ", "1")])),
            Err(UndisplayableContent::SurroundingWhitespace { field })
        );
        assert_eq!(
            check_displayable("m", &details(&[("\u{3000}Amount", "1")])),
            Err(UndisplayableContent::SurroundingWhitespace { field })
        );
        assert_eq!(
            check_displayable("m", &details(&[("  ", "1")])),
            Err(UndisplayableContent::Empty { field })
        );
        assert_eq!(
            check_displayable("", &[]),
            Err(UndisplayableContent::Empty {
                field: DisplayField::Message
            })
        );
        let long = "x".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            check_displayable(&long, &[]),
            Err(UndisplayableContent::TooLong {
                field: DisplayField::Message,
                max: MAX_MESSAGE_CHARS
            })
        );
        // At the limit, counted in characters, not bytes.
        check_displayable(&"€".repeat(MAX_MESSAGE_CHARS), &[]).unwrap();
        let value = "v".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            check_displayable("m", &details(&[("k", &value)])),
            Err(UndisplayableContent::TooLong {
                field: DisplayField::DetailValue(0),
                max: MAX_VALUE_CHARS
            })
        );
        let many: Vec<(String, String)> = (0..=MAX_DETAILS)
            .map(|i| (format!("k{i}"), "v".into()))
            .collect();
        assert_eq!(
            check_displayable("m", &many),
            Err(UndisplayableContent::TooManyDetails { max: MAX_DETAILS })
        );
        check_displayable("m", &many[..MAX_DETAILS]).unwrap();
        let zalgo = format!("a{}", "\u{0301}".repeat(MAX_COMBINING_MARKS + 1));
        assert_eq!(
            check_displayable(&zalgo, &[]),
            Err(UndisplayableContent::TooManyCombiningMarks {
                field: DisplayField::Message,
                max: MAX_COMBINING_MARKS,
                position: MAX_COMBINING_MARKS + 1
            })
        );
    }

    #[test]
    fn a_huge_field_is_refused_by_its_length_alone() {
        // 1 MiB of line feeds: refused by the byte bound, before any character is looked at.
        let huge = "\n".repeat(1 << 20);
        assert_eq!(
            check_displayable("m", &details(&[("k", &huge)])),
            Err(UndisplayableContent::TooLong {
                field: DisplayField::DetailValue(0),
                max: MAX_VALUE_CHARS
            })
        );
    }
}
