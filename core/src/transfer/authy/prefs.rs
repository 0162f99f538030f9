//! A reader for Android SharedPreferences files, just enough for the files apps keep their
//! tokens in: `<?xml …?>`, one `<map>`, and in it `<string name="…">text</string>` entries
//! (other entries — `<int/>`, `<boolean/>`, `<set>…</set>` — are skipped). Text and
//! attribute values are entity-decoded (`&quot;`, `&amp;`, `&lt;`, `&gt;`, `&apos;`,
//! `&#…;`). Android writes these files with `XmlSerializer`, which produces exactly this
//! subset; anything else (DOCTYPE, CDATA, nested maps) is refused rather than guessed at.
//!
//! Bounds: the text is the import file (≤ 16 MiB), read in one forward pass; at most
//! [`MAX_PREFERENCES`] entries are read, and a decoded value is never longer than its text.

/// Most entries read from one preferences file (Authy's have a handful).
pub const MAX_PREFERENCES: usize = 1_000;

/// One `<string>` entry of the map.
#[derive(Clone, PartialEq, Eq)]
pub struct StringPreference {
    pub name: String,
    pub value: String,
}

/// The value is left out: an app's token list holds its secrets.
impl std::fmt::Debug for StringPreference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StringPreference")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .finish()
    }
}

/// The `<string>` entries of a SharedPreferences file, or why it is not one.
pub fn strings(text: &str) -> Result<Vec<StringPreference>, &'static str> {
    let mut rest = skip_prolog(text)?;
    rest = rest
        .strip_prefix("<map")
        .ok_or("no <map> element")?
        .trim_start();
    if rest.starts_with("/>") {
        return Ok(Vec::new());
    }
    rest = rest.strip_prefix('>').ok_or("a malformed <map> tag")?;
    let mut found = Vec::new();
    let mut entries = 0usize;
    loop {
        rest = skip_space_and_comments(rest)?;
        if rest.starts_with("</map>") {
            return Ok(found);
        }
        entries += 1;
        if entries > MAX_PREFERENCES {
            return Err("more preferences than any app writes");
        }
        let (element, after) = element(rest)?;
        if let Some(preference) = element {
            found.push(preference);
        }
        rest = after;
    }
}

/// The text after the XML declaration (if any) and leading whitespace or comments.
fn skip_prolog(text: &str) -> Result<&str, &'static str> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let text = match text.strip_prefix("<?xml") {
        Some(declaration) => {
            let end = declaration
                .find("?>")
                .ok_or("an unterminated XML declaration")?;
            &declaration[end + 2..]
        }
        None => text,
    };
    skip_space_and_comments(text)
}

fn skip_space_and_comments(mut text: &str) -> Result<&str, &'static str> {
    loop {
        text = text.trim_start();
        match text.strip_prefix("<!--") {
            Some(comment) => {
                let end = comment.find("-->").ok_or("an unterminated comment")?;
                text = &comment[end + 3..];
            }
            None => return Ok(text),
        }
    }
}

/// Reads one child element of the map: a `<string>` yields its entry, anything else is
/// skipped. Returns the text after the element.
fn element(text: &str) -> Result<(Option<StringPreference>, &str), &'static str> {
    let body = text.strip_prefix('<').ok_or("text outside an element")?;
    let name_end = body
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .ok_or("an unterminated element")?;
    let tag = &body[..name_end];
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("an element that is not a preference");
    }
    let head_end = body.find('>').ok_or("an unterminated element")?;
    let head = &body[name_end..head_end];
    let after_head = &body[head_end + 1..];
    let self_closing = head.ends_with('/');
    let attributes = head.strip_suffix('/').unwrap_or(head);
    let content_end = |rest: &str| -> Result<(usize, usize), &'static str> {
        let close = format!("</{tag}>");
        let at = rest.find(&close).ok_or("an unclosed element")?;
        Ok((at, at + close.len()))
    };
    if tag != "string" {
        if self_closing {
            return Ok((None, after_head));
        }
        let (_, end) = content_end(after_head)?;
        return Ok((None, &after_head[end..]));
    }
    let name = attribute(attributes, "name")?.ok_or("a <string> without a name")?;
    if self_closing {
        let value = String::new();
        return Ok((Some(StringPreference { name, value }), after_head));
    }
    let (at, end) = content_end(after_head)?;
    let value = decode_entities(&after_head[..at])?;
    Ok((Some(StringPreference { name, value }), &after_head[end..]))
}

/// The decoded value of attribute `wanted` in a tag's attribute text.
fn attribute(mut text: &str, wanted: &str) -> Result<Option<String>, &'static str> {
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Ok(None);
        }
        let equals = text.find('=').ok_or("an attribute without a value")?;
        let key = text[..equals].trim_end();
        let value_text = text[equals + 1..].trim_start();
        let quote = value_text
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
            .ok_or("an unquoted attribute")?;
        let value_end = value_text[1..]
            .find(quote)
            .ok_or("an unterminated attribute")?;
        if key == wanted {
            return decode_entities(&value_text[1..1 + value_end]).map(Some);
        }
        text = &value_text[value_end + 2..];
    }
}

/// Replaces XML's predefined and numeric character references.
fn decode_entities(text: &str) -> Result<String, &'static str> {
    if text.contains("<![CDATA[") {
        return Err("CDATA sections are not written by SharedPreferences");
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semicolon = after
            .find(';')
            .filter(|at| *at <= 10)
            .ok_or("a malformed character reference")?;
        out.push(entity(&after[..semicolon]).ok_or("an unknown character reference")?);
        rest = &after[semicolon + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "quot" => Some('"'),
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str) -> StringPreference {
        StringPreference {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn reads_the_string_entries_of_a_map() {
        let xml = "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n\
            <!-- a comment -->\n<int name=\"key_version\" value=\"121\" />\n\
            <set name=\"s\"><string>in a set</string></set>\n\
            <string name=\"a&amp;b\">[{&quot;x&quot;:&#49;&#x32;}] &lt;&gt;&apos;</string>\n\
            <string name='empty' />\n<boolean name=\"b\" value=\"true\" />\n</map>\n";
        assert_eq!(
            strings(xml),
            Ok(vec![entry("a&b", "[{\"x\":12}] <>'"), entry("empty", "")])
        );
        assert_eq!(strings("<map />"), Ok(vec![]));
    }

    #[test]
    fn refuses_what_shared_preferences_does_not_write() {
        for bad in [
            "",
            "<notmap></notmap>",
            "<map><string name=\"a\">x</map>",
            "<map><string>no name</string></map>",
            "<map><string name=\"a\">&bogus;</string></map>",
            "<map><string name=\"a\">&amp</string></map>",
            "<map><string name=\"a\"><![CDATA[x]]></string></map>",
            "<map><string name=a>x</string></map>",
            "<map>text</map>",
            "<map><string name=\"a\">x</string>",
            "<?xml version='1.0'",
            "<map><!-- open",
        ] {
            assert!(strings(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_count_is_bounded() {
        let many = format!(
            "<map>{}</map>",
            "<int name=\"i\" value=\"1\"/>".repeat(MAX_PREFERENCES + 1)
        );
        assert!(strings(&many).is_err());
        let fine = format!(
            "<map>{}</map>",
            "<int name=\"i\" value=\"1\"/>".repeat(MAX_PREFERENCES)
        );
        assert_eq!(strings(&fine), Ok(vec![]));
    }
}
