//! Login throttling: exponential back-off for whoever guesses, never a lock the owner cannot pass.
//!
//! Every failed password (at login and at `/api/password`) is recorded with
//! the account, the *client* (the browser's device cookie, else its address)
//! and the address. Three rules slow guessing down without handing anyone a
//! way to lock a classmate out:
//!
//! - **pair** — one client guessing one account: [`PAIR_FREE`] failures in
//!   [`WINDOW`], then it must wait 1 s, 2 s, 4 s … (at most [`PAIR_MAX_DELAY`])
//!   after its last failure. Other clients are not affected, so the owner's
//!   own browser still gets in with the right password.
//! - **address** (password spraying) — [`IP_FREE`] failures from one address
//!   over all accounts, then back-off for that address, except for browsers
//!   that have signed in to the account before (a trusted device): a class
//!   behind one school router is not slowed by one child's script.
//! - **account** (guessing from many addresses) — [`ACCOUNT_FREE`] failures on
//!   one account, then back-off for every client that has itself failed on it
//!   (a client that has never failed — the owner — is never refused).
//!
//! A teacher's password reset, an admin's unlock and a successful login from
//! the guessing client clear the records; old records are pruned on a schedule.

use std::hash::{Hash, Hasher};

use sqlx::Row;

use super::db::Db;

/// How far back failures count (seconds).
pub const WINDOW: i64 = 15 * 60;
/// Failures one client may make on one account before back-off starts.
pub const PAIR_FREE: i64 = 5;
/// Longest back-off for one client on one account (seconds).
pub const PAIR_MAX_DELAY: i64 = 15 * 60;
/// Failures from one address (over all accounts) before back-off starts.
pub const IP_FREE: i64 = 30;
/// Longest back-off for an address (seconds).
pub const IP_MAX_DELAY: i64 = 5 * 60;
/// Failures on one account (from anywhere) before clients that failed on it are slowed.
pub const ACCOUNT_FREE: i64 = 20;
/// Longest back-off from the account rule (seconds).
pub const ACCOUNT_MAX_DELAY: i64 = 15 * 60;
/// Records older than this are deleted by the pruning task (seconds).
pub const KEEP: i64 = 24 * 3600;

/// Who is trying which account.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The account name, lower-cased (usernames are case-insensitive).
    pub username: String,
    /// `d:<hash of the device cookie>` or `ip:<address>`.
    pub client: String,
    /// The client's address.
    pub ip: String,
    /// This browser has signed in to this account before.
    pub trusted: bool,
}

/// 1 s after the first failure beyond `free`, doubling, at most `max`.
fn backoff(failures: i64, free: i64, max: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(30) as u32;
    (1i64 << doublings).min(max)
}

/// Serialises check-and-record per account inside this process, so a burst
/// of parallel guesses is counted one by one instead of all slipping under
/// the limit together. Striped: a fixed set of locks, picked by hash.
#[derive(Debug)]
pub struct Stripes {
    locks: Vec<tokio::sync::Mutex<()>>,
}

impl Default for Stripes {
    fn default() -> Self {
        Stripes { locks: (0..64).map(|_| tokio::sync::Mutex::new(())).collect() }
    }
}

impl Stripes {
    pub async fn lock(&self, username: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        username.hash(&mut h);
        self.locks[(h.finish() % self.locks.len() as u64) as usize].lock().await
    }
}

impl Db {
    /// Seconds this attempt must wait (0: go ahead), from the failures on record.
    pub async fn login_delay(&self, a: &Attempt, now: i64) -> anyhow::Result<i64> {
        let since = now - WINDOW;
        // The pair rule counts tries still being checked too (a burst of
        // parallel guesses on one account); the address and account rules
        // count only settled failures, so forty children behind one school
        // router signing in at the same moment are not mistaken for a spray.
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND client = $2 AND at > $4), \
               (SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE username = $1 AND client = $2 AND at > $4), \
               (SELECT COUNT(*) FROM login_failures WHERE ip = $3 AND at > $4 AND pending = 0), \
               (SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE ip = $3 AND at > $4 AND pending = 0), \
               (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $4 AND pending = 0), \
               (SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE username = $1 AND at > $4 AND pending = 0)",
        )
        .bind(&a.username)
        .bind(&a.client)
        .bind(&a.ip)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let (pair, pair_last): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let (ip, ip_last): (i64, i64) = (row.try_get(2)?, row.try_get(3)?);
        let (account, account_last): (i64, i64) = (row.try_get(4)?, row.try_get(5)?);
        let mut until = pair_last + backoff(pair, PAIR_FREE, PAIR_MAX_DELAY);
        if !a.trusted {
            until = until.max(ip_last + backoff(ip, IP_FREE, IP_MAX_DELAY));
            if pair > 0 {
                until = until.max(account_last + backoff(account, ACCOUNT_FREE, ACCOUNT_MAX_DELAY));
            }
        }
        // Back-off counts from the last failure, so a waiting client that
        // comes back in time gets its try.
        let rule_applies = pair >= PAIR_FREE || (!a.trusted && (ip >= IP_FREE || (pair > 0 && account >= ACCOUNT_FREE)));
        Ok(if rule_applies { (until - now).max(0) } else { 0 })
    }

    /// Records a try, as pending, before its password is checked; returns its id.
    pub async fn record_login_attempt(&self, a: &Attempt, now: i64) -> anyhow::Result<String> {
        let id = super::auth::random_hex();
        sqlx::query("INSERT INTO login_failures (username, client, ip, at, attempt, pending) VALUES ($1, $2, $3, $4, $5, 1)")
            .bind(&a.username)
            .bind(&a.client)
            .bind(&a.ip)
            .bind(now)
            .bind(&id)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// The password was wrong: the pending try becomes a settled failure.
    pub async fn settle_login_failure(&self, attempt: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE login_failures SET pending = 0 WHERE attempt = $1").bind(attempt).execute(&self.pool).await?;
        Ok(())
    }

    /// The client got the password right: forget its failures on this account
    /// (other clients' failures stay: they may be someone else guessing).
    pub async fn clear_client_failures(&self, a: &Attempt) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND client = $2").bind(&a.username).bind(&a.client).execute(&self.pool).await?;
        Ok(())
    }

    /// A reset or an unlock: forget every failure on the account.
    pub async fn clear_login_failures(&self, username: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(username.to_lowercase()).execute(&self.pool).await?;
        Ok(())
    }

    /// Whether this browser has signed in to the account before.
    pub async fn trusted_device(&self, device_hash: &str, user_id: i64) -> anyhow::Result<bool> {
        let row = sqlx::query("SELECT 1 FROM trusted_devices WHERE device_hash = $1 AND user_id = $2")
            .bind(device_hash)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Remembers that this browser signed in to the account.
    pub async fn trust_device(&self, device_hash: &str, user_id: i64, now: i64) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO trusted_devices (device_hash, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (device_hash, user_id) DO NOTHING")
            .bind(device_hash)
            .bind(user_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes login records older than [`KEEP`], expired sessions and
    /// trusted devices unused for a year. Returns how many rows went.
    pub async fn prune(&self, now: i64) -> anyhow::Result<u64> {
        let mut n = sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(now - KEEP).execute(&self.pool).await?.rows_affected();
        n += sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?.rows_affected();
        n += sqlx::query("DELETE FROM trusted_devices WHERE created_at < $1").bind(now - 366 * 24 * 3600).execute(&self.pool).await?.rows_affected();
        Ok(n)
    }
}

/// Prunes old login records and expired sessions every `every` until the server stops.
pub async fn prune_periodically(db: Db, every: std::time::Duration, mut stopping: tokio::sync::watch::Receiver<bool>) {
    loop {
        match db.prune(super::now()).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "pruned old login records and expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot prune old login records"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_from_one_second_and_is_capped() {
        assert_eq!(backoff(4, 5, 900), 0);
        assert_eq!(backoff(5, 5, 900), 1);
        assert_eq!(backoff(6, 5, 900), 2);
        assert_eq!(backoff(9, 5, 900), 16);
        assert_eq!(backoff(100, 5, 900), 900);
    }
}
