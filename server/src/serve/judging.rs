//! Judging a contest round (docs/competitions.md): the submission a team
//! stands by, clarifications, and appeals decided on the grader's full
//! evidence.
//!
//! The grader records every contest submission's hidden cases in full
//! (`evidence`, `evidence_replays`; `queue::grade_job`), apart from the
//! redacted report the submission's own routes serve: judges and organisers
//! read the evidence of an appeal; contestants and coaches only ever get the
//! redacted report. Every step is in the audit log, with ids only.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiming_sim::view::{ReplayView, WorldView};
use qiming_sim::{Replay, Scenario};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::contest::{Access, coaches, managed_event, visible_event, visible_round};
use super::db::User;
use super::http::{AppError, AppState, body};
use super::org::audit_in;

/// Longest question, answer, appeal reason or decision (characters).
pub const MAX_TEXT: usize = 2000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events/{id}/rounds/{round}/choice", post(choose))
        .route("/api/events/{id}/rounds/{round}/clarifications", get(list_clarifications).post(ask))
        .route("/api/events/{id}/rounds/{round}/clarifications/{c}/answer", post(answer))
        .route("/api/events/{id}/appeals", get(list_appeals).post(file_appeal))
        .route("/api/events/{id}/appeals/{appeal}", get(get_appeal))
        .route("/api/events/{id}/appeals/{appeal}/replays/{case}", get(evidence_replay))
        .route("/api/events/{id}/appeals/{appeal}/decision", post(decide_appeal))
        .route("/api/events/{id}/rounds/{round}/evidence/prune", post(prune_evidence))
}

/// A long free text (a question, an answer, a reason): trimmed, 1–[`MAX_TEXT`]
/// characters; line breaks are allowed, other control characters are not.
fn check_text(field: &'static str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_TEXT || v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        let message = format!("{field} must be 1–{MAX_TEXT} characters");
        // Literal fields, so tests/all/language.rs sees every field this can name.
        let e = match field {
            "answer" => AppError::invalid("answer", "length", message),
            "reason" => AppError::invalid("reason", "length", message),
            _ => AppError::invalid("text", "length", message),
        };
        return Err(e.max(MAX_TEXT as i64));
    }
    Ok(v.to_string())
}

/// A round submission's team, lab and status, if it is a submission of this round (not a final re-grade).
struct RoundSubmission {
    id: i64,
    team_id: i64,
    lab_id: String,
    status: String,
}

async fn round_submission(state: &AppState, round: i64, id: i64) -> Result<Option<RoundSubmission>, AppError> {
    let row = sqlx::query("SELECT id, team_id, lab_id, status FROM submissions WHERE id = $1 AND round_id = $2 AND final_of IS NULL")
        .bind(id)
        .bind(round)
        .fetch_optional(&state.db.pool)
        .await?;
    row.map(|r| Ok(RoundSubmission { id: r.try_get("id")?, team_id: r.try_get("team_id")?, lab_id: r.try_get("lab_id")?, status: r.try_get("status")? }))
        .transpose()
}

/// Whether the caller is the captain of `team` (an event membership, and still in the team).
async fn captains(state: &AppState, caller: &User, event: i64, team: i64) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "SELECT m.user_id FROM event_members m JOIN team_members t ON t.student_id = m.user_id \
         WHERE m.event_id = $1 AND m.user_id = $2 AND m.role = 'captain' AND t.team_id = $3 AND t.active = 1",
    )
    .bind(event)
    .bind(caller.id)
    .bind(team)
    .fetch_optional(&state.db.pool)
    .await?
    .is_some())
}

// ---------------------------------------------------------------- which submission counts

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Choice {
    submission_id: i64,
}

/// The team's captain or coach chooses, before the round closes, which of
/// the team's submissions counts for its lab (else the last one does); the
/// final ranking re-grades the chosen one. Choosing again replaces the choice.
async fn choose(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<Choice>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let sub = round_submission(&state, round.id, req.submission_id).await?;
    // Someone who may not see the submission learns nothing about it.
    let Some(sub) = sub.filter(|s| a.officiates() || a.team == Some(s.team_id) || a.coach) else {
        return Err(AppError::invalid("submission_id", "unknown", "submission_id is not one of your team's submissions in this round"));
    };
    let coach = a.coach && coaches(&state, &caller.user, sub.team_id).await?;
    if !coach && a.team != Some(sub.team_id) {
        if a.officiates() {
            return Err(AppError::Forbidden("the team's captain or coach chooses its submission".into()));
        }
        return Err(AppError::invalid("submission_id", "unknown", "submission_id is not one of your team's submissions in this round"));
    }
    if !coach && !captains(&state, &caller.user, ev.id, sub.team_id).await? {
        return Err(AppError::Forbidden("the team's captain or coach chooses its submission".into()));
    }
    if state.clock.now() > round.closes_at {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "round_closed",
            "the submission that counts is chosen before the round closes",
            json!({"closes_at": round.closes_at}),
        ));
    }
    if sub.status == "failed" {
        return Err(AppError::conflict("submission_failed", "the grader could not grade this submission; choose another"));
    }
    let t = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO final_choices (round_id, team_id, lab_id, submission_id, chosen_by, chosen_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (round_id, team_id, lab_id) DO UPDATE SET submission_id = excluded.submission_id, chosen_by = excluded.chosen_by, chosen_at = excluded.chosen_at",
    )
    .bind(round.id)
    .bind(sub.team_id)
    .bind(&sub.lab_id)
    .bind(sub.id)
    .bind(caller.user.id)
    .bind(t)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE id = $1").bind(round.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "final_choose", &format!("event_id={} round_id={} team_id={} submission_id={}", ev.id, round.id, sub.team_id, sub.id))
        .await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "team_id": sub.team_id, "lab_id": sub.lab_id, "submission_id": sub.id, "chosen_at": t})))
}

// ---------------------------------------------------------------- clarifications

fn clarification_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?, "round_id": r.try_get::<i64, _>("round_id")?, "team_id": r.try_get::<Option<i64>, _>("team_id")?,
        "question": r.try_get::<Option<String>, _>("question")?, "asked_at": r.try_get::<i64, _>("asked_at")?,
        "answer": r.try_get::<Option<String>, _>("answer")?, "answered_at": r.try_get::<Option<i64>, _>("answered_at")?,
        "broadcast": r.try_get::<i64, _>("broadcast")? != 0,
    }))
}

const CLARIFICATION_COLUMNS: &str = "id, round_id, team_id, question, asked_at, answer, answered_at, broadcast";

/// Organisers and judges see every clarification of the round; a team's
/// members and coach its own and the broadcasts; everyone else who sees the
/// round, the broadcasts.
async fn list_clarifications(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    if a.officiates() {
        let rows = sqlx::query(&format!("SELECT {CLARIFICATION_COLUMNS} FROM clarifications WHERE round_id = $1 ORDER BY id"))
            .bind(round.id)
            .fetch_all(&state.db.pool)
            .await?;
        return Ok(Json(json!({"clarifications": rows.iter().map(clarification_json).collect::<Result<Vec<_>, _>>()?})));
    }
    // The caller's own teams: the one they compete in, those they coach.
    let mut own: Vec<i64> = sqlx::query("SELECT id FROM teams WHERE event_id = $1 AND coach_id = $2")
        .bind(ev.id)
        .bind(caller.user.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    own.extend(a.team);
    let rows = sqlx::query(&format!(
        "SELECT {CLARIFICATION_COLUMNS} FROM clarifications WHERE round_id = $1 AND (broadcast = 1 OR team_id = $2 \
         OR team_id IN (SELECT id FROM teams WHERE coach_id = $3)) ORDER BY id"
    ))
    .bind(round.id)
    .bind(a.team.unwrap_or(0))
    .bind(caller.user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let mut v = clarification_json(r)?;
        // A broadcast answer does not say which team asked.
        if v["team_id"].as_i64().is_some_and(|t| !own.contains(&t)) {
            v["team_id"] = Value::Null;
        }
        out.push(v);
    }
    Ok(Json(json!({ "clarifications": out })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    text: String,
}

/// A contestant asks a question for their team (privately, while the round
/// is open); an organiser or judge posts an announcement to the whole round.
async fn ask(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<Ask>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let text = check_text("text", &req.text)?;
    let t = state.clock.now();
    if a.team.is_none() && !a.officiates() {
        return Err(AppError::Forbidden("contestants ask questions; organisers and judges announce".into()));
    }
    if a.team.is_some() && (t < round.opens_at || t > round.closes_at) {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "round_not_running",
            "questions are asked while the round runs",
            json!({"opens_at": round.opens_at, "closes_at": round.closes_at}),
        ));
    }
    let mut tx = state.db.begin_write().await?;
    let (cid, action) = if let Some(team) = a.team {
        let cid: i64 =
            sqlx::query("INSERT INTO clarifications (round_id, team_id, asked_by, question, asked_at, broadcast) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id")
                .bind(round.id)
                .bind(team)
                .bind(caller.user.id)
                .bind(&text)
                .bind(t)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        (cid, "clarification_ask")
    } else {
        let cid: i64 = sqlx::query(
            "INSERT INTO clarifications (round_id, asked_at, answer, answered_by, answered_at, broadcast) VALUES ($1, $2, $3, $4, $2, 1) RETURNING id",
        )
        .bind(round.id)
        .bind(t)
        .bind(&text)
        .bind(caller.user.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        (cid, "clarification_announce")
    };
    audit_in(&mut tx, &caller.user, action, &format!("event_id={} round_id={} clarification_id={cid}", ev.id, round.id)).await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("SELECT {CLARIFICATION_COLUMNS} FROM clarifications WHERE id = $1")).bind(cid).fetch_one(&state.db.pool).await?;
    Ok((StatusCode::CREATED, Json(clarification_json(&row)?)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    answer: String,
    /// Answer the whole round (else only the team that asked).
    #[serde(default)]
    broadcast: bool,
}

/// An organiser or judge answers a question, privately or to the round; answering again replaces the answer.
async fn answer(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, cid)): Path<(i64, i64, i64)>,
    req: Result<Json<Answer>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let row = sqlx::query("SELECT team_id FROM clarifications WHERE id = $1 AND round_id = $2").bind(cid).bind(round.id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Err(AppError::NotFound) };
    if !a.officiates() {
        // A team sees its own questions; nobody else learns one exists.
        let team: Option<i64> = row.try_get(0)?;
        return Err(if team.is_some() && (a.team == team || a.coach) {
            AppError::Forbidden("organisers and judges answer questions".into())
        } else {
            AppError::NotFound
        });
    }
    let text = check_text("answer", &req.answer)?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query("UPDATE clarifications SET answer = $1, answered_by = $2, answered_at = $3, broadcast = $4 WHERE id = $5")
        .bind(&text)
        .bind(caller.user.id)
        .bind(state.clock.now())
        .bind(i64::from(req.broadcast))
        .bind(cid)
        .execute(&mut *tx)
        .await?;
    audit_in(
        &mut tx,
        &caller.user,
        "clarification_answer",
        &format!("event_id={} round_id={} clarification_id={cid} broadcast={}", ev.id, round.id, req.broadcast),
    )
    .await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("SELECT {CLARIFICATION_COLUMNS} FROM clarifications WHERE id = $1")).bind(cid).fetch_one(&state.db.pool).await?;
    Ok(Json(clarification_json(&row)?))
}

// ---------------------------------------------------------------- appeals

const APPEAL_COLUMNS: &str =
    "a.id, a.event_id, a.round_id, a.team_id, a.submission_id, a.reason, a.filed_at, a.status, a.answer, a.answered_at, a.score_before, a.regraded";

fn appeal_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?, "event_id": r.try_get::<i64, _>("event_id")?, "round_id": r.try_get::<i64, _>("round_id")?,
        "team_id": r.try_get::<i64, _>("team_id")?, "submission_id": r.try_get::<i64, _>("submission_id")?,
        "reason": r.try_get::<String, _>("reason")?, "filed_at": r.try_get::<i64, _>("filed_at")?, "status": r.try_get::<String, _>("status")?,
        "answer": r.try_get::<Option<String>, _>("answer")?, "answered_at": r.try_get::<Option<i64>, _>("answered_at")?,
        "score_before": r.try_get::<Option<f64>, _>("score_before")?, "regraded": r.try_get::<i64, _>("regraded")? != 0,
    }))
}

/// An appeal of the event the caller may see: organisers and judges every
/// one, a coach their teams', a team's members their team's; 404 otherwise.
async fn visible_appeal(state: &AppState, caller: &User, event: i64, appeal: i64) -> Result<(Access, sqlx::any::AnyRow), AppError> {
    let (ev, a) = visible_event(state, caller, event).await?;
    let row = sqlx::query(&format!("SELECT {APPEAL_COLUMNS} FROM appeals a WHERE a.id = $1 AND a.event_id = $2"))
        .bind(appeal)
        .bind(ev.id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let team: i64 = row.try_get("team_id")?;
    if a.officiates() || a.team == Some(team) || (a.coach && coaches(state, caller, team).await?) { Ok((a, row)) } else { Err(AppError::NotFound) }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAppeal {
    submission_id: i64,
    reason: String,
}

/// A coach appeals against the grade of one of their team's graded
/// submissions, with a reason; one open appeal per submission.
async fn file_appeal(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewAppeal>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    if !a.coach {
        return Err(AppError::Forbidden("a team's coach files its appeals".into()));
    }
    let reason = check_text("reason", &req.reason)?;
    let row = sqlx::query(
        "SELECT s.id, s.round_id, s.team_id, s.status, s.score FROM submissions s JOIN rounds r ON r.id = s.round_id JOIN teams t ON t.id = s.team_id \
         WHERE s.id = $1 AND r.event_id = $2 AND t.coach_id = $3",
    )
    .bind(req.submission_id)
    .bind(ev.id)
    .bind(caller.user.id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| AppError::invalid("submission_id", "unknown", "submission_id is not a submission of a team you coach in this event"))?;
    let (round, team, status, score): (i64, i64, String, Option<f64>) =
        (row.try_get("round_id")?, row.try_get("team_id")?, row.try_get("status")?, row.try_get("score")?);
    if status != "done" {
        return Err(AppError::conflict("not_graded", "appeal against a graded submission"));
    }
    let mut tx = state.db.begin_write().await?;
    let open = sqlx::query("SELECT id FROM appeals WHERE submission_id = $1 AND status = 'open'").bind(req.submission_id).fetch_optional(&mut *tx).await?;
    if open.is_some() {
        return Err(AppError::conflict("appeal_open", "this submission already has an open appeal"));
    }
    let aid: i64 = sqlx::query(
        "INSERT INTO appeals (event_id, round_id, team_id, submission_id, filed_by, reason, filed_at, status, score_before) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) RETURNING id",
    )
    .bind(ev.id)
    .bind(round)
    .bind(team)
    .bind(req.submission_id)
    .bind(caller.user.id)
    .bind(&reason)
    .bind(state.clock.now())
    .bind(score)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit_in(&mut tx, &caller.user, "appeal_file", &format!("event_id={} appeal_id={aid} submission_id={}", ev.id, req.submission_id)).await?;
    tx.commit().await?;
    let (_, row) = visible_appeal(&state, &caller.user, ev.id, aid).await?;
    Ok((StatusCode::CREATED, Json(appeal_json(&row)?)).into_response())
}

/// The event's appeals the caller may see (organisers and judges: all), newest first.
async fn list_appeals(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    let rows = if a.officiates() {
        sqlx::query(&format!("SELECT {APPEAL_COLUMNS} FROM appeals a WHERE a.event_id = $1 ORDER BY a.id DESC")).bind(ev.id).fetch_all(&state.db.pool).await?
    } else {
        sqlx::query(&format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals a JOIN teams t ON t.id = a.team_id WHERE a.event_id = $1 AND (t.coach_id = $2 OR a.team_id = $3) ORDER BY a.id DESC"
        ))
        .bind(ev.id)
        .bind(caller.user.id)
        .bind(a.team.unwrap_or(0))
        .fetch_all(&state.db.pool)
        .await?
    };
    Ok(Json(json!({"appeals": rows.iter().map(appeal_json).collect::<Result<Vec<_>, _>>()?})))
}

/// The appeal with the submission's redacted report (`report`); for
/// organisers and judges also the evidence: the full report with every
/// hidden case's run, checks and measurements (`evidence`), whose replays
/// `…/replays/{case}` serves.
async fn get_appeal(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, aid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (a, row) = visible_appeal(&state, &caller.user, id, aid).await?;
    let mut v = appeal_json(&row)?;
    let sid: i64 = row.try_get("submission_id")?;
    let sub = sqlx::query(&format!("SELECT {}, s.report FROM submissions s WHERE s.id = $1", super::work::SUBMISSION_COLUMNS))
        .bind(sid)
        .fetch_one(&state.db.pool)
        .await?;
    let mut s = super::contest::submission_json(&sub)?;
    s["report"] = sub.try_get::<Option<String>, _>("report")?.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or(Value::Null);
    v["submission"] = s;
    if a.officiates() {
        let evidence: Option<String> = sqlx::query("SELECT report FROM evidence WHERE submission_id = $1")
            .bind(sid)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        v["evidence"] = evidence.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or(Value::Null);
    }
    Ok(Json(v))
}

/// A replay of the appealed submission, hidden cases included: organisers and judges only.
async fn evidence_replay(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, aid, case)): Path<(i64, i64, String)>,
) -> Result<Json<Value>, AppError> {
    let (a, row) = visible_appeal(&state, &caller.user, id, aid).await?;
    if !a.officiates() {
        return Err(AppError::Forbidden("hidden-case evidence is for the event's judges and organisers".into()));
    }
    if case.len() > 128 || case.chars().any(char::is_control) {
        return Err(AppError::NotFound);
    }
    let sid: i64 = row.try_get("submission_id")?;
    let mut bytes: Option<Vec<u8>> = None;
    for table in ["evidence_replays", "replays"] {
        if bytes.is_none() {
            bytes = sqlx::query(&format!("SELECT data FROM {table} WHERE submission_id = $1 AND case_name = $2"))
                .bind(sid)
                .bind(&case)
                .fetch_optional(&state.db.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        }
    }
    let bytes = bytes.ok_or(AppError::NotFound)?;
    let replay = Replay::from_bytes(&bytes).map_err(|e| AppError::Internal(anyhow::anyhow!("stored replay: {e}")))?;
    let scenario = Scenario::parse(&replay.header.scenario_source, &replay.header.scenario_name)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("replay scenario: {e}")))?;
    let world = scenario.resolve(replay.header.seed);
    Ok(Json(json!({"world": WorldView::of(&world, replay.header.robot_radius), "replay": ReplayView::of(&replay)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealDecision {
    decision: String,
    reason: String,
    /// Grade the submission again through the queue (an upheld appeal only).
    #[serde(default)]
    regrade: bool,
}

/// A judge (or organiser) upholds or rejects an appeal with a reason, and
/// may queue a re-grade of the submission (and of its final re-grade, once
/// the final ranking is drawn) on the same seeds.
async fn decide_appeal(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, aid)): Path<(i64, i64)>,
    req: Result<Json<AppealDecision>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (a, row) = visible_appeal(&state, &caller.user, id, aid).await?;
    if !a.officiates() {
        return Err(AppError::Forbidden("the event's judges and organisers decide appeals".into()));
    }
    let status = match req.decision.as_str() {
        "upheld" => "upheld",
        "rejected" => "rejected",
        _ => return Err(AppError::invalid("decision", "choice", "decision must be \"upheld\" or \"rejected\"")),
    };
    let reason = check_text("reason", &req.reason)?;
    if req.regrade && status != "upheld" {
        return Err(AppError::invalid("regrade", "choice", "only an upheld appeal re-grades"));
    }
    let (event, round, sid): (i64, i64, i64) = (row.try_get("event_id")?, row.try_get("round_id")?, row.try_get("submission_id")?);
    let mut tx = state.db.begin_write().await?;
    let changed =
        sqlx::query("UPDATE appeals SET status = $1, answer = $2, answered_by = $3, answered_at = $4, regraded = $5 WHERE id = $6 AND status = 'open'")
            .bind(status)
            .bind(&reason)
            .bind(caller.user.id)
            .bind(state.clock.now())
            .bind(i64::from(req.regrade))
            .bind(aid)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::conflict("appeal_decided", "this appeal has been decided already"));
    }
    audit_in(
        &mut tx,
        &caller.user,
        if status == "upheld" { "appeal_uphold" } else { "appeal_reject" },
        &format!("event_id={event} appeal_id={aid} submission_id={sid}"),
    )
    .await?;
    if req.regrade {
        // Back on the queue: the same row (its attempts, time and choice
        // unchanged) and its final re-grade, graded again on the same seeds.
        let n = sqlx::query(
            "UPDATE submissions SET status = 'queued', claims = 0, lease_owner = NULL, lease_expires_at = NULL WHERE (id = $1 OR final_of = $1) AND status <> 'running'",
        )
        .bind(sid)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE id = $1").bind(round).execute(&mut *tx).await?;
        audit_in(&mut tx, &caller.user, "appeal_regrade", &format!("event_id={event} appeal_id={aid} submission_id={sid} jobs={n}")).await?;
    }
    tx.commit().await?;
    if req.regrade {
        state.signals.work.notify_waiters();
        state.signals.bump(sid);
    }
    let (_, row) = visible_appeal(&state, &caller.user, event, aid).await?;
    Ok(Json(appeal_json(&row)?))
}

// ---------------------------------------------------------------- pruning evidence

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PruneQuery {
    /// Count what would go, delete nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Submissions of a round whose hidden-case replays stay: those the final
/// ranking counts (the re-grades and what they re-grade), every appealed
/// one, and every one a judge reviewed for similarity.
const KEPT_EVIDENCE: &str = "SELECT final_of FROM submissions WHERE round_id = $1 AND final_of IS NOT NULL \
     UNION SELECT id FROM submissions WHERE round_id = $1 AND final_of IS NOT NULL \
     UNION SELECT submission_id FROM appeals WHERE round_id = $1 \
     UNION SELECT submission_a FROM similarity_reviews WHERE submission_a IN (SELECT id FROM submissions WHERE round_id = $1) \
     UNION SELECT submission_b FROM similarity_reviews WHERE submission_b IN (SELECT id FROM submissions WHERE round_id = $1)";

/// `POST /api/events/{id}/rounds/{round}/evidence/prune`: once the final
/// ranking is in and no appeal is open, deletes the hidden-case replays of
/// the round's submissions that neither count nor were appealed or reviewed
/// — at a city event, most of the evidence's gigabytes. The evidence
/// reports (every case's checks and measurements) stay. Organisers; audited.
async fn prune_evidence(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    Query(q): Query<PruneQuery>,
) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    if round.finalised_at.is_none() {
        return Err(AppError::conflict("round_not_final", "the final ranking is not drawn yet (POST …/finalise)"));
    }
    let round_id = round.id;
    let count = |sql: &'static str| {
        let state = state.clone();
        async move { sqlx::query(sql).bind(round_id).fetch_one(&state.db.pool).await?.try_get::<i64, _>(0).map_err(AppError::from) }
    };
    let pending = count("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND final_of IS NOT NULL AND status IN ('queued', 'running')").await?;
    if pending > 0 {
        return Err(AppError::conflict("final_grading_pending", "the final re-grades are still running; prune once they are in"));
    }
    let open = count("SELECT COUNT(*) FROM appeals WHERE round_id = $1 AND status = 'open'").await?;
    if open > 0 {
        return Err(AppError::conflict("appeals_open", "an appeal of this round is still open: its judges may need the evidence"));
    }
    let doomed = format!("SELECT id FROM submissions WHERE round_id = $1 AND id NOT IN ({KEPT_EVIDENCE})");
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(&format!(
        "SELECT COUNT(*), COUNT(DISTINCT submission_id), COALESCE(SUM(LENGTH(data)), 0) FROM evidence_replays WHERE submission_id IN ({doomed})"
    ))
    .bind(round.id)
    .fetch_one(&mut *tx)
    .await?;
    let (replays, submissions, bytes): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let kept: i64 = sqlx::query(&format!("SELECT COUNT(DISTINCT submission_id) FROM evidence_replays WHERE submission_id IN ({KEPT_EVIDENCE})"))
        .bind(round.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if !q.dry_run {
        sqlx::query(&format!("DELETE FROM evidence_replays WHERE submission_id IN ({doomed})")).bind(round.id).execute(&mut *tx).await?;
        audit_in(
            &mut tx,
            &caller.user,
            "evidence_prune",
            &format!("event_id={} round_id={} submissions={submissions} replays={replays} bytes={bytes}", ev.id, round.id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(json!({
        "round_id": round.id, "dry_run": q.dry_run, "pruned_submissions": submissions, "pruned_replays": replays, "pruned_bytes": bytes,
        "kept_submissions": kept,
    })))
}
