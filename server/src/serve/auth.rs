//! Passwords (argon2id), session tokens and who is calling.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::db::User;
use super::http::{AppError, AppState};

/// Name of the session cookie.
pub const COOKIE: &str = "qiming_session";
/// How long a session lasts (seconds).
pub const SESSION_SECONDS: i64 = 7 * 24 * 3600;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

/// argon2id memory cost in KiB: OWASP's Password Storage Cheat Sheet
/// recommends argon2id with m = 19 MiB, t = 2, p = 1 as the minimum. Each
/// hash allocates this much, which is why hashing goes through [`Passwords`]
/// (a fixed number of threads) and never straight to the blocking pool.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes (OWASP: 2 at 19 MiB).
pub const ARGON2_PASSES: u32 = 2;
/// argon2id lanes (OWASP: 1).
pub const ARGON2_LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (slow and memory-hungry by design: call it through
/// [`Passwords`] from async code).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string())
}

/// Hashes a password the server generated (first-login and reset passwords):
/// 14 characters from a 31-letter alphabet carry ~69 bits of entropy, so
/// their strength does not depend on a slow hash; a light argon2id (1 MiB,
/// one pass) keeps a 2,000-student import to seconds and its memory small.
/// `verify_password` reads the parameters from the hash, so both kinds verify alike.
pub fn hash_generated_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let params = Params::new(1024, 1, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let light = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    Ok(light.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string())
}

/// Checks a password against a stored hash, with the parameters the hash
/// was made with (older hashes keep working if the defaults change).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

type HashJob = Box<dyn FnOnce() + Send>;

/// The password hasher: a fixed set of threads that do every argon2 hash and
/// verification, behind a semaphore with a deadline.
///
/// Why not `spawn_blocking`: each argon2 call allocates ~19 MiB, tokio's
/// blocking pool grows to hundreds of threads under a burst of logins, and
/// glibc keeps the freed memory per thread arena — 100 concurrent logins once
/// took the process to 5.9 GB and it never came back. With `threads` hashers
/// the peak is `threads` × 19 MiB, and requests beyond that wait their turn
/// (up to `wait`) instead of all running at once.
#[derive(Clone)]
pub struct Passwords {
    slots: Arc<tokio::sync::Semaphore>,
    jobs: mpsc::Sender<HashJob>,
    wait: Duration,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").field("free", &self.slots.available_permits()).field("wait", &self.wait).finish()
    }
}

/// The hasher is saturated: the caller should answer 503 with `Retry-After`.
#[derive(Debug)]
pub struct Busy;

impl Passwords {
    /// `threads` hasher threads (one per core is right: argon2 is CPU-bound);
    /// a request waits at most `wait` for one to be free.
    pub fn new(threads: usize, wait: Duration) -> Passwords {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<HashJob>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("qiming-argon2-{i}")).spawn(move || {
                loop {
                    // Hold the lock only to take a job, not while hashing.
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // every sender is gone: the server is stopping
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Passwords { slots: Arc::new(tokio::sync::Semaphore::new(threads)), jobs, wait }
    }

    /// The process's hasher: one thread per core, waiting up to 10 s. Shared
    /// by every server state in the process, so the bound holds process-wide.
    pub fn for_this_machine() -> Passwords {
        static SHARED: std::sync::OnceLock<Passwords> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Passwords::new(std::thread::available_parallelism().map_or(1, |n| n.get()), Duration::from_secs(10))).clone()
    }

    /// Runs `f` on a hasher thread once one is free.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(Busy),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _ = tx.send(f());
            drop(permit);
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        rx.await.map_err(|_| Busy)
    }

    /// Verifies `password` against `hash`, or against a dummy hash when there
    /// is no account (so timing does not tell which usernames exist).
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, Busy> {
        let password = password.to_string();
        self.run(move || {
            let found = hash.is_some();
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            verify_password(&password, &hash) && found
        })
        .await
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<anyhow::Result<String>, Busy> {
        let password = password.to_string();
        self.run(move || hash_password(&password)).await
    }
}

/// A real hash of a random password, for verifying against when the user does not exist.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&generated_password()).unwrap_or_default())
}

/// A random secret as hex (CSRF tokens).
pub fn random_hex() -> String {
    hex::encode(random_bytes::<16>())
}

/// A new random token (given to the client) and its hash (stored).
pub fn new_token() -> (String, String) {
    let token = hex::encode(random_bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A readable generated password for first logins (no look-alike characters).
pub fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    random_bytes::<14>().iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// How a request proves who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer …` (studio, API clients): not sent by browsers
    /// on their own, so not open to cross-site request forgery.
    Bearer,
    /// The session cookie (web UI): writes must also carry the CSRF token.
    Cookie,
}

/// The name of the header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session token a request carries: `Authorization: Bearer …` (studio,
/// API) or the session cookie (web UI). Two session cookies are refused
/// rather than one silently winning (a planted cookie must not pick the session).
pub fn request_token(parts: &Parts) -> Result<Option<(String, TokenSource)>, AppError> {
    if let Some(v) = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Ok(Some((t.trim().to_string(), TokenSource::Bearer)));
    }
    let mut found = cookies(&parts.headers, COOKIE);
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(AppError::invalid("session", "two_sessions", "the request carries two session cookies: sign out and sign in again")),
        (Some(t), None) => Ok(Some((t, TokenSource::Cookie))),
        _ => Ok(None),
    }
}

/// Every value of the cookie `name`.
fn cookies<'a>(headers: &'a axum::http::HeaderMap, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |c| c.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_string))
}

/// A cookie's value (the first, for cookies where duplicates do no harm).
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookies(&parts.headers, name).next()
}

/// Name of the cookie that tells one browser from another for login
/// throttling (OWASP's "device cookie"); it carries no identity.
pub const DEVICE_COOKIE: &str = "qiming_device";

/// The client's address: the TCP peer, or — when the server is configured to
/// trust its reverse proxy — the last address the proxy added to
/// `X-Forwarded-For`.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.trust_forwarded_for
            && let Some(last) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|v| !v.is_empty())
        {
            return Ok(ClientAddr(last.to_string()));
        }
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "unknown".into())))
    }
}

/// Compares secrets in time independent of where they first differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user; rejects anonymous requests with 401, and
/// cookie-authenticated writes without the session's CSRF token with 403.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub token_hash: String,
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (token, source) = request_token(parts)?.ok_or(AppError::Unauthorized)?;
        let hash = token_hash(&token);
        let (user, csrf_token) = state.db.session_user(&hash, super::now()).await?.ok_or(AppError::Unauthorized)?;
        let safe = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        if source == TokenSource::Cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if csrf_token.is_empty() || !same_secret(sent, &csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        Ok(Caller { user, token_hash: hash, csrf_token })
    }
}

/// A signed-in user who has set their own password: everything but the
/// password change itself requires this (accounts created with a generated
/// password must change it first).
#[derive(Clone, Debug)]
pub struct ActiveCaller(pub Caller);

impl FromRequestParts<AppState> for ActiveCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.user.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(ActiveCaller(caller))
    }
}

/// Minimum length of a new password.
pub const MIN_PASSWORD: usize = 8;

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    /// Fewer than [`MIN_PASSWORD`] characters, or more than 256 bytes.
    Length,
    /// Only spaces or invisible characters (or it starts or ends with them).
    Invisible,
    /// Contains the username.
    ContainsUsername,
    /// On the common-password lists, or otherwise guessed in under a million tries.
    Common,
}

impl WeakPassword {
    /// The stable reason code in error bodies (`weak_password.reason`).
    pub fn code(self) -> &'static str {
        match self {
            WeakPassword::Length => "length",
            WeakPassword::Invisible => "invisible",
            WeakPassword::ContainsUsername => "contains_username",
            WeakPassword::Common => "common",
        }
    }

    /// What to do instead, for the person choosing the password.
    pub fn message(self) -> String {
        match self {
            WeakPassword::Length => format!("choose a password of {MIN_PASSWORD} to 256 characters"),
            WeakPassword::Invisible => "a password cannot be only spaces or invisible characters, nor start or end with them".into(),
            WeakPassword::ContainsUsername => "a password must not contain the username".into(),
            WeakPassword::Common => {
                "this password is too easy to guess (it is on the lists of common passwords): add a word or a few characters of your own".into()
            }
        }
    }
}

/// Characters that show nothing: a password of only these (or one that
/// starts or ends with them, which a user cannot see they typed) is refused.
fn invisible(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{3000}')
}

/// Passwords common among Chinese users that zxcvbn's English lists miss
/// (`woaini1314`, `5201314`, a pinyin name plus digits).
fn on_chinese_common_list(lower: &str) -> bool {
    static LIST: &str = include_str!("common-passwords-zh.txt");
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|entry| match entry.strip_prefix("stem:") {
        Some(word) => stem == word,
        None => lower == entry,
    })
}

/// The password policy for every password a person chooses (and
/// `QIMING_ADMIN_PASSWORD`): length, no invisible-only text, not the
/// username, and not guessable in under a million tries by zxcvbn's
/// estimator (which knows the common-password lists, keyboard walks,
/// repeats, sequences and dates). Generated passwords need no check.
pub fn check_new_password(password: &str, username: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_PASSWORD || password.len() > 256 {
        return Err(WeakPassword::Length);
    }
    if password.chars().all(invisible) || password.starts_with(invisible) || password.ends_with(invisible) {
        return Err(WeakPassword::Invisible);
    }
    let lower = password.to_lowercase();
    let user = username.to_lowercase();
    if user.chars().count() >= 3 && lower.contains(&user) {
        return Err(WeakPassword::ContainsUsername);
    }
    if on_chinese_common_list(&lower) {
        return Err(WeakPassword::Common);
    }
    // The estimator knows ASCII patterns; the common lists are ASCII too.
    let ascii: String = password.chars().filter(char::is_ascii).collect();
    if ascii.chars().count() == password.chars().count() {
        let entropy = zxcvbn::zxcvbn(password, &[username]);
        if (entropy.score() as u8) < 2 {
            return Err(WeakPassword::Common);
        }
    }
    Ok(())
}
