//! The calibration file: the JSON `qiming assess calibrate --json` writes, which is also the item bank a CAT reads and the truth a simulation records.

use serde::{Deserialize, Serialize};

use super::calibrate::{Calibration, ExcludedItem};
use super::model::{Item, Model};
use super::score::{LEVEL_NAMES, Levels, ReportingScale};

/// One item in a calibration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemEntry {
    /// Item id.
    pub id: String,
    /// Discrimination.
    pub a: f64,
    /// Difficulty (GPCM: the mean of the step difficulties).
    pub b: f64,
    /// Lower asymptote (3PL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Step difficulties (GPCM only; one step for a dichotomous item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<f64>>,
    /// Infit mean square.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infit: Option<f64>,
    /// Outfit mean square.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outfit: Option<f64>,
    /// Students presented the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Standard errors (with `--item-se`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se: Option<SeEntry>,
    /// Content category, for content balancing in a CAT (not written by calibrate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl ItemEntry {
    /// The item's parameters under `model`.
    pub fn item(&self, model: Model) -> Item {
        match (model, &self.steps) {
            (Model::Gpcm, Some(steps)) if !steps.is_empty() => Item { a: self.a, steps: steps.clone(), c: 0.0 },
            (Model::Rasch, _) => Item::dichotomous(1.0, self.b, 0.0),
            _ => Item::dichotomous(self.a, self.b, self.c.unwrap_or(0.0)),
        }
    }

    /// An entry for `item` (values rounded to 6 decimals: far below any standard error, and stable text).
    pub fn new(id: &str, model: Model, item: &Item) -> ItemEntry {
        ItemEntry {
            id: id.to_string(),
            a: round(item.a, 6),
            b: round(item.location(), 6),
            c: (model == Model::ThreePl).then(|| round(item.c, 6)),
            steps: (model == Model::Gpcm).then(|| item.steps.iter().map(|&s| round(s, 6)).collect()),
            infit: None,
            outfit: None,
            n: None,
            se: None,
            category: None,
        }
    }
}

/// Standard errors of an item's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeEntry {
    /// Of a (absent for Rasch, where a is fixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    /// Of b (GPCM: of the mean of the steps).
    pub b: f64,
    /// Of c (3PL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Of each step (GPCM only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<f64>>,
}

/// One student in a calibration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonEntry {
    /// Student id.
    pub id: String,
    /// θ (EAP; in a truth file, the generating value).
    pub theta: f64,
    /// Posterior SD (absent in a truth file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se: Option<f64>,
    /// Items answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<usize>,
    /// Reporting-scale score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Proficiency level 1..=5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
}

/// The reporting scale and levels used for `score` and `level`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleEntry {
    /// θ mean of the reference cohort.
    pub reference_mean: f64,
    /// θ SD of the reference cohort.
    pub reference_sd: f64,
    /// Reported mean.
    pub mean: f64,
    /// Reported SD.
    pub sd: f64,
    /// Cut scores between the five levels.
    pub cuts: Vec<f64>,
    /// Level names, `[zh-CN, en]` per level.
    pub levels: Vec<[String; 2]>,
}

/// A whole calibration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// The model.
    pub model: Model,
    /// Items.
    pub items: Vec<ItemEntry>,
    /// Students.
    #[serde(default)]
    pub persons: Vec<PersonEntry>,
    /// EM cycles (absent in a truth file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<usize>,
    /// Whether EM converged (absent in a truth file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// Marginal log-likelihood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_likelihood: Option<f64>,
    /// Free item parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<usize>,
    /// Akaike's information criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aic: Option<f64>,
    /// Schwarz's Bayesian information criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<f64>,
    /// Marginal (EAP) reliability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<f64>,
    /// Items left out and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<ExcludedEntry>,
    /// Warnings for the specialist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The reporting scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleEntry>,
}

/// An excluded item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExcludedEntry {
    /// Item id.
    pub id: String,
    /// Why.
    pub reason: String,
}

impl From<&ExcludedItem> for ExcludedEntry {
    fn from(e: &ExcludedItem) -> ExcludedEntry {
        ExcludedEntry { id: e.id.clone(), reason: e.reason.clone() }
    }
}

/// Rounds to `digits` decimals.
pub fn round(v: f64, digits: i32) -> f64 {
    let f = libm::pow(10.0, f64::from(digits));
    (v * f).round() / f
}

impl CalibrationFile {
    /// The file for a calibration, with scores and levels on `scale`.
    pub fn from_calibration(cal: &Calibration, scale: &ReportingScale, levels: &Levels) -> CalibrationFile {
        let items = cal
            .items
            .iter()
            .map(|ci| ItemEntry {
                infit: Some(round(ci.infit, 4)),
                outfit: Some(round(ci.outfit, 4)),
                n: Some(ci.n),
                se: ci.se.as_ref().map(|se| SeEntry {
                    a: se.a.map(|v| round(v, 6)),
                    b: round(se.b, 6),
                    c: se.c.map(|v| round(v, 6)),
                    steps: (cal.model == Model::Gpcm).then(|| se.steps.iter().map(|&v| round(v, 6)).collect()),
                }),
                ..ItemEntry::new(&ci.id, cal.model, &ci.item)
            })
            .collect();
        let persons = cal
            .persons
            .iter()
            .map(|p| {
                let score = round(scale.score(p.theta), 1);
                PersonEntry {
                    id: p.id.clone(),
                    theta: round(p.theta, 4),
                    se: Some(round(p.se, 4)),
                    answered: Some(p.answered),
                    score: Some(score),
                    level: Some(levels.level(score)),
                }
            })
            .collect();
        CalibrationFile {
            model: cal.model,
            items,
            persons,
            iterations: Some(cal.iterations),
            converged: Some(cal.converged),
            log_likelihood: Some(round(cal.log_likelihood, 4)),
            parameters: Some(cal.parameters()),
            aic: Some(round(cal.aic(), 2)),
            bic: Some(round(cal.bic(), 2)),
            reliability: Some(round(cal.reliability(), 4)),
            excluded: cal.excluded.iter().map(ExcludedEntry::from).collect(),
            warnings: cal.warnings.clone(),
            scale: Some(ScaleEntry::new(scale, levels)),
        }
    }

    /// The items as (id, parameters, category) for a CAT or for linking.
    pub fn bank(&self) -> Vec<(String, Item, Option<String>)> {
        self.items.iter().map(|e| (e.id.clone(), e.item(self.model), e.category.clone())).collect()
    }
}

impl ScaleEntry {
    /// The entry for a scale and its levels.
    pub fn new(scale: &ReportingScale, levels: &Levels) -> ScaleEntry {
        ScaleEntry {
            reference_mean: round(scale.reference_mean, 6),
            reference_sd: round(scale.reference_sd, 6),
            mean: scale.scale_mean,
            sd: scale.scale_sd,
            cuts: levels.cuts.to_vec(),
            levels: LEVEL_NAMES.iter().map(|(zh, en)| [zh.to_string(), en.to_string()]).collect(),
        }
    }
}
