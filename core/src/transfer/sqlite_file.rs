//! Reading the tables of an SQLite database that came from elsewhere (an app's internal
//! database copied off a phone: Google Authenticator's `databases`, Microsoft
//! Authenticator's `PhoneFactor`, Stratum's `authenticator.db3`). The one reader of
//! untrusted SQLite files: importers name a table and the most rows they accept from it.
//!
//! SQLite reads files, not byte slices, without `unsafe` (its `deserialize` needs memory
//! from `sqlite3_malloc`), so the bytes go to a private temporary file: a random name in
//! [`std::env::temp_dir`] (`TMPDIR`: the app's own directory on iOS and on Android 13 and
//! later; before Android 13 the shell must set it), created exclusively with mode 0600 and
//! removed when the reader is dropped, whatever happened.
//!
//! The file is hostile until proven otherwise. Following SQLite's "Defense against the dark
//! arts" advice it is opened read-only and immutable (no journal, WAL or lock files), with
//! the defensive flag, untrusted schema (`trusted_schema=OFF`: no functions with side
//! effects from views or triggers), views and triggers off, `cell_size_check` on, no
//! extension loading (never enabled in this build), small `sqlite3_limit`s, and a progress
//! handler that stops any statement after [`MAX_VM_STEPS`] virtual-machine steps. Rows and
//! the bytes of their values are counted while reading and bounded before they are kept.
//! Opened immutable, a database last written in WAL mode reads as it was checkpointed (its
//! `-wal` file is no part of an import).

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use super::{ImportError, ImportFormat};

/// The 16 bytes every SQLite 3 database starts with.
pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Most rows read from one table unless an importer states its own bound: some 10,000
/// accounts is far beyond any phone's list.
pub const MAX_ROWS: usize = 10_000;

/// Most bytes of text and blob values kept from one table. The file is at most 16 MiB, but a
/// damaged file can point many cells at the same overflow pages, so the sum is bounded too.
pub const MAX_VALUE_BYTES: usize = 32 * 1024 * 1024;

/// Longest single value (`SQLITE_LIMIT_LENGTH`): secrets and names are short.
const MAX_VALUE_LEN: i32 = 1024 * 1024;

/// Virtual-machine steps one import may run, counted by the progress handler in units of
/// [`STEPS_PER_CALL`]: a table of [`MAX_ROWS`] rows takes well under a million.
pub const MAX_VM_STEPS: u64 = 50_000_000;
const STEPS_PER_CALL: i32 = 1_000;

/// Whether `data` starts like an SQLite 3 database (detection and a first check).
pub fn is_sqlite(data: &[u8]) -> bool {
    data.len() >= 100 && data.starts_with(SQLITE_MAGIC)
}

/// Whether the header's page count says the file was cut short. SQLite itself reads missing
/// pages as zeros (rows silently lost), so this is checked first. The count is only
/// meaningful when the header's "version-valid-for" equals its change counter.
fn is_truncated(data: &[u8]) -> bool {
    let word = |at: usize| {
        data.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let page_size = match data.get(16..18).map(|b| u16::from_be_bytes([b[0], b[1]])) {
        Some(1) => 65_536,
        Some(size) => u64::from(size),
        None => return true,
    };
    let (Some(changes), Some(valid_for), Some(pages)) = (word(24), word(92), word(28)) else {
        return true;
    };
    changes == valid_for && pages > 0 && u64::from(pages) * page_size > data.len() as u64
}

/// Whether an SQLite file's bytes contain `needle` — for detection, where the schema's SQL
/// text (stored as is in `sqlite_master`) names the app's columns.
pub fn mentions(data: &[u8], needle: &[u8]) -> bool {
    is_sqlite(data) && data.windows(needle.len()).any(|window| window == needle)
}

/// One value of a row. Text and blobs may be secrets: zeroized when dropped.
#[derive(Clone)]
pub enum SqlValue {
    Null,
    Integer(i64),
    /// A floating-point value: no importer reads one, but it is not a missing value either.
    Real,
    Text(Zeroizing<String>),
    Blob(Zeroizing<Vec<u8>>),
}

/// The rows of one table with its column names.
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<SqlValue>>,
}

impl Table {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    /// `InvalidFile` naming the first of `names` the table (called `table`) lacks.
    pub fn require_columns(
        &self,
        format: ImportFormat,
        table: &str,
        names: &[&str],
    ) -> Result<(), ImportError> {
        match names.iter().find(|name| !self.has_column(name)) {
            Some(missing) => Err(ImportError::invalid(
                format,
                format!("the {table} table has no {missing} column"),
            )),
            None => Ok(()),
        }
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    /// The value at (`row`, `name`) as stored; `None` when the table has no such column.
    pub fn value(&self, row: usize, name: &str) -> Option<&SqlValue> {
        self.rows.get(row)?.get(self.column(name)?)
    }

    /// The value at (`row`, `name`) as text; numbers are written out, blobs must be UTF-8.
    pub fn text(&self, row: usize, name: &str) -> Option<Zeroizing<String>> {
        match self.value(row, name)? {
            SqlValue::Text(text) => Some(text.clone()),
            SqlValue::Integer(n) => Some(Zeroizing::new(n.to_string())),
            SqlValue::Blob(bytes) => std::str::from_utf8(bytes)
                .ok()
                .map(|s| Zeroizing::new(s.to_owned())),
            SqlValue::Null | SqlValue::Real => None,
        }
    }

    /// The value at (`row`, `name`) as an integer (also from decimal text, as SQLite's
    /// type affinity would read it).
    pub fn integer(&self, row: usize, name: &str) -> Option<i64> {
        match self.value(row, name)? {
            SqlValue::Integer(n) => Some(*n),
            SqlValue::Text(text) => text.trim().parse().ok(),
            _ => None,
        }
    }
}

/// The temporary copy of the database; removed when dropped.
struct TempCopy {
    path: PathBuf,
}

impl TempCopy {
    fn write(dir: &Path, data: &[u8]) -> std::io::Result<TempCopy> {
        let name = format!(
            "countersign-import-{}.sqlite",
            data_encoding::HEXLOWER.encode(&rand::random::<[u8; 16]>())
        );
        let path = dir.join(name);
        let mut file = private_file(&path)?;
        // From here on the file exists: the guard removes it even if writing fails.
        let copy = TempCopy { path };
        file.write_all(data)?;
        file.flush()?;
        Ok(copy)
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// What stays as is in a URI path: unreserved characters, `/` and a drive letter's `:`.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// `path` as an SQLite URI opening it read-only and immutable. Everything but unreserved
/// characters and `/` is percent-encoded (`?`, `#` and `%` would end or change the path).
fn immutable_uri(path: &Path) -> Option<String> {
    let text = path.to_str()?.replace('\\', "/");
    let mut uri = String::from("file:");
    if !text.starts_with('/') {
        // A Windows drive path: file:///C:/…
        uri.push_str("///");
    }
    uri.extend(percent_encoding::utf8_percent_encode(&text, URI_PATH));
    uri.push_str("?mode=ro&immutable=1");
    Some(uri)
}

/// The connection with every defence above applied.
fn open_defended(path: &Path) -> rusqlite::Result<Connection> {
    let uri = immutable_uri(path).ok_or(rusqlite::Error::InvalidPath(path.to_owned()))?;
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    for (limit, value) in [
        (Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_LEN),
        (Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000),
        (Limit::SQLITE_LIMIT_COLUMN, 200),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 10),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
    ] {
        conn.set_limit(limit, value);
    }
    let calls = Arc::new(AtomicU64::new(0));
    let budget = MAX_VM_STEPS / STEPS_PER_CALL as u64;
    conn.progress_handler(
        STEPS_PER_CALL,
        Some(move || calls.fetch_add(1, Ordering::Relaxed) >= budget),
    );
    conn.execute_batch(
        "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0;",
    )?;
    Ok(conn)
}

/// Every row of `table` (at most [`MAX_ROWS`]) of the SQLite database `data`.
pub fn read_table(
    format: ImportFormat,
    data: &[u8],
    table: &'static str,
) -> Result<Table, ImportError> {
    Database::open(format, data)?.table(table, MAX_ROWS)
}

/// An untrusted database opened with every defence above, from its private copy.
pub struct Database {
    format: ImportFormat,
    // Declared before the copy: the connection closes before the file is removed.
    conn: Connection,
    _copy: TempCopy,
}

impl Database {
    /// Checks `data` (magic, truncation), copies it privately and opens the copy.
    pub fn open(format: ImportFormat, data: &[u8]) -> Result<Database, ImportError> {
        Database::open_in(&std::env::temp_dir(), format, data)
    }

    /// [`Database::open`] with the temporary copy in `dir`.
    fn open_in(dir: &Path, format: ImportFormat, data: &[u8]) -> Result<Database, ImportError> {
        if !is_sqlite(data) {
            return Err(ImportError::invalid(format, "not an SQLite database"));
        }
        if is_truncated(data) {
            return Err(ImportError::invalid(
                format,
                "the database is truncated: its header counts more pages than the file holds",
            ));
        }
        let copy = TempCopy::write(dir, data).map_err(|e| {
            ImportError::Unsupported(format!(
                "could not write a temporary copy of the database: {e}"
            ))
        })?;
        let conn = open_defended(&copy.path).map_err(|e| database_error(format, &e))?;
        Ok(Database {
            format,
            conn,
            _copy: copy,
        })
    }

    /// Whether the database has an ordinary table called `table` (ASCII case ignored, as
    /// SQLite names are); a view is no table, a virtual table is refused.
    pub fn has_table(&self, table: &'static str) -> Result<bool, ImportError> {
        match plain_table(&self.conn, table) {
            Ok(found) => Ok(found),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Every row of `table`; more than `max_rows` is an error, not a silent cut.
    pub fn table(&self, table: &'static str, max_rows: usize) -> Result<Table, ImportError> {
        read_rows(&self.conn, table, max_rows).map_err(|e| self.error(e))
    }

    fn error(&self, error: ReadError) -> ImportError {
        match error {
            ReadError::Sqlite(e) => database_error(self.format, &e),
            ReadError::Bound(reason) => ImportError::invalid(self.format, reason),
        }
    }
}

enum ReadError {
    Sqlite(rusqlite::Error),
    Bound(String),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sqlite(e)
    }
}

fn read_rows(conn: &Connection, table: &'static str, max_rows: usize) -> Result<Table, ReadError> {
    if !plain_table(conn, table)? {
        return Err(ReadError::Bound(format!(
            "the database has no {table} table"
        )));
    }
    // The name is one of the importers' constants, never the file's.
    let limit = max_rows.saturating_add(1);
    let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\" LIMIT {limit}"))?;
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let used = Cell::new(0usize);
    let mut query = statement.query([])?;
    while let Some(row) = query.next()? {
        if rows.len() == max_rows {
            return Err(ReadError::Bound(format!(
                "the {table} table has more than {max_rows} rows"
            )));
        }
        let cells = (0..width)
            .map(|i| cell(row.get_ref(i)?, &used))
            .collect::<Result<Vec<SqlValue>, ReadError>>()?;
        rows.push(cells);
    }
    Ok(Table { columns, rows })
}

/// Whether `table` is an ordinary table: a view is none (and views are disabled on the
/// connection); a virtual table is refused, since its module (FTS, R-tree…) would run its
/// own code over shadow tables the file controls.
fn plain_table(conn: &Connection, table: &'static str) -> Result<bool, ReadError> {
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT type, coalesce(sql, '') FROM sqlite_master \
             WHERE name = ?1 COLLATE NOCASE LIMIT 1",
            [table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match found {
        Some((kind, sql)) if kind == "table" => {
            let virtual_table = sql
                .trim_start()
                .get(..14)
                .is_some_and(|start| start.eq_ignore_ascii_case("create virtual"));
            if virtual_table {
                Err(ReadError::Bound(format!("{table} is a virtual table")))
            } else {
                Ok(true)
            }
        }
        _ => Ok(false),
    }
}

/// One value, its bytes added to `used` and checked against [`MAX_VALUE_BYTES`].
fn cell(value: ValueRef<'_>, used: &Cell<usize>) -> Result<SqlValue, ReadError> {
    let charge = |len: usize| {
        let total = used.get().saturating_add(len);
        used.set(total);
        if total > MAX_VALUE_BYTES {
            Err(ReadError::Bound(format!(
                "the table holds more than {MAX_VALUE_BYTES} bytes of values"
            )))
        } else {
            Ok(())
        }
    };
    Ok(match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Real(_) => SqlValue::Real,
        ValueRef::Integer(n) => SqlValue::Integer(n),
        ValueRef::Text(bytes) => {
            charge(bytes.len())?;
            SqlValue::Text(Zeroizing::new(String::from_utf8_lossy(bytes).into_owned()))
        }
        ValueRef::Blob(bytes) => {
            charge(bytes.len())?;
            SqlValue::Blob(Zeroizing::new(bytes.to_vec()))
        }
    })
}

/// SQLite's own errors (damaged file, interrupted by the step bound, value too big) as an
/// invalid file; they describe the file, never its contents.
fn database_error(format: ImportFormat, error: &rusqlite::Error) -> ImportError {
    use rusqlite::ErrorCode;
    let reason = match error.sqlite_error_code() {
        Some(ErrorCode::OperationInterrupted) => {
            format!("reading the database took more than {MAX_VM_STEPS} steps")
        }
        Some(ErrorCode::TooBig) => "a value in the database is too large".to_owned(),
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
            "the database is damaged or truncated".to_owned()
        }
        _ => format!("the database could not be read ({error})"),
    };
    ImportError::invalid(format, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: ImportFormat = ImportFormat::GoogleAuthenticatorDb;

    fn read_table_in(dir: &Path, data: &[u8], table: &'static str) -> Result<Table, ImportError> {
        Database::open_in(dir, FORMAT, data)?.table(table, MAX_ROWS)
    }

    fn database(dir: &Path, sql: &str) -> Vec<u8> {
        let path = dir.join("source.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let data = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        data
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn the_temporary_copy_is_removed_whatever_happens() {
        let dir = tempfile::tempdir().unwrap();
        let good = database(
            dir.path(),
            "CREATE TABLE accounts (a); INSERT INTO accounts VALUES ('x');",
        );
        let table = read_table_in(dir.path(), &good, "accounts").unwrap();
        assert_eq!(table.text(0, "a").unwrap().as_str(), "x");
        assert_eq!(entries(dir.path()), 0);
        assert!(read_table_in(dir.path(), &good, "missing").is_err());
        let mut damaged = good[..100].to_vec();
        damaged.extend(std::iter::repeat_n(0xA5, good.len() - 100));
        assert!(read_table_in(dir.path(), &damaged, "accounts").is_err());
        let truncated = &good[..good.len() - 1000];
        let error = read_table_in(dir.path(), truncated, "accounts")
            .err()
            .unwrap();
        assert!(error.to_string().contains("truncated"), "{error}");
        assert_eq!(entries(dir.path()), 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_temporary_copy_is_private_and_never_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy");
        let file = private_file(&path).unwrap();
        let mode = file.metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            private_file(&path).is_err(),
            "an existing file is never opened"
        );
    }

    #[test]
    fn an_endless_statement_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let data = database(dir.path(), "CREATE TABLE t (a);");
        let copy = TempCopy::write(dir.path(), &data).unwrap();
        let conn = open_defended(&copy.path).unwrap();
        let endless = conn.query_row(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
            [],
            |row| row.get::<_, i64>(0),
        );
        let error = endless.unwrap_err();
        assert!(matches!(
            database_error(FORMAT, &error),
            ImportError::InvalidFile { reason, .. } if reason.contains("steps")
        ));
    }

    #[test]
    fn oversized_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = database(
            dir.path(),
            "CREATE TABLE accounts (a); INSERT INTO accounts VALUES (zeroblob(1048577));",
        );
        let error = read_table_in(dir.path(), &data, "accounts").err().unwrap();
        assert!(
            matches!(error, ImportError::InvalidFile { ref reason, .. } if reason.contains("too large")),
            "{error}"
        );
    }

    #[test]
    fn views_and_virtual_tables_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let view = database(
            dir.path(),
            "CREATE TABLE t (a); CREATE VIEW accounts AS SELECT a FROM t;",
        );
        let error = read_table_in(dir.path(), &view, "accounts").err().unwrap();
        assert!(error.to_string().contains("no accounts table"), "{error}");
        let fts = database(dir.path(), "CREATE VIRTUAL TABLE accounts USING fts4(a);");
        let error = read_table_in(dir.path(), &fts, "accounts").err().unwrap();
        assert!(error.to_string().contains("virtual table"), "{error}");
    }

    #[test]
    fn each_table_is_read_within_the_rows_its_importer_allows() {
        let dir = tempfile::tempdir().unwrap();
        let data = database(
            dir.path(),
            "CREATE TABLE Accounts (a, b); INSERT INTO Accounts VALUES (1, 2.5), (2, NULL), (3, x'00');",
        );
        let database = Database::open_in(dir.path(), FORMAT, &data).unwrap();
        assert!(database.has_table("accounts").unwrap());
        assert!(!database.has_table("missing").unwrap());
        let error = database.table("accounts", 2).err().unwrap();
        assert!(error.to_string().contains("more than 2 rows"), "{error}");
        let table = database.table("accounts", 3).unwrap();
        assert!(matches!(table.value(0, "b"), Some(SqlValue::Real)));
        assert!(matches!(table.value(1, "b"), Some(SqlValue::Null)));
        assert!(matches!(table.value(2, "b"), Some(SqlValue::Blob(_))));
        assert!(table.value(0, "c").is_none());
        drop(database);
        assert_eq!(entries(dir.path()), 0, "the copy is gone with the database");
    }

    #[test]
    fn paths_become_uris_that_cannot_change_meaning() {
        assert_eq!(
            immutable_uri(Path::new("/tmp/a b?c#d%e")).unwrap(),
            "file:/tmp/a%20b%3Fc%23d%25e?mode=ro&immutable=1"
        );
    }
}
