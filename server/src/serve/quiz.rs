//! Computational-thinking quiz rounds (docs/competitions.md, "Quiz rounds"):
//! a ct_quiz event's round gives each division a form of items from the
//! assessment bank (chosen by id or assembled from a blueprint), each team
//! answers on one shared sheet inside the round's window, and the sheet is
//! scored with the bank's own rules into the same leaderboard, final ranking,
//! certificates and advancement as every other round.
//!
//! The assessment delivery's pieces do the item work, so there is one
//! delivery engine: items are shown through `assessments::taker_item` (no
//! key), answers read by `assessments::parse_response` and scored by
//! `Item::score` through `assessments::points_of`, blueprints assembled by
//! `assessments::assemble`. Keys and explanations leave the server only once
//! the round has closed. A sheet enters the board when the team hands it in
//! (or the round ends), never while its answers may still change, so a team
//! cannot learn which answers are right by watching its score.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use qiming_curriculum::item::{Item, ItemKind};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::assessments::{assemble, key_of, parse_response, points_of, taker_item};
use super::auth::ActiveCaller;
use super::contest::{Access, BoardRow, Division, Event, Round, divisions, managed_event, round_json, visible_round};
use super::db::User;
use super::http::{AppError, AppState, body};
use super::org::{audit_in, check_name};

/// Most items in one division's form (a Bebras-style quiz has 10–20).
pub const MAX_QUIZ_ITEMS: usize = 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events/{id}/quiz-rounds", post(create_round))
        .route("/api/events/{id}/quiz-bank", get(bank))
        .route("/api/events/{id}/rounds/{round}/quiz", get(get_quiz).put(put_forms))
        .route("/api/events/{id}/rounds/{round}/quiz/progress", get(progress))
        .route("/api/events/{id}/rounds/{round}/quiz/sheet", get(my_sheet).post(start))
        .route("/api/events/{id}/rounds/{round}/quiz/sheet/answers/{item}", put(save_answer))
        .route("/api/events/{id}/rounds/{round}/quiz/sheet/submit", post(submit))
}

// ---------------------------------------------------------------- the round and its forms

/// Whether the round is a quiz round (its board comes from answer sheets).
pub async fn is_quiz(state: &AppState, round: i64) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT round_id FROM quiz_rounds WHERE round_id = $1").bind(round).fetch_optional(&state.db.pool).await?.is_some())
}

/// A quiz round the caller may see, or 404 (also for a round of another kind).
async fn visible_quiz(state: &AppState, caller: &User, event: i64, round: i64) -> Result<(Event, Access, Round), AppError> {
    let (ev, a, r) = visible_round(state, caller, event, round).await?;
    if !is_quiz(state, r.id).await? {
        return Err(AppError::NotFound);
    }
    Ok((ev, a, r))
}

/// A grade band of the bank (`"5-6"`) as its lowest and highest grade.
fn band_grades(band: &str) -> Option<(i64, i64)> {
    let (lo, hi) = band.split_once('-')?;
    Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
}

/// Whether an item's grade band overlaps the division's grades.
fn suits(item: &Item, d: &Division) -> bool {
    item.grade_band.as_deref().and_then(band_grades).is_some_and(|(lo, hi)| lo <= d.max_grade && hi >= d.min_grade)
}

/// Items a quiz may use for a division: the students' bank, live (and not retired on this
/// server after a review), not performance tasks, of a grade band that overlaps the division's grades.
fn candidates<'a>(state: &'a AppState, d: &'a Division, retired: &'a BTreeSet<String>) -> impl Iterator<Item = &'a Item> + 'a {
    state
        .catalogue
        .items
        .population("student")
        .filter(move |i| i.status == "live" && !retired.contains(&i.id) && !matches!(i.kind, ItemKind::Performance { .. }) && suits(i, d))
}

/// Checks an organiser's item list for a division: known, the students' bank,
/// live, not a performance task (a quiz is answered, not programmed: programs
/// belong in a robot_sim round), a grade band that suits the division, no repeats.
fn check_items(state: &AppState, d: &Division, ids: &[String], retired: &BTreeSet<String>) -> Result<Vec<String>, AppError> {
    if ids.is_empty() || ids.len() > MAX_QUIZ_ITEMS {
        return Err(AppError::invalid("items", "count", format!("give 1–{MAX_QUIZ_ITEMS} item ids per division")).max(MAX_QUIZ_ITEMS as i64));
    }
    for (i, id) in ids.iter().enumerate() {
        let item = state.catalogue.items.get(id).ok_or_else(|| AppError::invalid("items", "unknown", format!("item {id:?} is not in the bank")))?;
        if item.population != "student" {
            return Err(AppError::invalid("items", "population", format!("item {id} belongs to the {} population", item.population)));
        }
        if item.status != "live" || retired.contains(id) {
            let status = if retired.contains(id) { "retired" } else { item.status.as_str() };
            return Err(AppError::invalid("items", "not_live", format!("item {id} is {status}, not live")));
        }
        if matches!(item.kind, ItemKind::Performance { .. }) {
            return Err(AppError::invalid("items", "quiz_performance", format!("item {id} is a performance task; quiz rounds take answered items only")));
        }
        if !suits(item, d) {
            return Err(AppError::invalid(
                "items",
                "division_band",
                format!(
                    "item {id} is for grades {}; division {} is for grades {}–{}",
                    item.grade_band.as_deref().unwrap_or("?"),
                    d.name,
                    d.min_grade,
                    d.max_grade
                ),
            ));
        }
        if ids[..i].contains(id) {
            return Err(AppError::invalid("items", "duplicate", format!("item {id} is listed twice")));
        }
    }
    Ok(ids.to_vec())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewForm {
    division_id: i64,
    /// The form in order…
    items: Option<Vec<String>>,
    /// …or a blueprint (docs/assessment-assembly.md) to assemble it from the division's candidates.
    blueprint: Option<String>,
}

/// Every division's form, checked: (division id, item ids in order).
async fn check_forms(state: &AppState, ev: &Event, forms: &[NewForm]) -> Result<Vec<(i64, Vec<String>)>, AppError> {
    let divs = divisions(state, ev.id).await?;
    let retired = super::item_review::retired(state).await?;
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for f in forms {
        let d = divs
            .iter()
            .find(|d| d.id == f.division_id)
            .ok_or_else(|| AppError::invalid("division_id", "unknown", format!("division_id {} is not a division of this event", f.division_id)))?;
        if out.iter().any(|(id, _)| *id == d.id) {
            return Err(AppError::invalid("forms", "each_division", format!("division {} has two forms; give one form per division", d.id)));
        }
        let items = match (&f.items, &f.blueprint) {
            (Some(ids), None) => check_items(state, d, ids, &retired)?,
            (None, Some(text)) => {
                let ids = assemble(candidates(state, d, &retired).cloned().collect(), text.clone()).await?;
                // The assembler draws on the candidates only; the same checks hold what it chose.
                check_items(state, d, &ids, &retired)?
            }
            (Some(_), Some(_)) => return Err(AppError::invalid("blueprint", "either", "give items or a blueprint, not both")),
            (None, None) => return Err(AppError::invalid("items", "required", "give each division's items (or a blueprint)")),
        };
        out.push((d.id, items));
    }
    if let Some(d) = divs.iter().find(|d| !out.iter().any(|(id, _)| *id == d.id)) {
        return Err(AppError::invalid("forms", "each_division", format!("division {} ({}) has no form; give one form per division", d.id, d.name)));
    }
    Ok(out)
}

async fn store_forms(tx: &mut sqlx::Transaction<'_, sqlx::Any>, state: &AppState, round: i64, forms: &[(i64, Vec<String>)]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM quiz_items WHERE round_id = $1").bind(round).execute(&mut **tx).await?;
    for (division, items) in forms {
        for (i, id) in items.iter().enumerate() {
            let max = state.catalogue.items.get(id).map_or(0, |it| i64::from(it.max_points()));
            sqlx::query("INSERT INTO quiz_items (round_id, division_id, position, item_id, max_points) VALUES ($1, $2, $3, $4, $5)")
                .bind(round)
                .bind(division)
                .bind(i as i64)
                .bind(id)
                .bind(max)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// One item of a form as stored.
struct FormItem {
    position: i64,
    item_id: String,
    max_points: i64,
}

/// The forms of a round by division.
async fn forms_of(state: &AppState, round: i64) -> Result<BTreeMap<i64, Vec<FormItem>>, AppError> {
    let rows = sqlx::query("SELECT division_id, position, item_id, max_points FROM quiz_items WHERE round_id = $1 ORDER BY division_id, position")
        .bind(round)
        .fetch_all(&state.db.pool)
        .await?;
    let mut out: BTreeMap<i64, Vec<FormItem>> = BTreeMap::new();
    for r in &rows {
        out.entry(r.try_get(0)?).or_default().push(FormItem { position: r.try_get(1)?, item_id: r.try_get(2)?, max_points: r.try_get(3)? });
    }
    Ok(out)
}

/// An item as organisers see it while choosing and checking forms: never its key.
fn summary(item: &Item) -> Value {
    json!({"id": item.id, "type": item.kind.name(), "literacy": item.literacy, "module": item.module, "grade_band": item.grade_band,
        "difficulty": item.difficulty, "max_points": item.max_points(), "stem": item.stem})
}

/// The round, and `quiz.forms`: per division the number of items and points;
/// officials also get each item's summary (never a key).
async fn quiz_json(state: &AppState, round: &Round, officiates: bool) -> Result<Value, AppError> {
    let forms = forms_of(state, round.id).await?;
    let mut v = round_json(round);
    v["quiz"] = json!({
        "forms": forms.iter().map(|(d, items)| {
            let mut f = json!({"division_id": d, "items": items.len(), "max_points": items.iter().map(|i| i.max_points).sum::<i64>()});
            if officiates {
                f["item_list"] = json!(items.iter().map(|i| state.catalogue.items.get(&i.item_id).map_or_else(|| json!({"id": i.item_id}), summary)).collect::<Vec<_>>());
            }
            f
        }).collect::<Vec<_>>(),
        "max_items": MAX_QUIZ_ITEMS,
    });
    Ok(v)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewQuizRound {
    name: String,
    opens_at: i64,
    closes_at: i64,
    /// The last this many seconds of the round, contestants see the board frozen.
    #[serde(default)]
    freeze_seconds: i64,
    forms: Vec<NewForm>,
}

/// Creates a round of a ct_quiz event with each division's form (organisers; audited).
async fn create_round(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewQuizRound>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    if ev.kind != "ct_quiz" {
        return Err(AppError::conflict("not_quiz", "quiz rounds are for ct_quiz events"));
    }
    let name = check_name("name", &req.name, 100)?;
    if req.closes_at <= req.opens_at {
        return Err(AppError::invalid("closes_at", "before_open", "closes_at must be later than opens_at"));
    }
    if req.freeze_seconds < 0 || req.freeze_seconds > req.closes_at - req.opens_at {
        return Err(AppError::invalid("freeze_seconds", "range", "freeze_seconds is 0 to the round's length"));
    }
    let forms = check_forms(&state, &ev, &req.forms).await?;
    let mut tx = state.db.begin_write().await?;
    // No labs, one "submission" (the sheet): the window is the time to answer.
    let rid: i64 = sqlx::query(
        "INSERT INTO rounds (event_id, name, opens_at, closes_at, freeze_at, labs, submission_limit, created_at) VALUES ($1, $2, $3, $4, $5, '', 1, $6) RETURNING id",
    )
    .bind(ev.id)
    .bind(&name)
    .bind(req.opens_at)
    .bind(req.closes_at)
    .bind(req.closes_at - req.freeze_seconds)
    .bind(super::now())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    sqlx::query("INSERT INTO quiz_rounds (round_id, created_by) VALUES ($1, $2)").bind(rid).bind(caller.user.id).execute(&mut *tx).await?;
    store_forms(&mut tx, &state, rid, &forms).await?;
    audit_in(
        &mut tx,
        &caller.user,
        "quiz_round_create",
        &format!("event_id={} round_id={rid} items={}", ev.id, forms.iter().map(|(_, i)| i.len()).sum::<usize>()),
    )
    .await?;
    tx.commit().await?;
    let (_, _, round) = visible_quiz(&state, &caller.user, ev.id, rid).await?;
    Ok((StatusCode::CREATED, Json(quiz_json(&state, &round, true).await?)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormsBody {
    forms: Vec<NewForm>,
}

/// Replaces the forms until the round opens (organisers; audited).
async fn put_forms(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<FormsBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_quiz(&state, &caller.user, ev.id, rid).await?;
    let started: i64 = sqlx::query("SELECT COUNT(*) FROM quiz_sheets WHERE round_id = $1").bind(round.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    if state.clock.now() >= round.opens_at || started > 0 {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "quiz_started",
            "the round has opened: its questions stay as they are",
            json!({"opens_at": round.opens_at}),
        ));
    }
    let forms = check_forms(&state, &ev, &req.forms).await?;
    let mut tx = state.db.begin_write().await?;
    store_forms(&mut tx, &state, round.id, &forms).await?;
    audit_in(&mut tx, &caller.user, "quiz_forms_set", &format!("event_id={} round_id={}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok(Json(quiz_json(&state, &round, true).await?))
}

/// The round with its forms: item summaries for officials, counts for everyone else.
async fn get_quiz(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    let mut v = quiz_json(&state, &round, a.officiates()).await?;
    v["team_id"] = json!(a.team);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankQuery {
    division_id: Option<i64>,
}

/// The items organisers may choose from for a division (or for any division of the event), without keys.
async fn bank(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<BankQuery>,
) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let divs = divisions(&state, ev.id).await?;
    let chosen: Vec<&Division> = match q.division_id {
        Some(d) => {
            vec![divs.iter().find(|x| x.id == d).ok_or_else(|| AppError::invalid("division_id", "unknown", "division_id is not a division of this event"))?]
        }
        None => divs.iter().collect(),
    };
    let items: Vec<Value> = state
        .catalogue
        .items
        .population("student")
        .filter(|i| i.status == "live" && !matches!(i.kind, ItemKind::Performance { .. }) && chosen.iter().any(|d| suits(i, d)))
        .map(summary)
        .collect();
    Ok(Json(json!({"event_id": ev.id, "division_id": q.division_id, "items": items})))
}

// ---------------------------------------------------------------- sheets

/// A team's answer sheet row.
#[derive(Clone, Debug)]
struct Sheet {
    id: i64,
    team_id: i64,
    started_at: i64,
    started_by: i64,
    submitted_at: Option<i64>,
    submitted_by: Option<i64>,
    closed_by: Option<String>,
    points: Option<i64>,
    max_points: Option<i64>,
}

const SHEET_COLUMNS: &str = "id, team_id, started_at, started_by, submitted_at, submitted_by, closed_by, points, max_points";

fn sheet_of(r: &sqlx::any::AnyRow) -> Result<Sheet, AppError> {
    Ok(Sheet {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        started_at: r.try_get("started_at")?,
        started_by: r.try_get("started_by")?,
        submitted_at: r.try_get("submitted_at")?,
        submitted_by: r.try_get("submitted_by")?,
        closed_by: r.try_get("closed_by")?,
        points: r.try_get("points")?,
        max_points: r.try_get("max_points")?,
    })
}

async fn sheet_for(state: &AppState, round: i64, team: i64) -> Result<Option<Sheet>, AppError> {
    let row = sqlx::query(&format!("SELECT {SHEET_COLUMNS} FROM quiz_sheets WHERE round_id = $1 AND team_id = $2"))
        .bind(round)
        .bind(team)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(sheet_of).transpose()
}

/// A stored answer: (response JSON, answered_by, answered_at, points once the sheet closed).
type Stored = (String, i64, i64, Option<i64>);

async fn answers_of(state: &AppState, sheet: i64) -> Result<BTreeMap<String, Stored>, AppError> {
    let rows = sqlx::query("SELECT item_id, response, answered_by, answered_at, points FROM quiz_answers WHERE sheet_id = $1")
        .bind(sheet)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))).collect()
}

async fn team_division(state: &AppState, team: i64) -> Result<i64, AppError> {
    Ok(sqlx::query("SELECT division_id FROM teams WHERE id = $1").bind(team).fetch_one(&state.db.pool).await?.try_get(0)?)
}

/// Closes a sheet and scores it, once: each answer by the bank's rules
/// (partial credit where the item has it), the total over the division's
/// form. `by` is the member who handed it in (audited), None when the
/// round's end closed it (at `at`, the round's close). The sheet's row is
/// claimed by the first UPDATE, so two requests racing to close it score it
/// once, and an answer being saved meanwhile waits for the lock and is refused after.
async fn close_sheet(state: &AppState, round: &Round, sheet: &Sheet, by: Option<&User>, at: i64) -> Result<bool, AppError> {
    let division = team_division(state, sheet.team_id).await?;
    let form = forms_of(state, round.id).await?.remove(&division).unwrap_or_default();
    let mut tx = state.db.begin_write().await?;
    let claimed = sqlx::query("UPDATE quiz_sheets SET submitted_at = $1, submitted_by = $2, closed_by = $3 WHERE id = $4 AND submitted_at IS NULL")
        .bind(at)
        .bind(by.map(|u| u.id))
        .bind(if by.is_some() { "team" } else { "deadline" })
        .bind(sheet.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let rows = sqlx::query("SELECT item_id, response FROM quiz_answers WHERE sheet_id = $1").bind(sheet.id).fetch_all(&mut *tx).await?;
    let given: BTreeMap<String, String> = rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, AppError>>()?;
    let (mut total, mut total_max) = (0i64, 0i64);
    for f in &form {
        let (points, max) = points_of(state.catalogue.items.get(&f.item_id), given.get(&f.item_id).map(String::as_str), f.max_points);
        total += points;
        total_max += max;
        if given.contains_key(&f.item_id) {
            sqlx::query("UPDATE quiz_answers SET points = $1 WHERE sheet_id = $2 AND item_id = $3")
                .bind(points)
                .bind(sheet.id)
                .bind(&f.item_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query("UPDATE quiz_sheets SET points = $1, max_points = $2 WHERE id = $3").bind(total).bind(total_max).bind(sheet.id).execute(&mut *tx).await?;
    // The board moved: the cached one is stale.
    sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE id = $1").bind(round.id).execute(&mut *tx).await?;
    if let Some(u) = by {
        let detail = format!("event_id={} round_id={} team_id={} sheet_id={} points={total}", round.event_id, round.id, sheet.team_id, sheet.id);
        audit_in(&mut tx, u, "quiz_sheet_submit", &detail).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// After the round has closed, closes every sheet still open, as at the
/// round's close: called before anything reads the results (the board, a
/// sheet, finalisation). Nothing for another kind of round or while it is open.
pub async fn settle(state: &AppState, round: &Round) -> Result<usize, AppError> {
    if state.clock.now() <= round.closes_at {
        return Ok(0);
    }
    let rows = sqlx::query(&format!("SELECT {SHEET_COLUMNS} FROM quiz_sheets WHERE round_id = $1 AND submitted_at IS NULL ORDER BY id"))
        .bind(round.id)
        .fetch_all(&state.db.pool)
        .await?;
    let mut n = 0;
    for r in &rows {
        n += usize::from(close_sheet(state, round, &sheet_of(r)?, None, round.closes_at).await?);
    }
    Ok(n)
}

/// The board rows of a quiz round for `contest::load_boards` (None for
/// another kind): one per closed sheet, its total at the time it was handed in.
pub async fn board_rows(state: &AppState, round: &Round) -> Result<Option<Vec<BoardRow>>, AppError> {
    if !is_quiz(state, round.id).await? {
        return Ok(None);
    }
    let rows = sqlx::query("SELECT id, team_id, points, submitted_at FROM quiz_sheets WHERE round_id = $1 AND submitted_at IS NOT NULL")
        .bind(round.id)
        .fetch_all(&state.db.pool)
        .await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(BoardRow {
                id: r.try_get(0)?,
                team_id: r.try_get(1)?,
                // One "lab": the sheet.
                lab_id: String::new(),
                done: true,
                failed: false,
                score: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0) as f64,
                submitted_at: r.try_get(3)?,
                final_of: None,
                chosen_at: None,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Some(rows))
}

/// The caller's team, or 403 for anyone who is not an approved team's member.
fn team_of(a: &Access) -> Result<i64, AppError> {
    a.team.ok_or_else(|| AppError::Forbidden("only the members of an approved team answer the quiz".into()))
}

/// The team's view of its sheet: the division's items without keys, every
/// saved answer, who gave it and when, the time left by the server's clock;
/// once the round has closed, each item's points, key and explanation.
async fn sheet_view(state: &AppState, round: &Round, team: i64, sheet: Option<&Sheet>) -> Result<Value, AppError> {
    let t = state.clock.now();
    let closed = t > round.closes_at;
    let division = team_division(state, team).await?;
    let form = forms_of(state, round.id).await?.remove(&division).unwrap_or_default();
    let answers = match sheet {
        Some(s) => answers_of(state, s.id).await?,
        None => BTreeMap::new(),
    };
    let bank = &state.catalogue.items;
    // The items are shown once the team has started (or, for review, after the round).
    let items: Vec<Value> = if sheet.is_some() || closed {
        form.iter()
            .map(|f| {
                let item = bank.get(&f.item_id);
                let a = answers.get(&f.item_id);
                let mut v = json!({
                    "position": f.position,
                    "item": item.map_or_else(|| json!({"id": f.item_id, "type": "unavailable", "max_points": f.max_points}), taker_item),
                    "response": a.and_then(|a| serde_json::from_str::<Value>(&a.0).ok()),
                    "answered_by": a.map(|a| a.1), "answered_at": a.map(|a| a.2),
                });
                if closed {
                    v["points"] = json!(a.and_then(|a| a.3).unwrap_or(0));
                    v["max_points"] = json!(f.max_points);
                    if let Some(item) = item {
                        v["correct"] = key_of(item);
                        v["explanation"] = json!(item.explanation);
                    }
                }
                v
            })
            .collect()
    } else {
        Vec::new()
    };
    let status = match sheet {
        None => "not_started",
        Some(s) if s.submitted_at.is_some() => "submitted",
        Some(_) => "in_progress",
    };
    Ok(json!({
        "round": round_json(round),
        "team_id": team,
        "review": closed,
        "sheet": sheet.map(|s| json!({
            "id": s.id, "started_at": s.started_at, "started_by": s.started_by, "submitted_at": s.submitted_at, "submitted_by": s.submitted_by,
            "closed_by": s.closed_by,
            // The score only once the round has closed: a team that handed in early must not pass it to others still answering.
            "points": if closed { s.points } else { None }, "max_points": if closed { s.max_points } else { None },
        })),
        "status": status,
        "deadline_at": round.closes_at,
        "remaining_seconds": if status == "in_progress" { (round.closes_at - t).max(0) } else { 0 },
        "answered": answers.len(), "total": form.len(),
        "items": items,
    }))
}

/// The caller's team's sheet (the round closed: settled first, with the review).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetQuery {
    /// Another team's sheet, read-only: its coach's, or an organiser's or judge's, once the round has closed.
    team_id: Option<i64>,
}

/// The caller's team's sheet; with `?team_id=`, a coached team's sheet for
/// its coach (the event's officials any team's) to go through with the
/// students — only after the round closes, so nobody outside the team reads
/// the questions while it runs.
async fn my_sheet(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    Query(q): Query<SheetQuery>,
) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    let team = match q.team_id {
        None => team_of(&a)?,
        Some(team) if a.team == Some(team) => team,
        Some(team) => {
            let in_event = sqlx::query("SELECT coach_id FROM teams WHERE id = $1 AND event_id = $2")
                .bind(team)
                .bind(round.event_id)
                .fetch_optional(&state.db.pool)
                .await?
                .ok_or(AppError::NotFound)?;
            let coach: Option<i64> = in_event.try_get(0)?;
            if !(a.officiates() || coach == Some(caller.user.id)) {
                return Err(AppError::Forbidden("only the team's coach and the event's officials read a team's sheet".into()));
            }
            if state.clock.now() <= round.closes_at {
                return Err(AppError::typed(
                    StatusCode::CONFLICT,
                    "round_running",
                    "a team's sheet can be read by others once the round has closed (see closes_at)",
                    window(&round),
                ));
            }
            team
        }
    };
    settle(&state, &round).await?;
    let sheet = sheet_for(&state, round.id, team).await?;
    Ok(Json(sheet_view(&state, &round, team, sheet.as_ref()).await?))
}

fn window(round: &Round) -> Value {
    json!({"opens_at": round.opens_at, "closes_at": round.closes_at})
}

/// The round must be open now.
fn check_open(state: &AppState, round: &Round) -> Result<(), AppError> {
    let t = state.clock.now();
    if t < round.opens_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_not_open", "this round has not started yet (see opens_at)", window(round)));
    }
    if t > round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_closed", "this round is over (see closes_at)", window(round)));
    }
    Ok(())
}

/// Opens the team's sheet (the first member to start it), or resumes it.
async fn start(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Response, AppError> {
    let (ev, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    let team = team_of(&a)?;
    if let Some(s) = sheet_for(&state, round.id, team).await? {
        settle(&state, &round).await?;
        let s = sheet_for(&state, round.id, team).await?.unwrap_or(s);
        return Ok((StatusCode::OK, Json(sheet_view(&state, &round, team, Some(&s)).await?)).into_response());
    }
    check_open(&state, &round)?;
    let mut tx = state.db.begin_write().await?;
    // One sheet per team: a teammate starting at the same moment finds the row and resumes it.
    let created = sqlx::query(
        "INSERT INTO quiz_sheets (round_id, team_id, started_at, started_by) VALUES ($1, $2, $3, $4) ON CONFLICT (round_id, team_id) DO NOTHING RETURNING id",
    )
    .bind(round.id)
    .bind(team)
    .bind(state.clock.now())
    .bind(caller.user.id)
    .fetch_optional(&mut *tx)
    .await?;
    let status = if let Some(row) = created {
        let sid: i64 = row.try_get(0)?;
        audit_in(&mut tx, &caller.user, "quiz_sheet_start", &format!("event_id={} round_id={} team_id={team} sheet_id={sid}", ev.id, round.id)).await?;
        tx.commit().await?;
        StatusCode::CREATED
    } else {
        tx.rollback().await?;
        StatusCode::OK
    };
    let s = sheet_for(&state, round.id, team).await?;
    Ok((status, Json(sheet_view(&state, &round, team, s.as_ref()).await?)).into_response())
}

/// The team's sheet, open for answers now, or why not.
async fn open_sheet(state: &AppState, round: &Round, team: i64) -> Result<Sheet, AppError> {
    if state.clock.now() > round.closes_at {
        settle(state, round).await?;
    }
    check_open(state, round)?;
    let s = sheet_for(state, round.id, team).await?.ok_or_else(|| AppError::conflict("not_started", "start the team's sheet first: POST …/quiz/sheet"))?;
    if s.submitted_at.is_some() {
        return Err(AppError::conflict("sitting_submitted", "your team has handed in its sheet; answers can no longer change"));
    }
    Ok(s)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRequest {
    /// The response as given (docs/assessment-delivery.md); null clears it.
    response: Value,
}

/// Saves one answer of the team's sheet as given (any member; the last save
/// stands). Idempotent, and committed before the 200, so nothing acknowledged is lost.
async fn save_answer(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, item_id)): Path<(i64, i64, String)>,
    req: Result<Json<AnswerRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (_, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    let team = team_of(&a)?;
    let s = open_sheet(&state, &round, team).await?;
    let division = team_division(&state, team).await?;
    let form = forms_of(&state, round.id).await?.remove(&division).unwrap_or_default();
    // Only the items of the team's form: anything else is as if absent.
    let f = form.iter().find(|f| f.item_id == item_id).ok_or(AppError::NotFound)?;
    let item = state.catalogue.items.get(&f.item_id).ok_or(AppError::NotFound)?;
    let stored = if req.response.is_null() {
        None
    } else {
        parse_response(item, &req.response)?;
        Some(req.response.to_string())
    };
    let t = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    // The sheet's row first: a hand-in racing this save either waits for it or has closed the sheet.
    let open = sqlx::query("UPDATE quiz_sheets SET started_at = started_at WHERE id = $1 AND submitted_at IS NULL")
        .bind(s.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if open == 0 {
        tx.rollback().await?;
        return Err(AppError::conflict("sitting_submitted", "your team has handed in its sheet; answers can no longer change"));
    }
    match &stored {
        Some(response) => {
            sqlx::query(
                "INSERT INTO quiz_answers (sheet_id, item_id, response, answered_by, answered_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (sheet_id, item_id) DO UPDATE SET response = excluded.response, answered_by = excluded.answered_by, answered_at = excluded.answered_at",
            )
            .bind(s.id)
            .bind(&f.item_id)
            .bind(response)
            .bind(caller.user.id)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM quiz_answers WHERE sheet_id = $1 AND item_id = $2").bind(s.id).bind(&f.item_id).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(super::contest::access_unchanged(Json(json!({"saved": true, "item_id": f.item_id, "position": f.position, "answered_at": stored.as_ref().map(|_| t),
        "remaining_seconds": (round.closes_at - t).max(0)}))))
}

/// Hands in the team's sheet (any member): it is scored and enters the board
/// with this time; answers can no longer change. Handing it in again changes nothing.
async fn submit(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    let team = team_of(&a)?;
    if let Some(s) = sheet_for(&state, round.id, team).await?.filter(|s| s.submitted_at.is_some()) {
        return Ok(Json(sheet_view(&state, &round, team, Some(&s)).await?));
    }
    let s = open_sheet(&state, &round, team).await?;
    close_sheet(&state, &round, &s, Some(&caller.user), state.clock.now()).await?;
    let s = sheet_for(&state, round.id, team).await?;
    Ok(Json(sheet_view(&state, &round, team, s.as_ref()).await?))
}

/// The officials' view of the round: per approved team, where its sheet
/// stands (not started, answering, handed in, closed at the end), how many
/// items it has answered, and its score once closed; never a key.
async fn progress(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_quiz(&state, &caller.user, id, rid).await?;
    if !a.officiates() {
        return Err(AppError::Forbidden("only the event's organisers and judges follow the quiz's progress".into()));
    }
    settle(&state, &round).await?;
    let forms = forms_of(&state, round.id).await?;
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.division_id, s.started_at, s.submitted_at, s.closed_by, s.points, s.max_points, \
         (SELECT COUNT(*) FROM quiz_answers q WHERE q.sheet_id = s.id) AS answered \
         FROM teams t LEFT JOIN quiz_sheets s ON s.team_id = t.id AND s.round_id = $1 WHERE t.event_id = $2 AND t.status = 'approved' ORDER BY t.division_id, t.id",
    )
    .bind(round.id)
    .bind(round.event_id)
    .fetch_all(&state.db.pool)
    .await?;
    let (mut started, mut submitted) = (0, 0);
    let mut teams = Vec::new();
    for r in &rows {
        let division: i64 = r.try_get(2)?;
        let started_at: Option<i64> = r.try_get(3)?;
        let submitted_at: Option<i64> = r.try_get(4)?;
        let status = match (started_at, submitted_at) {
            (None, _) => "not_started",
            (Some(_), None) => "in_progress",
            (Some(_), Some(_)) => "submitted",
        };
        started += i64::from(started_at.is_some());
        submitted += i64::from(submitted_at.is_some());
        teams.push(json!({
            "team_id": r.try_get::<i64, _>(0)?, "team": r.try_get::<String, _>(1)?, "division_id": division, "status": status,
            "started_at": started_at, "submitted_at": submitted_at, "closed_by": r.try_get::<Option<String>, _>(5)?,
            "answered": r.try_get::<Option<i64>, _>(8)?.unwrap_or(0), "total": forms.get(&division).map_or(0, Vec::len),
            "points": r.try_get::<Option<i64>, _>(6)?, "max_points": r.try_get::<Option<i64>, _>(7)?,
        }));
    }
    Ok(Json(json!({
        "round_id": round.id, "opens_at": round.opens_at, "closes_at": round.closes_at, "finalised_at": round.finalised_at,
        "totals": {"teams": rows.len(), "started": started, "submitted": submitted},
        "teams": teams,
    })))
}

/// `POST …/finalise` for a quiz round (after it closed): every open sheet is
/// closed and scored, and the ranking as it stands becomes the final one
/// (nothing to re-grade: scoring is deterministic). Idempotent.
pub async fn finalise(state: &AppState, caller: &User, ev: &Event, round: &Round) -> Result<Value, AppError> {
    let closed = settle(state, round).await?;
    let t = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let drawn = sqlx::query("UPDATE rounds SET finalised_at = $1, board_version = board_version + 1 WHERE id = $2 AND finalised_at IS NULL")
        .bind(t)
        .bind(round.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if drawn == 0 {
        tx.rollback().await?;
        return Ok(json!({"round_id": round.id, "final_key": null, "regrades": 0, "closed_sheets": closed, "already": true}));
    }
    audit_in(&mut tx, caller, "round_finalise", &format!("event_id={} round_id={} quiz_sheets_closed={closed}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok(json!({"round_id": round.id, "final_key": null, "regrades": 0, "closed_sheets": closed, "already": false}))
}
