//! `qiming bench --city-db URL`: a city-wide contest on PostgreSQL, driven over HTTP, graded by a fleet of `qiming worker` processes.
//!
//! What it measures is what an organiser must size for (docs/competitions.md,
//! "Sizing a city event"):
//!
//! 1. **Seed** an empty PostgreSQL database with a city event: N students
//!    (default 100,000) in M approved teams (default 40,000) of 2–3 from the
//!    same school, three divisions, one robot-sim round with two labs graded on
//!    hidden seeded scenarios, a session per student, and the history of the
//!    window before the measured part: every submission that arrived before
//!    the last ten minutes, already graded (280,000 of the default 400,000).
//! 2. **Start** `qiming serve` on it with no in-process workers, and
//!    `--city-workers` `qiming worker` processes (one grading thread each):
//!    the fleet, as separate processes on the same database.
//! 3. **Drive** it over real HTTP from this process (hyper, a connection pool):
//!    - *queue*: Poisson arrivals at a rate the local fleet keeps up with
//!      (`--city-queue-rate`), to measure the queue's own wait,
//!    - *steady*: Poisson arrivals at the window's base rate,
//!    - *spike*: Poisson arrivals at the last-ten-minutes rate,
//!    - *capacity*: 64 contestants submitting back to back (what the server
//!      can accept at most),
//!
//!    each submission by a random member of a random team, for one of the
//!    two labs, a correct or a wrong program. Leaderboard pages are read
//!    throughout, by contestants (the frozen board) and by the organiser (the
//!    live one, recomputed as grades land).
//! 4. **Drain** for a while with no new arrivals, so the workers' throughput is
//!    measured on a full queue.
//!
//! Queue wait is measured from the moment a submission was acknowledged to the
//! moment a worker claimed it (status leaves `queued`), for every submission
//! of the queue phase, by polling the database every 100 ms. Grading
//! throughput per core is graded submissions over the CPU seconds the worker
//! processes used (read from /proc), so it does not depend on what else shares
//! the machine. The workers run at the lowest CPU priority (`nice -n 19`):
//! in a real event they are on other machines.
//!
//! From those figures the command derives the fleet size with the formula it
//! prints; nothing here tunes anything to the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sqlx::Row;

use crate::serve::db::Db;

/// The length of the deadline spike (the last ten minutes), seconds.
const SPIKE_SECONDS: f64 = 600.0;
/// Grading must finish this long after the deadline, seconds.
const GRACE_SECONDS: f64 = 600.0;
/// Contestants submitting back to back in the capacity phase.
const CAPACITY_CLIENTS: usize = 64;
/// Students per school (teams are formed within a school).
const PER_SCHOOL: usize = 250;
/// Districts of the city.
const DISTRICTS: usize = 12;
/// The round's labs: a quick one and a slower one, both graded on hidden cases.
const LABS: [&str; 2] = ["maze", "line-follow"];

/// What `qiming bench --city-db` was asked for.
#[derive(Clone, Debug)]
pub struct CityOptions {
    pub database_url: String,
    pub students: usize,
    pub teams: usize,
    pub submissions: usize,
    pub window_minutes: f64,
    pub spike_share: f64,
    pub phase_seconds: f64,
    pub drain_seconds: f64,
    pub workers: usize,
    pub queue_rate: f64,
    pub curriculum: PathBuf,
}

/// A small deterministic generator (arrivals, teams, programs).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() as f64) / ((1u64 << 31) as f64)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

/// The seeded city: ids the load needs.
struct City {
    event: i64,
    round: i64,
    divisions: Vec<i64>,
    /// Per team: its members' session tokens.
    teams: Vec<Vec<String>>,
    organiser_token: String,
    /// The largest submission id of the seeded history (later ids are the measured ones).
    history_max_id: i64,
    teams_per_division: usize,
}

fn unix_now() -> i64 {
    crate::serve::now()
}

async fn seed(db: &Db, o: &CityOptions, history: usize) -> anyhow::Result<City> {
    let pool = &db.pool;
    let existing: i64 = sqlx::query("SELECT COUNT(*) FROM events").fetch_one(pool).await?.try_get(0)?;
    ensure!(existing == 0, "--city-db must be an empty database (it holds {existing} events); create a fresh one");
    let now = unix_now();
    let city: i64 =
        sqlx::query("INSERT INTO regions (name, kind, created_at) VALUES ('City', 'city', $1) RETURNING id").bind(now).fetch_one(pool).await?.try_get(0)?;
    let mut districts = Vec::new();
    for d in 0..DISTRICTS {
        let id: i64 = sqlx::query("INSERT INTO regions (name, kind, parent_id, created_at) VALUES ($1, 'district', $2, $3) RETURNING id")
            .bind(format!("District {d}"))
            .bind(city)
            .bind(now)
            .fetch_one(pool)
            .await?
            .try_get(0)?;
        districts.push(id);
    }
    let schools_n = o.students.div_ceil(PER_SCHOOL);
    let mut schools = Vec::with_capacity(schools_n);
    let mut coaches = Vec::with_capacity(schools_n);
    for s in 0..schools_n {
        let id: i64 = sqlx::query("INSERT INTO schools (name, region_id, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(format!("School {s}"))
            .bind(districts[s % DISTRICTS])
            .bind(now)
            .fetch_one(pool)
            .await?
            .try_get(0)?;
        schools.push(id);
        let coach: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, created_at, school_id) VALUES ($1, $2, '!', 'teacher', $3, $4) RETURNING id",
        )
        .bind(format!("city-coach-{s}"))
        .bind(format!("Coach {s}"))
        .bind(now)
        .bind(id)
        .fetch_one(pool)
        .await?
        .try_get(0)?;
        coaches.push(coach);
    }
    // An unusable password hash ('!'): these accounts are reached through the sessions below only.
    let organiser: i64 = sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, role, created_at, region_id) VALUES ('city-organiser', 'Organiser', '!', 'organiser', $1, $2) RETURNING id",
    )
    .bind(now)
    .bind(city)
    .fetch_one(pool)
    .await?
    .try_get(0)?;
    // Students: school by blocks of PER_SCHOOL, so a team's members share a school.
    let mut tx = pool.begin().await?;
    for chunk in (0..o.students).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("('city-s{i}', 'Student {i}', '!', 'student', {now}, {})", schools[i / PER_SCHOOL])).collect();
        sqlx::query(&format!("INSERT INTO users (username, display_name, password_hash, role, created_at, school_id) VALUES {}", values.join(",")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let first_student: i64 = sqlx::query("SELECT MIN(id) FROM users WHERE role = 'student'").fetch_one(pool).await?.try_get(0)?;
    let event: i64 = sqlx::query(
        "INSERT INTO events (name, tier, kind, region_id, registration_deadline, created_by, created_at) VALUES ('City robot challenge', 'city', 'robot_sim', $1, $2, $3, $2) RETURNING id",
    )
    .bind(city)
    .bind(now - 86_400)
    .bind(organiser)
    .fetch_one(pool)
    .await?
    .try_get(0)?;
    let mut divisions = Vec::new();
    for (name, lo, hi) in [("Primary", 3, 6), ("Junior", 7, 9), ("Senior", 10, 12)] {
        let id: i64 = sqlx::query("INSERT INTO event_divisions (event_id, name, min_grade, max_grade) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(event)
            .bind(name)
            .bind(lo)
            .bind(hi)
            .fetch_one(pool)
            .await?
            .try_get(0)?;
        divisions.push(id);
    }
    // The measured part is the end of the window: the round opened long ago,
    // the board is frozen (contestants see the frozen board, the organiser the
    // live one) and it closes after the benchmark is over.
    let window = (o.window_minutes * 60.0) as i64;
    let round: i64 = sqlx::query(
        "INSERT INTO rounds (event_id, name, opens_at, closes_at, freeze_at, labs, submission_limit, created_at) VALUES ($1, 'Final', $2, $3, $4, $5, 1000, $2) RETURNING id",
    )
    .bind(event)
    .bind(now - window + SPIKE_SECONDS as i64)
    .bind(now + 4 * 3600)
    .bind(now - 60)
    .bind(LABS.join(","))
    .fetch_one(pool)
    .await?
    .try_get(0)?;
    // Teams: sizes differ by at most one (2 or 3 for the defaults), members consecutive students.
    let base = o.students / o.teams;
    let extra = o.students % o.teams;
    ensure!((1..=4).contains(&base) && (base < 4 || extra == 0), "--city-students / --city-teams must give teams of 1–4 students");
    let mut members: Vec<Vec<i64>> = Vec::with_capacity(o.teams);
    let mut next = 0usize;
    for t in 0..o.teams {
        let size = base + usize::from(t < extra);
        members.push((next..next + size).map(|i| first_student + i as i64).collect());
        next += size;
    }
    let mut tx = pool.begin().await?;
    for (c, chunk) in members.chunks(1000).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let t = c * 1000 + k;
                let school = ((m[0] - first_student) as usize) / PER_SCHOOL;
                format!(
                    "({event}, {}, 'Team {t}', {}, {}, 'approved', {now}, {now}, {organiser})",
                    divisions[t % divisions.len()],
                    coaches[school],
                    schools[school]
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO teams (event_id, division_id, name, coach_id, school_id, status, created_at, decided_at, decided_by) VALUES {}",
            values.join(",")
        ))
        .execute(&mut *tx)
        .await?;
    }
    let first_team: i64 = sqlx::query("SELECT MIN(id) FROM teams").fetch_one(&mut *tx).await?.try_get(0)?;
    let pairs: Vec<(i64, i64)> = members.iter().enumerate().flat_map(|(t, m)| m.iter().map(move |s| (first_team + t as i64, *s))).collect();
    for chunk in pairs.chunks(2000) {
        let values: Vec<String> = chunk.iter().map(|(t, s)| format!("({t}, {event}, {s})")).collect();
        sqlx::query(&format!("INSERT INTO team_members (team_id, event_id, student_id) VALUES {}", values.join(","))).execute(&mut *tx).await?;
    }
    for chunk in coaches.chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|c| format!("({event}, {c}, 'coach')")).collect();
        sqlx::query(&format!("INSERT INTO event_members (event_id, user_id, role) VALUES {}", values.join(","))).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // A session per student (as if each had signed in on the day) and one for the organiser.
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let secret = hex::encode(secret);
    let token_of = |user: i64| format!("city-{user}-{secret}");
    let expires = now + 12 * 3600;
    let mut tx = pool.begin().await?;
    for chunk in (first_student..first_student + o.students as i64).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> =
            chunk.iter().map(|u| format!("('{}', 'csrf', {u}, {now}, {expires})", crate::serve::auth::token_hash(&token_of(*u)))).collect();
        sqlx::query(&format!("INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, expires_at) VALUES {}", values.join(",")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let organiser_token = token_of(organiser);
    db.create_session(&crate::serve::auth::token_hash(&organiser_token), "csrf", organiser, now, expires).await?;
    // The history: the submissions that arrived before the measured part, graded.
    let mut rng = Lcg(2718);
    let opened = now - window + SPIKE_SECONDS as i64;
    let mut tx = pool.begin().await?;
    let mut remaining = history;
    while remaining > 0 {
        let n = remaining.min(1000);
        remaining -= n;
        let values: Vec<String> = (0..n)
            .map(|_| {
                let t = rng.below(o.teams);
                let student = members[t][rng.below(members[t].len())];
                let lab = LABS[rng.below(LABS.len())];
                let at = opened + rng.below((window - SPIKE_SECONDS as i64).max(1) as usize) as i64;
                let score = rng.below(101);
                format!("({round}, {}, '{lab}', {student}, 'rhai', '// earlier attempt', {at}, 'done', {score}, 100, {})", first_team + t as i64, at + 5)
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO submissions (round_id, team_id, lab_id, student_id, language, program, submitted_at, status, score, max_score, graded_at) VALUES {}",
            values.join(",")
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let history_max_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM submissions").fetch_one(pool).await?.try_get(0)?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(City {
        event,
        round,
        teams_per_division: o.teams.div_ceil(divisions.len()),
        divisions,
        teams: members.iter().map(|m| m.iter().map(|u| token_of(*u)).collect()).collect(),
        organiser_token,
        history_max_id,
    })
}

/// A child process killed when dropped (the server and the workers).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User + system CPU seconds a process has used so far (Linux /proc; USER_HZ is 100 on Linux's ABI).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

type Http = Client<HttpConnector, Full<Bytes>>;

/// One HTTP request; its status and how long the answer took (body read).
async fn call(http: &Http, method: &str, url: String, token: &str, body: Option<String>) -> (u16, Duration, Bytes) {
    let t = Instant::now();
    let mut req = hyper::Request::builder().method(method).uri(url).header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("request");
    match http.request(req).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            (status, t.elapsed(), bytes)
        }
        Err(_) => (0, t.elapsed(), Bytes::new()),
    }
}

/// What one phase recorded.
#[derive(Default)]
struct PhaseLog {
    /// (status, latency) of every submission.
    submits: Vec<(u16, Duration)>,
    /// Leaderboard pages: contestants (frozen board), organiser (live board).
    frozen_pages: Vec<(u16, Duration)>,
    live_pages: Vec<(u16, Duration)>,
    wall: Duration,
    offered_rate: Option<f64>,
}

struct Programs {
    /// Per lab: correct and wrong Rhai programs.
    by_lab: Vec<Vec<String>>,
}

impl Programs {
    fn load(curriculum: &Path) -> anyhow::Result<Programs> {
        let mut by_lab = Vec::new();
        for lab in LABS {
            let dir = curriculum.join("labs").join(lab);
            let mut programs = Vec::new();
            for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if name.ends_with(".rhai") && (name.starts_with("reference") || name.starts_with("wrong")) {
                    programs.push((name, std::fs::read_to_string(&path)?));
                }
            }
            programs.sort();
            ensure!(!programs.is_empty(), "{} has no reference or wrong Rhai programs", dir.display());
            by_lab.push(programs.into_iter().map(|(_, p)| p).collect());
        }
        Ok(Programs { by_lab })
    }

    /// A submission body: a lab, and a program made unique by a comment (contestants' programs differ).
    fn body(&self, rng: &mut Lcg, n: usize) -> String {
        let lab = rng.below(LABS.len());
        let list = &self.by_lab[lab];
        // Correct programs twice as often as each wrong one: late submissions are mostly fixes.
        let pick = rng.below(list.len() + 1).min(list.len() - 1);
        let program = format!("// attempt {n}\n{}", list[pick]);
        serde_json::json!({"lab_id": LABS[lab], "language": "rhai", "program": program}).to_string()
    }
}

struct Load {
    http: Http,
    base: String,
    city: Arc<City>,
    programs: Arc<Programs>,
}

impl Load {
    fn submit_url(&self) -> String {
        format!("{}/api/events/{}/rounds/{}/submissions", self.base, self.city.event, self.city.round)
    }

    fn page_url(&self, rng: &mut Lcg) -> String {
        let division = self.city.divisions[rng.below(self.city.divisions.len())];
        let page = 1 + rng.below(self.city.teams_per_division.div_ceil(50));
        format!("{}/api/events/{}/rounds/{}/leaderboard?division={division}&page={page}&per_page=50", self.base, self.city.event, self.city.round)
    }

    /// One submission by a random member of a random team.
    async fn submit_one(&self, rng_seed: u64, n: usize) -> (u16, Duration, Option<i64>) {
        let mut rng = Lcg(rng_seed);
        let team = &self.city.teams[rng.below(self.city.teams.len())];
        let token = &team[rng.below(team.len())];
        let body = self.programs.body(&mut rng, n);
        let (status, took, bytes) = call(&self.http, "POST", self.submit_url(), token, Some(body)).await;
        let id = (status == 202).then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok()?.get("id")?.as_i64()).flatten();
        (status, took, id)
    }
}

/// Leaderboard readers for the duration of a phase: contestants at `frozen_rate`, the organiser at `live_rate` pages/s.
async fn read_boards(load: Arc<Load>, until: Instant, frozen_rate: f64, live_rate: f64, log: Arc<Mutex<PhaseLog>>, seed: u64) {
    let mut tasks = Vec::new();
    for (rate, organiser) in [(frozen_rate, false), (live_rate, true)] {
        let load = load.clone();
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(seed ^ u64::from(organiser));
            let mut at = Instant::now();
            let mut inflight = Vec::new();
            while at < until {
                tokio::time::sleep_until(at.into()).await;
                let url = load.page_url(&mut rng);
                let token = if organiser {
                    load.city.organiser_token.clone()
                } else {
                    let team = &load.city.teams[rng.below(load.city.teams.len())];
                    team[0].clone()
                };
                let load = load.clone();
                let log = log.clone();
                inflight.push(tokio::spawn(async move {
                    let (status, took, _) = call(&load.http, "GET", url, &token, None).await;
                    let mut l = log.lock().expect("log");
                    if organiser { l.live_pages.push((status, took)) } else { l.frozen_pages.push((status, took)) }
                }));
                at += Duration::from_secs_f64(1.0 / rate);
            }
            for t in inflight {
                let _ = t.await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Poisson arrivals at `rate` per second for `seconds` (open loop: a slow answer does not slow the arrivals).
#[allow(clippy::too_many_arguments)]
async fn open_loop(
    load: Arc<Load>,
    rate: f64,
    seconds: f64,
    seed: u64,
    counter: Arc<std::sync::atomic::AtomicUsize>,
    track: Option<Tracker>,
    phase: usize,
) -> PhaseLog {
    let log = Arc::new(Mutex::new(PhaseLog { offered_rate: Some(rate), ..PhaseLog::default() }));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let boards = tokio::spawn(read_boards(load.clone(), until, 10.0, 2.0, log.clone(), seed));
    let mut rng = Lcg(seed);
    let mut at = start;
    let mut inflight = Vec::new();
    while at < until {
        tokio::time::sleep_until(at.into()).await;
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let load = load.clone();
        let log = log.clone();
        let s = rng.next();
        let track = track.clone();
        inflight.push(tokio::spawn(async move {
            let (status, took, id) = load.submit_one(s, n).await;
            if let (Some(id), Some(track)) = (id, track) {
                track.lock().expect("tracker").insert(id, (Instant::now(), phase));
            }
            log.lock().expect("log").submits.push((status, took));
        }));
        // Exponential inter-arrival times.
        at += Duration::from_secs_f64(-(1.0 - rng.unit()).ln() / rate);
    }
    for t in inflight {
        let _ = t.await;
    }
    let _ = boards.await;
    let mut log = std::mem::take(&mut *log.lock().expect("log"));
    log.wall = start.elapsed();
    log
}

/// `clients` contestants submitting back to back for `seconds` (closed loop: the most the server accepts).
async fn closed_loop(load: Arc<Load>, clients: usize, seconds: f64, seed: u64, counter: Arc<std::sync::atomic::AtomicUsize>) -> PhaseLog {
    let log = Arc::new(Mutex::new(PhaseLog::default()));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let boards = tokio::spawn(read_boards(load.clone(), until, 10.0, 2.0, log.clone(), seed));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let load = load.clone();
        let log = log.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(seed.wrapping_add(c as u64 * 7919));
            while Instant::now() < until {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (status, took, _) = load.submit_one(rng.next(), n).await;
                log.lock().expect("log").submits.push((status, took));
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let _ = boards.await;
    let mut log = std::mem::take(&mut *log.lock().expect("log"));
    log.wall = start.elapsed();
    log
}

/// Acknowledged submissions whose claim is awaited: id → (when acknowledged, phase).
type Tracker = Arc<Mutex<BTreeMap<i64, (Instant, usize)>>>;

/// Watches tracked submissions in the database: when each left `queued` (claimed by a worker).
/// Returns (phase, time from acknowledgement to claim), accurate to the 100 ms polling interval.
async fn watch_claims(db: Db, pending: Tracker, stop: Arc<std::sync::atomic::AtomicBool>) -> Vec<(usize, Duration)> {
    let mut waits = Vec::new();
    loop {
        let batch: Vec<i64> = pending.lock().expect("pending").keys().take(2000).copied().collect();
        if !batch.is_empty() {
            let list = batch.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            if let Ok(rows) = sqlx::query(&format!("SELECT id FROM submissions WHERE id IN ({list}) AND status <> 'queued'")).fetch_all(&db.pool).await {
                let seen = Instant::now();
                let mut p = pending.lock().expect("pending");
                for r in rows {
                    let id: i64 = r.get(0);
                    if let Some((acked, phase)) = p.remove(&id) {
                        waits.push((phase, seen.saturating_duration_since(acked)));
                    }
                }
            }
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return waits;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn latencies(v: &[(u16, Duration)], ok: u16) -> (Vec<Duration>, usize) {
    let mut good: Vec<Duration> = v.iter().filter(|(s, _)| *s == ok).map(|(_, d)| *d).collect();
    good.sort();
    let bad = v.len() - good.len();
    (good, bad)
}

async fn wait_healthy(http: &Http, base: &str, server: &mut Child) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Some(status) = server.try_wait()? {
            bail!("qiming serve exited ({status}) before it was ready; see its log above");
        }
        if call(http, "GET", format!("{base}/healthz"), "", None).await.0 == 200 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("qiming serve did not become healthy within 60 s")
}

/// Runs the benchmark; returns the table rows (measurement, result, note).
pub async fn run(o: CityOptions) -> anyhow::Result<Vec<(String, String, String)>> {
    ensure!(o.database_url.starts_with("postgres"), "--city-db must be a postgres://… URL (the city event runs on PostgreSQL with a worker fleet)");
    ensure!(o.teams > 0 && o.students >= o.teams, "--city-teams must be between 1 and --city-students");
    ensure!((0.0..1.0).contains(&o.spike_share), "--city-spike-share must be in [0, 1)");
    let window = o.window_minutes * 60.0;
    ensure!(window > SPIKE_SECONDS, "--city-window-minutes must be longer than the 10-minute spike");
    let programs = Arc::new(Programs::load(&o.curriculum)?);
    let spike_n = (o.submissions as f64 * o.spike_share).round();
    let base_rate = (o.submissions as f64 - spike_n) / (window - SPIKE_SECONDS);
    let spike_rate = spike_n / SPIKE_SECONDS;
    let history = (o.submissions as f64 - spike_n) as usize;

    let db = Db::connect(&o.database_url).await?;
    eprintln!("city bench: seeding {} students, {} teams, {history} earlier submissions …", o.students, o.teams);
    let t = Instant::now();
    let city = Arc::new(seed(&db, &o, history).await?);
    let seeded = t.elapsed();

    let exe = std::env::current_exe().context("find the qiming binary")?;
    let data = std::env::temp_dir().join(format!("qiming-city-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let config = data.join("qiming.toml");
    std::fs::write(&config, format!("workers = 0\ncurriculum = {:?}\n", o.curriculum.canonicalize()?.display().to_string()))?;
    let mut server = Proc(
        Command::new(&exe)
            .args(["serve", "--database-url", &o.database_url, "--addr", &format!("127.0.0.1:{port}"), "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(data.join("data"))
            .env("QIMING_ADMIN_PASSWORD", format!("city-admin-{}", std::process::id()))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("start qiming serve")?,
    );
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server.0).await?;
    let mut fleet = Vec::new();
    for _ in 0..o.workers {
        // In a real event the fleet runs on other machines. Here it shares the
        // cores, at the lowest priority, so the server and PostgreSQL are
        // measured as if it did not; μ counts the fleet's own CPU seconds,
        // which the priority does not change.
        fleet.push(Proc(
            Command::new("nice")
                .args(["-n", "19"])
                .arg(&exe)
                .args(["worker", "--database-url", &o.database_url, "--workers", "1", "--curriculum"])
                .arg(&o.curriculum)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .context("start qiming worker (through nice)")?,
        ));
    }
    let cpu_of = |procs: &[Proc]| procs.iter().map(|p| cpu_seconds(p.0.id())).sum::<f64>();
    let load = Arc::new(Load { http: http.clone(), base: base.clone(), city: city.clone(), programs });

    // The first page computes every board of the round.
    let mut rng = Lcg(1);
    let (status, first_page, _) = call(&http, "GET", load.page_url(&mut rng), &city.organiser_token, None).await;
    ensure!(status == 200, "the leaderboard answered {status}");

    let pending: Tracker = Arc::new(Mutex::new(BTreeMap::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn(watch_claims(db.clone(), pending.clone(), stop.clone()));
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fleet_cpu_0 = cpu_of(&fleet);
    let server_cpu_0 = cpu_seconds(server.0.id());
    let graded_before = graded_count(&db, &city).await?;
    let run_start = Instant::now();

    let mut phases: Vec<(&str, PhaseLog)> = Vec::new();
    // First a rate the local fleet keeps up with: the queue's own wait (claim
    // latency), every submission tracked. Then the event's rates, which the
    // local fleet cannot keep up with: their backlog is what W is sized for.
    for (name, rate, tracked) in [("queue", o.queue_rate, true), ("steady", base_rate, false), ("spike", spike_rate, false)] {
        eprintln!("city bench: {name} phase, {rate:.1} submissions/s for {} s …", o.phase_seconds);
        let track = tracked.then(|| pending.clone());
        let log = open_loop(load.clone(), rate, o.phase_seconds, 11 + phases.len() as u64, counter.clone(), track, phases.len()).await;
        phases.push((name, log));
    }
    eprintln!("city bench: capacity phase, {CAPACITY_CLIENTS} contestants back to back for {} s …", o.phase_seconds / 2.0);
    let capacity = closed_loop(load.clone(), CAPACITY_CLIENTS, o.phase_seconds / 2.0, 99, counter.clone()).await;
    phases.push(("capacity", capacity));
    let server_cpu = cpu_seconds(server.0.id()) - server_cpu_0;
    let intake_wall = run_start.elapsed();

    // Drain: no new arrivals; the fleet works through the queue while the organiser reads the live board.
    eprintln!("city bench: drain, {} s …", o.drain_seconds);
    let drain_log = Arc::new(Mutex::new(PhaseLog::default()));
    read_boards(load.clone(), Instant::now() + Duration::from_secs_f64(o.drain_seconds), 10.0, 2.0, drain_log.clone(), 5).await;
    let drain = std::mem::take(&mut *drain_log.lock().expect("drain"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let waits = watcher.await.context("claim watcher")?;
    let still_tracked = pending.lock().expect("pending").len();
    let fleet_cpu = cpu_of(&fleet) - fleet_cpu_0;
    let graded = graded_count(&db, &city).await? - graded_before;
    let run_wall = run_start.elapsed();
    let queued: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND status IN ('queued', 'running')")
        .bind(city.round)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?;
    drop(fleet);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);

    let per_core = if fleet_cpu > 0.0 { graded as f64 / fleet_cpu } else { 0.0 };
    let mut rows: Vec<(String, String, String)> = Vec::new();
    rows.push((
        format!("seed: {} students, {} teams, {history} graded submissions of the window before the last 10 minutes", o.students, o.teams),
        format!("{:.1} s", seeded.as_secs_f64()),
        "setup, not part of the event".into(),
    ));
    rows.push(("leaderboard: first page of the round (computes every board)".into(), ms(first_page), "".into()));
    for (name, log) in &phases {
        let (ok, bad) = latencies(&log.submits, 202);
        let what = match log.offered_rate {
            Some(r) => format!("intake, {name}: Poisson arrivals at {r:.1}/s for {:.0} s", log.wall.as_secs_f64()),
            None => format!("intake, {name}: {CAPACITY_CLIENTS} contestants back to back for {:.0} s", log.wall.as_secs_f64()),
        };
        rows.push((
            what,
            format!(
                "{:.1} accepted/s; p50 {} p99 {} max {}; {bad} not accepted",
                ok.len() as f64 / log.wall.as_secs_f64(),
                ms(pct(&ok, 0.5)),
                ms(pct(&ok, 0.99)),
                ms(ok.last().copied().unwrap_or_default())
            ),
            if name == &"spike" { format!("≥ {spike_rate:.0}/s needed") } else { "".into() },
        ));
        for (who, pages) in [("contestants (frozen board)", &log.frozen_pages), ("organiser (live board)", &log.live_pages)] {
            let (ok, bad) = latencies(pages, 200);
            rows.push((
                format!("leaderboard page of 50 during {name}, {who}: {} pages", pages.len()),
                format!("p50 {} p99 {} max {}; {bad} failed", ms(pct(&ok, 0.5)), ms(pct(&ok, 0.99)), ms(ok.last().copied().unwrap_or_default())),
                "p99 < 50 ms".into(),
            ));
        }
    }
    for (who, pages) in [("contestants (frozen board)", &drain.frozen_pages), ("organiser (live board)", &drain.live_pages)] {
        let (ok, bad) = latencies(pages, 200);
        rows.push((
            format!("leaderboard page of 50 while the fleet drains the queue, {who}: {} pages", pages.len()),
            format!("p50 {} p99 {} max {}; {bad} failed", ms(pct(&ok, 0.5)), ms(pct(&ok, 0.99)), ms(ok.last().copied().unwrap_or_default())),
            "p99 < 50 ms".into(),
        ));
    }
    let mut w: Vec<Duration> = waits.iter().map(|(_, d)| *d).collect();
    w.sort();
    rows.push((
        format!("queue wait (acknowledged → claimed by a worker) at {:.1} submissions/s, a rate the {} local workers keep up with; every submission of the queue phase", o.queue_rate, o.workers),
        format!(
            "p50 {} p90 {} p99 {} max {} over {} submissions ({still_tracked} not claimed by the end)",
            ms(pct(&w, 0.5)),
            ms(pct(&w, 0.9)),
            ms(pct(&w, 0.99)),
            ms(w.last().copied().unwrap_or_default()),
            w.len()
        ),
        "".into(),
    ));
    let accepted: usize = phases.iter().map(|(_, l)| l.submits.iter().filter(|(s, _)| *s == 202).count()).sum();
    rows.push((
        "server CPU per accepted submission (qiming serve only; PostgreSQL not counted)".into(),
        format!("{:.2} ms ({accepted} accepted in {:.0} s, {server_cpu:.1} CPU s)", server_cpu * 1e3 / accepted.max(1) as f64, intake_wall.as_secs_f64()),
        "".into(),
    ));
    rows.push((
        format!("grading: {graded} submissions graded by {} `qiming worker` processes in {:.0} s ({queued} left queued)", o.workers, run_wall.as_secs_f64()),
        format!("{:.1} graded/s; {fleet_cpu:.0} worker CPU s ⇒ μ = {per_core:.1} submissions per core-second", graded as f64 / run_wall.as_secs_f64()),
        "".into(),
    ));
    // The fleet: all work arriving after time t must be done by the deadline plus the grace period,
    // W ≥ (A(T) − A(t)) / (μ · (T + G − t)) for every t; with a base rate and a spike the maximum is at t = 0 or at the spike's start.
    let n = o.submissions as f64;
    let whole = n / (per_core * (window + GRACE_SECONDS));
    let spike = spike_n / (per_core * (SPIKE_SECONDS + GRACE_SECONDS));
    let need = whole.max(spike).ceil();
    rows.push((
        "workers needed to finish grading 10 minutes after the deadline: W = ⌈max over t of (A(T) − A(t)) / (μ (T + 600 s − t))⌉ = ⌈max(N / (μ (T + 600)), N_spike / (μ · 1200))⌉".into(),
        format!(
            "N = {}, T = {window:.0} s, N_spike = {spike_n:.0}, μ = {per_core:.1}: max({whole:.2}, {spike:.2}) ⇒ **{need:.0} worker cores** (extrapolated from μ)",
            o.submissions
        ),
        "".into(),
    ));
    Ok(rows)
}

async fn graded_count(db: &Db, city: &City) -> anyhow::Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND id > $2 AND status IN ('done', 'failed')")
        .bind(city.round)
        .bind(city.history_max_id)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?)
}
