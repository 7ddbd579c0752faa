//! Creative works judged by people, on both databases: a rubric, entries
//! with checked files, judges assigned balanced and deterministically under
//! conflict-of-interest rules (own school, declared conflicts), blind
//! judging, a judge who cannot see or score an entry not assigned to them,
//! revisable sheets until judging closes, normalisation on a known example,
//! a flagged entry given a further judge, the progress dashboard, and the
//! published ranking feeding the leaderboard and certificates.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use qiming::serve::creative::{Conflict, EntryInfo, JudgeInfo, Sheet, eligible, normalise, plan};
use qiming::serve::http::AppState;
use serde_json::{Value, json};

use crate::classroom::{School, school};
use crate::server::{call, import_roster, login, raw_bytes, state};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---------------------------------------------------------------- the pure parts

#[test]
fn normalisation_on_a_known_example() {
    // Judge 1 is lenient, judge 2 harsh; both rank the entries alike.
    let sheets =
        [(1, 1, 80.0), (2, 1, 60.0), (3, 1, 70.0), (1, 2, 50.0), (2, 2, 30.0), (3, 2, 40.0)].map(|(e, j, total)| Sheet { entry_id: e, judge_id: j, total });
    let r = normalise(&sheets, 25.0);
    // All six totals: mean 55, population sd √(1750/6) = 17.0783; each
    // judge's sd is √(200/3) = 8.1650, so z = ±1.2247 → 55 ± 20.9165.
    let by = |e: i64| r.iter().find(|s| s.entry_id == e).unwrap().clone();
    assert!(close(by(1).score, 75.92) && close(by(1).raw_mean, 65.0), "{r:?}");
    assert!(close(by(2).score, 34.08) && close(by(2).raw_mean, 45.0), "{r:?}");
    assert!(close(by(3).score, 55.0) && close(by(3).raw_mean, 55.0), "{r:?}");
    // After normalisation the judges agree exactly: nothing is flagged, though their raw totals lie 30 apart.
    assert!(r.iter().all(|s| !s.flagged && close(s.spread, 0.0)), "{r:?}");
    // The order of the sheets does not matter.
    let mut rev = sheets.to_vec();
    rev.reverse();
    assert_eq!(normalise(&rev, 25.0), r);

    // A judge with one sheet keeps their raw total; one who gave every entry the same total is centred.
    let r =
        normalise(&[(1, 1, 90.0), (2, 1, 50.0), (1, 2, 70.0), (2, 2, 70.0), (1, 3, 20.0)].map(|(e, j, total)| Sheet { entry_id: e, judge_id: j, total }), 25.0);
    let e1 = r.iter().find(|s| s.entry_id == 1).unwrap();
    // Mean of all five: 60; sd √((900+100+100+100+1600)/5) = √560 = 23.6643.
    assert_eq!(e1.sheets.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(close(e1.sheets[0].2, 83.66), "{e1:?}"); // judge 1: z = +1
    assert!(close(e1.sheets[1].2, 60.0), "{e1:?}"); // judge 2: centred
    assert!(close(e1.sheets[2].2, 20.0), "{e1:?}"); // judge 3: one sheet, raw
    assert!(e1.flagged && close(e1.spread, 63.66), "{e1:?}");
}

#[test]
fn assignment_is_balanced_deterministic_and_respects_conflicts() {
    // Twelve entries of four schools; six judges of other schools: k = 3 gives everyone 6.
    let entries: Vec<EntryInfo> = (1..=12).map(|i| EntryInfo { id: i, team_id: 100 + i, school_id: 1 + i % 4 }).collect();
    let outsiders: Vec<JudgeInfo> = (1..=6).map(|j| JudgeInfo { id: j, school_id: Some(50 + j) }).collect();
    let p = plan(&entries, &outsiders, &[], 3, &[]);
    assert!(p.understaffed.is_empty());
    let load = |p: &qiming::serve::creative::Plan, j: i64| p.new.iter().filter(|(_, x)| *x == j).count();
    assert!((1..=6).all(|j| load(&p, j) == 6), "{:?}", p.new);
    for e in &entries {
        let mut js: Vec<i64> = p.new.iter().filter(|(x, _)| *x == e.id).map(|(_, j)| *j).collect();
        js.sort_unstable();
        js.dedup();
        assert_eq!(js.len(), 3, "entry {} judges {js:?}", e.id);
    }
    // Deterministic: the same answer from shuffled inputs.
    let mut shuffled = entries.clone();
    shuffled.reverse();
    let mut judges_rev = outsiders.clone();
    judges_rev.rotate_left(2);
    assert_eq!(plan(&shuffled, &judges_rev, &[], 3, &[]), p);
    // Seven judges for 12 × 3 = 36 places: loads 5 or 6, never further apart.
    let seven: Vec<JudgeInfo> = (1..=7).map(|j| JudgeInfo { id: j, school_id: Some(50 + j) }).collect();
    let p7 = plan(&entries, &seven, &[], 3, &[]);
    let loads: Vec<usize> = (1..=7).map(|j| load(&p7, j)).collect();
    assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1, "{loads:?}");

    // Conflicts: judges of schools 1 and 2, and a declared conflict with school 3 and one team.
    let mut judges = outsiders.clone();
    judges.push(JudgeInfo { id: 7, school_id: Some(1) });
    judges.push(JudgeInfo { id: 8, school_id: Some(2) });
    let conflicts = vec![Conflict { judge_id: 1, school_id: Some(3), team_id: None }, Conflict { judge_id: 2, school_id: None, team_id: Some(105) }];
    let p = plan(&entries, &judges, &conflicts, 3, &[]);
    for (e, j) in &p.new {
        let entry = entries.iter().find(|x| x.id == *e).unwrap();
        let judge = judges.iter().find(|x| x.id == *j).unwrap();
        assert!(eligible(judge, entry, &conflicts), "judge {j} scores entry {e}");
        assert_ne!(judge.school_id, Some(entry.school_id));
    }
    assert!(!p.new.iter().any(|(e, j)| *j == 2 && *e == 5), "a declared team conflict");
    assert!(!p.new.iter().any(|(e, j)| *j == 1 && entries[(*e - 1) as usize].school_id == 3), "a declared school conflict");
    // Running again with what is there adds nothing.
    assert!(plan(&entries, &judges, &conflicts, 3, &p.new).new.is_empty());
    // Not enough eligible judges: the entry is reported, never given a conflicted judge.
    let only_own = vec![JudgeInfo { id: 9, school_id: Some(2) }];
    let p = plan(&entries[..2], &only_own, &[], 1, &[]);
    assert_eq!(p.understaffed, vec![1]);
    assert_eq!(p.new, vec![(2, 9)]);
}

// ---------------------------------------------------------------- the flow through the API

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

pub(crate) fn until(s: &AppState, t: i64) {
    let behind = t - s.clock.now();
    if behind > 0 {
        s.clock.advance(behind);
    }
}

pub(crate) async fn staff(s: &AppState, admin: &str, username: &str, role: &str, school: Option<i64>, region: Option<i64>) -> (i64, String) {
    let (st, v, _) = call(
        s,
        "POST",
        "/api/users",
        Some(admin),
        Some(json!({"username": username, "display_name": format!("{username}老师"), "role": role, "school_id": school, "region_id": region, "password": "staff-password-1"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = s.db.user_by_name(username).await.unwrap().unwrap().0.id;
    (id, login(s, username, "staff-password-1").await)
}

/// A student of a new class of `teacher`, who has set their own password: (id, token).
pub(crate) async fn student(s: &AppState, teacher: &str, number: &str, name: &str) -> (i64, String) {
    let (st, class, _) = call(s, "POST", "/api/classes", Some(teacher), Some(json!({"name": format!("五年级{number}班")}))).await;
    assert_eq!(st, StatusCode::CREATED, "{class}");
    let (st, v) = import_roster(s, teacher, class["id"].as_i64().unwrap(), format!("学号,姓名\n{number},{name}\n")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let c = &v["created"][0];
    let first = login(s, c["username"].as_str().unwrap(), c["password"].as_str().unwrap()).await;
    let (st, _, _) = call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": c["password"], "new_password": "student-pass"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    (c["id"].as_i64().unwrap(), login(s, c["username"].as_str().unwrap(), "student-pass").await)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Points for a total of `total` (of 100) on the test rubric: criterion A (max 10, weight 2), B (max 20, weight 1).
fn sheet_for(rubric: &Value, total: i64) -> Value {
    let (a, b) = (rubric[0]["id"].as_i64().unwrap(), rubric[1]["id"].as_i64().unwrap());
    json!({"scores": [{"criterion_id": a, "points": total / 10, "comment": "构思"}, {"criterion_id": b, "points": total / 5, "comment": "完成度"}], "comment": "总体不错"})
}

async fn creative_flow(backend: &str) {
    let s = state(backend, "creative").await;
    let School { admin, school_id: s1, teacher: t1 } = school(&s).await;
    let (_, regions, _) = call(&s, "GET", "/api/regions", Some(&admin), None).await;
    let region = |name: &str| regions["regions"].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap()["id"].as_i64().unwrap();
    let (city, district) = (region("杭州市"), region("西湖区"));
    let mut schools = vec![s1];
    for name in ["二小", "三小", "四小"] {
        let (st, v, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": name, "region_id": district}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        schools.push(v["id"].as_i64().unwrap());
    }
    let (_, t2) = staff(&s, &admin, "t2", "teacher", Some(schools[1]), None).await;
    let (_, t3) = staff(&s, &admin, "t3", "teacher", Some(schools[2]), None).await;
    let (_, organiser) = staff(&s, &admin, "zuwei", "organiser", None, Some(city)).await;
    // Judges: one from each team's school, one from a fourth school (who declares conflicts with every team).
    let (j1_id, j1) = staff(&s, &admin, "j1", "teacher", Some(schools[0]), None).await;
    let (j2_id, j2) = staff(&s, &admin, "j2", "teacher", Some(schools[1]), None).await;
    let (j3_id, j3) = staff(&s, &admin, "j3", "teacher", Some(schools[2]), None).await;
    let (j4_id, j4) = staff(&s, &admin, "j4", "teacher", Some(schools[3]), None).await;

    let (st, ev, _) = call(
        &s,
        "POST",
        "/api/events",
        Some(&organiser),
        Some(json!({"name": "创意编程大赛", "tier": "district", "kind": "creative", "region_id": district,
        "registration_deadline": unix_now() + 3600, "divisions": [{"name": "小学", "min_grade": 1, "max_grade": 6}]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let event = ev["id"].as_i64().unwrap();
    let division = ev["divisions"][0]["id"].as_i64().unwrap();
    for j in ["j1", "j2", "j3", "j4"] {
        let (st, v, _) = call(&s, "POST", &format!("/api/events/{event}/members"), Some(&organiser), Some(json!({"username": j, "role": "judge"}))).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    }
    // Three teams, one per school; each student is their team's captain.
    let mut teams = Vec::new();
    for (i, (teacher, name)) in [(&t1, "张小明"), (&t2, "李小红"), (&t3, "王小刚")].into_iter().enumerate() {
        let (sid, token) = student(&s, teacher, &format!("{}01", i + 1), name).await;
        let (st, team, _) = call(
            &s,
            "POST",
            &format!("/api/events/{event}/teams"),
            Some(teacher),
            Some(json!({"name": format!("{name}队"), "division_id": division, "students": [sid]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{team}");
        let tid = team["id"].as_i64().unwrap();
        let (st, v, _) = call(&s, "POST", &format!("/api/events/{event}/teams/{tid}/decision"), Some(&organiser), Some(json!({"decision": "approve"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        teams.push((tid, token, name));
    }

    // A robot_sim event takes no creative round; the rubric is checked.
    let t0 = s.clock.now();
    let criteria = json!([
        {"name": {"zh-CN": "创意", "en": "Creativity"}, "description": {"zh-CN": "想法新颖", "en": "An original idea"}, "max_points": 10, "weight": 2},
        {"name": {"zh-CN": "完成度", "en": "Execution"}, "max_points": 20}
    ]);
    let new_round = json!({"name": "作品评审", "opens_at": t0 - 10, "closes_at": t0 + 100, "judging_closes_at": t0 + 1000, "judges_per_entry": 2, "blind": true, "criteria": criteria});
    let (st, e, _) = call(
        &s,
        "POST",
        &format!("/api/events/{event}/creative-rounds"),
        Some(&organiser),
        Some(with_criteria(&new_round, json!([{"name": {"zh-CN": "创意", "en": "C"}, "max_points": 0}]))),
    )
    .await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("max_points")), "{e}");
    let (st, round, _) = call(&s, "POST", &format!("/api/events/{event}/creative-rounds"), Some(&organiser), Some(new_round.clone())).await;
    assert_eq!(st, StatusCode::CREATED, "{round}");
    let rid = round["id"].as_i64().unwrap();
    let base = format!("/api/events/{event}/rounds/{rid}");
    let rubric = round["creative"]["rubric"].clone();
    assert_eq!(rubric.as_array().unwrap().len(), 2);
    assert_eq!(rubric[1]["weight"], 1.0);
    assert_eq!(round["labs"], json!([]));

    // Entries: the captain hands in title, description, a link and files.
    let (t1_id, cap1, _) = &teams[0];
    let (st, e, _) =
        call(&s, "PUT", &format!("{base}/teams/{t1_id}/entry"), Some(cap1), Some(json!({"title": "智能垃圾分类", "links": ["javascript:alert(1)"]}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("link")), "{e}");
    let (st, e, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "a.pdf", "content_base64": b64(b"%PDF-1.4 x")}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_entry")), "{e}");
    for (i, (tid, token, _)) in teams.iter().enumerate() {
        let (st, e, _) = call(
            &s,
            "PUT",
            &format!("{base}/teams/{tid}/entry"),
            Some(token),
            Some(json!({"title": format!("作品{i}"), "description": "用程序讲故事", "links": ["https://video.example.cn/v/1"]})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{e}");
    }
    // Another team's captain may not touch it; an organiser may look but not hand in.
    let (st, _, _) = call(&s, "PUT", &format!("{base}/teams/{t1_id}/entry"), Some(&teams[1].1), Some(json!({"title": "x"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, _) = call(&s, "PUT", &format!("{base}/teams/{t1_id}/entry"), Some(&organiser), Some(json!({"title": "x"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let pdf = b"%PDF-1.4\n% a poster\n".to_vec();
    let (st, f, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "海报.pdf", "content_base64": b64(&pdf)}))).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let file = f["id"].as_i64().unwrap();
    // Content must match the type; unknown types, unsafe zips and oversized files are refused.
    let (st, e, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "photo.png", "content_base64": b64(&pdf)}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("file_content")), "{e}");
    let (st, e, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "run.exe", "content_base64": b64(b"MZ")}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("file_type")), "{e}");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("../evil.txt", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(b"x").unwrap();
    let evil = zip.finish().unwrap().into_inner();
    let (st, e, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "project.sb3", "content_base64": b64(&evil)}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("file_content")), "{e}");
    let big = vec![b'a'; qiming::serve::creative::MAX_FILE_BYTES + 1];
    let (st, _, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "big.txt", "content_base64": b64(&big)}))).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let (st, f, _) =
        call(&s, "POST", &format!("{base}/teams/{t1_id}/entry/files"), Some(cap1), Some(json!({"name": "main.rhai", "content_base64": b64(b"forward(1.0);")})))
            .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let (st, mine, _) = call(&s, "GET", &format!("{base}/teams/{t1_id}/entry"), Some(cap1), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mine["entry"]["files"].as_array().unwrap().len(), 2, "{mine}");
    assert_eq!(mine["may_change"], true);

    // Judges are assigned once entries close.
    let (st, e, _) = call(&s, "POST", &format!("{base}/assign"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("entries_open")), "{e}");
    // The fourth school's judge declares conflicts with teams 1 and 2; the organiser declares one for team 3.
    for (token, body) in
        [(&j4, json!({"team_id": teams[0].0})), (&j4, json!({"team_id": teams[1].0})), (&organiser, json!({"judge_id": j4_id, "team_id": teams[2].0}))]
    {
        let (st, v, _) = call(&s, "POST", &format!("/api/events/{event}/conflicts"), Some(token), Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, _, _) = call(&s, "POST", &format!("/api/events/{event}/conflicts"), Some(&j1), Some(json!({"judge_id": j4_id, "team_id": teams[2].0}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a judge declares only their own conflicts");
    let (_, c, _) = call(&s, "GET", &format!("/api/events/{event}/conflicts"), Some(&j1), None).await;
    assert_eq!(c["conflicts"], json!([]));
    let (_, c, _) = call(&s, "GET", &format!("/api/events/{event}/conflicts"), Some(&organiser), None).await;
    assert_eq!(c["conflicts"].as_array().unwrap().len(), 3);

    until(&s, t0 + 101);
    let (st, e, _) = call(&s, "PUT", &format!("{base}/teams/{t1_id}/entry"), Some(cap1), Some(json!({"title": "迟到"}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_closed")), "{e}");
    let (st, a, _) = call(&s, "POST", &format!("{base}/assign"), Some(&organiser), None).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["understaffed"], json!([]), "{a}");
    // Own school excluded and j4's declared conflicts honoured: each entry gets the two judges of the other schools.
    let (_, list, _) = call(&s, "GET", &format!("{base}/entries"), Some(&organiser), None).await;
    let entry_of_team = |team: i64| list["entries"].as_array().unwrap().iter().find(|e| e["team_id"] == team).unwrap()["id"].as_i64().unwrap();
    let entries: Vec<i64> = teams.iter().map(|(t, _, _)| entry_of_team(*t)).collect();
    let mut pairs: Vec<(i64, i64)> =
        a["assignments"].as_array().unwrap().iter().map(|x| (x["entry_id"].as_i64().unwrap(), x["judge_id"].as_i64().unwrap())).collect();
    pairs.sort_unstable();
    let mut want = vec![(entries[0], j2_id), (entries[0], j3_id), (entries[1], j1_id), (entries[1], j3_id), (entries[2], j1_id), (entries[2], j2_id)];
    want.sort_unstable();
    assert_eq!(pairs, want);
    // Running it again adds nothing.
    let (_, again, _) = call(&s, "POST", &format!("{base}/assign"), Some(&organiser), Some(json!({}))).await;
    assert_eq!(again["assigned"], 0, "{again}");

    // A judge sees only their entries, blind: no team, school or member names.
    let (st, mine, _) = call(&s, "GET", &format!("{base}/entries"), Some(&j1), None).await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<i64> = mine["entries"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![entries[1], entries[2]]);
    let text = mine.to_string();
    for (_, _, name) in &teams {
        assert!(!text.contains(name), "a blind judge reads {name}: {text}");
    }
    assert!(mine["entries"][0].get("team_id").is_none() && mine["entries"][0].get("school").is_none(), "{mine}");
    let (_, all, _) = call(&s, "GET", &format!("{base}/entries"), Some(&organiser), None).await;
    assert!(all.to_string().contains("张小明"), "organisers see the names");
    let (_, none, _) = call(&s, "GET", &format!("{base}/entries"), Some(&j4), None).await;
    assert_eq!(none["entries"], json!([]), "j4 conflicts with every team");
    // Not assigned: 404 for the entry, its files and its sheet.
    let e1 = entries[0];
    for (m, path, body) in [
        ("GET", format!("{base}/entries/{e1}"), None),
        ("GET", format!("{base}/entries/{e1}/files/{file}"), None),
        ("PUT", format!("{base}/entries/{e1}/score"), Some(sheet_for(&rubric, 50))),
    ] {
        let (st, _, _) = call(&s, m, &path, Some(&j1), body.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path} as an unassigned judge");
        let (st, _, _) = call(&s, m, &path, Some(&j4), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path} as a conflicted judge");
    }
    // Assigned: the entry and its file.
    let (st, v, _) = call(&s, "GET", &format!("{base}/entries/{e1}"), Some(&j2), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rubric"].as_array().unwrap().len(), 2);
    assert!(!v.to_string().contains("张小明"));
    let req =
        Request::builder().uri(format!("{base}/entries/{e1}/files/{file}")).header(header::AUTHORIZATION, format!("Bearer {j2}")).body(Body::empty()).unwrap();
    let (st, bytes, _) = raw_bytes(&s, req).await;
    assert_eq!((st, bytes), (StatusCode::OK, pdf.clone()));
    // The organiser is no judge of it.
    let (st, _, _) = call(&s, "PUT", &format!("{base}/entries/{e1}/score"), Some(&organiser), Some(sheet_for(&rubric, 50))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Sheets: every criterion once, points in range.
    let (st, e, _) =
        call(&s, "PUT", &format!("{base}/entries/{e1}/score"), Some(&j2), Some(json!({"scores": [{"criterion_id": rubric[0]["id"], "points": 5}]}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("incomplete")), "{e}");
    let (st, e, _) = call(
        &s,
        "PUT",
        &format!("{base}/entries/{e1}/score"),
        Some(&j2),
        Some(json!({"scores": [{"criterion_id": rubric[0]["id"], "points": 11}, {"criterion_id": rubric[1]["id"], "points": 1}]})),
    )
    .await;
    assert_eq!((st, e["error"]["field"].as_str(), e["error"]["max"].as_i64()), (StatusCode::BAD_REQUEST, Some("points"), Some(10)), "{e}");
    // A first sheet, then a revision: the revision counts.
    let (st, v, _) = call(&s, "PUT", &format!("{base}/entries/{e1}/score"), Some(&j2), Some(sheet_for(&rubric, 10))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 10.0);
    let (_, dash, _) = call(&s, "GET", &format!("{base}/judging"), Some(&organiser), None).await;
    assert_eq!(dash["totals"], json!({"entries": 3, "assignments": 6, "done": 1, "pending": 5, "flagged": 0}), "{dash}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/publish"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str(), e["error"]["pending"].as_i64()), (StatusCode::CONFLICT, Some("judging_pending"), Some(5)), "{e}");

    // j1 is lenient-ish, j2 harsh, j3 generous; each spreads 10 either side of their mean.
    for (token, entry, total) in
        [(&j1, entries[1], 80), (&j1, entries[2], 60), (&j2, entries[0], 50), (&j2, entries[2], 30), (&j3, entries[0], 90), (&j3, entries[1], 70)]
    {
        let (st, v, _) = call(&s, "PUT", &format!("{base}/entries/{entry}/score"), Some(token), Some(sheet_for(&rubric, total))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, dash, _) = call(&s, "GET", &format!("{base}/judging"), Some(&organiser), None).await;
    assert_eq!(dash["totals"], json!({"entries": 3, "assignments": 6, "done": 6, "pending": 0, "flagged": 1}), "{dash}");
    let judge_counts: Vec<(i64, i64, i64)> =
        dash["judges"].as_array().unwrap().iter().map(|j| (j["id"].as_i64().unwrap(), j["assigned"].as_i64().unwrap(), j["done"].as_i64().unwrap())).collect();
    assert_eq!(judge_counts, vec![(j1_id, 2, 2), (j2_id, 2, 2), (j3_id, 2, 2), (j4_id, 0, 0)]);
    // All six totals: mean 63.33, sd 19.72; every judge's z is ±1.
    let at = |e: i64| dash["entries"].as_array().unwrap().iter().find(|x| x["id"] == e).unwrap().clone();
    let num = |v: &Value| v.as_f64().unwrap();
    assert!(close(num(&at(entries[0])["score"]), 83.05) && close(num(&at(entries[0])["raw_mean"]), 70.0), "{dash}");
    assert!(close(num(&at(entries[1])["score"]), 63.33) && close(num(&at(entries[1])["raw_mean"]), 75.0), "{dash}");
    assert!(close(num(&at(entries[2])["score"]), 43.61) && close(num(&at(entries[2])["raw_mean"]), 45.0), "{dash}");
    assert_eq!(at(entries[1])["flagged"], true, "j1 and j3 disagree on entry 2 by 39.44");
    assert!(close(num(&at(entries[1])["spread"]), 39.44));
    // Normalisation changed the order: by raw means entry 2 would lead.
    let ranking: Vec<i64> = dash["ranking"][0]["entries"].as_array().unwrap().iter().map(|e| e["team_id"].as_i64().unwrap()).collect();
    assert_eq!(ranking, vec![teams[0].0, teams[1].0, teams[2].0]);

    // A further judge for the flagged entry: none is eligible (own school, conflicts) until one is added.
    let e2 = entries[1];
    let (st, e, _) = call(&s, "POST", &format!("{base}/entries/{e2}/further-judge"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_eligible_judge")), "{e}");
    let (j5_id, j5) = staff(&s, &admin, "j5", "teacher", Some(schools[3]), None).await;
    let (st, _, _) = call(&s, "POST", &format!("/api/events/{event}/members"), Some(&organiser), Some(json!({"user_id": j5_id, "role": "judge"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, v, _) = call(&s, "POST", &format!("{base}/entries/{e2}/further-judge"), Some(&organiser), None).await;
    assert_eq!((st, v["judge_id"].as_i64()), (StatusCode::OK, Some(j5_id)), "{v}");
    let (st, v, _) = call(&s, "PUT", &format!("{base}/entries/{e2}/score"), Some(&j5), Some(sheet_for(&rubric, 60))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Seven totals: mean 62.857, sd 18.295; j5's single sheet stays raw.
    let (_, dash, _) = call(&s, "GET", &format!("{base}/judging"), Some(&organiser), None).await;
    let at = |e: i64| dash["entries"].as_array().unwrap().iter().find(|x| x["id"] == e).unwrap().clone();
    assert!(close(num(&at(entries[0])["score"]), 81.15), "{dash}");
    assert!(close(num(&at(entries[1])["score"]), 61.90) && close(num(&at(entries[1])["raw_mean"]), 70.0), "{dash}");
    assert!(close(num(&at(entries[2])["score"]), 44.56), "{dash}");
    assert_eq!(at(entries[1])["judges"].as_array().unwrap().len(), 3);

    // Nothing is visible to contestants before publication.
    let (st, board, _) = call(&s, "GET", &format!("{base}/leaderboard"), Some(cap1), None).await;
    assert_eq!(st, StatusCode::OK, "{board}");
    assert!(board["entries"].as_array().unwrap().iter().all(|e| e["score"] == 0.0 && e["last_submitted_at"].is_null()), "{board}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/certificates"), Some(&organiser), Some(json!({"awards": [{"name": "一等奖", "top": 1}]}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_not_final")), "{e}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("creative_round")), "{e}");

    // Judging closes: no more revisions.
    until(&s, t0 + 1001);
    let (st, e, _) = call(&s, "PUT", &format!("{base}/entries/{e1}/score"), Some(&j2), Some(sheet_for(&rubric, 100))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("judging_closed")), "{e}");

    // Publication: the leaderboard, the team's result, certificates and the results workbook.
    let (st, v, _) = call(&s, "POST", &format!("{base}/publish"), Some(&organiser), None).await;
    assert_eq!((st, v["results"].as_i64()), (StatusCode::OK, Some(3)), "{v}");
    let (_, v, _) = call(&s, "POST", &format!("{base}/publish"), Some(&organiser), None).await;
    assert_eq!(v["already"], true);
    // The cached board is rebuilt in the background once the round's board version moved.
    let mut board = Value::Null;
    for _ in 0..100 {
        board = call(&s, "GET", &format!("{base}/leaderboard"), Some(cap1), None).await.1;
        if board["entries"][0]["score"] != 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got: Vec<(i64, i64, f64)> = board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["team_id"].as_i64().unwrap(), e["rank"].as_i64().unwrap(), e["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, vec![(teams[0].0, 1, 81.15), (teams[1].0, 2, 61.9), (teams[2].0, 3, 44.56)], "{board}");
    let (_, mine, _) = call(&s, "GET", &format!("{base}/teams/{}/entry", teams[1].0), Some(&teams[1].1), None).await;
    assert_eq!(mine["result"]["score"], 61.9, "{mine}");
    assert_eq!(mine["result"]["judges"], 3);
    assert!(mine["result"]["comments"].as_array().unwrap().iter().any(|c| c == "构思"), "{mine}");
    assert_eq!(mine["may_change"], false);
    let (st, certs, _) = call(
        &s,
        "POST",
        &format!("{base}/certificates"),
        Some(&organiser),
        Some(json!({"awards": [{"name": "一等奖", "top": 1}, {"name": "二等奖", "top": 2}]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{certs}");
    let awarded: Vec<(i64, String)> =
        certs["certificates"].as_array().unwrap().iter().map(|c| (c["team_id"].as_i64().unwrap(), c["award"].as_str().unwrap().to_string())).collect();
    assert_eq!(awarded, vec![(teams[0].0, "一等奖".to_string()), (teams[1].0, "二等奖".to_string())], "{certs}");
    let req = Request::builder().uri(format!("{base}/results.xlsx")).header(header::AUTHORIZATION, format!("Bearer {organiser}")).body(Body::empty()).unwrap();
    let (st, bytes, _) = raw_bytes(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"));
    let (st, e, _) = call(&s, "POST", &format!("{base}/assign"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("results_published")), "{e}");
    // The rubric is locked once judges scored.
    let (st, e, _) = call(&s, "PUT", &format!("{base}/rubric"), Some(&organiser), Some(json!({"criteria": criteria}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("rubric_locked")), "{e}");
}

/// A round body with other criteria.
fn with_criteria(v: &Value, criteria: Value) -> Value {
    let mut v = v.clone();
    v["criteria"] = criteria;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creative_judging_on_sqlite() {
    creative_flow("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creative_judging_on_postgres() {
    creative_flow("postgres").await;
}
