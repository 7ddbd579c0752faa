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
}

/// `GET /api/labs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabList {
    pub labs: Vec<LabSummary>,
}

impl From<&Lab> for LabSummary {
    fn from(l: &Lab) -> Self {
        LabSummary {
            id: l.id.clone(),
            version: l.version,
            title: l.title.clone(),
            grade_band: l.grade_band.clone(),
            module: l.module.clone(),
            literacies: l.literacies.clone(),
            languages: l.languages.clone(),
            lesson: l.lesson.clone(),
        }
    }
}

/// A lab as a client may see it: what a student needs to work on it, and
/// nothing that would let anyone tune a program to the hidden cases — no
/// hidden scenarios or seeds, no reference or known-wrong solutions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    pub id: String,
    pub version: u32,
    pub title: Text,
    pub grade_band: String,
    pub module: String,
    pub literacies: Vec<String>,
    pub languages: Vec<String>,
    pub lesson: Option<String>,
    pub instructions: Text,
    /// Starter program per language.
    pub starter: BTreeMap<String, String>,
    /// Limits the lab tightens (names as in docs/programs.md).
    pub limits: BTreeMap<String, u64>,
    /// The practice cases, which a student may run and replay.
    pub visible_cases: Vec<VisibleCase>,
    /// How many hidden cases grading adds; only their number is public.
    pub hidden_cases: usize,
}

/// A practice case of a lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisibleCase {
    pub name: String,
    pub seed: u64,
    pub weight: f64,
}

impl From<&Lab> for LabView {
    fn from(l: &Lab) -> Self {
        LabView {
            id: l.id.clone(),
            version: l.version,
            title: l.title.clone(),
            grade_band: l.grade_band.clone(),
            module: l.module.clone(),
            literacies: l.literacies.clone(),
            languages: l.languages.clone(),
            lesson: l.lesson.clone(),
            instructions: l.instructions.clone(),
            starter: l.starter.clone(),
            limits: l.limits.clone(),
            visible_cases: l.cases.iter().filter(|c| !c.hidden).map(|c| VisibleCase { name: c.name.clone(), seed: c.seed, weight: c.weight }).collect(),
            hidden_cases: l.cases.iter().filter(|c| c.hidden).count(),
        }
    }
}
