//! The grading queue: submissions are jobs, claimed by workers under leases.
//!
//! A submission row is its own job (`status`, `lease_owner`,
//! `lease_expires_at`, `claims`). A worker claims the oldest queued job — or a
//! running one whose lease has expired, because its worker died — in one
//! atomic statement: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so many
//! workers claim different jobs without waiting on each other; on SQLite the
//! same `UPDATE … WHERE id = (SELECT …)` is atomic because SQLite has one
//! writer at a time. While grading, the worker renews its lease; the result is
//! written only if the worker still holds the lease, so a job taken over by
//! another worker is written once (and, grading being deterministic, with the
//! same result either way).
//!
//! **Fairness.** Jobs are not taken first-in-first-out: each submission
//! records, when it arrives, how many unfinished jobs its student already has
//! (`fair_student`) and its class has (`fair_class`), and workers take the
//! lowest ranks first, oldest among equals. A student's first job therefore
//! never waits behind another student's second, third or hundredth — four
//! hostile submissions once made a classmate wait 206 s — and a small class
//! is not stuck behind a large one. Each run also has a processor-time budget
//! of seconds (`grading::grade::cpu_budget`), so one job cannot hold a worker
//! for long.

use std::sync::Arc;
use std::time::Duration;

use qiming_curriculum::Catalogue;
use qiming_grading::grade::GradeOptions;
use qiming_runtime::Program;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Mutex;

use tokio::sync::{Notify, broadcast, watch};

use super::db::{Backend, Db};
use super::now;

/// A job as a worker sees it.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub lab_id: String,
    /// Whose hidden-case seeds: the server's, or a contest round's.
    pub seeds: Seeds,
    pub language: String,
    pub program: String,
    pub claims: i64,
}

/// Which seeds a job's hidden cases run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// An assignment's: the server's secret.
    Server,
    /// A contest round's: a key of its own, derived from the server's secret
    /// and the round, so seeds differ between rounds and from assignments.
    Round(i64),
    /// A round's final ranking: the key drawn after the round closed.
    Final { round: i64, key: String },
}

impl Seeds {
    /// The secret `grading::grade::hidden_seed` derives this job's hidden seeds from.
    pub fn secret(&self, server: Option<[u8; 32]>) -> Option<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let base = match self {
            Seeds::Server => return server,
            // Without a server secret (tests, `qiming grade`-like setups) the round's key still differs per round.
            Seeds::Round(_) | Seeds::Final { .. } => server.unwrap_or([0; 32]),
        };
        let mut h = Sha256::new();
        h.update(b"qiming-round-key-v1\0");
        h.update(base);
        match self {
            Seeds::Round(round) => h.update(round.to_le_bytes()),
            Seeds::Final { round, key } => {
                h.update(round.to_le_bytes());
                h.update(b"final\0");
                h.update(key.as_bytes());
            }
            Seeds::Server => {}
        }
        Some(h.finalize().into())
    }
}

/// After this many claims without a result (the grader crashed or was killed
/// each time), the submission is marked failed instead of retried forever.
pub const MAX_CLAIMS: i64 = 5;

/// Queue settings.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// How long a claim lasts without renewal (seconds).
    pub lease_seconds: i64,
    /// How often an idle worker looks for work it was not told about (remote submissions).
    pub poll: Duration,
    /// The server's hidden-case secret (see `grading::grade::hidden_seed`).
    pub hidden_secret: Option<[u8; 32]>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { lease_seconds: 30, poll: Duration::from_millis(500), hidden_secret: None }
    }
}

/// What a finished grading writes.
#[derive(Debug)]
pub struct Outcome {
    pub score: f64,
    pub max_score: f64,
    pub report_json: String,
    pub replays: Vec<(String, Vec<u8>)>,
    /// A contest submission's evidence for judges (`evidence` tables).
    pub evidence: Option<Evidence>,
}

/// What the grader measured in a contest submission's hidden cases.
#[derive(Debug)]
pub struct Evidence {
    /// The report with every hidden case in full (`GradeReport::with_evidence`).
    pub report_json: String,
    /// The hidden cases' replays, by case name.
    pub replays: Vec<(String, Vec<u8>)>,
}

impl Db {
    /// The database server's clock in Unix seconds, as SQL: leases are written
    /// and compared on one clock, whatever the workers' own clocks say.
    fn db_now(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
            Backend::Sqlite => "CAST(strftime('%s', 'now') AS INTEGER)",
        }
    }

    /// Claims the next job for `owner`, if there is one.
    pub async fn claim(&self, owner: &str, lease_seconds: i64) -> anyhow::Result<Option<Job>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now = self.db_now();
        // Two claims, each an ordered walk of an index that stops at the first
        // row: a job whose worker died (its lease ran out) first, else the
        // head of the fair queue. One query with `OR` would sort the whole
        // queue for every claim — 5 ms at 9,000 waiting jobs, growing with it.
        let claim = |pick: &str| {
            format!(
                "UPDATE submissions SET status = 'running', lease_owner = $1, lease_expires_at = {now} + $2, claims = claims + 1 \
                 WHERE id = (SELECT id FROM submissions WHERE {pick} LIMIT 1 {lock}) \
                 RETURNING id, assignment_id, round_id, sitting_id, lab_id, final_of, language, program, claims"
            )
        };
        let mut row = None;
        for pick in [
            format!("status = 'running' AND lease_expires_at < {now} ORDER BY fair_student, fair_class, id"),
            "status = 'queued' ORDER BY fair_student, fair_class, id".to_string(),
        ] {
            row = sqlx::query(&claim(&pick)).bind(owner).bind(lease_seconds).fetch_optional(&self.pool).await?;
            if row.is_some() {
                break;
            }
        }
        let Some(row) = row else {
            return Ok(None);
        };
        // The job's owner — an assignment, a contest round or an assessment
        // sitting (the schema holds exactly one) — says which lab and whose hidden seeds.
        let (lab_id, seeds) = match (row.try_get::<Option<i64>, _>("assignment_id")?, row.try_get::<Option<i64>, _>("round_id")?) {
            (Some(assignment), _) => {
                let lab: String = sqlx::query("SELECT lab_id FROM assignments WHERE id = $1").bind(assignment).fetch_one(&self.pool).await?.try_get(0)?;
                (lab, Seeds::Server)
            }
            (None, Some(round)) => {
                let lab: String = row.try_get::<Option<String>, _>("lab_id")?.ok_or_else(|| anyhow::anyhow!("round submission without a lab"))?;
                let seeds = if row.try_get::<Option<i64>, _>("final_of")?.is_some() {
                    let key: Option<String> = sqlx::query("SELECT final_key FROM rounds WHERE id = $1").bind(round).fetch_one(&self.pool).await?.try_get(0)?;
                    Seeds::Final { round, key: key.ok_or_else(|| anyhow::anyhow!("final re-grade of round {round} before its key was drawn"))? }
                } else {
                    Seeds::Round(round)
                };
                (lab, seeds)
            }
            // A performance item's program: the item's lab on the row, the server's seeds (as an assignment's).
            (None, None) if row.try_get::<Option<i64>, _>("sitting_id")?.is_some() => {
                (row.try_get::<Option<String>, _>("lab_id")?.ok_or_else(|| anyhow::anyhow!("sitting submission without a lab"))?, Seeds::Server)
            }
            (None, None) => anyhow::bail!("submission without an assignment, a round or a sitting"),
        };
        Ok(Some(Job {
            id: row.try_get("id")?,
            lab_id,
            seeds,
            language: row.try_get("language")?,
            program: row.try_get("program")?,
            claims: row.try_get("claims")?,
        }))
    }

    /// Extends a lease; false when the worker no longer holds it.
    pub async fn renew(&self, job: i64, owner: &str, lease_seconds: i64) -> anyhow::Result<bool> {
        let r =
            sqlx::query(&format!("UPDATE submissions SET lease_expires_at = {} + $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'", self.db_now()))
                .bind(lease_seconds)
                .bind(job)
                .bind(owner)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Writes a result if `owner` still holds the job; false when it does not
    /// (another worker took it over and writes the same result).
    pub async fn complete(&self, job: i64, owner: &str, outcome: &Outcome) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'done', score = $1, max_score = $2, report = $3, graded_at = $4, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $5 AND lease_owner = $6 AND status = 'running'",
        )
        .bind(outcome.score)
        .bind(outcome.max_score)
        .bind(&outcome.report_json)
        .bind(now())
        .bind(job)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        // A contest round's cached leaderboard is stale from now on (nothing for an assignment's).
        sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE id = (SELECT round_id FROM submissions WHERE id = $1)")
            .bind(job)
            .execute(&mut *tx)
            .await?;
        super::assessments::program_graded(&mut tx, job).await?;
        sqlx::query("DELETE FROM replays WHERE submission_id = $1").bind(job).execute(&mut *tx).await?;
        for (case, bytes) in &outcome.replays {
            sqlx::query("INSERT INTO replays (submission_id, case_name, data) VALUES ($1, $2, $3)")
                .bind(job)
                .bind(case)
                .bind(bytes.clone())
                .execute(&mut *tx)
                .await?;
        }
        // Judges' evidence (contest submissions only) lives apart from what the submission's own routes serve.
        if let Some(Evidence { report_json: report, replays }) = &outcome.evidence {
            sqlx::query("DELETE FROM evidence WHERE submission_id = $1").bind(job).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM evidence_replays WHERE submission_id = $1").bind(job).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO evidence (submission_id, report) VALUES ($1, $2)").bind(job).bind(report).execute(&mut *tx).await?;
            for (case, bytes) in replays {
                sqlx::query("INSERT INTO evidence_replays (submission_id, case_name, data) VALUES ($1, $2, $3)")
                    .bind(job)
                    .bind(case)
                    .bind(bytes.clone())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a job that cannot be graded (our problem, not the student's).
    pub async fn fail(&self, job: i64, owner: &str, reason: &str) -> anyhow::Result<()> {
        let report = serde_json::json!({"error": reason}).to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE submissions SET status = 'failed', report = $1, graded_at = $2, lease_owner = NULL, lease_expires_at = NULL WHERE id = $3 AND lease_owner = $4",
        )
        .bind(report)
        .bind(now())
        .bind(job)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        super::assessments::program_graded(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives one job back without counting the claim, for another worker to take.
    pub async fn release_job(&self, job: i64, owner: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE submissions SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, claims = claims - 1 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(job)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives back every job `owner` holds (graceful shutdown).
    pub async fn release(&self, owner: &str) -> anyhow::Result<u64> {
        let r = sqlx::query(
            "UPDATE submissions SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, claims = claims - 1 WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Jobs waiting or being graded (for `/metrics`).
    pub async fn queue_depth(&self) -> anyhow::Result<(i64, i64)> {
        let row = sqlx::query("SELECT (SELECT COUNT(*) FROM submissions WHERE status = 'queued'), (SELECT COUNT(*) FROM submissions WHERE status = 'running')")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}

/// The `language` a bundle upload is stored under; its `program` is the
/// base64 of the `.zip`, kept as handed in (docs/ai.md).
pub const STORED_BUNDLE: &str = "bundle";

/// A stored submission as the grader takes it: a program, or a bundle
/// checked again with the same loader as on upload.
pub fn stored_submission(language: &str, program: &str) -> Result<qiming_grading::Bundle, String> {
    if language == STORED_BUNDLE {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(program.trim()).map_err(|e| format!("bundle: {e}"))?;
        return qiming_grading::Bundle::from_zip(&bytes).map_err(|e| e.to_string());
    }
    let program = Program::from_stored(language, program).map_err(|e| e.to_string())?;
    Ok(qiming_grading::Bundle::program(program, ""))
}

/// Grades a job (blocking; run it off the async threads). The caller checks
/// that the lab is in the catalogue. `Ok(None)`: cancelled, nothing to write.
pub fn grade_job(catalogue: &Catalogue, job: &Job, secret: Option<[u8; 32]>, cancel: &qiming_runtime::Cancel) -> Result<Option<Outcome>, String> {
    let lab = catalogue.lab(&job.lab_id).ok_or_else(|| format!("lab {} is not in this grader's curriculum", job.lab_id))?;
    let submission = stored_submission(&job.language, &job.program)?;
    // One submission per worker thread: workers, not cases, spread over cores.
    // Contest submissions record their hidden cases in full, for judges deciding appeals.
    let record_hidden = job.seeds != Seeds::Server;
    let options = GradeOptions {
        threads: 1,
        keep_replays: true,
        hidden_secret: job.seeds.secret(secret),
        cancel: cancel.clone(),
        record_hidden,
        ..GradeOptions::default()
    };
    let mut report = qiming_grading::grade::grade_bundle(lab, &submission, &options);
    if report.cancelled {
        return Ok(None);
    }
    let replays = report.cases.iter_mut().filter_map(|c| c.replay_bytes.take().map(|b| (c.name.clone(), b))).collect();
    let evidence = if record_hidden {
        let mut full = report.with_evidence();
        let hidden_replays = full.cases.iter_mut().filter(|c| c.hidden).filter_map(|c| c.replay_bytes.take().map(|b| (c.name.clone(), b))).collect::<Vec<_>>();
        Some(Evidence { report_json: serde_json::to_string(&full).map_err(|e| e.to_string())?, replays: hidden_replays })
    } else {
        None
    };
    let report_json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    Ok(Some(Outcome { score: report.score, max_score: report.max_score, report_json, replays, evidence }))
}

/// Signals shared by the server's handlers and its in-process workers.
#[derive(Clone, Debug)]
pub struct QueueSignals {
    /// Woken when a submission arrives, so an idle worker starts at once.
    pub work: Arc<Notify>,
    /// The id of each submission whose status changed: sent by this
    /// process's workers at once, and by [`watch_statuses`] for changes made
    /// by workers elsewhere.
    pub changed: broadcast::Sender<i64>,
    /// Submissions someone is watching live, with how many watchers and the
    /// status last seen: what [`watch_statuses`] polls.
    pub watched: Arc<Mutex<BTreeMap<i64, (usize, String)>>>,
    /// Turns true when the process is shutting down: workers give their jobs
    /// back and live-status streams end, so the graceful drain is quick.
    pub stopping: watch::Sender<bool>,
}

impl Default for QueueSignals {
    fn default() -> Self {
        QueueSignals { work: Arc::new(Notify::new()), changed: broadcast::channel(1024).0, watched: Arc::default(), stopping: watch::channel(false).0 }
    }
}

impl QueueSignals {
    /// Tells live-status streams that submission `id` changed.
    pub fn bump(&self, id: i64) {
        let _ = self.changed.send(id);
    }

    /// Registers a live watcher of `id` until the guard is dropped.
    pub fn watch(&self, id: i64) -> WatchGuard {
        self.watched.lock().unwrap_or_else(|p| p.into_inner()).entry(id).or_insert((0, String::new())).0 += 1;
        WatchGuard { watched: self.watched.clone(), id }
    }
}

/// Keeps a submission in [`QueueSignals::watched`] while a stream is open.
#[derive(Debug)]
pub struct WatchGuard {
    watched: Arc<Mutex<BTreeMap<i64, (usize, String)>>>,
    id: i64,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        let mut w = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = w.get_mut(&self.id) {
            entry.0 -= 1;
            if entry.0 == 0 {
                w.remove(&self.id);
            }
        }
    }
}

/// Notices status changes made by workers in other processes: one query per
/// `every` for all the submissions being watched (not one per stream), and a
/// broadcast for each that changed.
pub async fn watch_statuses(db: Db, signals: QueueSignals, every: Duration) {
    let mut stopping = signals.stopping.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.changed() => return,
        }
        let ids: Vec<i64> = signals.watched.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let rows = match sqlx::query(&format!("SELECT id, status FROM submissions WHERE id IN ({list})")).fetch_all(&db.pool).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot poll submission statuses");
                    break;
                }
            };
            let mut changed = Vec::new();
            {
                let mut watched = signals.watched.lock().unwrap_or_else(|p| p.into_inner());
                for r in &rows {
                    let (Ok(id), Ok(status)) = (r.try_get::<i64, _>(0), r.try_get::<String, _>(1)) else { continue };
                    if let Some(entry) = watched.get_mut(&id)
                        && entry.1 != status
                    {
                        entry.1 = status;
                        changed.push(id);
                    }
                }
            }
            for id in changed {
                signals.bump(id);
            }
        }
    }
}

/// A name for this worker that is unique across machines and restarts.
pub fn worker_name(index: usize) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{}-{index}", std::process::id(), super::auth::random_hex().get(..8).unwrap_or("0"))
}

/// Options for test fault injection (see `qiming worker --fault-delay-ms`).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Sleep this long after claiming a job, before grading it.
    pub delay_after_claim: Option<Duration>,
}

/// One worker: claims, grades, writes, until `shutdown` turns true; then
/// gives back whatever it holds.
pub async fn run_worker(
    db: Db,
    catalogue: Arc<Catalogue>,
    name: String,
    config: QueueConfig,
    signals: QueueSignals,
    mut shutdown: watch::Receiver<bool>,
    faults: Faults,
) {
    tracing::info!(worker = %name, "grading worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let job = match db.claim(&name, config.lease_seconds).await {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(worker = %name, error = %format!("{e:#}"), "cannot claim a job; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        let Some(job) = job else {
            tokio::select! {
                _ = signals.work.notified() => {}
                _ = tokio::time::sleep(config.poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        signals.bump(job.id);
        if let Err(e) = process(&db, &catalogue, &name, &config, &signals, &mut shutdown, &faults, job).await {
            tracing::warn!(worker = %name, error = %format!("{e:#}"), "grading job failed; its lease will expire and another worker retries");
        }
    }
    match db.release(&name).await {
        Ok(n) if n > 0 => tracing::info!(worker = %name, released = n, "released leases on shutdown"),
        Ok(_) => {}
        Err(e) => tracing::warn!(worker = %name, error = %format!("{e:#}"), "cannot release leases; they will expire"),
    }
    tracing::info!(worker = %name, "grading worker stopped");
}

#[allow(clippy::too_many_arguments)]
async fn process(
    db: &Db,
    catalogue: &Arc<Catalogue>,
    name: &str,
    config: &QueueConfig,
    signals: &QueueSignals,
    shutdown: &mut watch::Receiver<bool>,
    faults: &Faults,
    job: Job,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    if job.claims > MAX_CLAIMS {
        db.fail(job.id, name, &format!("grading stopped {MAX_CLAIMS} times without finishing; an administrator has been told (see the server log)")).await?;
        tracing::error!(job = job.id, claims = job.claims, "job abandoned after repeated failed gradings");
        signals.bump(job.id);
        return Ok(());
    }
    if let Some(d) = faults.delay_after_claim {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = shutdown.changed() => {
                db.release(name).await?;
                return Ok(());
            }
        }
    }
    if catalogue.lab(&job.lab_id).is_none() {
        // Another worker (or this one, updated) may have the lab: not the student's problem.
        tracing::warn!(job = job.id, lab = %job.lab_id, "this worker's curriculum lacks the lab; giving the job back");
        db.release_job(job.id, name).await?;
        tokio::time::sleep(config.poll * 4).await;
        return Ok(());
    }
    let cat = catalogue.clone();
    let grading_job = job.clone();
    let cancel = qiming_runtime::Cancel::new();
    // Cancels the runs if this future is dropped or shutdown comes first, so
    // the grading thread ends within milliseconds instead of running on.
    struct CancelOnDrop(qiming_runtime::Cancel);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    let secret = config.hidden_secret;
    let mut task = tokio::task::spawn_blocking(move || grade_job(&cat, &grading_job, secret, &cancel));
    let mut renew = tokio::time::interval(Duration::from_secs((config.lease_seconds as u64 / 3).max(1)));
    renew.tick().await;
    let result = loop {
        tokio::select! {
            r = &mut task => match r {
                Ok(result) => break result,
                Err(e) => {
                    // The grader itself failed (a bug of ours): say so now rather than retry blindly.
                    tracing::error!(job = job.id, error = %e, "the grading task panicked");
                    db.fail(job.id, name, "the grader failed on this program; an administrator has been told (see the server log)").await?;
                    signals.bump(job.id);
                    return Ok(());
                }
            },
            _ = renew.tick() => {
                match db.renew(job.id, name, config.lease_seconds).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job = job.id, "lost the lease while grading; another worker has the job"),
                    // A passing database hiccup: keep grading; the result is written only if the lease still holds.
                    Err(e) => tracing::warn!(job = job.id, error = %format!("{e:#}"), "cannot renew the lease"),
                }
            }
            _ = shutdown.changed() => {
                // Graceful shutdown: give the job back rather than wait; the
                // blocking grade finishes in the background and is discarded.
                db.release(name).await?;
                return Ok(());
            }
        }
    };
    match result {
        Ok(None) => {
            // Cancelled under us (shutdown): give the job back.
            db.release_job(job.id, name).await?;
            return Ok(());
        }
        Ok(Some(outcome)) => {
            let written = db.complete(job.id, name, &outcome).await?;
            tracing::info!(job = job.id, lab = %job.lab_id, score = outcome.score, written, ms = started.elapsed().as_millis() as u64, "graded");
        }
        Err(reason) => {
            db.fail(job.id, name, &reason).await?;
            tracing::warn!(job = job.id, %reason, "cannot grade");
        }
    }
    signals.bump(job.id);
    Ok(())
}

/// Starts `count` workers on the current runtime; returns their handles.
pub fn spawn_workers(
    count: usize,
    db: &Db,
    catalogue: &Arc<Catalogue>,
    config: &QueueConfig,
    signals: &QueueSignals,
    shutdown: &watch::Receiver<bool>,
    faults: &Faults,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|i| tokio::spawn(run_worker(db.clone(), catalogue.clone(), worker_name(i), config.clone(), signals.clone(), shutdown.clone(), faults.clone())))
        .collect()
}
