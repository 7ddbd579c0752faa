//! The HTTP API: routes, errors, metrics and the OpenAPI document.
//!
//! `app(state)` builds the whole router, so tests drive it with
//! `tower::ServiceExt::oneshot` and no socket. Every route except health,
//! metrics, the OpenAPI document and login requires a signed-in caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiming_api::LoginRequest;
use qiming_curriculum::Catalogue;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::{self, COOKIE, Caller, ClientAddr, DEVICE_COOKIE, SESSION_SECONDS};
use super::db::{Db, User};
use super::throttle::Attempt;

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 256 << 10;
/// What a 503 from a saturated password hasher asks the client to wait (seconds).
pub const BUSY_RETRY_AFTER: i64 = 2;

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub logins: AtomicU64,
    pub failed_logins: AtomicU64,
    pub submissions: AtomicU64,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub catalogue: Arc<Catalogue>,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
    /// Mark cookies `Secure` (when served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Wakes workers and live-status streams.
    pub signals: super::queue::QueueSignals,
    /// A font with Chinese glyphs for 账号卡 (None: look in the usual places).
    pub slip_font: Option<std::path::PathBuf>,
    /// The address students use (`public_url`), printed on 账号卡; None: the request's `Host`.
    pub public_url: Option<String>,
    /// Every password hash and check goes through this bounded pool.
    pub passwords: auth::Passwords,
    /// Per-account serialisation of login throttling checks.
    pub login_locks: Arc<super::throttle::Stripes>,
    /// Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// `/metrics` answers to loopback, or to `Authorization: Bearer <token>` when set.
    pub metrics_token: Option<String>,
    /// Live-status streams open per user, for the per-user cap.
    pub streams: super::work::PerUser,
    /// Most live-status streams one user may hold open at once.
    pub max_streams_per_user: usize,
    /// Deadline for a whole request body to arrive.
    pub body_timeout: std::time::Duration,
    /// Turns for "test before submitting" runs (one per core).
    pub test_runs: Arc<tokio::sync::Semaphore>,
    /// People with a test run going (one each).
    pub test_users: super::work::PerUser,
    /// Contest leaderboards, recomputed when a grade lands (contest.rs).
    pub boards: super::contest::BoardCache,
    /// Lookups per client address at the public `/verify/{code}` (certificates.rs).
    pub verify_throttle: super::certificates::VerifyThrottle,
    /// The clock contest rounds run on (tests move it forward).
    pub clock: super::Clock,
}

impl AppState {
    /// State around a database and a catalogue, with defaults for the rest.
    pub fn new(db: Db, catalogue: Catalogue) -> AppState {
        AppState {
            db,
            catalogue: Arc::new(catalogue),
            metrics: Arc::new(Metrics::default()),
            started: Instant::now(),
            secure_cookies: false,
            signals: super::queue::QueueSignals::default(),
            slip_font: None,
            public_url: None,
            passwords: auth::Passwords::for_this_machine(),
            login_locks: Arc::default(),
            trust_forwarded_for: false,
            metrics_token: None,
            streams: Default::default(),
            max_streams_per_user: 8,
            body_timeout: std::time::Duration::from_secs(20),
            test_runs: Arc::new(tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))),
            test_users: Default::default(),
            boards: Default::default(),
            verify_throttle: Default::default(),
            clock: Default::default(),
        }
    }
}

/// Errors as the API reports them: a status and a JSON body that says what
/// to fix. Internal errors are logged and never sent to the client.
#[derive(Debug)]
pub enum AppError {
    /// A request the server cannot read (malformed JSON, path or query).
    BadRequest(String),
    /// One field's value is not acceptable. The body carries `field` and
    /// `reason` (and `max` where a limit applies), so the UI can say which
    /// field and why in the reader's language; `message` is for developers.
    Invalid {
        field: &'static str,
        reason: &'static str,
        max: Option<i64>,
        message: String,
    },
    Unauthorized,
    BadCredentials,
    NotFound,
    /// Slow down: try again after this many seconds. `reason` says what
    /// to wait for (`login`, `test_running`, `streams`).
    TooManyRequests {
        reason: &'static str,
        message: String,
        retry_after: i64,
    },
    /// The server is saturated (password hashing): try again shortly.
    Busy,
    /// A new password does not meet the policy.
    WeakPassword(auth::WeakPassword),
    PayloadTooLarge(String),
    PasswordChangeRequired,
    /// The caller's role may not do this.
    Forbidden(String),
    /// A cookie-authenticated write without the session's CSRF token.
    Csrf,
    /// The request is well-formed but clashes with the current state; the
    /// code names the clash (`username_taken`, `not_open`…).
    Conflict {
        code: &'static str,
        message: String,
    },
    /// A roster that cannot be imported: every bad row at once.
    InvalidRoster(Vec<super::roster::RowError>),
    /// A refusal with its own code and the fields a client acts on (the
    /// field at fault, an existing record, a reason): they are added to the
    /// `error` object beside `code` and `message`.
    Typed {
        status: StatusCode,
        code: &'static str,
        message: String,
        fields: serde_json::Map<String, Value>,
    },
    /// Something still holds other records and cannot be deleted; `contents` says what.
    NotEmpty {
        message: String,
        contents: Value,
    },
    /// The account is deactivated: the right password, but no sign-in.
    Deactivated,
    Internal(anyhow::Error),
}

impl AppError {
    /// An [`AppError::Typed`]; `fields` is a JSON object (anything else adds nothing).
    pub fn typed(status: StatusCode, code: &'static str, message: impl Into<String>, fields: Value) -> AppError {
        let fields = match fields {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        AppError::Typed { status, code, message: message.into(), fields }
    }

    /// A field's value is refused for `reason` (every pair has an
    /// `err_invalid_<reason>` and a `field_<field>` text in i18n.json).
    pub fn invalid(field: &'static str, reason: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid { field, reason, max: None, message: message.into() }
    }

    /// Adds the limit the value broke (a length, a count, a score), for the UI's text.
    pub fn max(mut self, limit: i64) -> AppError {
        if let AppError::Invalid { max, .. } = &mut self {
            *max = Some(limit);
        }
        self
    }

    /// A clash with the current state, with its own error code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict { code, message: message.into() }
    }
}

/// Unwraps a JSON body, turning extractor rejections into [`AppError`]s.
pub fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(v)| v).map_err(AppError::from)
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<auth::Busy> for AppError {
    fn from(_: auth::Busy) -> Self {
        AppError::Busy
    }
}

impl From<JsonRejection> for AppError {
    fn from(e: JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!("the request body is larger than {MAX_BODY} bytes"))
        } else {
            AppError::BadRequest(e.body_text())
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut extra = None;
        let mut retry = None;
        let mut reason = None;
        let mut fields = serde_json::Map::new();
        let mut extra_contents = None;
        let mut detail = None;
        let (status, code, message) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            AppError::Invalid { field, reason: why, max, message } => {
                reason = Some(why);
                detail = Some((field, max));
                (StatusCode::BAD_REQUEST, "invalid", message)
            }
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "sign in first (a session cookie or an `Authorization: Bearer` token)".into()),
            AppError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials", "wrong username or password".into()),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such resource".into()),
            AppError::TooManyRequests { reason: why, message, retry_after } => {
                retry = Some(retry_after.max(1));
                reason = Some(why);
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            }
            AppError::Busy => {
                retry = Some(BUSY_RETRY_AFTER);
                (StatusCode::SERVICE_UNAVAILABLE, "busy", "the server is busy checking other passwords; try again in a few seconds".into())
            }
            AppError::WeakPassword(w) => {
                reason = Some(w.code());
                (StatusCode::BAD_REQUEST, "weak_password", w.message())
            }
            AppError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required", "set your own password first: POST /api/password".into()),
            AppError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            AppError::Csrf => {
                (StatusCode::FORBIDDEN, "csrf", format!("a cookie-authenticated write must carry the session's CSRF token in the {} header", auth::CSRF_HEADER))
            }
            AppError::Conflict { code, message } => (StatusCode::CONFLICT, code, message),
            AppError::NotEmpty { message, contents } => {
                extra_contents = Some(contents);
                (StatusCode::CONFLICT, "not_empty", message)
            }
            AppError::Deactivated => (StatusCode::FORBIDDEN, "account_deactivated", "this account is deactivated: ask your teacher or school admin".into()),
            AppError::InvalidRoster(rows) => {
                let message = format!(
                    "the roster was not imported: {} bad row(s); first: row {} ({}): {}",
                    rows.len(),
                    rows.first().map_or(0, |r| r.row),
                    rows.first().map_or("", |r| r.field.as_str()),
                    rows.first().map_or("", |r| r.message.as_str())
                );
                extra = Some(json!(rows));
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_roster", message)
            }
            AppError::Typed { status, code, message, fields: f } => {
                fields = f;
                (status, code, message)
            }
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; it has been logged".into())
            }
        };
        let mut error = json!({"code": code, "message": message});
        for (k, v) in fields {
            error[k.as_str()] = v;
        }
        if let Some(rows) = extra {
            error["rows"] = rows;
        }
        if let Some(r) = reason {
            error["reason"] = json!(r);
        }
        if let Some(c) = extra_contents {
            error["contents"] = c;
        }
        if let Some((field, max)) = detail {
            error["field"] = json!(field);
            if let Some(max) = max {
                error["max"] = json!(max);
            }
        }
        if let Some(secs) = retry {
            error["retry_after"] = json!(secs);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/password", post(change_password))
        .route("/api/labs", get(labs))
        .merge(super::org::routes())
        .merge(super::work::routes())
        .merge(super::gradebook::routes())
        .merge(super::assessments::routes())
        .merge(super::reports::routes())
        .merge(super::calibrations::routes())
        .merge(super::contest::routes())
        .merge(super::judging::routes())
        .merge(super::certificates::routes())
        .merge(super::similarity::routes())
        .merge(super::onsite::routes())
        .merge(super::creative::routes())
        .merge(super::quiz::routes())
        .merge(super::web::routes())
        .fallback(fallback)
        // On-site rounds: a contestant's round requests from the contest room only (onsite.rs).
        .layer(middleware::from_fn_with_state(state.clone(), super::onsite::guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .layer(middleware::from_fn_with_state(state.body_timeout, |State(deadline): State<std::time::Duration>, request: Request, next: Next| {
            super::listen::read_body_in_time(deadline, request, next)
        }))
        .with_state(state)
}

async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let api = request.uri().path().starts_with("/api/");
    let changes = !matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
    let mut response = json_rejections(next.run(request).await).await;
    // A change that went through may change who sees which leaderboard.
    let succeeded = response.status().is_success() || response.status().is_redirection();
    if changes && succeeded && response.extensions().get::<super::contest::AccessUnchanged>().is_none() {
        state.boards.access.access_changed();
    }
    // API answers carry personal data: never cache them, never sniff their type.
    if api {
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    if response.status().is_client_error() {
        state.metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if response.status().is_server_error() {
        state.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    response
}

/// axum's own extractor rejections (a malformed path id or query, a body
/// over the limit) answer in plain text; rewrite them in the API's JSON error
/// shape so every 4xx says the same way what is wrong.
async fn json_rejections(response: Response) -> Response {
    let status = response.status();
    let plain = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 10).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&bytes).into_owned();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "bad_request",
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    state.db.ping().await?;
    Ok(Json(json!({"status": "ok"})))
}

/// `/metrics` is for the operator's Prometheus: loopback callers, or a
/// bearer token when `metrics_token` is configured. Everyone else gets 404.
fn may_read_metrics(state: &AppState, headers: &HeaderMap, client: &str) -> bool {
    match &state.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| auth::same_secret(t.trim(), token)),
        None => client.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) || client == "unknown",
    }
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap, ClientAddr(client): ClientAddr) -> Result<Response, AppError> {
    if !may_read_metrics(&state, &headers, &client) {
        return Err(AppError::NotFound);
    }
    let m = &state.metrics;
    let users = state.db.user_count().await?;
    let (queued, running) = state.db.queue_depth().await?;
    let body = format!(
        "# HELP qiming_up Whether the server is up.\n# TYPE qiming_up gauge\nqiming_up 1\n\
         # HELP qiming_uptime_seconds Seconds since the server started.\n# TYPE qiming_uptime_seconds gauge\nqiming_uptime_seconds {}\n\
         # HELP qiming_http_requests_total HTTP requests served.\n# TYPE qiming_http_requests_total counter\nqiming_http_requests_total {}\n\
         # HELP qiming_http_client_errors_total Responses with a 4xx status.\n# TYPE qiming_http_client_errors_total counter\nqiming_http_client_errors_total {}\n\
         # HELP qiming_http_server_errors_total Responses with a 5xx status.\n# TYPE qiming_http_server_errors_total counter\nqiming_http_server_errors_total {}\n\
         # HELP qiming_logins_total Successful logins.\n# TYPE qiming_logins_total counter\nqiming_logins_total {}\n\
         # HELP qiming_failed_logins_total Failed logins.\n# TYPE qiming_failed_logins_total counter\nqiming_failed_logins_total {}\n\
         # HELP qiming_users Accounts.\n# TYPE qiming_users gauge\nqiming_users {users}\n\
         # HELP qiming_labs Labs in the loaded curriculum.\n# TYPE qiming_labs gauge\nqiming_labs {}\n\
         # HELP qiming_submissions_total Submissions accepted by this server.\n# TYPE qiming_submissions_total counter\nqiming_submissions_total {}\n\
         # HELP qiming_queue_jobs Grading jobs by state.\n# TYPE qiming_queue_jobs gauge\nqiming_queue_jobs{{state=\"queued\"}} {queued}\nqiming_queue_jobs{{state=\"running\"}} {running}\n",
        state.started.elapsed().as_secs(),
        m.requests.load(Ordering::Relaxed),
        m.client_errors.load(Ordering::Relaxed),
        m.server_errors.load(Ordering::Relaxed),
        m.logins.load(Ordering::Relaxed),
        m.failed_logins.load(Ordering::Relaxed),
        state.catalogue.labs.len(),
        m.submissions.load(Ordering::Relaxed),
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

async fn fallback(State(state): State<AppState>, request: Request) -> AppError {
    // Anonymous callers learn nothing about which paths exist.
    let (mut parts, _) = request.into_parts();
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(_) => AppError::NotFound,
        Err(e) => e,
    }
}

use axum::extract::FromRequestParts;

pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
        "must_change_password": u.must_change_password, "school_id": u.school_id, "class_id": u.class_id,
        "student_number": u.student_number,
    })
}

/// The device cookie's hash, if the browser sent one.
fn device_hash(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(DEVICE_COOKIE).and_then(|r| r.strip_prefix('=')))
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(auth::token_hash)
}

/// Checks a password under the throttling rules (see `throttle.rs`): refuses
/// with 429 while this client must wait, records the try, verifies it on the
/// hasher pool, and forgets this client's failures when it is right.
pub async fn checked_password(
    state: &AppState,
    username: &str,
    user: Option<(i64, String)>,
    password: &str,
    client: &str,
    device: Option<&str>,
) -> Result<bool, AppError> {
    let now = super::now();
    let trusted = match (device, &user) {
        (Some(d), Some((id, _))) => state.db.trusted_device(d, *id).await?,
        _ => false,
    };
    let attempt = Attempt {
        username: username.to_lowercase(),
        client: device.map_or_else(|| format!("ip:{client}"), |d| format!("d:{d}")),
        ip: client.to_string(),
        trusted,
    };
    let recorded = {
        // Check and record under one lock per account, so a burst of
        // parallel guesses is counted one by one.
        let _guard = state.login_locks.lock(&attempt.username).await;
        let wait = state.db.login_delay(&attempt, now).await?;
        if wait > 0 {
            return Err(AppError::TooManyRequests {
                reason: "login",
                message: format!("too many wrong passwords from this computer; try again in {wait} seconds"),
                retry_after: wait,
            });
        }
        state.db.record_login_attempt(&attempt, now).await?
    };
    let verified = match state.passwords.verify(password, user.map(|(_, h)| h)).await {
        Ok(v) => v,
        Err(busy) => {
            // Not checked at all: the try does not count against anyone.
            sqlx::query("DELETE FROM login_failures WHERE attempt = $1").bind(&recorded).execute(&state.db.pool).await?;
            return Err(busy.into());
        }
    };
    if verified {
        state.db.clear_client_failures(&attempt).await?;
    } else {
        state.db.settle_login_failure(&recorded).await?;
        state.metrics.failed_logins.fetch_add(1, Ordering::Relaxed);
    }
    Ok(verified)
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request_headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(req) = body?;
    if req.username.trim().is_empty() || req.username.len() > 64 || req.password.len() > 256 || req.username.chars().any(char::is_control) {
        let message = "username must be 1–64 characters without control characters, and password at most 256";
        return Err(if req.password.len() > 256 {
            AppError::invalid("password", "length", message).max(256)
        } else {
            AppError::invalid("username", "length", message).max(64)
        });
    }
    let username = req.username.trim();
    let device = device_hash(&request_headers);
    let found = state.db.user_by_name(username).await?;
    let known = found.as_ref().map(|(u, h)| (u.id, h.clone()));
    // Unknown users cost the same time (a dummy hash), so timing does not reveal which accounts exist.
    let verified = checked_password(&state, username, known, &req.password, &client, device.as_deref()).await?;
    let Some((user, _)) = found.filter(|_| verified) else {
        return Err(AppError::BadCredentials);
    };
    let deactivated: Option<i64> = sqlx::query("SELECT deactivated_at FROM users WHERE id = $1").bind(user.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    if deactivated.is_some() {
        return Err(AppError::Deactivated);
    }
    let now = super::now();
    let (token, hash) = auth::new_token();
    // During an on-site round a contestant has one session, at their seat (onsite.rs).
    super::onsite::sign_in(&state, &user, &client, &hash).await?;
    let csrf_token = auth::random_hex();
    state.db.create_session(&hash, &csrf_token, user.id, now, now + SESSION_SECONDS).await?;
    if user.must_change_password {
        // Signed in with the generated password just now: this session may
        // set the new one without the child retyping it (see change_password).
        sqlx::query("UPDATE sessions SET fresh_generated = 1 WHERE token_hash = $1").bind(&hash).execute(&state.db.pool).await?;
    }
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2").bind(now).bind(user.id).execute(&state.db.pool).await?;
    // This browser now counts as the account's own: other clients' failures do not slow it.
    let device_token = match &device {
        Some(d) => {
            state.db.trust_device(d, user.id, now).await?;
            None
        }
        None => {
            let (token, hash) = auth::new_token();
            state.db.trust_device(&hash, user.id, now).await?;
            Some(token)
        }
    };
    state.db.audit(now, Some(user.id), "login", "").await?;
    state.metrics.logins.fetch_add(1, Ordering::Relaxed);
    // Secure when configured, or when a TLS-terminating proxy says the browser used https.
    let via_https = request_headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let secure = if state.secure_cookies || via_https { "; Secure" } else { "" };
    let mut headers = HeaderMap::new();
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}");
    headers.append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?);
    if let Some(d) = device_token {
        let cookie = format!("{DEVICE_COOKIE}={d}; Path=/api/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", 365 * 24 * 3600);
        headers.append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?);
    }
    // A new session changes nobody's access to anything.
    Ok(super::contest::access_unchanged((headers, Json(json!({"token": token, "csrf_token": csrf_token, "user": user_json(&user)})))))
}

async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    state.db.delete_session(&caller.token_hash).await?;
    state.db.audit(super::now(), Some(caller.user.id), "logout", "").await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, HeaderValue::from_static("qiming_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Whether this session signed in with the generated password of an
/// account that must still change it.
async fn fresh_generated(state: &AppState, caller: &Caller) -> Result<bool, AppError> {
    if !caller.user.must_change_password {
        return Ok(false);
    }
    let row = sqlx::query("SELECT fresh_generated FROM sessions WHERE token_hash = $1").bind(&caller.token_hash).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.unwrap_or(0) != 0)
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    let mut me = user_json(&caller.user);
    me["csrf_token"] = json!(caller.csrf_token);
    me["may_assign_roles"] = json!(caller.user.may_assign_roles());
    me["current_password_required"] = json!(!fresh_generated(&state, &caller).await?);
    // The role rules, so the web UI does not keep a copy of them.
    me["can"] = json!(caller.user.can());
    Ok(Json(me))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    /// Required, except from a session that signed in with the generated
    /// password of an account that must change it (`/api/me` says which).
    current_password: Option<String>,
    new_password: String,
}

/// Sets the caller's own password. A child who has just typed their
/// 14-character generated password to sign in is not made to type it again
/// for the forced change: the session remembers it signed in with it
/// (`sessions.fresh_generated`), and only such a session, only while the
/// change is still required, may leave `current_password` out.
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Json<PasswordRequest>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    let Json(req) = body?;
    let hash = state.db.password_hash(caller.user.id).await?.ok_or(AppError::Unauthorized)?;
    let without_current = match &req.current_password {
        Some(current) => {
            if current.len() > 256 {
                return Err(AppError::invalid("current_password", "wrong", "current_password is not right"));
            }
            // A wrong current password counts like a failed login (a stolen session
            // must not become a free password-guessing oracle).
            let device = device_hash(&headers);
            if !checked_password(&state, &caller.user.username, Some((caller.user.id, hash)), current, &client, device.as_deref()).await? {
                return Err(AppError::invalid("current_password", "wrong", "current_password is not right"));
            }
            auth::check_new_password(&req.new_password, &caller.user.username).map_err(AppError::WeakPassword)?;
            if req.new_password == *current {
                return Err(AppError::invalid("new_password", "unchanged", "new_password must differ from current_password"));
            }
            false
        }
        None if fresh_generated(&state, &caller).await? => {
            auth::check_new_password(&req.new_password, &caller.user.username).map_err(AppError::WeakPassword)?;
            if state.passwords.verify(&req.new_password, Some(hash)).await? {
                return Err(AppError::invalid("new_password", "unchanged", "new_password must differ from the password you signed in with"));
            }
            true
        }
        None => return Err(AppError::invalid("current_password", "required", "current_password is required")),
    };
    let new_hash = state.passwords.hash(&req.new_password).await??;
    // The password, the end of the other sessions and the audit row commit together.
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2").bind(&new_hash).bind(caller.user.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(caller.user.id).bind(&caller.token_hash).execute(&mut *tx).await?;
    sqlx::query("UPDATE sessions SET fresh_generated = 0 WHERE user_id = $1").bind(caller.user.id).execute(&mut *tx).await?;
    super::org::audit_in(&mut tx, &caller.user, "password_change", if without_current { "first_change=signed_in_with_generated" } else { "" }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn labs(State(state): State<AppState>, _caller: super::auth::ActiveCaller) -> Json<qiming_api::LabList> {
    Json(qiming_api::LabList { labs: state.catalogue.labs.iter().map(|l| qiming_api::LabSummary::new(l, super::work::lab_limits(l))).collect() })
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// The OpenAPI 3.1 description of the API.
pub fn openapi_document() -> Value {
    super::openapi::document()
}
