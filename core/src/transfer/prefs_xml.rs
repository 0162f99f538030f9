//! Android SharedPreferences files (`shared_prefs/*.xml`), as several apps keep their
//! accounts in them (FreeOTP's `tokens.xml`, TOTP Authenticator's preferences, FreeOTP 2's
//! `tokenBackup.xml`). The layout is the one `XmlUtils.writeMapXml` writes (AOSP
//! `com.android.internal.util.XmlUtils`):
//!
//! ```text
//! <?xml version='1.0' encoding='utf-8' standalone='yes' ?>
//! <map>
//!     <string name="key">text, entities escaped</string>
//!     <int name="n" value="3" />   (also long, float, boolean)
//!     <set name="s"><string>a</string></set>
//!     <null name="x" />
//! </map>
//! ```
//!
//! A full XML parser is not needed for this one shape, and a small reader bounds its work:
//! one pass over the text, at most [`MAX_PREFERENCES`] entries, no DTD (entity declarations
//! are refused, so no entity expansion), only the five predefined entities and character
//! references.

use super::{ImportError, ImportFormat};

/// Most preferences one file may hold; apps store one per account at most, plus settings.
pub const MAX_PREFERENCES: usize = 100_000;

/// One preference's value. Values may be secrets: `Debug` shows their sizes only, and
/// [`Prefs`] wipes them when dropped.
#[derive(Clone, PartialEq, Eq)]
pub enum PrefValue {
    /// `<string>` text, entities decoded.
    String(String),
    /// `<int>`, `<long>`, `<float>`, `<boolean>`: the element name and its `value` text.
    Scalar { kind: String, value: String },
    /// `<set>` of strings.
    Set(Vec<String>),
    /// `<null>`.
    Null,
}

impl std::fmt::Debug for PrefValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrefValue::String(text) => write!(f, "String({} bytes)", text.len()),
            PrefValue::Scalar { kind, .. } => write!(f, "Scalar({kind})"),
            PrefValue::Set(items) => write!(f, "Set({} items)", items.len()),
            PrefValue::Null => f.write_str("Null"),
        }
    }
}

/// One `<… name="…">` element of the `<map>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pref {
    pub name: String,
    pub value: PrefValue,
}

/// A SharedPreferences file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefs {
    pub entries: Vec<Pref>,
}

impl Drop for Prefs {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for pref in &mut self.entries {
            match &mut pref.value {
                PrefValue::String(text) => text.zeroize(),
                PrefValue::Set(items) => items.iter_mut().for_each(Zeroize::zeroize),
                PrefValue::Scalar { value, .. } => value.zeroize(),
                PrefValue::Null => {}
            }
        }
    }
}

impl Prefs {
    /// The `<string>` called `name` (the last one, as Android's loader keeps).
    pub fn string(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find_map(|pref| match &pref.value {
                PrefValue::String(text) if pref.name == name => Some(text.as_str()),
                _ => None,
            })
    }

    /// Every `<string>` as (name, text), in file order.
    pub fn strings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().filter_map(|pref| match &pref.value {
            PrefValue::String(text) => Some((pref.name.as_str(), text.as_str())),
            _ => None,
        })
    }
}

/// Whether `text` looks like a SharedPreferences file: a `<map>` root after the optional
/// declaration and comments. Cheap: looks at the start only.
pub fn looks_like_prefs(text: &str) -> bool {
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            match after.find("?>") {
                Some(end) => rest = after[end + 2..].trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = after[end + 3..].trim_start(),
                None => return false,
            }
        } else {
            return rest.starts_with("<map>")
                || rest.starts_with("<map ")
                || rest.starts_with("<map/>");
        }
    }
}

/// Parses a SharedPreferences file; `format` names the export in errors.
pub fn parse(format: ImportFormat, bytes: &[u8]) -> Result<Prefs, ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ImportError::invalid(format, "the preferences file is not UTF-8"))?;
    let mut reader = Reader {
        text,
        at: 0,
        format,
    };
    reader.prolog()?;
    reader.parse_map()
}

/// A cursor over the XML text.
struct Reader<'a> {
    text: &'a str,
    at: usize,
    format: ImportFormat,
}

/// A start tag: its name, attributes and whether it closed itself (`<x … />`).
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
    empty: bool,
}

impl Tag {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Most attributes read on one element (real ones have one or two).
const MAX_ATTRIBUTES: usize = 8;

impl<'a> Reader<'a> {
    fn error(&self, reason: &str) -> ImportError {
        ImportError::invalid(
            self.format,
            format!("preferences XML, byte {}: {reason}", self.at),
        )
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Skips past `end`, or fails if it never comes.
    fn skip_past(&mut self, end: &str) -> Result<(), ImportError> {
        let found = self
            .rest()
            .find(end)
            .ok_or_else(|| self.error("unterminated markup"))?;
        self.at += found + end.len();
        Ok(())
    }

    /// Skips the declaration, comments and whitespace before the root; refuses a DTD.
    fn prolog(&mut self) -> Result<(), ImportError> {
        if self.rest().starts_with('\u{feff}') {
            self.at += '\u{feff}'.len_utf8();
        }
        self.skip_misc()?;
        if self.rest().starts_with("<!DOCTYPE") {
            return Err(self.error("a DOCTYPE is not expected in a preferences file"));
        }
        Ok(())
    }

    /// Whitespace, comments and processing instructions between elements.
    fn skip_misc(&mut self) -> Result<(), ImportError> {
        loop {
            self.skip_space();
            if self.rest().starts_with("<?") {
                self.skip_past("?>")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->")?;
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, ImportError> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == '=')
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("a name was expected"));
        }
        self.at += len;
        Ok(rest[..len].to_owned())
    }

    /// A start tag at the cursor (the `<` included).
    fn start_tag(&mut self) -> Result<Tag, ImportError> {
        if !self.rest().starts_with('<') || self.rest().starts_with("</") {
            return Err(self.error("a start tag was expected"));
        }
        self.at += 1;
        let name = self.name()?;
        let mut attributes = Vec::new();
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.at += 2;
                return Ok(Tag {
                    name,
                    attributes,
                    empty: true,
                });
            }
            if rest.starts_with('>') {
                self.at += 1;
                return Ok(Tag {
                    name,
                    attributes,
                    empty: false,
                });
            }
            if attributes.len() == MAX_ATTRIBUTES {
                return Err(self.error("too many attributes"));
            }
            attributes.push(self.attribute()?);
        }
    }

    fn attribute(&mut self) -> Result<(String, String), ImportError> {
        let key = self.name()?;
        self.skip_space();
        if !self.rest().starts_with('=') {
            return Err(self.error("an attribute without a value"));
        }
        self.at += 1;
        self.skip_space();
        let quote = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| self.error("an unquoted attribute value"))?;
        self.at += 1;
        let end = self
            .rest()
            .find(quote)
            .ok_or_else(|| self.error("an unterminated attribute value"))?;
        let raw = &self.rest()[..end];
        self.at += end + 1;
        let value = decode_entities(raw).ok_or_else(|| self.error("an unknown entity"))?;
        Ok((key, value))
    }

    /// Character data up to the next tag, entities decoded (CDATA sections kept as is).
    fn text_content(&mut self) -> Result<String, ImportError> {
        let mut out = String::new();
        loop {
            let rest = self.rest();
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after
                    .find("]]>")
                    .ok_or_else(|| self.error("an unterminated CDATA section"))?;
                out.push_str(&after[..end]);
                self.at += "<![CDATA[".len() + end + 3;
                continue;
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->")?;
                continue;
            }
            let end = rest.find('<').unwrap_or(rest.len());
            let decoded =
                decode_entities(&rest[..end]).ok_or_else(|| self.error("an unknown entity"))?;
            out.push_str(&decoded);
            self.at += end;
            if end == rest.len() || !self.rest().starts_with("<!") {
                return Ok(out);
            }
        }
    }

    /// `</name>` at the cursor (after optional whitespace).
    fn end_tag(&mut self, name: &str) -> Result<(), ImportError> {
        self.skip_misc()?;
        let rest = self.rest();
        let closing = rest
            .strip_prefix("</")
            .and_then(|r| r.strip_prefix(name))
            .map(str::trim_start)
            .filter(|r| r.starts_with('>'))
            .ok_or_else(|| self.error("a closing tag was expected"))?;
        self.at = self.text.len() - closing.len() + 1;
        Ok(())
    }

    fn parse_map(&mut self) -> Result<Prefs, ImportError> {
        let root = self.start_tag()?;
        if root.name != "map" {
            return Err(self.error("the root element is not <map>"));
        }
        let mut prefs = Prefs::default();
        if root.empty {
            return Ok(prefs);
        }
        loop {
            self.skip_misc()?;
            if self.rest().starts_with("</") {
                self.end_tag("map")?;
                return Ok(prefs);
            }
            if prefs.entries.len() == MAX_PREFERENCES {
                return Err(self.error("more preferences than any app writes"));
            }
            let pref = self.entry()?;
            prefs.entries.push(pref);
        }
    }

    /// One child of `<map>`.
    fn entry(&mut self) -> Result<Pref, ImportError> {
        let tag = self.start_tag()?;
        let name = tag
            .attribute("name")
            .ok_or_else(|| self.error("a preference without a name"))?
            .to_owned();
        let value = match tag.name.as_str() {
            "string" if tag.empty => PrefValue::String(String::new()),
            "string" => {
                let text = self.text_content()?;
                self.end_tag("string")?;
                PrefValue::String(text)
            }
            "set" => PrefValue::Set(self.set_items(&tag)?),
            "null" => {
                self.close_if_open(&tag)?;
                PrefValue::Null
            }
            "int" | "long" | "float" | "boolean" => {
                let value = tag
                    .attribute("value")
                    .ok_or_else(|| self.error("a scalar preference without a value"))?
                    .to_owned();
                self.close_if_open(&tag)?;
                PrefValue::Scalar {
                    kind: tag.name.clone(),
                    value,
                }
            }
            _ => return Err(self.error("an element a preferences file does not hold")),
        };
        Ok(Pref { name, value })
    }

    fn close_if_open(&mut self, tag: &Tag) -> Result<(), ImportError> {
        if tag.empty {
            Ok(())
        } else {
            self.end_tag(&tag.name)
        }
    }

    /// The `<string>` children of a `<set>`.
    fn set_items(&mut self, tag: &Tag) -> Result<Vec<String>, ImportError> {
        let mut items = Vec::new();
        if tag.empty {
            return Ok(items);
        }
        loop {
            self.skip_misc()?;
            if self.rest().starts_with("</") {
                self.end_tag("set")?;
                return Ok(items);
            }
            let item = self.start_tag()?;
            if item.name != "string" {
                return Err(self.error("a set holds strings only"));
            }
            if item.empty {
                items.push(String::new());
            } else {
                items.push(self.text_content()?);
                self.end_tag("string")?;
            }
        }
    }
}

/// `text` with `&amp;`-style entities and `&#…;` references decoded; `None` for an entity
/// XML does not predefine (no DTD is read, so no other can be declared).
fn decode_entities(text: &str) -> Option<String> {
    if !text.contains('&') {
        return Some(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(';').filter(|end| *end <= 10)?;
        out.push(entity(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
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

    fn parse_ok(xml: &str) -> Prefs {
        parse(ImportFormat::FreeOtp, xml.as_bytes()).unwrap()
    }

    #[test]
    fn reads_every_kind_of_preference() {
        let prefs = parse_ok(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n\
             <!-- a comment -->\n\
             <string name=\"json\">{&quot;a&quot;:&#91;1&#x5D;, &apos;&lt;&amp;&gt;&apos;}</string>\n\
             <string name=\"empty\" />\n<int name=\"n\" value=\"-3\" />\n\
             <boolean name='b' value='true'></boolean>\n<null name=\"z\" />\n\
             <set name=\"s\"><string>x</string><string>y &amp; z</string></set>\n\
             <string name=\"cdata\"><![CDATA[<raw & text>]]></string>\n</map>\n",
        );
        assert_eq!(prefs.string("json"), Some("{\"a\":[1], '<&>'}"));
        assert_eq!(prefs.string("empty"), Some(""));
        assert_eq!(prefs.string("cdata"), Some("<raw & text>"));
        assert_eq!(prefs.entries.len(), 7);
        assert_eq!(
            prefs.entries[2].value,
            PrefValue::Scalar {
                kind: "int".into(),
                value: "-3".into()
            }
        );
        assert_eq!(prefs.entries[4].value, PrefValue::Null);
        assert_eq!(
            prefs.entries[5].value,
            PrefValue::Set(vec!["x".into(), "y & z".into()])
        );
        assert_eq!(parse_ok("<map />").entries, vec![]);
    }

    #[test]
    fn refuses_what_a_preferences_file_never_holds() {
        let refused = |xml: &str| parse(ImportFormat::FreeOtp, xml.as_bytes()).is_err();
        assert!(refused("<!DOCTYPE map [<!ENTITY a \"b\">]><map></map>"));
        assert!(refused("<map><string name=\"a\">&custom;</string></map>"));
        assert!(refused("<map><string name=\"a\">open</map>"));
        assert!(refused("<map><string>no name</string></map>"));
        assert!(refused("<other></other>"));
        assert!(refused("<map><script name=\"a\"/></map>"));
        assert!(refused("<map><string name=\"a\">x</string>"));
        assert!(refused("<map><int name=\"a\" /></map>"));
        let many = format!(
            "<map>{}</map>",
            "<null name=\"a\"/>".repeat(MAX_PREFERENCES + 1)
        );
        assert!(refused(&many));
    }

    #[test]
    fn recognises_the_shape_cheaply() {
        assert!(looks_like_prefs(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>"
        ));
        assert!(looks_like_prefs(
            "\u{feff}<!-- x --><map />".replace(" />", "/>").as_str()
        ));
        assert!(!looks_like_prefs("<mapping>"));
        assert!(!looks_like_prefs("{\"map\":1}"));
    }
}
