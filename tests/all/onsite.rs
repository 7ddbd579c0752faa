//! On-site rounds on both databases: the address allow-list (IPv4 and IPv6,
//! the TCP peer or a trusted proxy's `X-Forwarded-For`) refuses a
//! contestant's round requests from elsewhere and lets organisers and
//! coaches through; one session per contestant (a second sign-in is
//! refused until a proctor releases the seat); seats assigned by hand and
//! automatically, deterministically; the seat plan as JSON and as a PDF
//! that carries the contestants' names.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use qiming::serve::http::AppState;
use serde_json::{Value, json};

use crate::classroom::{School, has_cjk_font, school};
use crate::contests::{region_id, staff, students, unix_now};
use crate::server::{call, raw, raw_bytes, state};

/// A request as if from `addr` (the connection's peer, as the listener records it).
fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<Value>, forwarded: Option<&str>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let ip: IpAddr = addr.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    req
}

async fn from(s: &AppState, addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let (st, v, _) = raw(s, request(addr, method, path, token, body, None)).await;
    (st, v)
}

/// Signs in from `addr`: (status, token or the error body).
async fn sign_in(s: &AppState, addr: &str, username: &str) -> (StatusCode, Value) {
    from(s, addr, "POST", "/api/login", None, Some(json!({"username": username, "password": "student-pass"}))).await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// The PDF's streams, inflated where krilla compressed them (content, fonts' ToUnicode maps, object streams).
fn streams(pdf: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&pdf[at..], b"stream") {
        let start = at + i + b"stream".len();
        at = start;
        if pdf[..start].ends_with(b"endstream") {
            continue;
        }
        let body_start = start + if pdf[start..].starts_with(b"\r\n") { 2 } else { 1 };
        let Some(end) = find(&pdf[body_start..], b"endstream") else { break };
        let data = &pdf[body_start..body_start + end];
        let mut text = Vec::new();
        if flate2::read::ZlibDecoder::new(data).read_to_end(&mut text).is_err() {
            text = data.to_vec();
        }
        out.push(String::from_utf8_lossy(&text).into_owned());
    }
    out
}

/// Every character the PDF's fonts map back to text (their ToUnicode CMaps):
/// what a reader's copy and search see.
fn pdf_text_chars(pdf: &[u8]) -> BTreeSet<char> {
    let mut chars = BTreeSet::new();
    for text in streams(pdf) {
        for block in ["beginbfchar", "beginbfrange"] {
            let mut rest = text.as_str();
            while let Some(b) = rest.find(block) {
                let after = &rest[b + block.len()..];
                let stop = after.find("end").unwrap_or(after.len());
                // The last hex string of each line is the text (UTF-16BE); bfrange lines map a run of glyphs from it.
                for line in after[..stop].lines() {
                    let hexes: Vec<&str> = line.split('<').skip(1).filter_map(|h| h.split('>').next()).collect();
                    let Some(dst) = hexes.last() else { continue };
                    let units: Vec<u16> = (0..dst.len() / 4).filter_map(|k| u16::from_str_radix(&dst[k * 4..k * 4 + 4], 16).ok()).collect();
                    let n = if block == "beginbfrange" && hexes.len() == 3 {
                        let lo = u32::from_str_radix(hexes[0], 16).unwrap_or(0);
                        let hi = u32::from_str_radix(hexes[1], 16).unwrap_or(0);
                        hi.saturating_sub(lo) + 1
                    } else {
                        1
                    };
                    for k in 0..n.min(256) {
                        let mut u = units.clone();
                        if let Some(last) = u.last_mut() {
                            *last += k as u16;
                        }
                        chars.extend(char::decode_utf16(u).filter_map(Result::ok));
                    }
                }
                rest = &after[stop..];
            }
        }
    }
    chars
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn onsite_flow(backend: &str) {
    let s = state(backend, "onsite").await;
    let School { admin, school_id, teacher } = school(&s).await;
    let (city, district) = (region_id(&s, &admin, "杭州市").await, region_id(&s, &admin, "西湖区").await);
    let organiser =
        staff(&s, &admin, json!({"username": "zuwei", "display_name": "组委会", "role": "organiser", "region_id": city, "password": "organiser-password"}))
            .await;
    let judge =
        staff(&s, &admin, json!({"username": "jiankao", "display_name": "监考", "role": "teacher", "school_id": school_id, "password": "judge-password"}))
            .await;
    // A second school of the district, with its own coach.
    let (st, other, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "西湖二中", "region_id": district}))).await;
    assert_eq!(st, StatusCode::CREATED, "{other}");
    let coach_b =
        staff(&s, &admin, json!({"username": "zhang", "display_name": "张老师", "role": "teacher", "school_id": other["id"], "password": "teacher-password"}))
            .await;

    let divisions = json!([{"name": "小学高年级", "min_grade": 4, "max_grade": 6}]);
    let (st, ev, _) = call(&s, "POST", "/api/events", Some(&organiser), Some(json!({"name": "区赛", "tier": "district", "kind": "robot_sim", "region_id": district, "registration_deadline": unix_now() + 3600, "divisions": divisions}))).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let (event, division) = (ev["id"].as_i64().unwrap(), ev["divisions"][0]["id"].as_i64().unwrap());
    let (st, _, _) = call(&s, "POST", &format!("/api/events/{event}/members"), Some(&organiser), Some(json!({"username": "jiankao", "role": "judge"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    // School A: team A1 (two students) and A2 (one); school B: team B1 (one).
    let (_, class_a, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级（1）班"}))).await;
    let kids = students(&s, &teacher, class_a["id"].as_i64().unwrap(), &["5101", "5102", "5103"]).await;
    let (_, class_b, _) = call(&s, "POST", "/api/classes", Some(&coach_b), Some(json!({"name": "五年级（3）班"}))).await;
    let kids_b = students(&s, &coach_b, class_b["id"].as_i64().unwrap(), &["5301"]).await;
    // Names of their own, to find in the PDF.
    let names = ["张三丰", "李四光", "王五岳", "赵六龙"];
    for ((id, _), name) in kids.iter().chain(&kids_b).zip(names) {
        let by = if *id == kids_b[0].0 { &coach_b } else { &teacher };
        let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{id}"), Some(by), Some(json!({"display_name": name}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let sref = &s;
    let username = |id: i64| async move { sref.db.user(id).await.unwrap().unwrap().username };
    let team = |coach: String, name: &'static str, members: Vec<i64>| {
        let (s, organiser) = (&s, organiser.clone());
        async move {
            let (st, t, _) =
                call(s, "POST", &format!("/api/events/{event}/teams"), Some(&coach), Some(json!({"name": name, "division_id": division, "students": members})))
                    .await;
            assert_eq!(st, StatusCode::CREATED, "{t}");
            let id = t["id"].as_i64().unwrap();
            let (st, _, _) = call(s, "POST", &format!("/api/events/{event}/teams/{id}/decision"), Some(&organiser), Some(json!({"decision": "approve"}))).await;
            assert_eq!(st, StatusCode::OK);
            id
        }
    };
    let a1 = team(teacher.clone(), "甲队", vec![kids[0].0, kids[1].0]).await;
    let b1 = team(coach_b.clone(), "乙队", vec![kids_b[0].0]).await;
    let a2 = team(teacher.clone(), "丙队", vec![kids[2].0]).await;
    let t0 = s.clock.now();
    let (st, round, _) = call(
        &s,
        "POST",
        &format!("/api/events/{event}/rounds"),
        Some(&organiser),
        Some(json!({"name": "决赛", "opens_at": t0 - 60, "closes_at": t0 + 7200, "labs": ["wall-stop"], "submission_limit": 10})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{round}");
    let base = format!("/api/events/{event}/rounds/{}", round["id"]);
    let onsite = format!("{base}/onsite");

    // ---- seats: automatic, deterministic; then by hand.
    let (st, e, _) = call(&s, "POST", &format!("{base}/seats/auto"), Some(&organiser), Some(json!({"rooms": [{"name": "301", "capacity": 2}]}))).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "rooms_too_small"), "{e}");
    assert_eq!((e["error"]["needed"].as_i64(), e["error"]["capacity"].as_i64()), (Some(4), Some(2)), "{e}");
    let rooms = json!({"rooms": [{"name": "301", "capacity": 2}, {"name": "302", "capacity": 3}]});
    let seated = |v: &Value| -> Vec<(i64, String, i64)> {
        v["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["student_id"].as_i64().unwrap(), x["room"].as_str().unwrap().to_string(), x["seat"].as_i64().unwrap()))
            .collect()
    };
    let (st, auto, _) = call(&s, "POST", &format!("{base}/seats/auto"), Some(&organiser), Some(rooms.clone())).await;
    assert_eq!(st, StatusCode::OK, "{auto}");
    // Schools dealt in turn (A1, B1, A2); A1 fills room 301; B1 does not fit there and starts 302.
    let mut expected =
        vec![(kids[0].0, "301".to_string(), 1), (kids[1].0, "301".to_string(), 2), (kids_b[0].0, "302".to_string(), 1), (kids[2].0, "302".to_string(), 2)];
    expected.sort();
    let mut got = seated(&auto);
    got.sort();
    assert_eq!(got, expected, "{auto}");
    let (_, again, _) = call(&s, "POST", &format!("{base}/seats/auto"), Some(&organiser), Some(rooms)).await;
    assert_eq!(seated(&again), seated(&auto), "the same rooms give the same plan");
    let (st, e, _) = call(&s, "POST", &format!("{base}/seats"), Some(&organiser), Some(json!({"student_id": kids[2].0, "room": "301", "seat": 1}))).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "seat_taken"), "{e}");
    let (st, v, _) = call(&s, "POST", &format!("{base}/seats"), Some(&organiser), Some(json!({"student_id": kids[2].0, "room": "302", "seat": 3}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/seats"), Some(&organiser), Some(json!({"student_id": kids[2].0, "room": "302", "seat": 0}))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("seat")), "{e}");
    let (st, _, _) = call(&s, "POST", &format!("{base}/seats"), Some(&teacher), Some(json!({"team_id": a2, "room": "302", "seat": 3}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "coaches do not seat");
    // The plan: per room in seat order; the door list by school, team, name. A contestant sees only their own seat.
    let (_, plan, _) = call(&s, "GET", &format!("{base}/seats"), Some(&judge), None).await;
    let room302: Vec<&str> = plan["rooms"][1]["seats"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!((plan["rooms"][1]["room"].as_str(), room302), (Some("302"), vec!["赵六龙", "王五岳"]), "{plan}");
    assert_eq!(plan["rooms"][1]["door"][0]["school"], "启明小学", "{plan}");
    let (_, mine, _) = call(&s, "GET", &format!("{base}/seats"), Some(&kids_b[0].1), None).await;
    assert_eq!(mine["rooms"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["rooms"][0]["seats"].as_array().unwrap().len(), 1, "{mine}");

    // ---- the seat plan as PDF.
    let (st, pdf, _) = raw_bytes(
        &s,
        Request::builder().uri(format!("{base}/seats.pdf")).header(header::AUTHORIZATION, format!("Bearer {organiser}")).body(Body::empty()).unwrap(),
    )
    .await;
    if has_cjk_font() {
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
        assert!(pdf.starts_with(b"%PDF-") && find(&pdf[pdf.len().saturating_sub(64)..], b"%%EOF").is_some(), "a whole PDF");
        let chars = pdf_text_chars(&pdf);
        for name in names.iter().chain(&["甲队", "乙队", "西湖二中", "启明小学", "决赛"]) {
            let lacking: Vec<char> = name.chars().filter(|c| !chars.contains(c)).collect();
            assert!(lacking.is_empty(), "{name}: {lacking:?} not in the PDF's text");
        }
        // Two rooms, a seat plan and a door list each.
        assert_eq!(find_pages(&pdf), 4, "pages");
    } else {
        assert_eq!((st, code(&serde_json::from_slice(&pdf).unwrap())), (StatusCode::CONFLICT, "seat_plan_unavailable"));
    }
    let (st, _, _) = call(&s, "GET", &format!("{base}/seats.pdf"), Some(&kids[0].1), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // ---- on-site mode: organisers only; the allow-list is checked and normalised.
    let (st, _, _) = call(&s, "PUT", &onsite, Some(&judge), Some(json!({"enabled": true, "allow": ["10.1.0.0/16"]}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for (allow, reason) in [(json!(["10.1.0.0/33"]), "cidr"), (json!(["例如"]), "cidr"), (json!([]), "required")] {
        let (st, e, _) = call(&s, "PUT", &onsite, Some(&organiser), Some(json!({"enabled": true, "allow": allow}))).await;
        assert_eq!((st, e["error"]["reason"].as_str(), e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(reason), Some("allow")), "{e}");
    }
    // A contestant signed in at home before the round, and again (a second browser).
    let home = kids[0].1.clone();
    let (st, other_browser) = sign_in(&s, "192.168.9.9", &username(kids[0].0).await).await;
    assert_eq!(st, StatusCode::OK, "{other_browser}");
    let other_browser = other_browser["token"].as_str().unwrap().to_string();
    let (st, set, _) = call(&s, "PUT", &onsite, Some(&organiser), Some(json!({"enabled": true, "allow": ["10.1.2.3/16", "2001:db8::/32"]}))).await;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(set["allow"], json!(["10.1.0.0/16", "2001:db8::/32"]));

    // ---- the address: refused from elsewhere, allowed in the room (IPv4 and IPv6); staff are not restricted.
    let (st, e) = from(&s, "192.168.9.9", "GET", &base, Some(&home), None).await;
    assert_eq!((st, code(&e)), (StatusCode::FORBIDDEN, "onsite_address"), "{e}");
    assert_eq!(e["error"]["address"], "192.168.9.9");
    let program = json!({"lab_id": "wall-stop", "language": "rhai", "program": "stop();"});
    let (st, e) = from(&s, "192.168.9.9", "POST", &format!("{base}/submissions"), Some(&home), Some(program.clone())).await;
    assert_eq!((st, code(&e)), (StatusCode::FORBIDDEN, "onsite_address"), "{e}");
    let (st, e) = from(&s, "192.168.9.9", "POST", &format!("{base}/clarifications"), Some(&home), Some(json!({"text": "?"}))).await;
    assert_eq!((st, code(&e)), (StatusCode::FORBIDDEN, "onsite_address"), "{e}");
    // Without a connection address (no listener) nothing is allowed either.
    let (st, _, _) = call(&s, "GET", &base, Some(&home), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The seat: the first session used in the room is bound; the contestant's other sessions end.
    let (st, v) = from(&s, "10.1.7.20", "GET", &base, Some(&home), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = from(&s, "10.1.7.20", "GET", "/api/me", Some(&other_browser), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "binding the seat ended the contestant's other session");
    let (st, v) = from(&s, "2001:db8:0:1::20", "GET", &base, Some(&home), None).await;
    assert_eq!(st, StatusCode::OK, "IPv6 in the list: {v}");
    let (st, sub) = from(&s, "10.1.7.20", "POST", &format!("{base}/submissions"), Some(&home), Some(program.clone())).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sub}");
    let (st, v) = from(&s, "10.1.7.20", "POST", &format!("{base}/clarifications"), Some(&home), Some(json!({"text": "能用超声波吗？"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // The round's submission is the round's too, at /api/submissions/{id}.
    let (st, e) = from(&s, "192.168.9.9", "GET", &format!("/api/submissions/{}", sub["id"]), Some(&home), None).await;
    assert_eq!((st, code(&e)), (StatusCode::FORBIDDEN, "onsite_address"), "{e}");
    let (st, _) = from(&s, "10.1.7.20", "GET", &format!("/api/submissions/{}", sub["id"]), Some(&home), None).await;
    assert_eq!(st, StatusCode::OK);
    for (who, token) in [("organiser", &organiser), ("judge", &judge), ("coach", &teacher)] {
        let (st, v) = from(&s, "192.168.9.9", "GET", &base, Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{who} from anywhere: {v}");
        let (st, v) = from(&s, "192.168.9.9", "GET", &format!("{base}/clarifications"), Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{who}: {v}");
    }
    // Behind the school's reverse proxy: only the address the proxy added counts.
    let mut proxied = s.clone();
    proxied.trust_forwarded_for = true;
    let (st, _, _) = raw(&proxied, request("127.0.0.1", "GET", &base, Some(&home), None, Some("192.168.9.9, 10.1.7.20"))).await;
    assert_eq!(st, StatusCode::OK, "the proxy saw 10.1.7.20");
    let (st, _, _) = raw(&proxied, request("127.0.0.1", "GET", &base, Some(&home), None, Some("10.1.7.20, 192.168.9.9"))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "what the client wrote before the proxy's entry is not trusted");
    let (st, _, _) = raw(&s, request("127.0.0.1", "GET", &base, Some(&home), None, Some("10.1.7.20"))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "without trust_forwarded_for the header is ignored");

    // ---- one session: a second sign-in (another seat, or at home) is refused while the seat's session lives.
    let (st, e) = sign_in(&s, "10.1.7.21", &username(kids[0].0).await).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "onsite_signed_in_elsewhere"), "{e}");
    let (st, e) = sign_in(&s, "192.168.9.9", &username(kids[0].0).await).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "onsite_signed_in_elsewhere"), "{e}");
    let (st, _) = from(&s, "10.1.7.20", "GET", &base, Some(&home), None).await;
    assert_eq!(st, StatusCode::OK, "the first seat keeps its session");
    // A session the seat did not bind (one older than the round, here planted) is refused in the room too.
    let stray = "ab".repeat(32);
    sqlx::query("INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, expires_at) VALUES ($1, '', $2, 0, $3)")
        .bind(qiming::serve::auth::token_hash(&stray))
        .bind(kids[0].0)
        .bind(unix_now() + 3600)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (st, e) = from(&s, "10.1.7.21", "GET", &base, Some(&stray), None).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "onsite_other_seat"), "{e}");
    // Staff see who sits where.
    let (_, info, _) = call(&s, "GET", &onsite, Some(&judge), None).await;
    let session = info["sessions"].as_array().unwrap().iter().find(|x| x["student_id"] == kids[0].0).cloned().unwrap_or_else(|| panic!("{info}"));
    assert_eq!((session["address"].as_str(), session["live"].as_bool()), (Some("10.1.7.20"), Some(true)), "{info}");
    let (_, mine) = from(&s, "10.1.7.20", "GET", &onsite, Some(&home), None).await;
    assert_eq!((mine["enabled"].as_bool(), mine["seat"]["room"].as_str(), mine.get("allow")), (Some(true), Some("301"), None), "{mine}");

    // ---- a proctor releases the seat: the old session ends; the contestant signs in at the new seat.
    let (st, _, _) = call(&s, "POST", &format!("{onsite}/release"), Some(&kids[1].1), Some(json!({"student_id": kids[0].0}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "contestants do not release seats");
    let (st, v, _) = call(&s, "POST", &format!("{onsite}/release"), Some(&judge), Some(json!({"student_id": kids[0].0}))).await;
    assert_eq!((st, v["released"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (st, _) = from(&s, "10.1.7.20", "GET", &base, Some(&home), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the released seat's session is over");
    let (st, fresh) = sign_in(&s, "10.1.7.21", &username(kids[0].0).await).await;
    assert_eq!(st, StatusCode::OK, "{fresh}");
    let fresh = fresh["token"].as_str().unwrap().to_string();
    let (_, info, _) = call(&s, "GET", &onsite, Some(&organiser), None).await;
    let session = info["sessions"].as_array().unwrap().iter().find(|x| x["student_id"] == kids[0].0).cloned().unwrap();
    assert_eq!(session["address"], "10.1.7.21", "bound at sign-in: {info}");
    let (st, _) = from(&s, "10.1.7.21", "GET", &base, Some(&fresh), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = sign_in(&s, "10.1.7.20", &username(kids[0].0).await).await;
    assert_eq!((st, code(&e)), (StatusCode::CONFLICT, "onsite_signed_in_elsewhere"), "{e}");

    // A contestant who signs in from elsewhere is not bound, and cannot work on the round from there.
    let (st, away) = sign_in(&s, "192.168.9.10", &username(kids_b[0].0).await).await;
    assert_eq!(st, StatusCode::OK, "{away}");
    let away = away["token"].as_str().unwrap().to_string();
    let (st, _) = from(&s, "192.168.9.10", "GET", &base, Some(&away), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, seat) = sign_in(&s, "10.1.8.1", &username(kids_b[0].0).await).await;
    assert_eq!(st, StatusCode::OK, "{seat}");
    let (st, _) = from(&s, "192.168.9.10", "GET", "/api/me", Some(&away), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "signing in at the seat ended the other session");

    // ---- turning it off lifts every restriction; after the round closes, the address no longer matters either.
    let (st, _, _) = call(&s, "PUT", &onsite, Some(&organiser), Some(json!({"enabled": false, "allow": ["10.1.0.0/16"]}))).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = from(&s, "192.168.9.9", "GET", &base, Some(&fresh), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = call(&s, "PUT", &onsite, Some(&organiser), Some(json!({"enabled": true, "allow": ["10.1.0.0/16"]}))).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = from(&s, "192.168.9.9", "GET", &base, Some(&fresh), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.clock.advance(7200 + 60);
    let (st, _) = from(&s, "192.168.9.9", "GET", &base, Some(&fresh), None).await;
    assert_eq!(st, StatusCode::OK, "the round is over");
    let (st, v) = sign_in(&s, "192.168.9.9", &username(kids[0].0).await).await;
    assert_eq!(st, StatusCode::OK, "after the round, signing in anywhere is allowed again: {v}");
    // Every step of the organisers is in the audit log, with ids only.
    let (_, audit, _) = call(&s, "GET", "/api/audit?limit=500", Some(&admin), None).await;
    let actions: BTreeSet<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["onsite_set", "onsite_release", "onsite_bind", "seats_auto", "seats_assign"] {
        assert!(actions.contains(a), "{a} in {actions:?}");
    }
    let _ = (a1, b1);
}

/// The pages of the PDF: its page objects (`/Type /Page`, not `/Pages`), in the file or in its object streams.
fn find_pages(pdf: &[u8]) -> usize {
    let raw = String::from_utf8_lossy(pdf).into_owned();
    std::iter::once(raw)
        .chain(streams(pdf))
        .map(|t| {
            t.replace("/Type/Page", "/Type /Page").matches("/Type /Page").count() - t.replace("/Type/Pages", "/Type /Pages").matches("/Type /Pages").count()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onsite_rounds_on_sqlite() {
    onsite_flow("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onsite_rounds_on_postgres() {
    onsite_flow("postgres").await;
}
