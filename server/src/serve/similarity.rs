//! Event-wide similarity review: the winnowing fingerprints of `qiming similarity`
//! (`qiming_grading::similarity`) over every team's counting submission of an event, per lab,
//! with the pairs and clusters judges review — and their verdicts. Never an automatic penalty:
//! a score is evidence for a person to look at (docs/competitions.md, "Similarity review").
//!
//! Which programs: per round, team and lab, the submission that counts — the team's choice, else
//! its newest — for the event's officials (organisers and judges) only. Programs of one lab are
//! compared with each other, ignoring what they share with the lab's starter program; programs
//! that do not parse are compared as text and marked so. The comparison runs off the async
//! threads (about 2 s for 2,000 programs; it grows with the pairs found).

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiming_grading::similarity::{Fingerprints, base_fingerprints, compare, fingerprint};
use qiming_runtime::Program;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::audit_in;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/events/{id}/similarity", get(review)).route("/api/events/{id}/similarity/reviews", post(record_verdict))
}

/// Longest note a judge writes on a pair (characters).
const MAX_NOTE: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewQuery {
    /// Only this round (default: every round of the event).
    round: Option<i64>,
    /// Pairs at or above this score link programs into a cluster (default 0.5).
    threshold: Option<f64>,
    /// Pairs below this score are not listed (default 0.3).
    min_score: Option<f64>,
}

/// One counting submission, as the review names it.
struct Entry {
    id: i64,
    round: i64,
    team: i64,
    team_name: String,
    school: i64,
    lab: String,
    language: String,
    program: String,
}

/// The counting submissions of the event (or one round): the team's choice per lab, else its newest.
async fn counting(state: &AppState, event: i64, round: Option<i64>) -> Result<Vec<Entry>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.round_id, s.team_id, t.name AS team_name, t.school_id, s.lab_id, s.language, s.program, \
         (SELECT c.submission_id FROM final_choices c WHERE c.round_id = s.round_id AND c.team_id = s.team_id AND c.lab_id = s.lab_id) AS chosen \
         FROM submissions s JOIN rounds r ON r.id = s.round_id JOIN teams t ON t.id = s.team_id \
         WHERE r.event_id = $1 AND ($2 = 0 OR s.round_id = $2) AND s.final_of IS NULL ORDER BY s.id",
    )
    .bind(event)
    .bind(round.unwrap_or(0))
    .fetch_all(&state.db.pool)
    .await?;
    // (round, team, lab) → the entry that counts: the chosen one, else the newest (rows are by id).
    let mut picked: BTreeMap<(i64, i64, String), Entry> = BTreeMap::new();
    for r in &rows {
        let e = Entry {
            id: r.try_get("id")?,
            round: r.try_get("round_id")?,
            team: r.try_get("team_id")?,
            team_name: r.try_get("team_name")?,
            school: r.try_get("school_id")?,
            lab: r.try_get::<Option<String>, _>("lab_id")?.unwrap_or_default(),
            language: r.try_get("language")?,
            program: r.try_get("program")?,
        };
        let chosen: Option<i64> = r.try_get("chosen")?;
        // With a choice, only the chosen one; without, each newer one replaces the last.
        if chosen.is_none_or(|c| c == e.id) {
            picked.insert((e.round, e.team, e.lab.clone()), e);
        }
    }
    Ok(picked.into_values().collect())
}

/// The program a stored submission stands for (a bundle's program file), if it can be read.
fn program_of(e: &Entry) -> Option<Program> {
    super::queue::stored_submission(&e.language, &e.program).ok().map(|b| b.program)
}

/// `GET /api/events/{id}/similarity`: per lab, the similar pairs (highest first) and clusters
/// of the counting submissions, with each pair's verdict if a judge gave one.
async fn review(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<Value>, AppError> {
    let (_, access) = super::contest::visible_event(&state, &caller.user, id).await?;
    if !access.officiates() {
        return Err(AppError::Forbidden("only the event's organisers and judges review similarity".into()));
    }
    let threshold = q.threshold.unwrap_or(0.5);
    let min_score = q.min_score.unwrap_or(0.3);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(AppError::invalid("threshold", "range", "threshold must be between 0 and 1").max(1));
    }
    if !(0.0..=1.0).contains(&min_score) {
        return Err(AppError::invalid("min_score", "range", "min_score must be between 0 and 1").max(1));
    }
    if let Some(r) = q.round
        && sqlx::query("SELECT id FROM rounds WHERE id = $1 AND event_id = $2").bind(r).bind(id).fetch_optional(&state.db.pool).await?.is_none()
    {
        return Err(AppError::invalid("round", "unknown", format!("round {r} is not a round of this event")));
    }
    let entries = counting(&state, id, q.round).await?;
    let catalogue = state.catalogue.clone();
    // Fingerprinting and comparing are CPU work: off the async threads.
    let labs = tokio::task::spawn_blocking(move || {
        let mut by_lab: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
        for e in &entries {
            by_lab.entry(e.lab.clone()).or_default().push(e);
        }
        let mut labs = Vec::new();
        for (lab, members) in by_lab {
            let base: Vec<Program> = catalogue
                .lab(&lab)
                .map(|l| l.starter.iter().filter_map(|(language, text)| Program::from_stored(language, text).ok()).collect())
                .unwrap_or_default();
            let mut unreadable = Vec::new();
            let prints: Vec<Fingerprints> = members
                .iter()
                .filter_map(|e| match program_of(e) {
                    Some(p) => Some(fingerprint(&e.id.to_string(), &p)),
                    None => {
                        unreadable.push(e.id);
                        None
                    }
                })
                .collect();
            let report = compare(&prints, &base_fingerprints(&base), threshold, min_score);
            let info: BTreeMap<String, &Entry> = members.iter().map(|e| (e.id.to_string(), *e)).collect();
            labs.push((
                lab,
                members.len(),
                report,
                info.into_iter().map(|(k, e)| (k, (e.id, e.round, e.team, e.team_name.clone(), e.school))).collect::<BTreeMap<_, _>>(),
                unreadable,
            ));
        }
        labs
    })
    .await
    .map_err(|e| anyhow::anyhow!("similarity task: {e}"))?;
    let verdicts = verdicts(&state, id).await?;
    let ids = |names: &[String]| names.iter().filter_map(|n| n.parse::<i64>().ok()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for (lab, programs, report, info, unreadable) in labs {
        let who = |name: &str| {
            info.get(name).map(|(sid, round, team, team_name, school)| json!({"submission_id": sid, "round_id": round, "team_id": team, "team": team_name, "school_id": school}))
        };
        let pairs: Vec<Value> = report
            .pairs
            .iter()
            .filter_map(|p| {
                let (a, b) = (p.a.parse::<i64>().ok()?, p.b.parse::<i64>().ok()?);
                let (lo, hi) = (a.min(b), a.max(b));
                let same_school = info.get(&p.a).map(|x| x.4) == info.get(&p.b).map(|x| x.4);
                Some(json!({"a": who(&p.a)?, "b": who(&p.b)?, "score": p.score, "compared_as": p.compared_as, "same_school": same_school,
                    "review": verdicts.get(&(lo, hi))}))
            })
            .collect();
        let clusters: Vec<Vec<i64>> = report.clusters.iter().map(|c| ids(c)).collect();
        out.push(json!({"lab_id": lab, "programs": programs, "pairs": pairs, "clusters": clusters,
            "unparsed": ids(&report.unparsed), "too_short": ids(&report.too_short), "unreadable": unreadable}));
    }
    Ok(Json(json!({"event_id": id, "round": q.round, "threshold": threshold, "min_score": min_score, "labs": out})))
}

/// The judges' verdicts of an event, by (lower, higher) submission id.
async fn verdicts(state: &AppState, event: i64) -> Result<BTreeMap<(i64, i64), Value>, AppError> {
    let rows = sqlx::query(
        "SELECT v.submission_a, v.submission_b, v.verdict, v.note, v.reviewer_id, COALESCE(u.display_name, '') AS display_name, v.at \
         FROM similarity_reviews v LEFT JOIN users u ON u.id = v.reviewer_id WHERE v.event_id = $1",
    )
    .bind(event)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        out.insert(
            (r.try_get::<i64, _>("submission_a")?, r.try_get::<i64, _>("submission_b")?),
            json!({"verdict": r.try_get::<String, _>("verdict")?, "note": r.try_get::<String, _>("note")?,
                "reviewer_id": r.try_get::<i64, _>("reviewer_id")?, "reviewer": r.try_get::<String, _>("display_name")?, "at": r.try_get::<i64, _>("at")?}),
        );
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdict {
    a: i64,
    b: i64,
    /// `cleared` (independent work, or shared only what the task forces), `referred` (to the
    /// organisers for a decision under the event's rules), or `pending` to take a verdict back.
    verdict: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/events/{id}/similarity/reviews`: a judge's verdict on a pair (audited; the
/// latest verdict on a pair replaces the earlier one).
async fn record_verdict(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<Verdict>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (_, access) = super::contest::visible_event(&state, &caller.user, id).await?;
    if !access.officiates() {
        return Err(AppError::Forbidden("only the event's organisers and judges review similarity".into()));
    }
    if !matches!(req.verdict.as_str(), "cleared" | "referred" | "pending") {
        return Err(AppError::invalid("verdict", "choice", "verdict must be cleared, referred or pending"));
    }
    let note = req.note.trim().to_string();
    if note.chars().count() > MAX_NOTE || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid("note", "length", format!("note: at most {MAX_NOTE} characters")).max(MAX_NOTE as i64));
    }
    if req.a == req.b {
        return Err(AppError::invalid("b", "same", "a pair is two different submissions"));
    }
    let (lo, hi) = (req.a.min(req.b), req.a.max(req.b));
    if !of_event(&state, id, req.a).await? {
        return Err(AppError::invalid("a", "unknown", format!("submission {} is not a submission of this event", req.a)));
    }
    if !of_event(&state, id, req.b).await? {
        return Err(AppError::invalid("b", "unknown", format!("submission {} is not a submission of this event", req.b)));
    }
    let mut tx = state.db.begin_write().await?;
    sqlx::query("DELETE FROM similarity_reviews WHERE event_id = $1 AND submission_a = $2 AND submission_b = $3")
        .bind(id)
        .bind(lo)
        .bind(hi)
        .execute(&mut *tx)
        .await?;
    if req.verdict != "pending" {
        sqlx::query(
            "INSERT INTO similarity_reviews (event_id, submission_a, submission_b, verdict, note, reviewer_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(lo)
        .bind(hi)
        .bind(&req.verdict)
        .bind(&note)
        .bind(caller.user.id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    }
    audit_in(&mut tx, &caller.user, "similarity_verdict", &format!("event_id={id} a={lo} b={hi} verdict={}", req.verdict)).await?;
    tx.commit().await?;
    Ok(Json(json!({"event_id": id, "a": lo, "b": hi, "verdict": req.verdict, "note": note})))
}

/// Whether `submission` is a contest submission of `event`.
async fn of_event(state: &AppState, event: i64, submission: i64) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT s.id FROM submissions s JOIN rounds r ON r.id = s.round_id WHERE s.id = $1 AND r.event_id = $2")
        .bind(submission)
        .bind(event)
        .fetch_optional(&state.db.pool)
        .await?
        .is_some())
}
