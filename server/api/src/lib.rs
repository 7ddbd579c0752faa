//! The wire types of Qiming's JSON API (docs/api.md), shared by the server and its clients.
//!
//! The server deserializes requests into these types and serializes these
//! responses; the studio's connected mode uses the same definitions, so the two
//! cannot disagree about a field. Nothing here knows about HTTP frameworks or
//! databases. Each type also derives its JSON Schema (schemars): the server's
//! OpenAPI document takes its `components.schemas` from these derivations, so
//! the document cannot drift from what is sent.
//!
//! Responses never deny unknown fields: a client built against an older
//! server keeps reading when the server adds one.

use std::collections::BTreeMap;

use qiming_curriculum::{Lab, ModelInputSpec, ModelSpec, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema of [`qiming_curriculum::Text`]: the curriculum crate stays free
/// of schemars (the studio links it too), so the API crate mirrors its wire
/// shape here and points `Text` fields at it with `#[schemars(with = ...)]`.
/// A test checks that a `Text` serializes to what this schema describes.
#[derive(JsonSchema)]
#[schemars(rename = "Text", deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
pub struct TextSchema {
    #[serde(rename = "zh-CN")]
    zh: String,
    en: String,
}

/// `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// 1–64 bytes of UTF-8, no control characters.
    pub username: String,
    /// At most 256 bytes of UTF-8.
    pub password: String,
}

/// `POST /api/assignments/{id}/submissions` and `POST /api/assignments/{id}/test`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// `rhai` or `wasm`, one of the lab's languages (for a bundle: its program's).
    pub language: String,
    /// At most the lab's `limits.max_program_bytes` (64 KiB or the lab's own, smaller cap);
    /// with `encoding = "zip"`, the base64 of a `.zip` bundle (the request body's limit applies).
    pub program: String,
    /// `text` (default), `base64` (a binary WebAssembly module) or `zip` (AI labs
    /// only: a base64 `.zip` with one program and at most one `.qmodel` model,
    /// checked before it is queued; a refused one is a 422 `bad_bundle` whose
    /// `detail` says why in zh-CN and en).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// Every error response: `{"error": {...}}` with a stable `code` that clients
/// translate; `message` is English detail for logs and teachers, never shown to
/// children as is. Some codes add fields of their own (docs/api.md: `rows`,
/// `existing`, `contents`, `opens_at`, …), which readers of this type skip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// Stable: clients show their own text for it (`err_<code>` in zh-CN and en).
    pub code: String,
    /// English, for developers; a UI shows its own text for code/reason/field.
    #[serde(default)]
    pub message: String,
    /// The request field that is wrong (400 `invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A finer reason for some codes (e.g. which password rule failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The limit that was passed, where one applies (400 `invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Seconds to wait before trying again (429, 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// 422 `invalid_roster`: every bad row of the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RosterError>>,
}

/// What is wrong with one row of a roster import (row 1: the header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RosterError {
    pub row: usize,
    pub field: String,
    /// Stable: the web UI words it from `roster_err_<code>` and `params`.
    pub code: String,
    /// The values the text needs (`value`, `first`, `max`, `column`).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// English, for API clients and logs.
    pub message: String,
}

/// The limits a lab's programs are held to, so editors can check before sending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProgramLimits {
    /// The largest program the server accepts for this lab.
    pub max_program_bytes: usize,
    /// Printed output beyond this is cut (and the report says so).
    pub max_output_bytes: u64,
    /// CPU time one case may use.
    pub cpu_seconds: f64,
    /// AI labs: the largest `.zip` bundle accepted (its base64 must fit one
    /// request); null for labs that take no bundles. The program inside is
    /// held to `max_program_bytes`.
    #[serde(default)]
    pub max_bundle_bytes: Option<usize>,
}

/// What an AI lab's model must be (the lab's `[model]` table), so a client
/// can say what to hand in and check a `.zip` bundle before sending it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabModel {
    /// The labels the model predicts, sorted (as model files keep them).
    pub labels: Vec<String>,
    /// What the model reads.
    pub input: ModelInput,
    /// With `input = "sensors"`: the sensors, in order (`distance:left`…, as
    /// datasets name them); empty for `image`.
    pub sensors: Vec<String>,
    /// Model kinds accepted (`cnn`, `perceptron`, `kmeans`…); empty: any.
    pub kinds: Vec<String>,
    /// A submission without a model scores nothing on any case.
    pub required: bool,
}

/// What an AI lab's model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelInput {
    /// The 32×24 camera image.
    Image,
    /// Sensor readings (named in `sensors`).
    Sensors,
}

impl LabModel {
    /// The public part of a lab's `[model]` table (all of it: nothing there is secret).
    pub fn new(spec: &ModelSpec) -> Self {
        let (input, sensors) = match &spec.input {
            ModelInputSpec::Image => (ModelInput::Image, Vec::new()),
            ModelInputSpec::Sensors(names) => (ModelInput::Sensors, names.clone()),
        };
        LabModel { labels: spec.labels.clone(), input, sensors, kinds: spec.kinds.clone(), required: spec.required }
    }
}

/// A lab as the catalogue lists it (`GET /api/labs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabSummary {
    pub id: String,
    pub version: u32,
    #[schemars(with = "TextSchema")]
    pub title: Text,
    pub grade_band: String,
    pub module: String,
    pub literacies: Vec<String>,
    pub languages: Vec<String>,
    /// The lesson that teaches this lab, by id.
    pub lesson: Option<String>,
    pub limits: ProgramLimits,
    /// The practice cases and what students read for their names (`practice-N`
    /// and `hidden-N` have no title: clients word those themselves).
    pub cases: Vec<VisibleCase>,
    /// AI labs: what the model handed in with the program must be; null for
    /// other labs (they take a program alone).
    #[serde(default)]
    pub model: Option<LabModel>,
}

/// `GET /api/labs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabList {
    pub labs: Vec<LabSummary>,
}

impl LabSummary {
    /// `limits` come from the grader (the lab's own, within the server's caps).
    pub fn new(l: &Lab, limits: ProgramLimits) -> Self {
        LabSummary {
            id: l.id.clone(),
            version: l.version,
            title: l.title.clone(),
            grade_band: l.grade_band.clone(),
            module: l.module.clone(),
            literacies: l.literacies.clone(),
            languages: l.languages.clone(),
            lesson: l.lesson.clone(),
            limits,
            cases: l
                .cases
                .iter()
                .filter(|c| !c.hidden)
                .map(|c| VisibleCase { name: c.name.clone(), title: c.title.clone(), seed: c.seed, weight: c.weight })
                .collect(),
            model: l.model.as_ref().map(LabModel::new),
        }
    }
}

/// A lab as a client may see it: what a student needs to work on it, and
/// nothing that would let anyone tune a program to the hidden cases — no
/// hidden scenarios or seeds, no reference or known-wrong solutions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabView {
    /// What the catalogue lists, its practice cases among it (`cases`).
    #[serde(flatten)]
    pub summary: LabSummary,
    #[schemars(with = "TextSchema")]
    pub instructions: Text,
    /// Starter program per language.
    pub starter: BTreeMap<String, String>,
    /// How many hidden cases grading adds; only their number is public.
    pub hidden_cases: usize,
}

/// A practice case of a lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisibleCase {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<TextSchema>")]
    pub title: Option<Text>,
    pub seed: u64,
    pub weight: f64,
}

impl LabView {
    /// `limits` come from the grader (the lab's own, within the server's caps).
    pub fn new(l: &Lab, limits: ProgramLimits) -> Self {
        LabView {
            summary: LabSummary::new(l, limits),
            instructions: l.instructions.clone(),
            starter: l.starter.clone(),
            hidden_cases: l.cases.iter().filter(|c| c.hidden).count() + l.model_cases.iter().filter(|c| c.hidden).count(),
        }
    }
}

/// How the score that counts is chosen from a student's graded attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScorePolicy {
    /// The best graded attempt.
    Best,
    /// The last graded attempt.
    Last,
}

/// Where a student stands on an assignment (`Assignment::status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Opens later (`opens_at`).
    NotOpen,
    /// Open, nothing submitted yet.
    Open,
    /// Submitted at least once; may submit again.
    Submitted,
    /// Every attempt is used.
    AttemptsUsedUp,
    /// Past its due time.
    Closed,
}

/// Why a student may not submit now (`Assignment::reason`, and the
/// `cannot_submit` error's `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CannotSubmit {
    NotOpen,
    AttemptsUsedUp,
    Closed,
}

/// A teacher's override of a student's score, with the reason the student sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScoreOverride {
    pub score: f64,
    pub comment: String,
    /// When it was set (Unix seconds).
    pub at: i64,
}

/// An assignment as `GET /api/assignments` and `GET /api/classes/{id}/assignments`
/// list it (and the base of `GET /api/assignments/{id}`, which adds `lab`,
/// `panel` and, for a student, `submissions` and `last_program`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assignment {
    pub id: i64,
    pub class_id: i64,
    pub class_name: String,
    pub lab_id: String,
    /// The teacher's title when there is one (the same text in both languages), else the lab's.
    #[schemars(with = "TextSchema")]
    pub title: Text,
    /// The lab's own title.
    #[schemars(with = "TextSchema")]
    pub lab_title: Text,
    /// The teacher's title as written, or null.
    pub custom_title: Option<String>,
    /// Unix seconds.
    pub opens_at: i64,
    /// Unix seconds; submissions are accepted until then.
    pub due_at: i64,
    pub attempt_limit: i64,
    pub score_policy: ScorePolicy,
    /// The languages this assignment accepts.
    pub languages: Vec<String>,
    /// Present only when the caller is the student themselves.
    #[serde(flatten)]
    pub progress: Option<StudentProgress>,
}

/// A student's own standing on an assignment, so the UI does not guess from
/// its own clock. Only in the student's own answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StudentProgress {
    /// Attempts that count against the limit (every submission but `failed` ones).
    pub attempts_used: i64,
    /// The score that counts: the teacher's override, else the policy's; null before any grade.
    pub score: Option<f64>,
    pub status: AssignmentStatus,
    pub can_submit: bool,
    /// Why not, when `can_submit` is false.
    pub reason: Option<CannotSubmit>,
    /// The teacher's override, or null.
    #[serde(rename = "override")]
    pub score_override: Option<ScoreOverride>,
}

/// `GET /api/assignments`, `GET /api/classes/{id}/assignments`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentList {
    pub assignments: Vec<Assignment>,
}

/// Where a submission is on its way to a grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Stored, waiting for a grader.
    Queued,
    /// Being graded.
    Running,
    /// Graded: `score` and `max_score` are set.
    Done,
    /// The grader failed (our fault, not the student's; it does not count as an attempt).
    Failed,
}

/// A submission (`POST /api/assignments/{id}/submissions`, the lists, the
/// `status` events). `GET /api/submissions/{id}` adds `program` and, once
/// graded, `report`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Submission {
    pub id: i64,
    pub assignment_id: i64,
    pub student_id: i64,
    pub language: String,
    pub status: SubmissionStatus,
    /// Unix seconds.
    pub submitted_at: i64,
    /// Unix seconds, once graded.
    pub graded_at: Option<i64>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    /// The student's name, in a manager's list of everyone's submissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_name: Option<String>,
}

/// `GET /api/assignments/{id}/submissions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubmissionList {
    pub submissions: Vec<Submission>,
}
