//! Scores for reports: one IRT dimension per literacy and population (docs/assessment.md), item
//! parameters from calibration files or calibrated on the fly over the whole input (every year
//! together, so common items put the years on one scale), EAP θ and SE, the reporting scale
//! (500/100) and the five levels.

use std::collections::BTreeMap;

use qiming_curriculum::ItemBank;
use qiming_curriculum::meta::LITERACIES;
use qiming_grading::irt::score::{Grid, eap_scores};
use qiming_grading::irt::{CalibrationFile, CalibrationOptions, Item, Levels, MISSING, Model, ReportingScale, Responses, calibrate};
use serde::Serialize;

use super::input::{Input, Population};

/// The four literacies, in `meta::LITERACIES` order.
pub const LITERACY_COUNT: usize = 4;

/// One taker's result on one literacy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Score {
    pub theta: f64,
    /// Posterior SD of θ.
    pub theta_se: f64,
    /// Reporting-scale score (rounded to 0.1).
    pub scale: f64,
    /// Its standard error on the reporting scale (rounded to 0.1).
    pub scale_se: f64,
    /// 1..=5.
    pub level: u8,
    /// Items answered.
    pub answered: usize,
}

/// How one literacy of one population was scaled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dimension {
    pub population: Population,
    pub literacy: String,
    /// `calibration file` or the model calibrated on the fly.
    pub source: String,
    pub items: usize,
    pub takers: usize,
    /// Items left out by the calibration (nobody answered them, or everyone alike).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

/// Every taker's scores: `scores[taker][literacy]`, None where they answered no item of it.
#[derive(Clone, Debug)]
pub struct Scored {
    pub scores: Vec<[Option<Score>; LITERACY_COUNT]>,
    pub dimensions: Vec<Dimension>,
    pub levels: Levels,
}

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoringError {
    /// An answered item has no parameters in the calibration files given.
    #[error(
        "item {0:?} is answered in the input but has no parameters in the calibration files given (calibrate it, or leave out --calibration to calibrate on the fly)"
    )]
    NotCalibrated(String),
    /// The calibration on the fly failed.
    #[error("calibrating {literacy} for the {population}: {message}")]
    Calibration { population: String, literacy: String, message: String },
}

/// Scores every taker. `calibrations`: item parameters to use (all items answered must be in
/// them); empty to calibrate each literacy of each population on the input itself.
pub fn score(input: &Input, bank: &ItemBank, calibrations: &[CalibrationFile], levels: &Levels, threads: usize) -> Result<Scored, ScoringError> {
    let mut given: BTreeMap<String, Item> = BTreeMap::new();
    for file in calibrations {
        for e in &file.items {
            given.insert(e.id.clone(), e.item(file.model));
        }
    }
    let given = (!calibrations.is_empty()).then_some((&given, "calibration file"));
    score_with(input, bank, given, levels, threads)
}

/// Scores every taker with the item parameters `given` (every answered item must be in them;
/// the `&str` names their source in [`Dimension::source`]), or, with None, calibrates each
/// literacy of each population on the input. The school server gives its stored calibration
/// (or the bank's prior parameters) here.
pub fn score_with(
    input: &Input,
    bank: &ItemBank,
    given: Option<(&BTreeMap<String, Item>, &str)>,
    levels: &Levels,
    threads: usize,
) -> Result<Scored, ScoringError> {
    let scale = ReportingScale::calibration_cohort();
    let grid = Grid::normal(81, 6.0);
    let mut scores = vec![[None; LITERACY_COUNT]; input.takers.len()];
    let mut dimensions = Vec::new();
    for population in [Population::Students, Population::Teachers] {
        let members: Vec<usize> = (0..input.takers.len()).filter(|&i| input.takers[i].population == population).collect();
        if members.is_empty() {
            continue;
        }
        for (l, (literacy, _, _)) in LITERACIES.iter().enumerate() {
            let mut items: Vec<String> = members
                .iter()
                .flat_map(|&i| input.takers[i].responses.iter())
                .filter(|r| bank.get(&r.item).is_some_and(|it| it.literacy == *literacy))
                .map(|r| r.item.clone())
                .collect();
            items.sort();
            items.dedup();
            if items.is_empty() {
                continue;
            }
            let column: BTreeMap<&str, usize> = items.iter().enumerate().map(|(j, id)| (id.as_str(), j)).collect();
            let persons: Vec<usize> =
                members.iter().copied().filter(|&i| input.takers[i].responses.iter().any(|r| column.contains_key(r.item.as_str()))).collect();
            let mut x = vec![MISSING; persons.len() * items.len()];
            for (p, &i) in persons.iter().enumerate() {
                for r in &input.takers[i].responses {
                    if let Some(&j) = column.get(r.item.as_str()) {
                        x[p * items.len() + j] = u8::try_from(r.points).unwrap_or(u8::MAX - 1);
                    }
                }
            }
            let (params, source, excluded): (Vec<Option<Item>>, String, Vec<String>) = if let Some((given, label)) = given {
                let mut params = Vec::new();
                for id in &items {
                    params.push(Some(given.get(id).cloned().ok_or_else(|| ScoringError::NotCalibrated(id.clone()))?));
                }
                (params, label.to_string(), Vec::new())
            } else {
                let polytomous = x.iter().any(|&s| s != MISSING && s > 1);
                let model = if polytomous { Model::Gpcm } else { Model::TwoPl };
                let responses = Responses {
                    persons: persons.iter().map(|&i| input.takers[i].id.clone()).collect(),
                    items: items.clone(),
                    scores: x.clone(),
                    lines: (0..persons.len() as u64).map(|p| p + 2).collect(),
                };
                let options = CalibrationOptions { threads, ..CalibrationOptions::new(model) };
                let cal = calibrate(&responses, &options).map_err(|e| ScoringError::Calibration {
                    population: population.name().into(),
                    literacy: (*literacy).into(),
                    message: e.to_string(),
                })?;
                let by_id: BTreeMap<&str, &Item> = cal.items.iter().map(|c| (c.id.as_str(), &c.item)).collect();
                (
                    items.iter().map(|id| by_id.get(id.as_str()).map(|&it| it.clone())).collect(),
                    format!("{} calibrated on the input", model.name()),
                    cal.excluded.iter().map(|e| e.id.clone()).collect(),
                )
            };
            // Score on the items that have parameters (an excluded item carries no information).
            let keep: Vec<usize> = (0..items.len()).filter(|&j| params[j].is_some()).collect();
            let kept_items: Vec<Item> = keep.iter().filter_map(|&j| params[j].clone()).collect();
            if kept_items.is_empty() {
                continue;
            }
            let mut kx = vec![MISSING; persons.len() * keep.len()];
            for p in 0..persons.len() {
                for (k, &j) in keep.iter().enumerate() {
                    let s = x[p * items.len() + j];
                    // A score above the calibrated item's range is capped at its top category.
                    kx[p * keep.len() + k] = if s == MISSING { MISSING } else { s.min(kept_items[k].max_score() as u8) };
                }
            }
            let estimates = eap_scores(&kx, keep.len(), &kept_items, &grid, threads);
            for (p, &i) in persons.iter().enumerate() {
                let (theta, se, answered) = estimates[p];
                let s = round1(scale.score(theta));
                scores[i][l] = Some(Score { theta, theta_se: se, scale: s, scale_se: round1(scale.se(se)), level: levels.level(s), answered });
            }
            dimensions.push(Dimension { population, literacy: (*literacy).into(), source, items: keep.len(), takers: persons.len(), excluded });
        }
    }
    Ok(Scored { scores, dimensions, levels: levels.clone() })
}

/// Rounds to one decimal (stable report text).
pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
