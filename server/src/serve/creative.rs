//! Creative works judged by people (docs/competitions.md, "Creative works"):
//! a round's rubric, the teams' entries and their files, judges assigned
//! per entry under conflict-of-interest rules, score sheets, normalisation
//! across judges, the organisers' progress dashboard, and publication into
//! the same final ranking that certificates, results and advancement read.
//!
//! A creative round is a `rounds` row without labs plus a `creative_rounds`
//! row; `contest::load_boards` and `contest::final_ranking` ask this module
//! for its boards, so everything downstream of a ranking works unchanged.
//! Judges see only the entries assigned to them (404 for the rest, as if
//! absent) and, when the organiser chose blind judging, no team, school or
//! member names. Every change is in the audit log, with ids only.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;
use sqlx::Row;

use super::auth::ActiveCaller;
use super::contest::{Access, Board, BoardRow, BoardTeam, Boards, Event, Round, coaches, managed_event, rank, visible_event, visible_round};
use super::db::User;
use super::http::{AppError, AppState, body};
use super::org::{audit_in, check_name};

/// Largest file of an entry (bytes).
pub const MAX_FILE_BYTES: usize = 8 << 20;
/// Most files of one entry.
pub const MAX_FILES: usize = 5;
/// Most bytes of all an entry's files together.
pub const MAX_ENTRY_BYTES: i64 = 20 << 20;
/// Largest program or text file (as a submission's program).
pub const MAX_TEXT_FILE_BYTES: usize = 1 << 20;
/// Most links (a video, a project page) of one entry.
pub const MAX_LINKS: usize = 3;
/// Most criteria of a rubric.
pub const MAX_CRITERIA: usize = 12;
/// Most judges per entry an organiser may ask for.
pub const MAX_JUDGES_PER_ENTRY: i64 = 10;
/// Longest description or comment (characters).
pub const MAX_TEXT: usize = 2000;
/// A judge's totals are rescaled only from this many sheets on; with fewer,
/// their spread cannot be estimated and their raw totals stand.
pub const MIN_SHEETS_TO_SCALE: usize = 2;
/// The default flag threshold: judges' normalised totals further apart than this (of 100).
pub const DEFAULT_DISAGREEMENT: f64 = 25.0;
/// Entries in a zip file we accept (the zip is stored, never unpacked).
const MAX_ZIP_ENTRIES: usize = 1000;
/// A base64 upload of the largest file, with room for the JSON around it.
const UPLOAD_BODY: usize = MAX_FILE_BYTES / 3 * 4 + (64 << 10);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events/{id}/creative-rounds", post(create_round))
        .route("/api/events/{id}/conflicts", get(list_conflicts).post(declare_conflict))
        .route("/api/events/{id}/rounds/{round}/creative", get(get_creative))
        .route("/api/events/{id}/rounds/{round}/rubric", put(put_rubric))
        .route("/api/events/{id}/rounds/{round}/teams/{team}/entry", get(get_team_entry).put(put_entry))
        .route("/api/events/{id}/rounds/{round}/teams/{team}/entry/files", post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY)))
        .route("/api/events/{id}/rounds/{round}/teams/{team}/entry/files/{file}", delete(delete_file))
        .route("/api/events/{id}/rounds/{round}/entries", get(list_entries))
        .route("/api/events/{id}/rounds/{round}/entries/{entry}", get(get_entry))
        .route("/api/events/{id}/rounds/{round}/entries/{entry}/files/{file}", get(download))
        .route("/api/events/{id}/rounds/{round}/entries/{entry}/score", put(score))
        .route("/api/events/{id}/rounds/{round}/entries/{entry}/further-judge", post(further_judge))
        .route("/api/events/{id}/rounds/{round}/assign", post(assign))
        .route("/api/events/{id}/rounds/{round}/judging", get(dashboard))
        .route("/api/events/{id}/rounds/{round}/publish", post(publish))
}

// ---------------------------------------------------------------- the pure parts: assignment and normalisation

/// An entry as assignment needs it.
#[derive(Clone, Debug)]
pub struct EntryInfo {
    pub id: i64,
    pub team_id: i64,
    pub school_id: i64,
}

/// A judge as assignment needs it: their own school, if any.
#[derive(Clone, Debug)]
pub struct JudgeInfo {
    pub id: i64,
    pub school_id: Option<i64>,
}

/// A declared conflict: a judge and a school or a team.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub judge_id: i64,
    pub school_id: Option<i64>,
    pub team_id: Option<i64>,
}

/// Whether `judge` may score `entry`: never an entry of their own school,
/// nor of a school or team they declared a conflict with.
pub fn eligible(judge: &JudgeInfo, entry: &EntryInfo, conflicts: &[Conflict]) -> bool {
    judge.school_id != Some(entry.school_id)
        && !conflicts.iter().any(|c| c.judge_id == judge.id && (c.school_id == Some(entry.school_id) || c.team_id == Some(entry.team_id)))
}

/// A fixed mixing of (entry, judge) ids (splitmix64): breaks ties between
/// equally loaded judges so the same pairs do not always sit together, and
/// gives the same answer on every machine and every run.
fn mix(entry: i64, judge: i64) -> u64 {
    let mut z = (entry as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (judge as u64).wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What [`plan`] decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// New (entry, judge) pairs, in the order they were chosen.
    pub new: Vec<(i64, i64)>,
    /// Entries that could not get `k` eligible judges.
    pub understaffed: Vec<i64>,
}

/// Tops every entry up to `k` judges, keeping the `existing` pairs. Entries
/// with the fewest eligible judges go first (so a constrained entry is not
/// left without), then by id; each takes the eligible judges with the
/// fewest entries so far, ties broken by [`mix`], then judge id. Without
/// conflicts every judge ends with the same number of entries, give or take
/// one. The answer depends only on the inputs as sets (they are sorted first).
pub fn plan(entries: &[EntryInfo], judges: &[JudgeInfo], conflicts: &[Conflict], k: usize, existing: &[(i64, i64)]) -> Plan {
    let mut judges = judges.to_vec();
    judges.sort_by_key(|j| j.id);
    judges.dedup_by_key(|j| j.id);
    let mut load: BTreeMap<i64, usize> = judges.iter().map(|j| (j.id, 0)).collect();
    let mut on: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (e, j) in existing {
        on.entry(*e).or_default().insert(*j);
        if let Some(l) = load.get_mut(j) {
            *l += 1;
        }
    }
    let mut order: Vec<(usize, i64, &EntryInfo)> = entries.iter().map(|e| (judges.iter().filter(|j| eligible(j, e, conflicts)).count(), e.id, e)).collect();
    order.sort_by_key(|(n, id, _)| (*n, *id));
    let mut out = Plan::default();
    for (_, _, e) in order {
        let have = on.entry(e.id).or_default();
        let need = k.saturating_sub(have.len());
        let mut candidates: Vec<&JudgeInfo> = judges.iter().filter(|j| !have.contains(&j.id) && eligible(j, e, conflicts)).collect();
        candidates.sort_by_key(|j| (load[&j.id], mix(e.id, j.id), j.id));
        for j in candidates.into_iter().take(need) {
            have.insert(j.id);
            *load.get_mut(&j.id).expect("every candidate is a judge") += 1;
            out.new.push((e.id, j.id));
        }
        if have.len() < k {
            out.understaffed.push(e.id);
        }
    }
    out.understaffed.sort_unstable();
    out
}

/// One judge's complete sheet for one entry: the weighted total, 0–100.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sheet {
    pub entry_id: i64,
    pub judge_id: i64,
    pub total: f64,
}

/// An entry's result across its judges.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EntryScore {
    pub entry_id: i64,
    /// The mean of the judges' raw totals.
    pub raw_mean: f64,
    /// The mean of the judges' normalised totals: the entry's score.
    pub score: f64,
    /// Per judge: (judge id, raw total, normalised total).
    pub sheets: Vec<(i64, f64, f64)>,
    /// Highest minus lowest normalised total.
    pub spread: f64,
    /// Judges disagree by more than the round's threshold.
    pub flagged: bool,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Mean and population standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt())
}

/// A weighted total on 0–100: Σ weight × points / max over Σ weight.
pub fn weighted_total(scores: &[(f64, f64, f64)]) -> f64 {
    let w: f64 = scores.iter().map(|(_, _, w)| w).sum();
    if w <= 0.0 { 0.0 } else { 100.0 * scores.iter().map(|(p, max, w)| w * p / max).sum::<f64>() / w }
}

/// Normalises the judges' totals of a round (docs/competitions.md):
/// every judge's totals become z-scores against their own mean and
/// (population) standard deviation, mapped back onto the scale of all the
/// round's totals — `M + z × S`, M and S the mean and standard deviation of
/// every sheet — and clamped to 0–100. A lenient or a harsh judge then
/// counts like an average one, and a judge who spreads their marks widely
/// no more than one who does not. A judge with fewer than
/// [`MIN_SHEETS_TO_SCALE`] sheets keeps their raw totals; one who gave every
/// entry the same total is centred (every entry gets M). An entry's score is
/// the mean of its normalised totals, flagged when they lie more than
/// `disagreement` apart. Scores are rounded to hundredths; sheets are
/// taken in (entry, judge) order, so the result does not depend on theirs.
pub fn normalise(sheets: &[Sheet], disagreement: f64) -> Vec<EntryScore> {
    let mut sheets = sheets.to_vec();
    sheets.sort_by_key(|s| (s.entry_id, s.judge_id));
    if sheets.is_empty() {
        return Vec::new();
    }
    let (m_all, s_all) = mean_sd(&sheets.iter().map(|s| s.total).collect::<Vec<_>>());
    let mut by_judge: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for s in &sheets {
        by_judge.entry(s.judge_id).or_default().push(s.total);
    }
    let stats: BTreeMap<i64, (usize, f64, f64)> = by_judge.iter().map(|(j, xs)| (*j, (xs.len(), mean_sd(xs).0, mean_sd(xs).1))).collect();
    let mut by_entry: BTreeMap<i64, Vec<(i64, f64, f64)>> = BTreeMap::new();
    for s in &sheets {
        let (n, m, sd) = stats[&s.judge_id];
        let z = if n < MIN_SHEETS_TO_SCALE {
            None
        } else if sd <= 1e-9 {
            Some(0.0)
        } else {
            Some((s.total - m) / sd)
        };
        let normalised = match z {
            None => s.total,
            Some(z) => (m_all + z * s_all).clamp(0.0, 100.0),
        };
        by_entry.entry(s.entry_id).or_default().push((s.judge_id, s.total, normalised));
    }
    by_entry
        .into_iter()
        .map(|(entry_id, list)| {
            let n = list.len() as f64;
            let raw_mean = list.iter().map(|x| x.1).sum::<f64>() / n;
            let score = list.iter().map(|x| x.2).sum::<f64>() / n;
            let hi = list.iter().map(|x| x.2).fold(f64::MIN, f64::max);
            let lo = list.iter().map(|x| x.2).fold(f64::MAX, f64::min);
            let spread = hi - lo;
            EntryScore {
                entry_id,
                raw_mean: round2(raw_mean),
                score: round2(score),
                flagged: list.len() >= 2 && spread > disagreement,
                spread: round2(spread),
                sheets: list.into_iter().map(|(j, r, x)| (j, round2(r), round2(x))).collect(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------- rounds and rubrics

/// A creative round's own settings.
#[derive(Clone, Debug)]
pub struct Creative {
    pub judging_closes_at: i64,
    pub judges_per_entry: i64,
    pub blind: bool,
    pub disagreement: f64,
    pub published_at: Option<i64>,
}

async fn creative_of(state: &AppState, round: i64) -> Result<Option<Creative>, AppError> {
    let row = sqlx::query("SELECT judging_closes_at, judges_per_entry, blind, disagreement, published_at FROM creative_rounds WHERE round_id = $1")
        .bind(round)
        .fetch_optional(&state.db.pool)
        .await?;
    row.map(|r| {
        Ok(Creative {
            judging_closes_at: r.try_get(0)?,
            judges_per_entry: r.try_get(1)?,
            blind: r.try_get::<i64, _>(2)? != 0,
            disagreement: r.try_get(3)?,
            published_at: r.try_get(4)?,
        })
    })
    .transpose()
}

/// Whether the round is a creative round (its results come from here).
pub async fn is_creative(state: &AppState, round: i64) -> Result<bool, AppError> {
    Ok(creative_of(state, round).await?.is_some())
}

/// A creative round the caller may see, or 404 (also for a round with labs).
async fn visible_creative(state: &AppState, caller: &User, event: i64, round: i64) -> Result<(Event, Access, Round, Creative), AppError> {
    let (ev, a, r) = visible_round(state, caller, event, round).await?;
    let c = creative_of(state, r.id).await?.ok_or(AppError::NotFound)?;
    Ok((ev, a, r, c))
}

/// A text in both languages.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Both {
    #[serde(rename = "zh-CN")]
    zh: String,
    en: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCriterion {
    name: Both,
    #[serde(default)]
    description: Option<Both>,
    max_points: i64,
    #[serde(default = "one")]
    weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A checked criterion: (name zh, name en, description zh, description en, max, weight).
type Criterion = (String, String, String, String, i64, f64);

fn check_long(value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.chars().count() > MAX_TEXT || v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(AppError::invalid("description", "length", format!("a description is at most {MAX_TEXT} characters")).max(MAX_TEXT as i64));
    }
    Ok(v.to_string())
}

fn check_criteria(list: &[NewCriterion]) -> Result<Vec<Criterion>, AppError> {
    if list.is_empty() || list.len() > MAX_CRITERIA {
        return Err(AppError::invalid("criteria", "count", format!("a rubric has 1–{MAX_CRITERIA} criteria")).max(MAX_CRITERIA as i64));
    }
    let mut out = Vec::new();
    for c in list {
        let zh = check_name("name", &c.name.zh, 100)?;
        let en = check_name("name", &c.name.en, 100)?;
        let (dzh, den) = match &c.description {
            Some(d) => (check_long(&d.zh)?, check_long(&d.en)?),
            None => (String::new(), String::new()),
        };
        if !(1..=100).contains(&c.max_points) {
            return Err(AppError::invalid("max_points", "range", "max_points is 1–100").max(100));
        }
        if !c.weight.is_finite() || c.weight <= 0.0 || c.weight > 100.0 {
            return Err(AppError::invalid("weight", "range", "weight is above 0 and at most 100").max(100));
        }
        out.push((zh, en, dzh, den, c.max_points, c.weight));
    }
    Ok(out)
}

async fn store_criteria(tx: &mut sqlx::Transaction<'_, sqlx::Any>, round: i64, list: &[Criterion]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM rubric_criteria WHERE round_id = $1").bind(round).execute(&mut **tx).await?;
    for (i, (zh, en, dzh, den, max, w)) in list.iter().enumerate() {
        sqlx::query(
            "INSERT INTO rubric_criteria (round_id, position, name_zh, name_en, description_zh, description_en, max_points, weight) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(round)
        .bind(i as i64)
        .bind(zh)
        .bind(en)
        .bind(dzh)
        .bind(den)
        .bind(*max)
        .bind(*w)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A rubric criterion as stored: (id, max points, weight) and its JSON.
struct StoredCriterion {
    id: i64,
    max_points: i64,
    weight: f64,
    json: Value,
}

async fn rubric(state: &AppState, round: i64) -> Result<Vec<StoredCriterion>, AppError> {
    let rows = sqlx::query(
        "SELECT id, name_zh, name_en, description_zh, description_en, max_points, weight FROM rubric_criteria WHERE round_id = $1 ORDER BY position, id",
    )
    .bind(round)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let (id, max_points, weight): (i64, i64, f64) = (r.try_get(0)?, r.try_get(5)?, r.try_get(6)?);
            Ok(StoredCriterion {
                id,
                max_points,
                weight,
                json: json!({"id": id, "name": {"zh-CN": r.try_get::<String, _>(1)?, "en": r.try_get::<String, _>(2)?},
                    "description": {"zh-CN": r.try_get::<String, _>(3)?, "en": r.try_get::<String, _>(4)?}, "max_points": max_points, "weight": weight}),
            })
        })
        .collect()
}

fn creative_json(round: &Round, c: &Creative, criteria: &[StoredCriterion]) -> Value {
    let mut v = super::contest::round_json(round);
    v["creative"] = json!({
        "judging_closes_at": c.judging_closes_at, "judges_per_entry": c.judges_per_entry, "blind": c.blind,
        "disagreement": c.disagreement, "published_at": c.published_at,
        "rubric": criteria.iter().map(|x| x.json.clone()).collect::<Vec<_>>(),
        "limits": {"max_file_bytes": MAX_FILE_BYTES, "max_files": MAX_FILES, "max_entry_bytes": MAX_ENTRY_BYTES, "max_links": MAX_LINKS,
            "extensions": EXTENSIONS.iter().map(|(e, _)| *e).collect::<Vec<_>>()},
    });
    v
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCreativeRound {
    name: String,
    opens_at: i64,
    /// Entries are handed in until then.
    closes_at: i64,
    /// Judges score until then.
    judging_closes_at: i64,
    judges_per_entry: i64,
    #[serde(default)]
    blind: bool,
    disagreement: Option<f64>,
    criteria: Vec<NewCriterion>,
}

fn check_k(k: i64) -> Result<i64, AppError> {
    if !(1..=MAX_JUDGES_PER_ENTRY).contains(&k) {
        return Err(AppError::invalid("judges_per_entry", "range", format!("judges_per_entry is 1–{MAX_JUDGES_PER_ENTRY}")).max(MAX_JUDGES_PER_ENTRY));
    }
    Ok(k)
}

/// Creates a round of a creative event with its rubric (organisers; audited).
async fn create_round(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewCreativeRound>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    if ev.kind != "creative" {
        return Err(AppError::conflict("not_creative", "judged rounds are for creative events; robot_sim events have timed rounds with labs"));
    }
    let name = check_name("name", &req.name, 100)?;
    if req.closes_at <= req.opens_at {
        return Err(AppError::invalid("closes_at", "before_open", "closes_at must be later than opens_at"));
    }
    if req.judging_closes_at <= req.closes_at {
        return Err(AppError::invalid("judging_closes_at", "before_close", "judging_closes_at must be later than closes_at"));
    }
    let k = check_k(req.judges_per_entry)?;
    let disagreement = req.disagreement.unwrap_or(DEFAULT_DISAGREEMENT);
    if !disagreement.is_finite() || disagreement <= 0.0 || disagreement > 100.0 {
        return Err(AppError::invalid("disagreement", "range", "disagreement is above 0 and at most 100").max(100));
    }
    let criteria = check_criteria(&req.criteria)?;
    let mut tx = state.db.begin_write().await?;
    // No labs and no submissions: the window is for handing in entries.
    let rid: i64 = sqlx::query(
        "INSERT INTO rounds (event_id, name, opens_at, closes_at, freeze_at, labs, submission_limit, created_at) VALUES ($1, $2, $3, $4, $4, '', 1, $5) RETURNING id",
    )
    .bind(ev.id)
    .bind(&name)
    .bind(req.opens_at)
    .bind(req.closes_at)
    .bind(super::now())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    sqlx::query("INSERT INTO creative_rounds (round_id, judging_closes_at, judges_per_entry, blind, disagreement) VALUES ($1, $2, $3, $4, $5)")
        .bind(rid)
        .bind(req.judging_closes_at)
        .bind(k)
        .bind(i64::from(req.blind))
        .bind(disagreement)
        .execute(&mut *tx)
        .await?;
    store_criteria(&mut tx, rid, &criteria).await?;
    audit_in(&mut tx, &caller.user, "creative_round_create", &format!("event_id={} round_id={rid}", ev.id)).await?;
    tx.commit().await?;
    let (_, _, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    Ok((StatusCode::CREATED, Json(creative_json(&round, &c, &rubric(&state, rid).await?))).into_response())
}

/// The round with its rubric, settings and limits (everyone who sees the round).
async fn get_creative(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round, c) = visible_creative(&state, &caller.user, id, rid).await?;
    let mut v = creative_json(&round, &c, &rubric(&state, round.id).await?);
    v["team_id"] = json!(a.team);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricBody {
    criteria: Vec<NewCriterion>,
}

/// Replaces the rubric while no judge has scored (organisers; audited).
async fn put_rubric(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<RubricBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    let criteria = check_criteria(&req.criteria)?;
    let mut tx = state.db.begin_write().await?;
    let scored: i64 = sqlx::query("SELECT COUNT(*) FROM judge_scores s JOIN creative_entries e ON e.id = s.entry_id WHERE e.round_id = $1")
        .bind(round.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if scored > 0 {
        return Err(AppError::conflict("rubric_locked", "judges have scored with this rubric; it can no longer change"));
    }
    store_criteria(&mut tx, round.id, &criteria).await?;
    audit_in(&mut tx, &caller.user, "rubric_set", &format!("event_id={} round_id={} criteria={}", ev.id, round.id, criteria.len())).await?;
    tx.commit().await?;
    Ok(Json(creative_json(&round, &c, &rubric(&state, round.id).await?)))
}

// ---------------------------------------------------------------- entries and files

/// The accepted file types: extension and kind.
const EXTENSIONS: &[(&str, &str)] = &[
    ("pdf", "pdf"),
    ("png", "image"),
    ("jpg", "image"),
    ("jpeg", "image"),
    ("gif", "image"),
    ("webp", "image"),
    ("mp4", "video"),
    ("zip", "zip"),
    ("sb3", "zip"),
    ("wasm", "program"),
    ("rhai", "program"),
    ("wat", "program"),
    ("c", "program"),
    ("cpp", "program"),
    ("h", "program"),
    ("py", "program"),
    ("js", "program"),
    ("txt", "text"),
    ("md", "text"),
    ("csv", "text"),
    ("json", "text"),
];

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// A file name: 1–100 characters, no path, no control characters, an accepted extension.
fn check_file_name(name: &str) -> Result<(String, &'static str), AppError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.starts_with('.') || n.contains(['/', '\\', ':']) || n.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "file_name", "a file name is 1–100 characters, without a folder").max(100));
    }
    let kind = extension(n).and_then(|e| EXTENSIONS.iter().find(|(x, _)| *x == e)).map(|(_, k)| *k);
    let Some(kind) = kind else {
        return Err(AppError::invalid("name", "file_type", "this type of file is not accepted (see the round's limits.extensions)"));
    };
    Ok((n.to_string(), kind))
}

/// Checks that the content is what its name says, without unpacking or running anything.
fn check_content(name: &str, bytes: &[u8]) -> Result<(), AppError> {
    let ext = extension(name).unwrap_or_default();
    let ok = match ext.as_str() {
        "pdf" => bytes.starts_with(b"%PDF-"),
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "mp4" => bytes.len() >= 8 && &bytes[4..8] == b"ftyp",
        "wasm" => bytes.starts_with(b"\0asm"),
        "zip" | "sb3" => zip_is_safe(bytes),
        _ => bytes.len() <= MAX_TEXT_FILE_BYTES && std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0),
    };
    if ok { Ok(()) } else { Err(AppError::invalid("content_base64", "file_content", "the file's content does not match its type")) }
}

/// A zip we can store and hand to judges: it opens, its entries are few,
/// their names stay inside the archive, and it does not claim to unpack
/// into something enormous (the same rules as submission bundles).
fn zip_is_safe(bytes: &[u8]) -> bool {
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return false };
    if archive.len() > MAX_ZIP_ENTRIES {
        return false;
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(i) else { return false };
        let raw = entry.name();
        if raw.contains('\\') || raw.starts_with('/') || raw.contains(':') || raw.contains('\0') || entry.enclosed_name().is_none() {
            return false;
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > qiming_grading::bundle::MAX_ZIP_UNCOMPRESSED * 4
            || (size > qiming_grading::bundle::RATIO_FLOOR && size / entry.compressed_size().max(1) > qiming_grading::bundle::MAX_RATIO)
        {
            return false;
        }
    }
    true
}

/// An https link (a video, a project page): no other scheme is ever shown to a judge as a link.
fn check_link(link: &str) -> Result<String, AppError> {
    let l = link.trim();
    let host = l.strip_prefix("https://").map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if l.len() > 500 || l.chars().any(|c| c.is_whitespace() || c.is_control()) || host.is_none_or(|h| h.is_empty() || h.contains('@')) {
        return Err(AppError::invalid("links", "link", "a link is an https:// address of at most 500 characters").max(500));
    }
    Ok(l.to_string())
}

/// The team of this event the caller may hand in for: its captain or its
/// coach. `Ok(false)` when they may see the team's entry but not change it
/// (an organiser, a member who is not the captain); 404 otherwise.
async fn team_rights(state: &AppState, caller: &User, ev: &Event, a: &Access, team: i64) -> Result<bool, AppError> {
    let row = sqlx::query("SELECT status FROM teams WHERE id = $1 AND event_id = $2").bind(team).bind(ev.id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Err(AppError::NotFound) };
    let approved = row.try_get::<String, _>(0)? == "approved";
    let coach = a.coach && coaches(state, caller, team).await?;
    let member = a.team == Some(team);
    if !coach && !member && !a.manages {
        return Err(AppError::NotFound);
    }
    let captain = member
        && sqlx::query("SELECT user_id FROM event_members WHERE event_id = $1 AND user_id = $2 AND role = 'captain'")
            .bind(ev.id)
            .bind(caller.id)
            .fetch_optional(&state.db.pool)
            .await?
            .is_some();
    Ok(approved && (coach || captain))
}

async fn entry_row(state: &AppState, round: i64, team: i64) -> Result<Option<sqlx::any::AnyRow>, AppError> {
    Ok(sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM creative_entries e WHERE e.round_id = $1 AND e.team_id = $2"))
        .bind(round)
        .bind(team)
        .fetch_optional(&state.db.pool)
        .await?)
}

const ENTRY_COLUMNS: &str = "e.id, e.round_id, e.team_id, e.title, e.description, e.links, e.submitted_at, e.updated_at";

async fn files_of(state: &AppState, entry: i64) -> Result<Vec<Value>, AppError> {
    let rows = sqlx::query("SELECT id, name, kind, size, sha256, uploaded_at FROM creative_files WHERE entry_id = $1 ORDER BY id")
        .bind(entry)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(json!({"id": r.try_get::<i64, _>(0)?, "name": r.try_get::<String, _>(1)?, "kind": r.try_get::<String, _>(2)?,
                "size": r.try_get::<i64, _>(3)?, "sha256": r.try_get::<String, _>(4)?, "uploaded_at": r.try_get::<i64, _>(5)?}))
        })
        .collect()
}

async fn entry_json(state: &AppState, r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    let id: i64 = r.try_get("id")?;
    let links: String = r.try_get("links")?;
    Ok(json!({
        "id": id, "round_id": r.try_get::<i64, _>("round_id")?, "team_id": r.try_get::<i64, _>("team_id")?,
        "title": r.try_get::<String, _>("title")?, "description": r.try_get::<String, _>("description")?,
        "links": links.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        "submitted_at": r.try_get::<i64, _>("submitted_at")?, "updated_at": r.try_get::<i64, _>("updated_at")?,
        "files": files_of(state, id).await?,
    }))
}

/// The team's entry (its members, its coach, the event's organisers): `{entry: null}` before it is handed in.
async fn get_team_entry(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, team)): Path<(i64, i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (ev, a, round, c) = visible_creative(&state, &caller.user, id, rid).await?;
    let may_change = team_rights(&state, &caller.user, &ev, &a, team).await?;
    let entry = match entry_row(&state, round.id, team).await? {
        Some(r) => Some(entry_json(&state, &r).await?),
        None => None,
    };
    let mut v = json!({"entry": entry, "may_change": may_change && state.clock.now() <= round.closes_at});
    // Once published, the team learns its score and the judges' comments (not who wrote them).
    if c.published_at.is_some()
        && let Some(e) = v["entry"]["id"].as_i64()
    {
        v["result"] = team_result(&state, round.id, team, e).await?;
    }
    Ok(Json(v))
}

async fn team_result(state: &AppState, round: i64, team: i64, entry: i64) -> Result<Value, AppError> {
    let r = sqlx::query("SELECT score, raw_mean, judges FROM creative_results WHERE round_id = $1 AND team_id = $2")
        .bind(round)
        .bind(team)
        .fetch_optional(&state.db.pool)
        .await?;
    let comments: Vec<String> = sqlx::query("SELECT comment FROM judge_scores WHERE entry_id = $1 AND comment <> '' ORDER BY criterion_id, judge_id")
        .bind(entry)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(match r {
        Some(r) => {
            json!({"score": r.try_get::<f64, _>(0)?, "raw_mean": r.try_get::<Option<f64>, _>(1)?, "judges": r.try_get::<i64, _>(2)?, "comments": comments})
        }
        None => Value::Null,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    links: Vec<String>,
}

/// Checks that the round takes entries now (409 otherwise).
fn open_for_entries(round: &Round, t: i64) -> Result<(), AppError> {
    if t < round.opens_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_not_open", "the round does not take entries yet", json!({"opens_at": round.opens_at})));
    }
    if t > round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_closed", "the round no longer takes entries", json!({"closes_at": round.closes_at})));
    }
    Ok(())
}

/// Hands in or revises the team's entry (its captain or coach, while the round is open; audited).
async fn put_entry(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, team)): Path<(i64, i64, i64)>,
    req: Result<Json<EntryBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a, round, _) = visible_creative(&state, &caller.user, id, rid).await?;
    if !team_rights(&state, &caller.user, &ev, &a, team).await? {
        return Err(AppError::Forbidden("the team's captain or coach hands in its entry".into()));
    }
    let title = check_name("title", &req.title, 100)?;
    let description = check_long(&req.description)?;
    if req.links.len() > MAX_LINKS {
        return Err(AppError::invalid("links", "count", format!("at most {MAX_LINKS} links")).max(MAX_LINKS as i64));
    }
    let links = req.links.iter().map(|l| check_link(l)).collect::<Result<Vec<_>, _>>()?.join("\n");
    let t = state.clock.now();
    open_for_entries(&round, t)?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO creative_entries (round_id, team_id, title, description, links, submitted_by, submitted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (round_id, team_id) DO UPDATE SET title = excluded.title, description = excluded.description, links = excluded.links, updated_at = excluded.updated_at",
    )
    .bind(round.id)
    .bind(team)
    .bind(&title)
    .bind(&description)
    .bind(&links)
    .bind(caller.user.id)
    .bind(t)
    .execute(&mut *tx)
    .await?;
    audit_in(&mut tx, &caller.user, "creative_entry_save", &format!("event_id={} round_id={} team_id={team}", ev.id, round.id)).await?;
    tx.commit().await?;
    let row = entry_row(&state, round.id, team).await?.ok_or_else(|| anyhow::anyhow!("entry of team {team} vanished"))?;
    Ok(Json(entry_json(&state, &row).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    name: String,
    content_base64: String,
}

/// Adds a file to the team's entry, or replaces the one of the same name
/// (its captain or coach, while the round is open; audited). Stored in the
/// database inside the same transaction that checks the entry's limits.
async fn upload(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, team)): Path<(i64, i64, i64)>,
    req: Result<Json<Upload>, JsonRejection>,
) -> Result<Response, AppError> {
    use base64::Engine as _;
    let req = body(req)?;
    let (ev, a, round, _) = visible_creative(&state, &caller.user, id, rid).await?;
    if !team_rights(&state, &caller.user, &ev, &a, team).await? {
        return Err(AppError::Forbidden("the team's captain or coach hands in its entry".into()));
    }
    let (name, kind) = check_file_name(&req.name)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.content_base64.trim())
        .map_err(|_| AppError::invalid("content_base64", "base64", "content_base64 is not valid base64"))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::PayloadTooLarge(format!("a file is at most {MAX_FILE_BYTES} bytes")));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("content_base64", "file_content", "the file is empty"));
    }
    check_content(&name, &bytes)?;
    let t = state.clock.now();
    open_for_entries(&round, t)?;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let mut tx = state.db.begin_write().await?;
    let entry: Option<i64> = sqlx::query("SELECT id FROM creative_entries WHERE round_id = $1 AND team_id = $2")
        .bind(round.id)
        .bind(team)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let Some(entry) = entry else {
        return Err(AppError::conflict("no_entry", "hand in the entry's title first, then its files"));
    };
    let others = sqlx::query("SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM creative_files WHERE entry_id = $1 AND name <> $2")
        .bind(entry)
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
    let (count, total): (i64, i64) = (others.try_get(0)?, others.try_get(1)?);
    if count as usize >= MAX_FILES {
        return Err(AppError::invalid("files", "count", format!("an entry has at most {MAX_FILES} files")).max(MAX_FILES as i64));
    }
    if total + bytes.len() as i64 > MAX_ENTRY_BYTES {
        return Err(AppError::invalid("files", "total_size", format!("an entry's files hold at most {MAX_ENTRY_BYTES} bytes together")).max(MAX_ENTRY_BYTES));
    }
    sqlx::query("DELETE FROM creative_files WHERE entry_id = $1 AND name = $2").bind(entry).bind(&name).execute(&mut *tx).await?;
    let fid: i64 = sqlx::query(
        "INSERT INTO creative_files (entry_id, name, kind, size, sha256, data, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(entry)
    .bind(&name)
    .bind(kind)
    .bind(bytes.len() as i64)
    .bind(&sha)
    .bind(bytes.as_slice())
    .bind(caller.user.id)
    .bind(t)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    sqlx::query("UPDATE creative_entries SET updated_at = $1 WHERE id = $2").bind(t).bind(entry).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "creative_file_add", &format!("event_id={} round_id={} team_id={team} file_id={fid}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({"id": fid, "name": name, "kind": kind, "size": bytes.len(), "sha256": sha, "uploaded_at": t}))).into_response())
}

/// Removes a file from the team's entry (its captain or coach, while the round is open; audited).
async fn delete_file(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, team, file)): Path<(i64, i64, i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (ev, a, round, _) = visible_creative(&state, &caller.user, id, rid).await?;
    if !team_rights(&state, &caller.user, &ev, &a, team).await? {
        return Err(AppError::Forbidden("the team's captain or coach hands in its entry".into()));
    }
    open_for_entries(&round, state.clock.now())?;
    let mut tx = state.db.begin_write().await?;
    let gone = sqlx::query("DELETE FROM creative_files WHERE id = $1 AND entry_id IN (SELECT id FROM creative_entries WHERE round_id = $2 AND team_id = $3)")
        .bind(file)
        .bind(round.id)
        .bind(team)
        .execute(&mut *tx)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit_in(&mut tx, &caller.user, "creative_file_delete", &format!("event_id={} round_id={} team_id={team} file_id={file}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- who sees an entry

/// How the caller sees an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Organiser,
    /// Assigned to score it.
    Judge,
    /// Its team's member or coach.
    Team,
}

/// An entry of the round and how the caller sees it; 404 when they may not.
async fn visible_entry(state: &AppState, caller: &User, a: &Access, round: i64, entry: i64) -> Result<(sqlx::any::AnyRow, View), AppError> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM creative_entries e WHERE e.id = $1 AND e.round_id = $2"))
        .bind(entry)
        .bind(round)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    if a.manages {
        return Ok((row, View::Organiser));
    }
    if a.judge
        && sqlx::query("SELECT judge_id FROM judge_assignments WHERE entry_id = $1 AND judge_id = $2")
            .bind(entry)
            .bind(caller.id)
            .fetch_optional(&state.db.pool)
            .await?
            .is_some()
    {
        return Ok((row, View::Judge));
    }
    let team: i64 = row.try_get("team_id")?;
    if a.team == Some(team) || (a.coach && coaches(state, caller, team).await?) {
        return Ok((row, View::Team));
    }
    Err(AppError::NotFound)
}

/// The team's name, school and members (not for a blind judge).
async fn names(state: &AppState, team: i64) -> Result<Value, AppError> {
    let t = sqlx::query("SELECT t.name, t.school_id, s.name FROM teams t JOIN schools s ON s.id = t.school_id WHERE t.id = $1")
        .bind(team)
        .fetch_one(&state.db.pool)
        .await?;
    let members: Vec<String> =
        sqlx::query("SELECT u.display_name FROM team_members m JOIN users u ON u.id = m.student_id WHERE m.team_id = $1 AND m.active = 1 ORDER BY u.id")
            .bind(team)
            .fetch_all(&state.db.pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    Ok(json!({"team": t.try_get::<String, _>(0)?, "school_id": t.try_get::<i64, _>(1)?, "school": t.try_get::<String, _>(2)?, "members": members}))
}

/// An entry as the caller may see it: a blind judge gets no team, school or member names, nor the team's id.
async fn entry_for(state: &AppState, row: &sqlx::any::AnyRow, view: View, blind: bool) -> Result<Value, AppError> {
    let mut v = entry_json(state, row).await?;
    if view == View::Judge && blind {
        if let Some(o) = v.as_object_mut() {
            o.remove("team_id");
        }
    } else if let (Some(o), Value::Object(n)) = (v.as_object_mut(), names(state, row.try_get("team_id")?).await?) {
        o.extend(n);
    }
    Ok(v)
}

/// A judge's sheet for an entry: per criterion points and comment, the overall comment, when scored.
async fn sheet(state: &AppState, entry: i64, judge: i64) -> Result<Value, AppError> {
    let a = sqlx::query("SELECT comment, scored_at, further FROM judge_assignments WHERE entry_id = $1 AND judge_id = $2")
        .bind(entry)
        .bind(judge)
        .fetch_optional(&state.db.pool)
        .await?;
    let scores = sqlx::query("SELECT criterion_id, points, comment FROM judge_scores WHERE entry_id = $1 AND judge_id = $2 ORDER BY criterion_id")
        .bind(entry)
        .bind(judge)
        .fetch_all(&state.db.pool)
        .await?;
    let scores = scores
        .iter()
        .map(|r| Ok(json!({"criterion_id": r.try_get::<i64, _>(0)?, "points": r.try_get::<f64, _>(1)?, "comment": r.try_get::<String, _>(2)?})))
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(match a {
        Some(a) => json!({"judge_id": judge, "comment": a.try_get::<Option<String>, _>(0)?, "scored_at": a.try_get::<Option<i64>, _>(1)?,
            "further": a.try_get::<i64, _>(2)? != 0, "scores": scores}),
        None => Value::Null,
    })
}

/// The entries the caller may judge or manage: organisers all, with names
/// and progress; a judge only those assigned to them (names only when the
/// round is not blind). Anyone else: 403.
async fn list_entries(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round, c) = visible_creative(&state, &caller.user, id, rid).await?;
    let rows = if a.manages {
        sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM creative_entries e WHERE e.round_id = $1 ORDER BY e.id"))
            .bind(round.id)
            .fetch_all(&state.db.pool)
            .await?
    } else if a.judge {
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM creative_entries e JOIN judge_assignments j ON j.entry_id = e.id WHERE e.round_id = $1 AND j.judge_id = $2 ORDER BY e.id"
        ))
        .bind(round.id)
        .bind(caller.user.id)
        .fetch_all(&state.db.pool)
        .await?
    } else {
        return Err(AppError::Forbidden("entries are listed for the event's organisers and judges".into()));
    };
    let view = if a.manages { View::Organiser } else { View::Judge };
    let mut out = Vec::new();
    for r in &rows {
        let mut v = entry_for(&state, r, view, c.blind).await?;
        let eid: i64 = r.try_get("id")?;
        if view == View::Judge {
            v["my_sheet"] = sheet(&state, eid, caller.user.id).await?;
        } else {
            let p = sqlx::query("SELECT COUNT(*), COUNT(scored_at) FROM judge_assignments WHERE entry_id = $1").bind(eid).fetch_one(&state.db.pool).await?;
            v["judges"] = json!(p.try_get::<i64, _>(0)?);
            v["scored"] = json!(p.try_get::<i64, _>(1)?);
        }
        out.push(v);
    }
    Ok(Json(json!({"round_id": round.id, "blind": c.blind, "entries": out})))
}

/// One entry: organisers with every sheet; its assigned judge with the
/// rubric and their own sheet; its team. Everyone else: 404.
async fn get_entry(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, entry)): Path<(i64, i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (_, a, round, c) = visible_creative(&state, &caller.user, id, rid).await?;
    let (row, view) = visible_entry(&state, &caller.user, &a, round.id, entry).await?;
    let mut v = entry_for(&state, &row, view, c.blind).await?;
    v["rubric"] = json!(rubric(&state, round.id).await?.into_iter().map(|x| x.json).collect::<Vec<_>>());
    match view {
        View::Judge => v["my_sheet"] = sheet(&state, entry, caller.user.id).await?,
        View::Organiser => {
            let judges: Vec<i64> = sqlx::query("SELECT judge_id FROM judge_assignments WHERE entry_id = $1 ORDER BY judge_id")
                .bind(entry)
                .fetch_all(&state.db.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut sheets = Vec::new();
            for j in judges {
                sheets.push(sheet(&state, entry, j).await?);
            }
            v["sheets"] = json!(sheets);
        }
        View::Team => {
            if c.published_at.is_some() {
                v["result"] = team_result(&state, round.id, row.try_get("team_id")?, entry).await?;
            }
        }
    }
    Ok(Json(v))
}

/// A file of an entry, for those who may see the entry; always as a download.
async fn download(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, entry, file)): Path<(i64, i64, i64, i64)>,
) -> Result<Response, AppError> {
    let (_, a, round, _) = visible_creative(&state, &caller.user, id, rid).await?;
    visible_entry(&state, &caller.user, &a, round.id, entry).await?;
    let row = sqlx::query("SELECT name, data FROM creative_files WHERE id = $1 AND entry_id = $2")
        .bind(file)
        .bind(entry)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let name: String = row.try_get(0)?;
    let data: Vec<u8> = row.try_get(1)?;
    let kind = match extension(&name).unwrap_or_default().as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "zip" | "sb3" => "application/zip",
        "wasm" => "application/wasm",
        "txt" | "md" | "csv" | "json" | "rhai" | "wat" | "c" | "cpp" | "h" | "py" | "js" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let encoded: String =
        name.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            // Never shown inline: a file of a contestant runs nothing in the judges' page.
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"entry-{entry}-{file}\"; filename*=UTF-8''{encoded}")),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
        ],
        data,
    )
        .into_response())
}

// ---------------------------------------------------------------- scoring

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionScore {
    criterion_id: i64,
    points: f64,
    #[serde(default)]
    comment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBody {
    scores: Vec<CriterionScore>,
    #[serde(default)]
    comment: String,
}

/// Whether judging of the round is over: published, or past its close.
fn judging_closed(c: &Creative, t: i64) -> bool {
    c.published_at.is_some() || t > c.judging_closes_at
}

/// The assigned judge's sheet for an entry: points for every criterion (0
/// to its maximum, in halves) with a comment each; saved again to revise,
/// until the round's judging closes (audited).
async fn score(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, entry)): Path<(i64, i64, i64)>,
    req: Result<Json<ScoreBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a, round, c) = visible_creative(&state, &caller.user, id, rid).await?;
    let (_, view) = visible_entry(&state, &caller.user, &a, round.id, entry).await?;
    if view != View::Judge {
        return Err(AppError::Forbidden("only the judges assigned to an entry score it".into()));
    }
    let t = state.clock.now();
    if t <= round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "entries_open", "entries are scored after the round closes", json!({"closes_at": round.closes_at})));
    }
    if judging_closed(&c, t) {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "judging_closed",
            "judging of this round is closed",
            json!({"judging_closes_at": c.judging_closes_at}),
        ));
    }
    let criteria = rubric(&state, round.id).await?;
    let ids: BTreeSet<i64> = req.scores.iter().map(|s| s.criterion_id).collect();
    if ids.len() != req.scores.len() || ids != criteria.iter().map(|c| c.id).collect::<BTreeSet<_>>() {
        return Err(AppError::invalid("scores", "incomplete", "give points for every criterion of the rubric, once each"));
    }
    for s in &req.scores {
        let max = criteria.iter().find(|c| c.id == s.criterion_id).map_or(0, |c| c.max_points);
        if !s.points.is_finite() || s.points < 0.0 || s.points > max as f64 || (s.points * 2.0).fract() != 0.0 {
            return Err(AppError::invalid("points", "range", format!("points are 0–{max} in steps of 0.5")).max(max));
        }
        check_long(&s.comment)?;
    }
    let comment = check_long(&req.comment)?;
    let mut tx = state.db.begin_write().await?;
    for s in &req.scores {
        sqlx::query(
            "INSERT INTO judge_scores (entry_id, judge_id, criterion_id, points, comment) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (entry_id, judge_id, criterion_id) DO UPDATE SET points = excluded.points, comment = excluded.comment",
        )
        .bind(entry)
        .bind(caller.user.id)
        .bind(s.criterion_id)
        .bind(s.points)
        .bind(s.comment.trim())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE judge_assignments SET comment = $1, scored_at = $2 WHERE entry_id = $3 AND judge_id = $4")
        .bind(&comment)
        .bind(t)
        .bind(entry)
        .bind(caller.user.id)
        .execute(&mut *tx)
        .await?;
    audit_in(&mut tx, &caller.user, "creative_score", &format!("event_id={} round_id={} entry_id={entry}", ev.id, round.id)).await?;
    tx.commit().await?;
    let mut v = sheet(&state, entry, caller.user.id).await?;
    v["total"] = json!(round2(weighted_total(
        &req.scores
            .iter()
            .map(|s| {
                let c = criteria.iter().find(|c| c.id == s.criterion_id).expect("checked above");
                (s.points, c.max_points as f64, c.weight)
            })
            .collect::<Vec<_>>()
    )));
    Ok(Json(v))
}

// ---------------------------------------------------------------- assignment and conflicts

async fn judges_of(state: &AppState, event: i64) -> Result<Vec<JudgeInfo>, AppError> {
    sqlx::query("SELECT u.id, u.school_id FROM event_members m JOIN users u ON u.id = m.user_id WHERE m.event_id = $1 AND m.role = 'judge' ORDER BY u.id")
        .bind(event)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok(JudgeInfo { id: r.try_get(0)?, school_id: r.try_get(1)? }))
        .collect()
}

async fn conflicts_of(state: &AppState, event: i64) -> Result<Vec<Conflict>, AppError> {
    sqlx::query("SELECT judge_id, school_id, team_id FROM judge_conflicts WHERE event_id = $1 ORDER BY id")
        .bind(event)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok(Conflict { judge_id: r.try_get(0)?, school_id: r.try_get(1)?, team_id: r.try_get(2)? }))
        .collect()
}

/// The round's entries of approved teams.
async fn entries_of(state: &AppState, round: i64) -> Result<Vec<EntryInfo>, AppError> {
    sqlx::query("SELECT e.id, e.team_id, t.school_id FROM creative_entries e JOIN teams t ON t.id = e.team_id WHERE e.round_id = $1 AND t.status = 'approved' ORDER BY e.id")
        .bind(round)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok(EntryInfo { id: r.try_get(0)?, team_id: r.try_get(1)?, school_id: r.try_get(2)? }))
        .collect()
}

async fn assignments_of(state: &AppState, round: i64) -> Result<Vec<(i64, i64)>, AppError> {
    sqlx::query("SELECT entry_id, judge_id FROM judge_assignments WHERE round_id = $1 ORDER BY entry_id, judge_id")
        .bind(round)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Removes assignments (and their sheets) that break a conflict rule, in
/// unpublished rounds of the event: a conflict declared late voids the sheet.
async fn drop_conflicting(tx: &mut sqlx::Transaction<'_, sqlx::Any>, event: i64) -> Result<u64, AppError> {
    let bad = "SELECT a.entry_id, a.judge_id FROM judge_assignments a JOIN creative_entries e ON e.id = a.entry_id JOIN teams t ON t.id = e.team_id \
               JOIN users u ON u.id = a.judge_id JOIN creative_rounds c ON c.round_id = a.round_id \
               WHERE t.event_id = $1 AND c.published_at IS NULL AND (u.school_id = t.school_id OR EXISTS (SELECT 1 FROM judge_conflicts k WHERE k.event_id = $1 \
               AND k.judge_id = a.judge_id AND (k.school_id = t.school_id OR k.team_id = t.id)))";
    let pairs: Vec<(i64, i64)> =
        sqlx::query(bad).bind(event).fetch_all(&mut **tx).await?.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, AppError>>()?;
    for (e, j) in &pairs {
        sqlx::query("DELETE FROM judge_scores WHERE entry_id = $1 AND judge_id = $2").bind(e).bind(j).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM judge_assignments WHERE entry_id = $1 AND judge_id = $2").bind(e).bind(j).execute(&mut **tx).await?;
    }
    Ok(pairs.len() as u64)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    judges_per_entry: Option<i64>,
}

/// After entries close: tops every entry up to k judges, balanced and
/// deterministic ([`plan`]), honouring every conflict; running it again
/// keeps what is there (organisers; audited).
async fn assign(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Option<Json<AssignBody>>,
) -> Result<Json<Value>, AppError> {
    let req = req.map(|Json(b)| b).unwrap_or_default();
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    let t = state.clock.now();
    if t <= round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "entries_open", "judges are assigned once entries close", json!({"closes_at": round.closes_at})));
    }
    if c.published_at.is_some() {
        return Err(AppError::conflict("results_published", "the round's results are published"));
    }
    let k = check_k(req.judges_per_entry.unwrap_or(c.judges_per_entry))?;
    let mut tx = state.db.begin_write().await?;
    let dropped = drop_conflicting(&mut tx, ev.id).await?;
    sqlx::query("UPDATE creative_rounds SET judges_per_entry = $1 WHERE round_id = $2").bind(k).bind(round.id).execute(&mut *tx).await?;
    tx.commit().await?;
    let (entries, judges, conflicts) = (entries_of(&state, round.id).await?, judges_of(&state, ev.id).await?, conflicts_of(&state, ev.id).await?);
    let existing = assignments_of(&state, round.id).await?;
    let p = plan(&entries, &judges, &conflicts, k as usize, &existing);
    let mut tx = state.db.begin_write().await?;
    for (e, j) in &p.new {
        sqlx::query("INSERT INTO judge_assignments (entry_id, judge_id, round_id, assigned_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(e)
            .bind(j)
            .bind(round.id)
            .bind(t)
            .execute(&mut *tx)
            .await?;
    }
    audit_in(&mut tx, &caller.user, "creative_assign", &format!("event_id={} round_id={} k={k} new={} dropped={dropped}", ev.id, round.id, p.new.len()))
        .await?;
    tx.commit().await?;
    Ok(Json(json!({
        "round_id": round.id, "judges_per_entry": k, "assigned": p.new.len(), "dropped": dropped, "understaffed": p.understaffed,
        "assignments": p.new.iter().map(|(e, j)| json!({"entry_id": e, "judge_id": j})).collect::<Vec<_>>(),
    })))
}

/// Adds one more eligible judge to an entry (the least loaded, as in
/// [`plan`]) — for an entry flagged for disagreement (organisers; audited).
async fn further_judge(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, entry)): Path<(i64, i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, a, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    visible_entry(&state, &caller.user, &a, round.id, entry).await?;
    if c.published_at.is_some() {
        return Err(AppError::conflict("results_published", "the round's results are published"));
    }
    let entries = entries_of(&state, round.id).await?;
    let Some(e) = entries.iter().find(|e| e.id == entry) else { return Err(AppError::NotFound) };
    let existing = assignments_of(&state, round.id).await?;
    let have = existing.iter().filter(|(x, _)| *x == entry).count();
    let p = plan(std::slice::from_ref(e), &judges_of(&state, ev.id).await?, &conflicts_of(&state, ev.id).await?, have + 1, &existing);
    let Some((_, judge)) = p.new.first().copied() else {
        return Err(AppError::conflict("no_eligible_judge", "every eligible judge already scores this entry; add a judge from another school"));
    };
    let mut tx = state.db.begin_write().await?;
    sqlx::query("INSERT INTO judge_assignments (entry_id, judge_id, round_id, further, assigned_at) VALUES ($1, $2, $3, 1, $4)")
        .bind(entry)
        .bind(judge)
        .bind(round.id)
        .bind(state.clock.now())
        .execute(&mut *tx)
        .await?;
    audit_in(&mut tx, &caller.user, "creative_further_judge", &format!("event_id={} round_id={} entry_id={entry} judge_id={judge}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok(Json(json!({"entry_id": entry, "judge_id": judge})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConflict {
    /// The judge (organisers name one; a judge declares their own).
    judge_id: Option<i64>,
    school_id: Option<i64>,
    team_id: Option<i64>,
}

fn conflict_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    Ok(json!({"id": r.try_get::<i64, _>(0)?, "judge_id": r.try_get::<i64, _>(1)?, "school_id": r.try_get::<Option<i64>, _>(2)?,
        "team_id": r.try_get::<Option<i64>, _>(3)?, "declared_by": r.try_get::<i64, _>(4)?, "declared_at": r.try_get::<i64, _>(5)?}))
}

/// Declared conflicts: organisers every judge's; a judge their own.
async fn list_conflicts(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    let q = "SELECT id, judge_id, school_id, team_id, declared_by, declared_at FROM judge_conflicts WHERE event_id = $1";
    let rows = if a.manages {
        sqlx::query(&format!("{q} ORDER BY id")).bind(ev.id).fetch_all(&state.db.pool).await?
    } else if a.judge {
        sqlx::query(&format!("{q} AND judge_id = $2 ORDER BY id")).bind(ev.id).bind(caller.user.id).fetch_all(&state.db.pool).await?
    } else {
        return Err(AppError::Forbidden("conflicts are for the event's organisers and judges".into()));
    };
    Ok(Json(json!({"conflicts": rows.iter().map(conflict_json).collect::<Result<Vec<_>, _>>()?})))
}

/// Declares that a judge must not score a school's or a team's entries: a
/// judge for themselves, an organiser for any judge of the event. Existing
/// assignments that now conflict are removed with their sheets (audited).
async fn declare_conflict(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewConflict>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    let judge = match (a.manages, a.judge, req.judge_id) {
        (true, _, Some(j)) => j,
        (_, true, None) => caller.user.id,
        (_, true, Some(j)) if j == caller.user.id => j,
        (true, _, None) => return Err(AppError::invalid("judge_id", "required", "name the judge (judge_id)")),
        _ => return Err(AppError::Forbidden("a judge declares their own conflicts; organisers any judge's".into())),
    };
    if !judges_of(&state, ev.id).await?.iter().any(|j| j.id == judge) {
        return Err(AppError::invalid("judge_id", "unknown", "judge_id is not a judge of this event"));
    }
    match (req.school_id, req.team_id) {
        (Some(s), None) => {
            if sqlx::query("SELECT id FROM schools WHERE id = $1").bind(s).fetch_optional(&state.db.pool).await?.is_none() {
                return Err(AppError::invalid("school_id", "unknown", "school_id is not a school"));
            }
        }
        (None, Some(t)) => {
            if sqlx::query("SELECT id FROM teams WHERE id = $1 AND event_id = $2").bind(t).bind(ev.id).fetch_optional(&state.db.pool).await?.is_none() {
                return Err(AppError::invalid("team_id", "unknown", "team_id is not a team of this event"));
            }
        }
        _ => return Err(AppError::invalid("school_id", "choice", "send school_id or team_id (one of them)")),
    }
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO judge_conflicts (event_id, judge_id, school_id, team_id, declared_by, declared_at) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id, judge_id, school_id, team_id, declared_by, declared_at",
    )
    .bind(ev.id)
    .bind(judge)
    .bind(req.school_id)
    .bind(req.team_id)
    .bind(caller.user.id)
    .bind(state.clock.now())
    .fetch_one(&mut *tx)
    .await?;
    let dropped = drop_conflicting(&mut tx, ev.id).await?;
    audit_in(&mut tx, &caller.user, "judge_conflict", &format!("event_id={} judge_id={judge} dropped={dropped}", ev.id)).await?;
    tx.commit().await?;
    let mut v = conflict_json(&row)?;
    v["dropped_assignments"] = json!(dropped);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

// ---------------------------------------------------------------- results

/// A criterion's points, maximum and weight.
type Points = (f64, f64, f64);

/// Every complete sheet of the round, as weighted totals.
async fn sheets_of(state: &AppState, round: i64) -> Result<Vec<Sheet>, AppError> {
    let criteria = rubric(state, round).await?;
    let rows = sqlx::query(
        "SELECT a.entry_id, a.judge_id, s.criterion_id, s.points FROM judge_assignments a JOIN judge_scores s ON s.entry_id = a.entry_id AND s.judge_id = a.judge_id \
         WHERE a.round_id = $1 AND a.scored_at IS NOT NULL ORDER BY a.entry_id, a.judge_id, s.criterion_id",
    )
    .bind(round)
    .fetch_all(&state.db.pool)
    .await?;
    let mut by: BTreeMap<(i64, i64), Vec<Points>> = BTreeMap::new();
    for r in &rows {
        let cid: i64 = r.try_get(2)?;
        if let Some(c) = criteria.iter().find(|c| c.id == cid) {
            by.entry((r.try_get(0)?, r.try_get(1)?)).or_default().push((r.try_get(3)?, c.max_points as f64, c.weight));
        }
    }
    Ok(by.into_iter().map(|((e, j), s)| Sheet { entry_id: e, judge_id: j, total: weighted_total(&s) }).collect())
}

/// A ranking from entry scores, through the same `contest::rank` as every
/// other round: score, then the time the entry was handed in, then team id.
/// Teams without a judged entry are listed last, without a time.
async fn board_from(state: &AppState, round: &Round, scores: &BTreeMap<i64, (f64, i64)>) -> Result<Board, AppError> {
    let teams = sqlx::query("SELECT id, name, division_id, school_id FROM teams WHERE event_id = $1 AND status = 'approved'")
        .bind(round.event_id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok(BoardTeam { id: r.try_get(0)?, name: r.try_get(1)?, division_id: r.try_get(2)?, school_id: r.try_get(3)? }))
        .collect::<Result<Vec<_>, AppError>>()?;
    let rows: Vec<BoardRow> = scores
        .iter()
        .map(|(team, (score, at))| BoardRow {
            id: *team,
            team_id: *team,
            lab_id: String::new(),
            done: true,
            failed: false,
            score: *score,
            submitted_at: *at,
            final_of: None,
            chosen_at: None,
        })
        .collect();
    Ok(rank(&teams, &rows, |_| true, |_| false, |_| false))
}

/// The round's current results: (team id → (score, submitted_at)), and per entry its scores.
async fn current(state: &AppState, round: i64, c: &Creative) -> Result<(BTreeMap<i64, (f64, i64)>, Vec<EntryScore>), AppError> {
    let scores = normalise(&sheets_of(state, round).await?, c.disagreement);
    let teams: BTreeMap<i64, (i64, i64)> = sqlx::query("SELECT id, team_id, submitted_at FROM creative_entries WHERE round_id = $1")
        .bind(round)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<_, AppError>>()?;
    let by_team = scores.iter().filter_map(|s| teams.get(&s.entry_id).map(|(t, at)| (*t, (s.score, *at)))).collect();
    Ok((by_team, scores))
}

/// The published ranking of a creative round for `contest::final_ranking`:
/// `None` for another kind of round; 409 `round_not_final` before publication.
pub async fn final_board(state: &AppState, round: &Round) -> Result<Option<Board>, AppError> {
    let Some(c) = creative_of(state, round.id).await? else { return Ok(None) };
    if c.published_at.is_none() {
        return Err(AppError::conflict("round_not_final", "the round's results are not published yet (POST …/publish)"));
    }
    Ok(Some(published(state, round).await?))
}

async fn published(state: &AppState, round: &Round) -> Result<Board, AppError> {
    let scores = sqlx::query("SELECT team_id, score, submitted_at FROM creative_results WHERE round_id = $1 AND submitted_at IS NOT NULL")
        .bind(round.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<BTreeMap<i64, (f64, i64)>, AppError>>()?;
    board_from(state, round, &scores).await
}

/// The boards `contest::load_boards` serves for a creative round (`None`
/// for another kind): the published ranking on every board once published;
/// before that, every team without a score, so the leaderboard tells
/// nobody anything the organisers have not published.
pub async fn boards(state: &AppState, round: &Round) -> Result<Option<Boards>, AppError> {
    let Some(c) = creative_of(state, round.id).await? else { return Ok(None) };
    let board = if c.published_at.is_some() { published(state, round).await? } else { board_from(state, round, &BTreeMap::new()).await? };
    let final_ = c.published_at.map(|_| board.clone());
    Ok(Some(Boards { version: round.board_version, live: board.clone(), frozen: board, final_ }))
}

/// The organisers' progress dashboard: entries × judges (done or pending),
/// per-judge counts, flagged entries, and the results as they stand — raw
/// means beside normalised scores, with the ranking they would publish.
async fn dashboard(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    let assigned = sqlx::query(
        "SELECT a.entry_id, a.judge_id, a.scored_at, a.further, u.display_name FROM judge_assignments a JOIN users u ON u.id = a.judge_id \
         WHERE a.round_id = $1 ORDER BY a.entry_id, a.judge_id",
    )
    .bind(round.id)
    .fetch_all(&state.db.pool)
    .await?;
    let (by_team, scores) = current(&state, round.id, &c).await?;
    let score_of: BTreeMap<i64, &EntryScore> = scores.iter().map(|s| (s.entry_id, s)).collect();
    let mut judges: BTreeMap<i64, (String, i64, i64)> = BTreeMap::new();
    for j in judges_of(&state, ev.id).await? {
        let name: String = sqlx::query("SELECT display_name FROM users WHERE id = $1").bind(j.id).fetch_one(&state.db.pool).await?.try_get(0)?;
        judges.insert(j.id, (name, 0, 0));
    }
    let mut cells: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let (mut done, mut pending) = (0, 0);
    for r in &assigned {
        let (e, j): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
        let is_done = r.try_get::<Option<i64>, _>(2)?.is_some();
        let entry = judges.entry(j).or_insert((r.try_get(4)?, 0, 0));
        entry.1 += 1;
        if is_done {
            entry.2 += 1;
            done += 1;
        } else {
            pending += 1;
        }
        let sheet = score_of.get(&e).and_then(|s| s.sheets.iter().find(|x| x.0 == j));
        cells.entry(e).or_default().push(json!({"judge_id": j, "status": if is_done { "done" } else { "pending" }, "further": r.try_get::<i64, _>(3)? != 0,
            "raw": sheet.map(|x| x.1), "normalised": sheet.map(|x| x.2)}));
    }
    let entries =
        sqlx::query("SELECT e.id, e.team_id, e.title, t.name FROM creative_entries e JOIN teams t ON t.id = e.team_id WHERE e.round_id = $1 ORDER BY e.id")
            .bind(round.id)
            .fetch_all(&state.db.pool)
            .await?;
    let mut flagged = 0;
    let mut out = Vec::new();
    for r in &entries {
        let e: i64 = r.try_get(0)?;
        let s = score_of.get(&e);
        let js = cells.remove(&e).unwrap_or_default();
        flagged += i64::from(s.is_some_and(|s| s.flagged));
        out.push(json!({"id": e, "team_id": r.try_get::<i64, _>(1)?, "title": r.try_get::<String, _>(2)?, "team": r.try_get::<String, _>(3)?,
            "understaffed": (js.len() as i64) < c.judges_per_entry, "judges": js,
            "raw_mean": s.map(|s| s.raw_mean), "score": s.map(|s| s.score), "spread": s.map(|s| s.spread), "flagged": s.is_some_and(|s| s.flagged)}));
    }
    let board = board_from(&state, &round, &by_team).await?;
    Ok(Json(json!({
        "round_id": round.id, "judges_per_entry": c.judges_per_entry, "blind": c.blind, "disagreement": c.disagreement,
        "closes_at": round.closes_at, "judging_closes_at": c.judging_closes_at, "published_at": c.published_at,
        "totals": {"entries": entries.len(), "assignments": done + pending, "done": done, "pending": pending, "flagged": flagged},
        "judges": judges.iter().map(|(id, (name, a, d))| json!({"id": id, "name": name, "assigned": a, "done": d, "pending": a - d})).collect::<Vec<_>>(),
        "entries": out,
        "ranking": board.iter().map(|(d, e)| json!({"division_id": d, "entries": e})).collect::<Vec<_>>(),
    })))
}

/// Publishes the results once entries have closed and every assigned sheet
/// is in: judging closes, each team's score is stored as computed now, and
/// the ranking feeds the leaderboard, certificates, the results workbook
/// and advancement. Idempotent (organisers; audited).
async fn publish(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round, c) = visible_creative(&state, &caller.user, ev.id, rid).await?;
    if let Some(at) = c.published_at {
        return Ok(Json(json!({"round_id": round.id, "published_at": at, "already": true})));
    }
    let t = state.clock.now();
    if t <= round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "entries_open", "results are published after entries close", json!({"closes_at": round.closes_at})));
    }
    let pending: i64 = sqlx::query("SELECT COUNT(*) FROM judge_assignments WHERE round_id = $1 AND scored_at IS NULL")
        .bind(round.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    if pending > 0 {
        return Err(AppError::typed(StatusCode::CONFLICT, "judging_pending", format!("{pending} sheet(s) are not scored yet"), json!({"pending": pending})));
    }
    let (_, scores) = current(&state, round.id, &c).await?;
    let entries = sqlx::query(
        "SELECT e.id, e.team_id, e.submitted_at FROM creative_entries e JOIN teams t ON t.id = e.team_id WHERE e.round_id = $1 AND t.status = 'approved'",
    )
    .bind(round.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut tx = state.db.begin_write().await?;
    let mut n = 0;
    for r in &entries {
        let (e, team, at): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let s = scores.iter().find(|s| s.entry_id == e);
        // An entry no judge scored has no result: it is listed without a time.
        sqlx::query("INSERT INTO creative_results (round_id, team_id, entry_id, score, raw_mean, judges, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(round.id)
            .bind(team)
            .bind(e)
            .bind(s.map_or(0.0, |s| s.score))
            .bind(s.map(|s| s.raw_mean))
            .bind(s.map_or(0, |s| s.sheets.len() as i64))
            .bind(s.map(|_| at))
            .execute(&mut *tx)
            .await?;
        n += 1;
    }
    sqlx::query("UPDATE creative_rounds SET published_at = $1, judging_closes_at = CASE WHEN judging_closes_at < $1 THEN judging_closes_at ELSE $1 END WHERE round_id = $2")
        .bind(t)
        .bind(round.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rounds SET finalised_at = $1, board_version = board_version + 1 WHERE id = $2").bind(t).bind(round.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "creative_publish", &format!("event_id={} round_id={} results={n}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "published_at": t, "results": n, "already": false})))
}
