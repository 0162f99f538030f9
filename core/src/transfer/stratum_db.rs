//! Stratum's internal SQLite database (`databases/authenticator.db3`, what Aegis reads from a
//! rooted phone): the `authenticator` table (`type`, `icon`, `issuer`, `username`, `secret`,
//! `pin`, `algorithm`, `digits`, `period`, `counter`, …) and, when present, `category` and
//! `authenticatorcategory`, the columns `Entity/*.cs` of the app's source declares.
//!
//! The file comes from elsewhere: it is read by [`super::sqlite_file`], the one reader of
//! untrusted SQLite files (private temporary copy, read-only with SQLite's defensive
//! settings, only ordinary tables, a bound on virtual-machine steps and on the bytes of
//! values, a database last written in WAL mode read as it stands), at most [`MAX_ROWS`]
//! rows per table. Older databases may lack columns: a missing one reads as NULL.

use super::sqlite_file::{Database, SQLITE_MAGIC, SqlValue, Table};
use super::stratum::{Contents, Row, categories_by_secret, category_names};
use super::{ImportError, ImportFormat};
use zeroize::Zeroizing;

const FORMAT: ImportFormat = ImportFormat::Stratum;

/// Most rows read from one table: far above any real authenticator list.
pub const MAX_ROWS: usize = 100_000;

/// How far into the file the schema is looked for: the first pages hold `sqlite_master`.
const SCHEMA_PROBE_LEN: usize = 64 * 1024;

/// Whether `data` is an SQLite database that declares Stratum's `authenticator` table (the
/// schema's SQL text is stored verbatim, its first two keywords upper-cased).
pub(crate) fn looks_like_database(data: &[u8]) -> bool {
    if !data.starts_with(SQLITE_MAGIC) {
        return false;
    }
    let head = &data[..data.len().min(SCHEMA_PROBE_LEN)];
    [
        &b"CREATE TABLE \"authenticator\""[..],
        b"CREATE TABLE authenticator(",
        b"CREATE TABLE authenticator (",
    ]
    .iter()
    .any(|needle| head.windows(needle.len()).any(|w| w == *needle))
}

/// Reads the database's authenticators and categories.
pub(crate) fn read(data: &[u8]) -> Result<Contents, ImportError> {
    let database = Database::open(FORMAT, data)?;
    if !database.has_table("authenticator")? {
        return Err(ImportError::invalid(
            FORMAT,
            "no authenticator table: not a Stratum database",
        ));
    }
    let authenticators = database.table("authenticator", MAX_ROWS)?;
    for required in ["type", "secret"] {
        if !authenticators.has_column(required) {
            return Err(ImportError::invalid(
                FORMAT,
                format!("the authenticator table has no {required} column"),
            ));
        }
    }
    let rows = (0..authenticators.len())
        .map(|row| row_from(&authenticators, row))
        .collect();
    let names = optional_pairs(&database, "category", ["id", "name"])?;
    let links = optional_pairs(
        &database,
        "authenticatorcategory",
        ["authenticatorSecret", "categoryId"],
    )?;
    let names = category_names(names.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let categories =
        categories_by_secret(links.iter().map(|(a, b)| (a.as_str(), b.as_str())), &names);
    Ok(Contents { rows, categories })
}

/// The (first, second) text pairs of `table`, rows missing either left out; none when the
/// table is absent (older databases).
fn optional_pairs(
    database: &Database,
    table: &'static str,
    [first, second]: [&str; 2],
) -> Result<Vec<(String, String)>, ImportError> {
    if !database.has_table(table)? {
        return Ok(Vec::new());
    }
    let rows = database.table(table, MAX_ROWS)?;
    Ok((0..rows.len())
        .filter_map(|row| {
            let a = text(rows.value(row, first), first).ok()??;
            let b = text(rows.value(row, second), second).ok()??;
            Some((a, b))
        })
        .collect())
}

/// A text cell; NULL or a missing column is `None`, another type fails the row.
fn text(value: Option<&SqlValue>, what: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(SqlValue::Null) => Ok(None),
        Some(SqlValue::Text(text)) => Ok(Some(text.as_str().to_owned())),
        Some(_) => Err(format!("{what} is not text")),
    }
}

/// An integer cell; NULL or a missing column is `None`, another type fails the row.
fn integer(value: Option<&SqlValue>, what: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(SqlValue::Null) => Ok(None),
        Some(SqlValue::Integer(n)) => Ok(Some(*n)),
        Some(_) => Err(format!("{what} is not a number")),
    }
}

fn row_from(table: &Table, row: usize) -> Result<Row, String> {
    let text = |column: &str| text(table.value(row, column), column);
    let integer = |column: &str| integer(table.value(row, column), column);
    let secret = match table.value(row, "secret") {
        Some(SqlValue::Text(secret)) => Zeroizing::new(secret.as_str().to_owned()),
        None | Some(SqlValue::Null) => return Err("no secret".into()),
        Some(_) => return Err("secret is not text".into()),
    };
    Ok(Row {
        kind: integer("type")?,
        issuer: text("issuer")?.unwrap_or_default(),
        username: text("username")?.unwrap_or_default(),
        secret,
        algorithm: integer("algorithm")?,
        digits: integer("digits")?,
        period: integer("period")?,
        counter: integer("counter")?,
        icon: text("icon")?,
        pin: text("pin")?.map(Zeroizing::new),
    })
}
