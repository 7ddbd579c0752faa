//! Item calibration from the server's own sittings: the bank's items are calibrated
//! (`grading::irt::calibrate`, MML/EM; 2PL, or GPCM for a literacy with partial-credit
//! items) on every submitted sitting of a population, one dimension per literacy, and
//! stored as a new version with its date and N. Adaptive item selection, the θ stored
//! when a sitting is scored, and the reports then use the newest calibration's
//! parameters, and the bank's prior parameters (`irt::prior_item`) for the items it
//! does not cover. docs/assessment-delivery.md, "Calibration", documents it.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiming_curriculum::ItemBank;
use qiming_curriculum::meta::LITERACIES;
use qiming_grading::irt::{self, CalibrationFile, CalibrationOptions, Levels, MISSING, Model, ReportingScale, Responses};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::http::{AppError, AppState, body};
use super::item_review::{self, TakerGroups};
use super::now;
use super::org::audit_in;

/// Fewest sittings with answers on a literacy for it to be calibrated (fewer: left on the priors).
pub const DEFAULT_MIN_TAKERS: i64 = 100;
/// The smallest `min_takers` a request may ask for: MML on fewer people says little.
pub const LEAST_MIN_TAKERS: i64 = 20;
/// Fewest sittings that must have been given an item for it to be calibrated.
pub const MIN_ITEM_N: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/calibrations", get(list).post(create)).merge(item_review::routes())
}

/// One literacy of a stored calibration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredLiteracy {
    pub literacy: String,
    /// Sittings with at least one answer on the literacy.
    pub takers: usize,
    /// The calibration file (`qiming assess calibrate --json`'s format) without persons.
    pub calibration: CalibrationFile,
}

/// The `parameters` column.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stored {
    pub literacies: Vec<StoredLiteracy>,
    /// Literacies not calibrated, and why (too few takers, the calibration failed).
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// The review rows (DIF and fit) of every calibrated literacy: stored in
    /// `calibration_flags`, not in the parameters (`item_review.rs`).
    #[serde(skip)]
    pub findings: Vec<item_review::Finding>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Skipped {
    pub literacy: String,
    pub takers: usize,
    pub reason: String,
}

/// Item parameters in use for a population: the bank's priors, overridden by the newest
/// calibration's items.
#[derive(Clone, Debug)]
pub struct Parameters {
    pub items: BTreeMap<String, irt::Item>,
    /// The calibration in use: (row id, version), or None (priors only).
    pub calibration: Option<(i64, i64)>,
}

impl Parameters {
    /// What the parameters are, for reports and logs.
    pub fn source(&self) -> String {
        match self.calibration {
            Some((_, v)) => format!("server calibration v{v} (bank priors for items it does not cover)"),
            None => "bank prior parameters".into(),
        }
    }
}

/// `students`/`teachers` → the bank's population name.
fn bank_population(population: &str) -> &'static str {
    if population == "teachers" { "teacher" } else { "student" }
}

/// The parameters for `population` (`students` or `teachers`) now.
pub async fn parameters(state: &AppState, population: &str) -> Result<Parameters, AppError> {
    let mut items: BTreeMap<String, irt::Item> =
        state.catalogue.items.population(bank_population(population)).map(|i| (i.id.clone(), irt::prior_item(i))).collect();
    let row = sqlx::query("SELECT id, version, parameters FROM calibrations WHERE population = $1 ORDER BY version DESC LIMIT 1")
        .bind(population)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(Parameters { items, calibration: None }) };
    let text: String = row.try_get("parameters")?;
    let stored: Stored = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("calibration {}: {e}", row.try_get::<i64, _>("id").unwrap_or(0)))?;
    for lit in &stored.literacies {
        for e in &lit.calibration.items {
            // Only items still in the bank: a retired id keeps no parameters alive.
            if let Some(slot) = items.get_mut(&e.id) {
                *slot = e.item(lit.calibration.model);
            }
        }
    }
    Ok(Parameters { items, calibration: Some((row.try_get("id")?, row.try_get("version")?)) })
}

/// The scores of every submitted sitting of a population: (sitting id, item id, points).
async fn sitting_scores(state: &AppState, population: &str) -> Result<Vec<(i64, String, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT si.sitting_id, si.item_id, si.points FROM sitting_items si JOIN sittings s ON s.id = si.sitting_id \
         JOIN assessments a ON a.id = s.assessment_id WHERE a.population = $1 AND s.submitted_at IS NOT NULL AND s.points IS NOT NULL AND si.points IS NOT NULL \
         ORDER BY si.sitting_id, si.item_id",
    )
    .bind(population)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("sitting_id")?, r.try_get("item_id")?, r.try_get("points")?))).collect()
}

/// Calibrates every literacy of `population` on `scores` (deterministic; the same scores give
/// the same parameters on any thread count). Items given to fewer than [`MIN_ITEM_N`] sittings,
/// and literacies with fewer than `min_takers` sittings, are left out. Each calibrated
/// literacy's items are then checked for DIF between the `groups` of the sittings' takers and
/// for misfit (`Stored::findings`).
pub fn calibrate_scores(
    bank: &ItemBank,
    population: &str,
    scores: &[(i64, String, i64)],
    groups: &BTreeMap<i64, TakerGroups>,
    min_takers: usize,
    threads: usize,
) -> Stored {
    let mut out = Stored::default();
    for (literacy, _, _) in LITERACIES {
        let mut given: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, item, _) in scores {
            if bank.get(item).is_some_and(|i| i.literacy == *literacy && i.population == bank_population(population)) {
                *given.entry(item.as_str()).or_default() += 1;
            }
        }
        let items: Vec<&str> = given.iter().filter(|(_, n)| **n >= MIN_ITEM_N).map(|(id, _)| *id).collect();
        let column: BTreeMap<&str, usize> = items.iter().enumerate().map(|(j, id)| (*id, j)).collect();
        let mut persons: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
        for (sitting, item, points) in scores {
            if let Some(&j) = column.get(item.as_str()) {
                let max = i64::from(bank.get(item).map_or(1, |i| i.max_points()));
                persons.entry(*sitting).or_insert_with(|| vec![MISSING; items.len()])[j] = (*points).clamp(0, max) as u8;
            }
        }
        let takers = persons.len();
        if items.is_empty() || takers < min_takers {
            if takers > 0 || !items.is_empty() {
                out.skipped.push(Skipped { literacy: (*literacy).into(), takers, reason: format!("{takers} sittings, fewer than {min_takers}") });
            }
            continue;
        }
        let responses = Responses {
            persons: persons.keys().map(|s| format!("sitting-{s}")).collect(),
            items: items.iter().map(|s| s.to_string()).collect(),
            scores: persons.values().flatten().copied().collect(),
            lines: (0..takers as u64).map(|p| p + 2).collect(),
        };
        let polytomous = responses.scores.iter().any(|&s| s != MISSING && s > 1);
        let model = if polytomous { Model::Gpcm } else { Model::TwoPl };
        let options = CalibrationOptions { threads, ..CalibrationOptions::new(model) };
        match irt::calibrate(&responses, &options) {
            Ok(cal) => {
                let of_rows: Vec<TakerGroups> = persons.keys().map(|s| groups.get(s).cloned().unwrap_or_default()).collect();
                out.findings.extend(item_review::findings(literacy, &responses, &cal, &of_rows, threads));
                let mut file = CalibrationFile::from_calibration(&cal, &ReportingScale::calibration_cohort(), &Levels::default());
                file.persons.clear();
                out.literacies.push(StoredLiteracy { literacy: (*literacy).into(), takers, calibration: file });
            }
            Err(e) => out.skipped.push(Skipped { literacy: (*literacy).into(), takers, reason: e.to_string() }),
        }
    }
    out
}

fn summary(row: &sqlx::any::AnyRow, with_items: bool) -> Result<Value, AppError> {
    let text: String = row.try_get("parameters")?;
    let stored: Stored = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
    let literacies: Vec<Value> = stored
        .literacies
        .iter()
        .map(|l| {
            let mut v = json!({
                "literacy": l.literacy, "takers": l.takers, "model": l.calibration.model, "items": l.calibration.items.len(),
                "iterations": l.calibration.iterations, "converged": l.calibration.converged, "reliability": l.calibration.reliability,
                "excluded": l.calibration.excluded,
            });
            if with_items {
                v["parameters"] = json!(l.calibration.items);
            }
            v
        })
        .collect();
    Ok(json!({
        "id": row.try_get::<i64, _>("id")?, "population": row.try_get::<String, _>("population")?, "version": row.try_get::<i64, _>("version")?,
        "created_at": row.try_get::<i64, _>("created_at")?, "created_by": row.try_get::<i64, _>("created_by")?,
        "takers": row.try_get::<i64, _>("takers")?, "items": row.try_get::<i64, _>("items")?,
        "literacies": literacies, "skipped": stored.skipped,
    }))
}

const COLUMNS: &str = "id, population, version, created_at, created_by, takers, items, parameters";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    population: Option<String>,
}

/// Every stored calibration, newest first (staff: item parameters are no one's personal data).
async fn list(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Query(q): Query<ListQuery>) -> Result<Json<Value>, AppError> {
    if caller.user.role == "student" {
        return Err(AppError::Forbidden("your role may not read calibrations".into()));
    }
    let population = q.population.unwrap_or_default();
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM calibrations WHERE population = $1 OR $2 = '' ORDER BY id DESC"))
        .bind(&population)
        .bind(&population)
        .fetch_all(&state.db.pool)
        .await?;
    let out = rows.iter().map(|r| summary(r, false)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"calibrations": out})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCalibration {
    /// `students` or `teachers`.
    population: String,
    /// Fewest sittings per literacy (default [`DEFAULT_MIN_TAKERS`]).
    min_takers: Option<i64>,
}

/// Calibrates the bank on every submitted sitting of a population and stores the result as
/// the population's next version (platform admin: it changes every school's adaptive tests).
async fn create(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewCalibration>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    if !caller.user.is_platform_admin() {
        return Err(AppError::Forbidden("only the platform admin calibrates the item bank".into()));
    }
    if !matches!(req.population.as_str(), "students" | "teachers") {
        return Err(AppError::invalid("population", "choice", "population must be \"students\" or \"teachers\""));
    }
    let min_takers = req.min_takers.unwrap_or(DEFAULT_MIN_TAKERS);
    if !(LEAST_MIN_TAKERS..=1_000_000).contains(&min_takers) {
        return Err(AppError::invalid("min_takers", "range", format!("min_takers must be {LEAST_MIN_TAKERS}–1000000")));
    }
    let scores = sitting_scores(&state, &req.population).await?;
    let groups = item_review::taker_groups(&state, &req.population).await?;
    let catalogue = state.catalogue.clone();
    let population = req.population.clone();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    // MML/EM takes seconds on large data: off the async threads.
    let stored = tokio::task::spawn_blocking(move || calibrate_scores(&catalogue.items, &population, &scores, &groups, min_takers as usize, threads))
        .await
        .map_err(|e| anyhow::anyhow!("calibration task: {e}"))?;
    if stored.literacies.is_empty() {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "too_few_sittings",
            format!("no literacy has {min_takers} submitted sittings to calibrate on"),
            json!({"skipped": stored.skipped}),
        ));
    }
    let takers = stored.literacies.iter().map(|l| l.takers).max().unwrap_or(0) as i64;
    let items = stored.literacies.iter().map(|l| l.calibration.items.len()).sum::<usize>() as i64;
    let text = serde_json::to_string(&stored).map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
    let mut tx = state.db.pool.begin().await?;
    let version: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 FROM calibrations WHERE population = $1")
        .bind(&req.population)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let id: i64 = sqlx::query(
        "INSERT INTO calibrations (population, version, created_at, created_by, takers, items, parameters) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&req.population)
    .bind(version)
    .bind(now())
    .bind(caller.user.id)
    .bind(takers)
    .bind(items)
    .bind(&text)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    item_review::store(&mut tx, id, &stored.findings).await?;
    audit_in(&mut tx, &caller.user, "calibration_create", &format!("calibration_id={id} population={} version={version} takers={takers}", req.population))
        .await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM calibrations WHERE id = $1")).bind(id).fetch_one(&state.db.pool).await?;
    Ok((StatusCode::CREATED, Json(summary(&row, true)?)).into_response())
}
