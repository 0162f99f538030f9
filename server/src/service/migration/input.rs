//! Reading an export file (CSV or JSON) into raw rows, each with the line it starts on. The
//! file is untrusted: its size, its longest CSV line and its number of rows are bounded before
//! any row is looked at, so a hostile file is refused with a clear reason instead of filling
//! memory; a row that cannot be read is a row failure, not the end of the run.

use std::io::Read;
use std::path::Path;

use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::ImportError;

/// Largest file read (a 100,000-user export is about 10 MiB).
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;
/// Most users in one file.
pub const MAX_ROWS: usize = 1_000_000;
/// Longest CSV line (a real row is well under 1 KiB).
pub const MAX_LINE_BYTES: usize = 4096;

/// The columns (CSV) or keys (JSON) the import reads; any other one is ignored.
pub const COLUMNS: [&str; 8] = [
    "authy_id",
    "email",
    "country_code",
    "cellphone",
    "custom_user_id",
    "created_at",
    "confirmed",
    "registered",
];
/// The columns a CSV file must have.
pub const REQUIRED: [&str; 4] = ["authy_id", "email", "country_code", "cellphone"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// From `--format`, else from the file's extension.
    pub fn choose(flag: Option<&str>, path: &Path) -> Result<Format, ImportError> {
        let name = match flag {
            Some(flag) => flag.to_ascii_lowercase(),
            None => path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase(),
        };
        match name.as_str() {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(ImportError::UnknownFormat),
        }
    }
}

/// One row as read: its first line (1-based) and each known column's text (`None` when absent
/// or empty), in the order of [`COLUMNS`]; or why it could not be read.
pub struct RawRow {
    pub line: u64,
    pub fields: Result<Fields, String>,
}

/// Each known column's text, in the order of [`COLUMNS`].
pub type Fields = [Option<String>; 8];

/// The whole file, at most [`MAX_FILE_BYTES`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, ImportError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > MAX_FILE_BYTES {
        return Err(ImportError::FileTooLarge);
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::FileTooLarge);
    }
    Ok(bytes)
}

/// Hands each row to `each` as it is read (so only checked rows are kept, not raw text).
pub fn rows(bytes: &[u8], format: Format, each: impl FnMut(RawRow)) -> Result<(), ImportError> {
    match format {
        Format::Csv => csv_rows(bytes, each),
        Format::Json => json_rows(bytes, each),
    }
}

/// Refuses a line longer than [`MAX_LINE_BYTES`] or more lines than rows allowed, before parsing.
fn check_lines(bytes: &[u8]) -> Result<(), ImportError> {
    let mut lines = 0usize;
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.len() > MAX_LINE_BYTES {
            return Err(ImportError::LineTooLong(index as u64 + 1));
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines += 1;
        }
        // One more for the header.
        if lines > MAX_ROWS + 1 {
            return Err(ImportError::TooManyRows);
        }
    }
    Ok(())
}

fn csv_rows(bytes: &[u8], mut each: impl FnMut(RawRow)) -> Result<(), ImportError> {
    check_lines(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| ImportError::Malformed(e.to_string()))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
        })
        .collect();
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing.join(", ")));
    }
    let positions = COLUMNS.map(|c| names.iter().position(|n| n == c));
    let mut record = csv::ByteRecord::new();
    // Lines are counted here, from each record's byte offset: the same for LF and CRLF files.
    let mut lines = LineCounter::default();
    loop {
        let before = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.iter().all(<[u8]>::is_empty) => continue,
            Ok(true) => {
                let start = record.position().map_or(before, |p| p.byte());
                each(RawRow {
                    line: lines.line_at(bytes, past_line_ends(bytes, start)),
                    fields: csv_fields(&record, &positions),
                })
            }
            Err(e) => each(RawRow {
                line: lines.line_at(bytes, past_line_ends(bytes, before)),
                fields: Err(format!("unreadable CSV: {e}")),
            }),
        }
    }
    Ok(())
}

fn csv_fields(record: &csv::ByteRecord, positions: &[Option<usize>; 8]) -> Result<Fields, String> {
    let mut fields: Fields = Default::default();
    for (slot, position) in fields.iter_mut().zip(positions) {
        let Some(bytes) = position.and_then(|p| record.get(p)) else {
            continue;
        };
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
        if !text.is_empty() {
            *slot = Some(text.to_owned());
        }
    }
    Ok(fields)
}

/// The first byte at or after `offset` that ends no line. With CRLF, the CSV reader ends a
/// record at `\r`, so the next record's offset points at the `\n` of the line before.
fn past_line_ends(bytes: &[u8], offset: u64) -> usize {
    let offset = usize::try_from(offset)
        .unwrap_or(bytes.len())
        .min(bytes.len());
    offset
        + bytes[offset..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count()
}

/// The line (1-based) of byte offsets that only grow, counting each byte once.
#[derive(Default)]
struct LineCounter {
    newlines: u64,
    counted_to: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let offset = offset.clamp(self.counted_to, bytes.len());
        self.newlines += bytes[self.counted_to..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.counted_to = offset;
        self.newlines + 1
    }
}

/// Collects the array's elements unparsed, refusing more than [`MAX_ROWS`].
struct BoundedElements;

impl<'de> Visitor<'de> for BoundedElements {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of user objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            if elements.len() == MAX_ROWS {
                return Err(serde::de::Error::custom(TOO_MANY_ROWS));
            }
            elements.push(element);
        }
        Ok(elements)
    }
}

const TOO_MANY_ROWS: &str = "too many rows";

fn json_rows(bytes: &[u8], mut each: impl FnMut(RawRow)) -> Result<(), ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ImportError::Malformed("the file is not UTF-8 text".into()))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let elements = deserializer
        .deserialize_seq(BoundedElements)
        .and_then(|elements| deserializer.end().map(|()| elements))
        .map_err(|e| match e.to_string().starts_with(TOO_MANY_ROWS) {
            true => ImportError::TooManyRows,
            false => ImportError::Malformed(e.to_string()),
        })?;
    let mut lines = LineCounter::default();
    for element in elements {
        // The element borrows from `text`: its offset gives its line.
        let offset = (element.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        each(RawRow {
            line: lines.line_at(bytes, offset),
            fields: json_fields(element),
        });
    }
    Ok(())
}

fn json_fields(element: &RawValue) -> Result<Fields, String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(element.get()).map_err(|_| "not a JSON object".to_owned())?;
    let mut fields: Fields = Default::default();
    for (slot, name) in fields.iter_mut().zip(COLUMNS) {
        *slot = match object.get(name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text)) if text.trim().is_empty() => None,
            Some(serde_json::Value::String(text)) => Some(text.trim().to_owned()),
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(serde_json::Value::Bool(flag)) => Some(flag.to_string()),
            Some(_) => return Err(format!("{name} must be a string or a number")),
        };
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, format: Format) -> Vec<(u64, Result<Fields, String>)> {
        let mut rows = Vec::new();
        super::rows(text.as_bytes(), format, |r| rows.push((r.line, r.fields))).unwrap();
        rows
    }

    #[test]
    fn a_csv_with_a_bom_crlf_and_a_quoted_line_break_keeps_its_line_numbers() {
        let text = "\u{feff}Email,AUTHY_ID,cellphone,country_code\r\n\
                    a@example.com,1,5550101,1\r\n\
                    \"b\nc@example.com\",2,5550102,1\r\n\
                    d@example.com,3,5550103,1\r\n";
        let rows = read(text, Format::Csv);
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 3, 5]);
        let first = rows[0].1.as_ref().unwrap();
        assert_eq!(first[0].as_deref(), Some("1"));
        assert_eq!(first[1].as_deref(), Some("a@example.com"));
        assert_eq!(first[4], None);
    }

    #[test]
    fn json_elements_carry_the_line_they_start_on() {
        let text = "[{\"authy_id\": 1},\n\n {\"authy_id\": \"2\",\n \"email\": null}, 7]";
        let rows = read(text, Format::Json);
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert_eq!(rows[1].1.as_ref().unwrap()[0].as_deref(), Some("2"));
        assert_eq!(rows[1].1.as_ref().unwrap()[1], None);
        assert!(rows[2].1.is_err());
    }

    #[test]
    fn the_format_comes_from_the_flag_then_the_extension() {
        let path = Path::new("export.CSV");
        assert_eq!(Format::choose(None, path).unwrap(), Format::Csv);
        assert_eq!(Format::choose(Some("json"), path).unwrap(), Format::Json);
        assert!(Format::choose(None, Path::new("export.txt")).is_err());
    }
}
