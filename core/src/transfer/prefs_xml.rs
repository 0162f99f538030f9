//! Android SharedPreferences files (`shared_prefs/*.xml`): `<map>` holding
//! `<string name="KEY">VALUE</string>` (and `<int>`, `<boolean>`, `<set>` … which the
//! importers here do not need). Only the named `<string>` elements are read, with XML's
//! five named entities and numeric character references decoded. One linear pass; the
//! number of strings is bounded, each value is a slice of the (size-bounded) file.

use zeroize::Zeroizing;

/// Most named strings read from one file.
pub const MAX_STRINGS: usize = 10_000;

/// The named `<string>` preferences of `xml`, in file order. Values may be secrets.
pub fn strings(xml: &str) -> Result<Vec<(String, Zeroizing<String>)>, String> {
    if !xml.contains("<map") {
        return Err("not a SharedPreferences file (no <map>)".to_owned());
    }
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<string") {
        rest = &rest[start + "<string".len()..];
        // `<string>` inside a `<set>` has no name; `<stringX` is another element.
        if !rest.starts_with([' ', '\t', '\r', '\n']) {
            continue;
        }
        let end = rest.find('>').ok_or("an unterminated <string> element")?;
        let attributes = &rest[..end];
        rest = &rest[end + 1..];
        let Some(name) = attribute(attributes, "name") else {
            continue;
        };
        let value = if attributes.trim_end().ends_with('/') {
            String::new()
        } else {
            let close = rest
                .find("</string>")
                .ok_or("a <string> without </string>")?;
            let raw = &rest[..close];
            rest = &rest[close + "</string>".len()..];
            decode(raw)?
        };
        if found.len() == MAX_STRINGS {
            return Err(format!("more than {MAX_STRINGS} preferences"));
        }
        found.push((decode(name)?, Zeroizing::new(value)));
    }
    Ok(found)
}

/// The raw value of `key="…"` (or `key='…'`) in an element's attribute text.
fn attribute<'a>(attributes: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        let at = rest.find(key)?;
        let before = rest[..at].chars().last();
        let after = rest[at + key.len()..].trim_start();
        rest = &rest[at + key.len()..];
        if !before.is_none_or(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let inner = &value[1..];
        return inner.find(quote).map(|end| &inner[..end]);
    }
}

/// XML text with its entity and character references decoded.
fn decode(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..]
            .find(';')
            .filter(|s| *s <= 12)
            .ok_or("a bare & in the XML")?;
        let entity = &rest[amp + 1..amp + semi];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => character_reference(entity).ok_or("an unknown XML entity")?,
        });
        rest = &rest[amp + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `#65` or `#x41` as the character it names.
fn character_reference(entity: &str) -> Option<char> {
    let number = entity.strip_prefix('#')?;
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_strings_and_decodes_references() {
        let xml = r#"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<map>
    <int name="count" value="2" />
    <string name="a">x &amp; y &lt;z&gt; &#65;&#x42;</string>
    <set name="s"><string>in a set</string></set>
    <string name='b' />
    <stringy name="c">no</stringy>
</map>"#;
        let found = strings(xml).unwrap();
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "x & y <z> AB"), ("b", "")]);
    }

    #[test]
    fn the_number_of_strings_is_bounded() {
        let many = format!(
            "<map>{}</map>",
            "<string name=\"k\">v</string>".repeat(MAX_STRINGS + 1)
        );
        let error = strings(&many).unwrap_err();
        assert!(error.contains("more than 10000"), "{error}");
        let enough = format!(
            "<map>{}</map>",
            "<string name=\"k\">v</string>".repeat(MAX_STRINGS)
        );
        assert_eq!(strings(&enough).unwrap().len(), MAX_STRINGS);
    }

    #[test]
    fn refuses_broken_files() {
        assert!(strings("hello").is_err());
        assert!(strings(r#"<map><string name="a">open"#).is_err());
        assert!(strings(r#"<map><string name="a">&bogus;</string></map>"#).is_err());
        assert!(strings(r#"<map><string name="a">&#xFFFFFFFF;</string></map>"#).is_err());
    }
}
