//! Assignments and submissions: teachers assign labs to classes, students
//! submit programs, and status and results stream back live.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiming_api::{AssignmentStatus, CannotSubmit, LabView, ProgramLimits, ScorePolicy, StudentProgress, SubmissionRequest, SubmissionStatus};
use qiming_curriculum::Text;
use qiming_runtime::Program;
use qiming_sim::view::{ReplayView, WorldView};
use qiming_sim::{Replay, Scenario};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::db::User;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{Class, audit_in, managed_class, visible_class};

/// Largest program a student may submit (bytes).
pub const MAX_PROGRAM: usize = 64 << 10;

/// The largest `.zip` bundle announced to clients (`limits.max_bundle_bytes`):
/// its base64 and the JSON around it must fit one request body, and the
/// grading crate's own cap on a zip applies too.
pub const MAX_BUNDLE_BYTES: usize = {
    let by_body = (super::http::MAX_BODY - 4096) / 4 * 3;
    let by_zip = qiming_grading::bundle::MAX_ZIP_BYTES as usize;
    if by_body < by_zip { by_body } else { by_zip }
};
/// Most attempts a teacher may allow per assignment.
pub const MAX_ATTEMPTS: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/assignments", get(my_assignments))
        .route("/api/classes/{id}/assignments", get(class_assignments).post(create_assignment))
        .route("/api/assignments/{id}", get(get_assignment).patch(update_assignment).delete(delete_assignment))
        .route("/api/assignments/{id}/progress", get(assignment_progress))
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
    /// The teacher's own title (None: the lab's).
    pub title: Option<String>,
    /// The languages the teacher allows, a subset of the lab's (None: all of the lab's).
    pub languages: Option<Vec<String>>,
}

impl Assignment {
    /// The languages a program for this assignment may be written in.
    pub fn allowed_languages(&self, lab: &qiming_curriculum::Lab) -> Vec<String> {
        match &self.languages {
            Some(chosen) => lab.languages.iter().filter(|l| chosen.contains(l)).cloned().collect(),
            None => lab.languages.clone(),
        }
    }
}

const ASSIGNMENT_COLUMNS: &str = "a.id, a.class_id, a.lab_id, a.opens_at, a.due_at, a.attempt_limit, a.score_policy, a.title, a.languages";

/// Why a student cannot submit now; the UI says so, and what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Before `opens_at`.
    NotOpen,
    /// Every attempt used (ask the teacher for more).
    AttemptsUsedUp,
    /// After `due_at` (or closed by the teacher).
    Closed,
}

impl Refusal {
    /// The reason code in answers (`reason`), translated by the UI.
    /// As `qiming_api` words it (`Assignment::reason`).
    pub fn wire(self) -> CannotSubmit {
        match self {
            Refusal::NotOpen => CannotSubmit::NotOpen,
            Refusal::AttemptsUsedUp => CannotSubmit::AttemptsUsedUp,
            Refusal::Closed => CannotSubmit::Closed,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotOpen => "not_open",
            Refusal::AttemptsUsedUp => "attempts_used_up",
            Refusal::Closed => "closed",
        }
    }

    /// Whether a student with `attempts` used may submit at `t`, and if not, why.
    pub fn of(a: &Assignment, attempts: i64, t: i64) -> Option<Refusal> {
        if t < a.opens_at {
            Some(Refusal::NotOpen)
        } else if t > a.due_at {
            Some(Refusal::Closed)
        } else if attempts >= a.attempt_limit {
            Some(Refusal::AttemptsUsedUp)
        } else {
            None
        }
    }

    /// 409 `cannot_submit` with the reason and the times the UI shows.
    fn error(self, a: &Assignment) -> AppError {
        let message = match self {
            Refusal::NotOpen => "this assignment is not open yet (see opens_at)".to_string(),
            Refusal::AttemptsUsedUp => format!("you have used all {} attempts for this assignment", a.attempt_limit),
            Refusal::Closed => "this assignment is closed (past its due date)".to_string(),
        };
        AppError::typed(
            StatusCode::CONFLICT,
            "cannot_submit",
            message,
            json!({"reason": self.code(), "opens_at": a.opens_at, "due_at": a.due_at, "attempt_limit": a.attempt_limit}),
        )
    }
}

fn assignment_of(r: &sqlx::any::AnyRow) -> anyhow::Result<Assignment> {
    Ok(Assignment {
        id: r.try_get("id")?,
        class_id: r.try_get("class_id")?,
        lab_id: r.try_get("lab_id")?,
        opens_at: r.try_get("opens_at")?,
        due_at: r.try_get("due_at")?,
        attempt_limit: r.try_get("attempt_limit")?,
        score_policy: r.try_get("score_policy")?,
        title: r.try_get("title")?,
        languages: r.try_get::<Option<String>, _>("languages")?.map(|l| l.split(',').map(str::to_string).collect()),
    })
}

/// The assignment and its class, if the caller may see the class.
pub async fn visible_assignment(state: &AppState, caller: &User, id: i64) -> Result<(Assignment, Class), AppError> {
    let row = sqlx::query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.id = $1")).bind(id).fetch_optional(&state.db.pool).await?;
    let assignment = assignment_of(&row.ok_or(AppError::NotFound)?)?;
    let class = visible_class(state, caller, assignment.class_id).await?;
    Ok((assignment, class))
}

/// A wire type (`qiming-api`) as the JSON value a handler extends or sends.
/// `Value` keeps its keys sorted, so the bytes sent do not depend on the
/// order of the type's fields.
fn wire<T: serde::Serialize>(t: &T) -> Result<Value, AppError> {
    serde_json::to_value(t).map_err(|e| AppError::Internal(e.into()))
}

/// The stored text of a closed set (checked by the schema) as its wire enum.
fn stored<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_value(Value::String(text.to_string())).map_err(|e| AppError::Internal(anyhow::anyhow!("stored value {text:?}: {e}")))
}

/// The assignment as JSON (`qiming_api::Assignment`), with the student's own progress when the caller is one.
async fn assignment_json(state: &AppState, a: &Assignment, class: &Class, caller: &User) -> Result<Value, AppError> {
    let lab = state.catalogue.lab(&a.lab_id);
    let lab_title = lab.map(|l| l.title.clone()).unwrap_or_else(|| Text::new(&a.lab_id, &a.lab_id));
    // The teacher's title is one text, shown as written in either language.
    let title = a.title.as_ref().map(|t| Text::new(t, t)).unwrap_or_else(|| lab_title.clone());
    let progress = if caller.role == "student" {
        let (attempts, score) = student_progress(state, a, caller.id).await?;
        let refusal = Refusal::of(a, attempts, now());
        let status = match refusal {
            Some(Refusal::NotOpen) => AssignmentStatus::NotOpen,
            Some(Refusal::AttemptsUsedUp) => AssignmentStatus::AttemptsUsedUp,
            Some(Refusal::Closed) => AssignmentStatus::Closed,
            None if attempts > 0 => AssignmentStatus::Submitted,
            None => AssignmentStatus::Open,
        };
        let score_override =
            serde_json::from_value(super::gradebook::student_override(state, a.id, caller.id).await?).map_err(|e| AppError::Internal(e.into()))?;
        Some(StudentProgress { attempts_used: attempts, score, status, can_submit: refusal.is_none(), reason: refusal.map(Refusal::wire), score_override })
    } else {
        None
    };
    wire(&qiming_api::Assignment {
        id: a.id,
        class_id: a.class_id,
        class_name: class.name.clone(),
        lab_id: a.lab_id.clone(),
        title,
        lab_title,
        custom_title: a.title.clone(),
        opens_at: a.opens_at,
        due_at: a.due_at,
        attempt_limit: a.attempt_limit,
        score_policy: stored::<ScorePolicy>(&a.score_policy)?,
        languages: lab.map(|l| a.allowed_languages(l)).unwrap_or_default(),
        progress,
    })
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
    /// Assign the lab although the class already has it (otherwise 409 `already_assigned`).
    #[serde(default)]
    allow_duplicate: bool,
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
        .ok_or_else(|| AppError::invalid("lab_id", "unknown", format!("lab_id {:?} is not a lab of the curriculum (GET /api/labs)", req.lab_id)))?;
    let opens_at = req.opens_at.unwrap_or_else(now);
    if req.due_at <= opens_at {
        return Err(AppError::invalid("due_at", "before_open", "due_at must be later than opens_at"));
    }
    let attempt_limit = req.attempt_limit.unwrap_or(10);
    check_attempt_limit(attempt_limit)?;
    let policy = req.score_policy.unwrap_or_else(|| "best".into());
    check_policy(&policy)?;
    // The same lab twice in one class is usually a slip (a double click, a
    // colleague's assignment overlooked): say which one exists, and let the
    // teacher confirm.
    if !req.allow_duplicate {
        let existing =
            sqlx::query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.class_id = $1 AND a.lab_id = $2 ORDER BY a.id DESC LIMIT 1"))
                .bind(class.id)
                .bind(&lab.id)
                .fetch_optional(&state.db.pool)
                .await?;
        if let Some(row) = existing {
            let e = assignment_of(&row)?;
            let title = e.title.as_ref().map(|t| json!({"zh-CN": t, "en": t})).unwrap_or_else(|| json!(lab.title));
            return Err(AppError::typed(
                StatusCode::CONFLICT,
                "already_assigned",
                format!("this class already has lab {} (assignment {}); send \"allow_duplicate\": true to assign it again", lab.id, e.id),
                json!({"existing": {"id": e.id, "title": title, "opens_at": e.opens_at, "due_at": e.due_at}}),
            ));
        }
    }
    let mut tx = state.db.pool.begin().await?;
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
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit_in(&mut tx, &caller.user, "assignment_create", &format!("assignment_id={id} class_id={} lab={}", class.id, lab.id)).await?;
    tx.commit().await?;
    let a = Assignment {
        id,
        class_id: class.id,
        lab_id: lab.id.clone(),
        opens_at,
        due_at: req.due_at,
        attempt_limit,
        score_policy: policy,
        title: None,
        languages: None,
    };
    Ok((StatusCode::CREATED, Json(assignment_json(&state, &a, &class, &caller.user).await?)).into_response())
}

async fn get_assignment(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    let mut v = assignment_json(&state, &a, &class, &caller.user).await?;
    if let Some(lab) = state.catalogue.lab(&a.lab_id) {
        let allowed = a.allowed_languages(lab);
        // The redacted view (no hidden scenarios, seeds or solutions), with the
        // languages this assignment allows in `languages` and the lab's own in `all_languages`.
        let mut view = LabView::new(lab, lab_limits(lab));
        view.summary.languages = allowed.clone();
        v["lab"] = json!(view);
        v["lab"]["all_languages"] = json!(lab.languages);
        // The lesson beside the editor: goals, steps, robot functions, arena, languages for the class.
        v["panel"] = super::lesson::panel(&state.catalogue, lab, &class, &allowed, a.languages.is_some());
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
            let program: String = r.try_get(1)?;
            if stored == super::queue::STORED_BUNDLE {
                // The editor gets the bundle's program back as text; the model stays in the stored zip.
                if let Ok(b) = super::queue::stored_submission(&stored, &program)
                    && let Ok(text) = String::from_utf8(b.program.source.clone())
                {
                    v["last_program"] = json!({"language": b.program.language.as_str(), "encoding": "text", "program": text, "bundle": true});
                }
            } else {
                let (language, encoding) = if stored == "wasm-base64" { ("wasm", "base64") } else { (stored.as_str(), "text") };
                v["last_program"] = json!({"language": language, "encoding": encoding, "program": program});
            }
        }
    }
    Ok(Json(v))
}

fn check_attempt_limit(n: i64) -> Result<(), AppError> {
    if !(1..=MAX_ATTEMPTS).contains(&n) {
        return Err(AppError::invalid("attempt_limit", "range", format!("attempt_limit must be 1–{MAX_ATTEMPTS}")).max(MAX_ATTEMPTS));
    }
    Ok(())
}

fn check_policy(p: &str) -> Result<(), AppError> {
    if p != "best" && p != "last" {
        return Err(AppError::invalid("score_policy", "choice", "score_policy must be \"best\" or \"last\""));
    }
    Ok(())
}

/// Longest title a teacher may give an assignment (characters).
pub const MAX_TITLE: usize = 100;

/// A change to an assignment; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentChange {
    /// The teacher's own title; empty: the lab's title again.
    title: Option<String>,
    opens_at: Option<i64>,
    /// Later than now ("extend"); to close now, send `close`.
    due_at: Option<i64>,
    /// `true`: close now (the due time becomes the server's now).
    close: Option<bool>,
    attempt_limit: Option<i64>,
    score_policy: Option<String>,
    /// A non-empty subset of the lab's languages.
    languages: Option<Vec<String>>,
}

async fn update_assignment(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<AssignmentChange>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (mut a, class) = visible_assignment(&state, &caller.user, id).await?;
    if !caller.user.manages_class(&class) {
        return Err(AppError::Forbidden("your role may not change assignments".into()));
    }
    let t = now();
    let mut changed: Vec<&str> = Vec::new();
    if let Some(title) = &req.title {
        let title = title.trim();
        if title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "title",
                "length",
                format!("title must be at most {MAX_TITLE} characters without control characters (empty: the lab's title)"),
            ));
        }
        a.title = (!title.is_empty()).then(|| title.to_string());
        changed.push("title");
    }
    if let Some(opens) = req.opens_at {
        a.opens_at = opens;
        changed.push("opens_at");
    }
    match (req.close, req.due_at) {
        (Some(true), Some(_)) => return Err(AppError::invalid("close", "choice", "send either close or due_at, not both")),
        (Some(true), None) => {
            a.due_at = t;
            // Closing one that has not opened yet: it opened and closed at once.
            a.opens_at = a.opens_at.min(t - 1);
            changed.push("close");
        }
        (_, Some(due)) => {
            // A date in the past would close it silently (a slip in a date field).
            if due <= t {
                return Err(AppError::invalid("due_at", "past", "due_at is in the past; to close the assignment now, send \"close\": true"));
            }
            a.due_at = due;
            changed.push("due_at");
        }
        _ => {}
    }
    if a.due_at <= a.opens_at {
        return Err(if req.opens_at.is_some() {
            AppError::invalid("opens_at", "before_due", "opens_at must be earlier than due_at")
        } else {
            AppError::invalid("due_at", "before_open", "opens_at must be earlier than due_at")
        });
    }
    if let Some(n) = req.attempt_limit {
        check_attempt_limit(n)?;
        a.attempt_limit = n;
        changed.push("attempt_limit");
    }
    if let Some(p) = &req.score_policy {
        check_policy(p)?;
        a.score_policy = p.clone();
        changed.push("score_policy");
    }
    if let Some(langs) = &req.languages {
        let lab = state.catalogue.lab(&a.lab_id).ok_or_else(|| AppError::conflict("lab_gone", format!("lab {} is no longer in the curriculum", a.lab_id)))?;
        if langs.is_empty() || langs.iter().any(|l| !lab.languages.contains(l)) {
            return Err(AppError::invalid("languages", "choice", format!("languages must be one or more of the lab's: {}", lab.languages.join(", "))));
        }
        // All of the lab's languages is the default: stored as none chosen.
        let chosen: Vec<String> = lab.languages.iter().filter(|l| langs.contains(l)).cloned().collect();
        a.languages = (chosen.len() < lab.languages.len()).then_some(chosen);
        changed.push("languages");
    }
    if changed.is_empty() {
        return Err(AppError::invalid("body", "required", "nothing to change: send title, opens_at, due_at, close, attempt_limit, score_policy or languages"));
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE assignments SET title = $1, opens_at = $2, due_at = $3, attempt_limit = $4, score_policy = $5, languages = $6 WHERE id = $7")
        .bind(&a.title)
        .bind(a.opens_at)
        .bind(a.due_at)
        .bind(a.attempt_limit)
        .bind(&a.score_policy)
        .bind(a.languages.as_ref().map(|l| l.join(",")))
        .bind(a.id)
        .execute(&mut *tx)
        .await?;
    // Ids, times and numbers only: a title is free text and stays out of the log.
    let detail = format!(
        "assignment_id={} class_id={} changed={} opens_at={} due_at={} attempt_limit={} score_policy={}",
        a.id,
        class.id,
        changed.join(","),
        a.opens_at,
        a.due_at,
        a.attempt_limit,
        a.score_policy
    );
    audit_in(&mut tx, &caller.user, "assignment_update", &detail).await?;
    tx.commit().await?;
    Ok(Json(assignment_json(&state, &a, &class, &caller.user).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteOptions {
    /// Delete although students have submitted (their work goes too).
    #[serde(default)]
    force: bool,
}

/// Deletes an assignment. One with submissions needs `?force=true`, so a
/// misclick cannot lose children's work; the answer says how many would go.
async fn delete_assignment(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(options): Query<DeleteOptions>,
) -> Result<StatusCode, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    if !caller.user.manages_class(&class) {
        return Err(AppError::Forbidden("your role may not delete assignments".into()));
    }
    // Reads, then deletes: SQLite's write lock from the start (`begin_write`),
    // or a worker's commit in between would fail the delete with SQLITE_BUSY.
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query("SELECT COUNT(*), COUNT(DISTINCT student_id) FROM submissions WHERE assignment_id = $1").bind(a.id).fetch_one(&mut *tx).await?;
    let (submissions, students): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if submissions > 0 && !options.force {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "has_submissions",
            format!("{students} student(s) have submitted {submissions} program(s) for this assignment; deleting it deletes them too: send ?force=true"),
            json!({"submissions": submissions, "students": students}),
        ));
    }
    for sql in [
        "DELETE FROM replays WHERE submission_id IN (SELECT id FROM submissions WHERE assignment_id = $1)",
        "DELETE FROM submissions WHERE assignment_id = $1",
        "DELETE FROM grade_overrides WHERE assignment_id = $1",
        "DELETE FROM assignments WHERE id = $1",
    ] {
        sqlx::query(sql).bind(a.id).execute(&mut *tx).await?;
    }
    audit_in(&mut tx, &caller.user, "assignment_delete", &format!("assignment_id={} class_id={} submissions={submissions}", a.id, class.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Score bins of the progress histogram: (label, lowest score in the bin).
pub const SCORE_BINS: [(&str, f64); 5] = [("0–59", 0.0), ("60–69", 60.0), ("70–79", 70.0), ("80–89", 80.0), ("90–100", 90.0)];

/// How the class is doing on one assignment (its managers): who has
/// submitted and who not yet, the average and best of the scores that count
/// (policy and overrides applied) and how they spread.
async fn assignment_progress(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, class) = visible_assignment(&state, &caller.user, id).await?;
    if !caller.user.manages_class(&class) {
        return Err(AppError::Forbidden("only the class's teacher and admins see its progress".into()));
    }
    let roster = sqlx::query("SELECT id, display_name, student_number FROM users WHERE class_id = $1 AND role = 'student' ORDER BY student_number, id")
        .bind(class.id)
        .fetch_all(&state.db.pool)
        .await?;
    // Attempts that count (not `failed`, our fault), oldest first for the "last" policy.
    let subs = sqlx::query("SELECT student_id, status, score FROM submissions WHERE assignment_id = $1 AND status <> 'failed' ORDER BY id")
        .bind(a.id)
        .fetch_all(&state.db.pool)
        .await?;
    let overrides = sqlx::query("SELECT student_id, score FROM grade_overrides WHERE assignment_id = $1").bind(a.id).fetch_all(&state.db.pool).await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE assignment_id = $1").bind(a.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let mut attempts: std::collections::BTreeMap<i64, (i64, Vec<f64>)> = std::collections::BTreeMap::new();
    for r in &subs {
        let e = attempts.entry(r.try_get("student_id")?).or_default();
        e.0 += 1;
        if r.try_get::<String, _>("status")? == "done" {
            e.1.push(r.try_get::<Option<f64>, _>("score")?.unwrap_or(0.0));
        }
    }
    let mut overridden = std::collections::BTreeMap::new();
    for r in &overrides {
        overridden.insert(r.try_get::<i64, _>("student_id")?, r.try_get::<f64, _>("score")?);
    }
    let (mut submitted, mut not_yet, mut scores) = (0, Vec::new(), Vec::new());
    for r in &roster {
        let sid: i64 = r.try_get("id")?;
        let (n, graded) = attempts.get(&sid).cloned().unwrap_or_default();
        if n > 0 {
            submitted += 1;
        } else {
            not_yet.push(json!({"id": sid, "display_name": r.try_get::<String, _>("display_name")?, "student_number": r.try_get::<Option<String>, _>("student_number")?}));
        }
        if let Some(score) = overridden.get(&sid).copied().or_else(|| super::gradebook::policy_score(&a.score_policy, &graded)) {
            scores.push(score);
        }
    }
    let histogram: Vec<Value> = SCORE_BINS
        .iter()
        .enumerate()
        .map(|(i, (label, low))| {
            let high = SCORE_BINS.get(i + 1).map_or(f64::INFINITY, |b| b.1);
            json!({"label": label, "min": low, "count": scores.iter().filter(|s| **s >= *low && **s < high).count()})
        })
        .collect();
    let average = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    Ok(Json(json!({
        "assignment_id": a.id,
        "students": roster.len(),
        "submitted": submitted,
        "not_submitted": not_yet,
        "scored": scores.len(),
        "average": average,
        "best": scores.iter().copied().reduce(f64::max),
        "histogram": histogram,
        "submissions": total,
    })))
}

pub const SUBMISSION_COLUMNS: &str = "s.id, s.assignment_id, s.round_id, s.team_id, s.lab_id, s.final_of, s.sitting_id, s.item_id, s.student_id, s.language, s.status, \
                                      s.submitted_at, s.graded_at, s.score, s.max_score";

/// A submission row as `qiming_api::Submission` (an assignment's), or as a
/// contest submission (a round's: see contest.rs).
fn submission_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    if r.try_get::<Option<i64>, _>("assignment_id")?.is_none() {
        let mut v = super::contest::submission_json(r)?;
        // An assessment sitting's program for a performance item.
        if let Some(sitting) = r.try_get::<Option<i64>, _>("sitting_id")? {
            v["sitting_id"] = json!(sitting);
            v["item_id"] = json!(r.try_get::<Option<String>, _>("item_id")?);
        }
        return Ok(v);
    }
    wire(&qiming_api::Submission {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        student_id: r.try_get("student_id")?,
        language: r.try_get("language")?,
        status: stored::<SubmissionStatus>(&r.try_get::<String, _>("status")?)?,
        submitted_at: r.try_get("submitted_at")?,
        graded_at: r.try_get("graded_at")?,
        score: r.try_get("score")?,
        max_score: r.try_get("max_score")?,
        student_name: None,
    })
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

/// Checks a program sent for an assignment (size, characters, the lab's
/// languages, encoding); returns the language as stored.
fn checked_program(state: &AppState, a: &Assignment, req: &SubmissionRequest) -> Result<String, AppError> {
    let lab = state.catalogue.lab(&a.lab_id).ok_or_else(|| AppError::conflict("lab_gone", format!("lab {} is no longer in the curriculum", a.lab_id)))?;
    check_program(lab, &a.allowed_languages(lab), req)
}

/// Checks a program for a lab (size, characters, the languages allowed,
/// encoding); returns the language as stored. Assignments and contest rounds share it.
pub fn check_program(lab: &qiming_curriculum::Lab, allowed: &[String], req: &SubmissionRequest) -> Result<String, AppError> {
    if req.encoding.as_deref() == Some("zip") {
        return check_bundle(lab, allowed, req);
    }
    if req.program.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(AppError::invalid("program", "control_characters", "program contains control characters (only newlines and tabs are allowed)"));
    }
    // The limit the lab payload announces, so editors can check it first.
    let max = max_program_bytes(lab);
    if req.program.len() > max {
        return Err(AppError::PayloadTooLarge(format!("program is {} bytes; the most is {max}", req.program.len())));
    }
    if !allowed.contains(&req.language) {
        return Err(AppError::invalid("language", "choice", format!("language must be one of: {}", allowed.join(", "))));
    }
    let stored_language = match (req.language.as_str(), req.encoding.as_deref().unwrap_or("text")) {
        (_, "text") => req.language.clone(),
        ("wasm", "base64") => "wasm-base64".to_string(),
        _ => return Err(AppError::invalid("encoding", "choice", "encoding must be \"text\", or \"base64\" for a binary wasm module")),
    };
    if let Err(e) = Program::from_stored(&stored_language, &req.program) {
        return Err(AppError::invalid("program", "encoding", format!("program: {e}")));
    }
    Ok(stored_language)
}

/// A bundle upload for an AI lab (`encoding = "zip"`: `program` is the
/// base64 of a `.zip` with one program and at most one model), checked with
/// the grading crate's loader — zip limits, paths, the model file — before
/// anything is stored or queued. It is stored as language
/// [`queue::STORED_BUNDLE`] with the base64 text as the program.
fn check_bundle(lab: &qiming_curriculum::Lab, allowed: &[String], req: &SubmissionRequest) -> Result<String, AppError> {
    use base64::Engine as _;
    if lab.model.is_none() {
        return Err(AppError::invalid("encoding", "bundle_not_ai", "only AI labs (with a [model] table) take .zip bundles; send the program as text"));
    }
    if !allowed.contains(&req.language) {
        return Err(AppError::invalid("language", "choice", format!("language must be one of: {}", allowed.join(", "))));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.program.trim())
        .map_err(|e| AppError::invalid("program", "encoding", format!("program: a zip bundle must be base64: {e}")))?;
    let bundle = qiming_grading::Bundle::from_zip(&bytes).map_err(|e| bundle_error(&e))?;
    let max = max_program_bytes(lab);
    if bundle.program.source.len() > max {
        return Err(AppError::PayloadTooLarge(format!("the bundle's program is {} bytes; the most is {max}", bundle.program.source.len())));
    }
    if bundle.program.language.as_str() != req.language {
        return Err(AppError::invalid(
            "language",
            "bundle_language",
            format!("the bundle's program {} is {}, not {}", bundle.program_name, bundle.program.language.as_str(), req.language),
        ));
    }
    Ok(super::queue::STORED_BUNDLE.to_string())
}

/// A refused bundle: 422 with the loader's reason in both languages
/// (`detail`), which clients show as it is.
pub fn bundle_error(e: &qiming_grading::BundleError) -> AppError {
    let m = e.user_message();
    AppError::typed(StatusCode::UNPROCESSABLE_ENTITY, "bad_bundle", e.to_string(), json!({"field": "program", "detail": {"zh-CN": m.zh, "en": m.en}}))
}

/// Runs a program on the lab's *visible* cases and answers with the report
/// at once: no attempt is spent, nothing is stored. For "test before you
/// submit". Bounded: one test run per person at a time (429), and at most one
/// per core across the server, waiting up to 10 s for a turn (503).
async fn test_run(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<SubmissionRequest>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (a, _class) = visible_assignment(&state, &caller.user, id).await?;
    let stored_language = checked_program(&state, &a, &req)?;
    let submission = super::queue::stored_submission(&stored_language, &req.program).map_err(|e| AppError::invalid("program", "encoding", e))?;
    let lab = state.catalogue.lab(&a.lab_id).ok_or(AppError::NotFound)?;
    let mut visible = lab.clone();
    visible.cases.retain(|c| !c.hidden);
    visible.model_cases.retain(|c| !c.hidden);
    let _mine = state.test_users.take(caller.user.id, 1).ok_or_else(|| AppError::TooManyRequests {
        reason: "test_running",
        message: "your previous test run is still going; wait for its result".into(),
        retry_after: 2,
    })?;
    let _turn = match tokio::time::timeout(Duration::from_secs(10), state.test_runs.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => return Err(AppError::Busy),
    };
    let cancel = qiming_runtime::Cancel::new();
    // A client that goes away (or a server shutting down) stops the run.
    let _stop = CancelOnDrop(cancel.clone());
    let options = qiming_grading::grade::GradeOptions { threads: 1, cancel, ..Default::default() };
    let report = tokio::task::spawn_blocking(move || qiming_grading::grade::grade_bundle(&visible, &submission, &options))
        .await
        .map_err(|e| anyhow::anyhow!("test run: {e}"))?;
    if report.cancelled {
        return Err(AppError::Busy);
    }
    let mut v = serde_json::to_value(&report).map_err(|e| anyhow::anyhow!(e))?;
    v["attempt_spent"] = json!(false);
    v["hidden_cases"] = json!(lab.cases.iter().filter(|c| c.hidden).count() + lab.model_cases.iter().filter(|c| c.hidden).count());
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
    req: Result<Json<SubmissionRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (a, _class) = visible_assignment(&state, &caller.user, id).await?;
    if caller.user.role != "student" {
        return Err(AppError::Forbidden("only the class's students submit; try programs with `qiming grade`".into()));
    }
    // Why not, first: a student who may not submit at all learns that
    // before anything about the program.
    let t = now();
    let (used, _) = student_progress(&state, &a, caller.user.id).await?;
    if let Some(refusal) = Refusal::of(&a, used, t) {
        return Err(refusal.error(&a));
    }
    let stored_language = checked_program(&state, &a, &req)?;
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
        return Err(Refusal::AttemptsUsedUp.error(&a));
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
    Ok(super::contest::access_unchanged((StatusCode::ACCEPTED, Json(accepted))))
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
    if let Some(sitting) = row.try_get::<Option<i64>, _>("sitting_id")? {
        return if super::assessments::sees_sitting(state, caller, sitting).await? { Ok(row) } else { Err(AppError::NotFound) };
    }
    let Some(assignment) = row.try_get::<Option<i64>, _>("assignment_id")? else {
        // A contest round's: its team and the event's organisers and judges.
        return if super::contest::sees_round_submission(state, caller, &row).await? { Ok(row) } else { Err(AppError::NotFound) };
    };
    let (_, class) = visible_assignment(state, caller, assignment).await?;
    if caller.manages_class(&class) { Ok(row) } else { Err(AppError::NotFound) }
}

pub fn full_submission_json(row: &sqlx::any::AnyRow) -> Result<Value, AppError> {
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
        reason: "streams",
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
    let world = scenario.resolve(replay.header.seed);
    Ok(Json(json!({"world": WorldView::of(&world, replay.header.robot_radius), "replay": ReplayView::of(&replay)})))
}

/// The limits a program for this lab is held to, for editors that check
/// before sending: the server's cap on a submission and the lab's own.
pub fn lab_limits(lab: &qiming_curriculum::Lab) -> ProgramLimits {
    let limits = qiming_grading::grade::lab_limits(lab, &qiming_runtime::Limits::default());
    ProgramLimits {
        max_program_bytes: max_program_bytes(lab),
        max_output_bytes: limits.output_bytes as u64,
        cpu_seconds: limits.cpu_time.as_secs_f64(),
        max_bundle_bytes: lab.model.is_some().then_some(MAX_BUNDLE_BYTES),
    }
}

/// The most bytes a program for this lab may hold: the server's cap, or the lab's `program_size`.
fn max_program_bytes(lab: &qiming_curriculum::Lab) -> usize {
    let limits = qiming_grading::grade::lab_limits(lab, &qiming_runtime::Limits::default());
    MAX_PROGRAM.min(limits.script_bytes).min(limits.program_bytes)
}
