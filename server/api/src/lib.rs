//! The wire types of Qiming's JSON API (docs/api.md), shared by the server and its clients.
//!
//! The server deserializes requests into these types and serializes these
//! responses; the studio's connected mode uses the same definitions, so the two
//! cannot disagree about a field. Nothing here knows about HTTP frameworks or
//! databases.

use std::collections::BTreeMap;

use qiming_curriculum::{Lab, Text};
use serde::{Deserialize, Serialize};

/// `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /api/assignments/{id}/submissions` and `POST /api/assignments/{id}/test`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// `rhai` or `wasm`, one of the lab's languages.
    pub language: String,
    pub program: String,
    /// `text` (default) or `base64` (a binary WebAssembly module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// Every error response: `{"error": {...}}` with a stable `code` that clients
/// translate; `message` is English detail for logs and teachers, never shown to
/// children as is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    #[serde(default)]
    pub message: String,
    /// A finer reason for some codes (e.g. which password rule failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Seconds to wait before trying again (429, 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The limits a lab's programs are held to, so editors can check before sending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramLimits {
    /// The largest program the server accepts for this lab.
    pub max_program_bytes: usize,
    /// Printed output beyond this is cut (and the report says so).
    pub max_output_bytes: u64,
    /// CPU time one case may use.
    pub cpu_seconds: f64,
}

/// A lab as the catalogue lists it (`GET /api/labs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabSummary {
    pub id: String,
    pub version: u32,
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
}

/// `GET /api/labs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        }
    }
}

/// A lab as a client may see it: what a student needs to work on it, and
/// nothing that would let anyone tune a program to the hidden cases — no
/// hidden scenarios or seeds, no reference or known-wrong solutions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    /// What the catalogue lists, its practice cases among it (`cases`).
    #[serde(flatten)]
    pub summary: LabSummary,
    pub instructions: Text,
    /// Starter program per language.
    pub starter: BTreeMap<String, String>,
    /// How many hidden cases grading adds; only their number is public.
    pub hidden_cases: usize,
}

/// A practice case of a lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisibleCase {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
            hidden_cases: l.cases.iter().filter(|c| c.hidden).count(),
        }
    }
}
