//! Assignments and submissions: teachers assign labs to classes, students
//! submit programs, and status and results stream back live.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiming_sim::scenario::{Area, SolidShape};
use qiming_sim::{Replay, ResolvedScenario, Scenario};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::db::User;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{Class, managed_class, visible_class};

/// Largest program a student may submit (bytes).
pub const MAX_PROGRAM: usize = 64 << 10;
/// Most attempts a teacher may allow per assignment.
pub const MAX_ATTEMPTS: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/assignments", get(my_assignments))
        .route("/api/classes/{id}/assignments", get(class_assignments).post(create_assignment))
        .route("/api/assignments/{id}", get(get_assignment).delete(delete_assignment))
        .route("/api/assignments/{id}/submissions", get(list_submissions).post(submit))
        .route("/api/assignments/{id}/test", axum::routing::post(test_run))
        .route("/api/submissions/{id}", get(get_submission))
        .route("/api/submissions/{id}/events", get(submission_events))
        .route("/api/submissions/{id}/replays/{case}", get(get_replay))
}

/// An assignment row.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub id: i64,
    pub class_id: i64,
    pub lab_id: String,
    pub opens_at: i64,
    pub due_at: i64,
    pub attempt_limit: i64,
    pub score_policy: String,
}

const ASSIGNMENT_COLUMNS: &str = "a.id, a.class_id, a.lab_id, a.opens_at, a.due_at, a.attempt_limit, a.score_policy";

fn assignment_of(r: &sqlx::any::AnyRow) -> anyhow::Result<Assignment> {
    Ok(Assignment {
        id: r.try_get("id")?,
        class_id: r.try_get("class_id")?,
        lab_id: r.try_get("lab_id")?,
        opens_at: r.try_get("opens_at")?,
        due_at: r.try_get("due_at")?,
        attempt_limit: r.try_get("attempt_limit")?,
        score_policy: r.try_get("score_policy")?,
    })
}

/// The assignment and its class, if the caller may see the class.
pub async fn visible_assignment(state: &AppState, caller: &User, id: i64) -> Result<(Assignment, Class), AppError> {
    let row = sqlx::query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.id = $1")).bind(id).fetch_optional(&state.db.pool).await?;
    let assignment = assignment_of(&row.ok_or(AppError::NotFound)?)?;
    let class = visible_class(state, caller, assignment.class_id).await?;
    Ok((assignment, class))
}

/// The assignment as JSON, with the student's own progress when the caller is one.
async fn assignment_json(state: &AppState, a: &Assignment, class: &Class, caller: &User) -> Result<Value, AppError> {
    let title = state.catalogue.lab(&a.lab_id).map(|l| json!(l.title)).unwrap_or_else(|| json!({"zh-CN": a.lab_id, "en": a.lab_id}));
    let mut v = json!({
        "id": a.id, "class_id": a.class_id, "class_name": class.name, "lab_id": a.lab_id, "title": title,
        "opens_at": a.opens_at, "due_at": a.due_at, "attempt_limit": a.attempt_limit, "score_policy": a.score_policy,
    });
    if caller.role == "student" {
        let (attempts, score) = student_progress(state, a, caller.id).await?;
        v["attempts_used"] = json!(attempts);
        v["score"] = json!(score);
        v["override"] = super::gradebook::student_override(state, a.id, caller.id).await?;
    }
    Ok(v)
}

/// Attempts used and the score that counts (policy and override applied).
pub async fn student_progress(state: &AppState, a: &Assignment, student: i64) -> Result<(i64, Option<f64>), AppError> {
    let rows = sqlx::query("SELECT status, score FROM submissions WHERE assignment_id = $1 AND student_id = $2 AND status <> 'failed' ORDER BY id")
        .bind(a.id)
        .bind(student)
        .fetch_all(&state.db.pool)
        .await?;
    let mut scores = Vec::new();
    for r in &rows {
        if r.try_get::<String, _>("status")? == "done" {
            scores.push(r.try_get::<Option<f64>, _>("score")?.unwrap_or(0.0));
        }
    }
    let over: Option<f64> = sqlx::query("SELECT score FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2")
        .bind(a.id)
        .bind(student)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    Ok((rows.len() as i64, over.or_else(|| super::gradebook::policy_score(&a.score_policy, &scores))))
}

async fn my_assignments(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let (filter, bind) = match u.role.as_str() {
        "student" => ("a.class_id = $1", u.class_id.unwrap_or(-1)),
        "teacher" => ("c.teacher_id = $1", u.id),
        "school_admin" => ("c.school_id = $1", u.school_id.unwrap_or(-1)),
        "platform_admin" => ("1 = $1", 1),
        _ => return Err(AppError::Forbidden("your role has no assignments".into())),
    };
    let rows = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS}, c.school_id, c.teacher_id, c.name FROM assignments a JOIN classes c ON c.id = a.class_id WHERE {filter} ORDER BY a.due_at, a.id"
    ))
    .bind(bind)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let a = assignment_of(r)?;
        let class = Class { id: a.class_id, school_id: r.try_get("school_id")?, teacher_id: r.try_get("teacher_id")?, name: r.try_get("name")? };
        out.push(assignment_json(&state, &a, &class, u).await?);
    }
    Ok(Json(json!({ "assignments": out })))
}

async fn class_assignments(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let class = visible_class(&state, &caller.user, id).await?;
    let rows = sqlx::query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.class_id = $1 ORDER BY a.due_at, a.id"))
        .bind(class.id)
        .fetch_all(&state.db.pool)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(assignment_json(&state, &assignment_of(r)?, &class, &caller.user).await?);
    }
    Ok(Json(json!({ "assignments": out })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAssignment {
    lab_id: String,
    opens_at: Option<i64>,
    due_at: i64,
    attempt_limit: Option<i64>,
    score_policy: Option<String>,
}

async fn create_assignment(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewAssignment>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let class = managed_class(&state, &caller.user, id).await?;
    let lab = state
        .catalogue
        .lab(&req.lab_id)
        .ok_or_else(|| AppError::BadRequest(format!("lab_id {:?} is not a lab of the curriculum (GET /api/labs)", req.lab_id)))?;
    let opens_at = req.opens_at.unwrap_or_else(now);
    if req.due_at <= opens_at {
        return Err(AppError::BadRequest("due_at must be later than opens_at".into()));
    }
    let attempt_limit = req.attempt_limit.unwrap_or(10);
    if !(1..=MAX_ATTEMPTS).contains(&attempt_limit) {
        return Err(AppError::BadRequest(format!("attempt_limit must be 1–{MAX_ATTEMPTS}")));
    }
    let policy = req.score_policy.unwrap_or_else(|| "best".into());
    if policy != "best" && policy != "last" {
        return Err(AppError::BadRequest("score_policy must be \"best\" or \"last\"".into()));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO assignments (class_id, lab_id, opens_at, due_at, attempt_limit, score_policy, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(class.id)
    .bind(&lab.id)
    .bind(opens_at)
    .bind(req.due_at)
    .bind(attempt_limit)
    .bind(&policy)
    .bind(caller.user.id)
    .bind(now())
    .fetch_one(&state.db.pool)
    .await?
    .try_get(0)?;
    state.db.audit_action(&caller.user, "assignment_create", format!("assignment_id={id} class_id={} lab={}", class.id, lab.id)).await?;
    let a = Assignment { id, class_id: class.id, lab_id: lab.id.clone(), opens_at, due_at: req.due_at, attempt_limit, score_policy: policy };
    Ok((StatusCode::CREATED, Json(assignment_json(&state, &a, &class, &caller.user).await?)).into_response())
}

async fn get_assignment(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    let mut v = assignment_json(&state, &a, &class, &caller.user).await?;
    if let Some(lab) = state.catalogue.lab(&a.lab_id) {
        v["lab"] = json!({"id": lab.id, "version": lab.version, "title": lab.title, "instructions": lab.instructions, "languages": lab.languages, "starter": lab.starter});
    }
    if caller.user.role == "student" {
        v["submissions"] = json!(submissions_of(&state, a.id, Some(caller.user.id)).await?);
        // The program last submitted, so the editor reloads it on any computer.
        let last = sqlx::query("SELECT language, program FROM submissions WHERE assignment_id = $1 AND student_id = $2 ORDER BY id DESC LIMIT 1")
            .bind(a.id)
            .bind(caller.user.id)
            .fetch_optional(&state.db.pool)
            .await?;
        if let Some(r) = last {
            let stored: String = r.try_get(0)?;
            let (language, encoding) = if stored == "wasm-base64" { ("wasm", "base64") } else { (stored.as_str(), "text") };
            v["last_program"] = json!({"language": language, "encoding": encoding, "program": r.try_get::<String, _>(1)?});
        }
    }
    Ok(Json(v))
}

async fn delete_assignment(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    if !caller.user.manages_class(&class) {
        return Err(AppError::Forbidden("your role may not delete assignments".into()));
    }
    let mut tx = state.db.pool.begin().await?;
    for sql in [
        "DELETE FROM replays WHERE submission_id IN (SELECT id FROM submissions WHERE assignment_id = $1)",
        "DELETE FROM submissions WHERE assignment_id = $1",
        "DELETE FROM grade_overrides WHERE assignment_id = $1",
        "DELETE FROM assignments WHERE id = $1",
    ] {
        sqlx::query(sql).bind(a.id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    state.db.audit_action(&caller.user, "assignment_delete", format!("assignment_id={}", a.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

const SUBMISSION_COLUMNS: &str = "s.id, s.assignment_id, s.student_id, s.language, s.status, s.submitted_at, s.graded_at, s.score, s.max_score";

fn submission_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    let get = || -> Result<Value, sqlx::Error> {
        Ok(json!({
            "id": r.try_get::<i64, _>("id")?, "assignment_id": r.try_get::<i64, _>("assignment_id")?, "student_id": r.try_get::<i64, _>("student_id")?,
            "language": r.try_get::<String, _>("language")?, "status": r.try_get::<String, _>("status")?,
            "submitted_at": r.try_get::<i64, _>("submitted_at")?, "graded_at": r.try_get::<Option<i64>, _>("graded_at")?,
            "score": r.try_get::<Option<f64>, _>("score")?, "max_score": r.try_get::<Option<f64>, _>("max_score")?,
        }))
    };
    get().map_err(AppError::from)
}

async fn submissions_of(state: &AppState, assignment: i64, student: Option<i64>) -> Result<Vec<Value>, AppError> {
    let rows = match student {
        Some(s) => {
            sqlx::query(&format!("SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.assignment_id = $1 AND s.student_id = $2 ORDER BY s.id DESC"))
                .bind(assignment)
                .bind(s)
                .fetch_all(&state.db.pool)
                .await
        }
        None => sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS}, u.display_name FROM submissions s JOIN users u ON u.id = s.student_id WHERE s.assignment_id = $1 ORDER BY s.id DESC"
        ))
        .bind(assignment)
        .fetch_all(&state.db.pool)
        .await,
    }?;
    rows.iter()
        .map(|r| {
            let mut v = submission_json(r)?;
            if student.is_none() {
                v["student_name"] = json!(r.try_get::<String, _>("display_name")?);
            }
            Ok(v)
        })
        .collect()
}

async fn list_submissions(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    let student = if caller.user.manages_class(&class) { None } else { Some(caller.user.id) };
    Ok(Json(json!({ "submissions": submissions_of(&state, a.id, student).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubmission {
    language: String,
    program: String,
    /// `text` (default) or `base64` (a binary WebAssembly module).
    encoding: Option<String>,
}

/// Checks a program sent for an assignment (size, characters, the lab's
/// languages, encoding); returns the language as stored.
fn checked_program(state: &AppState, a: &Assignment, req: &NewSubmission) -> Result<String, AppError> {
    if req.program.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(AppError::BadRequest("program contains control characters (only newlines and tabs are allowed)".into()));
    }
    if req.program.len() > MAX_PROGRAM {
        return Err(AppError::PayloadTooLarge(format!("program is {} bytes; the most is {MAX_PROGRAM} (64 KiB)", req.program.len())));
    }
    let lab = state.catalogue.lab(&a.lab_id).ok_or_else(|| AppError::Conflict(format!("lab {} is no longer in the curriculum", a.lab_id)))?;
    if !lab.languages.contains(&req.language) {
        return Err(AppError::BadRequest(format!("language must be one of: {}", lab.languages.join(", "))));
    }
    let stored_language = match (req.language.as_str(), req.encoding.as_deref().unwrap_or("text")) {
        (_, "text") => req.language.clone(),
        ("wasm", "base64") => "wasm-base64".to_string(),
        _ => return Err(AppError::BadRequest("encoding must be \"text\", or \"base64\" for a binary wasm module".into())),
    };
    if let Err(e) = super::queue::program_of(&stored_language, &req.program) {
        return Err(AppError::BadRequest(format!("program: {e}")));
    }
    Ok(stored_language)
}

/// Runs a program on the lab's *visible* cases and answers with the report
/// at once: no attempt is spent, nothing is stored. For "test before you
/// submit". Bounded: one test run per person at a time (429), and at most one
/// per core across the server, waiting up to 10 s for a turn (503).
async fn test_run(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewSubmission>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (a, _class) = visible_assignment(&state, &caller.user, id).await?;
    let stored_language = checked_program(&state, &a, &req)?;
    let program = super::queue::program_of(&stored_language, &req.program).map_err(AppError::BadRequest)?;
    let lab = state.catalogue.lab(&a.lab_id).ok_or(AppError::NotFound)?;
    let mut visible = lab.clone();
    visible.cases.retain(|c| !c.hidden);
    let _mine = state
        .test_users
        .take(caller.user.id, 1)
        .ok_or_else(|| AppError::TooManyRequests { message: "your previous test run is still going; wait for its result".into(), retry_after: 2 })?;
    let _turn = match tokio::time::timeout(Duration::from_secs(10), state.test_runs.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => return Err(AppError::Busy),
    };
    let cancel = qiming_runtime::Cancel::new();
    // A client that goes away (or a server shutting down) stops the run.
    let _stop = CancelOnDrop(cancel.clone());
    let options = qiming_grading::grade::GradeOptions { threads: 1, cancel, ..Default::default() };
    let report =
        tokio::task::spawn_blocking(move || qiming_grading::grade::grade(&visible, &program, &options)).await.map_err(|e| anyhow::anyhow!("test run: {e}"))?;
    if report.cancelled {
        return Err(AppError::Busy);
    }
    let mut v = serde_json::to_value(&report).map_err(|e| anyhow::anyhow!(e))?;
    v["attempt_spent"] = json!(false);
    v["hidden_cases"] = json!(lab.cases.iter().filter(|c| c.hidden).count());
    Ok(Json(v))
}

/// Cancels a run when the request that started it ends early.
struct CancelOnDrop(qiming_runtime::Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

async fn submit(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewSubmission>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (a, _class) = visible_assignment(&state, &caller.user, id).await?;
    if caller.user.role != "student" {
        return Err(AppError::Forbidden("only the class's students submit; try programs with `qiming grade`".into()));
    }
    let stored_language = checked_program(&state, &a, &req)?;
    let t = now();
    if t < a.opens_at {
        return Err(AppError::Conflict("this assignment is not open yet".into()));
    }
    if t > a.due_at {
        return Err(AppError::Conflict("this assignment is past its due date".into()));
    }
    // Insert, then count within the same transaction: on SQLite the insert
    // takes the write lock first, on PostgreSQL the student's row is locked,
    // so simultaneous submissions cannot both slip under the limit. Attempts
    // the grader could not grade (`failed`, our fault) do not count.
    let mut tx = state.db.pool.begin().await?;
    if state.db.backend == super::db::Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(caller.user.id).execute(&mut *tx).await?;
    }
    let sid: i64 = sqlx::query(
        // The fair-queue ranks: how many unfinished jobs this student, and
        // this class, already have (see queue.rs).
        "INSERT INTO submissions (assignment_id, student_id, language, program, submitted_at, status, fair_student, fair_class) VALUES ($1, $2, $3, $4, $5, 'queued', \
         (SELECT COUNT(*) FROM submissions WHERE student_id = $2 AND status IN ('queued', 'running')), \
         (SELECT COUNT(*) FROM submissions s JOIN assignments x ON x.id = s.assignment_id WHERE x.class_id = $6 AND s.status IN ('queued', 'running'))) RETURNING id",
    )
    .bind(a.id)
    .bind(caller.user.id)
    .bind(&stored_language)
    .bind(&req.program)
    .bind(t)
    .bind(a.class_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let used: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE assignment_id = $1 AND student_id = $2 AND status <> 'failed'")
        .bind(a.id)
        .bind(caller.user.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if used > a.attempt_limit {
        tx.rollback().await?;
        return Err(AppError::Conflict(format!("you have used all {} attempts for this assignment", a.attempt_limit)));
    }
    // Committed (and, on SQLite with synchronous=FULL, on disk) before we answer.
    tx.commit().await?;
    state.metrics.submissions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.signals.work.notify_one();
    // As committed; a worker may already be grading it by now.
    let accepted = json!({
        "id": sid, "assignment_id": a.id, "student_id": caller.user.id, "language": stored_language, "status": "queued",
        "submitted_at": t, "graded_at": null, "score": null, "max_score": null,
    });
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

/// A submission the caller may see (its student, or a manager of its class).
async fn visible_submission(state: &AppState, caller: &User, id: i64) -> Result<sqlx::any::AnyRow, AppError> {
    let row = sqlx::query(&format!("SELECT {SUBMISSION_COLUMNS}, s.program, s.report FROM submissions s WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let student: i64 = row.try_get("student_id")?;
    if student == caller.id {
        return Ok(row);
    }
    let (_, class) = visible_assignment(state, caller, row.try_get("assignment_id")?).await?;
    if caller.manages_class(&class) { Ok(row) } else { Err(AppError::NotFound) }
}

fn full_submission_json(row: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    let mut v = submission_json(row)?;
    v["program"] = json!(row.try_get::<String, _>("program")?);
    let report: Option<String> = row.try_get("report")?;
    if let Some(r) = report {
        // The stored report is what the grader published: hidden cases carry
        // only name, pass/fail and score.
        v["report"] = serde_json::from_str(&r).map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(v)
}

async fn get_submission(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let row = visible_submission(&state, &caller.user, id).await?;
    Ok(Json(full_submission_json(&row)?))
}

/// Server-sent events: the submission each time its status changes, until it is graded.
/// How many of something (live streams, test runs) each user holds at
/// once; a slot is given back when its guard is dropped.
#[derive(Clone, Debug, Default)]
pub struct PerUser {
    held: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<i64, usize>>>,
}

impl PerUser {
    /// A slot for `user`, or None when they already hold `max`.
    pub fn take(&self, user: i64, max: usize) -> Option<UserSlot> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(user).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(UserSlot { held: self.held.clone(), user })
    }
}

/// One slot of a [`PerUser`] count.
#[derive(Debug)]
pub struct UserSlot {
    held: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<i64, usize>>>,
    user: i64,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.user);
            }
        }
    }
}

async fn submission_events(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Response, AppError> {
    visible_submission(&state, &caller.user, id).await?;
    // One browser tab needs one stream; a script opening thousands gets 429.
    let slot = state.streams.take(caller.user.id, state.max_streams_per_user).ok_or_else(|| AppError::TooManyRequests {
        message: format!("you already have {} live result streams open; close some tabs", state.max_streams_per_user),
        retry_after: 5,
    })?;
    let changed = state.signals.changed.subscribe();
    // While the stream is open, `watch_statuses` also looks out for changes
    // made by workers in other processes.
    let guard = std::sync::Arc::new((state.signals.watch(id), slot));
    let stream = futures_util::stream::unfold((state, changed, None::<String>, false), move |(state, mut changed, last, finished)| {
        let _guard = guard.clone();
        async move {
            if finished || *state.signals.stopping.borrow() {
                return None;
            }
            let mut last = last;
            loop {
                let row = sqlx::query(&format!("SELECT {SUBMISSION_COLUMNS}, s.program, s.report FROM submissions s WHERE s.id = $1"))
                    .bind(id)
                    .fetch_optional(&state.db.pool)
                    .await;
                let value = match row {
                    // The program is not repeated in every event; the report comes with the result.
                    Ok(Some(r)) => full_submission_json(&r).ok().map(|mut v| {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("program");
                        }
                        v
                    }),
                    _ => None,
                };
                let Some(value) = value else {
                    // Deleted meanwhile (or the database is gone): end the stream.
                    return None;
                };
                let status = value["status"].as_str().unwrap_or("").to_string();
                let text = value.to_string();
                if last.as_deref() != Some(text.as_str()) {
                    let done = status == "done" || status == "failed";
                    let event = Event::default().event("status").data(text.clone());
                    last = Some(text);
                    return Some((Ok::<_, Infallible>(event), (state, changed, last, done)));
                }
                // Sleep until this submission changes (a missed message or a
                // long quiet spell only costs a re-read); end at shutdown.
                let mut stopping = state.signals.stopping.subscribe();
                let wait = async {
                    loop {
                        match changed.recv().await {
                            Ok(changed_id) if changed_id == id => return,
                            Ok(_) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                        }
                    }
                };
                tokio::select! {
                    _ = wait => {}
                    _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                    _ = stopping.wait_for(|s| *s) => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

async fn get_replay(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, case)): Path<(i64, String)>) -> Result<Json<Value>, AppError> {
    visible_submission(&state, &caller.user, id).await?;
    if case.len() > 128 || case.chars().any(char::is_control) {
        return Err(AppError::NotFound);
    }
    let row = sqlx::query("SELECT data FROM replays WHERE submission_id = $1 AND case_name = $2")
        .bind(id)
        .bind(&case)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let bytes: Vec<u8> = row.try_get(0)?;
    let replay = Replay::from_bytes(&bytes).map_err(|e| AppError::Internal(anyhow::anyhow!("stored replay: {e}")))?;
    let scenario = Scenario::parse(&replay.header.scenario_source, &replay.header.scenario_name)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("replay scenario: {e}")))?;
    let world = world_json(&scenario.resolve(replay.header.seed), replay.header.robot_radius);
    Ok(Json(json!({"world": world, "replay": crate::replay_cmd::replay_json(&replay)})))
}

fn area_json(area: &Area) -> Value {
    match area {
        Area::Polygon(points) => json!({"kind": "polygon", "points": points}),
        Area::Circle { center, radius } => json!({"kind": "circle", "center": center, "radius": radius}),
        Area::Stroke { a, b, half_width } => json!({"kind": "stroke", "a": a, "b": b, "half_width": half_width}),
    }
}

/// The world of a replay as shapes to draw (metres, y up).
pub fn world_json(w: &ResolvedScenario, robot_radius: f32) -> Value {
    let solids: Vec<Value> = w
        .solids
        .iter()
        .map(|s| match &s.shape {
            SolidShape::Box(b) => {
                json!({"kind": "box", "center": b.center, "half_extents": b.half_extents, "angle": b.angle, "color": s.color.name(), "label": s.label})
            }
            SolidShape::Circle { center, radius } => json!({"kind": "circle", "center": center, "radius": radius, "color": s.color.name(), "label": s.label}),
        })
        .collect();
    let paint: Vec<Value> = w
        .paint
        .iter()
        .map(|p| {
            let mut v = area_json(&p.area);
            v["color"] = json!(p.color.name());
            v
        })
        .collect();
    let zones: Vec<Value> = w
        .zones
        .iter()
        .map(|z| {
            let mut v = area_json(&z.area);
            v["name"] = json!(z.name);
            v
        })
        .collect();
    json!({
        "arena_size": w.arena_size,
        "floor": w.floor.name(),
        "solids": solids,
        "paint": paint,
        "lines": w.lines.iter().map(|l| json!({"points": l.points, "closed": l.closed, "width": l.width, "color": l.color.name()})).collect::<Vec<_>>(),
        "zones": zones,
        "checkpoints": w.checkpoints.iter().map(|c| json!({"name": c.name, "center": c.center, "radius": c.radius})).collect::<Vec<_>>(),
        "robot_radius": robot_radius,
        "start": w.start,
    })
}
