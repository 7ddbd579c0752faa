//! The server's hidden-case secret: what makes a school's hidden test cases its own.
//!
//! The shipped labs' hidden seeds are in the public repository, so anyone
//! could reproduce those scenarios with `qiming run --seed`. A server grades
//! hidden cases on seeds derived from this secret (see
//! `qiming_grading::grade::hidden_seed`): they differ from the repository's
//! and from every other server's, yet stay fixed for this server, so grading
//! remains deterministic. The secret is created at first start, kept in the
//! database's `settings` table (every `qiming worker` on the same database
//! reads it there) and copied to `hidden-seed.key` in the data directory
//! (restored from there if the database is rebuilt). A competition supplies
//! its own with `hidden_seed_secret` in the config file or
//! `QIMING_HIDDEN_SEED_SECRET` (64 hex digits).

use std::path::Path;

use anyhow::Context;
use sqlx::Row;

use super::db::Db;

/// The settings key, and the file name in the data directory.
pub const KEY: &str = "hidden_seed_secret";
pub const FILE: &str = "hidden-seed.key";

/// Parses 64 hex digits.
pub fn parse(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(text.trim()).context("the hidden-case secret must be 64 hex digits")?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("the hidden-case secret must be 64 hex digits (32 bytes)"))
}

/// The secret this server grades hidden cases with: the configured one, else
/// the database's, else the data directory's copy, else a new random one.
pub async fn load_or_create(db: &Db, data_dir: Option<&Path>, configured: Option<&str>) -> anyhow::Result<[u8; 32]> {
    if let Some(text) = configured {
        let secret = parse(text)?;
        store(db, &secret, true).await?;
        return Ok(secret);
    }
    if let Some(secret) = stored(db).await? {
        if let Some(dir) = data_dir {
            keep_copy(dir, &secret)?;
        }
        return Ok(secret);
    }
    let from_file = match data_dir.map(|d| d.join(FILE)) {
        Some(path) if path.is_file() => Some(parse(&std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?)?),
        _ => None,
    };
    let candidate = match from_file {
        Some(s) => s,
        None => {
            let mut s = [0u8; 32];
            getrandom::fill(&mut s).map_err(|e| anyhow::anyhow!("the operating system's random source: {e}"))?;
            s
        }
    };
    // Two processes starting at once agree on whichever secret was stored first.
    store(db, &candidate, false).await?;
    let secret = stored(db).await?.context("the hidden-case secret was not stored")?;
    if let Some(dir) = data_dir {
        keep_copy(dir, &secret)?;
    }
    Ok(secret)
}

async fn stored(db: &Db) -> anyhow::Result<Option<[u8; 32]>> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(KEY).fetch_optional(&db.pool).await?;
    row.map(|r| parse(&r.try_get::<String, _>(0)?)).transpose()
}

async fn store(db: &Db, secret: &[u8; 32], replace: bool) -> anyhow::Result<()> {
    let sql = if replace {
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    } else {
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
    };
    sqlx::query(sql).bind(KEY).bind(hex::encode(secret)).execute(&db.pool).await?;
    Ok(())
}

/// Writes the data directory's copy (readable by the server's user only) if it is missing.
fn keep_copy(dir: &Path, secret: &[u8; 32]) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{}\n", hex::encode(secret)).as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
