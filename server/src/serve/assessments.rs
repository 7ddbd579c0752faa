//! Assessment delivery: tests (试卷/测评) as data, sittings that survive a dropped
//! connection or a server restart, answers saved as given, scoring with the item
//! bank's own rules, adaptive tests stepped on the server, and live progress.
//!
//! The tables are described for the reports in docs/assessment-delivery.md. The
//! key of an item (its answer, accepted spellings, explanation) leaves the server
//! only in a submitted sitting's results: `taker_item` is the one place items are
//! written for takers, and it has no key.
//!
//! A performance item (a small lab) is answered with programs: each one handed in
//! is a submission on the grading queue (`queue.rs`), owned by the sitting, graded
//! by the same workers with the server's hidden seeds. The item scores its best
//! graded program through `Item::score(LabScore(score / max))`; a sitting whose
//! programs are still being graded is closed with `points` NULL ("grading") and
//! scored once the last grade is in (`score_sitting`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use qiming_curriculum::item::{Item, ItemKind, Response as Answer};
use qiming_curriculum::meta::LITERACIES;
use qiming_grading::irt::{self, StepOptions};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::db::User;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{Class, audit_in, managed_class};
use qiming_api::SubmissionRequest;

/// Most items in a fixed form or an adaptive pool.
pub const MAX_ITEMS: usize = 300;
/// Longest time limit (minutes).
pub const MAX_MINUTES: i64 = 600;
/// Longest short-text answer (characters).
pub const MAX_TEXT: usize = 200;
/// Programs a taker may hand in per performance item (graded or waiting; those the
/// grader could not grade, our fault, do not count).
pub const PROGRAM_ATTEMPTS: i64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/assessments", get(list).post(create))
        .route("/api/assessments/{id}", get(detail).delete(remove))
        .route("/api/assessments/{id}/progress", get(progress))
        .route("/api/assessments/{id}/sitting", get(my_sitting).post(start))
        .route("/api/assessments/{id}/sitting/answers/{item}", put(save_answer))
        .route("/api/assessments/{id}/sitting/position", put(save_position))
        .route("/api/assessments/{id}/sitting/next", post(next_item))
        .route("/api/assessments/{id}/sitting/submit", post(submit))
        .route("/api/assessments/{id}/sitting/programs/{item}", post(hand_in))
}

/// An assessment row.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub id: i64,
    pub title: String,
    /// `students` or `teachers`.
    pub population: String,
    /// `fixed` or `adaptive`.
    pub mode: String,
    /// `single` (one question per screen) or `paged` (all on one page).
    pub presentation: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub time_limit_minutes: i64,
    pub max_items: Option<i64>,
    pub se_target: Option<f64>,
    pub randomesque: Option<i64>,
    pub school_id: Option<i64>,
    pub target_school_id: Option<i64>,
    pub target_region_id: Option<i64>,
    pub created_by: i64,
    /// Last year's assessment of the same population: the reports' growth compares with it.
    pub follows_id: Option<i64>,
}

const COLUMNS: &str = "id, title, population, mode, presentation, opens_at, closes_at, time_limit_minutes, max_items, se_target, randomesque, \
                       school_id, target_school_id, target_region_id, created_by, follows_id";

fn assessment_of(r: &sqlx::any::AnyRow) -> Result<Assessment, AppError> {
    Ok(Assessment {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        population: r.try_get("population")?,
        mode: r.try_get("mode")?,
        presentation: r.try_get("presentation")?,
        opens_at: r.try_get("opens_at")?,
        closes_at: r.try_get("closes_at")?,
        time_limit_minutes: r.try_get("time_limit_minutes")?,
        max_items: r.try_get("max_items")?,
        se_target: r.try_get("se_target")?,
        randomesque: r.try_get("randomesque")?,
        school_id: r.try_get("school_id")?,
        target_school_id: r.try_get("target_school_id")?,
        target_region_id: r.try_get("target_region_id")?,
        created_by: r.try_get("created_by")?,
        follows_id: r.try_get("follows_id")?,
    })
}

impl Assessment {
    fn adaptive(&self) -> bool {
        self.mode == "adaptive"
    }

    fn step_options(&self) -> StepOptions {
        StepOptions {
            se_target: self.se_target.unwrap_or(0.3),
            max_items: self.max_items.unwrap_or(20).max(1) as usize,
            randomesque: self.randomesque.unwrap_or(5).max(1) as usize,
            ..StepOptions::default()
        }
    }
}

// ---------------------------------------------------------------- who may do what

/// What the caller is to an assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Access {
    /// Sees its progress (a teacher: only their own classes' takers, unless they made it).
    manages: bool,
    /// Changes or deletes it.
    owns: bool,
    /// Sits it.
    sits: bool,
}

async fn class_ids(state: &AppState, id: i64) -> Result<Vec<i64>, AppError> {
    let rows = sqlx::query("SELECT class_id FROM assessment_classes WHERE assessment_id = $1 ORDER BY class_id").bind(id).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| r.try_get(0).map_err(AppError::from)).collect()
}

/// Whether `school` lies in `region` or a region below it.
async fn school_in_region(state: &AppState, school: i64, region: i64) -> Result<bool, AppError> {
    let row = sqlx::query("SELECT region_id FROM schools WHERE id = $1").bind(school).fetch_optional(&state.db.pool).await?;
    let mut at: Option<i64> = row.map(|r| r.try_get(0)).transpose()?;
    // Regions nest a few levels deep (province → city → district); the bound stops a cycle.
    for _ in 0..16 {
        match at {
            Some(r) if r == region => return Ok(true),
            Some(r) => {
                let row = sqlx::query("SELECT parent_id FROM regions WHERE id = $1").bind(r).fetch_optional(&state.db.pool).await?;
                at = row.map(|x| x.try_get::<Option<i64>, _>(0)).transpose()?.flatten();
            }
            None => return Ok(false),
        }
    }
    Ok(false)
}

async fn access(state: &AppState, caller: &User, a: &Assessment) -> Result<Access, AppError> {
    let owns = match caller.role.as_str() {
        "platform_admin" | "organiser" => true,
        "school_admin" => a.school_id.is_some() && a.school_id == caller.school_id,
        "teacher" => a.created_by == caller.id,
        _ => false,
    };
    let mut manages = owns;
    let mut sits = false;
    if a.population == "students" {
        let classes = class_ids(state, a.id).await?;
        match caller.role.as_str() {
            "student" => sits = caller.class_id.is_some_and(|c| classes.contains(&c)),
            "teacher" if !manages => {
                for c in classes {
                    if state.db.class(c).await?.is_some_and(|c| c.teacher_id == caller.id) {
                        manages = true;
                        break;
                    }
                }
            }
            _ => {}
        }
    } else if caller.role == "teacher"
        && let Some(school) = caller.school_id
    {
        sits = a.target_school_id == Some(school)
            || match a.target_region_id {
                Some(region) => school_in_region(state, school, region).await?,
                None => false,
            };
    }
    Ok(Access { manages, owns, sits })
}

/// The assessment row, or None (for the reports, which authorise by what they show).
pub async fn load(state: &AppState, id: i64) -> Result<Option<Assessment>, AppError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM assessments WHERE id = $1")).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(assessment_of).transpose()
}

/// Whether the caller manages or sits the assessment.
pub async fn visible_to(state: &AppState, caller: &User, a: &Assessment) -> Result<bool, AppError> {
    let acc = access(state, caller, a).await?;
    Ok(acc.manages || acc.sits)
}

/// The assessment if the caller may see it (manages or sits it), else 404.
async fn visible(state: &AppState, caller: &User, id: i64) -> Result<(Assessment, Access), AppError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM assessments WHERE id = $1")).bind(id).fetch_optional(&state.db.pool).await?;
    let a = assessment_of(&row.ok_or(AppError::NotFound)?)?;
    let acc = access(state, caller, &a).await?;
    if acc.manages || acc.sits { Ok((a, acc)) } else { Err(AppError::NotFound) }
}

/// The assessment if the caller sits it: 404 when they cannot see it, 403 for its managers.
async fn sat(state: &AppState, caller: &User, id: i64) -> Result<Assessment, AppError> {
    let (a, acc) = visible(state, caller, id).await?;
    if acc.sits { Ok(a) } else { Err(AppError::Forbidden("only the people who sit this assessment take it".into())) }
}

// ---------------------------------------------------------------- items as takers and results see them

fn choices(options: &[qiming_curriculum::item::Choice]) -> Value {
    json!(options.iter().map(|c| json!({"id": c.id, "text": c.text})).collect::<Vec<_>>())
}

/// An item as a taker sees it during the sitting: stem, options, points — never
/// the answer, the accepted spellings or the explanation.
pub fn taker_item(item: &Item) -> Value {
    let mut v = json!({"id": item.id, "type": item.kind.name(), "literacy": item.literacy, "stem": item.stem, "max_points": item.max_points()});
    match &item.kind {
        ItemKind::Single { options, .. } | ItemKind::Multiple { options, .. } | ItemKind::Ordering { options, .. } => v["options"] = choices(options),
        ItemKind::Matching { options, targets, .. } => {
            v["options"] = choices(options);
            v["targets"] = choices(targets);
        }
        ItemKind::Numeric { unit, .. } => v["unit"] = json!(unit),
        ItemKind::TrueFalse { .. } | ItemKind::Text { .. } | ItemKind::Performance { .. } => {}
    }
    v
}

/// The right answer, in the shape of a response (text items: the accepted spellings).
pub(super) fn key_of(item: &Item) -> Value {
    match &item.kind {
        ItemKind::Single { answer, .. } => json!({"choices": [answer]}),
        ItemKind::Multiple { answer, .. } => json!({"choices": answer}),
        ItemKind::TrueFalse { answer } => json!({"value": answer}),
        ItemKind::Numeric { answer, tolerance, .. } => json!({"number": answer, "tolerance": tolerance}),
        ItemKind::Text { accept } => json!({"accepted": {"zh-CN": accept.zh, "en": accept.en}}),
        ItemKind::Ordering { answer, .. } => json!({"order": answer}),
        ItemKind::Matching { answer, .. } => json!({"pairs": answer.iter().map(|(o, t)| json!([o, t])).collect::<Vec<_>>()}),
        ItemKind::Performance { levels, .. } => json!({"levels": levels}),
    }
}

fn shape(message: impl Into<String>) -> AppError {
    AppError::invalid("response", "shape", message)
}

/// Reads a response as the item's type wants it, refusing ids the item does not have.
/// Shapes (docs/assessment-delivery.md): `{"choices": [id…]}` (single, multiple),
/// `{"value": bool}`, `{"number": x}`, `{"text": "…"}`, `{"order": [id…]}`, `{"pairs": [[option, target]…]}`.
pub fn parse_response(item: &Item, v: &Value) -> Result<Answer, AppError> {
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| shape("response must be an object with one key (docs/assessment-delivery.md)"))?;
    let ids = |key: &str, allowed: &[qiming_curriculum::item::Choice]| -> Result<Vec<String>, AppError> {
        let list = obj.get(key).and_then(Value::as_array).ok_or_else(|| shape(format!("this item takes {{\"{key}\": [ids]}}")))?;
        if list.len() > allowed.len() {
            return Err(shape(format!("{key}: more ids than the item has options")));
        }
        list.iter()
            .map(|x| match x.as_str() {
                Some(id) if allowed.iter().any(|c| c.id == id) => Ok(id.to_string()),
                _ => Err(shape(format!("{key}: {x} is not an option of this item"))),
            })
            .collect()
    };
    Ok(match &item.kind {
        ItemKind::Single { options, .. } => {
            let c = ids("choices", options)?;
            if c.len() != 1 {
                return Err(shape("a single-choice item takes exactly one choice"));
            }
            Answer::Choices(c)
        }
        ItemKind::Multiple { options, .. } => Answer::Choices(ids("choices", options)?),
        ItemKind::TrueFalse { .. } => Answer::Bool(obj.get("value").and_then(Value::as_bool).ok_or_else(|| shape("this item takes {\"value\": true|false}"))?),
        ItemKind::Numeric { .. } => {
            Answer::Number(obj.get("number").and_then(Value::as_f64).filter(|x| x.is_finite()).ok_or_else(|| shape("this item takes {\"number\": x}"))?)
        }
        ItemKind::Text { .. } => {
            let t = obj.get("text").and_then(Value::as_str).ok_or_else(|| shape("this item takes {\"text\": \"…\"}"))?;
            if t.chars().count() > MAX_TEXT || t.chars().any(char::is_control) {
                return Err(AppError::invalid("response", "length", format!("an answer is at most {MAX_TEXT} characters on one line")).max(MAX_TEXT as i64));
            }
            Answer::Text(t.to_string())
        }
        ItemKind::Ordering { options, .. } => Answer::Order(ids("order", options)?),
        ItemKind::Matching { options, targets, .. } => {
            let list = obj.get("pairs").and_then(Value::as_array).ok_or_else(|| shape("this item takes {\"pairs\": [[option, target]…]}"))?;
            if list.len() > options.len() {
                return Err(shape("pairs: more pairs than the item has options"));
            }
            let mut pairs = Vec::new();
            for p in list {
                match p.as_array().map(Vec::as_slice) {
                    Some([Value::String(o), Value::String(t)]) if options.iter().any(|c| &c.id == o) && targets.iter().any(|c| &c.id == t) => {
                        pairs.push((o.clone(), t.clone()))
                    }
                    _ => return Err(shape(format!("pairs: {p} is not [option, target] of this item"))),
                }
            }
            Answer::Pairs(pairs)
        }
        // Answered with programs, not a response: POST …/sitting/programs/{item}.
        ItemKind::Performance { .. } => return Err(shape("a performance task is answered with a program: POST /api/assessments/{id}/sitting/programs/{item}")),
    })
}

fn literacy_name(id: &str) -> Value {
    LITERACIES.iter().find(|l| l.0 == id).map_or_else(|| json!({"zh-CN": id, "en": id}), |l| json!({"zh-CN": l.1, "en": l.2}))
}

// ---------------------------------------------------------------- listing and creating

fn assessment_json(a: &Assessment) -> Value {
    json!({
        "id": a.id, "title": a.title, "population": a.population, "mode": a.mode, "presentation": a.presentation,
        "opens_at": a.opens_at, "closes_at": a.closes_at, "time_limit_minutes": a.time_limit_minutes,
        "max_items": a.max_items, "se_target": a.se_target, "randomesque": a.randomesque,
        "school_id": a.school_id, "target_school_id": a.target_school_id, "target_region_id": a.target_region_id,
        "follows_id": a.follows_id,
    })
}

/// Where a taker stands: not started, in progress, submitted.
async fn taker_status(state: &AppState, a: &Assessment, taker: i64) -> Result<Value, AppError> {
    let row = sqlx::query("SELECT id, deadline_at, submitted_at, points, max_points FROM sittings WHERE assessment_id = $1 AND taker_id = $2")
        .bind(a.id)
        .bind(taker)
        .fetch_optional(&state.db.pool)
        .await?;
    let t = now();
    let window = if t < a.opens_at {
        "not_open"
    } else if t > a.closes_at {
        "closed"
    } else {
        "open"
    };
    Ok(match row {
        None => json!({"status": "not_started", "window": window}),
        Some(r) => {
            let submitted: Option<i64> = r.try_get("submitted_at")?;
            let deadline: i64 = r.try_get("deadline_at")?;
            let status = if submitted.is_some() || deadline < t { "submitted" } else { "in_progress" };
            let points: Option<i64> = r.try_get("points")?;
            json!({"status": status, "window": window, "sitting_id": r.try_get::<i64, _>("id")?, "deadline_at": deadline,
                "remaining_seconds": if status == "in_progress" { deadline - t } else { 0 },
                // Closed with a program still being graded: no score yet, not 0.
                "grading": submitted.is_some() && points.is_none(),
                "points": points, "max_points": r.try_get::<Option<i64>, _>("max_points")?})
        }
    })
}

async fn list(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    // Candidates by a coarse filter in SQL; `access` then decides, one rule for everything.
    let (filter, bind) = match u.role.as_str() {
        "student" => ("id IN (SELECT assessment_id FROM assessment_classes WHERE class_id = $1)", u.class_id.unwrap_or(-1)),
        "teacher" => (
            "created_by = $1 OR population = 'teachers' OR id IN (SELECT ac.assessment_id FROM assessment_classes ac JOIN classes c ON c.id = ac.class_id WHERE c.teacher_id = $1)",
            u.id,
        ),
        "school_admin" => ("school_id = $1", u.school_id.unwrap_or(-1)),
        _ => ("1 = $1", 1),
    };
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM assessments WHERE {filter} ORDER BY opens_at, id")).bind(bind).fetch_all(&state.db.pool).await?;
    let mut out = Vec::new();
    for r in &rows {
        let a = assessment_of(r)?;
        let acc = access(&state, u, &a).await?;
        if !(acc.manages || acc.sits) {
            continue;
        }
        let mut v = assessment_json(&a);
        v["manages"] = json!(acc.manages);
        v["sits"] = json!(acc.sits);
        if acc.sits {
            v["mine"] = taker_status(&state, &a, u.id).await?;
        }
        out.push(v);
    }
    Ok(Json(json!({ "assessments": out })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAssessment {
    title: String,
    population: String,
    mode: String,
    presentation: Option<String>,
    opens_at: Option<i64>,
    closes_at: i64,
    time_limit_minutes: i64,
    /// Fixed: the form in order; adaptive: the pool (default: every live item of the population).
    items: Option<Vec<String>>,
    /// Fixed only: a blueprint (the TOML of docs/assessment-assembly.md) to assemble the form from.
    blueprint: Option<String>,
    /// Adaptive pool by default: only this grade band's items (student population).
    grade_band: Option<String>,
    max_items: Option<i64>,
    se_target: Option<f64>,
    randomesque: Option<i64>,
    /// Population students: the classes that sit it.
    #[serde(default)]
    class_ids: Vec<i64>,
    /// Population teachers: the teachers of this school, or of every school in this region.
    target_school_id: Option<i64>,
    target_region_id: Option<i64>,
    /// Last year's assessment of the same population that this one follows (the reports'
    /// growth since last year); the caller must see it.
    follows_id: Option<i64>,
}

/// Checks `follows`: an assessment the caller sees, of the same population, opening in the
/// calendar year (China time) before `opens_at`'s.
async fn check_follows(state: &AppState, caller: &User, follows: i64, population: &str, opens_at: i64) -> Result<(), AppError> {
    let unknown = || AppError::invalid("follows_id", "unknown", format!("follows_id {follows} is not an assessment you can see"));
    let prev = load(state, follows).await?.ok_or_else(unknown)?;
    if !visible_to(state, caller, &prev).await? {
        return Err(unknown());
    }
    if prev.population != population {
        return Err(AppError::invalid("follows_id", "population", format!("assessment {follows} is for {}, this one for {population}", prev.population)));
    }
    let (year, prev_year) = (super::reports::year_of(opens_at), super::reports::year_of(prev.opens_at));
    if prev_year != year - 1 {
        return Err(AppError::invalid(
            "follows_id",
            "previous_year",
            format!("assessment {follows} opened in {prev_year}; the one this follows must open in {}, the year before this one", year - 1),
        ));
    }
    Ok(())
}

/// Checks an explicit item list against the bank: known, the right population, not
/// retired (in the bank, or on this server after a review: `retired`), no repeats; performance tasks only in fixed forms (an adaptive step needs
/// the score at once, and a program's grade arrives later) and only with their lab.
fn check_items(state: &AppState, ids: &[String], population: &str, adaptive: bool, retired: &BTreeSet<String>) -> Result<Vec<String>, AppError> {
    if ids.is_empty() || ids.len() > MAX_ITEMS {
        return Err(AppError::invalid("items", "count", format!("give 1–{MAX_ITEMS} item ids")).max(MAX_ITEMS as i64));
    }
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        let item = state.catalogue.items.get(id).ok_or_else(|| AppError::invalid("items", "unknown", format!("item {id:?} is not in the bank")))?;
        if item.population != population {
            return Err(AppError::invalid("items", "population", format!("item {id} belongs to the {} population", item.population)));
        }
        if item.status == "retired" || retired.contains(id) {
            return Err(AppError::invalid("items", "retired", format!("item {id} is retired")));
        }
        if let ItemKind::Performance { lab, .. } = &item.kind {
            if adaptive {
                return Err(AppError::invalid("items", "performance", format!("item {id} is a performance task; adaptive tests leave them out")));
            }
            if state.catalogue.lab(lab).is_none() {
                return Err(AppError::invalid("items", "lab_missing", format!("item {id} needs lab {lab}, which is not in this server's curriculum")));
            }
        }
        if !seen.insert(id.as_str()) {
            return Err(AppError::invalid("items", "duplicate", format!("item {id} is listed twice")));
        }
    }
    Ok(ids.to_vec())
}

/// Items a blueprint (`adaptive` false) or a default adaptive pool may draw on: the
/// population's, not retired (in the bank or on this server); performance tasks only for
/// fixed forms and only with their lab in the curriculum.
fn deliverable<'a>(state: &'a AppState, population: &'a str, adaptive: bool, retired: &'a BTreeSet<String>) -> impl Iterator<Item = &'a Item> + 'a {
    state.catalogue.items.population(population).filter(move |i| {
        i.status != "retired"
            && !retired.contains(&i.id)
            && match &i.kind {
                ItemKind::Performance { lab, .. } => !adaptive && state.catalogue.lab(lab).is_some(),
                _ => true,
            }
    })
}

async fn assemble_form(state: &AppState, text: String, population: &'static str, retired: &BTreeSet<String>) -> Result<Vec<String>, AppError> {
    assemble(deliverable(state, population, false, retired).cloned().collect(), text).await
}

/// One form assembled from `items` by a blueprint (the TOML of docs/assessment-assembly.md):
/// the item ids in order, or why no form meets it. Quiz rounds assemble their forms here too.
pub(super) async fn assemble(items: Vec<Item>, text: String) -> Result<Vec<String>, AppError> {
    if text.len() > 64 << 10 {
        return Err(AppError::invalid("blueprint", "length", "a blueprint is at most 64 KiB").max(64 << 10));
    }
    // The solver takes up to seconds: off the async threads.
    let outcome = tokio::task::spawn_blocking(move || {
        let bp = qiming_grading::assembly::Blueprint::parse("blueprint", &text, &items)?;
        Ok::<_, Vec<qiming_curriculum::CurriculumError>>(qiming_grading::assembly::assemble(&bp, &items))
    })
    .await
    .map_err(|e| anyhow::anyhow!("assembly: {e}"))?;
    let outcome = match outcome {
        Ok(o) => o.map_err(|e| anyhow::anyhow!("assembly: {e}"))?,
        Err(errors) => {
            let first = errors.first().map(|e| format!("line {}: {}", e.line, e.message)).unwrap_or_default();
            return Err(AppError::typed(
                StatusCode::BAD_REQUEST,
                "invalid_blueprint",
                format!("the blueprint is not valid: {first}"),
                json!({"field": "blueprint", "errors": errors.iter().map(|e| json!({"line": e.line, "column": e.column, "message": e.message})).collect::<Vec<_>>()}),
            ));
        }
    };
    match outcome {
        qiming_grading::assembly::Outcome::Assembled(a) => Ok(a.forms.into_iter().next().map(|f| f.items).unwrap_or_default()),
        qiming_grading::assembly::Outcome::Infeasible(inf) => Err(AppError::typed(
            StatusCode::CONFLICT,
            "blueprint_infeasible",
            format!("no form meets the blueprint: {}", inf.problems.iter().map(|p| p.constraint.as_str()).collect::<Vec<_>>().join(", ")),
            json!({"problems": inf.problems}),
        )),
    }
}

async fn create(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewAssessment>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let u = &caller.user;
    if !matches!(u.role.as_str(), "teacher" | "school_admin" | "organiser" | "platform_admin") {
        return Err(AppError::Forbidden("your role may not create assessments".into()));
    }
    let title = req.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 100 || title.chars().any(char::is_control) {
        return Err(AppError::invalid("title", "length", "title must be 1–100 characters without control characters").max(100));
    }
    let population: &'static str = match req.population.as_str() {
        "students" => "student",
        "teachers" => "teacher",
        _ => return Err(AppError::invalid("population", "choice", "population must be \"students\" or \"teachers\"")),
    };
    if !matches!(req.mode.as_str(), "fixed" | "adaptive") {
        return Err(AppError::invalid("mode", "choice", "mode must be \"fixed\" or \"adaptive\""));
    }
    let presentation = req.presentation.clone().unwrap_or_else(|| "single".into());
    if !matches!(presentation.as_str(), "single" | "paged") {
        return Err(AppError::invalid("presentation", "choice", "presentation must be \"single\" or \"paged\""));
    }
    let t = now();
    let opens_at = req.opens_at.unwrap_or(t);
    if req.closes_at <= opens_at || req.closes_at <= t {
        return Err(AppError::invalid("closes_at", "before_open", "closes_at must be later than opens_at and than now"));
    }
    if !(1..=MAX_MINUTES).contains(&req.time_limit_minutes) {
        return Err(AppError::invalid("time_limit_minutes", "range", format!("time_limit_minutes must be 1–{MAX_MINUTES}")).max(MAX_MINUTES));
    }
    if let Some(f) = req.follows_id {
        check_follows(&state, u, f, &req.population, opens_at).await?;
    }
    // Who sits it, and who owns it.
    let (classes, school_id, target_school_id, target_region_id) = if population == "student" {
        if req.target_school_id.is_some() || req.target_region_id.is_some() {
            return Err(AppError::invalid("target_school_id", "population", "a students' assessment is sat by classes (class_ids)"));
        }
        if req.class_ids.is_empty() || req.class_ids.len() > 200 {
            return Err(AppError::invalid("class_ids", "count", "give the classes that sit it (1–200)").max(200));
        }
        let mut classes: Vec<Class> = Vec::new();
        for &c in &req.class_ids {
            let class = managed_class(&state, u, c).await?;
            if !classes.iter().any(|x| x.id == class.id) {
                classes.push(class);
            }
        }
        let school = classes[0].school_id;
        let one_school = classes.iter().all(|c| c.school_id == school);
        (classes, one_school.then_some(school), None, None)
    } else {
        if !req.class_ids.is_empty() {
            return Err(AppError::invalid("class_ids", "population", "a teachers' assessment is sat by the teachers of a school or region"));
        }
        match u.role.as_str() {
            "teacher" => return Err(AppError::Forbidden("teachers' assessments are set by school admins and organisers".into())),
            "school_admin" => {
                let own = u.school_id.ok_or_else(|| AppError::Forbidden("you belong to no school".into()))?;
                if req.target_region_id.is_some() || req.target_school_id.is_some_and(|s| s != own) {
                    return Err(AppError::invalid("target_school_id", "own_school", "a school admin sets assessments for their own school's teachers"));
                }
                (Vec::new(), Some(own), Some(own), None)
            }
            _ => match (req.target_school_id, req.target_region_id) {
                (Some(s), None) => {
                    if sqlx::query("SELECT id FROM schools WHERE id = $1").bind(s).fetch_optional(&state.db.pool).await?.is_none() {
                        return Err(AppError::invalid("target_school_id", "unknown", format!("target_school_id {s} is not a school")));
                    }
                    (Vec::new(), Some(s), Some(s), None)
                }
                (None, Some(r)) => {
                    if sqlx::query("SELECT id FROM regions WHERE id = $1").bind(r).fetch_optional(&state.db.pool).await?.is_none() {
                        return Err(AppError::invalid("target_region_id", "unknown", format!("target_region_id {r} is not a region")));
                    }
                    (Vec::new(), None, None, Some(r))
                }
                _ => return Err(AppError::invalid("target_school_id", "required", "give target_school_id or target_region_id (one of them)")),
            },
        }
    };
    // The items: a list, a blueprint, or (adaptive) the bank's live items.
    let (max_items, se_target, randomesque) = if req.mode == "adaptive" {
        let max_items = req.max_items.unwrap_or(20);
        if !(1..=100).contains(&max_items) {
            return Err(AppError::invalid("max_items", "range", "max_items must be 1–100").max(100));
        }
        let se = req.se_target.unwrap_or(0.3);
        if !(0.05..=2.0).contains(&se) {
            return Err(AppError::invalid("se_target", "range", "se_target must be 0.05–2"));
        }
        let r = req.randomesque.unwrap_or(5);
        if !(1..=20).contains(&r) {
            return Err(AppError::invalid("randomesque", "range", "randomesque must be 1–20").max(20));
        }
        (Some(max_items), Some(se), Some(r))
    } else {
        (None, None, None)
    };
    let retired = super::item_review::retired(&state).await?;
    let items = match (req.items, req.blueprint) {
        (Some(_), Some(_)) => return Err(AppError::invalid("blueprint", "either", "give items or a blueprint, not both")),
        (Some(list), None) => check_items(&state, &list, population, req.mode == "adaptive", &retired)?,
        (None, Some(_)) if req.mode == "adaptive" => return Err(AppError::invalid("blueprint", "fixed_only", "a blueprint assembles a fixed form")),
        (None, Some(text)) => assemble_form(&state, text, population, &retired).await?,
        (None, None) if req.mode == "adaptive" => {
            let band = req.grade_band.as_deref();
            let pool: Vec<String> = deliverable(&state, population, true, &retired)
                .filter(|i| i.status == "live" && (band.is_none() || i.grade_band.as_deref() == band))
                .map(|i| i.id.clone())
                .collect();
            if pool.is_empty() {
                return Err(AppError::invalid("grade_band", "unknown", "no live items for this grade band"));
            }
            pool
        }
        (None, None) => return Err(AppError::invalid("items", "required", "a fixed assessment needs items or a blueprint")),
    };
    let mut tx = state.db.pool.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO assessments (title, population, mode, presentation, opens_at, closes_at, time_limit_minutes, max_items, se_target, randomesque, \
         school_id, target_school_id, target_region_id, created_by, created_at, follows_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF(CAST($9 AS DOUBLE PRECISION), 0), $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(&title)
    .bind(&req.population)
    .bind(&req.mode)
    .bind(&presentation)
    .bind(opens_at)
    .bind(req.closes_at)
    .bind(req.time_limit_minutes)
    .bind(max_items)
    // Always a number (0: none): a NULL of another type would clash with PostgreSQL's cached statement.
    .bind(se_target.unwrap_or(0.0))
    .bind(randomesque)
    .bind(school_id)
    .bind(target_school_id)
    .bind(target_region_id)
    .bind(u.id)
    .bind(t)
    .bind(req.follows_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    for (i, item) in items.iter().enumerate() {
        sqlx::query("INSERT INTO assessment_items (assessment_id, position, item_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(i as i64)
            .bind(item)
            .execute(&mut *tx)
            .await?;
    }
    for c in &classes {
        sqlx::query("INSERT INTO assessment_classes (assessment_id, class_id) VALUES ($1, $2)").bind(id).bind(c.id).execute(&mut *tx).await?;
    }
    audit_in(&mut tx, u, "assessment_create", &format!("assessment_id={id} mode={} items={}", req.mode, items.len())).await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM assessments WHERE id = $1")).bind(id).fetch_one(&state.db.pool).await?;
    let a = assessment_of(&row)?;
    let mut v = assessment_json(&a);
    v["items"] = json!(items);
    v["class_ids"] = json!(classes.iter().map(|c| c.id).collect::<Vec<_>>());
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn form_items(state: &AppState, id: i64) -> Result<Vec<String>, AppError> {
    let rows = sqlx::query("SELECT item_id FROM assessment_items WHERE assessment_id = $1 ORDER BY position").bind(id).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| r.try_get(0).map_err(AppError::from)).collect()
}

async fn detail(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, acc) = visible(&state, &caller.user, id).await?;
    let mut v = assessment_json(&a);
    v["manages"] = json!(acc.manages);
    v["sits"] = json!(acc.sits);
    if acc.sits {
        v["mine"] = taker_status(&state, &a, caller.user.id).await?;
        if !a.adaptive() {
            v["item_count"] = json!(form_items(&state, a.id).await?.len());
        }
    }
    if acc.manages && !acc.sits {
        // Managers see the form (ids, types, literacies, stems) to check it; they
        // never sit it, so the key cannot reach a taker through this view.
        let items: Vec<Value> = form_items(&state, a.id)
            .await?
            .iter()
            .map(|id| match state.catalogue.items.get(id) {
                Some(it) => json!({"id": id, "type": it.kind.name(), "literacy": it.literacy, "difficulty": it.difficulty, "stem": it.stem}),
                None => json!({"id": id}),
            })
            .collect();
        v["items"] = json!(items);
        let mut classes = Vec::new();
        for c in class_ids(&state, a.id).await? {
            if let Some(class) = state.db.class(c).await? {
                classes.push(json!({"id": class.id, "name": class.name}));
            }
        }
        v["classes"] = json!(classes);
    }
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct RemoveQuery {
    force: Option<bool>,
}

async fn remove(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<RemoveQuery>,
) -> Result<StatusCode, AppError> {
    let (a, acc) = visible(&state, &caller.user, id).await?;
    if !acc.owns {
        return Err(AppError::Forbidden("only the assessment's owners delete it".into()));
    }
    let started: i64 = sqlx::query("SELECT COUNT(*) FROM sittings WHERE assessment_id = $1").bind(a.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    if started > 0 && !q.force.unwrap_or(false) {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "has_sittings",
            format!("{started} people have started this assessment; delete with ?force=true to drop their answers too"),
            json!({"sittings": started}),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    // Children first: SQLite enforces the cascade only with foreign keys on, PostgreSQL always.
    sqlx::query(
        "DELETE FROM replays WHERE submission_id IN (SELECT p.id FROM submissions p JOIN sittings s ON s.id = p.sitting_id WHERE s.assessment_id = $1)",
    )
    .bind(a.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM submissions WHERE sitting_id IN (SELECT id FROM sittings WHERE assessment_id = $1)").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sitting_items WHERE sitting_id IN (SELECT id FROM sittings WHERE assessment_id = $1)").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sitting_abilities WHERE sitting_id IN (SELECT id FROM sittings WHERE assessment_id = $1)").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sittings WHERE assessment_id = $1").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM assessment_items WHERE assessment_id = $1").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM assessment_classes WHERE assessment_id = $1").bind(a.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM assessments WHERE id = $1").bind(a.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "assessment_delete", &format!("assessment_id={} sittings={started}", a.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- sittings

/// A sitting row.
#[derive(Clone, Debug)]
struct Sitting {
    id: i64,
    started_at: i64,
    deadline_at: i64,
    position: i64,
    submitted_at: Option<i64>,
}

async fn sitting_of(state: &AppState, a: &Assessment, taker: i64) -> Result<Option<Sitting>, AppError> {
    let row = sqlx::query("SELECT id, started_at, deadline_at, position, submitted_at FROM sittings WHERE assessment_id = $1 AND taker_id = $2")
        .bind(a.id)
        .bind(taker)
        .fetch_optional(&state.db.pool)
        .await?;
    row.map(|r| {
        Ok(Sitting {
            id: r.try_get("id")?,
            started_at: r.try_get("started_at")?,
            deadline_at: r.try_get("deadline_at")?,
            position: r.try_get("position")?,
            submitted_at: r.try_get("submitted_at")?,
        })
    })
    .transpose()
}

/// One presented item of a sitting, as stored.
struct Presented {
    position: i64,
    item_id: String,
    response: Option<String>,
    points: Option<i64>,
    max_points: i64,
    answered_at: Option<i64>,
}

async fn presented(state: &AppState, sitting: i64) -> Result<Vec<Presented>, AppError> {
    let rows = sqlx::query("SELECT position, item_id, response, points, max_points, answered_at FROM sitting_items WHERE sitting_id = $1 ORDER BY position")
        .bind(sitting)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Presented {
                position: r.try_get("position")?,
                item_id: r.try_get("item_id")?,
                response: r.try_get("response")?,
                points: r.try_get("points")?,
                max_points: r.try_get("max_points")?,
                answered_at: r.try_get("answered_at")?,
            })
        })
        .collect()
}

/// The score (points, max) of a stored response to `item` (none or unreadable: 0).
pub(super) fn points_of(item: Option<&Item>, response: Option<&str>, max_stored: i64) -> (i64, i64) {
    let Some(item) = item else { return (0, max_stored) };
    let max = i64::from(item.max_points());
    let Some(v) = response.and_then(|r| serde_json::from_str::<Value>(r).ok()) else { return (0, max) };
    match parse_response(item, &v) {
        Ok(answer) => (i64::from(item.score(&answer).0), max),
        Err(_) => (0, max),
    }
}

/// One literacy of a sitting being scored: (item parameters, score) pairs, points, maximum.
type LiteracyTally = (Vec<(irt::Item, usize)>, i64, i64);

/// Scores a sitting and closes it, once: `by` is `taker` or `deadline`. A sitting already
/// submitted is left as it is (two requests racing to submit score it once).
async fn finish(state: &AppState, sitting: &Sitting, by: &str) -> Result<(), AppError> {
    if sitting.submitted_at.is_some() {
        return Ok(());
    }
    score_sitting(state, sitting.id, Some(by)).await
}

/// A program handed in for a performance item, as stored on the queue.
#[derive(Clone, Debug)]
struct HandedIn {
    id: i64,
    item_id: String,
    language: String,
    program: String,
    status: String,
    submitted_at: i64,
    graded_at: Option<i64>,
    score: Option<f64>,
    max_score: Option<f64>,
    report: Option<String>,
}

impl HandedIn {
    fn pending(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

/// Every program of a sitting, oldest first (in a transaction, or on a pooled connection).
async fn handed_in(conn: &mut sqlx::AnyConnection, sitting: i64) -> Result<Vec<HandedIn>, AppError> {
    let rows = sqlx::query(
        "SELECT id, item_id, language, program, status, submitted_at, graded_at, score, max_score, report FROM submissions WHERE sitting_id = $1 ORDER BY id",
    )
    .bind(sitting)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HandedIn {
                id: r.try_get("id")?,
                item_id: r.try_get::<Option<String>, _>("item_id")?.unwrap_or_default(),
                language: r.try_get("language")?,
                program: r.try_get("program")?,
                status: r.try_get("status")?,
                submitted_at: r.try_get("submitted_at")?,
                graded_at: r.try_get("graded_at")?,
                score: r.try_get("score")?,
                max_score: r.try_get("max_score")?,
                report: r.try_get("report")?,
            })
        })
        .collect()
}

/// A graded program's points on its item: one per level its lab score reaches.
fn program_points(item: &Item, p: &HandedIn) -> Option<i64> {
    match (p.status.as_str(), p.score, p.max_score) {
        ("done", Some(score), Some(max)) => {
            let fraction = if max > 0.0 { score / max } else { 0.0 };
            Some(i64::from(item.score(&Answer::LabScore(fraction)).0))
        }
        _ => None,
    }
}

/// A performance item's points: its best graded program's (none graded: 0).
fn best_points(item: &Item, programs: &[HandedIn]) -> i64 {
    programs.iter().filter(|p| p.item_id == item.id).filter_map(|p| program_points(item, p)).max().unwrap_or(0)
}

/// Called by the queue in the transaction that writes a program's grade (or its
/// failure): a submitted sitting's score no longer holds, so its `points` turn NULL
/// ("grading") until [`rescore_graded`] scores it again with the new grade. Nothing
/// for an assignment's or a round's submission.
pub async fn program_graded(tx: &mut sqlx::Transaction<'static, sqlx::Any>, submission: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sittings SET points = NULL WHERE id = (SELECT sitting_id FROM submissions WHERE id = $1) AND submitted_at IS NOT NULL")
        .bind(submission)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Scores a sitting. `close`: an open sitting is closed by `taker` or `deadline`;
/// None: a closed sitting whose score is pending (`points` NULL) is scored. The
/// sitting's row is locked first (a write on it), so a program handed in or graded
/// meanwhile waits, and a grade written after the scoring marks it pending again.
/// While any program is still queued or being graded the sitting is only closed:
/// `points` stays NULL and its views say "grading".
async fn score_sitting(state: &AppState, sitting: i64, close: Option<&str>) -> Result<(), AppError> {
    let t = now();
    let bank = &state.catalogue.items;
    // The parameters in use for the assessment's population: the newest calibration, else the priors.
    let population: String = sqlx::query("SELECT a.population FROM assessments a JOIN sittings s ON s.assessment_id = a.id WHERE s.id = $1")
        .bind(sitting)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    let calibrated = super::calibrations::parameters(state, &population).await?;
    let mut tx = state.db.begin_write().await?;
    let which = if close.is_some() { "submitted_at IS NULL" } else { "submitted_at IS NOT NULL AND points IS NULL" };
    let locked =
        sqlx::query(&format!("UPDATE sittings SET position = position WHERE id = $1 AND {which}")).bind(sitting).execute(&mut *tx).await?.rows_affected();
    if locked == 0 {
        // Someone else closed (or scored) it first.
        tx.rollback().await?;
        return Ok(());
    }
    let deadline: i64 = sqlx::query("SELECT deadline_at FROM sittings WHERE id = $1").bind(sitting).fetch_one(&mut *tx).await?.try_get(0)?;
    if let Some(by) = close {
        sqlx::query("UPDATE sittings SET submitted_at = $1, submitted_by = $2 WHERE id = $3")
            .bind(t.min(deadline))
            .bind(by)
            .bind(sitting)
            .execute(&mut *tx)
            .await?;
    }
    let programs = handed_in(&mut tx, sitting).await?;
    if programs.iter().any(HandedIn::pending) {
        // Scored when the last grade is in.
        tx.commit().await?;
        return Ok(());
    }
    let rows = sqlx::query("SELECT position, item_id, response, max_points FROM sitting_items WHERE sitting_id = $1 ORDER BY position")
        .bind(sitting)
        .fetch_all(&mut *tx)
        .await?;
    // Per literacy: the EAP from the item parameters, points and maxima.
    let mut per: BTreeMap<String, LiteracyTally> = BTreeMap::new();
    let mut all: Vec<(irt::Item, usize)> = Vec::new();
    let mut scored = Vec::new();
    let (mut total, mut total_max) = (0i64, 0i64);
    for r in &rows {
        let (position, item_id, response, max_stored): (i64, String, Option<String>, i64) =
            (r.try_get("position")?, r.try_get("item_id")?, r.try_get("response")?, r.try_get("max_points")?);
        let item = bank.get(&item_id);
        let (points, max) = match item {
            Some(it) if matches!(it.kind, ItemKind::Performance { .. }) => (best_points(it, &programs), i64::from(it.max_points())),
            _ => points_of(item, response.as_deref(), max_stored),
        };
        total += points;
        total_max += max;
        scored.push((position, points));
        if let Some(item) = item {
            let e = per.entry(item.literacy.clone()).or_default();
            let params = calibrated.items.get(&item.id).cloned().unwrap_or_else(|| irt::prior_item(item));
            let k = (points.max(0) as usize).min(params.steps.len());
            e.0.push((params.clone(), k));
            e.1 += points;
            e.2 += max;
            all.push((params, k));
        }
    }
    let estimate = |answers: &[(irt::Item, usize)]| irt::eap_estimate(&answers.iter().map(|(i, k)| (i, *k)).collect::<Vec<_>>(), 81);
    let (theta, se) = estimate(&all);
    sqlx::query("UPDATE sittings SET points = $1, max_points = $2, theta = $3, se = $4, calibration_id = $5 WHERE id = $6")
        .bind(total)
        .bind(total_max)
        .bind(theta)
        .bind(se)
        .bind(calibrated.calibration.map(|c| c.0))
        .bind(sitting)
        .execute(&mut *tx)
        .await?;
    for (position, points) in scored {
        sqlx::query("UPDATE sitting_items SET points = $1 WHERE sitting_id = $2 AND position = $3")
            .bind(points)
            .bind(sitting)
            .bind(position)
            .execute(&mut *tx)
            .await?;
    }
    // A rescore replaces the abilities of the scoring before.
    sqlx::query("DELETE FROM sitting_abilities WHERE sitting_id = $1").bind(sitting).execute(&mut *tx).await?;
    for (literacy, (answers, points, max)) in &per {
        let (th, s) = estimate(answers);
        sqlx::query("INSERT INTO sitting_abilities (sitting_id, literacy, theta, se, items, points, max_points) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(sitting)
            .bind(literacy)
            .bind(th)
            .bind(s)
            .bind(answers.len() as i64)
            .bind(*points)
            .bind(*max)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Scores the closed sittings whose programs have all been graded since they closed
/// (`points` NULL, nothing queued or running): called with [`finish_expired`].
pub async fn rescore_graded(state: &AppState, assessment: Option<i64>) -> Result<usize, AppError> {
    let rows = sqlx::query(
        "SELECT s.id FROM sittings s WHERE s.submitted_at IS NOT NULL AND s.points IS NULL AND (s.assessment_id = $1 OR $2 = 0) \
         AND NOT EXISTS (SELECT 1 FROM submissions p WHERE p.sitting_id = s.id AND p.status IN ('queued', 'running')) ORDER BY s.id",
    )
    .bind(assessment.unwrap_or(0))
    .bind(i64::from(assessment.is_some()))
    .fetch_all(&state.db.pool)
    .await?;
    for r in &rows {
        score_sitting(state, r.try_get(0)?, None).await?;
    }
    Ok(rows.len())
}

/// Closes every sitting whose deadline has passed (scored as `deadline`), and scores
/// closed sittings whose last program has been graded since: called before progress
/// and reports are shown and by the server's periodic sweep.
pub async fn finish_expired(state: &AppState, assessment: Option<i64>) -> Result<usize, AppError> {
    let t = now();
    let rows = sqlx::query(
        "SELECT s.id, s.started_at, s.deadline_at, s.position, s.submitted_at FROM sittings s WHERE s.submitted_at IS NULL AND s.deadline_at < $1 \
         AND (s.assessment_id = $2 OR $3 = 0) ORDER BY s.id",
    )
    .bind(t)
    .bind(assessment.unwrap_or(0))
    .bind(i64::from(assessment.is_some()))
    .fetch_all(&state.db.pool)
    .await?;
    for r in &rows {
        let s = Sitting {
            id: r.try_get("id")?,
            started_at: r.try_get("started_at")?,
            deadline_at: r.try_get("deadline_at")?,
            position: r.try_get("position")?,
            submitted_at: None,
        };
        finish(state, &s, "deadline").await?;
    }
    rescore_graded(state, assessment).await?;
    Ok(rows.len())
}

/// Closes sittings past their deadline every `every`, until the server stops, so the
/// data for reports is complete without anyone opening the assessment.
pub async fn finish_expired_periodically(state: AppState, every: std::time::Duration, mut stopping: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        if let Err(e) = finish_expired(&state, None).await {
            tracing::warn!(error = ?e, "closing expired sittings");
        }
    }
}

/// The taker's view of their sitting: the items presented so far without their keys,
/// every saved answer, where they were, and the time left by the server's clock; once
/// submitted, the results with the key and explanations.
async fn sitting_view(state: &AppState, a: &Assessment, sitting: &Sitting) -> Result<Value, AppError> {
    let t = now();
    let items = presented(state, sitting.id).await?;
    let submitted = sitting.submitted_at.is_some();
    let bank = &state.catalogue.items;
    let total = if a.adaptive() { a.max_items.unwrap_or(20) } else { items.len() as i64 };
    let programs = handed_in(&mut *state.db.pool.acquire().await?, sitting.id).await?;
    // Scored (or not yet, while a program is being graded).
    let scored: Option<i64> = sqlx::query("SELECT points FROM sittings WHERE id = $1").bind(sitting.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let grading = submitted && scored.is_none();
    let list: Vec<Value> = items
        .iter()
        .map(|p| {
            let item = bank.get(&p.item_id);
            let mut v = json!({
                "position": p.position,
                "item": item.map_or_else(|| json!({"id": p.item_id, "type": "unavailable", "max_points": p.max_points}), taker_item),
                "response": p.response.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
                "answered_at": p.answered_at,
            });
            if let Some(item) = item.filter(|i| matches!(i.kind, ItemKind::Performance { .. })) {
                performance_view(state, item, &programs, &mut v);
            }
            if submitted {
                v["points"] = if grading { Value::Null } else { json!(p.points.unwrap_or(0)) };
                v["max_points"] = json!(p.max_points);
                if let Some(item) = item {
                    v["correct"] = key_of(item);
                    v["explanation"] = json!(item.explanation);
                }
            }
            v
        })
        .collect();
    let mut v = json!({
        "assessment": assessment_json(a),
        "sitting": {
            "id": sitting.id, "started_at": sitting.started_at, "deadline_at": sitting.deadline_at,
            "remaining_seconds": if submitted { 0 } else { (sitting.deadline_at - t).max(0) },
            "position": sitting.position, "submitted_at": sitting.submitted_at,
            "status": if submitted { "submitted" } else { "in_progress" },
            "answered": items.iter().filter(|p| p.response.is_some()).count(), "total": total,
            "grading": grading, "programs_pending": programs.iter().filter(|p| p.pending()).count(),
        },
        "items": list,
    });
    if submitted {
        let row =
            sqlx::query("SELECT points, max_points, theta, se, submitted_by FROM sittings WHERE id = $1").bind(sitting.id).fetch_one(&state.db.pool).await?;
        let rows = sqlx::query("SELECT literacy, theta, se, items, points, max_points FROM sitting_abilities WHERE sitting_id = $1 ORDER BY literacy")
            .bind(sitting.id)
            .fetch_all(&state.db.pool)
            .await?;
        let mut literacies = Vec::new();
        for r in &rows {
            let lit: String = r.try_get("literacy")?;
            literacies.push(json!({
                "literacy": lit, "name": literacy_name(&lit), "theta": r.try_get::<f64, _>("theta")?, "se": r.try_get::<f64, _>("se")?,
                "items": r.try_get::<i64, _>("items")?, "points": r.try_get::<i64, _>("points")?, "max_points": r.try_get::<i64, _>("max_points")?,
            }));
        }
        v["results"] = json!({
            "points": row.try_get::<Option<i64>, _>("points")?, "max_points": row.try_get::<Option<i64>, _>("max_points")?,
            "theta": row.try_get::<Option<f64>, _>("theta")?, "se": row.try_get::<Option<f64>, _>("se")?,
            "submitted_by": row.try_get::<Option<String>, _>("submitted_by")?, "literacies": if grading { json!([]) } else { json!(literacies) },
            "grading": grading,
        });
    }
    Ok(v)
}

/// The caller's sitting, closed first if its deadline has passed (and scored if its
/// last program has been graded since it closed); 404 before they start.
async fn current(state: &AppState, a: &Assessment, taker: i64) -> Result<Sitting, AppError> {
    let s = sitting_of(state, a, taker).await?.ok_or(AppError::NotFound)?;
    if s.submitted_at.is_none() && s.deadline_at < now() {
        finish(state, &s, "deadline").await?;
        return sitting_of(state, a, taker).await?.ok_or(AppError::NotFound);
    }
    if s.submitted_at.is_some() {
        let pending: i64 =
            sqlx::query("SELECT COUNT(*) FROM sittings WHERE id = $1 AND points IS NULL").bind(s.id).fetch_one(&state.db.pool).await?.try_get(0)?;
        if pending > 0 {
            score_sitting(state, s.id, None).await?;
        }
    }
    Ok(s)
}

/// A performance item in a sitting: the lab's task (title, instructions, starter
/// programs, languages, limits; never its hidden cases), the programs handed in
/// with their status, grade and redacted report, the attempts left and the points so far.
fn performance_view(state: &AppState, item: &Item, programs: &[HandedIn], v: &mut Value) {
    let ItemKind::Performance { lab, levels } = &item.kind else { return };
    if let Some(l) = state.catalogue.lab(lab) {
        v["task"] = serde_json::to_value(qiming_api::LabView::new(l, super::work::lab_limits(l))).unwrap_or(Value::Null);
    }
    v["levels"] = json!(levels);
    let mine: Vec<&HandedIn> = programs.iter().filter(|p| p.item_id == item.id).collect();
    let used = mine.iter().filter(|p| p.status != "failed").count() as i64;
    v["programs"] = json!(
        mine.iter()
            .map(|p| json!({
                "id": p.id, "language": p.language, "program": p.program, "status": p.status, "submitted_at": p.submitted_at, "graded_at": p.graded_at,
                "score": p.score, "max_score": p.max_score, "points": program_points(item, p),
                "report": p.report.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
            }))
            .collect::<Vec<_>>()
    );
    v["attempt_limit"] = json!(PROGRAM_ATTEMPTS);
    v["attempts_left"] = json!((PROGRAM_ATTEMPTS - used).max(0));
    v["grading"] = json!(mine.iter().any(|p| p.pending()));
    v["best_points"] = json!(mine.iter().filter_map(|p| program_points(item, p)).max());
}

async fn my_sitting(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let a = sat(&state, &caller.user, id).await?;
    let s = current(&state, &a, caller.user.id).await?;
    Ok(Json(sitting_view(&state, &a, &s).await?))
}

/// The pool of an adaptive assessment as the CAT sees it: (id, parameters, literacy), with the
/// newest calibration's parameters where it has them and the bank's priors elsewhere.
async fn cat_bank(state: &AppState, a: &Assessment, pool: &[String]) -> Result<Vec<(String, irt::Item, Option<String>)>, AppError> {
    let params = super::calibrations::parameters(state, &a.population).await?;
    Ok(pool
        .iter()
        .filter_map(|id| {
            let it = state.catalogue.items.get(id)?;
            Some((id.clone(), params.items.get(id).cloned().unwrap_or_else(|| irt::prior_item(it)), Some(it.literacy.clone())))
        })
        .collect())
}

/// Picks the next item of an adaptive sitting: `Some(item id)`, or None when the test ends.
async fn adaptive_step(state: &AppState, a: &Assessment, sitting: &Sitting) -> Result<Option<String>, AppError> {
    let items = presented(state, sitting.id).await?;
    // An item retired after a review while this test runs is given to nobody from then on;
    // the ones this sitting was already given stay in its bank, so their answers still count.
    let retired = super::item_review::retired(state).await?;
    let pool: Vec<String> = form_items(state, a.id).await?.into_iter().filter(|id| !retired.contains(id) || items.iter().any(|p| &p.item_id == id)).collect();
    let bank = cat_bank(state, a, &pool).await?;
    let index: BTreeMap<&str, usize> = bank.iter().enumerate().map(|(j, b)| (b.0.as_str(), j)).collect();
    let mut answered = Vec::new();
    for p in &items {
        if let Some(&j) = index.get(p.item_id.as_str()) {
            let (points, _) = points_of(state.catalogue.items.get(&p.item_id), p.response.as_deref(), p.max_points);
            answered.push((j, points.max(0) as usize));
        }
    }
    // Exposure: how many of this assessment's sittings have been given each item.
    let rows = sqlx::query(
        "SELECT si.item_id, COUNT(*) AS n FROM sitting_items si JOIN sittings s ON s.id = si.sitting_id WHERE s.assessment_id = $1 GROUP BY si.item_id ORDER BY si.item_id",
    )
    .bind(a.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut exposure = vec![0u64; bank.len()];
    for r in &rows {
        let id: String = r.try_get("item_id")?;
        if let Some(&j) = index.get(id.as_str()) {
            exposure[j] = r.try_get::<i64, _>("n")?.max(0) as u64;
        }
    }
    let sittings: i64 = sqlx::query("SELECT COUNT(*) FROM sittings WHERE assessment_id = $1").bind(a.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let step = irt::next_step(&bank, &answered, &exposure, sittings.max(0) as u64, &a.step_options(), sitting.id as u64);
    Ok(step.next.map(|j| bank[j].0.clone()))
}

/// Adds an item to a sitting at the next position and puts the taker on it.
async fn present(state: &AppState, sitting: &Sitting, position: i64, item_id: &str) -> Result<(), AppError> {
    let item = state.catalogue.items.get(item_id).ok_or_else(|| anyhow::anyhow!("item {item_id} left the bank"))?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO sitting_items (sitting_id, position, item_id, literacy, max_points) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sitting_id, position) DO NOTHING",
    )
    .bind(sitting.id)
    .bind(position)
    .bind(item_id)
    .bind(&item.literacy)
    .bind(i64::from(item.max_points()))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE sittings SET position = $1 WHERE id = $2").bind(position).bind(sitting.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts the caller's sitting (inside the window, once), or resumes the one they have.
async fn start(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Response, AppError> {
    let a = sat(&state, &caller.user, id).await?;
    if let Some(s) = sitting_of(&state, &a, caller.user.id).await? {
        let s = current(&state, &a, caller.user.id).await.unwrap_or(s);
        return Ok((StatusCode::OK, Json(sitting_view(&state, &a, &s).await?)).into_response());
    }
    let t = now();
    if t < a.opens_at {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "assessment_not_open",
            "this assessment is not open yet (see opens_at)",
            json!({"opens_at": a.opens_at, "closes_at": a.closes_at}),
        ));
    }
    if t >= a.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "assessment_closed", "this assessment has closed", json!({"closes_at": a.closes_at})));
    }
    let deadline = (t + a.time_limit_minutes * 60).min(a.closes_at);
    let items = form_items(&state, a.id).await?;
    let mut tx = state.db.pool.begin().await?;
    // One sitting per taker: a second start racing this one finds the row and resumes it.
    let created = sqlx::query(
        "INSERT INTO sittings (assessment_id, taker_id, started_at, deadline_at, position) VALUES ($1, $2, $3, $4, 0) \
         ON CONFLICT (assessment_id, taker_id) DO NOTHING RETURNING id",
    )
    .bind(a.id)
    .bind(caller.user.id)
    .bind(t)
    .bind(deadline)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = created else {
        tx.rollback().await?;
        let s = current(&state, &a, caller.user.id).await?;
        return Ok((StatusCode::OK, Json(sitting_view(&state, &a, &s).await?)).into_response());
    };
    let sid: i64 = row.try_get(0)?;
    if !a.adaptive() {
        for (i, item_id) in items.iter().enumerate() {
            let item = state.catalogue.items.get(item_id);
            sqlx::query("INSERT INTO sitting_items (sitting_id, position, item_id, literacy, max_points) VALUES ($1, $2, $3, $4, $5)")
                .bind(sid)
                .bind(i as i64)
                .bind(item_id)
                .bind(item.map_or("", |i| i.literacy.as_str()))
                .bind(item.map_or(0, |i| i64::from(i.max_points())))
                .execute(&mut *tx)
                .await?;
        }
    }
    audit_in(&mut tx, &caller.user, "sitting_start", &format!("assessment_id={} sitting_id={sid}", a.id)).await?;
    tx.commit().await?;
    let s = Sitting { id: sid, started_at: t, deadline_at: deadline, position: 0, submitted_at: None };
    if a.adaptive()
        && let Some(first) = adaptive_step(&state, &a, &s).await?
    {
        present(&state, &s, 0, &first).await?;
    }
    let s = sitting_of(&state, &a, caller.user.id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(sitting_view(&state, &a, &s).await?)).into_response())
}

/// The caller's open sitting, or why answers are refused now.
async fn open_sitting(state: &AppState, a: &Assessment, taker: i64) -> Result<Sitting, AppError> {
    let s = sitting_of(state, a, taker).await?.ok_or_else(|| AppError::conflict("not_started", "start the sitting first: POST …/sitting"))?;
    if s.submitted_at.is_some() {
        return Err(AppError::conflict("sitting_submitted", "this sitting has been submitted; answers can no longer change"));
    }
    if s.deadline_at < now() {
        finish(state, &s, "deadline").await?;
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "time_up",
            "the time for this sitting is up; it has been submitted",
            json!({"deadline_at": s.deadline_at}),
        ));
    }
    Ok(s)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRequest {
    /// The response as given (docs/assessment-delivery.md); null clears it.
    response: Value,
}

/// Saves one answer as given. Idempotent (the same PUT twice leaves the same row);
/// committed before the 200, so nothing acknowledged is lost.
async fn save_answer(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, item_id)): Path<(i64, String)>,
    req: Result<Json<AnswerRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let a = sat(&state, &caller.user, id).await?;
    let s = open_sitting(&state, &a, caller.user.id).await?;
    let items = presented(&state, s.id).await?;
    let p = items.iter().find(|p| p.item_id == item_id).ok_or(AppError::NotFound)?;
    // An adaptive test chose the later items from the earlier answers: those stay.
    if a.adaptive() && items.last().is_some_and(|last| last.position != p.position) {
        return Err(AppError::conflict("item_locked", "in an adaptive test only the current question's answer can change"));
    }
    let item = state.catalogue.items.get(&item_id).ok_or(AppError::NotFound)?;
    let stored = if req.response.is_null() {
        None
    } else {
        parse_response(item, &req.response)?;
        Some(req.response.to_string())
    };
    let t = now();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE sitting_items SET response = $1, answered_at = $2 WHERE sitting_id = $3 AND position = $4")
        .bind(stored.clone())
        .bind(stored.as_ref().map(|_| t))
        .bind(s.id)
        .bind(p.position)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE sittings SET position = $1 WHERE id = $2").bind(p.position).bind(s.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(super::contest::access_unchanged(Json(
        json!({"saved": true, "item_id": item_id, "position": p.position, "answered_at": stored.as_ref().map(|_| t), "remaining_seconds": (s.deadline_at - t).max(0)}),
    )))
}

/// Hands in a program for a performance item of the caller's open sitting: checked
/// like an assignment's (size, characters, the lab's languages), at most
/// [`PROGRAM_ATTEMPTS`] per item, refused after the deadline (`time_up`); queued for
/// the workers and committed before the 202. The item's points are its best graded
/// program's, filled in when grading completes (also after the sitting closed).
async fn hand_in(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, item_id)): Path<(i64, String)>,
    req: Result<Json<SubmissionRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let a = sat(&state, &caller.user, id).await?;
    let s = open_sitting(&state, &a, caller.user.id).await?;
    let items = presented(&state, s.id).await?;
    let p = items.iter().find(|p| p.item_id == item_id).ok_or(AppError::NotFound)?;
    let item = state.catalogue.items.get(&item_id).ok_or(AppError::NotFound)?;
    let ItemKind::Performance { lab, .. } = &item.kind else {
        return Err(AppError::conflict("not_performance", "this item is answered with PUT …/sitting/answers/{item}, not with a program"));
    };
    let lab_def = state.catalogue.lab(lab).ok_or_else(|| AppError::conflict("lab_gone", format!("lab {lab} is no longer in the curriculum")))?;
    let stored_language = super::work::check_program(lab_def, &lab_def.languages, &req)?;
    let t = now();
    let mut tx = state.db.begin_write().await?;
    // The sitting's row first: a submit or the deadline sweep scoring it waits for
    // this program (and then sees it queued), or this one sees the sitting closed.
    let open = sqlx::query("UPDATE sittings SET position = $1 WHERE id = $2 AND submitted_at IS NULL AND deadline_at >= $3")
        .bind(p.position)
        .bind(s.id)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if open == 0 {
        tx.rollback().await?;
        // Closed meanwhile, or its time ran out: the same answer as for a response.
        open_sitting(&state, &a, caller.user.id).await?;
        return Err(AppError::conflict("sitting_submitted", "this sitting has been submitted; programs can no longer be handed in"));
    }
    let used: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE sitting_id = $1 AND item_id = $2 AND status <> 'failed'")
        .bind(s.id)
        .bind(&item_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if used >= PROGRAM_ATTEMPTS {
        tx.rollback().await?;
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "attempts_used_up",
            format!("every one of the {PROGRAM_ATTEMPTS} programs this task allows has been handed in"),
            json!({"attempt_limit": PROGRAM_ATTEMPTS}),
        ));
    }
    let sid: i64 = sqlx::query(
        // The fair-queue ranks (queue.rs): the taker's unfinished jobs, and the assessment's.
        "INSERT INTO submissions (sitting_id, item_id, lab_id, student_id, language, program, submitted_at, status, fair_student, fair_class) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', \
         (SELECT COUNT(*) FROM submissions WHERE student_id = $4 AND status IN ('queued', 'running')), \
         (SELECT COUNT(*) FROM submissions x JOIN sittings y ON y.id = x.sitting_id WHERE y.assessment_id = $8 AND x.status IN ('queued', 'running'))) RETURNING id",
    )
    .bind(s.id)
    .bind(&item_id)
    .bind(lab)
    .bind(caller.user.id)
    .bind(&stored_language)
    .bind(&req.program)
    .bind(t)
    .bind(a.id)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    // The item counts as answered once a program is in; the response names the latest.
    sqlx::query("UPDATE sitting_items SET response = $1, answered_at = $2 WHERE sitting_id = $3 AND position = $4")
        .bind(json!({"submission": sid}).to_string())
        .bind(t)
        .bind(s.id)
        .bind(p.position)
        .execute(&mut *tx)
        .await?;
    // Committed (on disk, on SQLite with synchronous=FULL) before the 202.
    tx.commit().await?;
    state.metrics.submissions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.signals.work.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": sid, "item_id": item_id, "language": stored_language, "status": "queued", "submitted_at": t,
            "attempts_left": PROGRAM_ATTEMPTS - used - 1, "attempt_limit": PROGRAM_ATTEMPTS, "remaining_seconds": (s.deadline_at - t).max(0),
        })),
    )
        .into_response())
}

/// Whether `caller` may see a program handed in for a sitting: its taker, and the
/// managers who see the taker in the assessment's progress (a teacher who did not
/// set it: only the takers of their own classes).
pub async fn sees_sitting(state: &AppState, caller: &User, sitting: i64) -> Result<bool, AppError> {
    let Some(row) = sqlx::query("SELECT s.assessment_id, s.taker_id, u.class_id FROM sittings s JOIN users u ON u.id = s.taker_id WHERE s.id = $1")
        .bind(sitting)
        .fetch_optional(&state.db.pool)
        .await?
    else {
        return Ok(false);
    };
    if row.try_get::<i64, _>("taker_id")? == caller.id {
        return Ok(true);
    }
    let Some(a) = load(state, row.try_get("assessment_id")?).await? else { return Ok(false) };
    let acc = access(state, caller, &a).await?;
    if acc.owns {
        return Ok(true);
    }
    if !acc.manages {
        return Ok(false);
    }
    Ok(match row.try_get::<Option<i64>, _>("class_id")? {
        Some(c) => state.db.class(c).await?.is_some_and(|class| caller.manages_class(&class)),
        None => false,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionRequest {
    position: i64,
}

/// Remembers which question the taker is on, so a resume lands there.
async fn save_position(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<PositionRequest>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    let req = body(req)?;
    let a = sat(&state, &caller.user, id).await?;
    let s = open_sitting(&state, &a, caller.user.id).await?;
    let count = presented(&state, s.id).await?.len() as i64;
    if !(0..count).contains(&req.position) {
        return Err(AppError::invalid("position", "range", format!("position must be 0–{}", count - 1)).max(count - 1));
    }
    sqlx::query("UPDATE sittings SET position = $1 WHERE id = $2").bind(req.position).bind(s.id).execute(&state.db.pool).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adaptive tests: after the current question is answered, the server picks the next
/// one, or ends the test (SE target, length limit, pool used up) and scores it.
async fn next_item(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let a = sat(&state, &caller.user, id).await?;
    if !a.adaptive() {
        return Err(AppError::conflict("not_adaptive", "this is a fixed form: every question is already there"));
    }
    let s = open_sitting(&state, &a, caller.user.id).await?;
    let items = presented(&state, s.id).await?;
    if items.last().is_some_and(|p| p.response.is_none()) {
        return Err(AppError::conflict("answer_first", "answer the current question first"));
    }
    match adaptive_step(&state, &a, &s).await? {
        Some(item) => present(&state, &s, items.len() as i64, &item).await?,
        None => finish(&state, &s, "taker").await?,
    }
    let s = sitting_of(&state, &a, caller.user.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(sitting_view(&state, &a, &s).await?))
}

/// Ends the sitting and scores it; a submitted sitting answers with its results again.
async fn submit(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let a = sat(&state, &caller.user, id).await?;
    let s = current(&state, &a, caller.user.id).await?;
    finish(&state, &s, "taker").await?;
    let s = sitting_of(&state, &a, caller.user.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(sitting_view(&state, &a, &s).await?))
}

// ---------------------------------------------------------------- live progress

/// Who sits it: (id, display name, student number, class name).
async fn takers(state: &AppState, caller: &User, a: &Assessment, acc: Access) -> Result<Vec<(i64, String, Option<String>, Option<String>)>, AppError> {
    let mut out = Vec::new();
    if a.population == "students" {
        for c in class_ids(state, a.id).await? {
            let Some(class) = state.db.class(c).await? else { continue };
            // A teacher who did not set it sees their own classes only.
            if !acc.owns && !caller.manages_class(&class) {
                continue;
            }
            let rows = sqlx::query("SELECT id, display_name, student_number FROM users WHERE class_id = $1 AND role = 'student' ORDER BY student_number, id")
                .bind(class.id)
                .fetch_all(&state.db.pool)
                .await?;
            for r in &rows {
                out.push((r.try_get("id")?, r.try_get("display_name")?, r.try_get("student_number")?, Some(class.name.clone())));
            }
        }
    } else {
        let rows = sqlx::query("SELECT id, display_name, school_id FROM users WHERE role = 'teacher' AND school_id IS NOT NULL ORDER BY school_id, id")
            .fetch_all(&state.db.pool)
            .await?;
        for r in &rows {
            let school: i64 = r.try_get("school_id")?;
            let sits = a.target_school_id == Some(school)
                || match a.target_region_id {
                    Some(region) => school_in_region(state, school, region).await?,
                    None => false,
                };
            if sits {
                out.push((r.try_get("id")?, r.try_get("display_name")?, None, None));
            }
        }
    }
    Ok(out)
}

/// Per taker: not started / in progress (answered n of m, time left) / submitted (points).
/// The web page polls it every few seconds.
async fn progress(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (a, acc) = visible(&state, &caller.user, id).await?;
    if !acc.manages {
        return Err(AppError::Forbidden("only the assessment's managers see its progress".into()));
    }
    finish_expired(&state, Some(a.id)).await?;
    let t = now();
    let rows = sqlx::query(
        "SELECT s.taker_id, s.started_at, s.deadline_at, s.submitted_at, s.points, s.max_points, \
         (SELECT COUNT(*) FROM sitting_items si WHERE si.sitting_id = s.id AND si.response IS NOT NULL) AS answered, \
         (SELECT COUNT(*) FROM sitting_items si WHERE si.sitting_id = s.id) AS presented, \
         (SELECT COUNT(*) FROM submissions p WHERE p.sitting_id = s.id) AS programs, \
         (SELECT COUNT(*) FROM submissions p WHERE p.sitting_id = s.id AND p.status IN ('queued', 'running')) AS programs_pending \
         FROM sittings s WHERE s.assessment_id = $1",
    )
    .bind(a.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut by_taker = BTreeMap::new();
    for r in &rows {
        by_taker.insert(r.try_get::<i64, _>("taker_id")?, r);
    }
    let form_len = form_items(&state, a.id).await?.len() as i64;
    let mut out = Vec::new();
    let mut counts = BTreeMap::from([("not_started", 0), ("in_progress", 0), ("submitted", 0)]);
    for (taker, name, number, class) in takers(&state, &caller.user, &a, acc).await? {
        let mut v = json!({"id": taker, "display_name": name, "student_number": number, "class_name": class});
        let status = match by_taker.get(&taker) {
            None => "not_started",
            Some(r) => {
                let submitted: Option<i64> = r.try_get("submitted_at")?;
                let deadline: i64 = r.try_get("deadline_at")?;
                v["answered"] = json!(r.try_get::<i64, _>("answered")?);
                v["total"] = json!(if a.adaptive() { a.max_items.unwrap_or(20) } else { form_len });
                v["presented"] = json!(r.try_get::<i64, _>("presented")?);
                v["started_at"] = json!(r.try_get::<i64, _>("started_at")?);
                v["programs"] = json!(r.try_get::<i64, _>("programs")?);
                v["programs_pending"] = json!(r.try_get::<i64, _>("programs_pending")?);
                if submitted.is_some() {
                    let points: Option<i64> = r.try_get("points")?;
                    v["submitted_at"] = json!(submitted);
                    // Closed with a program still being graded: "grading", not 0.
                    v["grading"] = json!(points.is_none());
                    v["points"] = json!(points);
                    v["max_points"] = json!(r.try_get::<Option<i64>, _>("max_points")?);
                    "submitted"
                } else {
                    v["remaining_seconds"] = json!((deadline - t).max(0));
                    "in_progress"
                }
            }
        };
        v["status"] = json!(status);
        *counts.entry(status).or_default() += 1;
        out.push(v);
    }
    Ok(Json(json!({"assessment_id": a.id, "takers": out, "counts": counts, "at": t})))
}
