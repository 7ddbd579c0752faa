//! Automated test assembly (自动组卷): picks forms from the item bank that
//! meet a blueprint, as an integer program solved by `good_lp` with the
//! pure-Rust microlp solver (or HiGHS, with the `highs` feature), and says
//! which constraint cannot be met when none can.
//!
//! The blueprint format, the difficulty bands, the default times and the
//! objective are documented in docs/assessment-assembly.md. Everything here is
//! deterministic: items are sorted by id before the model is built, the
//! solver runs without a time limit (a time limit would make the answer
//! depend on the machine), and good_lp keeps coefficients in an FNV map,
//! whose order depends only on insertion order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use good_lp::variable::UnsolvedProblem;
use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, WithMipGap, variable};
use qiming_curriculum::item::{ITEM_TYPES, POPULATIONS, STATUSES};
use qiming_curriculum::meta::{GRADE_BANDS, LITERACIES, MODULES};
use qiming_curriculum::{CurriculumError, Item, Text};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The only blueprint format version this build reads.
pub const BLUEPRINT_FORMAT_VERSION: u32 = 1;

/// The version of the JSON an assembly or an infeasibility report is written in.
pub const ASSEMBLY_FORMAT_VERSION: u32 = 1;

/// The relative optimality gap at which the solver stops (1 %).
pub const MIP_GAP: f32 = 0.01;

/// The integer-programming solver this build assembles with.
#[cfg(not(feature = "highs"))]
pub const SOLVER: &str = "microlp";
/// The integer-programming solver this build assembles with.
#[cfg(feature = "highs")]
pub const SOLVER: &str = "highs";

#[cfg(not(feature = "highs"))]
fn solver(problem: UnsolvedProblem) -> good_lp::solvers::microlp::MicroLpProblem {
    good_lp::microlp(problem)
}

/// HiGHS on one thread with its parallel mode off and a fixed seed: its
/// parallel branch-and-bound may otherwise return a different (equally good)
/// form from run to run, and assembly must be reproducible.
#[cfg(feature = "highs")]
fn solver(problem: UnsolvedProblem) -> good_lp::solvers::highs::HighsProblem {
    use good_lp::solvers::highs::HighsParallelType;
    good_lp::highs(problem).set_parallel(HighsParallelType::Off).set_threads(1).set_option("random_seed", 0).set_option("output_flag", false)
}

/// Seconds a learner is expected to spend on an item of each type. The bank
/// has no per-item time, so this table is the time model (documented in
/// docs/assessment-assembly.md).
pub const TYPE_SECONDS: &[(&str, u32)] =
    &[("single", 60), ("multiple", 90), ("true_false", 30), ("numeric", 90), ("text", 90), ("ordering", 120), ("matching", 150), ("performance", 600)];

/// The difficulty bands, in order.
pub const DIFFICULTY_BANDS: &[(&str, &str, &str)] = &[("easy", "容易", "easy"), ("medium", "中等", "medium"), ("hard", "较难", "hard")];

/// The seconds an item is expected to take.
pub fn item_seconds(item: &Item) -> u32 {
    TYPE_SECONDS.iter().find(|(t, _)| *t == item.kind.name()).map_or(60, |(_, s)| *s)
}

/// Fisher information of an item at ability `theta` under the 3PL model with
/// the item's priors (a defaults to 1, c to 0; no scaling constant D, the
/// priors are on the logistic scale).
pub fn item_information(item: &Item, theta: f64) -> f64 {
    let a = item.discrimination.unwrap_or(1.0);
    let c = item.guessing.unwrap_or(0.0);
    let p_star = 1.0 / (1.0 + libm::exp(-a * (theta - item.difficulty)));
    let p = c + (1.0 - c) * p_star;
    a * a * ((1.0 - p) / p) * ((p - c) / (1.0 - c)).powi(2)
}

/// Which kind of count a rule constrains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Literacy,
    Module,
    Difficulty,
    Type,
}

impl Category {
    /// The blueprint table the rule is written in.
    pub fn table(self) -> &'static str {
        match self {
            Category::Literacy => "literacy",
            Category::Module => "module",
            Category::Difficulty => "difficulty",
            Category::Type => "type",
        }
    }

    fn names(self, key: &str) -> (String, String) {
        match self {
            Category::Literacy => {
                let (zh, en) = LITERACIES.iter().find(|l| l.0 == key).map_or((key, key), |l| (l.1, l.2));
                (format!("素养“{zh}”"), format!("literacy {key:?} ({en})"))
            }
            Category::Module => {
                let (zh, en) = MODULES.iter().find(|m| m.0 == key).map_or((key, key), |m| (m.1, m.2));
                (format!("模块“{zh}”"), format!("module {key:?} ({en})"))
            }
            Category::Difficulty => {
                let zh = DIFFICULTY_BANDS.iter().find(|b| b.0 == key).map_or(key, |b| b.1);
                (format!("难度“{zh}”"), format!("difficulty band {key:?}"))
            }
            Category::Type => (format!("题型“{key}”"), format!("item type {key:?}")),
        }
    }
}

/// A count constraint: between `min` and `max` items of one literacy,
/// module, difficulty band or type on every form.
#[derive(Clone, Debug, PartialEq)]
pub struct CountRule {
    pub category: Category,
    pub key: String,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

/// A lower bound on the test information function at one ability point.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoTarget {
    pub theta: f64,
    pub min: f64,
}

/// What a blueprint asks for (docs/assessment-assembly.md).
#[derive(Clone, Debug, PartialEq)]
pub struct Blueprint {
    pub name: Option<String>,
    pub population: String,
    /// Only items of this grade band (required for students).
    pub grade_band: Option<String>,
    /// Items per form.
    pub length: u32,
    /// Parallel forms to assemble.
    pub forms: u32,
    /// Items every form shares (only with two or more forms).
    pub anchors: u32,
    /// Statuses an item may have (`live` unless the blueprint allows `reviewed`).
    pub statuses: Vec<String>,
    /// Items shown more often than this are left out.
    pub max_exposure: Option<u64>,
    /// b below this is easy.
    pub easy_below: f64,
    /// b above this is hard; in between is medium.
    pub hard_above: f64,
    pub min_seconds: Option<u32>,
    pub max_seconds: Option<u32>,
    pub counts: Vec<CountRule>,
    pub information: Vec<InfoTarget>,
    /// Groups of item ids of which a form may hold at most one.
    pub enemies: Vec<Vec<String>>,
}

impl Blueprint {
    /// The difficulty band of an item's prior b.
    pub fn band(&self, item: &Item) -> &'static str {
        if item.difficulty < self.easy_below {
            "easy"
        } else if item.difficulty > self.hard_above {
            "hard"
        } else {
            "medium"
        }
    }

    /// Whether a count rule covers an item.
    pub fn covers(&self, rule: &CountRule, item: &Item) -> bool {
        match rule.category {
            Category::Literacy => item.literacy == rule.key,
            Category::Module => item.module.as_deref() == Some(rule.key.as_str()),
            Category::Difficulty => self.band(item) == rule.key,
            Category::Type => item.kind.name() == rule.key,
        }
    }

    /// Reads and validates a blueprint file against the item bank (ids in
    /// enemy groups must exist). Errors name the file, line and column.
    pub fn from_file(path: &Path, items: &[Item]) -> Result<Blueprint, Vec<CurriculumError>> {
        let source = std::fs::read_to_string(path).map_err(|e| vec![CurriculumError::new(&path.display().to_string(), 0, 0, format!("cannot read: {e}"))])?;
        Blueprint::parse(&path.display().to_string(), &source, items)
    }

    /// Parses a blueprint from its text; `shown` is the file name errors carry.
    pub fn parse(shown: &str, source: &str, items: &[Item]) -> Result<Blueprint, Vec<CurriculumError>> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = qiming_sim::scenario::line_col(source, span.start);
            CurriculumError::new(shown, line, column, message)
        };
        let raw: RawBlueprint = toml::from_str(source).map_err(|e| vec![at(e.span().unwrap_or(0..0), e.message().to_string())])?;
        let mut errors = Vec::new();
        if *raw.format_version.get_ref() != BLUEPRINT_FORMAT_VERSION {
            errors.push(at(raw.format_version.span(), format!("format_version must be {BLUEPRINT_FORMAT_VERSION}")));
        }
        let population = raw.population.get_ref().clone();
        if !POPULATIONS.contains(&population.as_str()) {
            errors.push(at(raw.population.span(), format!("population must be one of {}", POPULATIONS.join(", "))));
        }
        if let Some(b) = &raw.grade_band
            && !GRADE_BANDS.contains(&b.get_ref().as_str())
        {
            errors.push(at(b.span(), format!("grade_band must be one of {}", GRADE_BANDS.join(", "))));
        }
        if population == "student" && raw.grade_band.is_none() {
            errors.push(at(raw.population.span(), "a student blueprint needs `grade_band` (forms are for one grade band)".into()));
        }
        let length = *raw.length.get_ref();
        if length == 0 {
            errors.push(at(raw.length.span(), "length must be at least 1".into()));
        }
        let forms = raw.forms.as_ref().map_or(1, |f| *f.get_ref());
        if let Some(f) = &raw.forms
            && *f.get_ref() == 0
        {
            errors.push(at(f.span(), "forms must be at least 1".into()));
        }
        let anchors = raw.anchors.as_ref().map_or(0, |a| *a.get_ref());
        if let Some(a) = &raw.anchors
            && *a.get_ref() > length
        {
            errors.push(at(a.span(), format!("anchors ({}) cannot exceed the form length ({length})", a.get_ref())));
        }
        let statuses = match &raw.statuses {
            Some(s) => {
                for st in s.get_ref() {
                    if !STATUSES.contains(&st.as_str()) {
                        errors.push(at(s.span(), format!("status {st:?} is not one of {}", STATUSES.join(", "))));
                    } else if st != "live" && st != "reviewed" {
                        errors.push(at(s.span(), format!("only live and reviewed items may be assembled into a form, not {st}")));
                    }
                }
                if s.get_ref().is_empty() {
                    errors.push(at(s.span(), "statuses must name at least one status".into()));
                }
                s.get_ref().clone()
            }
            None => vec!["live".into()],
        };
        let (easy_below, hard_above) = match &raw.difficulty_bands {
            Some(b) => {
                let r = b.get_ref();
                if r.easy_below.is_nan() || r.hard_above.is_nan() || r.easy_below > r.hard_above {
                    errors.push(at(b.span(), "difficulty_bands: easy_below must not be above hard_above".into()));
                }
                (r.easy_below, r.hard_above)
            }
            None => (-0.5, 0.5),
        };
        let (mut min_seconds, mut max_seconds) = (None, None);
        if let Some(t) = &raw.time {
            let r = t.get_ref();
            let secs = |m: f64| (m * 60.0).round() as u32;
            for m in [r.min_minutes, r.max_minutes].into_iter().flatten() {
                if !(m.is_finite() && m >= 0.0) {
                    errors.push(at(t.span(), "time: minutes must be a non-negative number".into()));
                }
            }
            min_seconds = r.min_minutes.map(secs);
            max_seconds = r.max_minutes.map(secs);
            if let (Some(a), Some(b)) = (min_seconds, max_seconds)
                && a > b
            {
                errors.push(at(t.span(), "time: min_minutes is above max_minutes".into()));
            }
        }
        let mut counts = Vec::new();
        let tables: [(Category, &CountTable, Vec<&str>); 4] = [
            (Category::Literacy, &raw.literacy, LITERACIES.iter().map(|l| l.0).collect()),
            (Category::Module, &raw.module, MODULES.iter().map(|m| m.0).collect()),
            (Category::Difficulty, &raw.difficulty, DIFFICULTY_BANDS.iter().map(|b| b.0).collect()),
            (Category::Type, &raw.kind, ITEM_TYPES.to_vec()),
        ];
        for (category, table, known) in tables {
            for (key, count) in table {
                if !known.contains(&key.as_str()) {
                    errors.push(at(count.span(), format!("{}.{key:?}: unknown {}; known: {}", category.table(), category.table(), known.join(", "))));
                    continue;
                }
                let c = count.get_ref();
                if c.min.is_none() && c.max.is_none() {
                    errors.push(at(count.span(), format!("{}.{key:?} needs min, max or both", category.table())));
                }
                if let (Some(a), Some(b)) = (c.min, c.max)
                    && a > b
                {
                    errors.push(at(count.span(), format!("{}.{key:?}: min ({a}) is above max ({b})", category.table())));
                }
                counts.push(CountRule { category, key: key.clone(), min: c.min, max: c.max });
            }
        }
        let mut information = Vec::new();
        for t in &raw.information {
            let r = t.get_ref();
            if !(r.theta.is_finite() && (-6.0..=6.0).contains(&r.theta) && r.min.is_finite() && r.min >= 0.0) {
                errors.push(at(t.span(), "information: theta must be in [-6, 6] and min a non-negative number".into()));
            }
            information.push(InfoTarget { theta: r.theta, min: r.min });
        }
        let mut enemies = Vec::new();
        for group in &raw.enemies {
            let mut ids = Vec::new();
            for id in group.get_ref() {
                if !items.iter().any(|i| &i.id == id.get_ref()) {
                    errors.push(at(id.span(), format!("enemies: there is no item {:?} in the bank", id.get_ref())));
                } else if ids.contains(id.get_ref()) {
                    errors.push(at(id.span(), format!("enemies: item {:?} is listed twice in this group", id.get_ref())));
                } else {
                    ids.push(id.get_ref().clone());
                }
            }
            if group.get_ref().len() < 2 {
                errors.push(at(group.span(), "enemies: a group needs at least two items".into()));
            }
            ids.sort();
            enemies.push(ids);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Blueprint {
            name: raw.name,
            population,
            grade_band: raw.grade_band.map(Spanned::into_inner),
            length,
            forms,
            anchors,
            statuses,
            max_exposure: raw.max_exposure,
            easy_below,
            hard_above,
            min_seconds,
            max_seconds,
            counts,
            information,
            enemies,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlueprint {
    format_version: Spanned<u32>,
    name: Option<String>,
    population: Spanned<String>,
    grade_band: Option<Spanned<String>>,
    length: Spanned<u32>,
    forms: Option<Spanned<u32>>,
    anchors: Option<Spanned<u32>>,
    statuses: Option<Spanned<Vec<String>>>,
    max_exposure: Option<u64>,
    difficulty_bands: Option<Spanned<RawBands>>,
    time: Option<Spanned<RawTime>>,
    #[serde(default)]
    literacy: BTreeMap<String, Spanned<RawCount>>,
    #[serde(default)]
    module: BTreeMap<String, Spanned<RawCount>>,
    #[serde(default)]
    difficulty: BTreeMap<String, Spanned<RawCount>>,
    #[serde(default, rename = "type")]
    kind: BTreeMap<String, Spanned<RawCount>>,
    #[serde(default)]
    information: Vec<Spanned<RawInfo>>,
    #[serde(default)]
    enemies: Vec<Spanned<Vec<Spanned<String>>>>,
}

type CountTable = BTreeMap<String, Spanned<RawCount>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCount {
    min: Option<u32>,
    max: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBands {
    easy_below: f64,
    hard_above: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    min_minutes: Option<f64>,
    max_minutes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInfo {
    theta: f64,
    min: f64,
}

/// The items a blueprint may use, sorted by id, and what was left out.
#[derive(Clone, Debug)]
pub struct Pool<'a> {
    pub items: Vec<&'a Item>,
    pub summary: PoolSummary,
}

/// How many items of the population and grade band were eligible, and why the others were not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolSummary {
    /// Items of the population and grade band.
    pub considered: usize,
    /// Left out for their status.
    pub excluded_status: usize,
    /// Left out for having been shown more than `max_exposure` times.
    pub excluded_exposure: usize,
    pub eligible: usize,
}

/// The eligible items: the blueprint's population and grade band, an allowed
/// status, exposure at most `max_exposure`.
pub fn pool<'a>(bp: &Blueprint, items: &'a [Item]) -> Pool<'a> {
    let mut considered: Vec<&Item> =
        items.iter().filter(|i| i.population == bp.population && bp.grade_band.as_ref().is_none_or(|b| i.grade_band.as_ref() == Some(b))).collect();
    considered.sort_by(|a, b| a.id.cmp(&b.id));
    let n = considered.len();
    let by_status: Vec<&Item> = considered.into_iter().filter(|i| bp.statuses.contains(&i.status)).collect();
    let excluded_status = n - by_status.len();
    let m = by_status.len();
    let eligible: Vec<&Item> = by_status.into_iter().filter(|i| bp.max_exposure.is_none_or(|x| i.exposure <= x)).collect();
    let summary = PoolSummary { considered: n, excluded_status, excluded_exposure: m - eligible.len(), eligible: eligible.len() };
    Pool { items: eligible, summary }
}

/// Information at one ability point, with the blueprint's bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfoAt {
    pub theta: f64,
    /// Rounded to 3 decimals.
    pub value: f64,
    pub min: Option<f64>,
}

/// What a form holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormSummary {
    pub length: usize,
    pub literacy: BTreeMap<String, u32>,
    pub module: BTreeMap<String, u32>,
    pub difficulty: BTreeMap<String, u32>,
    #[serde(rename = "type")]
    pub kind: BTreeMap<String, u32>,
    pub time_seconds: u32,
    pub information: Vec<InfoAt>,
}

/// One assembled form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Form {
    /// 1-based.
    pub form: u32,
    /// In the order they are given: by prior b (easy first), then id.
    pub items: Vec<String>,
    /// The anchor items on this form (the same on every form).
    pub anchors: Vec<String>,
    pub summary: FormSummary,
}

/// The forms a blueprint gave.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assembly {
    pub format_version: u32,
    pub name: Option<String>,
    pub population: String,
    pub grade_band: Option<String>,
    pub pool: PoolSummary,
    /// The smallest ratio, over forms and ability points, of information to
    /// its bound (or to 1 where there is no bound): what was maximised.
    pub objective: f64,
    pub anchors: Vec<String>,
    pub forms: Vec<Form>,
}

/// One constraint that cannot be met.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// Stable code (docs/assessment-assembly.md).
    pub code: String,
    /// The constraint as the blueprint writes it, e.g. `literacy."computational-thinking".min`.
    pub constraint: String,
    /// What the constraint asks for (items, seconds or information).
    pub needed: f64,
    /// The most (or, for upper bounds, the least) the pool can give.
    pub available: f64,
    pub text: Text,
}

/// Why no form can be assembled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Infeasible {
    pub format_version: u32,
    pub name: Option<String>,
    pub pool: PoolSummary,
    /// `alone`: each problem cannot be met even on its own; `relax_one`:
    /// the constraints can each be met, but not together, and relaxing any
    /// one of the listed constraints makes the blueprint feasible;
    /// `relax_set`: no single relaxation suffices, and the listed set is
    /// the one with the least total shortfall.
    pub stage: String,
    pub problems: Vec<Problem>,
}

/// The answer to a blueprint.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Assembled(Assembly),
    Infeasible(Infeasible),
}

/// A fault of ours or of the solver (never of the blueprint's feasibility).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssemblyError {
    /// The solver failed for a reason other than infeasibility.
    #[error("the solver failed: {0}")]
    Solver(String),
    /// The solver's answer broke a constraint (a numerical fault).
    #[error("the solver's answer breaks {0}; this is a bug, please report it")]
    Unchecked(String),
}

/// A constraint of the model, by where the blueprint writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Con {
    CountMin(usize),
    CountMax(usize),
    TimeMin,
    TimeMax,
    Info(usize),
    Enemies(usize),
}

impl Con {
    fn path(self, bp: &Blueprint) -> String {
        match self {
            Con::CountMin(r) | Con::CountMax(r) => {
                let rule = &bp.counts[r];
                format!("{}.{:?}.{}", rule.category.table(), rule.key, if matches!(self, Con::CountMin(_)) { "min" } else { "max" })
            }
            Con::TimeMin => "time.min_minutes".into(),
            Con::TimeMax => "time.max_minutes".into(),
            Con::Info(k) => format!("information[{k}].min"),
            Con::Enemies(g) => format!("enemies[{g}]"),
        }
    }

    /// Shortfall units per unit of slack in the elastic model: items, minutes, information.
    fn scale(self) -> f64 {
        match self {
            Con::TimeMin | Con::TimeMax => 60.0,
            _ => 1.0,
        }
    }
}

fn all_constraints(bp: &Blueprint) -> Vec<Con> {
    let mut v = Vec::new();
    for (r, rule) in bp.counts.iter().enumerate() {
        if rule.min.is_some() {
            v.push(Con::CountMin(r));
        }
        if rule.max.is_some() {
            v.push(Con::CountMax(r));
        }
    }
    if bp.min_seconds.is_some() {
        v.push(Con::TimeMin);
    }
    if bp.max_seconds.is_some() {
        v.push(Con::TimeMax);
    }
    v.extend((0..bp.information.len()).map(Con::Info));
    v.extend((0..bp.enemies.len()).map(Con::Enemies));
    v
}

/// How the model treats the blueprint's constraints.
enum Mode<'a> {
    /// Every constraint holds; maximise the minimum information ratio.
    Optimise,
    /// Every constraint but these holds; any feasible answer will do.
    Without(&'a BTreeSet<Con>),
    /// Every constraint may be broken by a slack; minimise the total slack.
    Elastic,
}

struct Solved {
    /// Item indexes (into the pool) per form.
    forms: Vec<Vec<usize>>,
    anchors: Vec<usize>,
    /// (constraint, largest slack over forms) in elastic mode.
    slack: Vec<(Con, f64)>,
}

/// Anchors count only with two or more forms.
fn effective_anchors(bp: &Blueprint) -> usize {
    if bp.forms >= 2 { bp.anchors as usize } else { 0 }
}

fn solve(bp: &Blueprint, pool: &[&Item], mode: Mode) -> Result<Option<Solved>, AssemblyError> {
    let n = pool.len();
    let nf = bp.forms as usize;
    let k = effective_anchors(bp);
    let seconds: Vec<f64> = pool.iter().map(|i| f64::from(item_seconds(i))).collect();
    let mut vars = ProblemVariables::new();
    let z: Vec<Option<Variable>> = (0..n).map(|_| (k > 0).then(|| vars.add(variable().binary()))).collect();
    let y: Vec<Vec<Variable>> = (0..nf).map(|_| (0..n).map(|_| vars.add(variable().binary())).collect()).collect();
    let take = |f: usize, i: usize| -> Expression {
        let mut e = Expression::from(y[f][i]);
        if let Some(zi) = z[i] {
            e += zi;
        }
        e
    };
    let sum = |f: usize, coef: &dyn Fn(usize) -> f64| -> Expression {
        let mut e = Expression::with_capacity(2 * n);
        for i in 0..n {
            let c = coef(i);
            if c != 0.0 {
                e.add_mul(c, take(f, i));
            }
        }
        e
    };
    let cons = all_constraints(bp);
    let active: Vec<Con> = match &mode {
        Mode::Without(skip) => cons.iter().copied().filter(|c| !skip.contains(c)).collect(),
        _ => cons.clone(),
    };
    let elastic = matches!(mode, Mode::Elastic);
    // One slack per constraint and form in elastic mode.
    let slack: Vec<Vec<Option<Variable>>> = active.iter().map(|_| (0..nf).map(|_| elastic.then(|| vars.add(variable().min(0.0)))).collect()).collect();
    // The information points the objective looks at: the blueprint's, or θ = 0.
    let points: Vec<(f64, f64)> =
        if bp.information.is_empty() { vec![(0.0, 1.0)] } else { bp.information.iter().map(|t| (t.theta, if t.min > 0.0 { t.min } else { 1.0 })).collect() };
    // In elastic mode, r_c = 1 when constraint c is relaxed on some form: the
    // fewest relaxed constraints first, then the least total shortfall.
    let relaxed: Vec<Option<Variable>> = active.iter().map(|_| elastic.then(|| vars.add(variable().binary()))).collect();
    let t = vars.add(variable().min(0.0));
    let objective: Expression = match mode {
        Mode::Optimise => Expression::from(t),
        Mode::Without(_) => Expression::from(0.0),
        Mode::Elastic => {
            let mut e = Expression::from(0.0);
            for ((c, row), r) in active.iter().zip(&slack).zip(&relaxed) {
                if let Some(r) = r {
                    e.add_mul(-1.0, *r);
                }
                for s in row.iter().flatten() {
                    e.add_mul(-1e-3 / c.scale(), *s);
                }
            }
            e
        }
    };
    let mut problem = vars.maximise(objective).using(solver);
    for i in 0..n {
        let mut e = Expression::from(0.0);
        if let Some(zi) = z[i] {
            e += zi;
        }
        for row in &y {
            e += row[i];
        }
        problem.add_constraint(e.leq(1.0));
    }
    if k > 0 {
        let mut e = Expression::from(0.0);
        for zi in z.iter().flatten() {
            e += *zi;
        }
        problem.add_constraint(e.eq(k as f64));
    }
    for f in 0..nf {
        problem.add_constraint(sum(f, &|_| 1.0).eq(f64::from(bp.length)));
        if matches!(mode, Mode::Optimise) {
            for (theta, scale) in &points {
                let info = sum(f, &|i| item_information(pool[i], *theta) / scale);
                problem.add_constraint(info.geq(t));
            }
        }
        for (c, row) in active.iter().zip(&slack) {
            let s = row[f];
            let with = |mut e: Expression, sign: f64| {
                if let Some(s) = s {
                    e.add_mul(sign, s);
                }
                e
            };
            let constraint = match *c {
                Con::CountMin(r) => {
                    let rule = &bp.counts[r];
                    with(sum(f, &|i| if bp.covers(rule, pool[i]) { 1.0 } else { 0.0 }), 1.0).geq(f64::from(rule.min.unwrap_or(0)))
                }
                Con::CountMax(r) => {
                    let rule = &bp.counts[r];
                    with(sum(f, &|i| if bp.covers(rule, pool[i]) { 1.0 } else { 0.0 }), -1.0).leq(f64::from(rule.max.unwrap_or(0)))
                }
                Con::TimeMin => with(sum(f, &|i| seconds[i]), 1.0).geq(f64::from(bp.min_seconds.unwrap_or(0))),
                Con::TimeMax => with(sum(f, &|i| seconds[i]), -1.0).leq(f64::from(bp.max_seconds.unwrap_or(0))),
                Con::Info(x) => {
                    let target = &bp.information[x];
                    with(sum(f, &|i| item_information(pool[i], target.theta)), 1.0).geq(target.min)
                }
                Con::Enemies(g) => {
                    let group = &bp.enemies[g];
                    with(sum(f, &|i| if group.contains(&pool[i].id) { 1.0 } else { 0.0 }), -1.0).leq(1.0)
                }
            };
            problem.add_constraint(constraint);
        }
    }
    // Proving the maximin optimum exactly can take microlp minutes on
    // parallel forms (many forms are almost equally good); a relative gap
    // stops at an answer provably within 1 % of the best. A gap, unlike a
    // time limit, does not depend on the machine, so the answer stays
    // deterministic.
    if matches!(mode, Mode::Optimise) {
        problem = problem.with_mip_gap(MIP_GAP).map_err(|e| AssemblyError::Solver(e.to_string()))?;
    }
    let all_seconds: f64 = seconds.iter().sum();
    for ((c, row), r) in active.iter().zip(&slack).zip(&relaxed) {
        let Some(r) = r else { continue };
        // The most slack a constraint can need: its whole bound.
        let big = match *c {
            Con::CountMin(x) => f64::from(bp.counts[x].min.unwrap_or(0)),
            Con::CountMax(_) | Con::Enemies(_) => f64::from(bp.length),
            Con::TimeMin => f64::from(bp.min_seconds.unwrap_or(0)),
            Con::TimeMax => all_seconds,
            Con::Info(x) => bp.information[x].min,
        };
        for s in row.iter().flatten() {
            let mut e = Expression::from(*s);
            e.add_mul(-big, *r);
            problem.add_constraint(e.leq(0.0));
        }
    }
    let solution = match problem.solve() {
        Ok(s) => s,
        Err(good_lp::ResolutionError::Infeasible) => return Ok(None),
        Err(e) => return Err(AssemblyError::Solver(e.to_string())),
    };
    let on = |v: Variable| solution.value(v) > 0.5;
    let anchors: Vec<usize> = (0..n).filter(|&i| z[i].is_some_and(on)).collect();
    let forms = (0..nf).map(|f| (0..n).filter(|&i| on(y[f][i]) || z[i].is_some_and(on)).collect()).collect();
    let slack = active
        .iter()
        .zip(&slack)
        .map(|(c, row)| (*c, row.iter().flatten().map(|s| solution.value(*s)).fold(0.0, f64::max)))
        .filter(|(_, s)| *s > 1e-6)
        .collect();
    Ok(Some(Solved { forms, anchors, slack }))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// What a set of items holds, in the blueprint's terms.
pub fn summarise(bp: &Blueprint, items: &[&Item]) -> FormSummary {
    let mut s = FormSummary {
        length: items.len(),
        literacy: BTreeMap::new(),
        module: BTreeMap::new(),
        difficulty: BTreeMap::new(),
        kind: BTreeMap::new(),
        time_seconds: items.iter().map(|i| item_seconds(i)).sum(),
        information: Vec::new(),
    };
    for i in items {
        *s.literacy.entry(i.literacy.clone()).or_default() += 1;
        *s.module.entry(i.module.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
        *s.difficulty.entry(bp.band(i).to_string()).or_default() += 1;
        *s.kind.entry(i.kind.name().to_string()).or_default() += 1;
    }
    let points: Vec<(f64, Option<f64>)> =
        if bp.information.is_empty() { vec![(0.0, None)] } else { bp.information.iter().map(|t| (t.theta, Some(t.min))).collect() };
    s.information =
        points.into_iter().map(|(theta, min)| InfoAt { theta, value: round3(items.iter().map(|i| item_information(i, theta)).sum()), min }).collect();
    s
}

/// The constraints a set of items breaks, by blueprint path (empty when it meets them all).
pub fn violations(bp: &Blueprint, items: &[&Item]) -> Vec<String> {
    let mut out = Vec::new();
    if items.len() != bp.length as usize {
        out.push("length".to_string());
    }
    let time: u32 = items.iter().map(|i| item_seconds(i)).sum();
    for c in all_constraints(bp) {
        let count = |r: usize| items.iter().filter(|i| bp.covers(&bp.counts[r], i)).count() as u32;
        let broken = match c {
            Con::CountMin(r) => count(r) < bp.counts[r].min.unwrap_or(0),
            Con::CountMax(r) => count(r) > bp.counts[r].max.unwrap_or(u32::MAX),
            Con::TimeMin => time < bp.min_seconds.unwrap_or(0),
            Con::TimeMax => time > bp.max_seconds.unwrap_or(u32::MAX),
            Con::Info(k) => items.iter().map(|i| item_information(i, bp.information[k].theta)).sum::<f64>() < bp.information[k].min - 1e-9,
            Con::Enemies(g) => items.iter().filter(|i| bp.enemies[g].contains(&i.id)).count() > 1,
        };
        if broken {
            out.push(c.path(bp));
        }
    }
    out
}

/// Assembles the blueprint's forms from `items` (the whole bank; the pool is
/// chosen by [`pool`]), or explains why it cannot.
pub fn assemble(bp: &Blueprint, items: &[Item]) -> Result<Outcome, AssemblyError> {
    let pool = pool(bp, items);
    let infeasible = |stage: &str, problems: Vec<Problem>| {
        Outcome::Infeasible(Infeasible {
            format_version: ASSEMBLY_FORMAT_VERSION,
            name: bp.name.clone(),
            pool: pool.summary.clone(),
            stage: stage.into(),
            problems,
        })
    };
    let alone = check_alone(bp, &pool);
    if !alone.is_empty() {
        return Ok(infeasible("alone", alone));
    }
    if let Some(solved) = solve(bp, &pool.items, Mode::Optimise)? {
        return finish(bp, &pool, solved);
    }
    // Each constraint can be met on its own but not all together: find the
    // constraints whose relaxation alone makes the blueprint feasible.
    let cons = all_constraints(bp);
    let mut culprits = Vec::new();
    for c in &cons {
        let skip = BTreeSet::from([*c]);
        if solve(bp, &pool.items, Mode::Without(&skip))?.is_some() {
            culprits.push(*c);
        }
    }
    if !culprits.is_empty() {
        let problems = culprits.into_iter().map(|c| together(bp, c, None)).collect();
        return Ok(infeasible("relax_one", problems));
    }
    let Some(elastic) = solve(bp, &pool.items, Mode::Elastic)? else {
        // Only the length and anchors remain, and check_alone has shown the pool holds enough.
        return Err(AssemblyError::Solver("the elastic model is infeasible".into()));
    };
    let problems = elastic.slack.iter().map(|(c, s)| together(bp, *c, Some(*s))).collect();
    Ok(infeasible("relax_set", problems))
}

fn finish(bp: &Blueprint, pool: &Pool, solved: Solved) -> Result<Outcome, AssemblyError> {
    let anchor_ids: Vec<String> = solved.anchors.iter().map(|&i| pool.items[i].id.clone()).collect();
    let mut forms = Vec::new();
    let mut objective = f64::INFINITY;
    for (f, idx) in solved.forms.iter().enumerate() {
        let mut items: Vec<&Item> = idx.iter().map(|&i| pool.items[i]).collect();
        if let Some(broken) = violations(bp, &items).into_iter().next() {
            return Err(AssemblyError::Unchecked(broken));
        }
        items.sort_by(|a, b| a.difficulty.total_cmp(&b.difficulty).then_with(|| a.id.cmp(&b.id)));
        let summary = summarise(bp, &items);
        for info in &summary.information {
            let scale = info.min.filter(|m| *m > 0.0).unwrap_or(1.0);
            objective = objective.min(info.value / scale);
        }
        forms.push(Form { form: f as u32 + 1, items: items.iter().map(|i| i.id.clone()).collect(), anchors: anchor_ids.clone(), summary });
    }
    Ok(Outcome::Assembled(Assembly {
        format_version: ASSEMBLY_FORMAT_VERSION,
        name: bp.name.clone(),
        population: bp.population.clone(),
        grade_band: bp.grade_band.clone(),
        pool: pool.summary.clone(),
        objective: round3(objective),
        anchors: anchor_ids,
        forms,
    }))
}

/// Where the pool came from, in words.
fn pool_words(bp: &Blueprint) -> (String, String) {
    let who = if bp.population == "student" { ("学生", "student") } else { ("教师", "teacher") };
    let band = bp.grade_band.as_ref().map_or((String::new(), String::new()), |b| (format!("、{b} 年级学段"), format!(", grade band {b}")));
    let st = bp.statuses.join("/");
    (format!("{}{}、状态 {st}", who.0, band.0), format!("{}{}, status {st}", who.1, band.1))
}

fn problem(code: &str, constraint: String, needed: f64, available: f64, zh: String, en: String) -> Problem {
    Problem { code: code.into(), constraint, needed: round3(needed), available: round3(available), text: Text { zh, en } }
}

/// The sum of the `take` largest (or smallest) values.
fn extreme_sum(mut v: Vec<f64>, take: usize, largest: bool) -> f64 {
    v.sort_by(|a, b| if largest { b.total_cmp(a) } else { a.total_cmp(b) });
    v.into_iter().take(take).sum()
}

/// Constraints that cannot be met even alone, against the pool: exact for
/// one form; with parallel forms, also whether the pool holds enough items.
fn check_alone(bp: &Blueprint, pool: &Pool) -> Vec<Problem> {
    let mut out = Vec::new();
    let (pz, pe) = pool_words(bp);
    let n = pool.items.len();
    let len = bp.length as usize;
    let k = effective_anchors(bp);
    let needed = k + bp.forms as usize * (len - k);
    if n < needed {
        let (zh, en) = if bp.forms >= 2 {
            (
                format!("{} 份平行卷、每份 {len} 题、共用 {k} 道锚题，共需 {needed} 道不同的题，但题库中符合条件（{pz}）的只有 {n} 题。", bp.forms),
                format!("{} parallel forms of {len} items sharing {k} anchors need {needed} distinct items, but the pool ({pe}) has {n}.", bp.forms),
            )
        } else {
            (format!("一份卷需要 {len} 题，但题库中符合条件（{pz}）的只有 {n} 题。"), format!("A form needs {len} items, but the pool ({pe}) has {n}."))
        };
        out.push(problem("pool_too_small", if bp.forms >= 2 { "forms".into() } else { "length".into() }, needed as f64, n as f64, zh, en));
        return out;
    }
    for c in all_constraints(bp) {
        let path = c.path(bp);
        match c {
            Con::CountMin(r) => {
                let rule = &bp.counts[r];
                let min = rule.min.unwrap_or(0) as usize;
                let have = pool.items.iter().filter(|i| bp.covers(rule, i)).count();
                let (zn, en_name) = rule.category.names(&rule.key);
                if min > len {
                    out.push(problem(
                        "count_min_above_length",
                        path,
                        min as f64,
                        len as f64,
                        format!("{zn}至少需要 {min} 题，超过了整卷的 {len} 题。"),
                        format!("{en_name} needs at least {min} items, more than the form's {len}."),
                    ));
                } else if have < min {
                    out.push(problem(
                        "count_min_unreachable",
                        path,
                        min as f64,
                        have as f64,
                        format!("{zn}至少需要 {min} 题，但题库中符合条件（{pz}）的只有 {have} 题。"),
                        format!("{en_name} needs at least {min} items, but the pool ({pe}) has {have}."),
                    ));
                }
            }
            Con::CountMax(r) => {
                let rule = &bp.counts[r];
                let max = rule.max.unwrap_or(0) as usize;
                let others = pool.items.iter().filter(|i| !bp.covers(rule, i)).count();
                let (zn, en_name) = rule.category.names(&rule.key);
                if others + max < len {
                    out.push(problem(
                        "count_max_unreachable",
                        path,
                        max as f64,
                        (len - others) as f64,
                        format!("{zn}最多 {max} 题，但题库中其他的题只有 {others} 道，凑不满 {len} 题：至少要用 {} 道。", len - others),
                        format!(
                            "{en_name} may have at most {max} items, but the pool has only {others} other items, so a {len}-item form needs at least {}.",
                            len - others
                        ),
                    ));
                }
            }
            Con::TimeMax => {
                let max = bp.max_seconds.unwrap_or(0);
                let least = extreme_sum(pool.items.iter().map(|i| f64::from(item_seconds(i))).collect(), len, false);
                if least > f64::from(max) {
                    out.push(problem(
                        "time_max_unreachable",
                        path,
                        f64::from(max) / 60.0,
                        least / 60.0,
                        format!("限时 {} 分钟，但用时最短的 {len} 道题也要 {} 分钟。", minutes(f64::from(max)), minutes(least)),
                        format!("The time limit is {} minutes, but the {len} quickest items take {} minutes.", minutes(f64::from(max)), minutes(least)),
                    ));
                }
            }
            Con::TimeMin => {
                let min = bp.min_seconds.unwrap_or(0);
                let most = extreme_sum(pool.items.iter().map(|i| f64::from(item_seconds(i))).collect(), len, true);
                if most < f64::from(min) {
                    out.push(problem(
                        "time_min_unreachable",
                        path,
                        f64::from(min) / 60.0,
                        most / 60.0,
                        format!("至少要 {} 分钟，但用时最长的 {len} 道题也只要 {} 分钟。", minutes(f64::from(min)), minutes(most)),
                        format!(
                            "The form should take at least {} minutes, but the {len} longest items take {} minutes.",
                            minutes(f64::from(min)),
                            minutes(most)
                        ),
                    ));
                }
            }
            Con::Info(x) => {
                let target = &bp.information[x];
                let best = extreme_sum(pool.items.iter().map(|i| item_information(i, target.theta)).collect(), len, true);
                if best < target.min {
                    out.push(problem(
                        "information_unreachable",
                        path,
                        target.min,
                        best,
                        format!("在能力 θ = {} 处测验信息量至少要 {}，但信息量最大的 {len} 道题合计只有 {:.3}。", target.theta, target.min, best),
                        format!(
                            "The test information at θ = {} should be at least {}, but the {len} most informative items give {:.3}.",
                            target.theta, target.min, best
                        ),
                    ));
                }
            }
            Con::Enemies(g) => {
                let inside = pool.items.iter().filter(|i| bp.enemies[g].contains(&i.id)).count();
                let most = n - inside.saturating_sub(1);
                if most < len {
                    out.push(problem(
                        "enemies_unreachable",
                        path,
                        len as f64,
                        most as f64,
                        format!("这组互斥题（{} 道在题库中）每份卷只能用一道，剩下的题最多只能组成 {most} 题，不够 {len} 题。", inside),
                        format!("Only one item of this enemy group ({inside} of them in the pool) may appear on a form, which leaves at most {most} items for a {len}-item form."),
                    ));
                }
            }
        }
    }
    out
}

/// A shortfall: whole numbers without decimals, others to 3 places.
fn amount(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 { format!("{}", x.round()) } else { format!("{x:.3}") }
}

fn minutes(seconds: f64) -> String {
    let m = seconds / 60.0;
    if (m - m.round()).abs() < 1e-9 { format!("{}", m.round()) } else { format!("{m:.1}") }
}

/// A constraint that can be met alone but not with the others; `shortfall`
/// is the elastic model's slack (items, minutes, information).
fn together(bp: &Blueprint, c: Con, shortfall: Option<f64>) -> Problem {
    let path = c.path(bp);
    let (what_zh, what_en, needed, unit_zh, unit_en) = match c {
        Con::CountMin(r) | Con::CountMax(r) => {
            let rule = &bp.counts[r];
            let (zn, en) = rule.category.names(&rule.key);
            if matches!(c, Con::CountMin(_)) {
                let m = rule.min.unwrap_or(0);
                (format!("{zn}至少 {m} 题"), format!("{en} at least {m} items"), f64::from(m), " 题", " items")
            } else {
                let m = rule.max.unwrap_or(0);
                (format!("{zn}最多 {m} 题"), format!("{en} at most {m} items"), f64::from(m), " 题", " items")
            }
        }
        Con::TimeMin => {
            let m = f64::from(bp.min_seconds.unwrap_or(0));
            (format!("用时至少 {} 分钟", minutes(m)), format!("a time of at least {} minutes", minutes(m)), m / 60.0, " 分钟", " minutes")
        }
        Con::TimeMax => {
            let m = f64::from(bp.max_seconds.unwrap_or(0));
            (format!("限时 {} 分钟", minutes(m)), format!("a time limit of {} minutes", minutes(m)), m / 60.0, " 分钟", " minutes")
        }
        Con::Info(x) => {
            let t = &bp.information[x];
            (format!("θ = {} 处信息量至少 {}", t.theta, t.min), format!("information of at least {} at θ = {}", t.min, t.theta), t.min, "", "")
        }
        Con::Enemies(g) => (format!("互斥题组 {g}（每份卷最多一道）"), format!("enemy group {g} (at most one per form)"), 1.0, " 题", " items"),
    };
    let forms_zh = if bp.forms >= 2 { format!("（{} 份平行卷）", bp.forms) } else { String::new() };
    let forms_en = if bp.forms >= 2 { format!(" (on {} parallel forms)", bp.forms) } else { String::new() };
    match shortfall {
        None => problem(
            "conflict",
            path,
            needed,
            needed,
            format!("单独看，{what_zh}能做到，但和其他要求合在一起就做不到{forms_zh}；放宽这一条即可组卷。"),
            format!("{what_en} can be met on its own, but not together with the other constraints{forms_en}; relaxing this one makes the blueprint feasible."),
        ),
        Some(s) => {
            // Time slack is in seconds; everything else in its own unit.
            let short = s / c.scale();
            let avail = match c {
                Con::CountMin(_) | Con::Info(_) | Con::TimeMin => needed - short,
                _ => needed + short,
            };
            problem(
                "conflict_set",
                path,
                needed,
                avail,
                format!("{what_zh}和其他要求合在一起做不到{forms_zh}：最接近的方案差 {}{unit_zh}。这一组要求需要一起放宽。", amount(short)),
                format!(
                    "{what_en} cannot be met together with the other constraints{forms_en}: the closest assembly misses it by {}{unit_en}. This set of constraints must be relaxed together.",
                    amount(short)
                ),
            )
        }
    }
}

/// Reads a blueprint and assembles it: for the CLI and tests.
pub fn assemble_file(path: &Path, items: &[Item], forms: Option<u32>) -> Result<Result<Outcome, AssemblyError>, Vec<CurriculumError>> {
    let mut bp = Blueprint::from_file(path, items)?;
    if let Some(f) = forms {
        bp.forms = f.max(1);
    }
    Ok(assemble(&bp, items))
}
