//! The database: one schema and one set of queries on embedded SQLite or PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver and are written in the SQL both
//! backends understand (`$1` parameters, `RETURNING`, `BIGINT` columns); only
//! the migrations differ (`server/migrations/{sqlite,postgres}`), and they are
//! embedded and applied on start.

use std::str::FromStr;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool and its backend.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// A user row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub must_change_password: bool,
    pub school_id: Option<i64>,
    pub class_id: Option<i64>,
    pub student_number: Option<String>,
}

/// The columns [`Db::user_of`] reads, for queries on `users` aliased `u`.
pub const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.must_change_password, u.school_id, u.class_id, u.student_number";

fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        anyhow::bail!("unsupported database URL {:?}: use sqlite://PATH or postgres://…", super::redact(url))
    }
}

impl Db {
    /// Begins a transaction that is going to write. On SQLite it takes the
    /// write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that
    /// reads first cannot upgrade its lock once another connection has
    /// committed since, and fails with SQLITE_BUSY at once instead of waiting
    /// out the busy timeout (a 500 under concurrency). PostgreSQL's rows
    /// locks need nothing of the kind: a plain `BEGIN`.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Connects (creating an SQLite file if needed) and applies migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            // Create the file on first start; WAL + full sync: an acknowledged
            // write survives a crash of the process or the machine.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        // The URL may carry a password: only its redacted form goes into errors and logs.
        let shown = super::redact(&url);
        let options = AnyConnectOptions::from_str(&url).map_err(|e| anyhow::anyhow!("bad database URL {shown:?}: {}", super::redact(&e.to_string())))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| {
                let why = super::redact(&e.to_string());
                match backend {
                    Backend::Postgres => anyhow::anyhow!("cannot connect to PostgreSQL at {shown}: is it running and does the database exist? ({why})"),
                    Backend::Sqlite => anyhow::anyhow!("cannot open the SQLite database {shown} ({why})"),
                }
            })?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
        }
        .context("cannot apply database migrations")?;
        Ok(Db { pool, backend })
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn user_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?.try_get::<i64, _>(0)?)
    }

    pub async fn create_user(&self, username: &str, display_name: &str, password_hash: &str, role: &str, must_change: bool, now: i64) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, must_change_password, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role)
        .bind(must_change as i64)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub fn user_of(row: &sqlx::any::AnyRow) -> anyhow::Result<User> {
        Ok(User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
            school_id: row.try_get("school_id")?,
            class_id: row.try_get("class_id")?,
            student_number: row.try_get("student_number")?,
        })
    }

    pub async fn user(&self, id: i64) -> anyhow::Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| Db::user_of(&r)).transpose()
    }

    /// The user and their password hash (usernames are case-insensitive).
    pub async fn user_by_name(&self, username: &str) -> anyhow::Result<Option<(User, String)>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.username) = lower($1)"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((Db::user_of(&r)?, r.try_get("password_hash")?))).transpose()
    }

    pub async fn create_session(&self, token_hash: &str, csrf_token: &str, user_id: i64, now: i64, expires_at: i64) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(csrf_token)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The session's user and its CSRF token.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> anyhow::Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((Db::user_of(&r)?, r.try_get("csrf_token")?))).transpose()
    }

    pub async fn password_hash(&self, user_id: i64) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        row.map(|r| Ok(r.try_get::<String, _>(0)?)).transpose()
    }

    /// Sets a new password, clears the must-change flag and ends every other session.
    pub async fn set_password(&self, user_id: i64, hash: &str, keep_session: &str) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2").bind(hash).bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(user_id).bind(keep_session).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn audit(&self, now: i64, actor: Option<i64>, action: &str, detail: &str) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor_id, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind(action)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
