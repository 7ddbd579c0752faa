//! `qiming serve`: the school server (embedded SQLite by default, or PostgreSQL).
//!
//! Starts the HTTP API on a tokio runtime, applies migrations, loads the
//! curriculum, creates the first platform admin, and shuts down gracefully on
//! SIGTERM or Ctrl-C (in-flight requests finish).

pub mod assessments;
pub mod auth;
pub mod backup;
pub mod calibrations;
pub mod certificates;
pub mod contest;
pub mod creative;
pub mod db;
pub mod gradebook;
pub mod http;
pub mod item_review;
pub mod judging;
pub mod lesson;
pub mod listen;
pub mod onsite;
pub mod openapi;
pub mod org;
pub mod queue;
pub mod quiz;
pub mod reports;
pub mod roster;
pub mod secret;
pub mod similarity;
pub mod slips;
pub mod throttle;
pub mod web;
pub mod work;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;

use db::Db;
use http::AppState;

/// Unix seconds (the server's clock; never used by sim or grading).
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The clock contest rounds are timed by (`AppState::clock`): the system's,
/// plus an offset that only tests move, so a round opens, freezes and
/// closes without the test waiting for it in real time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        now() + self.offset.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves this clock `seconds` forward (tests).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where the embedded database and other data live (created on first start).
    #[arg(long, env = "QIMING_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "QIMING_ADDR")]
    pub addr: Option<SocketAddr>,
    /// sqlite://PATH or postgres://… (default: SQLite in the data directory).
    #[arg(long, env = "QIMING_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A TOML file with any of: data_dir, addr, database_url, curriculum,
    /// secure_cookies, workers, lease_seconds, slip_font, public_url.
    #[arg(long, env = "QIMING_CONFIG")]
    pub config: Option<PathBuf>,
    /// Fault injection for crash tests: in-process workers wait this long after claiming a job.
    #[arg(long, hide = true)]
    pub fault_delay_ms: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The server's database: postgres://… (or sqlite://PATH on the same machine).
    #[arg(long, env = "QIMING_DATABASE_URL")]
    pub database_url: String,
    /// The curriculum folder (default: the shipped curriculum).
    #[arg(long, env = "QIMING_CURRICULUM")]
    pub curriculum: Option<PathBuf>,
    /// Grading workers to run (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// How long a claimed job stays ours without renewal (seconds).
    #[arg(long, default_value_t = 30)]
    pub lease_seconds: i64,
    /// A competition's hidden-case secret (64 hex digits); default: the one in the database.
    #[arg(long, env = "QIMING_HIDDEN_SEED_SECRET", hide_env_values = true)]
    pub hidden_seed_secret: Option<String>,
    /// Fault injection for crash tests: wait this long after claiming a job.
    #[arg(long, hide = true)]
    pub fault_delay_ms: Option<u64>,
}

/// Settings from the config file; command-line flags and environment win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    addr: Option<SocketAddr>,
    database_url: Option<String>,
    curriculum: Option<PathBuf>,
    secure_cookies: Option<bool>,
    workers: Option<usize>,
    lease_seconds: Option<i64>,
    slip_font: Option<PathBuf>,
    public_url: Option<String>,
    max_connections: Option<usize>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    max_streams_per_user: Option<usize>,
    trust_forwarded_for: Option<bool>,
    metrics_token: Option<String>,
    hidden_seed_secret: Option<String>,
    backup_dir: Option<PathBuf>,
    backup_every: Option<String>,
    backup_keep: Option<usize>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    pub database_url: String,
    pub curriculum: PathBuf,
    pub secure_cookies: bool,
    /// In-process grading workers (0: leave grading to `qiming worker`s).
    pub workers: usize,
    pub lease_seconds: i64,
    pub slip_font: Option<PathBuf>,
    /// The address students use to reach the server (printed on 账号卡 with a QR code).
    pub public_url: Option<String>,
    /// Connection limits and timeouts of the listener.
    pub limits: listen::Limits,
    /// Live-status streams one user may hold open.
    pub max_streams_per_user: usize,
    /// Take client addresses from `X-Forwarded-For` (only behind your own reverse proxy).
    pub trust_forwarded_for: bool,
    /// Bearer token for `/metrics` (without one, only loopback may read it).
    pub metrics_token: Option<String>,
    /// A competition's own hidden-case secret (64 hex digits); default: the server's own.
    pub hidden_seed_secret: Option<String>,
    /// Scheduled backups: where, how often, how many to keep.
    pub backup_dir: Option<PathBuf>,
    pub backup_every: std::time::Duration,
    pub backup_keep: usize,
}

/// Parses "90s", "30m", "6h", "1d" or plain seconds.
fn parse_interval(text: &str) -> anyhow::Result<std::time::Duration> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| anyhow::anyhow!("backup_every = {text:?}: use a number with s, m, h or d, e.g. \"6h\""))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        other => anyhow::bail!("backup_every = {text:?}: unknown unit {other:?}; use s, m, h or d"),
    };
    anyhow::ensure!(secs >= 60, "backup_every = {text:?}: at least one minute");
    Ok(std::time::Duration::from_secs(secs))
}

/// `public_url` must be an http(s) address (the one students type, e.g. `http://192.168.1.10:8080`).
fn check_public_url(url: Option<String>) -> anyhow::Result<Option<String>> {
    let Some(url) = url.map(|u| u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty()) else { return Ok(None) };
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    anyhow::ensure!(
        rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace)) && url.len() <= 200,
        "public_url = {url:?}: use the address students type, e.g. \"http://192.168.1.10:8080\""
    );
    Ok(Some(url))
}

/// Refuses more grading workers than one process can run WebAssembly for at
/// once (an exhausted instance pool would fail students' runs for our reasons).
pub fn check_workers(n: usize) -> anyhow::Result<usize> {
    let max = qiming_runtime::MAX_PARALLEL_WASM_RUNS;
    anyhow::ensure!(n <= max, "{n} grading workers is more than one process can run ({max}); start several `qiming worker` processes instead");
    Ok(n)
}

/// One grading worker per core by default.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Settings {
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Settings> {
        let file: ConfigFile = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
                toml_config(&text).with_context(|| format!("config {}", path.display()))?
            }
            None => ConfigFile::default(),
        };
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("qiming-data"));
        let database_url = args.database_url.clone().or(file.database_url).unwrap_or_else(|| format!("sqlite://{}", data_dir.join("qiming.db").display()));
        Ok(Settings {
            addr: args.addr.or(file.addr).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            curriculum: env("QIMING_CURRICULUM")?.or(file.curriculum).unwrap_or_else(qiming_curriculum::find_dir),
            secure_cookies: env("QIMING_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            workers: check_workers(env("QIMING_WORKERS")?.or(file.workers).unwrap_or_else(default_workers))?,
            lease_seconds: env("QIMING_LEASE_SECONDS")?.or(file.lease_seconds).unwrap_or(30).max(2),
            slip_font: env("QIMING_SLIP_FONT")?.or(file.slip_font),
            public_url: check_public_url(env("QIMING_PUBLIC_URL")?.or(file.public_url))?,
            limits: listen::Limits {
                max_connections: env("QIMING_MAX_CONNECTIONS")?.or(file.max_connections).unwrap_or(listen::Limits::default().max_connections),
                header_timeout: std::time::Duration::from_secs(env("QIMING_HEADER_TIMEOUT_SECONDS")?.or(file.header_timeout_seconds).unwrap_or(10).max(1)),
                body_timeout: std::time::Duration::from_secs(env("QIMING_BODY_TIMEOUT_SECONDS")?.or(file.body_timeout_seconds).unwrap_or(20).max(1)),
            },
            max_streams_per_user: env("QIMING_MAX_STREAMS_PER_USER")?.or(file.max_streams_per_user).unwrap_or(8).max(1),
            trust_forwarded_for: env("QIMING_TRUST_FORWARDED_FOR")?.or(file.trust_forwarded_for).unwrap_or(false),
            metrics_token: env("QIMING_METRICS_TOKEN")?.or(file.metrics_token).filter(|t: &String| !t.is_empty()),
            hidden_seed_secret: env("QIMING_HIDDEN_SEED_SECRET")?.or(file.hidden_seed_secret).filter(|t: &String| !t.is_empty()),
            backup_dir: env("QIMING_BACKUP_DIR")?.or(file.backup_dir),
            backup_every: parse_interval(&env::<String>("QIMING_BACKUP_EVERY")?.or(file.backup_every).unwrap_or_else(|| "1d".into()))?,
            backup_keep: env("QIMING_BACKUP_KEEP")?.or(file.backup_keep).unwrap_or(7),
            data_dir,
            database_url,
        })
    }
}

/// A setting from the environment (which wins over the config file); a value
/// that does not parse is an error naming the variable, not silently ignored.
fn env<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map(Some).map_err(|e| anyhow::anyhow!("{name}={v:?}: {e}")),
        _ => Ok(None),
    }
}

fn toml_config(text: &str) -> anyhow::Result<ConfigFile> {
    // The binary already links `toml` through the curriculum; parse with it via serde.
    qiming_curriculum::parse_toml(text).map_err(anyhow::Error::msg)
}

/// Builds the application state: database (migrated), curriculum, first admin.
pub async fn state(settings: &Settings) -> anyhow::Result<AppState> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    }
    let db = Db::connect(&settings.database_url).await?;
    let catalogue = qiming_curriculum::Catalogue::open(&settings.curriculum)?;
    bootstrap_admin(&db).await?;
    let mut state = AppState::new(db, catalogue);
    state.secure_cookies = settings.secure_cookies;
    state.slip_font = settings.slip_font.clone();
    state.public_url = settings.public_url.clone();
    state.trust_forwarded_for = settings.trust_forwarded_for;
    state.metrics_token = settings.metrics_token.clone();
    state.max_streams_per_user = settings.max_streams_per_user;
    state.body_timeout = settings.limits.body_timeout;
    Ok(state)
}

/// Creates the platform admin on first start: with `QIMING_ADMIN_PASSWORD`, or
/// a generated password printed once (and to be changed at first login).
async fn bootstrap_admin(db: &Db) -> anyhow::Result<()> {
    if db.user_count().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var("QIMING_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => {
            auth::check_new_password(&p, "admin").map_err(|w| anyhow::anyhow!("QIMING_ADMIN_PASSWORD is not accepted: {}", w.message()))?;
            (p, false)
        }
        _ => (auth::generated_password(), true),
    };
    let hash = auth::hash_password(&password)?;
    // No display name: the UI shows the username and the role in the reader's language.
    let id = db.create_user("admin", "", &hash, "platform_admin", generated, now()).await?;
    db.audit(now(), None, "bootstrap_admin", &format!("user_id={id}")).await?;
    if generated {
        println!("created the platform admin: username `admin`, password `{password}` (shown once; change it at first login)");
    } else {
        println!("created the platform admin `admin` with the password from QIMING_ADMIN_PASSWORD");
    }
    Ok(())
}

/// Logs through `tracing`: `RUST_LOG` filters (default `info`);
/// `QIMING_LOG=json` writes one JSON object per line for log collectors.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colours only for a person at a terminal, never into log files.
    let ansi = std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi);
    let _ = if std::env::var("QIMING_LOG").is_ok_and(|v| v == "json") { builder.json().try_init() } else { builder.try_init() };
}

/// A database URL without its password, for logs.
///
/// Works on any text that contains URLs (an error message quoting one): the
/// password in `scheme://user:password@host` and any `password=…` parameter
/// are replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let start = scheme + 3;
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ')')).unwrap_or(tail.len());
        let token = &tail[..end];
        match token.rfind('@').map(|at| (&token[..at], &token[at..])) {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or("");
                out.push_str(&format!("{user}:***{host}"));
            }
            _ => out.push_str(token),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    redact_parameter(&out)
}

/// Masks `password=…` (a connection-string parameter) up to `&`, `;` or whitespace.
fn redact_parameter(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("password=") {
        let start = i + "password=".len();
        out.push_str(&rest[..start]);
        out.push_str("***");
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | '"' | '\'')).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `qiming worker`: grading workers on another machine, sharing the server's database.
pub fn run_worker_cmd(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let curriculum = args.curriculum.clone().unwrap_or_else(qiming_curriculum::find_dir);
    let count = check_workers(args.workers.unwrap_or_else(default_workers).max(1))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let db = Db::connect(&args.database_url).await?;
        let catalogue = Arc::new(qiming_curriculum::Catalogue::open(&curriculum)?);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let hidden_secret = secret::load_or_create(&db, None, args.hidden_seed_secret.as_deref()).await?;
        let config = queue::QueueConfig { lease_seconds: args.lease_seconds.max(2), hidden_secret: Some(hidden_secret), ..Default::default() };
        let faults = queue::Faults { delay_after_claim: args.fault_delay_ms.map(std::time::Duration::from_millis) };
        let workers = queue::spawn_workers(count, &db, &catalogue, &config, &queue::QueueSignals::default(), &shutdown, &faults);
        println!("qiming worker: {count} grading workers on {}", redact(&args.database_url));
        shutdown_signal().await;
        let _ = stop.send(true);
        for w in workers {
            let _ = w.await;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    // Grading threads were cancelled; do not wait on stragglers past systemd's patience.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let settings = Settings::resolve(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let state = state(&settings).await?;
        let labs = state.catalogue.labs.len();
        let listener = tokio::net::TcpListener::bind(settings.addr).await.with_context(|| format!("cannot listen on {}", settings.addr))?;
        let mut limits = settings.limits.clone();
        limits.max_connections = listen::connection_ceiling(limits.max_connections);
        let hidden_secret = secret::load_or_create(
            &state.db,
            settings.database_url.starts_with("sqlite:").then_some(settings.data_dir.as_path()),
            settings.hidden_seed_secret.as_deref(),
        )
        .await?;
        let config = queue::QueueConfig { lease_seconds: settings.lease_seconds, hidden_secret: Some(hidden_secret), ..Default::default() };
        let faults = queue::Faults { delay_after_claim: args.fault_delay_ms.map(std::time::Duration::from_millis) };
        let signals = state.signals.clone();
        tokio::spawn(queue::watch_statuses(state.db.clone(), signals.clone(), std::time::Duration::from_millis(500)));
        tokio::spawn(assessments::finish_expired_periodically(state.clone(), std::time::Duration::from_secs(30), signals.stopping.subscribe()));
        tokio::spawn(throttle::prune_periodically(state.db.clone(), std::time::Duration::from_secs(3600), signals.stopping.subscribe()));
        if let Some(dir) = &settings.backup_dir {
            anyhow::ensure!(state.db.backend == db::Backend::Sqlite, "backup_dir is for SQLite servers; back up PostgreSQL with pg_dump (README, \"Backups\")");
            tokio::spawn(backup::backup_periodically(
                state.db.clone(),
                settings.data_dir.clone(),
                dir.clone(),
                settings.backup_every,
                settings.backup_keep,
                signals.stopping.subscribe(),
            ));
        }
        let workers = queue::spawn_workers(settings.workers, &state.db, &state.catalogue, &config, &signals, &signals.stopping.subscribe(), &faults);
        tracing::info!(addr = %settings.addr, database = %redact(&settings.database_url), labs, workers = settings.workers, "qiming serve is listening");
        println!(
            "Qiming is serving on http://{} ({labs} labs; {} grading workers; database {})",
            settings.addr,
            settings.workers,
            redact(&settings.database_url)
        );
        let stopping = signals.stopping.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            // Workers give their jobs back and live-status streams end now;
            // the listener then lets in-flight requests finish.
            let _ = stopping.send(true);
        });
        tracing::info!(
            max_connections = limits.max_connections,
            header_timeout_s = limits.header_timeout.as_secs(),
            body_timeout_s = limits.body_timeout.as_secs(),
            "connection limits"
        );
        listen::serve(listener, http::app(state), &limits, signals.stopping.subscribe(), std::time::Duration::from_secs(5)).await.context("server error")?;
        for w in workers {
            let _ = w.await;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    // Grading threads were cancelled; do not wait on stragglers past systemd's patience.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(ExitCode::SUCCESS)
}
