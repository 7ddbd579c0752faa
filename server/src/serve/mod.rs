//! `qiming serve`: the school server (embedded SQLite by default, or PostgreSQL).
//!
//! Starts the HTTP API on a tokio runtime, applies migrations, loads the
//! curriculum, creates the first platform admin, and shuts down gracefully on
//! SIGTERM or Ctrl-C (in-flight requests finish).

pub mod auth;
pub mod db;
pub mod gradebook;
pub mod http;
pub mod openapi;
pub mod org;
pub mod queue;
pub mod roster;
pub mod slips;
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
    /// secure_cookies, workers, lease_seconds, slip_font.
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
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("qiming.db").display()));
        Ok(Settings {
            addr: args.addr.or(file.addr).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            curriculum: env("QIMING_CURRICULUM")?.or(file.curriculum).unwrap_or_else(crate::curriculum_cmd::default_dir),
            secure_cookies: env("QIMING_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            workers: env("QIMING_WORKERS")?.or(file.workers).unwrap_or_else(default_workers),
            lease_seconds: env("QIMING_LEASE_SECONDS")?.or(file.lease_seconds).unwrap_or(30).max(2),
            slip_font: env("QIMING_SLIP_FONT")?.or(file.slip_font),
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
    let catalogue = crate::curriculum_cmd::load(&settings.curriculum)?;
    bootstrap_admin(&db).await?;
    let mut state = AppState::new(db, catalogue);
    state.secure_cookies = settings.secure_cookies;
    state.slip_font = settings.slip_font.clone();
    Ok(state)
}

/// Creates the platform admin on first start: with `QIMING_ADMIN_PASSWORD`, or
/// a generated password printed once (and to be changed at first login).
async fn bootstrap_admin(db: &Db) -> anyhow::Result<()> {
    if db.user_count().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var("QIMING_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (auth::generated_password(), true),
    };
    let hash = auth::hash_password(&password)?;
    let id = db.create_user("admin", "Platform admin", &hash, "platform_admin", generated, now()).await?;
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
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `qiming worker`: grading workers on another machine, sharing the server's database.
pub fn run_worker_cmd(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let curriculum = args.curriculum.clone().unwrap_or_else(crate::curriculum_cmd::default_dir);
    let count = args.workers.unwrap_or_else(default_workers).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let db = Db::connect(&args.database_url).await?;
        let catalogue = Arc::new(crate::curriculum_cmd::load(&curriculum)?);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let config = queue::QueueConfig { lease_seconds: args.lease_seconds.max(2), ..Default::default() };
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
        let config = queue::QueueConfig { lease_seconds: settings.lease_seconds, ..Default::default() };
        let faults = queue::Faults { delay_after_claim: args.fault_delay_ms.map(std::time::Duration::from_millis) };
        let signals = state.signals.clone();
        tokio::spawn(queue::watch_statuses(state.db.clone(), signals.clone(), std::time::Duration::from_millis(500)));
        let workers = queue::spawn_workers(settings.workers, &state.db, &state.catalogue, &config, &signals, &signals.stopping.subscribe(), &faults);
        tracing::info!(addr = %settings.addr, database = %redact(&settings.database_url), labs, workers = settings.workers, "qiming serve is listening");
        println!("Qiming is serving on http://{} ({labs} labs; {} grading workers; database {})", settings.addr, settings.workers, redact(&settings.database_url));
        let stopping = signals.stopping.clone();
        let on_signal = async move {
            shutdown_signal().await;
            // Workers give their jobs back and live-status streams end now;
            // axum then lets in-flight requests finish.
            let _ = stopping.send(true);
        };
        axum::serve(listener, http::app(state)).with_graceful_shutdown(on_signal).await.context("server error")?;
        for w in workers {
            let _ = w.await;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
