//! Results of a contest round (docs/competitions.md): awards and
//! certificates from the final ranking, printed as PDF with CJK fonts and
//! checked by anyone at `/verify/{code}`, and the results workbook (XLSX)
//! for the education bureau.
//!
//! A certificate's code is 100 random bits from the operating system,
//! written as 20 characters of Crockford's base32 (`XXXXX-XXXXX-XXXXX-XXXXX`);
//! the public lookup is throttled per client address, so codes cannot be
//! guessed. The lookup reveals the name printed on the certificate, the
//! event and the award — nothing else — and whether it still stands: an
//! organiser may revoke a certificate (an award withdrawn on appeal) or
//! re-issue it under a new code (a misspelt name), and the old code then
//! answers `revoked` instead of vanishing, so a printed copy cannot pass.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::{ActiveCaller, ClientAddr};
use super::contest::{Entry, Round, coaches, divisions, final_ranking, managed_event, visible_round};
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{audit_in, check_name};
use crate::fonts::FontSet;

/// Most award levels of one issue.
pub const MAX_AWARDS: usize = 10;
/// Lookups one client address may make per minute at `/verify/{code}`.
pub const VERIFY_PER_MINUTE: u32 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events/{id}/rounds/{round}/certificates", get(list_certificates).post(issue))
        .route("/api/events/{id}/rounds/{round}/certificates.pdf", get(certificates_pdf))
        .route("/api/events/{id}/rounds/{round}/certificates/{code}/revoke", post(revoke))
        .route("/api/events/{id}/rounds/{round}/certificates/{code}/reissue", post(reissue))
        .route("/api/events/{id}/rounds/{round}/results.xlsx", get(results_xlsx))
        .route("/api/verify/{code}", get(verify_json))
        .route("/verify/{code}", get(verify_page))
}

// ---------------------------------------------------------------- codes

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new certificate code: 100 random bits as `XXXXX-XXXXX-XXXXX-XXXXX`.
pub fn new_code() -> String {
    let mut bytes = [0u8; 13];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let mut out = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(CROCKFORD[((bits >> (5 * (19 - i))) & 31) as usize] as char);
    }
    out
}

/// A code as typed (lower case, without dashes, O for 0, I or L for 1) in its stored form; None when it cannot be one.
pub fn normalise_code(typed: &str) -> Option<String> {
    let mut plain = String::new();
    for c in typed.chars().filter(|c| *c != '-' && *c != ' ') {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !CROCKFORD.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        plain.push(c);
    }
    if plain.len() != 20 {
        return None;
    }
    Some(plain.as_bytes().chunks(5).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-"))
}

// ---------------------------------------------------------------- issuing

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwardLevel {
    /// The award as printed (一等奖, 二等奖, 优秀奖, 晋级…).
    name: String,
    /// The best this many teams of each division (ties at the cut included)…
    top: Option<usize>,
    /// …or this percentage of each division's ranked teams (rounded up)…
    top_percent: Option<f64>,
    /// …or the teams that advanced into the parent event.
    #[serde(default)]
    advanced: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Issue {
    /// Highest first: a team gets the first level it qualifies for.
    awards: Vec<AwardLevel>,
}

/// What a team qualifies for, per level: within the cut of `top`/`top_percent`, or advanced.
enum Criterion {
    Rank(u32),
    Advanced,
}

/// The rank cut of a division's entries for `n` teams: ties at the cut are in.
fn rank_cut(entries: &[&Entry], n: usize) -> u32 {
    if n == 0 { 0 } else { entries.get(n - 1).or(entries.last()).map_or(0, |e| e.rank) }
}

/// After the final ranking is in, an organiser issues the round's
/// certificates: every member of each ranked team gets the first award
/// level the team qualifies for (teams without a graded submission get
/// none). Once only: issued certificates stay valid.
async fn issue(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<Issue>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    if req.awards.is_empty() || req.awards.len() > MAX_AWARDS {
        return Err(AppError::invalid("awards", "count", format!("awards lists 1–{MAX_AWARDS} levels")).max(MAX_AWARDS as i64));
    }
    let mut levels = Vec::new();
    for a in &req.awards {
        let name = check_name("name", &a.name, 30)?;
        let ok = match (a.top, a.top_percent, a.advanced) {
            (Some(k), None, false) => k >= 1,
            (None, Some(p), false) => p > 0.0 && p <= 100.0,
            (None, None, true) => true,
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid("awards", "choice", "each award has one of top (1 or more), top_percent (above 0, at most 100) or advanced: true"));
        }
        levels.push((name, a));
    }
    let board = final_ranking(&state, &round).await?;
    let advanced: Vec<i64> = sqlx::query("SELECT advanced_from FROM teams WHERE advanced_from IN (SELECT id FROM teams WHERE event_id = $1)")
        .bind(ev.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    // (team, rank, award) for every team that gets one.
    let mut awarded: Vec<(i64, u32, String)> = Vec::new();
    for entries in board.values() {
        let ranked: Vec<&Entry> = entries.iter().filter(|e| e.last_submitted_at.is_some()).collect();
        let criteria: Vec<Criterion> = levels
            .iter()
            .map(|(_, a)| match (a.top, a.top_percent) {
                (Some(k), _) => Criterion::Rank(rank_cut(&ranked, k)),
                (None, Some(p)) => Criterion::Rank(rank_cut(&ranked, ((ranked.len() as f64) * p / 100.0).ceil() as usize)),
                _ => Criterion::Advanced,
            })
            .collect();
        for e in &ranked {
            let level = criteria.iter().position(|c| match c {
                Criterion::Rank(cut) => e.rank <= *cut,
                Criterion::Advanced => advanced.contains(&e.team_id),
            });
            if let Some(l) = level {
                awarded.push((e.team_id, e.rank, levels[l].0.clone()));
            }
        }
    }
    let t = now();
    let mut tx = state.db.begin_write().await?;
    let issued: i64 = sqlx::query("SELECT COUNT(*) FROM certificates WHERE round_id = $1").bind(round.id).fetch_one(&mut *tx).await?.try_get(0)?;
    if issued > 0 {
        return Err(AppError::conflict("certificates_issued", "this round's certificates are issued already"));
    }
    let mut count = 0;
    for (team, rank, award) in &awarded {
        let members = sqlx::query(
            "SELECT u.id, u.display_name FROM team_members m JOIN users u ON u.id = m.student_id WHERE m.team_id = $1 AND m.active = 1 ORDER BY u.id",
        )
        .bind(team)
        .fetch_all(&mut *tx)
        .await?;
        for m in &members {
            sqlx::query(
                "INSERT INTO certificates (code, event_id, round_id, team_id, student_id, name, award, team_rank, issued_by, issued_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new_code())
            .bind(ev.id)
            .bind(round.id)
            .bind(team)
            .bind(m.try_get::<i64, _>(0)?)
            .bind(m.try_get::<String, _>(1)?)
            .bind(award)
            .bind(i64::from(*rank))
            .bind(caller.user.id)
            .bind(t)
            .execute(&mut *tx)
            .await?;
            count += 1;
        }
    }
    audit_in(&mut tx, &caller.user, "certificates_issue", &format!("event_id={} round_id={} teams={} certificates={count}", ev.id, round.id, awarded.len()))
        .await?;
    tx.commit().await?;
    let list: Vec<Value> = load_certificates(&state, &round).await?.iter().map(certificate_json).collect();
    Ok((StatusCode::CREATED, Json(json!({"round_id": round.id, "issued": count, "certificates": list}))).into_response())
}

/// A certificate as the list and the PDF need it.
#[derive(Clone, Debug)]
struct Certificate {
    code: String,
    team_id: i64,
    student_id: i64,
    name: String,
    award: String,
    rank: i64,
    /// When it was revoked, why, and the code issued in its place (if any).
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    replaced_by: Option<String>,
    /// The code this one was issued in place of.
    replaces: Option<String>,
}

impl Certificate {
    fn valid(&self) -> bool {
        self.revoked_at.is_none()
    }
}

fn certificate_json(c: &Certificate) -> Value {
    json!({
        "code": c.code, "team_id": c.team_id, "student_id": c.student_id, "name": c.name, "award": c.award, "rank": c.rank,
        "status": if c.valid() { "valid" } else { "revoked" },
        "revoked_at": c.revoked_at, "revoked_reason": c.revoked_reason, "replaced_by": c.replaced_by, "replaces": c.replaces,
    })
}

const CERTIFICATE_COLUMNS: &str = "code, team_id, student_id, name, award, team_rank, revoked_at, revoked_reason, replaced_by, replaces";

fn certificate_row(r: &sqlx::any::AnyRow) -> Result<Certificate, AppError> {
    Ok(Certificate {
        code: r.try_get(0)?,
        team_id: r.try_get(1)?,
        student_id: r.try_get(2)?,
        name: r.try_get(3)?,
        award: r.try_get(4)?,
        rank: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
        revoked_reason: r.try_get(7)?,
        replaced_by: r.try_get(8)?,
        replaces: r.try_get(9)?,
    })
}

/// The round's certificates, revoked ones included (they keep answering the check), best rank first.
async fn load_certificates(state: &AppState, round: &Round) -> Result<Vec<Certificate>, AppError> {
    sqlx::query(&format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE round_id = $1 ORDER BY team_rank, team_id, student_id, issued_at, code"))
        .bind(round.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(certificate_row)
        .collect()
}

/// The certificates the caller may see: organisers and judges all of the
/// round's; a coach their teams'; a student their own.
async fn visible_certificates(state: &AppState, caller: &super::db::User, id: i64, rid: i64) -> Result<(Round, Vec<Certificate>), AppError> {
    let (_, a, round) = visible_round(state, caller, id, rid).await?;
    let all = load_certificates(state, &round).await?;
    if a.officiates() {
        return Ok((round, all));
    }
    let mut coached = Vec::new();
    if a.coach {
        for team in all.iter().map(|c| c.team_id).collect::<std::collections::BTreeSet<_>>() {
            if coaches(state, caller, team).await? {
                coached.push(team);
            }
        }
    }
    Ok((round, all.into_iter().filter(|c| c.student_id == caller.id || coached.contains(&c.team_id)).collect()))
}

async fn list_certificates(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (round, list) = visible_certificates(&state, &caller.user, id, rid).await?;
    Ok(Json(json!({"round_id": round.id, "certificates": list.iter().map(certificate_json).collect::<Vec<_>>()})))
}

/// The caller's certificates as a PDF, one A4 page each.
async fn certificates_pdf(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let (round, list) = visible_certificates(&state, &caller.user, id, rid).await?;
    // A revoked certificate is never printed again: its re-issue (if any) is in the list.
    let list: Vec<Certificate> = list.into_iter().filter(Certificate::valid).collect();
    if list.is_empty() {
        return Err(AppError::conflict("no_certificates", "there are no certificates of this round for you to print"));
    }
    let event: String = sqlx::query("SELECT name FROM events WHERE id = $1").bind(round.event_id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let base = state.public_url.clone().or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(|h| format!("http://{h}")));
    let font = state.slip_font.clone();
    let round_name = round.name.clone();
    let pdf = tokio::task::spawn_blocking(move || render(&event, &round_name, &list, font.as_deref(), base.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("certificate task: {e}"))?
        .map_err(|e| AppError::conflict("certificates_unavailable", e))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf"), (header::CONTENT_DISPOSITION, "inline; filename=\"certificates.pdf\"")], pdf).into_response())
}

// A4 landscape, in points.
const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;

/// One certificate per page: the award, the name, the event, and the code
/// with where to check it (as text and as a QR code).
fn render(event: &str, round: &str, list: &[Certificate], font: Option<&std::path::Path>, base: Option<&str>) -> Result<Vec<u8>, String> {
    let fonts = FontSet::standard(font).map_err(|e| e.to_string())?;
    let mut document = Document::new();
    for c in list {
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?);
        let mut surface = page.surface();
        // A double border.
        for (inset, width) in [(24.0, 3.0), (34.0, 0.8)] {
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke { paint: rgb::Color::new(160, 30, 30).into(), width, ..Stroke::default() }));
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(inset, inset, PAGE_W - 2.0 * inset, PAGE_H - 2.0 * inset) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                surface.draw_path(&path);
            }
        }
        surface.set_stroke(None);
        surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
        let width = PAGE_W - 160.0;
        let mut put = |top: f32, sizes: (f32, f32, usize), text: &str| {
            let block = fonts.layout(text, width, sizes.0, sizes.1, sizes.2);
            for (k, line) in block.lines.iter().enumerate() {
                let baseline = top + block.size * (0.88 + 1.2 * k as f32);
                // Centred.
                let mut x = (PAGE_W - line.width) / 2.0;
                for run in &line.runs {
                    if let Some(f) = fonts.font(run.font) {
                        surface.draw_text(Point::from_xy(x, baseline), f, block.size, &run.text, false, TextDirection::Auto);
                    }
                    x += run.width;
                }
            }
        };
        put(70.0, (40.0, 24.0, 1), "荣誉证书");
        put(118.0, (14.0, 10.0, 1), "Certificate of Award");
        put(170.0, (34.0, 16.0, 2), &c.name);
        put(245.0, (16.0, 10.0, 2), &format!("在 {event}（{round}）中荣获"));
        put(272.0, (12.0, 8.0, 2), &format!("is awarded in {event} ({round})"));
        put(305.0, (36.0, 20.0, 1), &c.award);
        put(440.0, (11.0, 8.0, 1), &format!("证书编号 Certificate code:  {}", c.code));
        if let Some(base) = base {
            let url = format!("{}/verify/{}", base.trim_end_matches('/'), c.code);
            put(458.0, (9.0, 6.0, 1), &format!("查验 Verify at:  {url}"));
            if let Ok(qr) = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
                super::slips::draw_qr(&mut surface, &qr, PAGE_W - 60.0 - 72.0, PAGE_H - 60.0 - 72.0, 72.0);
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("cannot write the PDF: {e:?}"))
}

// ---------------------------------------------------------------- revoking and re-issuing

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    /// Why, for the organisers and the certificate's holder (never shown by the public check).
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reissue {
    /// Why, as for a revocation.
    reason: String,
    /// The name to print instead (a misspelling corrected); else the old one.
    name: Option<String>,
    /// The award to print instead (a re-grade moved the team); else the old one.
    award: Option<String>,
}

/// Longest reason for a revocation or re-issue.
pub const MAX_REVOKE_REASON: usize = 200;

/// The event and round for an organiser, and the code in its stored form (404 when it cannot be one).
async fn certificate_for_change(
    state: &AppState,
    caller: &super::db::User,
    id: i64,
    rid: i64,
    code: &str,
) -> Result<(super::contest::Event, Round, String), AppError> {
    let (ev, _) = managed_event(state, caller, id).await?;
    let (_, _, round) = visible_round(state, caller, ev.id, rid).await?;
    let code = normalise_code(code).ok_or(AppError::NotFound)?;
    Ok((ev, round, code))
}

/// Reads the certificate inside the transaction, refusing one of another round or one already revoked.
async fn current_certificate(tx: &mut sqlx::Transaction<'_, sqlx::Any>, round: &Round, code: &str) -> Result<Certificate, AppError> {
    let row = sqlx::query(&format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE code = $1 AND round_id = $2"))
        .bind(code)
        .bind(round.id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = certificate_row(&row)?;
    if !c.valid() {
        return Err(AppError::conflict("certificate_revoked", "this certificate is revoked already"));
    }
    Ok(c)
}

/// Marks a valid certificate revoked; a concurrent change that got there first is a conflict.
async fn revoke_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, code: &str, t: i64, by: i64, reason: &str, replaced_by: Option<&str>) -> Result<(), AppError> {
    let done =
        sqlx::query("UPDATE certificates SET revoked_at = $1, revoked_by = $2, revoked_reason = $3, replaced_by = $4 WHERE code = $5 AND revoked_at IS NULL")
            .bind(t)
            .bind(by)
            .bind(reason)
            .bind(replaced_by)
            .bind(code)
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::conflict("certificate_revoked", "this certificate is revoked already"));
    }
    Ok(())
}

/// `POST …/certificates/{code}/revoke`: the certificate stops being valid
/// (organisers; audited). Its code keeps answering the public check, as revoked.
async fn revoke(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, code)): Path<(i64, i64, String)>,
    req: Result<Json<Revoke>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, round, code) = certificate_for_change(&state, &caller.user, id, rid, &code).await?;
    let reason = check_name("reason", &req.reason, MAX_REVOKE_REASON)?;
    let t = now();
    let mut tx = state.db.begin_write().await?;
    let c = current_certificate(&mut tx, &round, &code).await?;
    revoke_in(&mut tx, &code, t, caller.user.id, &reason, None).await?;
    audit_in(&mut tx, &caller.user, "certificate_revoke", &format!("event_id={} round_id={} student_id={}", ev.id, round.id, c.student_id)).await?;
    tx.commit().await?;
    let c = Certificate { revoked_at: Some(t), revoked_reason: Some(reason), ..c };
    Ok(Json(json!({"certificate": certificate_json(&c)})))
}

/// `POST …/certificates/{code}/reissue`: a new certificate (new code) for
/// the same student, with the name or award corrected, in place of this one,
/// which is revoked (organisers; audited).
async fn reissue(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid, code)): Path<(i64, i64, String)>,
    req: Result<Json<Reissue>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, round, code) = certificate_for_change(&state, &caller.user, id, rid, &code).await?;
    let reason = check_name("reason", &req.reason, MAX_REVOKE_REASON)?;
    let name = req.name.as_deref().map(|n| check_name("name", n, 60)).transpose()?;
    let award = req.award.as_deref().map(|a| check_name("award", a, 30)).transpose()?;
    let t = now();
    let fresh = new_code();
    let mut tx = state.db.begin_write().await?;
    let old = current_certificate(&mut tx, &round, &code).await?;
    revoke_in(&mut tx, &code, t, caller.user.id, &reason, Some(&fresh)).await?;
    let new = Certificate {
        code: fresh,
        name: name.unwrap_or_else(|| old.name.clone()),
        award: award.unwrap_or_else(|| old.award.clone()),
        revoked_at: None,
        revoked_reason: None,
        replaced_by: None,
        replaces: Some(code.clone()),
        ..old.clone()
    };
    sqlx::query(
        "INSERT INTO certificates (code, event_id, round_id, team_id, student_id, name, award, team_rank, issued_by, issued_at, replaces) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&new.code)
    .bind(ev.id)
    .bind(round.id)
    .bind(new.team_id)
    .bind(new.student_id)
    .bind(&new.name)
    .bind(&new.award)
    .bind(new.rank)
    .bind(caller.user.id)
    .bind(t)
    .bind(&code)
    .execute(&mut *tx)
    .await?;
    audit_in(&mut tx, &caller.user, "certificate_reissue", &format!("event_id={} round_id={} student_id={}", ev.id, round.id, new.student_id)).await?;
    tx.commit().await?;
    let old = Certificate { revoked_at: Some(t), revoked_reason: Some(reason), replaced_by: Some(new.code.clone()), ..old };
    Ok((StatusCode::CREATED, Json(json!({"certificate": certificate_json(&new), "revoked": certificate_json(&old)}))).into_response())
}

// ---------------------------------------------------------------- the public check

/// Lookups per client address in the current minute: (minute, count).
#[derive(Clone, Debug, Default)]
pub struct VerifyThrottle {
    seen: Arc<Mutex<BTreeMap<String, (i64, u32)>>>,
}

impl VerifyThrottle {
    /// Counts a lookup; the seconds to wait when the address has had its share this minute.
    pub fn check(&self, client: &str, t: i64) -> Option<i64> {
        let minute = t.div_euclid(60);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            // Only the current minute matters; forget the rest.
            seen.retain(|_, (m, _)| *m == minute);
        }
        let e = seen.entry(client.to_string()).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        if e.1 >= VERIFY_PER_MINUTE {
            return Some(60 - t.rem_euclid(60));
        }
        e.1 += 1;
        None
    }
}

/// What a check reveals: the name on the certificate, the event and the award.
async fn lookup(state: &AppState, client: &str, code: &str) -> Result<Option<Value>, AppError> {
    if let Some(wait) = state.verify_throttle.check(client, now()) {
        return Err(AppError::TooManyRequests {
            reason: "verify",
            message: "too many certificate checks from this address; wait a minute".into(),
            retry_after: wait,
        });
    }
    let Some(code) = normalise_code(code) else { return Ok(None) };
    let row = sqlx::query("SELECT c.name, c.award, e.name AS event, c.revoked_at FROM certificates c JOIN events e ON e.id = c.event_id WHERE c.code = $1")
        .bind(&code)
        .fetch_optional(&state.db.pool)
        .await?;
    row.map(|r| {
        // Only whether it stands: not why it was revoked, nor the code that replaced it.
        let status = if r.try_get::<Option<i64>, _>("revoked_at")?.is_some() { "revoked" } else { "valid" };
        Ok(json!({
            "code": code, "name": r.try_get::<String, _>("name")?, "event": r.try_get::<String, _>("event")?,
            "award": r.try_get::<String, _>("award")?, "status": status,
        }))
    })
    .transpose()
}

/// `GET /api/verify/{code}`: public, throttled.
async fn verify_json(State(state): State<AppState>, ClientAddr(client): ClientAddr, Path(code): Path<String>) -> Result<Json<Value>, AppError> {
    lookup(&state, &client, &code).await?.map(Json).ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// `GET /verify/{code}`: the same check as a page, in the reader's language.
async fn verify_page(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    parts: Parts,
) -> Response {
    let (lang, _) = super::web::choose_lang(&parts, q.lang.as_deref());
    let w = super::web::words(lang);
    let word = |k: &str| escape(w.get(k).map_or(k, String::as_str));
    let (status, body) = match lookup(&state, &client, &code).await {
        Ok(Some(v)) => (
            StatusCode::OK,
            format!(
                "{}<dl><dt>{}</dt><dd data-user>{}</dd><dt>{}</dt><dd data-user>{}</dd><dt>{}</dt><dd data-user>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
                if v["status"] == "valid" {
                    format!("<p class=\"ok\" data-status=\"valid\">{}</p>", word("verify_valid"))
                } else {
                    format!("<p class=\"bad\" data-status=\"revoked\">{}</p>", word("verify_revoked"))
                },
                word("verify_name"),
                escape(v["name"].as_str().unwrap_or("")),
                word("verify_event"),
                escape(v["event"].as_str().unwrap_or("")),
                word("verify_award"),
                escape(v["award"].as_str().unwrap_or("")),
                word("verify_code"),
                escape(v["code"].as_str().unwrap_or("")),
            ),
        ),
        Ok(None) => (StatusCode::NOT_FOUND, format!("<p class=\"bad\">{}</p>", word("verify_unknown"))),
        Err(AppError::TooManyRequests { .. }) => (StatusCode::TOO_MANY_REQUESTS, format!("<p class=\"bad\">{}</p>", word("err_too_many_requests_verify"))),
        Err(e) => return e.into_response(),
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"verify\"><h1>{title}</h1>{body}</main></body></html>",
        title = word("verify_title"),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; frame-ancestors 'none'"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

// ---------------------------------------------------------------- results for the bureau

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    /// `zh-CN` or `en`; without it, the `qiming_lang` cookie, then Accept-Language.
    lang: Option<String>,
}

/// The round's final results as XLSX for the education bureau: a sheet per
/// division with rank, team, school, members, score and award. Organisers only.
async fn results_xlsx(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    Query(q): Query<ResultsQuery>,
    parts: Parts,
) -> Result<Response, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    let lang = super::web::choose_lang(&parts, q.lang.as_deref()).0;
    let w = super::web::words(lang);
    let word = |k: &str| w.get(k).cloned().unwrap_or_else(|| k.to_string());
    let board = final_ranking(&state, &round).await?;
    let divs = divisions(&state, ev.id).await?;
    let schools: BTreeMap<i64, String> = sqlx::query("SELECT s.id, s.name FROM schools s WHERE s.id IN (SELECT school_id FROM teams WHERE event_id = $1)")
        .bind(ev.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, AppError>>()?;
    let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT m.team_id, u.display_name FROM team_members m JOIN users u ON u.id = m.student_id WHERE m.event_id = $1 AND m.active = 1 ORDER BY u.id",
    )
    .bind(ev.id)
    .fetch_all(&state.db.pool)
    .await?
    {
        members.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
    }
    let mut awards: BTreeMap<i64, String> = BTreeMap::new();
    for r in sqlx::query("SELECT team_id, award FROM certificates WHERE round_id = $1 AND revoked_at IS NULL").bind(round.id).fetch_all(&state.db.pool).await? {
        awards.insert(r.try_get(0)?, r.try_get(1)?);
    }
    let header = ["res_rank", "res_team", "res_school", "res_members", "res_score", "res_award"].map(word);
    let bytes = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let mut used = std::collections::BTreeSet::new();
        for (division, entries) in &board {
            let sheet = wb.add_worksheet();
            let name = divs.iter().find(|d| d.id == *division).map_or_else(|| division.to_string(), |d| d.name.clone());
            // Sheet names: at most 31 characters, none of []:*?/\ (the division's name may hold them).
            let safe: String = name.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).take(31).collect();
            // Unique, too: two divisions may share a name.
            let safe = if safe.trim().is_empty() || used.contains(&safe) { division.to_string() } else { safe };
            used.insert(safe.clone());
            sheet.set_name(safe)?;
            for (c, h) in header.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, h, &bold)?;
                sheet.set_column_width(c as u16, if c == 3 { 36 } else { 16 })?;
            }
            for (i, e) in entries.iter().enumerate() {
                let y = i as u32 + 1;
                sheet.write_number(y, 0, f64::from(e.rank))?;
                // Strings stay strings: nothing a team typed runs as a formula.
                sheet.write_string(y, 1, &e.team)?;
                sheet.write_string(y, 2, schools.get(&e.school_id).map_or("", String::as_str))?;
                sheet.write_string(y, 3, members.get(&e.team_id).map(|m| m.join("、")).unwrap_or_default())?;
                sheet.write_number(y, 4, e.score)?;
                sheet.write_string(y, 5, awards.get(&e.team_id).map_or("", String::as_str))?;
            }
            sheet.set_freeze_panes(1, 0)?;
        }
        if board.is_empty() {
            wb.add_worksheet();
        }
        wb.save_to_buffer()
    })()
    .map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = state.db.begin_write().await?;
    audit_in(&mut tx, &caller.user, "results_export", &format!("event_id={} round_id={}", ev.id, round.id)).await?;
    tx.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, super::roster::XLSX_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"results-{}-{}.xlsx\"", ev.id, round.id)),
        ],
        bytes,
    )
        .into_response())
}
