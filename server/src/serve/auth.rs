//! Passwords (argon2id), session tokens and who is calling.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::db::User;
use super::http::{AppError, AppState};

/// Name of the session cookie.
pub const COOKIE: &str = "qiming_session";
/// How long a session lasts (seconds).
pub const SESSION_SECONDS: i64 = 7 * 24 * 3600;
/// Failed logins for one account within [`THROTTLE_WINDOW`] before further tries are refused.
pub const THROTTLE_FAILURES: i64 = 10;
pub const THROTTLE_WINDOW: i64 = 15 * 60;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
/// API) or the session cookie (web UI).
pub fn request_token(parts: &Parts) -> Option<(String, TokenSource)> {
    if let Some(v) = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_string(), TokenSource::Bearer));
    }
    cookie(parts, COOKIE).map(|t| (t, TokenSource::Cookie))
}

/// A cookie's value.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_string))
}

/// Compares secrets in time independent of where they first differ.
fn same_secret(a: &str, b: &str) -> bool {
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
        let (token, source) = request_token(parts).ok_or(AppError::Unauthorized)?;
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
