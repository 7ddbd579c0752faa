//! Connected mode: sign in to a Qiming server, list the student's assignments, submit, and watch the grade arrive — and keep working when the network drops.
//!
//! Every request runs on its own thread; the UI only reads results from a
//! channel, so a slow or dead network never freezes the window. The session
//! keeps a bearer token in the data folder (`session.json`), never the
//! password. A submission is written to the outbox (`outbox.json`, atomically)
//! before it is sent and stays there, marked "waiting", until the server has
//! accepted it; the outbox is retried every few seconds and after a restart.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use qiming_api::{Assignment, AssignmentList, ErrorBody, LoginRequest, Submission, SubmissionRequest, SubmissionStatus};
use serde::{Deserialize, Serialize};

use crate::files;
use crate::i18n::{Lang, t, tf};

/// The saved sign-in: server and token (never the password).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub username: String,
    pub token: String,
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

/// Where a submission is on its way to a grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Saved here; not yet accepted by the server (offline, or not tried yet).
    Waiting,
    /// Accepted by the server: it is queued or being graded.
    Sent {
        submission_id: i64,
    },
    Graded {
        submission_id: i64,
        score: f64,
        max_score: f64,
    },
    /// The server refused it for good (`code` from its error body).
    Refused {
        code: String,
        reason: Option<String>,
    },
    /// Grading failed on the server.
    Failed {
        submission_id: i64,
    },
}

/// A submission in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Local sequence number (stable across restarts).
    pub seq: u64,
    pub server: String,
    pub assignment_id: i64,
    pub lab_id: String,
    pub language: String,
    pub program: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    pub delivery: Delivery,
}

/// A network problem, sorted for the learner.
#[derive(Clone, Debug, PartialEq)]
pub enum NetError {
    /// Could not reach the server at all.
    Offline,
    /// The server answered with an error body.
    Server { status: u16, code: String, reason: Option<String> },
    /// The answer was not what a Qiming server sends.
    Garbled,
}

enum Event {
    LoggedIn(Result<Session, NetError>),
    Assignments(Result<Vec<Assignment>, NetError>),
    Sent { seq: u64, result: Result<Submission, NetError> },
    Polled { seq: u64, result: Result<Submission, NetError> },
}

/// Wait between retries of waiting submissions, and between polls of queued ones.
const RETRY_EVERY: Duration = Duration::from_secs(5);
const POLL_EVERY: Duration = Duration::from_secs(2);

pub struct Connected {
    pub server: String,
    pub username: String,
    pub password: String,
    pub session: Option<Session>,
    pub assignments: Vec<Assignment>,
    pub outbox: Vec<Outgoing>,
    /// The last problem talking to the server (cleared on success).
    pub problem: Option<NetError>,
    pub busy: bool,
    data_dir: PathBuf,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    in_flight: std::collections::BTreeSet<u64>,
    last_retry: Option<Instant>,
    last_poll: Option<Instant>,
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(15))).http_status_as_error(false).build())
}

pub(crate) fn url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

/// Reads a JSON answer, or the error body the server sent instead.
pub(crate) fn answer<T: serde::de::DeserializeOwned>(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<T, NetError> {
    let mut response = result.map_err(|_| NetError::Offline)?;
    let status = response.status().as_u16();
    if status < 300 {
        return response.body_mut().read_json::<T>().map_err(|_| NetError::Garbled);
    }
    match response.body_mut().read_json::<ErrorBody>() {
        Ok(e) => Err(NetError::Server { status, code: e.error.code, reason: e.error.reason }),
        Err(_) => Err(NetError::Server { status, code: format!("http_{status}"), reason: None }),
    }
}

impl Connected {
    pub fn new(data_dir: &Path, server: Option<String>) -> Connected {
        let (tx, rx) = channel();
        let session: Option<Session> = std::fs::read(data_dir.join("session.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let outbox: Vec<Outgoing> = std::fs::read(data_dir.join("outbox.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        let server = server.or_else(|| session.as_ref().map(|s| s.server.clone())).unwrap_or_default();
        let mut c = Connected {
            username: session.as_ref().map(|s| s.username.clone()).unwrap_or_default(),
            server,
            password: String::new(),
            session,
            assignments: Vec::new(),
            outbox,
            problem: None,
            busy: false,
            data_dir: data_dir.to_path_buf(),
            tx,
            rx,
            in_flight: Default::default(),
            last_retry: None,
            last_poll: None,
        };
        if c.session.is_some() {
            c.refresh();
        }
        c
    }

    fn save_session(&self) {
        let path = self.data_dir.join("session.json");
        match &self.session {
            Some(s) => {
                if let Ok(bytes) = serde_json::to_vec_pretty(s) {
                    let _ = files::write_atomically(&path, &bytes);
                    restrict(&path);
                }
            }
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    fn save_outbox(&self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.outbox).map_err(std::io::Error::other)?;
        files::write_atomically(&self.data_dir.join("outbox.json"), &bytes)
    }

    /// Signs in with the typed username and password; the password is forgotten at once.
    pub fn login(&mut self) {
        let server = self.server.trim().to_string();
        let request = LoginRequest { username: self.username.trim().to_string(), password: std::mem::take(&mut self.password) };
        let tx = self.tx.clone();
        self.busy = true;
        std::thread::spawn(move || {
            let result = answer::<LoginAnswer>(agent().post(url(&server, "/api/login")).send_json(&request)).map(|a| Session {
                server: server.clone(),
                username: request.username.clone(),
                token: a.token,
            });
            let _ = tx.send(Event::LoggedIn(result));
        });
    }

    pub fn logout(&mut self) {
        if let Some(s) = self.session.take() {
            let token = s.token.clone();
            // Best effort: the token is forgotten here whatever the server says.
            std::thread::spawn(move || {
                let _ = agent().post(url(&s.server, "/api/logout")).header("Authorization", format!("Bearer {token}")).send_empty();
            });
        }
        self.assignments.clear();
        self.save_session();
    }

    /// Fetches the assignment list.
    pub fn refresh(&mut self) {
        let Some(s) = self.session.clone() else { return };
        let tx = self.tx.clone();
        self.busy = true;
        std::thread::spawn(move || {
            let result =
                answer::<AssignmentList>(agent().get(url(&s.server, "/api/assignments")).header("Authorization", format!("Bearer {}", s.token)).call())
                    .map(|l| l.assignments);
            let _ = tx.send(Event::Assignments(result));
        });
    }

    /// Puts a program in the outbox (on disk first) and tries to send it.
    pub fn submit(&mut self, assignment_id: i64, lab_id: &str, language: &str, program: String, encoding: Option<String>) -> std::io::Result<u64> {
        let server = self.session.as_ref().map(|s| s.server.clone()).unwrap_or_else(|| self.server.clone());
        let seq = self.outbox.iter().map(|o| o.seq).max().unwrap_or(0) + 1;
        self.outbox.push(Outgoing {
            seq,
            server,
            assignment_id,
            lab_id: lab_id.to_string(),
            language: language.to_string(),
            program,
            encoding,
            delivery: Delivery::Waiting,
        });
        if let Err(e) = self.save_outbox() {
            self.outbox.pop();
            return Err(e);
        }
        self.send(seq);
        Ok(seq)
    }

    fn send(&mut self, seq: u64) {
        let Some(s) = self.session.clone() else { return };
        let Some(o) = self.outbox.iter().find(|o| o.seq == seq).cloned() else { return };
        if o.server != s.server || !self.in_flight.insert(seq) {
            return;
        }
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let body = SubmissionRequest { language: o.language.clone(), program: o.program.clone(), encoding: o.encoding.clone() };
            let result = answer::<Submission>(
                agent()
                    .post(url(&s.server, &format!("/api/assignments/{}/submissions", o.assignment_id)))
                    .header("Authorization", format!("Bearer {}", s.token))
                    .send_json(&body),
            );
            let _ = tx.send(Event::Sent { seq, result });
        });
    }

    fn poll(&mut self, seq: u64, submission_id: i64) {
        let Some(s) = self.session.clone() else { return };
        if !self.in_flight.insert(seq) {
            return;
        }
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let result = answer::<Submission>(
                agent().get(url(&s.server, &format!("/api/submissions/{submission_id}"))).header("Authorization", format!("Bearer {}", s.token)).call(),
            );
            let _ = tx.send(Event::Polled { seq, result });
        });
    }

    fn set_delivery(&mut self, seq: u64, delivery: Delivery) {
        if let Some(o) = self.outbox.iter_mut().find(|o| o.seq == seq)
            && o.delivery != delivery
        {
            o.delivery = delivery;
            let _ = self.save_outbox();
        }
    }

    /// Per-frame: take finished requests, retry waiting submissions, poll queued ones.
    pub fn tick(&mut self, ctx: &egui::Context) {
        while let Ok(event) = self.rx.try_recv() {
            match event {
                Event::LoggedIn(result) => {
                    self.busy = false;
                    match result {
                        Ok(session) => {
                            self.session = Some(session);
                            self.problem = None;
                            self.save_session();
                            self.refresh();
                        }
                        Err(e) => self.problem = Some(e),
                    }
                }
                Event::Assignments(result) => {
                    self.busy = false;
                    match result {
                        Ok(list) => {
                            self.assignments = list;
                            self.problem = None;
                        }
                        Err(NetError::Server { status: 401, .. }) => {
                            // The token expired or was revoked: sign in again.
                            self.session = None;
                            self.save_session();
                            self.problem = Some(NetError::Server { status: 401, code: "unauthorized".into(), reason: None });
                        }
                        Err(e) => self.problem = Some(e),
                    }
                }
                Event::Sent { seq, result } => {
                    self.in_flight.remove(&seq);
                    match result {
                        Ok(state) => {
                            self.problem = None;
                            self.set_delivery(seq, Delivery::Sent { submission_id: state.id });
                            self.refresh();
                        }
                        // Not delivered: it stays waiting and is retried.
                        Err(NetError::Offline) => self.problem = Some(NetError::Offline),
                        Err(NetError::Server { status, .. }) if status >= 500 || status == 429 => {}
                        Err(NetError::Server { code, reason, .. }) => self.set_delivery(seq, Delivery::Refused { code, reason }),
                        Err(NetError::Garbled) => self.problem = Some(NetError::Garbled),
                    }
                }
                Event::Polled { seq, result } => {
                    self.in_flight.remove(&seq);
                    if let Ok(state) = result {
                        match state.status {
                            SubmissionStatus::Done => {
                                let (score, max_score) = (state.score.unwrap_or(0.0), state.max_score.unwrap_or(100.0));
                                self.set_delivery(seq, Delivery::Graded { submission_id: state.id, score, max_score });
                                self.refresh();
                            }
                            SubmissionStatus::Failed => self.set_delivery(seq, Delivery::Failed { submission_id: state.id }),
                            SubmissionStatus::Queued | SubmissionStatus::Running => {}
                        }
                    }
                }
            }
        }
        let now = Instant::now();
        if self.session.is_some() && self.last_retry.is_none_or(|t| now - t >= RETRY_EVERY) {
            self.last_retry = Some(now);
            let waiting: Vec<u64> = self.outbox.iter().filter(|o| o.delivery == Delivery::Waiting).map(|o| o.seq).collect();
            for seq in waiting {
                self.send(seq);
            }
        }
        if self.last_poll.is_none_or(|t| now - t >= POLL_EVERY) {
            self.last_poll = Some(now);
            let queued: Vec<(u64, i64)> = self
                .outbox
                .iter()
                .filter_map(|o| match o.delivery {
                    Delivery::Sent { submission_id } => Some((o.seq, submission_id)),
                    _ => None,
                })
                .collect();
            for (seq, id) in queued {
                self.poll(seq, id);
            }
        }
        if self.busy || !self.in_flight.is_empty() || self.outbox.iter().any(|o| matches!(o.delivery, Delivery::Waiting | Delivery::Sent { .. })) {
            ctx.request_repaint_after(Duration::from_millis(500));
        }
    }

    /// The latest outbox entry of an assignment.
    pub fn latest(&self, assignment_id: i64) -> Option<&Outgoing> {
        self.outbox.iter().rev().find(|o| o.assignment_id == assignment_id)
    }
}

/// Only the user may read the token file.
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A network problem in the learner's words.
pub fn problem_text(lang: Lang, e: &NetError) -> String {
    match e {
        NetError::Offline => t(lang, "net_offline").to_string(),
        NetError::Garbled => t(lang, "net_garbled").to_string(),
        NetError::Server { code, reason, .. } => {
            let key = match (code.as_str(), reason.as_deref()) {
                ("unauthorized" | "bad_credentials", _) => "net_bad_login",
                ("password_change_required", _) => "net_password_change",
                ("account_deactivated", _) => "net_deactivated",
                ("too_many_requests" | "throttled", _) => "net_slow_down",
                ("cannot_submit", Some("closed")) => "net_closed",
                ("cannot_submit", Some("not_open")) => "net_not_open",
                ("cannot_submit", Some("attempts_used_up")) => "net_attempts_used_up",
                ("payload_too_large" | "too_large", _) => "net_too_large",
                _ => "net_refused",
            };
            tf(lang, key, &[("code", code)])
        }
    }
}

/// What the outbox says about a submission, for the learner.
pub fn delivery_text(lang: Lang, d: &Delivery) -> String {
    match d {
        Delivery::Waiting => t(lang, "delivery_waiting").to_string(),
        Delivery::Sent { .. } => t(lang, "delivery_sent").to_string(),
        Delivery::Graded { score, max_score, .. } => tf(lang, "delivery_graded", &[("score", score), ("max", max_score)]),
        Delivery::Refused { code, reason } => problem_text(lang, &NetError::Server { status: 409, code: code.clone(), reason: reason.clone() }),
        Delivery::Failed { .. } => t(lang, "delivery_failed").to_string(),
    }
}

/// "2 days 5 hours left" from seconds until the deadline (no clock arithmetic
/// beyond that, so no time zone can make it wrong).
pub fn time_left(lang: Lang, seconds: i64) -> String {
    if seconds <= 0 {
        return t(lang, "status_closed").to_string();
    }
    let (days, hours, minutes) = (seconds / 86_400, (seconds % 86_400) / 3_600, (seconds % 3_600) / 60);
    if days > 0 {
        tf(lang, "left_days", &[("d", &days), ("h", &hours)])
    } else if hours > 0 {
        tf(lang, "left_hours", &[("h", &hours), ("m", &minutes)])
    } else {
        tf(lang, "left_minutes", &[("m", &minutes.max(1))])
    }
}
