//! Stratum's internal SQLite database (`databases/authenticator.db3`, what Aegis reads from a
//! rooted phone): the `authenticator` table (`type`, `icon`, `issuer`, `username`, `secret`,
//! `pin`, `algorithm`, `digits`, `period`, `counter`, …) and, when present, `category` and
//! `authenticatorcategory`, the columns `Entity/*.cs` of the app's source declares.
//!
//! The file comes from elsewhere, so it is opened read-only from a private temporary copy
//! with SQLite's defensive settings; only real tables (not views or virtual tables, whose
//! reads could run arbitrary queries) are read, at most [`MAX_ROWS`] rows each, and a
//! watchdog interrupts any statement still running after [`MAX_QUERY_TIME`]. The copy lives
//! in `std::env::temp_dir()` (rusqlite 0.32 deserializes from memory only through `unsafe`,
//! which the crate forbids): on Android the app points `TMPDIR` at its cache directory.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use super::stratum::{Contents, Row, categories_by_secret, category_names};
use super::{ImportError, ImportFormat};

const FORMAT: ImportFormat = ImportFormat::Stratum;

/// The first 16 bytes of every SQLite 3 database file.
pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Most rows read from one table: far above any real authenticator list.
pub const MAX_ROWS: usize = 100_000;

/// Longest any statement may run before it is interrupted.
const MAX_QUERY_TIME: Duration = Duration::from_secs(5);

/// The columns read from `authenticator`, in [`Row`] order; `secret` and `type` are required.
const COLUMNS: [&str; 8] = [
    "type",
    "issuer",
    "username",
    "secret",
    "algorithm",
    "digits",
    "period",
    "counter",
];

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

/// A private copy of the database, deleted when dropped.
struct TempCopy(PathBuf);

impl TempCopy {
    fn new(data: &[u8]) -> Result<TempCopy, ImportError> {
        let mut name = [0u8; 16];
        rand::fill(&mut name[..]);
        let path = std::env::temp_dir().join(format!(
            "countersign-import-{}.db3",
            data_encoding::HEXLOWER.encode(&name)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let failed = |e: std::io::Error| {
            ImportError::Unsupported(format!("cannot make a temporary copy of the database: {e}"))
        };
        let mut file = options.open(&path).map_err(failed)?;
        let copy = TempCopy(path);
        // Bytes 18 and 19 say "WAL" (2) in databases last written in WAL mode; without the
        // -wal file beside it SQLite could not open such a copy read-only, and a single
        // file holds only what was checkpointed anyway: read it as a rollback database.
        let mut bytes = Zeroizing::new(data.to_vec());
        for version in bytes.iter_mut().take(20).skip(18) {
            if *version == 2 {
                *version = 1;
            }
        }
        file.write_all(&bytes).map_err(failed)?;
        Ok(copy)
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        // Best effort: the copy holds secrets, but a failed removal must not hide the import.
        let _ = std::fs::remove_file(&self.0);
    }
}

fn sql_error(e: rusqlite::Error) -> ImportError {
    ImportError::invalid(FORMAT, format!("unreadable database: {e}"))
}

/// Opens the copy read-only with the settings SQLite recommends for untrusted files.
fn open(copy: &TempCopy) -> Result<Connection, ImportError> {
    let connection = Connection::open_with_flags(
        &copy.0,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    connection
        .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(sql_error)?;
    connection
        .execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;")
        .map_err(sql_error)?;
    Ok(connection)
}

/// Reads the database's authenticators and categories.
pub(crate) fn read(data: &[u8]) -> Result<Contents, ImportError> {
    let copy = TempCopy::new(data)?;
    let connection = open(&copy)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let interrupt = connection.get_interrupt_handle();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(MAX_QUERY_TIME) {
            interrupt.interrupt();
        }
    });
    let contents = read_tables(&connection);
    let _ = stop.send(());
    let _ = watchdog.join();
    contents
}

fn read_tables(connection: &Connection) -> Result<Contents, ImportError> {
    let available = columns_of(connection, "authenticator")?.ok_or_else(|| {
        ImportError::invalid(FORMAT, "no authenticator table: not a Stratum database")
    })?;
    for required in ["type", "secret"] {
        if !available.iter().any(|c| c.eq_ignore_ascii_case(required)) {
            return Err(ImportError::invalid(
                FORMAT,
                format!("the authenticator table has no {required} column"),
            ));
        }
    }
    let wanted: Vec<&str> = COLUMNS.iter().copied().chain(["icon"]).collect();
    let rows = select(connection, "authenticator", &wanted, &available, row_from)?;
    let names = match columns_of(connection, "category")? {
        Some(columns) => select(connection, "category", &["id", "name"], &columns, pair)?,
        None => Vec::new(),
    };
    let links = match columns_of(connection, "authenticatorcategory")? {
        Some(columns) => select(
            connection,
            "authenticatorcategory",
            &["authenticatorSecret", "categoryId"],
            &columns,
            pair,
        )?,
        None => Vec::new(),
    };
    let names = category_names(
        names
            .iter()
            .flatten()
            .map(|(a, b)| (a.as_str(), b.as_str())),
    );
    let categories = categories_by_secret(
        links
            .iter()
            .flatten()
            .map(|(a, b)| (a.as_str(), b.as_str())),
        &names,
    );
    Ok(Contents { rows, categories })
}

/// The column names of `table` if it is an ordinary table (`None` if there is none).
fn columns_of(connection: &Connection, table: &str) -> Result<Option<Vec<String>>, ImportError> {
    let sql: Option<String> = connection
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [table],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(sql_error(e)),
        })?;
    let Some(sql) = sql else {
        return Ok(None);
    };
    // A virtual table is listed as a table too; reading one runs its module's code.
    let ordinary = sql
        .trim_start()
        .get(..12)
        .is_some_and(|start| start.eq_ignore_ascii_case("CREATE TABLE"));
    if !ordinary {
        return Err(ImportError::invalid(
            FORMAT,
            format!("{table} is not an ordinary table"),
        ));
    }
    let mut statement = connection
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(sql_error)?;
    let names = statement
        .query_map([table], |row| row.get::<_, String>(0))
        .map_err(sql_error)?
        .take(1_000)
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_error)?;
    Ok(Some(names))
}

/// `SELECT wanted… FROM table LIMIT MAX_ROWS + 1`, a missing column read as NULL; each row
/// through `convert`. More than [`MAX_ROWS`] rows is an error, not a silent cut.
fn select<T>(
    connection: &Connection,
    table: &str,
    wanted: &[&str],
    available: &[String],
    convert: fn(&[ValueRef<'_>]) -> Result<T, String>,
) -> Result<Vec<Result<T, String>>, ImportError> {
    let columns: Vec<String> = wanted
        .iter()
        .map(
            |name| match available.iter().find(|c| c.eq_ignore_ascii_case(name)) {
                Some(column) => format!("\"{}\"", column.replace('"', "\"\"")),
                None => "NULL".to_owned(),
            },
        )
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{table}\" LIMIT {}",
        columns.join(", "),
        MAX_ROWS + 1
    );
    let mut statement = connection.prepare(&sql).map_err(sql_error)?;
    let mut rows = statement.query([]).map_err(sql_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        if out.len() == MAX_ROWS {
            return Err(ImportError::invalid(
                FORMAT,
                format!("more than {MAX_ROWS} rows in {table}"),
            ));
        }
        let values: Vec<ValueRef<'_>> = (0..wanted.len())
            .map(|i| row.get_ref(i))
            .collect::<Result<_, _>>()
            .map_err(sql_error)?;
        out.push(convert(&values));
    }
    Ok(out)
}

fn text(value: &ValueRef<'_>, what: &str) -> Result<Option<String>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(|s| Some(s.to_owned()))
            .map_err(|_| format!("{what} is not UTF-8 text")),
        _ => Err(format!("{what} is not text")),
    }
}

fn integer(value: &ValueRef<'_>, what: &str) -> Result<Option<i64>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(*n)),
        _ => Err(format!("{what} is not a number")),
    }
}

fn row_from(values: &[ValueRef<'_>]) -> Result<Row, String> {
    let at = |i: usize| values.get(i).copied().unwrap_or(ValueRef::Null);
    let secret = text(&at(3), "secret")?.ok_or("no secret")?;
    Ok(Row {
        kind: integer(&at(0), "type")?,
        issuer: text(&at(1), "issuer")?.unwrap_or_default(),
        username: text(&at(2), "username")?.unwrap_or_default(),
        secret: Zeroizing::new(secret),
        algorithm: integer(&at(4), "algorithm")?,
        digits: integer(&at(5), "digits")?,
        period: integer(&at(6), "period")?,
        counter: integer(&at(7), "counter")?,
        icon: text(&at(8), "icon")?,
    })
}

fn pair(values: &[ValueRef<'_>]) -> Result<(String, String), String> {
    let at = |i: usize| values.get(i).copied().unwrap_or(ValueRef::Null);
    match (text(&at(0), "key")?, text(&at(1), "value")?) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("empty".into()),
    }
}
