//! Assessments in connected mode: the tests open to a student, a sitting on the school server's JSON API, and the on-disk answer queue that keeps every answer until the server has it.
//!
//! The studio speaks the browser's API (docs/assessment-delivery.md): `POST
//! …/sitting` starts or resumes, `PUT …/sitting/answers/{item}` saves one answer
//! as given (idempotent: the same PUT twice leaves the same row), `POST
//! …/sitting/submit` scores. Every answer goes to the queue file
//! (`assess-queue.json`, written atomically) *before* it is sent and leaves it
//! only when the server has said "saved". The queue is sent one request at a
//! time, oldest first, so the last change to an answer is the one the server
//! keeps even when a reply is lost and the same answer goes out again. A newer
//! answer to the same question replaces an older one still waiting. Requests run
//! on their own threads, as in [`crate::connect`]; the UI reads results from a
//! channel and never waits for the network.

pub mod ui;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connect::{NetError, Session, agent, answer, url};
use crate::files;

/// Who answers: the queue never sends one account's answers with another's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub server: String,
    pub username: String,
}

impl Account {
    pub fn of(session: &Session) -> Account {
        Account { server: session.server.clone(), username: session.username.clone() }
    }
}

/// One answer waiting for the server's "saved".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedAnswer {
    /// Order of giving (stable across restarts).
    pub seq: u64,
    #[serde(flatten)]
    pub account: Account,
    pub assessment_id: i64,
    pub item_id: String,
    /// The response as given (`null` clears the answer).
    pub response: Value,
}

/// A program being written for a performance task, kept so a closed laptop keeps it too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    #[serde(flatten)]
    pub account: Account,
    pub assessment_id: i64,
    pub item_id: String,
    pub language: String,
    pub program: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct QueueFile {
    format_version: u32,
    next_seq: u64,
    #[serde(default)]
    answers: Vec<QueuedAnswer>,
    #[serde(default)]
    drafts: Vec<Draft>,
}

/// The server's reply to a saved answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SavedAnswer {
    pub item_id: String,
    #[serde(default)]
    pub answered_at: Option<i64>,
    pub remaining_seconds: i64,
}

/// What became of a sent answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    /// The server has it; it left the queue.
    Saved,
    /// Not delivered (no network, the server busy or restarting, signed out): it stays and is sent again.
    Retry,
    /// The sitting is over (time up, submitted): this assessment's waiting answers can never be saved and were dropped.
    Closed { code: String, dropped: usize },
    /// The server refused this answer for good (it left the queue).
    Refused { code: String, reason: Option<String> },
}

/// The answers on their way to the server, kept in `assess-queue.json`.
pub struct AnswerQueue {
    path: PathBuf,
    file: QueueFile,
    /// Drafts changed since the last write.
    drafts_dirty: bool,
    /// The last write failed (the disk is full or read-only).
    pub disk_error: bool,
}

const QUEUE_FORMAT: u32 = 1;

impl AnswerQueue {
    /// The queue in `path`; empty when there is none. A file that cannot be read is
    /// moved aside (`….damaged`), never overwritten, so nothing in it is destroyed.
    pub fn open(path: &Path) -> AnswerQueue {
        let file = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<QueueFile>(&bytes) {
                Ok(f) => f,
                Err(_) => {
                    let _ = std::fs::rename(path, path.with_extension("json.damaged"));
                    QueueFile::default()
                }
            },
            Err(_) => QueueFile::default(),
        };
        AnswerQueue { path: path.to_path_buf(), file, drafts_dirty: false, disk_error: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self) -> std::io::Result<()> {
        self.file.format_version = QUEUE_FORMAT;
        let bytes = serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other)?;
        let result = files::write_atomically(&self.path, &bytes);
        self.disk_error = result.is_err();
        if result.is_ok() {
            self.drafts_dirty = false;
        }
        result
    }

    /// Adds an answer (on disk before this returns) in place of any older one to the
    /// same question still waiting. Returns its sequence number.
    pub fn push(&mut self, account: &Account, assessment_id: i64, item_id: &str, response: Value) -> std::io::Result<u64> {
        self.file.next_seq = self.file.next_seq.max(self.file.answers.iter().map(|a| a.seq).max().unwrap_or(0)) + 1;
        let seq = self.file.next_seq;
        self.file.answers.retain(|a| !(a.account == *account && a.assessment_id == assessment_id && a.item_id == item_id));
        self.file.answers.push(QueuedAnswer { seq, account: account.clone(), assessment_id, item_id: item_id.to_string(), response });
        self.write().map(|()| seq)
    }

    /// The oldest answer of this account: the next to send.
    pub fn next(&self, account: &Account) -> Option<&QueuedAnswer> {
        self.file.answers.iter().filter(|a| a.account == *account).min_by_key(|a| a.seq)
    }

    /// Every answer waiting, oldest first.
    pub fn answers(&self) -> &[QueuedAnswer] {
        &self.file.answers
    }

    /// This account's answers to one assessment still waiting, oldest first.
    pub fn pending<'a>(&'a self, account: &'a Account, assessment_id: i64) -> impl Iterator<Item = &'a QueuedAnswer> + 'a {
        self.file.answers.iter().filter(move |a| a.account == *account && a.assessment_id == assessment_id)
    }

    pub fn len(&self) -> usize {
        self.file.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.file.answers.is_empty()
    }

    /// Takes the server's answer to the request that sent `seq` and updates the queue.
    pub fn settle(&mut self, seq: u64, result: &Result<SavedAnswer, NetError>) -> Settled {
        let entry = self.file.answers.iter().find(|a| a.seq == seq).cloned();
        let settled = match result {
            Ok(_) => Settled::Saved,
            // Never delivered, or we cannot tell: keep it. Sending it again is harmless (idempotent PUT).
            Err(NetError::Offline | NetError::Garbled) => Settled::Retry,
            Err(NetError::Server { status, .. }) if *status >= 500 || *status == 429 || *status == 401 => Settled::Retry,
            Err(NetError::Server { code, .. }) if matches!(code.as_str(), "time_up" | "sitting_submitted" | "not_started") => {
                Settled::Closed { code: code.clone(), dropped: 0 }
            }
            Err(NetError::Server { code, reason, .. }) => Settled::Refused { code: code.clone(), reason: reason.clone() },
        };
        match settled {
            Settled::Saved | Settled::Refused { .. } => {
                // Superseded while it was on its way: the newer answer is still waiting.
                self.file.answers.retain(|a| a.seq != seq);
                let _ = self.write();
                settled
            }
            Settled::Retry => settled,
            Settled::Closed { code, .. } => {
                let dropped = match &entry {
                    Some(e) => {
                        let before = self.file.answers.len();
                        self.file.answers.retain(|a| !(a.account == e.account && a.assessment_id == e.assessment_id));
                        let _ = self.write();
                        before - self.file.answers.len()
                    }
                    None => 0,
                };
                Settled::Closed { code, dropped }
            }
        }
    }

    /// Sends this account's answers one by one, oldest first, until the queue is empty
    /// or one cannot be delivered. Returns how many were saved and what stopped it.
    pub fn flush(&mut self, account: &Account, mut send: impl FnMut(&QueuedAnswer) -> Result<SavedAnswer, NetError>) -> (usize, Option<Settled>) {
        let mut saved = 0;
        while let Some(next) = self.next(account).cloned() {
            match self.settle(next.seq, &send(&next)) {
                Settled::Saved => saved += 1,
                Settled::Refused { .. } => {}
                stop => return (saved, Some(stop)),
            }
        }
        (saved, None)
    }

    /// The program draft of one performance task.
    pub fn draft(&self, account: &Account, assessment_id: i64, item_id: &str) -> Option<&Draft> {
        self.file.drafts.iter().find(|d| d.account == *account && d.assessment_id == assessment_id && d.item_id == item_id)
    }

    /// Keeps a program draft (written by [`AnswerQueue::save_drafts`], at most once a second while typing).
    pub fn set_draft(&mut self, draft: Draft) {
        self.file.drafts.retain(|d| !(d.account == draft.account && d.assessment_id == draft.assessment_id && d.item_id == draft.item_id));
        self.file.drafts.push(draft);
        self.drafts_dirty = true;
    }

    /// Forgets an assessment's drafts (its sitting is over).
    pub fn clear_drafts(&mut self, account: &Account, assessment_id: i64) {
        let before = self.file.drafts.len();
        self.file.drafts.retain(|d| !(d.account == *account && d.assessment_id == assessment_id));
        if before != self.file.drafts.len() {
            let _ = self.write();
        }
    }

    /// Writes changed drafts.
    pub fn save_drafts(&mut self) -> std::io::Result<()> {
        if self.drafts_dirty { self.write() } else { Ok(()) }
    }
}

// ---------------------------------------------------------------- what the server sends

/// Text in both languages as the server sends it (`{"zh-CN": …, "en": …}`), or plain.
pub fn pick(lang: crate::i18n::Lang, v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get(lang.tag()).or_else(|| o.get("zh-CN")).and_then(Value::as_str).unwrap_or_default().to_string(),
        _ => String::new(),
    }
}

/// Where the taker stands in one assessment (`mine` of `GET /api/assessments`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Mine {
    /// `not_started`, `in_progress` or `submitted`.
    pub status: String,
    /// `not_open`, `open` or `closed`.
    #[serde(default)]
    pub window: String,
    #[serde(default)]
    pub remaining_seconds: Option<i64>,
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub max_points: Option<i64>,
    #[serde(default)]
    pub grading: bool,
}

/// An assessment in the list (and at the head of a sitting).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AssessmentEntry {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub presentation: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub time_limit_minutes: i64,
    #[serde(default)]
    pub max_items: Option<i64>,
    #[serde(default)]
    pub sits: bool,
    #[serde(default)]
    pub mine: Option<Mine>,
}

impl AssessmentEntry {
    pub fn adaptive(&self) -> bool {
        self.mode == "adaptive"
    }
}

#[derive(Deserialize)]
struct AssessmentList {
    assessments: Vec<AssessmentEntry>,
}

/// An option of a choice, ordering or matching item.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Choice {
    pub id: String,
    pub text: Value,
}

/// An item as a taker sees it (never the key).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ItemView {
    pub id: String,
    /// `single`, `multiple`, `true_false`, `numeric`, `text`, `ordering`, `matching`, `performance`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub literacy: String,
    #[serde(default)]
    pub stem: Value,
    #[serde(default)]
    pub max_points: i64,
    #[serde(default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub targets: Vec<Choice>,
    #[serde(default)]
    pub unit: Value,
}

/// A program handed in for a performance task.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProgramView {
    pub id: i64,
    pub language: String,
    #[serde(default)]
    pub program: String,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub report: Option<Value>,
}

/// One question of a sitting, with the taker's saved response (and, after the end, the key).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Presented {
    pub position: i64,
    pub item: ItemView,
    #[serde(default)]
    pub response: Option<Value>,
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub correct: Option<Value>,
    #[serde(default)]
    pub explanation: Option<Value>,
    #[serde(default)]
    pub task: Option<qiming_api::LabView>,
    #[serde(default)]
    pub programs: Vec<ProgramView>,
    #[serde(default)]
    pub attempts_left: Option<i64>,
    #[serde(default)]
    pub attempt_limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SittingInfo {
    pub id: i64,
    pub remaining_seconds: i64,
    #[serde(default)]
    pub position: i64,
    /// `in_progress` or `submitted`.
    pub status: String,
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub grading: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LiteracyResult {
    pub literacy: String,
    #[serde(default)]
    pub name: Value,
    pub points: i64,
    pub max_points: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Results {
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub max_points: Option<i64>,
    #[serde(default)]
    pub submitted_by: Option<String>,
    #[serde(default)]
    pub literacies: Vec<LiteracyResult>,
    #[serde(default)]
    pub grading: bool,
}

/// `GET/POST /api/assessments/{id}/sitting`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SittingView {
    pub assessment: AssessmentEntry,
    pub sitting: SittingInfo,
    pub items: Vec<Presented>,
    #[serde(default)]
    pub results: Option<Results>,
}

impl SittingView {
    pub fn submitted(&self) -> bool {
        self.sitting.status == "submitted"
    }
}

// ---------------------------------------------------------------- requests

fn bearer(s: &Session) -> String {
    format!("Bearer {}", s.token)
}

/// Sends one queued answer (blocking): `PUT /api/assessments/{id}/sitting/answers/{item}`.
pub fn send_answer(session: &Session, a: &QueuedAnswer) -> Result<SavedAnswer, NetError> {
    let path = format!("/api/assessments/{}/sitting/answers/{}", a.assessment_id, encode(&a.item_id));
    answer::<SavedAnswer>(
        agent().put(url(&session.server, &path)).header("Authorization", bearer(session)).send_json(serde_json::json!({"response": a.response})),
    )
}

/// Item ids are `[a-z0-9-]`, but a path segment is encoded anyway.
fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

enum Event {
    Listed(Result<Vec<AssessmentEntry>, NetError>),
    Opened { id: i64, result: Result<SittingView, NetError> },
    Refreshed { id: i64, result: Result<SittingView, NetError> },
    Saved { seq: u64, result: Result<SavedAnswer, NetError> },
    Submitted { id: i64, result: Result<SittingView, NetError> },
    HandedIn { id: i64, result: Result<Value, NetError> },
    Advanced { id: i64, result: Result<SittingView, NetError> },
}

/// Wait before sending again after the server could not be reached.
const RETRY_EVERY: Duration = Duration::from_secs(3);
/// Look again at programs being graded (and at results still being graded).
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The sitting on screen.
pub struct OpenSitting {
    pub view: SittingView,
    /// `remaining_seconds` as of this instant (the server's clock, counted down here).
    clock: (i64, Instant),
    /// Every answer as the taker sees it: the server's, with the queue's newer ones on top.
    pub responses: BTreeMap<String, Value>,
    pub position: usize,
    /// The server's time of the last answer it confirmed.
    pub saved_at: Option<i64>,
    /// Program drafts per performance item: (language, program).
    pub drafts: BTreeMap<String, (String, String)>,
    pub confirm_submit: bool,
    /// Why the sitting ended while the taker was in it (`time_up`, …).
    pub closed_by: Option<String>,
    /// Answers dropped because the sitting had closed before they reached the server.
    pub dropped: usize,
    /// A program on its way to the server.
    pub handing_in: bool,
    /// The last refusal of something the taker did (a program, submitting), for the screen.
    pub refusal: Option<NetError>,
}

impl OpenSitting {
    /// Seconds left by the server's clock.
    pub fn remaining(&self) -> i64 {
        if self.view.submitted() {
            return 0;
        }
        (self.clock.0 - self.clock.1.elapsed().as_secs() as i64).max(0)
    }

    pub fn answered(&self) -> usize {
        self.view.items.iter().filter(|p| self.responses.get(&p.item.id).is_some_and(|r| !r.is_null())).count()
    }

    pub fn current(&self) -> Option<&Presented> {
        self.view.items.get(self.position)
    }
}

/// Assessments in connected mode: the list, the open sitting and the answer queue.
pub struct Assess {
    pub list: Vec<AssessmentEntry>,
    pub sitting: Option<OpenSitting>,
    pub queue: AnswerQueue,
    /// The last problem talking to the server (cleared on success).
    pub problem: Option<NetError>,
    /// A list or sitting request is running.
    pub busy: bool,
    /// Open this assessment once signed in (`--assessment`).
    pub want: Option<i64>,
    /// Text size of the questions (A− / A+).
    pub font_size: f32,
    /// The ordering row the keyboard moves (↑/↓ after its number).
    pub row: Option<usize>,
    /// The session token the list was fetched for.
    listed_for: Option<String>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    in_flight: Option<u64>,
    retry_at: Option<Instant>,
    last_poll: Option<Instant>,
    submit_wanted: bool,
    refreshing: bool,
    last_draft_write: Option<Instant>,
}

pub const FONT_SIZES: std::ops::RangeInclusive<f32> = 14.0..=32.0;

impl Assess {
    pub fn new(data_dir: &Path) -> Assess {
        let (tx, rx) = channel();
        Assess {
            list: Vec::new(),
            sitting: None,
            queue: AnswerQueue::open(&data_dir.join("assess-queue.json")),
            problem: None,
            busy: false,
            want: None,
            font_size: 18.0,
            row: None,
            listed_for: None,
            tx,
            rx,
            in_flight: None,
            retry_at: None,
            last_poll: None,
            submit_wanted: false,
            refreshing: false,
            last_draft_write: None,
        }
    }

    /// Fetches the assessments open to the student.
    pub fn refresh(&mut self, session: &Session) {
        let (s, tx) = (session.clone(), self.tx.clone());
        self.busy = true;
        self.listed_for = Some(session.token.clone());
        std::thread::spawn(move || {
            let result = answer::<AssessmentList>(agent().get(url(&s.server, "/api/assessments")).header("Authorization", bearer(&s)).call())
                .map(|l| l.assessments.into_iter().filter(|a| a.sits).collect());
            let _ = tx.send(Event::Listed(result));
        });
    }

    /// Starts (inside the window) or resumes the sitting: `POST …/sitting`.
    pub fn open(&mut self, session: &Session, id: i64) {
        let (s, tx) = (session.clone(), self.tx.clone());
        self.busy = true;
        std::thread::spawn(move || {
            let result =
                answer::<SittingView>(agent().post(url(&s.server, &format!("/api/assessments/{id}/sitting"))).header("Authorization", bearer(&s)).send_empty());
            let _ = tx.send(Event::Opened { id, result });
        });
    }

    fn fetch(&mut self, session: &Session, id: i64) {
        if self.refreshing {
            return;
        }
        self.refreshing = true;
        let (s, tx) = (session.clone(), self.tx.clone());
        std::thread::spawn(move || {
            let result =
                answer::<SittingView>(agent().get(url(&s.server, &format!("/api/assessments/{id}/sitting"))).header("Authorization", bearer(&s)).call());
            let _ = tx.send(Event::Refreshed { id, result });
        });
    }

    /// Back to the list (the sitting stays on the server; its answers stay in the queue).
    pub fn close(&mut self, session: Option<&Session>) {
        self.sitting = None;
        self.submit_wanted = false;
        let _ = self.queue.save_drafts();
        if let Some(s) = session {
            self.refresh(s);
        }
    }

    /// The taker gave (or cleared, with `None`) an answer: shown at once, queued on disk, sent in order.
    pub fn answer(&mut self, session: &Session, item_id: &str, response: Option<Value>) {
        let Some(open) = &mut self.sitting else { return };
        if open.view.submitted() || open.remaining() == 0 {
            return;
        }
        let response = response.unwrap_or(Value::Null);
        open.responses.insert(item_id.to_string(), response.clone());
        let id = open.view.assessment.id;
        // A failed write is shown (disk_error) and the answer still goes out from memory.
        let _ = self.queue.push(&Account::of(session), id, item_id, response);
        self.pump(session);
    }

    /// Moves to question `i` and tells the server, so a resume lands there (best effort: not queued).
    pub fn go_to(&mut self, session: &Session, i: usize) {
        let Some(open) = &mut self.sitting else { return };
        if i >= open.view.items.len() || i == open.position {
            return;
        }
        open.position = i;
        open.confirm_submit = false;
        if open.view.submitted() {
            return;
        }
        let (s, id) = (session.clone(), open.view.assessment.id);
        std::thread::spawn(move || {
            let _ = agent()
                .put(url(&s.server, &format!("/api/assessments/{id}/sitting/position")))
                .header("Authorization", bearer(&s))
                .send_json(serde_json::json!({"position": i}));
        });
    }

    /// Ends the sitting: waits for the queue to empty, then `POST …/sitting/submit`.
    pub fn submit(&mut self, session: &Session) {
        if let Some(open) = &mut self.sitting {
            open.confirm_submit = false;
            open.refusal = None;
            self.submit_wanted = true;
            self.pump(session);
        }
    }

    /// Whether a submit is waiting for the queue (or for the server's answer).
    pub fn submitting(&self) -> bool {
        self.submit_wanted
    }

    /// Adaptive tests: the server picks the next question once this one is saved.
    pub fn advance(&mut self, session: &Session) {
        let Some(open) = &self.sitting else { return };
        let id = open.view.assessment.id;
        if self.queue.pending(&Account::of(session), id).next().is_some() {
            self.pump(session);
            return;
        }
        let (s, tx) = (session.clone(), self.tx.clone());
        self.busy = true;
        std::thread::spawn(move || {
            let result = answer::<SittingView>(
                agent().post(url(&s.server, &format!("/api/assessments/{id}/sitting/next"))).header("Authorization", bearer(&s)).send_empty(),
            );
            let _ = tx.send(Event::Advanced { id, result });
        });
    }

    /// Hands in the current performance task's draft (an attempt each time: sent once, never queued).
    pub fn hand_in(&mut self, session: &Session, item_id: &str) {
        let Some(open) = &mut self.sitting else { return };
        let Some((language, program)) = open.drafts.get(item_id).cloned() else { return };
        if open.handing_in {
            return;
        }
        open.handing_in = true;
        open.refusal = None;
        let (s, tx, id, item) = (session.clone(), self.tx.clone(), open.view.assessment.id, item_id.to_string());
        std::thread::spawn(move || {
            let path = format!("/api/assessments/{id}/sitting/programs/{}", encode(&item));
            let result = answer::<Value>(
                agent()
                    .post(url(&s.server, &path))
                    .header("Authorization", bearer(&s))
                    .send_json(serde_json::json!({"language": language, "program": program})),
            );
            let _ = tx.send(Event::HandedIn { id, result });
        });
    }

    /// The taker edited a performance task's program (kept on disk, at most once a second).
    pub fn set_draft(&mut self, session: &Session, item_id: &str, language: String, program: String) {
        let Some(open) = &mut self.sitting else { return };
        open.drafts.insert(item_id.to_string(), (language.clone(), program.clone()));
        let assessment_id = open.view.assessment.id;
        self.queue.set_draft(Draft { account: Account::of(session), assessment_id, item_id: item_id.to_string(), language, program });
    }

    /// Sends the next queued answer of this account, one at a time; then a wanted submit.
    fn pump(&mut self, session: &Session) {
        if self.in_flight.is_some() || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let account = Account::of(session);
        if let Some(next) = self.queue.next(&account).cloned() {
            self.in_flight = Some(next.seq);
            let (s, tx) = (session.clone(), self.tx.clone());
            std::thread::spawn(move || {
                let result = send_answer(&s, &next);
                let _ = tx.send(Event::Saved { seq: next.seq, result });
            });
            return;
        }
        if self.submit_wanted
            && let Some(open) = &self.sitting
            && !self.busy
        {
            let (s, tx, id) = (session.clone(), self.tx.clone(), open.view.assessment.id);
            self.busy = true;
            std::thread::spawn(move || {
                let result = answer::<SittingView>(
                    agent().post(url(&s.server, &format!("/api/assessments/{id}/sitting/submit"))).header("Authorization", bearer(&s)).send_empty(),
                );
                let _ = tx.send(Event::Submitted { id, result });
            });
        }
    }

    /// A sitting view arrived: show it with the queue's waiting answers on top.
    fn show(&mut self, session: &Session, view: SittingView, keep_position: bool) {
        let account = Account::of(session);
        let id = view.assessment.id;
        let mut responses: BTreeMap<String, Value> = view.items.iter().map(|p| (p.item.id.clone(), p.response.clone().unwrap_or(Value::Null))).collect();
        for q in self.queue.pending(&account, id) {
            responses.insert(q.item_id.clone(), q.response.clone());
        }
        let last = view.items.len().saturating_sub(1);
        let old = self.sitting.take().filter(|o| o.view.assessment.id == id);
        let position = match &old {
            Some(o) if keep_position && !view.assessment.adaptive() => o.position.min(last),
            _ => (view.sitting.position.max(0) as usize).min(last),
        };
        let mut drafts = BTreeMap::new();
        for p in view.items.iter().filter(|p| p.item.kind == "performance") {
            let kept = old.as_ref().and_then(|o| o.drafts.get(&p.item.id).cloned());
            let saved = self.queue.draft(&account, id, &p.item.id).map(|d| (d.language.clone(), d.program.clone()));
            let handed = p.programs.last().map(|x| (x.language.clone(), x.program.clone()));
            let starter = p.task.as_ref().and_then(|t| {
                let language = t.summary.languages.first().cloned().unwrap_or_else(|| "rhai".into());
                t.starter.get(&language).map(|s| (language, s.clone()))
            });
            if let Some(d) = kept.or(saved).or(handed).or(starter) {
                drafts.insert(p.item.id.clone(), d);
            }
        }
        if view.submitted() {
            self.submit_wanted = false;
            self.queue.clear_drafts(&account, id);
        }
        let clock = (view.sitting.remaining_seconds, Instant::now());
        let (saved_at, closed_by, dropped, confirm_submit) =
            old.as_ref().map_or((None, None, 0, false), |o| (o.saved_at, o.closed_by.clone(), o.dropped, o.confirm_submit && !view.submitted()));
        self.sitting = Some(OpenSitting {
            view,
            clock,
            responses,
            position,
            saved_at,
            drafts,
            confirm_submit,
            closed_by,
            dropped,
            handing_in: false,
            refusal: old.and_then(|o| o.refusal),
        });
    }

    /// Per frame: take finished requests, send the queue, follow the clock, poll grading.
    pub fn tick(&mut self, ctx: &egui::Context, session: Option<&Session>) {
        while let Ok(event) = self.rx.try_recv() {
            let Some(session) = session else {
                // Signed out meanwhile: nothing to show; a queued answer stays queued (sending it again is harmless).
                self.in_flight = None;
                self.busy = false;
                self.refreshing = false;
                self.submit_wanted = false;
                continue;
            };
            match event {
                Event::Listed(result) => {
                    self.busy = false;
                    match result {
                        Ok(list) => {
                            self.list = list;
                            self.problem = None;
                        }
                        Err(e) => self.problem = Some(e),
                    }
                }
                Event::Opened { id, result } => {
                    self.busy = false;
                    match result {
                        Ok(view) => {
                            self.problem = None;
                            self.sitting = None;
                            self.show(session, view, false);
                        }
                        Err(e) => {
                            self.problem = Some(e);
                            if self.want == Some(id) {
                                self.want = None;
                            }
                        }
                    }
                }
                Event::Refreshed { id, result } | Event::Advanced { id, result } => {
                    self.refreshing = false;
                    self.busy = false;
                    match result {
                        Ok(view) if self.sitting.as_ref().is_some_and(|o| o.view.assessment.id == id) => {
                            self.problem = None;
                            self.show(session, view, true);
                        }
                        Ok(_) => {}
                        Err(NetError::Server { code, .. }) if code == "answer_first" => self.pump(session),
                        Err(e) => self.problem = Some(e),
                    }
                }
                Event::Saved { seq, result } => {
                    self.in_flight = None;
                    let which = self.queue.answers().iter().find(|a| a.seq == seq).map(|a| a.assessment_id);
                    let remaining = result.as_ref().ok().map(|r| (r.remaining_seconds, r.answered_at));
                    match self.queue.settle(seq, &result) {
                        Settled::Saved => {
                            self.problem = None;
                            self.retry_at = None;
                            if let (Some(open), Some((left, at))) = (&mut self.sitting, remaining)
                                && which.is_none_or(|w| w == open.view.assessment.id)
                            {
                                open.clock = (left, Instant::now());
                                open.saved_at = at.or(open.saved_at).or(Some(now()));
                            }
                        }
                        Settled::Retry => {
                            self.retry_at = Some(Instant::now() + RETRY_EVERY);
                            if let Err(e) = result {
                                self.problem = Some(e);
                            }
                        }
                        Settled::Closed { code, dropped } => {
                            if let Some(open) = &mut self.sitting
                                && which == Some(open.view.assessment.id)
                            {
                                open.closed_by = Some(code);
                                open.dropped += dropped;
                                let id = open.view.assessment.id;
                                self.fetch(session, id);
                            }
                        }
                        Settled::Refused { code, reason } => {
                            if let Some(open) = &mut self.sitting {
                                open.refusal = Some(NetError::Server { status: 400, code, reason });
                            }
                        }
                    }
                    self.pump(session);
                }
                Event::Submitted { id, result } => {
                    self.busy = false;
                    self.submit_wanted = false;
                    match result {
                        Ok(view) => {
                            self.problem = None;
                            self.show(session, view, true);
                        }
                        Err(e) => {
                            if let Some(open) = self.sitting.as_mut().filter(|o| o.view.assessment.id == id) {
                                open.refusal = Some(e.clone());
                            }
                            if !matches!(e, NetError::Offline) {
                                self.fetch(session, id);
                            }
                            self.problem = Some(e);
                        }
                    }
                }
                Event::HandedIn { id, result } => {
                    if let Some(open) = self.sitting.as_mut().filter(|o| o.view.assessment.id == id) {
                        open.handing_in = false;
                        if let Err(e) = &result {
                            open.refusal = Some(e.clone());
                        }
                    }
                    if !matches!(result, Err(NetError::Offline)) {
                        self.fetch(session, id);
                    }
                }
            }
        }
        let Some(session) = session else {
            self.sitting = None;
            self.list.clear();
            self.listed_for = None;
            return;
        };
        if self.listed_for.as_deref() != Some(session.token.as_str()) && !self.busy {
            self.refresh(session);
        }
        if let Some(id) = self.want
            && !self.busy
            && self.sitting.is_none()
        {
            self.want = None;
            self.open(session, id);
        }
        if self.retry_at.is_some_and(|t| Instant::now() >= t) {
            self.retry_at = None;
        }
        self.pump(session);
        // The clock ran out, or a program (or the results) is being graded: look at the server's copy.
        let now_i = Instant::now();
        if let Some(open) = &self.sitting {
            let id = open.view.assessment.id;
            let grading = open.view.items.iter().any(|p| p.programs.iter().any(|x| x.status == "queued" || x.status == "running"))
                || open.view.results.as_ref().is_some_and(|r| r.grading);
            let time_up = !open.view.submitted() && open.remaining() == 0;
            if (grading || time_up) && self.last_poll.is_none_or(|t| now_i - t >= POLL_EVERY) {
                self.last_poll = Some(now_i);
                self.fetch(session, id);
            }
        }
        if self.last_draft_write.is_none_or(|t| now_i - t >= Duration::from_secs(1)) {
            self.last_draft_write = Some(now_i);
            let _ = self.queue.save_drafts();
        }
        if self.busy || self.in_flight.is_some() || !self.queue.is_empty() || self.sitting.as_ref().is_some_and(|o| !o.view.submitted()) {
            // The countdown moves every second; requests finish on other threads.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `mm:ss` (or `h:mm:ss`) for the countdown.
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 { format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60) } else { format!("{:02}:{:02}", s / 60, s % 60) }
}
