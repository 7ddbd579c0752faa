//! On-site rounds (docs/competitions.md, "On-site rounds"): an address
//! allow-list per round, one session per contestant at their seat, rooms and
//! seats with a printable seat plan and door lists.
//!
//! **Where the address comes from.** [`ClientAddr`]: the TCP peer of the
//! connection (`listen.rs` puts it in every request), or — only with
//! `trust_forwarded_for` set, behind the school's own reverse proxy — the
//! last address in `X-Forwarded-For` (the one that proxy added; anything a
//! client wrote before it is ignored). An IPv4 client of a server listening
//! on `[::]` arrives as `::ffff:a.b.c.d` and is compared as `a.b.c.d`.
//!
//! **What is guarded.** While a round is on site and not yet closed, a
//! contestant's (an approved team member's) requests for the round's tasks,
//! submissions, choice and clarifications, a quiz round's answer sheet, and for its submissions at
//! `/api/submissions/{id}…`, pass [`guard`] (a middleware, so the handlers
//! of contest.rs and judging.rs stay as they are): from an address outside
//! the allow-list they are refused (403 `onsite_address`); from a session
//! other than the one bound to their seat, 409 `onsite_other_seat`.
//! Organisers, judges, coaches and everyone else are not restricted.
//!
//! **One session per contestant.** The first session a contestant uses at an
//! allowed address during the round (or signs in with, from an hour before
//! it opens) is bound to them; binding ends their other sessions. Signing in
//! again anywhere else while that session lives is refused (409
//! `onsite_signed_in_elsewhere`) — the older session is kept, as a seat
//! cannot be taken over from another desk — until a proctor (an organiser
//! or judge of the event) releases the seat, which ends the bound session.

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::{ActiveCaller, Caller, ClientAddr};
use super::contest::{Access, Event, managed_event, visible_event, visible_round};
use super::db::User;
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{audit_in, check_name};
use crate::fonts::FontSet;

/// Most CIDRs in one allow-list.
pub const MAX_ALLOW: usize = 256;
/// Most rooms of one auto-assignment.
pub const MAX_ROOMS: usize = 200;
/// Most seats in one room (and the highest seat number).
pub const MAX_SEATS: i64 = 1000;
/// From this long before a round opens, signing in binds the contestant's session (seconds).
pub const CHECKIN_SECONDS: i64 = 3600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events/{id}/rounds/{round}/onsite", get(get_onsite).put(set_onsite))
        .route("/api/events/{id}/rounds/{round}/onsite/release", post(release))
        .route("/api/events/{id}/rounds/{round}/seats", get(get_seats).post(assign_seats))
        .route("/api/events/{id}/rounds/{round}/seats/auto", post(auto_seats))
        .route("/api/events/{id}/rounds/{round}/seats.pdf", get(seats_pdf))
}

// ---------------------------------------------------------------- addresses

/// An address block: `10.1.0.0/16`, `2001:db8::/32`, or one address (`/32`, `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDRESS[/PREFIX]`; host bits are cleared (`10.1.2.3/16` is `10.1.0.0/16`).
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            Some(_) => return None,
            None => max,
        };
        Some(Cidr { net: mask(ip, prefix), prefix })
    }

    /// Whether `ip` lies in the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.net.is_ipv4() && mask(ip, self.prefix) == self.net
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v) => {
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            IpAddr::V4((u32::from(v) & m).into())
        }
        IpAddr::V6(v) => {
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            IpAddr::V6((u128::from(v) & m).into())
        }
    }
}

/// The client's address as [`ClientAddr`] gives it (`unknown`, a bare
/// address, or one with a port from a proxy's header), if it is one.
pub fn client_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    t.parse::<IpAddr>().ok().or_else(|| t.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())).map(|ip| ip.to_canonical())
}

/// Whether the address is inside one of the stored allow-list's blocks.
pub fn allowed(allow: &str, address: &str) -> bool {
    let Some(ip) = client_ip(address) else { return false };
    allow.split(',').filter_map(Cidr::parse).any(|c| c.contains(ip))
}

// ---------------------------------------------------------------- settings

/// A round's on-site settings (off when there is no row).
#[derive(Clone, Debug, Default)]
struct Settings {
    enabled: bool,
    allow: String,
}

async fn settings(state: &AppState, round: i64) -> Result<Settings, AppError> {
    let row = sqlx::query("SELECT enabled, allow FROM onsite_rounds WHERE round_id = $1").bind(round).fetch_optional(&state.db.pool).await?;
    Ok(match row {
        Some(r) => Settings { enabled: r.try_get::<i64, _>(0)? != 0, allow: r.try_get(1)? },
        None => Settings::default(),
    })
}

fn allow_list(allow: &str) -> Vec<&str> {
    allow.split(',').filter(|s| !s.is_empty()).collect()
}

/// The seat of one contestant, as JSON.
fn seat_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    Ok(json!({
        "room": r.try_get::<String, _>("room")?, "seat": r.try_get::<i64, _>("seat")?, "student_id": r.try_get::<i64, _>("student_id")?,
        "name": r.try_get::<String, _>("display_name")?, "team_id": r.try_get::<i64, _>("team_id")?, "team": r.try_get::<String, _>("team")?,
        "school_id": r.try_get::<i64, _>("school_id")?, "school": r.try_get::<String, _>("school")?,
    }))
}

const SEAT_QUERY: &str = "SELECT s.room, s.seat, s.student_id, u.display_name, s.team_id, t.name AS team, t.school_id, sc.name AS school \
     FROM onsite_seats s JOIN users u ON u.id = s.student_id JOIN teams t ON t.id = s.team_id JOIN schools sc ON sc.id = t.school_id \
     WHERE s.round_id = $1";

/// The seats the caller may see: every seat for organisers and judges; a
/// contestant's own team's and a coach's teams' for them.
async fn seats_for(state: &AppState, caller: &User, a: &Access, round: i64) -> Result<Vec<Value>, AppError> {
    let rows = if a.officiates() {
        sqlx::query(&format!("{SEAT_QUERY} ORDER BY s.room, s.seat")).bind(round).fetch_all(&state.db.pool).await?
    } else {
        sqlx::query(&format!("{SEAT_QUERY} AND (s.team_id = $2 OR t.coach_id = $3) ORDER BY s.room, s.seat"))
            .bind(round)
            .bind(a.team.unwrap_or(0))
            .bind(caller.id)
            .fetch_all(&state.db.pool)
            .await?
    };
    rows.iter().map(seat_json).collect()
}

/// The round's on-site settings. Organisers and judges also get the
/// allow-list and who is signed in at which address; a contestant, their seat.
async fn get_onsite(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let s = settings(&state, round.id).await?;
    let mut v = json!({"round_id": round.id, "enabled": s.enabled, "checkin_seconds": CHECKIN_SECONDS});
    if a.officiates() {
        v["allow"] = json!(allow_list(&s.allow));
        let rows = sqlx::query(
            "SELECT o.user_id, u.display_name, o.address, o.bound_at, (SELECT COUNT(*) FROM sessions x WHERE x.token_hash = o.token_hash AND x.expires_at > $2) AS live \
             FROM onsite_sessions o JOIN users u ON u.id = o.user_id WHERE o.round_id = $1 ORDER BY o.user_id",
        )
        .bind(round.id)
        .bind(now())
        .fetch_all(&state.db.pool)
        .await?;
        v["sessions"] = json!(
            rows.iter()
                .map(|r| Ok(json!({"student_id": r.try_get::<i64, _>(0)?, "name": r.try_get::<String, _>(1)?, "address": r.try_get::<String, _>(2)?,
                    "bound_at": r.try_get::<i64, _>(3)?, "live": r.try_get::<i64, _>(4)? > 0})))
                .collect::<Result<Vec<_>, AppError>>()?
        );
    }
    if a.team.is_some() {
        let mine = seats_for(&state, &caller.user, &a, round.id).await?;
        v["seat"] = mine.into_iter().find(|s| s["student_id"] == caller.user.id).unwrap_or(Value::Null);
    }
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOnsite {
    enabled: bool,
    /// CIDRs (IPv4 or IPv6) or single addresses.
    #[serde(default)]
    allow: Vec<String>,
}

/// Turns on-site mode on or off and sets the allow-list (the event's organisers; audited).
async fn set_onsite(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<SetOnsite>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    if req.allow.len() > MAX_ALLOW {
        return Err(AppError::invalid("allow", "count", format!("at most {MAX_ALLOW} address blocks")).max(MAX_ALLOW as i64));
    }
    let mut blocks: Vec<String> = Vec::new();
    for text in &req.allow {
        let Some(c) = Cidr::parse(text) else {
            return Err(AppError::invalid("allow", "cidr", format!("{text:?} is not an address block: write 10.1.0.0/16, 192.168.3.7 or 2001:db8::/32")));
        };
        let c = c.to_string();
        if !blocks.contains(&c) {
            blocks.push(c);
        }
    }
    if req.enabled && blocks.is_empty() {
        return Err(AppError::invalid("allow", "required", "an on-site round needs at least one address block its seats are in"));
    }
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO onsite_rounds (round_id, enabled, allow, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (round_id) DO UPDATE SET enabled = $2, allow = $3, updated_by = $4, updated_at = $5",
    )
    .bind(round.id)
    .bind(i64::from(req.enabled))
    .bind(blocks.join(","))
    .bind(caller.user.id)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit_in(&mut tx, &caller.user, "onsite_set", &format!("event_id={} round_id={} enabled={} blocks={}", ev.id, round.id, req.enabled, blocks.len())).await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "enabled": req.enabled, "allow": blocks, "checkin_seconds": CHECKIN_SECONDS})))
}

// ---------------------------------------------------------------- sessions

async fn session_live(state: &AppState, token_hash: &str) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT 1 FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&state.db.pool)
        .await?
        .is_some())
}

/// Binds `token_hash` to the contestant's seat in the round, unless another
/// live session holds it (`Ok(false)`). Binding ends the contestant's other sessions.
async fn bind(state: &AppState, round: i64, user: i64, token_hash: &str, address: &str) -> Result<bool, AppError> {
    // Two tries: a concurrent binding may win the row between our read and our write.
    for _ in 0..2 {
        let held: Option<String> = sqlx::query("SELECT token_hash FROM onsite_sessions WHERE round_id = $1 AND user_id = $2")
            .bind(round)
            .bind(user)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if let Some(h) = &held {
            if h == token_hash {
                return Ok(true);
            }
            if session_live(state, h).await? {
                return Ok(false);
            }
        }
        let mut tx = state.db.begin_write().await?;
        let taken = match &held {
            // The bound session ended (signed out, expired): the seat's next session takes its place.
            Some(h) => sqlx::query("UPDATE onsite_sessions SET token_hash = $1, address = $2, bound_at = $3 WHERE round_id = $4 AND user_id = $5 AND token_hash = $6")
                .bind(token_hash)
                .bind(address)
                .bind(now())
                .bind(round)
                .bind(user)
                .bind(h)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            None => sqlx::query(
                "INSERT INTO onsite_sessions (round_id, user_id, token_hash, address, bound_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (round_id, user_id) DO NOTHING",
            )
            .bind(round)
            .bind(user)
            .bind(token_hash)
            .bind(address)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if taken == 0 {
            tx.rollback().await?;
            continue;
        }
        // One active session: the contestant's others (another browser, yesterday's at home) end.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(user).bind(token_hash).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO audit_log (at, actor_id, action, detail) VALUES ($1, $2, 'onsite_bind', $3)")
            .bind(now())
            .bind(user)
            .bind(format!("round_id={round}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(true);
    }
    Ok(false)
}

fn other_seat(round: i64) -> AppError {
    AppError::typed(
        StatusCode::CONFLICT,
        "onsite_other_seat",
        "this round is on site and you are signed in at another seat: continue there, or ask a proctor to release your seat",
        json!({"round_id": round}),
    )
}

/// Called by sign-in before the new session is created: refuses it while a
/// contestant's seat in a running on-site round is held by another live
/// session; binds it (ending the others) when it comes from an allowed address.
pub async fn sign_in(state: &AppState, user: &User, address: &str, token_hash: &str) -> Result<(), AppError> {
    if user.role != "student" {
        return Ok(());
    }
    let t = state.clock.now();
    let rounds = sqlx::query(
        "SELECT o.round_id, o.allow FROM onsite_rounds o JOIN rounds r ON r.id = o.round_id \
         JOIN team_members m ON m.event_id = r.event_id AND m.student_id = $1 AND m.active = 1 \
         JOIN teams tm ON tm.id = m.team_id AND tm.status = 'approved' \
         WHERE o.enabled = 1 AND r.closes_at >= $2 AND r.opens_at <= $3 ORDER BY o.round_id",
    )
    .bind(user.id)
    .bind(t)
    .bind(t + CHECKIN_SECONDS)
    .fetch_all(&state.db.pool)
    .await?;
    let mut bindable = Vec::new();
    for r in &rounds {
        let round: i64 = r.try_get(0)?;
        let held: Option<String> = sqlx::query("SELECT token_hash FROM onsite_sessions WHERE round_id = $1 AND user_id = $2")
            .bind(round)
            .bind(user.id)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if let Some(h) = held
            && session_live(state, &h).await?
        {
            return Err(AppError::typed(
                StatusCode::CONFLICT,
                "onsite_signed_in_elsewhere",
                "you are signed in at another seat of an on-site round: a proctor must release that seat before you sign in here",
                json!({"round_id": round}),
            ));
        }
        if allowed(&r.try_get::<String, _>(1)?, address) {
            bindable.push(round);
        }
    }
    for round in bindable {
        bind(state, round, user.id, token_hash, address).await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
    student_id: i64,
}

/// A proctor (an organiser or judge of the event) releases a contestant's
/// seat: the bound session ends, and the contestant may sign in at another seat.
async fn release(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<Release>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    if !a.officiates() {
        return Err(AppError::Forbidden("the event's organisers and judges release seats".into()));
    }
    let mut tx = state.db.begin_write().await?;
    let held: Option<String> = sqlx::query("SELECT token_hash FROM onsite_sessions WHERE round_id = $1 AND user_id = $2")
        .bind(round.id)
        .bind(req.student_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if let Some(h) = &held {
        sqlx::query("DELETE FROM onsite_sessions WHERE round_id = $1 AND user_id = $2").bind(round.id).bind(req.student_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(h).execute(&mut *tx).await?;
    }
    audit_in(
        &mut tx,
        &caller.user,
        "onsite_release",
        &format!("event_id={} round_id={} student_id={} released={}", ev.id, round.id, req.student_id, held.is_some()),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "student_id": req.student_id, "released": held.is_some()})))
}

// ---------------------------------------------------------------- the guard

/// The guarded requests' event and round, from the path: the round itself,
/// its submissions, choice and clarifications, a quiz round's sheet; a submission by id.
async fn guarded_round(state: &AppState, path: &str) -> Result<Option<(i64, i64)>, AppError> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        ["", "api", "events", e, "rounds", r]
        | ["", "api", "events", e, "rounds", r, "submissions" | "choice" | "clarifications" | "quiz"]
        | ["", "api", "events", e, "rounds", r, "quiz", "sheet", ..] => Ok(e.parse().ok().zip(r.parse().ok())),
        ["", "api", "submissions", s, ..] => {
            let Ok(s) = s.parse::<i64>() else { return Ok(None) };
            let row = sqlx::query(
                "SELECT r.event_id, r.id FROM submissions x JOIN rounds r ON r.id = x.round_id JOIN onsite_rounds o ON o.round_id = r.id \
                 WHERE x.id = $1 AND o.enabled = 1",
            )
            .bind(s)
            .fetch_optional(&state.db.pool)
            .await?;
            row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
        }
        _ => Ok(None),
    }
}

/// Middleware: a contestant's requests for an on-site round must come from
/// an allowed address and from their bound session (see the module's notes).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, AppError> {
    let Some((event, round)) = guarded_round(state, request.uri().path()).await? else { return Ok(request) };
    let row = sqlx::query(
        "SELECT o.allow, r.closes_at FROM onsite_rounds o JOIN rounds r ON r.id = o.round_id WHERE o.round_id = $1 AND r.event_id = $2 AND o.enabled = 1",
    )
    .bind(round)
    .bind(event)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(request) };
    let (allow, closes_at): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
    if state.clock.now() > closes_at {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    // Whoever cannot sign in or see the event is the handler's to refuse.
    let Ok(caller) = Caller::from_request_parts(&mut parts, state).await else { return Ok(Request::from_parts(parts, body)) };
    let address = ClientAddr::from_request_parts(&mut parts, state).await.map_or_else(|_| "unknown".to_string(), |c| c.0);
    let Ok((_, a)) = visible_event(state, &caller.user, event).await else { return Ok(Request::from_parts(parts, body)) };
    if a.officiates() || a.team.is_none() {
        return Ok(Request::from_parts(parts, body));
    }
    if !allowed(&allow, &address) {
        return Err(AppError::typed(
            StatusCode::FORBIDDEN,
            "onsite_address",
            format!("this round is held on site: contestants take part from the contest room's computers only (this request came from {address})"),
            json!({"round_id": round, "address": address}),
        ));
    }
    if !bind(state, round, caller.user.id, &caller.token_hash, &address).await? {
        return Err(other_seat(round));
    }
    Ok(Request::from_parts(parts, body))
}

// ---------------------------------------------------------------- seats

/// A team to seat: its members sit side by side in one room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatTeam {
    pub id: i64,
    pub school_id: i64,
    /// Student ids, in seating order.
    pub members: Vec<i64>,
}

/// A room and how many seats it has.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    pub name: String,
    pub capacity: i64,
}

/// One seat of the plan: (student, team, room, seat number from 1).
pub type Seat = (i64, i64, String, i64);

/// The rooms cannot seat everyone: students to seat, seats there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooSmall {
    pub needed: i64,
    pub capacity: i64,
}

/// Seats every team, deterministically: the schools' teams are dealt in
/// turn (the first team of each school by school id, then the second of
/// each…, teams of a school by id), so a school's teams sit apart as far as
/// the numbers allow; rooms fill in the order given, seat 1 upwards, a
/// team's members on consecutive seats of one room (a team that does not
/// fit in what is left of a room starts the next one).
pub fn auto_assign(teams: &[SeatTeam], rooms: &[Room]) -> Result<Vec<Seat>, TooSmall> {
    let mut by_school: BTreeMap<i64, Vec<&SeatTeam>> = BTreeMap::new();
    for t in teams {
        by_school.entry(t.school_id).or_default().push(t);
    }
    for list in by_school.values_mut() {
        list.sort_by_key(|t| t.id);
    }
    let mut order: Vec<&SeatTeam> = Vec::with_capacity(teams.len());
    for turn in 0.. {
        let before = order.len();
        order.extend(by_school.values().filter_map(|list| list.get(turn).copied()));
        if order.len() == before {
            break;
        }
    }
    let needed = teams.iter().map(|t| t.members.len() as i64).sum();
    let too_small = TooSmall { needed, capacity: rooms.iter().map(|r| r.capacity).sum() };
    let mut seats = Vec::new();
    let (mut room, mut next) = (0usize, 1i64);
    for t in order {
        let n = t.members.len() as i64;
        while room < rooms.len() && next + n - 1 > rooms[room].capacity {
            room += 1;
            next = 1;
        }
        let Some(r) = rooms.get(room) else { return Err(too_small) };
        for (k, s) in t.members.iter().enumerate() {
            seats.push((*s, t.id, r.name.clone(), next + k as i64));
        }
        next += n;
    }
    Ok(seats)
}

/// The approved teams of an event with their active members (by student id).
async fn seat_teams(state: &AppState, ev: &Event) -> Result<Vec<SeatTeam>, AppError> {
    let rows = sqlx::query(
        "SELECT t.id, t.school_id, m.student_id FROM teams t JOIN team_members m ON m.team_id = t.id AND m.active = 1 \
         WHERE t.event_id = $1 AND t.status = 'approved' ORDER BY t.id, m.student_id",
    )
    .bind(ev.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut teams: Vec<SeatTeam> = Vec::new();
    for r in &rows {
        let (id, school, student): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        match teams.last_mut() {
            Some(t) if t.id == id => t.members.push(student),
            _ => teams.push(SeatTeam { id, school_id: school, members: vec![student] }),
        }
    }
    Ok(teams)
}

fn check_seat(seat: i64) -> Result<i64, AppError> {
    if (1..=MAX_SEATS).contains(&seat) { Ok(seat) } else { Err(AppError::invalid("seat", "range", format!("seat is 1–{MAX_SEATS}")).max(MAX_SEATS)) }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoSeats {
    rooms: Vec<Room>,
}

/// Seats every approved team over the rooms given (replacing the round's
/// seats; the event's organisers; audited). 409 `rooms_too_small` when they do not hold everyone.
async fn auto_seats(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<AutoSeats>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    if req.rooms.is_empty() || req.rooms.len() > MAX_ROOMS {
        return Err(AppError::invalid("rooms", "count", format!("send 1–{MAX_ROOMS} rooms")).max(MAX_ROOMS as i64));
    }
    let mut rooms = Vec::new();
    for r in &req.rooms {
        let name = check_name("room", &r.name, 30)?;
        if rooms.iter().any(|x: &Room| x.name == name) {
            return Err(AppError::invalid("room", "duplicate_room", format!("room {name:?} is named twice")));
        }
        if !(1..=MAX_SEATS).contains(&r.capacity) {
            return Err(AppError::invalid("capacity", "range", format!("a room has 1–{MAX_SEATS} seats")).max(MAX_SEATS));
        }
        rooms.push(Room { name, capacity: r.capacity });
    }
    let teams = seat_teams(&state, &ev).await?;
    let seats = auto_assign(&teams, &rooms).map_err(|e| {
        AppError::typed(
            StatusCode::CONFLICT,
            "rooms_too_small",
            format!("{} contestants, {} seats: add rooms or seats (a team sits together in one room)", e.needed, e.capacity),
            json!({"needed": e.needed, "capacity": e.capacity}),
        )
    })?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query("DELETE FROM onsite_seats WHERE round_id = $1").bind(round.id).execute(&mut *tx).await?;
    for (student, team, room, seat) in &seats {
        sqlx::query("INSERT INTO onsite_seats (round_id, student_id, team_id, room, seat) VALUES ($1, $2, $3, $4, $5)")
            .bind(round.id)
            .bind(student)
            .bind(team)
            .bind(room)
            .bind(seat)
            .execute(&mut *tx)
            .await?;
    }
    audit_in(&mut tx, &caller.user, "seats_auto", &format!("event_id={} round_id={} rooms={} seats={}", ev.id, round.id, rooms.len(), seats.len())).await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "seats": seats_for(&state, &caller.user, &a, round.id).await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManualSeat {
    /// One contestant…
    student_id: Option<i64>,
    /// …or a whole team (its members on consecutive seats from `seat`, by student id).
    team_id: Option<i64>,
    /// The room (null: take the seat(s) away).
    room: Option<String>,
    seat: Option<i64>,
}

/// Seats one contestant or one team by hand (the event's organisers;
/// audited): 409 `seat_taken` when someone else sits there.
async fn assign_seats(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<ManualSeat>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, a) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    let members: Vec<(i64, i64)> = match (req.student_id, req.team_id) {
        (Some(s), None) => {
            sqlx::query(
                "SELECT m.student_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE m.event_id = $1 AND m.student_id = $2 AND m.active = 1 AND t.status = 'approved'",
            )
            .bind(ev.id)
            .bind(s)
            .fetch_all(&state.db.pool)
            .await?
        }
        (None, Some(team)) => {
            sqlx::query(
                "SELECT m.student_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE t.event_id = $1 AND t.id = $2 AND m.active = 1 AND t.status = 'approved' ORDER BY m.student_id",
            )
            .bind(ev.id)
            .bind(team)
            .fetch_all(&state.db.pool)
            .await?
        }
        _ => return Err(AppError::invalid("student_id", "required", "send student_id or team_id (one of them)")),
    }
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, AppError>>()?;
    if members.is_empty() {
        return Err(AppError::invalid("student_id", "unknown", "not a contestant of an approved team of this event"));
    }
    let place = match (req.room.as_deref(), req.seat) {
        (None, _) => None,
        (Some(room), Some(seat)) => Some((check_name("room", room, 30)?, check_seat(seat)?)),
        (Some(_), None) => return Err(AppError::invalid("seat", "required", "a room needs a seat number")),
    };
    if let Some((_, seat)) = &place {
        check_seat(seat + members.len() as i64 - 1)?;
    }
    let mut tx = state.db.begin_write().await?;
    for (student, _) in &members {
        sqlx::query("DELETE FROM onsite_seats WHERE round_id = $1 AND student_id = $2").bind(round.id).bind(student).execute(&mut *tx).await?;
    }
    if let Some((room, seat)) = &place {
        for (k, (student, team)) in members.iter().enumerate() {
            let at = seat + k as i64;
            let inserted = sqlx::query("INSERT INTO onsite_seats (round_id, student_id, team_id, room, seat) VALUES ($1, $2, $3, $4, $5)")
                .bind(round.id)
                .bind(student)
                .bind(team)
                .bind(room)
                .bind(at)
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => {}
                Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                    return Err(AppError::typed(
                        StatusCode::CONFLICT,
                        "seat_taken",
                        format!("seat {at} of room {room} is someone else's"),
                        json!({"room": room, "seat": at}),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    audit_in(&mut tx, &caller.user, "seats_assign", &format!("event_id={} round_id={} students={} seated={}", ev.id, round.id, members.len(), place.is_some()))
        .await?;
    tx.commit().await?;
    Ok(Json(json!({"round_id": round.id, "seats": seats_for(&state, &caller.user, &a, round.id).await?})))
}

/// A room's seats in seat order, and its door list (by school, team, name).
fn plan(seats: &[Value]) -> Vec<Value> {
    let mut rooms: Vec<(String, Vec<Value>)> = Vec::new();
    for s in seats {
        let room = s["room"].as_str().unwrap_or_default().to_string();
        match rooms.iter_mut().find(|(r, _)| *r == room) {
            Some((_, list)) => list.push(s.clone()),
            None => rooms.push((room, vec![s.clone()])),
        }
    }
    rooms
        .into_iter()
        .map(|(room, mut list)| {
            list.sort_by_key(|s| s["seat"].as_i64());
            let mut door = list.clone();
            let key = |s: &Value| {
                (s["school"].as_str().unwrap_or("").to_string(), s["team"].as_str().unwrap_or("").to_string(), s["name"].as_str().unwrap_or("").to_string())
            };
            door.sort_by_key(key);
            json!({"room": room, "seats": list, "door": door})
        })
        .collect()
}

/// The seat plan as JSON: per room, the seats in order and the door list.
/// Organisers and judges see every room; a contestant or coach their own teams' seats.
async fn get_seats(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let seats = seats_for(&state, &caller.user, &a, round.id).await?;
    Ok(Json(json!({"round_id": round.id, "rooms": plan(&seats)})))
}

/// The seat plan as PDF (organisers and judges): per room, the seat plan and the door list.
async fn seats_pdf(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Response, AppError> {
    let (ev, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    if !a.officiates() {
        return Err(AppError::Forbidden("the event's organisers and judges print the seat plan".into()));
    }
    let rooms = plan(&seats_for(&state, &caller.user, &a, round.id).await?);
    if rooms.is_empty() {
        return Err(AppError::conflict("no_seats", "nobody has a seat in this round yet"));
    }
    let font = state.slip_font.clone();
    let (event, round_name) = (ev.name.clone(), round.name.clone());
    let pdf = tokio::task::spawn_blocking(move || render(&event, &round_name, &rooms, font.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("seat plan task: {e}"))?
        .map_err(|e| AppError::conflict("seat_plan_unavailable", e))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf"), (header::CONTENT_DISPOSITION, "inline; filename=\"seat-plan.pdf\"")], pdf).into_response())
}

// A4 portrait, in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 48.0;
const ROW_H: f32 = 24.0;
const ROWS_PER_PAGE: usize = 28;

/// Per room: the seat plan (seat order) and the door list (by school, team,
/// name), each a table over as many A4 pages as it needs.
fn render(event: &str, round: &str, rooms: &[Value], font: Option<&std::path::Path>) -> Result<Vec<u8>, String> {
    let fonts = FontSet::standard(font).map_err(|e| e.to_string())?;
    let mut document = Document::new();
    let width = PAGE_W - 2.0 * MARGIN;
    // Columns: (share of the width, heading).
    let seat_cols: [(f32, &str); 4] = [(0.12, "座位 Seat"), (0.26, "姓名 Name"), (0.28, "队伍 Team"), (0.34, "学校 School")];
    let door_cols: [(f32, &str); 4] = [(0.26, "姓名 Name"), (0.34, "学校 School"), (0.28, "队伍 Team"), (0.12, "座位 Seat")];
    for r in rooms {
        let room = r["room"].as_str().unwrap_or_default();
        for (title, cols, list, door) in [("考场座位表 Seat plan", &seat_cols, &r["seats"], false), ("门贴名单 Door list", &door_cols, &r["door"], true)]
        {
            let list = list.as_array().cloned().unwrap_or_default();
            let pages = list.len().div_ceil(ROWS_PER_PAGE).max(1);
            for (p, chunk) in list.chunks(ROWS_PER_PAGE).enumerate() {
                let mut page = document.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?);
                let mut surface = page.surface();
                surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
                let mut put = |x: f32, top: f32, w: f32, sizes: (f32, f32), text: &str| {
                    let block = fonts.layout(text, w, sizes.0, sizes.1, 1);
                    for line in &block.lines {
                        let mut at = x;
                        for run in &line.runs {
                            if let Some(f) = fonts.font(run.font) {
                                surface.draw_text(Point::from_xy(at, top + block.size * 0.88), f, block.size, &run.text, false, TextDirection::Auto);
                            }
                            at += run.width;
                        }
                    }
                };
                put(MARGIN, MARGIN, width, (18.0, 10.0), &format!("{title} · 考场 Room {room}"));
                put(MARGIN, MARGIN + 28.0, width, (11.0, 7.0), &format!("{event} · {round}"));
                let pager = if pages > 1 { format!(" · {}/{}", p + 1, pages) } else { String::new() };
                put(MARGIN, MARGIN + 46.0, width, (9.0, 7.0), &format!("{} 人 contestants{pager}", list.len()));
                let head = MARGIN + 72.0;
                let mut x = MARGIN;
                for (share, heading) in cols.iter() {
                    put(x + 4.0, head + 5.0, width * share - 8.0, (10.0, 7.0), heading);
                    x += width * share;
                }
                for (k, s) in chunk.iter().enumerate() {
                    let top = head + ROW_H * (k as f32 + 1.0);
                    let seat = format!("{:02}", s["seat"].as_i64().unwrap_or(0));
                    let cells = [s["name"].as_str().unwrap_or(""), s["school"].as_str().unwrap_or(""), s["team"].as_str().unwrap_or("")];
                    let texts: [&str; 4] = if door { [cells[0], cells[1], cells[2], seat.as_str()] } else { [seat.as_str(), cells[0], cells[2], cells[1]] };
                    let mut x = MARGIN;
                    for ((share, _), text) in cols.iter().zip(texts) {
                        put(x + 4.0, top + 6.0, width * share - 8.0, (12.0, 7.0), text);
                        x += width * share;
                    }
                }
                // The table's rules.
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke { paint: rgb::Color::new(90, 90, 90).into(), width: 0.6, ..Stroke::default() }));
                let mut pb = PathBuilder::new();
                for k in 0..=chunk.len() + 1 {
                    let y = head + ROW_H * k as f32;
                    pb.move_to(MARGIN, y);
                    pb.line_to(MARGIN + width, y);
                }
                let bottom = head + ROW_H * (chunk.len() as f32 + 1.0);
                let mut x = MARGIN;
                for (share, _) in cols.iter() {
                    pb.move_to(x, head);
                    pb.line_to(x, bottom);
                    x += width * share;
                }
                pb.move_to(MARGIN + width, head);
                pb.line_to(MARGIN + width, bottom);
                if let Some(path) = pb.finish() {
                    surface.draw_path(&path);
                }
                surface.finish();
                page.finish();
            }
        }
    }
    document.finish().map_err(|e| format!("cannot write the PDF: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_normalise_and_match_v4_and_v6() {
        let c = Cidr::parse("10.1.2.3/16").unwrap();
        assert_eq!(c.to_string(), "10.1.0.0/16");
        assert!(c.contains("10.1.200.7".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        // An IPv4 client of a dual-stack listener.
        assert!(c.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = Cidr::parse("192.168.3.7").unwrap();
        assert_eq!(one.to_string(), "192.168.3.7/32");
        assert!(one.contains("192.168.3.7".parse().unwrap()) && !one.contains("192.168.3.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!(!v6.contains("10.1.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse("0.0.0.0/0").map(|c| c.contains("8.8.8.8".parse().unwrap())), Some(true));
        for bad in ["10.1.0.0/33", "2001:db8::/129", "10.1.0/16", "", "x", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/1a"] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert!(allowed("10.1.0.0/16,2001:db8::/32", "10.1.3.4"));
        assert!(allowed("10.1.0.0/16,2001:db8::/32", "[2001:db8::1]:443"));
        assert!(!allowed("10.1.0.0/16", "unknown"));
    }

    #[test]
    fn auto_assignment_deals_schools_in_turn_and_keeps_teams_together() {
        let team = |id, school, members: &[i64]| SeatTeam { id, school_id: school, members: members.to_vec() };
        // School 1 has three teams, school 2 two, school 3 one.
        let teams = [team(10, 1, &[100, 101]), team(11, 1, &[102]), team(12, 1, &[103]), team(20, 2, &[200, 201]), team(21, 2, &[202]), team(30, 3, &[300])];
        let rooms = [Room { name: "301".into(), capacity: 4 }, Room { name: "302".into(), capacity: 5 }];
        let seats = auto_assign(&teams, &rooms).unwrap();
        let got: Vec<(i64, &str, i64)> = seats.iter().map(|(s, _, r, n)| (*s, r.as_str(), *n)).collect();
        // Dealt 10, 20, 30, 11, 21, 12: 10 and 20 fill room 301; 30 does not fit there and starts 302.
        assert_eq!(
            got,
            vec![(100, "301", 1), (101, "301", 2), (200, "301", 3), (201, "301", 4), (300, "302", 1), (102, "302", 2), (202, "302", 3), (103, "302", 4),]
        );
        // The same input gives the same plan, whatever the order teams came in.
        let mut shuffled = teams.to_vec();
        shuffled.reverse();
        assert_eq!(auto_assign(&shuffled, &rooms).unwrap(), seats);
        // Too few seats.
        assert_eq!(auto_assign(&teams, &rooms[..1]), Err(TooSmall { needed: 8, capacity: 4 }));
        // A team larger than what is left of a room starts the next one.
        let seats =
            auto_assign(&[team(1, 1, &[1, 2, 3]), team(2, 2, &[4, 5])], &[Room { name: "A".into(), capacity: 4 }, Room { name: "B".into(), capacity: 2 }])
                .unwrap();
        assert_eq!(
            seats.iter().map(|(s, _, r, n)| (*s, r.as_str(), *n)).collect::<Vec<_>>(),
            vec![(1, "A", 1), (2, "A", 2), (3, "A", 3), (4, "B", 1), (5, "B", 2)]
        );
    }
}
