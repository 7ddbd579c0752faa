//! Items flagged for review by people after a calibration: Mantel–Haenszel DIF between the
//! groups the server records (a taker's gender where the school recorded it, their school's
//! urban/rural locality), matched on bands of the calibration's EAP θ, and misfit (infit or
//! outfit outside [`FIT_RANGE`]). Every analysed item gets a row per comparison (too little
//! data is a row too, never a silent gap); B/C and misfit rows are open flags that the
//! platform admin keeps, sends for revision or retires (the item is then retired on this
//! server: new tests, blueprints and quiz forms leave it out). docs/assessment.md,
//! "Review on the server", documents the rules.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiming_grading::irt::{self, Calibration, Responses};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::audit_in;

/// Width of the θ bands takers are matched on (EAP on the calibration's N(0, 1) scale).
pub const THETA_BAND: f64 = 0.25;
/// θ beyond ±this shares the outermost band (a handful of extreme takers each).
pub const THETA_LIMIT: f64 = 4.0;
/// Fewest takers of each group who were given an item for its DIF to be estimated.
pub const MIN_GROUP: usize = 10;
/// Fewest takers with a recorded group who were given an item for its DIF to be estimated.
pub const MIN_ITEM: usize = 40;
/// Mean squares outside this range are misfit (Rasch-family convention for MNSQ).
pub const FIT_RANGE: (f64, f64) = (0.7, 1.3);
/// Longest reviewer's note (characters).
pub const MAX_NOTE: usize = 1000;

/// The comparisons: (name, reference group, focal group). The reference group is the one
/// the focal group is compared against: male and urban takers, as DIF studies usually do.
pub const COMPARISONS: [(&str, &str, &str); 2] = [("gender", "m", "f"), ("locality", "urban", "rural")];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/calibrations/{id}/review", get(review)).route("/api/calibrations/{id}/flags/{flag}/review", post(decide))
}

/// The groups of one sitting's taker, as recorded (None: not recorded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TakerGroups {
    /// `m` or `f` (users.gender).
    pub gender: Option<String>,
    /// `urban` or `rural` (the taker's school's locality).
    pub locality: Option<String>,
}

impl TakerGroups {
    /// `Some(true)` in the focal group of `comparison`, `Some(false)` in the reference group.
    fn focal(&self, comparison: &str) -> Option<bool> {
        let (_, reference, focal) = COMPARISONS.iter().find(|c| c.0 == comparison)?;
        let value = if comparison == "gender" { self.gender.as_deref()? } else { self.locality.as_deref()? };
        (value == *focal || value == *reference).then_some(value == *focal)
    }
}

/// One row of the review: an item's DIF in one comparison, or its fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub literacy: String,
    pub item_id: String,
    /// `dif` or `fit`.
    pub kind: &'static str,
    /// `gender`, `locality` or `fit`.
    pub comparison: &'static str,
    /// ETS delta (dif) or the mean square furthest from 1 (fit).
    pub statistic: Option<f64>,
    /// A, B, C, `insufficient`, `not_estimable`, `not_analysed` (dif); `ok`, `misfit` (fit).
    pub category: String,
    /// Whether people must review it (B, C, misfit).
    pub flagged: bool,
    /// The rest of the statistics.
    pub details: Value,
}

/// θ's band: 0 for θ ≤ −[`THETA_LIMIT`] + [`THETA_BAND`], then one per [`THETA_BAND`].
fn band(theta: f64) -> usize {
    let t = if theta.is_finite() { theta.clamp(-THETA_LIMIT, THETA_LIMIT) } else { 0.0 };
    let top = (2.0 * THETA_LIMIT / THETA_BAND) as usize - 1;
    (((t + THETA_LIMIT) / THETA_BAND).floor() as usize).min(top)
}

/// Every taker's EAP θ band from the calibrated items except `without` (by id): the matching
/// criterion once DIF items are taken out of it.
fn purified_strata(responses: &Responses, cal: &Calibration, without: &BTreeSet<&str>, threads: usize) -> Vec<usize> {
    let j_count = responses.items.len();
    let params: BTreeMap<&str, &irt::Item> = cal.items.iter().map(|c| (c.id.as_str(), &c.item)).collect();
    let used: Vec<bool> = responses.items.iter().map(|id| params.contains_key(id.as_str()) && !without.contains(id.as_str())).collect();
    let items: Vec<irt::Item> =
        responses.items.iter().map(|id| params.get(id.as_str()).map_or_else(|| irt::Item::dichotomous(1.0, 0.0, 0.0), |it| (*it).clone())).collect();
    let x: Vec<u8> = responses.scores.iter().enumerate().map(|(k, &v)| if used[k % j_count] { v } else { irt::MISSING }).collect();
    // The grid the calibration scores on (`CalibrationOptions::new`: 81 points over ±6).
    let grid = irt::score::Grid::normal(81, 6.0);
    irt::score::eap_scores(&x, j_count, &items, &grid, threads).iter().map(|(theta, _, _)| band(*theta)).collect()
}

/// The review rows of one literacy's calibration: `responses` is what it was calibrated on
/// (one row per sitting) and `groups[i]` the groups of row i's taker. Deterministic (whatever
/// `threads`).
pub fn findings(literacy: &str, responses: &Responses, cal: &Calibration, groups: &[TakerGroups], threads: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    // Matched on θ, not on total score: sittings were given different items (adaptive tests,
    // blueprint forms), so their totals are no common yardstick; θ on the calibrated scale is.
    let strata: Vec<usize> = cal.persons.iter().map(|p| band(p.theta)).collect();
    for (comparison, reference, focal) in COMPARISONS {
        let membership: Vec<Option<bool>> = groups.iter().map(|g| g.focal(comparison)).collect();
        let first = irt::mantel_haenszel_matched(responses, &membership, &strata, reference, focal);
        // Two stages (purification, Holland and Thayer): an item with DIF pulls one group's θ
        // down, so at equal θ that group is abler and sound items seem to favour it. Items
        // found B or C at first leave the matching θ, which is estimated again from the rest;
        // the classes come from the second stage.
        let suspect: BTreeSet<&str> = first
            .items
            .iter()
            .filter(|d| matches!(d.class, "B" | "C") && d.n_reference >= MIN_GROUP && d.n_focal >= MIN_GROUP && d.n_reference + d.n_focal >= MIN_ITEM)
            .map(|d| d.id.as_str())
            .collect();
        let report = if suspect.is_empty() || cal.items.len() < suspect.len() + 2 {
            first.clone()
        } else {
            irt::mantel_haenszel_matched(responses, &membership, &purified_strata(responses, cal, &suspect, threads), reference, focal)
        };
        for item in &cal.items {
            let (statistic, category, details) = match report.items.iter().find(|d| d.id == item.id) {
                None => (None, "not_analysed".to_string(), json!({"reference": reference, "focal": focal, "reason": "partial_credit"})),
                Some(d) => {
                    let enough = d.n_reference >= MIN_GROUP && d.n_focal >= MIN_GROUP && d.n_reference + d.n_focal >= MIN_ITEM;
                    let category = match (enough, d.class) {
                        (false, _) => "insufficient",
                        (true, "-") => "not_estimable",
                        (true, class) => class,
                    };
                    let shown = |v: Option<f64>| if enough { v } else { None };
                    let details = json!({
                        "reference": reference, "focal": focal, "n_reference": d.n_reference, "n_focal": d.n_focal,
                        "odds_ratio": shown(d.odds_ratio), "se": shown(d.se), "chi_square": enough.then_some(d.chi_square),
                        "p_value": enough.then_some(d.p_value), "favours": if enough { d.favours } else { "neither" }, "matched_without": &suspect,
                    });
                    (shown(d.delta), category.to_string(), details)
                }
            };
            let flagged = matches!(category.as_str(), "B" | "C");
            out.push(Finding { literacy: literacy.into(), item_id: item.id.clone(), kind: "dif", comparison, statistic, category, flagged, details });
        }
    }
    for item in &cal.items {
        let outside = |v: f64| !(FIT_RANGE.0..=FIT_RANGE.1).contains(&v);
        let misfit = outside(item.infit) || outside(item.outfit);
        let worst = if (item.infit - 1.0).abs() >= (item.outfit - 1.0).abs() { item.infit } else { item.outfit };
        let r = |v: f64| irt::file::round(v, 4);
        out.push(Finding {
            literacy: literacy.into(),
            item_id: item.id.clone(),
            kind: "fit",
            comparison: "fit",
            statistic: Some(r(worst)),
            category: if misfit { "misfit" } else { "ok" }.into(),
            flagged: misfit,
            // `over`: more predictable than the model expects (less worrying, and common on short
            // tests, whose shrunk EAPs push mean squares down); `under`: noisier than expected.
            details: json!({"infit": r(item.infit), "outfit": r(item.outfit), "n": item.n, "range": [FIT_RANGE.0, FIT_RANGE.1],
                "direction": if !misfit { "none" } else if worst < 1.0 { "over" } else { "under" }}),
        });
    }
    out
}

/// The groups of every submitted sitting of `population`, by sitting id.
pub async fn taker_groups(state: &AppState, population: &str) -> Result<BTreeMap<i64, TakerGroups>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, u.gender, sc.locality FROM sittings s JOIN assessments a ON a.id = s.assessment_id \
         LEFT JOIN users u ON u.id = s.taker_id LEFT JOIN schools sc ON sc.id = u.school_id \
         WHERE a.population = $1 AND s.submitted_at IS NOT NULL ORDER BY s.id",
    )
    .bind(population)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, TakerGroups { gender: r.try_get("gender")?, locality: r.try_get("locality")? }))).collect()
}

/// Stores a calibration's review rows (inside its transaction).
pub async fn store(tx: &mut sqlx::Transaction<'_, sqlx::Any>, calibration: i64, findings: &[Finding]) -> Result<(), AppError> {
    for f in findings {
        // A missing statistic is written as a NULL literal: PostgreSQL, through the `Any`
        // driver, refuses a float bound after a NULL one in the same prepared statement.
        let statistic = if f.statistic.is_some() { "$9" } else { "NULL" };
        let query = format!(
            "INSERT INTO calibration_flags (calibration_id, literacy, item_id, kind, comparison, category, details, state, statistic) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {statistic})"
        );
        let mut q = sqlx::query(&query)
            .bind(calibration)
            .bind(&f.literacy)
            .bind(&f.item_id)
            .bind(f.kind)
            .bind(f.comparison)
            .bind(&f.category)
            .bind(f.details.to_string())
            .bind(f.flagged.then_some("open"));
        if let Some(v) = f.statistic {
            q = q.bind(v);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Item ids retired on this server after a review.
pub async fn retired(state: &AppState) -> Result<BTreeSet<String>, AppError> {
    let rows = sqlx::query("SELECT item_id FROM item_statuses WHERE status = 'retired'").fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| Ok(r.try_get("item_id")?)).collect()
}

/// The first characters of an item's text before any code block, for a list of items.
fn summary(text: &str) -> String {
    const LEN: usize = 120;
    let prose = text.split("```").next().filter(|p| !p.trim().is_empty()).unwrap_or(text);
    let flat: String = prose.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LEN { flat } else { flat.chars().take(LEN).collect::<String>() + "…" }
}

const FLAG_COLUMNS: &str = "id, literacy, item_id, kind, comparison, statistic, category, details, state, reviewer_id, reviewed_at, note";

fn flag_json(state: &AppState, row: &sqlx::any::AnyRow, retired: &BTreeSet<String>) -> Result<Value, AppError> {
    let item_id: String = row.try_get("item_id")?;
    let comparison: String = row.try_get("comparison")?;
    let details: Value = serde_json::from_str(&row.try_get::<String, _>("details")?).map_err(|e| anyhow::anyhow!("flag details: {e}"))?;
    let item = state.catalogue.items.get(&item_id).map_or(Value::Null, |it| {
        json!({
            "stem": {"zh-CN": summary(&it.stem.zh), "en": summary(&it.stem.en)}, "type": it.kind.name(),
            "status": if retired.contains(&item_id) { "retired" } else { it.status.as_str() }, "bank_status": it.status,
        })
    });
    Ok(json!({
        "id": row.try_get::<i64, _>("id")?, "literacy": row.try_get::<String, _>("literacy")?, "item_id": item_id,
        "kind": row.try_get::<String, _>("kind")?, "comparison": comparison, "statistic": row.try_get::<Option<f64>, _>("statistic")?,
        "category": row.try_get::<String, _>("category")?, "details": details, "state": row.try_get::<Option<String>, _>("state")?,
        "reviewer_id": row.try_get::<Option<i64>, _>("reviewer_id")?, "reviewed_at": row.try_get::<Option<i64>, _>("reviewed_at")?,
        "note": row.try_get::<Option<String>, _>("note")?, "item": item,
    }))
}

/// `GET /api/calibrations/{id}/review`: the calibration's flags (with each item's text summary
/// and status on this server) and every analysed item's result; staff, like the calibrations.
async fn review(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    if caller.user.role == "student" {
        return Err(AppError::Forbidden("your role may not read calibrations".into()));
    }
    let cal = sqlx::query("SELECT id, population, version, created_at FROM calibrations WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let retired = retired(&state).await?;
    let rows = sqlx::query(&format!("SELECT {FLAG_COLUMNS} FROM calibration_flags WHERE calibration_id = $1 ORDER BY literacy, item_id, kind, comparison"))
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?;
    let (mut flags, mut results) = (Vec::new(), Vec::new());
    for r in &rows {
        if r.try_get::<Option<String>, _>("state")?.is_some() {
            flags.push(flag_json(&state, r, &retired)?);
        } else {
            let details: Value = serde_json::from_str(&r.try_get::<String, _>("details")?).map_err(|e| anyhow::anyhow!("flag details: {e}"))?;
            results.push(json!({
                "id": r.try_get::<i64, _>("id")?, "literacy": r.try_get::<String, _>("literacy")?, "item_id": r.try_get::<String, _>("item_id")?, "kind": r.try_get::<String, _>("kind")?,
                "comparison": r.try_get::<String, _>("comparison")?, "statistic": r.try_get::<Option<f64>, _>("statistic")?,
                "category": r.try_get::<String, _>("category")?, "details": details,
            }));
        }
    }
    Ok(Json(json!({
        "calibration": {"id": cal.try_get::<i64, _>("id")?, "population": cal.try_get::<String, _>("population")?,
            "version": cal.try_get::<i64, _>("version")?, "created_at": cal.try_get::<i64, _>("created_at")?},
        "rules": {
            "matching": "eap_theta_band", "purification": "two_stage", "theta_band": THETA_BAND, "min_group": MIN_GROUP, "min_item": MIN_ITEM, "fit_range": [FIT_RANGE.0, FIT_RANGE.1],
            "comparisons": COMPARISONS.iter().map(|(c, r, f)| json!({"comparison": c, "reference": r, "focal": f})).collect::<Vec<_>>(),
        },
        "flags": flags,
        "not_flagged": results,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// `keep`, `revise` or `retire`.
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/calibrations/{id}/flags/{flag}/review`: the platform admin's decision on a flag
/// (it may retire an item for every school, as a calibration changes every school's tests).
/// The latest decision replaces the earlier one; every decision is audited (`item_review`).
async fn decide(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, flag)): Path<(i64, i64)>,
    req: Result<Json<Decision>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    if caller.user.role == "student" {
        return Err(AppError::Forbidden("your role may not read calibrations".into()));
    }
    let row = sqlx::query("SELECT item_id, state FROM calibration_flags WHERE id = $1 AND calibration_id = $2")
        .bind(flag)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    if !caller.user.is_platform_admin() {
        return Err(AppError::Forbidden("only the platform admin reviews flagged items".into()));
    }
    let new_state = match req.decision.as_str() {
        "keep" => "kept",
        "revise" => "revised",
        "retire" => "retired",
        _ => return Err(AppError::invalid("decision", "choice", "decision must be keep, revise or retire")),
    };
    let note = req.note.trim().to_string();
    if note.chars().count() > MAX_NOTE || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid("note", "length", format!("note: at most {MAX_NOTE} characters")).max(MAX_NOTE as i64));
    }
    let item_id: String = row.try_get("item_id")?;
    if row.try_get::<Option<String>, _>("state")?.is_none() {
        return Err(AppError::conflict("not_flagged", format!("flag {flag} ({item_id}) needs no review: its result is not a flag")));
    }
    let t = now();
    let mut tx = state.db.begin_write().await?;
    sqlx::query("UPDATE calibration_flags SET state = $1, reviewer_id = $2, reviewed_at = $3, note = $4 WHERE id = $5")
        .bind(new_state)
        .bind(caller.user.id)
        .bind(t)
        .bind(&note)
        .bind(flag)
        .execute(&mut *tx)
        .await?;
    if new_state == "retired" {
        sqlx::query(
            "INSERT INTO item_statuses (item_id, status, flag_id, set_by, set_at) VALUES ($1, 'retired', $2, $3, $4) \
             ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, flag_id = excluded.flag_id, set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(&item_id)
        .bind(flag)
        .bind(caller.user.id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
    } else {
        // Taking back this flag's own retirement brings the item back into use.
        sqlx::query("DELETE FROM item_statuses WHERE item_id = $1 AND flag_id = $2").bind(&item_id).bind(flag).execute(&mut *tx).await?;
    }
    audit_in(&mut tx, &caller.user, "item_review", &format!("calibration_id={id} flag_id={flag} item_id={item_id} decision={}", req.decision)).await?;
    tx.commit().await?;
    let retired = retired(&state).await?;
    let row = sqlx::query(&format!("SELECT {FLAG_COLUMNS} FROM calibration_flags WHERE id = $1")).bind(flag).fetch_one(&state.db.pool).await?;
    Ok(Json(flag_json(&state, &row, &retired)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_quarter_logits_with_shared_ends() {
        assert_eq!(band(-9.0), 0);
        assert_eq!(band(-3.8), 0);
        assert_eq!(band(-3.74), 1);
        assert_eq!(band(0.0), 16);
        assert_eq!(band(0.24), 16);
        assert_eq!(band(0.25), 17);
        assert_eq!(band(4.0), 31);
        assert_eq!(band(f64::NAN), 16);
    }

    #[test]
    fn summaries_stop_before_code_and_at_120_characters() {
        assert_eq!(summary("为什么？\n\n```rhai\nlet x = 1;\n```"), "为什么？");
        assert_eq!(summary("```rhai\nstop();\n```"), "```rhai stop(); ```");
        assert_eq!(summary(&"长".repeat(130)).chars().count(), 121);
    }

    #[test]
    fn groups_map_to_reference_and_focal() {
        let g = TakerGroups { gender: Some("f".into()), locality: Some("urban".into()) };
        assert_eq!(g.focal("gender"), Some(true));
        assert_eq!(g.focal("locality"), Some(false));
        assert_eq!(TakerGroups::default().focal("gender"), None);
    }
}
