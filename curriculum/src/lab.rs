//! Labs: `lab.toml` plus starter code, reference and known-wrong solutions, scenarios.
//!
//! The format is documented in README.md ("Writing a lab"). Loading is strict
//! (unknown keys are errors) and every error names the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qiming_sim::Scenario;
use serde::Deserialize;
use toml::Spanned;

use crate::meta::{GRADE_BANDS, Text, is_literacy, module_name};
use crate::{CurriculumError, err_at};

/// The only lab format version this build reads.
pub const LAB_FORMAT_VERSION: u32 = 1;

/// A program file shipped with a lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFile {
    pub path: PathBuf,
    /// "rhai" or "wasm" (from the extension: .rhai, .wat, .wasm).
    pub language: String,
    pub source: Vec<u8>,
}

/// What a check measures, with its parameters. Each kind has a stable code
/// (its snake_case name) that reports and hints refer to; the grading crate
/// documents and implements them.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckKind {
    /// Ends at rest with the front of the robot `min`–`max` metres from the
    /// nearest solid straight ahead.
    RestNearWall {
        min: f64,
        max: f64,
        #[serde(default = "default_rest_speed")]
        max_speed: f64,
        #[serde(default = "default_rest_within")]
        within: f64,
    },
    /// Never touches anything; `cap` limits the case's score when it does, or
    /// `penalty_per_contact` (up to `max_penalty`) subtracts per contact.
    NoCollision { cap: Option<f64>, penalty_per_contact: Option<f64>, max_penalty: Option<f64> },
    /// The robot's centre enters a named zone within `within` seconds.
    ReachZone { zone: String, within: Option<f64> },
    /// Progress along the shortest path through a seeded maze to its exit.
    MazeProgress { within: Option<f64> },
    /// Ends within `distance` metres and `heading` degrees of the start pose.
    ReturnToStart { distance: f64, heading: f64 },
    /// Passes near points given in the start frame (x forward, y left), in
    /// order; with `either_hand`, the mirror image (turning right) counts too.
    VisitPoints {
        points: Vec<[f64; 2]>,
        radius: f64,
        #[serde(default)]
        either_hand: bool,
    },
    /// Fraction of one lap of a closed floor line, in its drawing direction or
    /// against it, within `within` seconds.
    LapProgress {
        #[serde(default)]
        line: usize,
        within: Option<f64>,
    },
    /// Stays within `max_offset` of the line for `min_fraction` of the lap time.
    StayOnLine {
        #[serde(default)]
        line: usize,
        max_offset: f64,
        min_fraction: f64,
    },
    /// Reaches the scenario's checkpoints in the listed order.
    CheckpointsInOrder { names: Vec<String> },
    /// Printed output matches: `exact` (after trimming), `contains`, or `lines`
    /// (the listed lines appear in order). A case's `expect_output` replaces `expected`.
    OutputMatches {
        #[serde(default)]
        expected: String,
        #[serde(default = "default_match_mode")]
        mode: String,
    },
    /// Every time the robot's centre is on floor of `color`, it comes to rest
    /// there (slower than `max_speed`) and stays on it for at least `seconds`,
    /// braking included: a red light.
    StopOnColor {
        color: String,
        seconds: f64,
        #[serde(default = "default_rest_speed")]
        max_speed: f64,
    },
    /// While the robot's centre is on floor of `color`, its speed (averaged
    /// over 0.1 s) stays at or below `max_speed`: a yellow light, a school zone.
    /// The first `grace` seconds of each visit are for braking.
    SlowOnColor {
        color: String,
        max_speed: f64,
        #[serde(default = "default_grace")]
        grace: f64,
    },
    /// The last number printed is within `tolerance` of the expected value
    /// (`expected`, or the case's `expect_number`): for measuring and decoding tasks.
    OutputNumber { expected: Option<f64>, tolerance: f64 },
    /// Ends at rest with its front `min`–`max` metres from the nearest sign
    /// of kind `sign` (`stop`, `left`…), without ever touching that sign.
    /// (The sign's kind is `sign` because `kind` names the check.)
    RestNearSign {
        sign: String,
        min: f64,
        max: f64,
        #[serde(default = "default_rest_speed")]
        max_speed: f64,
    },
    /// Printed lines compared with the case's `expect_output` (or `expected`)
    /// line by line; credit = (share right − `zero_at`) / (1 − `zero_at`).
    OutputLinesFraction {
        #[serde(default)]
        expected: String,
        zero_at: f64,
    },
    /// Printed `episode <n> <steps> <return>` lines show learning: at least
    /// `min_episodes`; the mean steps of the last `last` at most `max_ratio` ×
    /// the case's `optimal_steps`, and below the mean of the first `first`.
    LearningCurve { min_episodes: u32, first: u32, last: u32, max_ratio: f64 },
}

fn default_rest_speed() -> f64 {
    0.01
}
fn default_rest_within() -> f64 {
    f64::INFINITY
}
fn default_grace() -> f64 {
    0.3
}
fn default_match_mode() -> String {
    "exact".into()
}

impl CheckKind {
    /// The stable code of the kind.
    pub fn code(&self) -> &'static str {
        match self {
            CheckKind::RestNearWall { .. } => "rest_near_wall",
            CheckKind::NoCollision { .. } => "no_collision",
            CheckKind::ReachZone { .. } => "reach_zone",
            CheckKind::MazeProgress { .. } => "maze_progress",
            CheckKind::ReturnToStart { .. } => "return_to_start",
            CheckKind::VisitPoints { .. } => "visit_points",
            CheckKind::LapProgress { .. } => "lap_progress",
            CheckKind::StayOnLine { .. } => "stay_on_line",
            CheckKind::CheckpointsInOrder { .. } => "checkpoints_in_order",
            CheckKind::OutputMatches { .. } => "output_matches",
            CheckKind::OutputNumber { .. } => "output_number",
            CheckKind::StopOnColor { .. } => "stop_on_color",
            CheckKind::SlowOnColor { .. } => "slow_on_color",
            CheckKind::RestNearSign { .. } => "rest_near_sign",
            CheckKind::OutputLinesFraction { .. } => "output_lines_fraction",
            CheckKind::LearningCurve { .. } => "learning_curve",
        }
    }
}

/// A check as a lab uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    /// Relative weight inside a case (0 = reported but not scored, as for penalties).
    pub weight: f64,
    /// Shown with the feedback when the check fails.
    pub hint: Option<Text>,
}

/// One graded run: a scenario with a seed.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// What students read for a case that is not `practice-N`/`hidden-N`
    /// (the UI words those itself): required for such names, so no page
    /// shows an English identifier to a Chinese reader.
    pub title: Option<Text>,
    pub scenario: Arc<Scenario>,
    pub scenario_path: PathBuf,
    pub seed: u64,
    pub hidden: bool,
    pub weight: f64,
    /// This case's expected output for `output_matches`.
    pub expect_output: Option<String>,
    /// This case's expected number for `output_number`.
    pub expect_number: Option<f64>,
    /// Steps of the shortest route in this case's world, for `learning_curve`.
    pub optimal_steps: Option<f64>,
}

/// The model kinds a lab may accept (`[model] kinds`), as `qiming ai train
/// --model` names them (the grading crate's tests keep the two lists equal).
pub const MODEL_KINDS: &[&str] = &["cnn", "mlp", "perceptron", "logistic", "kmeans"];

/// What an AI lab's model must be: the lab-level `[model]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The labels, sorted (as model files keep them).
    pub labels: Vec<String>,
    /// What the model reads.
    pub input: ModelInputSpec,
    /// Accepted model kinds (empty: any).
    pub kinds: Vec<String>,
    /// A submission without a model scores nothing on any case.
    pub required: bool,
}

/// What a lab's model reads.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelInputSpec {
    /// The 32×24 camera image.
    Image,
    /// These sensors, in this order (`distance:left`…, as datasets name them).
    Sensors(Vec<String>),
}

/// How a model case turns a measurement into credit: full credit at `full`
/// or above, none at `zero` or below, linear in between.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// `accuracy`, `macro_f1` or `min_group_recall`.
    pub kind: String,
    pub full: f64,
    pub zero: f64,
}

/// Metric kinds a model case may use.
pub const METRIC_KINDS: &[&str] = &["accuracy", "macro_f1", "min_group_recall"];

/// A case that runs no program: it measures the submitted model on datasets
/// inside the lab folder (`kind = "model"`).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelCase {
    pub name: String,
    pub title: Option<Text>,
    /// Dataset folders, absolute (inside the lab folder).
    pub datasets: Vec<PathBuf>,
    pub hidden: bool,
    pub weight: f64,
    pub metric: Metric,
}

/// A loaded, validated lab.
#[derive(Clone, Debug)]
pub struct Lab {
    pub dir: PathBuf,
    pub id: String,
    pub version: u32,
    pub grade_band: String,
    pub module: String,
    pub literacies: Vec<String>,
    pub lesson: Option<String>,
    pub languages: Vec<String>,
    pub title: Text,
    pub instructions: Text,
    /// Feedback shown for a failed hidden case (it never says why).
    pub hidden_hint: Text,
    pub starter: BTreeMap<String, String>,
    pub reference: Vec<ProgramFile>,
    pub wrong: Vec<ProgramFile>,
    /// Reference submissions that are bundle folders (a program and a model).
    pub reference_bundles: Vec<PathBuf>,
    /// Known-wrong submissions that are bundle folders.
    pub wrong_bundles: Vec<PathBuf>,
    /// The `[model]` table of an AI lab.
    pub model: Option<ModelSpec>,
    pub checks: Vec<Check>,
    /// Cases that run the program in a scenario.
    pub cases: Vec<Case>,
    /// Cases that measure the model on a dataset (`kind = "model"`); graded
    /// after the run cases, sharing the lab's 100 points by weight.
    pub model_cases: Vec<ModelCase>,
    /// When a run ends early because the task is done: `lap` / `lap:N` (one
    /// lap of closed line N) or `zone:<name>` (the robot enters the zone).
    pub end_when: Vec<String>,
    /// Limits this lab tightens (names as in docs/programs.md), never loosens.
    pub limits: BTreeMap<String, u64>,
    /// Line of `lesson = …` in lab.toml, for reference errors.
    pub lesson_line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFile {
    format_version: Spanned<u32>,
    id: Spanned<String>,
    version: u32,
    grade_band: Spanned<String>,
    module: Spanned<String>,
    literacies: Spanned<Vec<String>>,
    lesson: Option<Spanned<String>>,
    languages: Spanned<Vec<String>>,
    title: Text,
    instructions: Text,
    hidden_hint: Option<Text>,
    starter: Spanned<BTreeMap<String, String>>,
    reference: Spanned<BTreeMap<String, String>>,
    #[serde(default = "empty_wrong")]
    wrong: Spanned<Vec<WrongDef>>,
    model: Option<Spanned<ModelDef>>,
    #[serde(default = "empty_list")]
    end_when: Spanned<Vec<String>>,
    #[serde(default)]
    limits: Option<Spanned<BTreeMap<String, u64>>>,
    checks: Vec<Spanned<toml::Table>>,
    cases: Vec<Spanned<CaseDef>>,
}

/// Limits a lab may tighten, by their names in docs/programs.md.
pub const TIGHTENABLE_LIMITS: &[&str] =
    &["program_size", "memory", "table", "stack", "call_depth", "variables", "expression_depth", "string_size", "array_size", "map_size", "output"];

/// A `wrong` entry: a program file, or `{ bundle = "folder" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum WrongDef {
    Program(String),
    Bundle { bundle: String },
}

fn empty_wrong() -> Spanned<Vec<WrongDef>> {
    Spanned::new(0..0, Vec::new())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelDef {
    labels: Vec<String>,
    input: InputDef,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InputDef {
    Named(String),
    Sensors(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDef {
    name: String,
    title: Option<Text>,
    kind: Option<String>,
    scenario: Option<String>,
    dataset: Option<String>,
    datasets: Option<Vec<String>>,
    metric: Option<Metric>,
    optimal_steps: Option<f64>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    hidden: bool,
    #[serde(default = "one")]
    weight: f64,
    expect_output: Option<String>,
    expect_number: Option<f64>,
}

pub(crate) fn empty_list() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

fn one() -> f64 {
    1.0
}

/// Language of a program file, from its extension.
pub fn language_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "rhai" => Some("rhai"),
        "wat" | "wasm" => Some("wasm"),
        _ => None,
    }
}

const LANGUAGES: &[&str] = &["rhai", "wasm"];

impl Lab {
    /// Loads `dir/lab.toml` and everything it refers to.
    pub fn load(dir: &Path) -> Result<Lab, CurriculumError> {
        let path = dir.join("lab.toml");
        let shown = path.display().to_string();
        let source = std::fs::read_to_string(&path).map_err(|e| CurriculumError::new(&shown, 0, 0, format!("cannot read: {e}")))?;
        let at = |span: std::ops::Range<usize>, msg: String| err_at(&shown, &source, span, msg);
        let file: LabFile = toml::from_str(&source).map_err(|e| at(e.span().unwrap_or(0..0), e.message().to_string()))?;

        if *file.format_version.get_ref() != LAB_FORMAT_VERSION {
            return Err(at(file.format_version.span(), format!("format_version must be {LAB_FORMAT_VERSION}")));
        }
        let id = file.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(at(file.id.span(), format!("id {id:?} must be lowercase letters, digits and '-'")));
        }
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if folder != id {
            return Err(at(file.id.span(), format!("id {id:?} must match its folder name {folder:?}")));
        }
        if !GRADE_BANDS.contains(&file.grade_band.get_ref().as_str()) {
            return Err(at(file.grade_band.span(), format!("grade_band must be one of {}", GRADE_BANDS.join(", "))));
        }
        if module_name(file.module.get_ref()).is_none() {
            let known: Vec<&str> = crate::meta::MODULES.iter().map(|m| m.0).collect();
            return Err(at(file.module.span(), format!("unknown module {:?}; known: {}", file.module.get_ref(), known.join(", "))));
        }
        if file.literacies.get_ref().is_empty() || !file.literacies.get_ref().iter().all(|l| is_literacy(l)) {
            return Err(at(
                file.literacies.span(),
                "literacies must list one or more of information-awareness, computational-thinking, digital-learning, social-responsibility".into(),
            ));
        }
        let languages = file.languages.get_ref().clone();
        if languages.is_empty() || !languages.iter().all(|l| LANGUAGES.contains(&l.as_str())) {
            return Err(at(file.languages.span(), "languages must list \"rhai\" and/or \"wasm\"".into()));
        }
        for text in [&file.title, &file.instructions] {
            if text.zh.trim().is_empty() || text.en.trim().is_empty() {
                return Err(at(0..0, "title and instructions need both zh-CN and en text".into()));
            }
        }

        let read_program = |rel: &str, span: std::ops::Range<usize>| -> Result<ProgramFile, CurriculumError> {
            let p = dir.join(rel);
            let language = language_of(&p).ok_or_else(|| at(span.clone(), format!("{rel}: program files end in .rhai, .wat or .wasm")))?;
            let source = std::fs::read(&p).map_err(|e| at(span.clone(), format!("{rel}: cannot read: {e}")))?;
            Ok(ProgramFile { path: p, language: language.into(), source })
        };
        let mut starter = BTreeMap::new();
        for (lang, rel) in file.starter.get_ref() {
            if !languages.contains(lang) {
                return Err(at(file.starter.span(), format!("starter.{lang}: not one of the lab's languages")));
            }
            let p = read_program(rel, file.starter.span())?;
            starter.insert(lang.clone(), String::from_utf8_lossy(&p.source).into_owned());
        }
        let bundle_dir = |rel: &str, span: std::ops::Range<usize>| -> Result<(PathBuf, &'static str), CurriculumError> {
            let p = dir.join(rel);
            if rel.is_empty() || Path::new(rel).is_absolute() || Path::new(rel).components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(at(span, format!("bundle {rel:?}: name a folder inside the lab folder")));
            }
            let programs: Vec<&'static str> = std::fs::read_dir(&p)
                .map_err(|e| at(span.clone(), format!("bundle {rel:?}: cannot read the folder: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .filter_map(|f| language_of(&f))
                .collect();
            match programs.as_slice() {
                [one] => Ok((p, *one)),
                _ => Err(at(span, format!("bundle {rel:?}: a bundle folder holds exactly one program (.rhai, .wat, .wasm); found {}", programs.len()))),
            }
        };
        let mut reference = Vec::new();
        let mut reference_bundles = Vec::new();
        let mut bundle_languages = Vec::new();
        for (lang, rel) in file.reference.get_ref() {
            if lang == "bundle" {
                let (p, language) = bundle_dir(rel, file.reference.span())?;
                if !languages.iter().any(|l| l == language) {
                    return Err(at(file.reference.span(), format!("reference bundle {rel:?}: its program is {language}, not one of the lab's languages")));
                }
                reference_bundles.push(p);
                bundle_languages.push(language);
                continue;
            }
            let p = read_program(rel, file.reference.span())?;
            if &p.language != lang || !languages.contains(lang) {
                return Err(at(
                    file.reference.span(),
                    format!("reference.{lang} = {rel:?}: language and extension must agree and be one of the lab's languages"),
                ));
            }
            reference.push(p);
        }
        for lang in &languages {
            if !reference.iter().any(|r| &r.language == lang) && !bundle_languages.iter().any(|b| *b == lang.as_str()) {
                return Err(at(file.reference.span(), format!("a reference solution in {lang} is required (every allowed language needs one)")));
            }
        }
        let mut wrong = Vec::new();
        let mut wrong_bundles = Vec::new();
        for entry in file.wrong.get_ref() {
            match entry {
                WrongDef::Program(rel) => wrong.push(read_program(rel, file.wrong.span())?),
                WrongDef::Bundle { bundle } => wrong_bundles.push(bundle_dir(bundle, file.wrong.span())?.0),
            }
        }
        if wrong.is_empty() && wrong_bundles.is_empty() {
            return Err(at(file.wrong.span(), "list at least one known-wrong solution in `wrong`".into()));
        }

        let model = match &file.model {
            None => None,
            Some(m) => {
                let def = m.get_ref();
                let bad = |msg: String| at(m.span(), format!("[model]: {msg}"));
                let mut sorted = def.labels.clone();
                sorted.sort();
                sorted.dedup();
                if def.labels.is_empty() || sorted != def.labels {
                    return Err(bad("labels must be a non-empty list, sorted and without repeats (as model files keep them)".into()));
                }
                let input = match &def.input {
                    InputDef::Named(n) if n == "image" => ModelInputSpec::Image,
                    InputDef::Named(n) => return Err(bad(format!("input {n:?}: write \"image\" or a list of sensor names such as [\"distance:left\"]"))),
                    InputDef::Sensors(names) => {
                        let mut unique = names.clone();
                        unique.sort();
                        unique.dedup();
                        if names.is_empty() || unique.len() != names.len() || names.iter().any(|n| n.trim().is_empty()) {
                            return Err(bad("input: sensor names must be a non-empty list without repeats".into()));
                        }
                        ModelInputSpec::Sensors(names.clone())
                    }
                };
                if let Some(k) = def.kinds.iter().find(|k| !MODEL_KINDS.contains(&k.as_str())) {
                    return Err(bad(format!("kinds: unknown model kind {k:?}; known: {}", MODEL_KINDS.join(", "))));
                }
                Some(ModelSpec { labels: def.labels.clone(), input, kinds: def.kinds.clone(), required: def.required })
            }
        };

        let mut checks = Vec::new();
        for (i, entry) in file.checks.iter().enumerate() {
            checks.push(parse_check(entry.get_ref().clone()).map_err(|m| at(entry.span(), format!("checks[{i}]: {m}")))?);
        }
        if checks.iter().map(|c| c.weight).sum::<f64>() <= 0.0 {
            return Err(at(0..0, "checks: at least one check needs a weight > 0".into()));
        }

        for e in file.end_when.get_ref() {
            let ok = e == "lap" || e.strip_prefix("lap:").is_some_and(|n| n.parse::<usize>().is_ok()) || e.strip_prefix("zone:").is_some_and(|z| !z.is_empty());
            if !ok {
                return Err(at(file.end_when.span(), format!("end_when: {e:?} is not \"lap\", \"lap:N\" or \"zone:NAME\"")));
            }
        }
        if let Some(limits) = &file.limits {
            for (name, value) in limits.get_ref() {
                if !TIGHTENABLE_LIMITS.contains(&name.as_str()) {
                    return Err(at(limits.span(), format!("limits: unknown limit {name:?}; a lab may tighten: {}", TIGHTENABLE_LIMITS.join(", "))));
                }
                if *value == 0 {
                    return Err(at(limits.span(), format!("limits.{name} must be > 0")));
                }
            }
        }
        let mut cases: Vec<Case> = Vec::new();
        let mut model_cases: Vec<ModelCase> = Vec::new();
        let mut scenarios: BTreeMap<String, Arc<Scenario>> = BTreeMap::new();
        for (i, c) in file.cases.iter().enumerate() {
            let cd = c.get_ref();
            if cd.name.trim().is_empty() || cases.iter().any(|o| o.name == cd.name) || model_cases.iter().any(|o| o.name == cd.name) {
                return Err(at(c.span(), format!("cases[{i}]: names must be non-empty and unique")));
            }
            if !(cd.weight.is_finite() && cd.weight > 0.0) {
                return Err(at(c.span(), format!("cases[{i}] ({}): weight must be > 0", cd.name)));
            }
            let generic = cd.name.split_once('-').is_some_and(|(kind, n)| matches!(kind, "practice" | "hidden") && n.parse::<u32>().is_ok());
            if !generic && cd.title.as_ref().is_none_or(|t| t.zh.trim().is_empty() || t.en.trim().is_empty()) {
                return Err(at(c.span(), format!("cases[{i}] ({}): a case not named practice-N or hidden-N needs a title with zh-CN and en", cd.name)));
            }
            match cd.kind.as_deref() {
                None | Some("run") => {}
                Some("model") => {
                    model_cases.push(model_case(cd, dir, model.is_some()).map_err(|m| at(c.span(), format!("cases[{i}] ({}): {m}", cd.name)))?);
                    continue;
                }
                Some(other) => return Err(at(c.span(), format!("cases[{i}] ({}): kind {other:?} is not \"run\" or \"model\"", cd.name))),
            }
            let Some(scenario_rel) = &cd.scenario else {
                return Err(at(c.span(), format!("cases[{i}] ({}): a run case needs a scenario", cd.name)));
            };
            if cd.dataset.is_some() || cd.datasets.is_some() || cd.metric.is_some() {
                return Err(at(c.span(), format!("cases[{i}] ({}): dataset, datasets and metric belong to kind = \"model\" cases", cd.name)));
            }
            if cd.optimal_steps.is_some_and(|n| !(n.is_finite() && n > 0.0)) {
                return Err(at(c.span(), format!("cases[{i}] ({}): optimal_steps must be > 0", cd.name)));
            }
            let scenario = match scenarios.get(scenario_rel) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(Scenario::load(dir.join(scenario_rel)).map_err(|e| at(c.span(), format!("cases[{i}] ({}): {e}", cd.name)))?);
                    scenarios.insert(scenario_rel.clone(), s.clone());
                    s
                }
            };
            validate_checks_against(&checks, &scenario, cd.seed).map_err(|m| at(c.span(), format!("cases[{i}] ({}): {m}", cd.name)))?;
            for check in &checks {
                match &check.kind {
                    CheckKind::OutputNumber { expected: None, .. } if cd.expect_number.is_none() => {
                        return Err(at(c.span(), format!("cases[{i}] ({}): output_number has no `expected`, so this case needs `expect_number`", cd.name)));
                    }
                    CheckKind::OutputMatches { expected, .. } | CheckKind::OutputLinesFraction { expected, .. }
                        if expected.is_empty() && cd.expect_output.is_none() =>
                    {
                        return Err(at(
                            c.span(),
                            format!("cases[{i}] ({}): {} has no `expected`, so this case needs `expect_output`", cd.name, check.kind.code()),
                        ));
                    }
                    CheckKind::LearningCurve { .. } if cd.optimal_steps.is_none() => {
                        return Err(at(c.span(), format!("cases[{i}] ({}): learning_curve needs this case's `optimal_steps`", cd.name)));
                    }
                    _ => {}
                }
            }
            cases.push(Case {
                name: cd.name.clone(),
                title: cd.title.clone(),
                scenario_path: dir.join(scenario_rel),
                scenario,
                seed: cd.seed,
                hidden: cd.hidden,
                weight: cd.weight,
                expect_output: cd.expect_output.clone(),
                expect_number: cd.expect_number,
                optimal_steps: cd.optimal_steps,
            });
        }
        if cases.is_empty() {
            return Err(at(0..0, "cases: a lab needs at least one case that runs the program".into()));
        }
        if !cases.iter().any(|c| !c.hidden) {
            return Err(at(0..0, "cases: at least one case must be visible (hidden = false) so students see how they are graded".into()));
        }
        let lesson_line = file.lesson.as_ref().map_or(0, |l| crate::line_of(&source, l.span().start));
        Ok(Lab {
            dir: dir.to_path_buf(),
            id,
            version: file.version,
            grade_band: file.grade_band.into_inner(),
            module: file.module.into_inner(),
            literacies: file.literacies.into_inner(),
            lesson: file.lesson.map(|l| l.into_inner()),
            languages,
            title: file.title,
            instructions: file.instructions,
            hidden_hint: file.hidden_hint.unwrap_or_else(|| {
                Text::new(
                    "这个隐藏测试没有通过：让你的程序在不同的场地里也能正确工作。",
                    "This hidden test did not pass: make your program work in other arenas too.",
                )
            }),
            starter,
            reference,
            wrong,
            reference_bundles,
            wrong_bundles,
            model,
            checks,
            cases,
            model_cases,
            end_when: file.end_when.into_inner(),
            limits: file.limits.map(|l| l.into_inner()).unwrap_or_default(),
            lesson_line,
        })
    }
}

/// A `kind = "model"` case, checked: datasets inside the lab folder, a metric.
fn model_case(cd: &CaseDef, dir: &Path, has_model_table: bool) -> Result<ModelCase, String> {
    if !has_model_table {
        return Err("a model case needs the lab's [model] table (labels and input)".into());
    }
    if cd.scenario.is_some() || cd.expect_output.is_some() || cd.expect_number.is_some() || cd.optimal_steps.is_some() || cd.seed != 0 {
        return Err("a model case runs no program: scenario, seed, expect_output, expect_number and optimal_steps do not apply".into());
    }
    let rels: Vec<String> = match (&cd.dataset, &cd.datasets) {
        (Some(one), None) => vec![one.clone()],
        (None, Some(list)) if !list.is_empty() => list.clone(),
        _ => return Err("give `dataset = \"folder\"` or `datasets = [\"folder\", ...]` (not both)".into()),
    };
    let mut datasets = Vec::new();
    for rel in &rels {
        let p = Path::new(rel);
        if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(format!("dataset {rel:?}: name a folder inside the lab folder"));
        }
        let full = dir.join(p);
        if !full.join("manifest.json").is_file() {
            return Err(format!("dataset {rel:?}: no manifest.json there (docs/ai.md describes dataset folders)"));
        }
        datasets.push(full);
    }
    let Some(metric) = cd.metric.clone() else {
        return Err("a model case needs `metric = { kind = \"accuracy\", full = 0.9, zero = 0.6 }`".into());
    };
    if !METRIC_KINDS.contains(&metric.kind.as_str()) {
        return Err(format!("metric kind {:?}: use one of {}", metric.kind, METRIC_KINDS.join(", ")));
    }
    if !((0.0..=1.0).contains(&metric.zero) && (0.0..=1.0).contains(&metric.full) && metric.zero < metric.full) {
        return Err("metric: needs 0 <= zero < full <= 1".into());
    }
    Ok(ModelCase { name: cd.name.clone(), title: cd.title.clone(), datasets, hidden: cd.hidden, weight: cd.weight, metric })
}

fn parse_check(mut table: toml::Table) -> Result<Check, String> {
    let weight = match table.remove("weight") {
        None => 1.0,
        Some(toml::Value::Float(f)) => f,
        Some(toml::Value::Integer(i)) => i as f64,
        Some(other) => return Err(format!("weight must be a number, got {}", other.type_str())),
    };
    if !(weight.is_finite() && weight >= 0.0) {
        return Err("weight must be a number >= 0".into());
    }
    let hint = match table.remove("hint") {
        None => None,
        Some(v) => Some(v.try_into::<Text>().map_err(|e| format!("hint: {}", e.message()))?),
    };
    let kind: CheckKind = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| e.message().to_string())?;
    let bad = |m: &str| Err(format!("{}: {m}", kind.code()));
    match &kind {
        CheckKind::RestNearWall { min, max, max_speed, .. } if !(*min >= 0.0 && max > min && *max_speed > 0.0) => {
            return bad("needs 0 <= min < max and max_speed > 0");
        }
        CheckKind::NoCollision { cap, penalty_per_contact, max_penalty }
            if cap.is_some_and(|c| !(0.0..=1.0).contains(&c))
                || penalty_per_contact.is_some_and(|p| !(0.0..=1.0).contains(&p))
                || max_penalty.is_some_and(|p| !(0.0..=1.0).contains(&p)) =>
        {
            return bad("cap and penalties are fractions in [0, 1]");
        }
        CheckKind::VisitPoints { points, radius, .. } if points.is_empty() || *radius <= 0.0 => return bad("needs points and radius > 0"),
        CheckKind::StayOnLine { max_offset, min_fraction, .. } if !(f64::EPSILON..=0.2).contains(max_offset) || !(0.0..=1.0).contains(min_fraction) => {
            return bad("needs max_offset in (0, 0.2] m and min_fraction in [0, 1]");
        }
        CheckKind::ReturnToStart { distance, heading } if *distance <= 0.0 || *heading <= 0.0 => return bad("needs distance > 0 and heading > 0"),
        CheckKind::OutputMatches { mode, .. } if !["exact", "contains", "lines"].contains(&mode.as_str()) => {
            return bad("mode must be \"exact\", \"contains\" or \"lines\"");
        }
        CheckKind::CheckpointsInOrder { names } if names.is_empty() => return bad("needs names"),
        CheckKind::OutputNumber { tolerance, .. } if tolerance.is_nan() || *tolerance < 0.0 => return bad("needs tolerance >= 0"),
        CheckKind::StopOnColor { color, .. } | CheckKind::SlowOnColor { color, .. } if qiming_sim::PaletteColor::from_name(color).is_none() => {
            return bad("unknown colour");
        }
        CheckKind::StopOnColor { seconds, max_speed, .. } if !(*seconds > 0.0 && *max_speed > 0.0) => return bad("needs seconds > 0 and max_speed > 0"),
        CheckKind::SlowOnColor { max_speed, .. } if max_speed.is_nan() || *max_speed <= 0.0 => return bad("needs max_speed > 0"),
        CheckKind::RestNearSign { sign, .. } if qiming_sim::SignKind::from_name(sign).is_none() => {
            let known: Vec<&str> = qiming_sim::SignKind::ALL.iter().map(|k| k.name()).collect();
            return bad(&format!("unknown sign {sign:?}; known: {}", known.join(", ")));
        }
        CheckKind::RestNearSign { min, max, max_speed, .. } if !(*min >= 0.0 && max > min && *max_speed > 0.0) => {
            return bad("needs 0 <= min < max and max_speed > 0");
        }
        CheckKind::OutputLinesFraction { zero_at, .. } if !(0.0..1.0).contains(zero_at) => return bad("needs 0 <= zero_at < 1"),
        CheckKind::LearningCurve { min_episodes, first, last, max_ratio }
            if *first == 0 || *last == 0 || first + last > *min_episodes || !(max_ratio.is_finite() && *max_ratio >= 1.0) =>
        {
            return bad("needs first > 0, last > 0, first + last <= min_episodes and max_ratio >= 1");
        }
        _ => {}
    }
    Ok(Check { kind, weight, hint })
}

/// Checks that refer to scenario content (zones, lines, checkpoints, a maze) find it.
fn validate_checks_against(checks: &[Check], scenario: &Scenario, seed: u64) -> Result<(), String> {
    let resolved = scenario.resolve(seed);
    for check in checks {
        match &check.kind {
            CheckKind::ReachZone { zone, .. } if !resolved.zones.iter().any(|z| &z.name == zone) => {
                return Err(format!("reach_zone: the scenario has no zone {zone:?}"));
            }
            CheckKind::MazeProgress { .. } if resolved.maze.is_none() => return Err("maze_progress: the scenario has no [maze]".into()),
            CheckKind::RestNearSign { sign, .. } if !resolved.solids.iter().any(|s| s.sign.is_some_and(|k| k.name() == sign)) => {
                return Err(format!("rest_near_sign: the scenario has no {sign:?} sign"));
            }
            CheckKind::LapProgress { line, .. } | CheckKind::StayOnLine { line, .. } if resolved.lines.get(*line).is_none_or(|l| !l.closed) => {
                return Err(format!("{}: the scenario has no closed line number {line}", check.kind.code()));
            }
            CheckKind::CheckpointsInOrder { names } => {
                if let Some(n) = names.iter().find(|n| !resolved.checkpoints.iter().any(|c| &&c.name == n)) {
                    return Err(format!("checkpoints_in_order: the scenario has no checkpoint {n:?}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
