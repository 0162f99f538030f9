//! Migration from Authy (`countersign-server users import`): an integrator's users come over
//! with the Authy ids the integrator has stored, so its code and database keep working once the
//! base URL changes (docs/migrating-from-authy.md).
//!
//! The whole file is read and checked first (bounded: [`input`]), so a hostile file writes
//! nothing; each row is then checked against the database in batches, and the new ones are
//! inserted one transaction per batch. A bad row is reported with its line and never stops the
//! others; a row already imported identically is "unchanged", which makes re-runs harmless.

pub mod input;
pub mod report;
pub mod rows;

use std::collections::HashMap;
use std::path::Path;

pub use input::Format;
pub use report::{report_json, report_text};
pub use rows::RowFailure;
use rows::UserRow;

use crate::state::{Inner, now};
use crate::store::user_import::{self as stored, ImportedUser, StoredUser};

/// Rows checked and written per transaction.
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("the file is larger than {} bytes", input::MAX_FILE_BYTES)]
    FileTooLarge,
    #[error("line {0} is longer than {max} bytes", max = input::MAX_LINE_BYTES)]
    LineTooLong(u64),
    #[error("the file has more than {} rows", input::MAX_ROWS)]
    TooManyRows,
    #[error("the CSV header lacks the column(s): {0}")]
    MissingColumns(String),
    #[error("the file cannot be read as a list of users: {0}")]
    Malformed(String),
    #[error("unknown format: give --format csv or --format json")]
    UnknownFormat,
    #[error("there is no app {0}")]
    UnknownApp(i64),
    #[error("the database has no app yet: create one with `app create` first")]
    NoApp,
    #[error("the database has several apps: choose one with --app-id")]
    ChooseApp,
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub struct ImportOptions {
    pub app_id: Option<i64>,
    pub format: Format,
    pub dry_run: bool,
}

/// What a run did (or, with `dry_run`, would do).
#[derive(Debug, Default)]
pub struct ImportReport {
    pub app_id: i64,
    pub dry_run: bool,
    pub imported: u64,
    pub unchanged: u64,
    /// Sorted by line.
    pub failed: Vec<RowFailure>,
}

/// The app the users go to: the one given, or the only one there is.
async fn target_app(state: &Inner, asked: Option<i64>) -> Result<i64, ImportError> {
    if let Some(app_id) = asked {
        return match stored::app_exists(&state.db, app_id).await? {
            true => Ok(app_id),
            false => Err(ImportError::UnknownApp(app_id)),
        };
    }
    match stored::first_app_ids(&state.db).await?[..] {
        [only] => Ok(only),
        [] => Err(ImportError::NoApp),
        _ => Err(ImportError::ChooseApp),
    }
}

pub async fn import_file(
    state: &Inner,
    path: &Path,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let app_id = target_app(state, options.app_id).await?;
    let mut report = ImportReport {
        app_id,
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let bytes = input::read_bounded(path)?;
    let mut valid = Vec::new();
    input::rows(&bytes, options.format, |raw| match rows::check(raw) {
        Ok(row) => valid.push(row),
        Err(failure) => report.failed.push(failure),
    })?;
    drop(bytes);
    let valid = rows::first_of_each(valid, &mut report.failed);
    // The table's statistics are refreshed each time the rows imported double.
    let mut refresh_at = BATCH as u64;
    for batch in valid.chunks(BATCH) {
        let refresh = report.imported >= refresh_at;
        if refresh {
            refresh_at = report.imported * 2;
        }
        import_batch_retrying(state, app_id, batch, refresh, &mut report).await?;
    }
    report.failed.sort_by_key(|f| f.line);
    Ok(report)
}

/// Tries a batch again (up to [`ATTEMPTS`] times) when it lost a race for the database's lock
/// to a serving instance: a batch is one transaction, rolled back whole, and counted only once
/// it commits, so trying again is safe.
async fn import_batch_retrying(
    state: &Inner,
    app_id: i64,
    batch: &[UserRow],
    refresh_statistics: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let mut attempt = 1;
    loop {
        match import_batch(state, app_id, batch, refresh_statistics, report).await {
            Err(ImportError::Database(e)) if attempt < ATTEMPTS && lost_a_race(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

const ATTEMPTS: u64 = 5;

/// SQLite busy (5, and its extended codes 261, 517) or PostgreSQL lock time-out, statement
/// time-out, serialization failure or deadlock; or no connection within the deadline.
fn lost_a_race(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(e) => matches!(
            e.code().as_deref(),
            Some("5" | "261" | "517" | "55P03" | "57014" | "40001" | "40P01")
        ),
        _ => false,
    }
}

/// How one valid row stands against the database.
enum Verdict {
    New,
    Unchanged,
    Refused(String),
}

fn same_user(stored: &StoredUser, app_id: i64, row: &UserRow) -> bool {
    stored.app_id == app_id
        && !stored.deleted
        && stored.country_code == row.country_code
        && stored.cellphone == row.cellphone
        && stored.email.eq_ignore_ascii_case(&row.email)
        && stored.custom_user_id.as_deref() == row.custom_user_id.as_deref()
}

/// Each row's verdict, from the users holding the batch's ids and phones.
async fn verdicts(
    conn: &mut sqlx::AnyConnection,
    app_id: i64,
    batch: &[UserRow],
) -> Result<Vec<Verdict>, sqlx::Error> {
    let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
    let holders: HashMap<i64, StoredUser> = stored::by_ids(conn, &ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut by_country: HashMap<i64, Vec<&str>> = HashMap::new();
    for row in batch {
        by_country
            .entry(row.country_code)
            .or_default()
            .push(&row.cellphone);
    }
    let mut phone_owner = HashMap::new();
    for (country_code, phones) in by_country {
        for (id, phone) in stored::phone_owners(conn, app_id, country_code, &phones).await? {
            phone_owner.insert((country_code, phone), id);
        }
    }
    Ok(batch
        .iter()
        .map(|row| match holders.get(&row.id) {
            Some(holder) if same_user(holder, app_id, row) => Verdict::Unchanged,
            Some(_) => Verdict::Refused(format!(
                "authy_id {} already belongs to a different user",
                row.id
            )),
            None => match phone_owner.get(&(row.country_code, row.cellphone.clone())) {
                Some(owner) => Verdict::Refused(format!(
                    "phone +{} {} already belongs to user {owner}",
                    row.country_code, row.cellphone
                )),
                None => Verdict::New,
            },
        })
        .collect())
}

async fn import_batch(
    state: &Inner,
    app_id: i64,
    batch: &[UserRow],
    refresh_statistics: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if report.dry_run {
        let mut conn = state.db.pool.acquire().await?;
        let verdicts = verdicts(&mut conn, app_id, batch).await?;
        tally(batch, &verdicts, report);
        return Ok(());
    }
    let mut tx = stored::begin_batch(&state.db).await?;
    if refresh_statistics {
        stored::refresh_statistics(&mut tx, state.db.dialect).await?;
    }
    let verdicts = verdicts(&mut tx, app_id, batch).await?;
    let created = now();
    let new_users: Vec<ImportedUser<'_>> = batch
        .iter()
        .zip(&verdicts)
        .filter(|(_, verdict)| matches!(verdict, Verdict::New))
        .map(|(row, _)| imported_user(state, app_id, row, created))
        .collect();
    stored::insert_batch(&mut tx, state.db.dialect, &new_users).await?;
    tx.commit().await?;
    tally(batch, &verdicts, report);
    Ok(())
}

/// The row as stored, with a fresh seed (Authy's own seeds cannot be exported) sealed to its id.
fn imported_user<'a>(state: &Inner, app_id: i64, row: &'a UserRow, now: i64) -> ImportedUser<'a> {
    let mut seed = zeroize::Zeroizing::new([0u8; 20]);
    rand::fill(&mut seed[..]);
    ImportedUser {
        id: row.id,
        app_id,
        email: &row.email,
        country_code: row.country_code,
        cellphone: &row.cellphone,
        custom_user_id: row.custom_user_id.as_deref(),
        confirmed: row.confirmed,
        created_at: row.created_at.unwrap_or(now),
        seed_sealed: state
            .master
            .seal(&format!("users.seed:{}", row.id), &seed[..]),
    }
}

fn tally(batch: &[UserRow], verdicts: &[Verdict], report: &mut ImportReport) {
    for (row, verdict) in batch.iter().zip(verdicts) {
        match verdict {
            Verdict::New => report.imported += 1,
            Verdict::Unchanged => report.unchanged += 1,
            Verdict::Refused(reason) => report.failed.push(RowFailure {
                line: row.line,
                authy_id: Some(row.id),
                reason: reason.clone(),
            }),
        }
    }
}
