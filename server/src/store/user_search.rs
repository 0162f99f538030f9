//! Finding users for the operator's console: by Authy id, or by email or phone, exactly or
//! by prefix. Every value is a bound parameter; a prefix is matched with `LIKE … ESCAPE`, its
//! own `%`, `_` and `\` escaped first, so what the operator types is only ever text.
//! Results are paged by id (keyset: each page costs the same however deep).

use sqlx::Row;

use super::db::Db;

/// A user as the console lists it (no secret column is read).
pub struct FoundUser {
    pub id: i64,
    pub app_id: i64,
    pub email: String,
    pub country_code: i64,
    pub cellphone: String,
    pub confirmed: bool,
    pub locked_until: i64,
    pub failed_attempts: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, app_id, email, country_code, cellphone, confirmed, locked_until, failed_attempts, created_at";

fn found_from_row(row: &sqlx::any::AnyRow) -> FoundUser {
    FoundUser {
        id: row.get(0),
        app_id: row.get(1),
        email: row.get(2),
        country_code: row.get(3),
        cellphone: row.get(4),
        confirmed: row.get::<i64, _>(5) != 0,
        locked_until: row.get(6),
        failed_attempts: row.get(7),
        created_at: row.get(8),
    }
}

/// `text` as a literal `LIKE` prefix: its wildcards and the escape character escaped.
pub fn like_prefix(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// What to look for; the caller has bounded the lengths.
pub struct Search<'a> {
    /// An Authy id, matched exactly.
    pub id: Option<i64>,
    /// Lower-cased; matched exactly or as a prefix of the lower-cased email.
    pub email: Option<&'a str>,
    /// Digits; a prefix of the cellphone, or of the country code followed by the cellphone.
    pub phone: Option<&'a str>,
}

/// Undeleted users matching any of `search`'s keys, ids above `after`, at most `limit`.
pub async fn search(
    db: &Db,
    search: &Search<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<FoundUser>, sqlx::Error> {
    // An absent key binds a value nothing can equal (NULL never compares true).
    let email_prefix = search.email.map(like_prefix);
    let phone_prefix = search.phone.map(like_prefix);
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users WHERE deleted = 0 AND id > $1 AND (id = $2 \
         OR LOWER(email) = $3 OR LOWER(email) LIKE $4 ESCAPE '\\' \
         OR cellphone LIKE $5 ESCAPE '\\' OR (CAST(country_code AS TEXT) || cellphone) LIKE $5 ESCAPE '\\') \
         ORDER BY id LIMIT $6"
    ))
    .bind(after)
    .bind(search.id)
    .bind(search.email)
    .bind(email_prefix)
    .bind(phone_prefix)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(found_from_row).collect())
}

/// The undeleted user `id`, whichever app it belongs to.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<FoundUser>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted = 0"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.as_ref().map(found_from_row))
}
