//! Competitions on both databases: the migration that generalised
//! submissions keeps old rows; register → approve → submit in a round's
//! window (refused outside it, beyond the limit, for non-members) → graded by
//! the existing workers → leaderboard order and tie-breaks → the freeze hides
//! late changes from contestants only → the final re-grade on a fresh key →
//! advancement into the parent event.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qiming::serve::contest::{BoardRow, BoardTeam, Round, rank, view_for};
use qiming::serve::http::AppState;
use qiming::serve::queue::Seeds;
use serde_json::{Value, json};
use sqlx::Row;

use crate::classroom::{School, graded, school, workers};
use crate::server::{call, fresh_postgres, import_roster, login, raw, raw_bytes, state};
use crate::support::repo;

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Moves the server's round clock forward to `t` (if it is not there yet): no waiting.
fn until(s: &AppState, t: i64) {
    let behind = t - s.clock.now();
    if behind > 0 {
        s.clock.advance(behind);
    }
}

/// Students of a class, each having set their own password: (id, token).
pub async fn students(s: &AppState, teacher: &str, class: i64, numbers: &[&str]) -> Vec<(i64, String)> {
    let csv = std::iter::once("学号,姓名".to_string()).chain(numbers.iter().map(|n| format!("{n},学生{n}"))).collect::<Vec<_>>().join("\n");
    let (st, v) = import_roster(s, teacher, class, csv).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let mut out = Vec::new();
    for c in v["created"].as_array().unwrap() {
        let first = login(s, c["username"].as_str().unwrap(), c["password"].as_str().unwrap()).await;
        let (st, _, _) = call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": c["password"], "new_password": "student-pass"}))).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        out.push((c["id"].as_i64().unwrap(), login(s, c["username"].as_str().unwrap(), "student-pass").await));
    }
    out
}

pub async fn region_id(s: &AppState, admin: &str, name: &str) -> i64 {
    let (_, r, _) = call(s, "GET", "/api/regions", Some(admin), None).await;
    r["regions"].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap()["id"].as_i64().unwrap()
}

pub async fn staff(s: &AppState, admin: &str, body: Value) -> String {
    let (st, v, _) = call(s, "POST", "/api/users", Some(admin), Some(body.clone())).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    login(s, body["username"].as_str().unwrap(), body["password"].as_str().unwrap()).await
}

/// Waits until no submission of the round is queued or running (as its organiser).
async fn round_graded(s: &AppState, organiser: &str, base: &str) -> Vec<Value> {
    for _ in 0..600 {
        let (st, v, _) = call(s, "GET", &format!("{base}/submissions"), Some(organiser), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let subs = v["submissions"].as_array().unwrap().clone();
        if subs.iter().all(|x| x["status"] == "done" || x["status"] == "failed") {
            return subs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the round's submissions were not graded in time");
}

fn order(board: &Value) -> Vec<(i64, i64)> {
    board["entries"].as_array().unwrap().iter().map(|e| (e["team_id"].as_i64().unwrap(), e["rank"].as_i64().unwrap())).collect()
}

async fn contest_flow(backend: &str) {
    let s = state(backend, "contests").await;
    let stop = workers(&s, 2);
    let School { admin, school_id, teacher } = school(&s).await;
    let (city, district) = (region_id(&s, &admin, "杭州市").await, region_id(&s, &admin, "西湖区").await);
    let organiser =
        staff(&s, &admin, json!({"username": "zuwei", "display_name": "组委会", "role": "organiser", "region_id": city, "password": "organiser-password"}))
            .await;
    // Only organisers have a region.
    let (st, e, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "t9", "display_name": "T", "role": "teacher", "school_id": school_id, "region_id": city})),
    )
    .await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("organisers_only")), "{e}");

    // Events: a city event and a district event that advances into it.
    let deadline = unix_now() + 3600;
    let divisions = json!([{"name": "小学高年级", "min_grade": 4, "max_grade": 6}, {"name": "初中", "min_grade": 7, "max_grade": 9}]);
    let (st, city_ev, _) = call(
        &s,
        "POST",
        "/api/events",
        Some(&organiser),
        Some(json!({"name": "市赛", "tier": "city", "kind": "robot_sim", "region_id": city, "registration_deadline": deadline, "divisions": divisions})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{city_ev}");
    let (st, e, _) = call(
        &s,
        "POST",
        "/api/events",
        Some(&organiser),
        Some(json!({"name": "区赛", "tier": "city", "kind": "robot_sim", "region_id": district, "registration_deadline": deadline, "divisions": divisions})),
    )
    .await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("region_kind")), "{e}");
    let (st, ev, _) = call(&s, "POST", "/api/events", Some(&organiser), Some(json!({"name": "区赛", "tier": "district", "kind": "robot_sim", "region_id": district, "parent_id": city_ev["id"], "registration_deadline": deadline, "divisions": divisions}))).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let event = ev["id"].as_i64().unwrap();
    let primary = ev["divisions"][0]["id"].as_i64().unwrap();
    let junior = ev["divisions"][1]["id"].as_i64().unwrap();
    // Teachers may not create events.
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/events",
        Some(&teacher),
        Some(json!({"name": "x", "tier": "district", "kind": "robot_sim", "region_id": district, "registration_deadline": deadline, "divisions": divisions})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Judges are named by username (organisers cannot list accounts) or id; never a student, never both.
    let judge =
        staff(&s, &admin, json!({"username": "caipan", "display_name": "裁判", "role": "teacher", "school_id": school_id, "password": "judge-password"})).await;
    let members = format!("/api/events/{event}/members");
    for (body, reason) in [
        (json!({"username": "nobody-here", "role": "judge"}), "unknown"),
        (json!({"username": "caipan", "user_id": 1, "role": "judge"}), "required"),
        (json!({"role": "judge"}), "required"),
    ] {
        let (st, e, _) = call(&s, "POST", &members, Some(&organiser), Some(body.clone())).await;
        assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some(reason)), "{body}: {e}");
    }
    let (st, _, _) = call(&s, "POST", &members, Some(&organiser), Some(json!({"username": " CaiPan ", "role": "judge"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, seen, _) = call(&s, "GET", &format!("/api/events/{event}"), Some(&judge), None).await;
    assert_eq!(seen["me"]["judge"], true, "{seen}");

    // Students of grade 5, and one in a class whose name states no grade.
    let (_, class5, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级（2）班"}))).await;
    let kids = students(&s, &teacher, class5["id"].as_i64().unwrap(), &["501", "502", "503", "504", "505"]).await;
    let (_, club, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "机器人社团"}))).await;
    let clubbers = students(&s, &teacher, club["id"].as_i64().unwrap(), &["601"]).await;
    let id = |i: usize| kids[i].0;

    // Registration and its refusals, each with its code.
    let teams = format!("/api/events/{event}/teams");
    let reg = |name: &str, division: i64, students: Vec<i64>| json!({"name": name, "division_id": division, "students": students});
    let (st, a, _) = call(&s, "POST", &teams, Some(&teacher), Some(reg("甲队", primary, vec![id(0), id(1)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "pending");
    let (st, b, _) = call(&s, "POST", &teams, Some(&teacher), Some(reg("乙队", primary, vec![id(2)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, c, _) = call(&s, "POST", &teams, Some(&teacher), Some(reg("丙队", primary, vec![id(3)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let (team_a, team_b, team_c) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap(), c["id"].as_i64().unwrap());
    for (body, status, code) in [
        (reg("重复", primary, vec![id(0)]), StatusCode::CONFLICT, "already_registered"),
        (reg("无年级", primary, vec![clubbers[0].0]), StatusCode::CONFLICT, "grade_unknown"),
        (reg("错组", junior, vec![id(4)]), StatusCode::CONFLICT, "wrong_division"),
        (reg("太多", primary, vec![id(4), id(0), id(1), id(2), id(3)]), StatusCode::BAD_REQUEST, "team_size"),
        (reg("无组", 999_999, vec![id(4)]), StatusCode::BAD_REQUEST, "unknown_division"),
    ] {
        let (st, e, _) = call(&s, "POST", &teams, Some(&teacher), Some(body)).await;
        assert_eq!((st, e["error"]["code"].as_str()), (status, Some(code)), "{e}");
    }
    // Students do not register.
    let (st, _, _) = call(&s, "POST", &teams, Some(&kids[4].1), Some(reg("自报", primary, vec![id(4)]))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Someone outside the event's area does not see it at all.
    let (_, other_city, _) = call(&s, "POST", "/api/regions", Some(&admin), Some(json!({"name": "南京市", "kind": "city"}))).await;
    let (_, other_school, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "外校", "region_id": other_city["id"]}))).await;
    let outsider = staff(
        &s,
        &admin,
        json!({"username": "wai", "display_name": "外校老师", "role": "teacher", "school_id": other_school["id"], "password": "teacher-password"}),
    )
    .await;
    let (st, _, _) = call(&s, "GET", &format!("/api/events/{event}"), Some(&outsider), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, _) = call(&s, "GET", &format!("/api/events/{event}"), Some(&kids[4].1), None).await;
    assert_eq!(st, StatusCode::OK);

    // Organisers decide: a rejection needs a reason; the teacher may not decide.
    let decide = |team: i64| format!("/api/events/{event}/teams/{team}/decision");
    let (st, e, _) = call(&s, "POST", &decide(team_c), Some(&organiser), Some(json!({"decision": "reject"}))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{e}");
    let (st, _, _) = call(&s, "POST", &decide(team_a), Some(&teacher), Some(json!({"decision": "approve"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, c, _) = call(&s, "POST", &decide(team_c), Some(&organiser), Some(json!({"decision": "reject", "reason": "材料不全"}))).await;
    assert_eq!((st, c["status"].as_str()), (StatusCode::OK, Some("rejected")), "{c}");
    for team in [team_a, team_b] {
        let (st, t, _) = call(&s, "POST", &decide(team), Some(&organiser), Some(json!({"decision": "approve"}))).await;
        assert_eq!((st, t["status"].as_str()), (StatusCode::OK, Some("approved")), "{t}");
    }

    // Rounds: one not open yet, one over, and the real one.
    let rounds = format!("/api/events/{event}/rounds");
    let t0 = unix_now();
    let round = |opens: i64, closes: i64, freeze: i64| json!({"name": "第一轮", "opens_at": opens, "closes_at": closes, "freeze_seconds": freeze, "labs": ["wall-stop"], "submission_limit": 2});
    let (st, _, _) = call(&s, "POST", &rounds, Some(&teacher), Some(round(t0 - 10, t0 + 30, 0))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, later, _) = call(&s, "POST", &rounds, Some(&organiser), Some(round(t0 + 1000, t0 + 2000, 0))).await;
    let (_, over, _) = call(&s, "POST", &rounds, Some(&organiser), Some(round(t0 - 100, t0 - 50, 0))).await;
    // The round runs on the server's round clock, which the test moves
    // forward (`until`) instead of waiting: a freeze half an hour before a
    // close an hour away leaves grading all the time it needs.
    let closes = t0 + 3600;
    let (st, r, _) = call(&s, "POST", &rounds, Some(&organiser), Some(round(t0 - 10, closes, 1800))).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let freeze_at = r["freeze_at"].as_i64().unwrap();
    assert_eq!(freeze_at, closes - 1800);
    let base = format!("/api/events/{event}/rounds/{}", r["id"]);
    let sub = |lab: &str, program: &str| json!({"lab_id": lab, "language": "rhai", "program": program});
    let weak = "stop();";
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    for (round, code) in [(&later, "round_not_open"), (&over, "round_closed")] {
        let (st, e, _) =
            call(&s, "POST", &format!("/api/events/{event}/rounds/{}/submissions", round["id"]), Some(&kids[0].1), Some(sub("wall-stop", weak))).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some(code)), "{e}");
    }
    // Not members of an approved team: the rejected team's student, a teacher.
    for token in [&kids[3].1, &teacher] {
        let (st, _, _) = call(&s, "POST", &format!("{base}/submissions"), Some(token), Some(sub("wall-stop", weak))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    let (st, e, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[0].1), Some(sub("square", weak))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("lab_id")), "{e}");

    // Before the freeze: A, then B (a second later), the same weak program.
    let (st, a1, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[1].1), Some(sub("wall-stop", weak))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{a1}");
    until(&s, a1["submitted_at"].as_i64().unwrap() + 1);
    let (st, b1, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[2].1), Some(sub("wall-stop", weak))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{b1}");
    assert!(b1["submitted_at"].as_i64().unwrap() < freeze_at, "the test machine is too slow for the round's timing");
    // The existing workers grade it; the team sees it, others do not.
    let done = graded(&s, &kids[0].1, a1["id"].as_i64().unwrap()).await;
    assert_eq!(done["round_id"], r["id"], "{done}");
    graded(&s, &kids[2].1, b1["id"].as_i64().unwrap()).await;
    let (st, _, _) = call(&s, "GET", &format!("/api/submissions/{}", a1["id"]), Some(&kids[2].1), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The board is recomputed in the background after a grade lands: a
    // page may show the previous one for a moment, so ask until it settles.
    let board = |token: &str, view: &'static str, want: Vec<(i64, i64)>| {
        let (s, base, token) = (s.clone(), base.clone(), token.to_string());
        async move {
            let mut v = Value::Null;
            for _ in 0..100 {
                let (st, got, _) = call(&s, "GET", &format!("{base}/leaderboard?division={primary}"), Some(&token), None).await;
                assert_eq!(st, StatusCode::OK, "{got}");
                v = got;
                if v["view"] == view && order(&v) == want {
                    return v;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("expected the {view} board {want:?}, got {v}");
        }
    };
    // Equal scores: the earlier submission ranks first. The rejected team is not on the board.
    board(&organiser, "live", vec![(team_a, 1), (team_b, 2)]).await;

    // During the freeze B submits the reference solution: organisers see it, contestants do not.
    until(&s, freeze_at);
    let (st, b2, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[2].1), Some(sub("wall-stop", &reference))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{b2}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[2].1), Some(sub("wall-stop", weak))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("submission_limit")), "{e}");
    let b2_done = graded(&s, &kids[2].1, b2["id"].as_i64().unwrap()).await;
    assert!(b2_done["score"].as_f64().unwrap() > done["score"].as_f64().unwrap(), "{b2_done} vs {done}");
    assert!(s.clock.now() < closes, "the round closed too early");
    board(&organiser, "live", vec![(team_b, 1), (team_a, 2)]).await;
    let frozen = board(&kids[0].1, "frozen", vec![(team_a, 1), (team_b, 2)]).await;
    assert_eq!(frozen["entries"][1]["attempts"], 1, "{frozen}");
    // Who may read a board is remembered between pages, and forgotten as soon as
    // access changes: a teacher of the area sees the frozen board; named judge,
    // the live one on their very next page.
    let watcher =
        staff(&s, &admin, json!({"username": "guanzhan", "display_name": "观战", "role": "teacher", "school_id": school_id, "password": "watcher-password"}))
            .await;
    board(&watcher, "frozen", vec![(team_a, 1), (team_b, 2)]).await;
    board(&watcher, "frozen", vec![(team_a, 1), (team_b, 2)]).await;
    let (st, m, _) = call(&s, "POST", &members, Some(&organiser), Some(json!({"username": "guanzhan", "role": "judge"}))).await;
    assert!(st.is_success(), "{m}");
    let (st, v, _) = call(&s, "GET", &format!("{base}/leaderboard?division={primary}"), Some(&watcher), None).await;
    assert_eq!((st, v["view"].as_str()), (StatusCode::OK, Some("live")), "{v}");

    // After the close: refused, and the board is revealed.
    until(&s, closes + 1);
    let (st, e, _) = call(&s, "POST", &format!("{base}/submissions"), Some(&kids[0].1), Some(sub("wall-stop", &reference))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_closed")), "{e}");
    board(&kids[0].1, "live", vec![(team_b, 1), (team_a, 2)]).await;

    // Advancement needs the final ranking.
    let advance = json!({"round_id": r["id"], "top": 1});
    let (st, e, _) = call(&s, "POST", &format!("/api/events/{event}/advance"), Some(&organiser), Some(advance.clone())).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_not_final")), "{e}");

    // The final ranking: a key drawn now, one re-grade per team of its last submission.
    let (st, f, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!(st, StatusCode::OK, "{f}");
    let key = f["final_key"].as_str().unwrap().to_string();
    assert_eq!((key.len(), f["regrades"].as_i64()), (64, Some(2)), "{f}");
    let (_, again, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((again["final_key"].as_str(), again["already"].as_bool()), (Some(key.as_str()), Some(true)), "{again}");
    let subs = round_graded(&s, &organiser, &base).await;
    let finals: Vec<&Value> = subs.iter().filter(|x| !x["final_of"].is_null()).collect();
    let mut regraded: Vec<i64> = finals.iter().map(|x| x["final_of"].as_i64().unwrap()).collect();
    regraded.sort();
    assert_eq!(regraded, vec![a1["id"].as_i64().unwrap(), b2["id"].as_i64().unwrap()]);
    let final_board = board(&kids[0].1, "final", vec![(team_b, 1), (team_a, 2)]).await;
    assert_eq!(final_board["final_key"].as_str(), Some(key.as_str()), "{final_board}");
    // The round publishes its key; contestants' attempts are not counted twice.
    let (_, round_now, _) = call(&s, "GET", &base, Some(&kids[2].1), None).await;
    assert_eq!((round_now["final_key"].as_str(), round_now["attempts_used"].as_i64()), (Some(key.as_str()), Some(2)), "{round_now}");

    // Advancement: the district's best team enters the city event, once.
    let (st, adv, _) = call(&s, "POST", &format!("/api/events/{event}/advance"), Some(&organiser), Some(advance.clone())).await;
    assert_eq!(st, StatusCode::OK, "{adv}");
    assert_eq!(adv["advanced"].as_array().unwrap().len(), 1, "{adv}");
    assert_eq!(adv["advanced"][0]["from_team_id"], team_b);
    let (_, adv2, _) = call(&s, "POST", &format!("/api/events/{event}/advance"), Some(&organiser), Some(advance)).await;
    assert_eq!((adv2["advanced"].as_array().unwrap().len(), adv2["already"].as_i64()), (0, Some(1)), "{adv2}");
    let (_, city_teams, _) = call(&s, "GET", &format!("/api/events/{}/teams", city_ev["id"]), Some(&organiser), None).await;
    let t = &city_teams["teams"][0];
    assert_eq!(
        (t["status"].as_str(), t["advanced_from"].as_i64(), t["members"][0]["id"].as_i64()),
        (Some("approved"), Some(team_b), Some(id(2))),
        "{city_teams}"
    );

    // Every organiser decision is audited, with ids and never names.
    let (_, audit, _) = call(&s, "GET", "/api/audit?limit=500", Some(&admin), None).await;
    let entries = audit["entries"].as_array().unwrap();
    for action in ["event_create", "team_register", "team_approve", "team_reject", "round_create", "round_finalise", "event_advance"] {
        assert!(entries.iter().any(|e| e["action"] == action), "no {action} in the audit log: {audit}");
    }
    for e in entries {
        let detail = e["detail"].as_str().unwrap();
        assert!(!detail.contains("乙队") && !detail.contains("学生") && !detail.contains("材料"), "a name in the audit log: {detail}");
    }
    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contest_flow_on_sqlite() {
    contest_flow("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contest_flow_on_postgres() {
    contest_flow("postgres").await;
}

/// Bulk registration from XLSX: every bad row reported at once, nothing stored; then a good file.
async fn import(backend: &str) {
    let s = state(backend, "contest_import").await;
    let School { admin, teacher, .. } = school(&s).await;
    let city = region_id(&s, &admin, "杭州市").await;
    let organiser =
        staff(&s, &admin, json!({"username": "zuwei", "display_name": "组委会", "role": "organiser", "region_id": city, "password": "organiser-password"}))
            .await;
    let (_, ev, _) = call(&s, "POST", "/api/events", Some(&organiser), Some(json!({"name": "市赛", "tier": "city", "kind": "robot_sim", "region_id": city, "registration_deadline": unix_now() + 3600, "divisions": [{"name": "小学", "min_grade": 1, "max_grade": 6}]}))).await;
    let (_, class5, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级（2）班"}))).await;
    let (st, roster) = import_roster(&s, &teacher, class5["id"].as_i64().unwrap(), "学号,姓名\n501,甲\n502,乙\n503,丙\n").await;
    assert_eq!(st, StatusCode::CREATED);
    let user = |i: usize| roster["created"][i]["username"].as_str().unwrap().to_string();
    let xlsx = |rows: &[[&str; 4]]| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["队名", "组别", "教练", "学生"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    };
    let post = |bytes: Vec<u8>| {
        let (s, path, token) = (s.clone(), format!("/api/events/{}/teams/import", ev["id"]), organiser.clone());
        async move {
            let req = Request::builder()
                .method("POST")
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, qiming::serve::roster::XLSX_TYPE)
                .body(Body::from(bytes))
                .unwrap();
            raw(&s, req).await
        }
    };
    let (u0, u1, u2) = (user(0), user(1), user(2));
    let bad = xlsx(&[["一队", "小学", "li", &u0], ["一队", "小学", "li", "nobody"], ["二队", "中学", "li", &u1], ["三队", "小学", "li", &u0]]);
    let (st, e, _) = post(bad).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_registrations")), "{e}");
    let rows: Vec<(i64, &str)> = e["error"]["rows"].as_array().unwrap().iter().map(|r| (r["row"].as_i64().unwrap(), r["code"].as_str().unwrap())).collect();
    assert_eq!(rows, vec![(3, "not_a_student"), (4, "unknown_division"), (5, "already_registered")], "{e}");
    let (_, none, _) = call(&s, "GET", &format!("/api/events/{}/teams", ev["id"]), Some(&organiser), None).await;
    assert_eq!(none["teams"].as_array().unwrap().len(), 0, "nothing is stored from a bad file");
    let good = xlsx(&[["一队", "小学", "li", &u0], ["一队", "小学", "li", &u1], ["二队", "小学", "li", &u2]]);
    let (st, ok, _) = post(good).await;
    assert_eq!(st, StatusCode::CREATED, "{ok}");
    let (_, teams, _) = call(&s, "GET", &format!("/api/events/{}/teams", ev["id"]), Some(&organiser), None).await;
    let shape: Vec<(String, usize)> =
        teams["teams"].as_array().unwrap().iter().map(|t| (t["status"].as_str().unwrap().to_string(), t["members"].as_array().unwrap().len())).collect();
    assert_eq!(shape, vec![("approved".to_string(), 2), ("approved".to_string(), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_import_on_sqlite() {
    import("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_import_on_postgres() {
    import("postgres").await;
}

/// A database at the schema before competitions (migrations up to 0008),
/// holding graded and queued submissions with replays, migrated: every row
/// and replay is kept, the queue still grades the old job, and a row with
/// no owner (or two) is refused.
async fn migration_keeps_submissions(backend: &str) {
    let url = match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("qiming-test-{}-contest-migration", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}?mode=rwc", dir.join("t.db").display())
        }
        _ => fresh_postgres("contest_migration").await,
    };
    sqlx::any::install_default_drivers();
    {
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let dir = repo().join(format!("server/migrations/{backend}"));
        let mut old = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
        old.migrations = std::borrow::Cow::Owned(old.migrations.iter().filter(|m| m.version < 10).cloned().collect());
        old.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO users (id, username, display_name, password_hash, role, created_at) VALUES (1, 'li', 'L', 'x', 'teacher', 0)",
            "INSERT INTO users (id, username, display_name, password_hash, role, created_at) VALUES (2, 's1', 'S', 'x', 'student', 0)",
            "INSERT INTO regions (id, name, kind, created_at) VALUES (1, 'R', 'city', 0)",
            "INSERT INTO schools (id, name, region_id, created_at) VALUES (1, 'S', 1, 0)",
            "INSERT INTO classes (id, school_id, teacher_id, name, created_at) VALUES (1, 1, 1, 'C', 0)",
            "INSERT INTO assignments (id, class_id, lab_id, opens_at, due_at, attempt_limit, score_policy, created_by, created_at) VALUES (1, 1, 'wall-stop', 0, 4000000000, 10, 'best', 1, 0)",
            "INSERT INTO submissions (id, assignment_id, student_id, language, program, submitted_at, status, score, max_score, report, graded_at) VALUES (7, 1, 2, 'rhai', 'stop();', 5, 'done', 10, 100, '{}', 6)",
            "INSERT INTO submissions (id, assignment_id, student_id, language, program, submitted_at, status) VALUES (8, 1, 2, 'rhai', 'stop();', 9, 'queued')",
            "INSERT INTO replays (submission_id, case_name, data) VALUES (7, 'practice-1', X'0102')",
        ] {
            let sql = if backend == "postgres" { sql.replace("X'0102'", "'\\x0102'::bytea") } else { sql.to_string() };
            sqlx::query(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        if backend == "postgres" {
            for t in ["users", "regions", "schools", "classes", "assignments", "submissions"] {
                sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))")).execute(&pool).await.unwrap();
            }
        }
        pool.close().await;
    }
    let db = qiming::serve::db::Db::connect(&url).await.unwrap();
    let rows = sqlx::query("SELECT id, assignment_id, status, score, round_id FROM submissions ORDER BY id").fetch_all(&db.pool).await.unwrap();
    type Old = (i64, Option<i64>, String, Option<f64>, Option<i64>);
    let got: Vec<Old> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    assert_eq!(got, vec![(7, Some(1), "done".into(), Some(10.0), None), (8, Some(1), "queued".into(), None, None)]);
    let replay: Vec<u8> = sqlx::query("SELECT data FROM replays WHERE submission_id = 7").fetch_one(&db.pool).await.unwrap().get(0);
    assert_eq!(replay, vec![1, 2]);
    // The rebuilt tables refer to each other by their final names.
    if backend == "sqlite" {
        let sql: String =
            sqlx::query("SELECT group_concat(sql, ' ') FROM sqlite_master WHERE name IN ('replays', 'submissions')").fetch_one(&db.pool).await.unwrap().get(0);
        assert!(!sql.contains("submissions_new"), "{sql}");
    }
    // Exactly one owner.
    for sql in [
        "INSERT INTO submissions (student_id, language, program, submitted_at, status) VALUES (2, 'rhai', 'x', 1, 'queued')",
        "INSERT INTO submissions (assignment_id, round_id, team_id, lab_id, student_id, language, program, submitted_at, status) VALUES (1, 1, 1, 'wall-stop', 2, 'rhai', 'x', 1, 'queued')",
    ] {
        assert!(sqlx::query(sql).execute(&db.pool).await.is_err(), "accepted: {sql}");
    }
    // New ids continue after the old ones; the old queued job is claimed with its assignment's lab.
    let job = db.claim("w", 30).await.unwrap().expect("the old queued job");
    assert_eq!((job.id, job.lab_id.as_str(), &job.seeds), (8, "wall-stop", &Seeds::Server));
    let next: i64 = sqlx::query(
        "INSERT INTO submissions (assignment_id, student_id, language, program, submitted_at, status) VALUES (1, 2, 'rhai', 'x', 1, 'done') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .get(0);
    assert!(next > 8, "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_keeps_submissions_on_sqlite() {
    migration_keeps_submissions("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_keeps_submissions_on_postgres() {
    migration_keeps_submissions("postgres").await;
}

fn team(id: i64) -> BoardTeam {
    BoardTeam { id, name: format!("T{id}"), division_id: 1, school_id: 1 }
}

fn row(id: i64, team_id: i64, score: f64, at: i64) -> BoardRow {
    BoardRow { id, team_id, lab_id: "wall-stop".into(), done: true, failed: false, score, submitted_at: at, final_of: None, chosen_at: None }
}

/// The documented order: score, then the time of the submission, then attempts; full ties share a rank.
#[test]
fn leaderboard_tie_breaks() {
    let teams: Vec<BoardTeam> = (1..=6).map(team).collect();
    let mut rows = vec![
        row(1, 1, 80.0, 100),
        row(2, 2, 90.0, 200), // highest score first, though later
        row(3, 3, 80.0, 90),  // same score as team 1, earlier
        row(4, 4, 50.0, 10),
        row(5, 4, 80.0, 100), // the same score and time as team 1, one attempt more
        row(6, 5, 80.0, 100), // a full tie with team 1
    ];
    // A failed attempt (our fault) is not counted; team 6 has nothing graded.
    rows.push(BoardRow { failed: true, done: false, ..row(7, 1, 0.0, 300) });
    let board = rank(&teams, &rows, |r| r.final_of.is_none(), |r| !r.failed, |_| false);
    let got: Vec<(i64, u32, i64)> = board[&1].iter().map(|e| (e.team_id, e.rank, e.attempts)).collect();
    assert_eq!(got, vec![(2, 1, 1), (3, 2, 1), (1, 3, 1), (5, 3, 1), (4, 5, 2), (6, 6, 0)]);
    // The last graded submission per lab counts (the one the final ranking re-grades), not the best…
    let board = rank(&teams[..1], &[row(1, 1, 90.0, 10), row(2, 1, 40.0, 20)], |_| true, |_| true, |_| false);
    assert_eq!((board[&1][0].score, board[&1][0].last_submitted_at), (40.0, Some(20)));
    // …unless the team chose another: then that one, with its time.
    let chosen = [BoardRow { chosen_at: Some(30), ..row(1, 1, 90.0, 10) }, row(2, 1, 40.0, 20), row(3, 1, 10.0, 25)];
    let board = rank(&teams[..1], &chosen, |_| true, |_| true, |r| r.chosen_at.is_some());
    assert_eq!((board[&1][0].score, board[&1][0].last_submitted_at, board[&1][0].attempts), (90.0, Some(10), 3));
    // A choice of a failed (ungraded) submission does not stand: the last graded one counts.
    let failed = [BoardRow { chosen_at: Some(30), done: false, failed: true, ..row(1, 1, 0.0, 10) }, row(2, 1, 40.0, 20)];
    let board = rank(&teams[..1], &failed, |_| true, |r| !r.failed, |r| r.chosen_at.is_some());
    assert_eq!(board[&1][0].score, 40.0);
}

#[test]
fn who_sees_which_board() {
    let round = Round {
        id: 1,
        event_id: 1,
        name: "r".into(),
        opens_at: 0,
        closes_at: 100,
        freeze_at: 80,
        labs: vec!["wall-stop".into()],
        submission_limit: 5,
        final_key: None,
        finalised_at: None,
        board_version: 0,
    };
    assert_eq!(
        (view_for(&round, false, 79), view_for(&round, false, 80), view_for(&round, true, 80), view_for(&round, false, 100)),
        ("live", "frozen", "live", "live")
    );
    let finalised = Round { final_key: Some("k".into()), finalised_at: Some(101), ..round };
    assert_eq!((view_for(&finalised, false, 101), view_for(&finalised, true, 101)), ("final", "final"));
}

/// Rounds and their final rankings run hidden cases on seeds of their own.
#[test]
fn rounds_have_their_own_seeds() {
    let key = [7u8; 32];
    let server = Some(key);
    let live = Seeds::Round(1).secret(server).unwrap();
    let other = Seeds::Round(2).secret(server).unwrap();
    let fin = Seeds::Final { round: 1, key: "a".repeat(64) }.secret(server).unwrap();
    let fin2 = Seeds::Final { round: 1, key: "b".repeat(64) }.secret(server).unwrap();
    assert_eq!(Seeds::Server.secret(server), server);
    let all = [key, live, other, fin, fin2];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    use qiming_grading::grade::hidden_seed;
    assert_ne!(hidden_seed(&live, "wall-stop", "hidden-1", 3), hidden_seed(&fin, "wall-stop", "hidden-1", 3));
}

/// Judging a round and its results: the submission a team chooses is the
/// one that counts and is re-graded; clarifications stay private unless
/// broadcast; an appeal shows judges the hidden cases in full and
/// contestants only the redacted report, and an upheld one re-grades;
/// certificates from the final ranking are checked publicly, revealing the
/// name, the event and the award only; the results workbook. The round is
/// closed by moving the server's clock, not by waiting.
/// A city robot-sim event with one primary division, a judge (a teacher of the school) and three
/// grade-5 pupils of the school's teacher, who coaches them.
struct JudgedEvent {
    admin: String,
    teacher: String,
    organiser: String,
    judge: String,
    event: i64,
    division: i64,
    kids: Vec<(i64, String)>,
    t0: i64,
}

async fn judged_event(s: &AppState) -> JudgedEvent {
    let School { admin, school_id, teacher } = school(s).await;
    let city = region_id(s, &admin, "杭州市").await;
    let organiser =
        staff(s, &admin, json!({"username": "zuwei", "display_name": "组委会", "role": "organiser", "region_id": city, "password": "organiser-password"}))
            .await;
    let judge =
        staff(s, &admin, json!({"username": "caipan", "display_name": "裁判", "role": "teacher", "school_id": school_id, "password": "judge-password"})).await;
    let (_, me, _) = call(s, "GET", "/api/me", Some(&judge), None).await;
    let t0 = unix_now();
    let (st, ev, _) = call(s, "POST", "/api/events", Some(&organiser), Some(json!({"name": "市赛", "tier": "city", "kind": "robot_sim", "region_id": city, "registration_deadline": t0 + 3600, "divisions": [{"name": "小学", "min_grade": 1, "max_grade": 6}]}))).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let event = ev["id"].as_i64().unwrap();
    let division = ev["divisions"][0]["id"].as_i64().unwrap();
    let (st, _, _) = call(s, "POST", &format!("/api/events/{event}/members"), Some(&organiser), Some(json!({"user_id": me["id"], "role": "judge"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, class5, _) = call(s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级（1）班"}))).await;
    let kids = students(s, &teacher, class5["id"].as_i64().unwrap(), &["501", "502", "503"]).await;
    JudgedEvent { admin, teacher, organiser, judge, event, division, kids, t0 }
}

async fn judging_flow(backend: &str) {
    let s = state(backend, "contest_judging").await;
    let stop = workers(&s, 2);
    let JudgedEvent { admin, teacher, organiser, judge, event, division, kids, t0 } = judged_event(&s).await;
    let mut teams = Vec::new();
    for (name, members) in [("甲队", vec![kids[0].0, kids[1].0]), ("乙队", vec![kids[2].0])] {
        let (st, t, _) =
            call(&s, "POST", &format!("/api/events/{event}/teams"), Some(&teacher), Some(json!({"name": name, "division_id": division, "students": members})))
                .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let id = t["id"].as_i64().unwrap();
        let (st, _, _) = call(&s, "POST", &format!("/api/events/{event}/teams/{id}/decision"), Some(&organiser), Some(json!({"decision": "approve"}))).await;
        assert_eq!(st, StatusCode::OK);
        teams.push(id);
    }
    let (team_a, team_b) = (teams[0], teams[1]);
    let (st, r, _) = call(
        &s,
        "POST",
        &format!("/api/events/{event}/rounds"),
        Some(&organiser),
        Some(json!({"name": "决赛", "opens_at": t0 - 10, "closes_at": t0 + 1000, "labs": ["wall-stop"], "submission_limit": 5})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let base = format!("/api/events/{event}/rounds/{}", r["id"]);
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let submit = |token: &str, program: &str| {
        let (s, base, token, program) = (s.clone(), base.clone(), token.to_string(), program.to_string());
        async move {
            let (st, v, _) =
                call(&s, "POST", &format!("{base}/submissions"), Some(&token), Some(json!({"lab_id": "wall-stop", "language": "rhai", "program": program})))
                    .await;
            assert_eq!(st, StatusCode::ACCEPTED, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    // Team A: the good program first, then a weak one (which, being last, counts); team B: a weak one.
    let a_good = submit(&kids[1].1, &reference).await;
    let a_weak = submit(&kids[0].1, "stop();").await;
    let b_weak = submit(&kids[2].1, "stop();").await;
    let good = graded(&s, &kids[0].1, a_good).await["score"].as_f64().unwrap();
    let weak = graded(&s, &kids[0].1, a_weak).await["score"].as_f64().unwrap();
    graded(&s, &kids[2].1, b_weak).await;
    assert!(good > weak, "{good} {weak}");
    let score_of = |team: i64| {
        let (s, base, organiser) = (s.clone(), base.clone(), organiser.clone());
        async move {
            for _ in 0..100 {
                let (_, b, _) = call(&s, "GET", &format!("{base}/leaderboard"), Some(&organiser), None).await;
                if let Some(e) = b["entries"].as_array().unwrap().iter().find(|e| e["team_id"] == team && e["last_submitted_at"].is_i64()) {
                    return (e["score"].as_f64().unwrap(), e["rank"].as_i64().unwrap());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("team {team} is not on the board");
        }
    };
    assert_eq!(score_of(team_a).await.0, weak);

    // Which submission counts: the captain or the coach choose; not a teammate, another team or a judge.
    let choice = |token: &str, sub: i64| {
        let (s, base, token) = (s.clone(), base.clone(), token.to_string());
        async move { call(&s, "POST", &format!("{base}/choice"), Some(&token), Some(json!({"submission_id": sub}))).await }
    };
    assert_eq!(choice(&kids[1].1, a_good).await.0, StatusCode::FORBIDDEN, "a teammate who is not the captain");
    let (st, e, _) = choice(&kids[2].1, a_good).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("submission_id")), "another team's submission: {e}");
    assert_eq!(choice(&judge, a_good).await.0, StatusCode::FORBIDDEN);
    let (st, c, _) = choice(&kids[0].1, a_good).await;
    assert_eq!((st, c["submission_id"].as_i64()), (StatusCode::OK, Some(a_good)), "{c}");
    let (st, _, _) = choice(&teacher, a_good).await;
    assert_eq!(st, StatusCode::OK, "the coach");
    // The chosen submission counts on the board, with its own time.
    for _ in 0..100 {
        if score_of(team_a).await == (good, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(score_of(team_a).await, (good, 1));
    let (_, mine, _) = call(&s, "GET", &format!("{base}/submissions"), Some(&kids[1].1), None).await;
    let chosen: Vec<i64> = mine["submissions"].as_array().unwrap().iter().filter(|x| x["chosen"] == true).map(|x| x["id"].as_i64().unwrap()).collect();
    assert_eq!(chosen, vec![a_good], "{mine}");
    // The coach sees the team's submissions too.
    let (_, coach_view, _) = call(&s, "GET", &format!("{base}/submissions"), Some(&teacher), None).await;
    assert_eq!(coach_view["submissions"].as_array().unwrap().len(), 3, "{coach_view}");

    // Clarifications: private questions, a private and a broadcast answer, an announcement.
    let ask = |token: &str, text: &str| {
        let (s, base, token, text) = (s.clone(), base.clone(), token.to_string(), text.to_string());
        async move {
            let (st, v, _) = call(&s, "POST", &format!("{base}/clarifications"), Some(&token), Some(json!({"text": text}))).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    let q1 = ask(&kids[0].1, "墙的距离会变吗？").await;
    let q2 = ask(&kids[2].1, "可以用 print 吗？").await;
    ask(&judge, "比赛延长十分钟。").await;
    let (st, _, _) = call(&s, "POST", &format!("{base}/clarifications"), Some(&teacher), Some(json!({"text": "教练不能提问"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = call(&s, "POST", &format!("{base}/clarifications/{q1}/answer"), Some(&kids[0].1), Some(json!({"answer": "x"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for (q, broadcast) in [(q1, false), (q2, true)] {
        let (st, v, _) =
            call(&s, "POST", &format!("{base}/clarifications/{q}/answer"), Some(&judge), Some(json!({"answer": "会。", "broadcast": broadcast}))).await;
        assert_eq!((st, v["broadcast"].as_bool()), (StatusCode::OK, Some(broadcast)), "{v}");
    }
    let seen = |token: &str| {
        let (s, base, token) = (s.clone(), base.clone(), token.to_string());
        async move {
            let (_, v, _) = call(&s, "GET", &format!("{base}/clarifications"), Some(&token), None).await;
            v["clarifications"].as_array().unwrap().iter().map(|c| (c["question"].as_str().map(str::to_string), c["team_id"].as_i64())).collect::<Vec<_>>()
        }
    };
    let announcement: (Option<String>, Option<i64>) = (None, None);
    assert_eq!(
        seen(&kids[1].1).await,
        vec![(Some("墙的距离会变吗？".to_string()), Some(team_a)), (Some("可以用 print 吗？".to_string()), None), announcement.clone()]
    );
    assert_eq!(seen(&kids[2].1).await, vec![(Some("可以用 print 吗？".to_string()), Some(team_b)), announcement.clone()]);
    assert_eq!(seen(&organiser).await.len(), 3);

    // Appeals: the coach files; contestants may not.
    let (st, _, _) =
        call(&s, "POST", &format!("/api/events/{event}/appeals"), Some(&kids[2].1), Some(json!({"submission_id": b_weak, "reason": "不公平"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, appeal, _) =
        call(&s, "POST", &format!("/api/events/{event}/appeals"), Some(&teacher), Some(json!({"submission_id": b_weak, "reason": "隐藏测试里机器人好像没动"})))
            .await;
    assert_eq!((st, appeal["status"].as_str()), (StatusCode::CREATED, Some("open")), "{appeal}");
    let (st, e, _) =
        call(&s, "POST", &format!("/api/events/{event}/appeals"), Some(&teacher), Some(json!({"submission_id": b_weak, "reason": "再来一次"}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("appeal_open")), "{e}");
    let appeal_url = format!("/api/events/{event}/appeals/{}", appeal["id"]);
    // Judges see the evidence: every hidden case's run, checks and measurements.
    let (st, for_judge, _) = call(&s, "GET", &appeal_url, Some(&judge), None).await;
    assert_eq!(st, StatusCode::OK, "{for_judge}");
    let hidden: Vec<&Value> = for_judge["evidence"]["cases"].as_array().unwrap().iter().filter(|c| c["hidden"] == true).collect();
    assert_eq!(hidden.len(), 3, "{for_judge}");
    for c in &hidden {
        assert!(c["run"]["outcome"].is_string() && !c["checks"].as_array().unwrap().is_empty() && c["replay"].is_string(), "evidence of {c}");
        assert!(c["checks"][0]["measured"].is_object(), "{c}");
    }
    let hidden_case = hidden[0]["name"].as_str().unwrap().to_string();
    // Contestants and coaches get the redacted report only, wherever they look.
    for token in [&teacher, &kids[2].1] {
        let (st, v, _) = call(&s, "GET", &appeal_url, Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(v.get("evidence").is_none(), "{v}");
        let (_, sub, _) = call(&s, "GET", &format!("/api/submissions/{b_weak}"), Some(token), None).await;
        for report in [&v["submission"]["report"], &sub["report"]] {
            let cases = report["cases"].as_array().unwrap();
            for c in cases.iter().filter(|c| c["hidden"] == true) {
                let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(keys, vec!["feedback", "hidden", "max_score", "name", "passed", "score"], "a hidden case reveals more than it may: {c}");
            }
        }
        let (st, _, _) = call(&s, "GET", &format!("{appeal_url}/replays/{hidden_case}"), Some(token), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "hidden-case replays are for judges");
        let (st, _, _) = call(&s, "GET", &format!("/api/submissions/{b_weak}/replays/{hidden_case}"), Some(token), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    // The judge watches the hidden case's replay.
    let (st, replay, _) = call(&s, "GET", &format!("{appeal_url}/replays/{hidden_case}"), Some(&judge), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(replay["world"].is_object() && replay["replay"].is_object());
    // The submission's own replay route never serves a hidden case, even to the judge.
    let (st, _, _) = call(&s, "GET", &format!("/api/submissions/{b_weak}/replays/{hidden_case}"), Some(&judge), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The judge answers: upheld, with a re-grade through the queue (the same result: grading is deterministic).
    let (st, e, _) = call(&s, "POST", &format!("{appeal_url}/decision"), Some(&teacher), Some(json!({"decision": "upheld", "reason": "x"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, decided, _) =
        call(&s, "POST", &format!("{appeal_url}/decision"), Some(&judge), Some(json!({"decision": "upheld", "reason": "复评一次", "regrade": true}))).await;
    assert_eq!((st, decided["status"].as_str(), decided["regraded"].as_bool()), (StatusCode::OK, Some("upheld"), Some(true)), "{decided}");
    assert_eq!(decided["score_before"].as_f64(), Some(weak));
    let regraded = graded(&s, &kids[2].1, b_weak).await;
    assert_eq!(regraded["score"].as_f64(), Some(weak), "{regraded}");
    let (st, e, _) = call(&s, "POST", &format!("{appeal_url}/decision"), Some(&judge), Some(json!({"decision": "rejected", "reason": "x"}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("appeal_decided")), "{e}");

    // Close the round by moving the clock: no more choices; the final ranking re-grades the chosen submission.
    s.clock.advance(2000);
    let (st, e, _) = choice(&kids[0].1, a_weak).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_closed")), "{e}");
    let (st, fin, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((st, fin["regrades"].as_i64()), (StatusCode::OK, Some(2)), "{fin}");
    let subs = round_graded(&s, &organiser, &base).await;
    let mut finals: Vec<i64> = subs.iter().filter_map(|x| x["final_of"].as_i64()).collect();
    finals.sort();
    assert_eq!(finals, vec![a_good, b_weak], "the chosen submission, not the last");

    // Evidence that nothing needs any more is pruned (organisers): a_weak's, which neither counts nor was appealed.
    let prune = format!("{base}/evidence/prune");
    let (st, _, _) = call(&s, "POST", &prune, Some(&judge), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let replays_of = |id: i64| {
        let s = s.clone();
        async move {
            let row = sqlx::query("SELECT COUNT(*) FROM evidence_replays WHERE submission_id = $1").bind(id).fetch_one(&s.db.pool).await.unwrap();
            sqlx::Row::get::<i64, _>(&row, 0)
        }
    };
    let before = replays_of(a_weak).await;
    assert!(before > 0);
    let (st, dry, _) = call(&s, "POST", &format!("{prune}?dry_run=true"), Some(&organiser), None).await;
    assert_eq!(
        (st, dry["dry_run"].as_bool(), dry["pruned_submissions"].as_i64(), dry["pruned_replays"].as_i64()),
        (StatusCode::OK, Some(true), Some(1), Some(before)),
        "{dry}"
    );
    assert!(dry["pruned_bytes"].as_i64().unwrap() > 0 && dry["kept_submissions"].as_i64().unwrap() >= 2, "{dry}");
    assert_eq!(replays_of(a_weak).await, before, "a dry run deletes nothing");
    let (st, done, _) = call(&s, "POST", &prune, Some(&organiser), None).await;
    assert_eq!((st, &done["pruned_bytes"], done["dry_run"].as_bool()), (StatusCode::OK, &dry["pruned_bytes"], Some(false)), "{done}");
    assert_eq!(replays_of(a_weak).await, 0);
    for kept in [a_good, b_weak] {
        assert!(replays_of(kept).await > 0, "submission {kept} counts or was appealed: its evidence stays");
    }
    let (st, again, _) = call(&s, "POST", &prune, Some(&organiser), None).await;
    assert_eq!((st, again["pruned_replays"].as_i64()), (StatusCode::OK, Some(0)), "{again}");
    let (st, v, _) = call(&s, "GET", &format!("{appeal_url}/replays/{hidden_case}"), Some(&judge), None).await;
    assert_eq!(st, StatusCode::OK, "the appealed submission's hidden replay is still there: {v}");
    // Results exist only once the final ranking is in.
    let certs = format!("{base}/certificates");
    let awards = json!({"awards": [{"name": "一等奖", "top": 1}, {"name": "优秀奖", "top_percent": 100}]});
    let (st, e, _) = call(&s, "POST", &certs, Some(&teacher), Some(awards.clone())).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, e, _) = call(&s, "POST", &certs, Some(&organiser), Some(json!({"awards": [{"name": "一等奖", "top": 1, "top_percent": 5}]}))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("awards")), "{e}");
    let (st, issued, _) = call(&s, "POST", &certs, Some(&organiser), Some(awards.clone())).await;
    assert_eq!((st, issued["issued"].as_i64()), (StatusCode::CREATED, Some(3)), "{issued}");
    let got: Vec<(i64, String)> =
        issued["certificates"].as_array().unwrap().iter().map(|c| (c["student_id"].as_i64().unwrap(), c["award"].as_str().unwrap().to_string())).collect();
    assert_eq!(got, vec![(kids[0].0, "一等奖".to_string()), (kids[1].0, "一等奖".to_string()), (kids[2].0, "优秀奖".to_string())]);
    let (st, e, _) = call(&s, "POST", &certs, Some(&organiser), Some(awards)).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("certificates_issued")), "{e}");
    // Each sees their own; the coach their teams'.
    for (token, n) in [(&kids[2].1, 1), (&kids[0].1, 1), (&teacher, 3), (&judge, 3)] {
        let (_, v, _) = call(&s, "GET", &certs, Some(token), None).await;
        assert_eq!(v["certificates"].as_array().unwrap().len(), n, "{v}");
    }
    let (st, pdf, _) = raw_bytes(
        &s,
        Request::builder().uri(format!("{certs}.pdf")).header(header::AUTHORIZATION, format!("Bearer {}", kids[0].1)).body(Body::empty()).unwrap(),
    )
    .await;
    if crate::classroom::has_cjk_font() {
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
        assert!(pdf.starts_with(b"%PDF-"));
    } else {
        assert_eq!(st, StatusCode::CONFLICT);
    }

    // The public check: no sign-in; the name on the certificate, the event and the award — nothing else.
    let code = issued["certificates"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 23, "{code}");
    let (st, v, _) = call(&s, "GET", &format!("/api/verify/{code}"), None, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"code": code, "name": "学生501", "event": "市赛", "award": "一等奖", "status": "valid"}));
    let typed = code.replace('-', "").to_lowercase();
    let (st, v2, _) = call(&s, "GET", &format!("/api/verify/{typed}"), None, None).await;
    assert_eq!((st, &v2), (StatusCode::OK, &v), "codes are forgiving of case and dashes");
    let (st, page, _) = call(&s, "GET", &format!("/verify/{code}?lang=zh-CN"), None, None).await;
    let page = page.as_str().unwrap_or_default().to_string();
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("学生501") && page.contains("市赛") && page.contains("一等奖") && page.contains("证书查验"), "{page}");
    for hidden in ["甲队", "学生502", "组委会", "小学"] {
        assert!(!page.contains(hidden) && !v.to_string().contains(hidden), "the check reveals {hidden}");
    }
    let (st, _, _) = call(&s, "GET", "/api/verify/ABCDE-FGHJK-MNPQR-STVWX", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Revoking and re-issuing (organisers only, with a reason): the old code keeps answering, as revoked.
    let second = issued["certificates"][1]["code"].as_str().unwrap().to_string();
    let third = issued["certificates"][2]["code"].as_str().unwrap().to_string();
    let (st, e, _) = call(&s, "POST", &format!("{certs}/{second}/revoke"), Some(&teacher), Some(json!({"reason": "x"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, e, _) = call(&s, "POST", &format!("{certs}/{second}/revoke"), Some(&organiser), Some(json!({"reason": "  "}))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{e}");
    let (st, e, _) = call(&s, "POST", &format!("{certs}/00000-00000-00000-00000/revoke"), Some(&organiser), Some(json!({"reason": "x"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, re, _) = call(&s, "POST", &format!("{certs}/{second}/reissue"), Some(&organiser), Some(json!({"reason": "姓名写错", "name": "学生五〇二"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{re}");
    let fresh = re["certificate"]["code"].as_str().unwrap().to_string();
    assert_ne!(fresh, second);
    assert_eq!(
        (re["certificate"]["name"].as_str(), re["certificate"]["award"].as_str(), re["certificate"]["status"].as_str(), re["certificate"]["replaces"].as_str()),
        (Some("学生五〇二"), Some("一等奖"), Some("valid"), Some(second.as_str())),
        "{re}"
    );
    assert_eq!((re["revoked"]["status"].as_str(), re["revoked"]["replaced_by"].as_str()), (Some("revoked"), Some(fresh.as_str())), "{re}");
    let (_, v, _) = call(&s, "GET", &format!("/api/verify/{second}"), None, None).await;
    assert_eq!(v, json!({"code": second, "name": "学生502", "event": "市赛", "award": "一等奖", "status": "revoked"}), "no reason, no new code");
    let (_, v, _) = call(&s, "GET", &format!("/api/verify/{fresh}"), None, None).await;
    assert_eq!((v["name"].as_str(), v["status"].as_str()), (Some("学生五〇二"), Some("valid")), "{v}");
    let (st, e, _) = call(&s, "POST", &format!("{certs}/{second}/reissue"), Some(&organiser), Some(json!({"reason": "again"}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("certificate_revoked")), "{e}");
    let (st, r, _) = call(&s, "POST", &format!("{certs}/{third}/revoke"), Some(&organiser), Some(json!({"reason": "复评后取消"}))).await;
    assert_eq!((st, r["certificate"]["status"].as_str()), (StatusCode::OK, Some("revoked")), "{r}");
    let (st, page, _) = call(&s, "GET", &format!("/verify/{third}?lang=zh-CN"), None, None).await;
    let page = page.as_str().unwrap_or_default().to_string();
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("data-status=\"revoked\"") && page.contains("已经作废") && !page.contains("复评"), "{page}");
    // The holder sees the revocation and why; nothing is left to print.
    let (_, mine, _) = call(&s, "GET", &certs, Some(&kids[2].1), None).await;
    assert_eq!(
        (mine["certificates"][0]["status"].as_str(), mine["certificates"][0]["revoked_reason"].as_str()),
        (Some("revoked"), Some("复评后取消")),
        "{mine}"
    );
    let (st, _, _) = call(&s, "GET", &format!("{certs}.pdf"), Some(&kids[2].1), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "a revoked certificate is not printed");
    let (_, all, _) = call(&s, "GET", &certs, Some(&organiser), None).await;
    let statuses: Vec<&str> = all["certificates"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "valid").count(), 2, "{all}");
    assert_eq!(statuses.len(), 4, "revoked certificates stay listed: {all}");
    // Guessing is throttled per address.
    let mut refused = 0;
    for _ in 0..70 {
        let (st, _, _) = call(&s, "GET", "/api/verify/00000-00000-00000-00000", None, None).await;
        refused += usize::from(st == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(refused >= 10, "{refused} of 70 guesses refused");

    // Results for the bureau (organisers only): rank, team, school, members, score, award per division.
    let (st, _, _) = call(&s, "GET", &format!("{base}/results.xlsx"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, xlsx, _) = raw_bytes(
        &s,
        Request::builder()
            .uri(format!("{base}/results.xlsx?lang=zh-CN"))
            .header(header::AUTHORIZATION, format!("Bearer {organiser}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let cells = qiming::serve::roster::cells(&xlsx, Some(qiming::serve::roster::XLSX_TYPE)).unwrap();
    assert_eq!(cells[0], vec!["名次", "队名", "学校", "队员", "得分", "奖项"]);
    assert_eq!(
        (cells[1][0].as_str(), cells[1][1].as_str(), cells[1][3].as_str(), cells[1][5].as_str()),
        ("1", "甲队", "学生501、学生502", "一等奖"),
        "{cells:?}"
    );
    assert_eq!((cells[2][1].as_str(), cells[2].get(5).map_or("", String::as_str)), ("乙队", ""), "a revoked award is not in the results: {cells:?}");

    // Every step is audited, with ids only.
    let (_, audit, _) = call(&s, "GET", "/api/audit?limit=500", Some(&admin), None).await;
    let entries = audit["entries"].as_array().unwrap();
    for action in [
        "final_choose",
        "clarification_ask",
        "clarification_announce",
        "clarification_answer",
        "appeal_file",
        "appeal_uphold",
        "appeal_regrade",
        "certificates_issue",
        "certificate_revoke",
        "certificate_reissue",
        "evidence_prune",
        "results_export",
    ] {
        assert!(entries.iter().any(|e| e["action"] == action), "no {action} in the audit log");
    }
    for e in entries {
        let detail = e["detail"].as_str().unwrap();
        assert!(!detail.contains("墙") && !detail.contains("学生") && !detail.contains("复评"), "text in the audit log: {detail}");
    }
    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judging_flow_on_sqlite() {
    judging_flow("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judging_flow_on_postgres() {
    judging_flow("postgres").await;
}

/// Certificate codes: 100 random bits in Crockford's base32, forgiving when typed.
#[test]
fn certificate_codes() {
    use qiming::serve::certificates::{new_code, normalise_code};
    let codes: std::collections::BTreeSet<String> = (0..2000).map(|_| new_code()).collect();
    assert_eq!(codes.len(), 2000);
    for c in codes.iter().take(50) {
        assert_eq!(c.len(), 23);
        assert_eq!(normalise_code(c).as_deref(), Some(c.as_str()));
        assert_eq!(normalise_code(&c.to_lowercase().replace('-', "")).as_deref(), Some(c.as_str()));
    }
    assert_eq!(normalise_code("oooo0-iiii1-lllll-abcde").as_deref(), Some("00000-11111-11111-ABCDE"));
    for bad in ["", "ABCDE", "ABCDE-FGHJK-MNPQR-STVWU", "ABCDE-FGHJK-MNPQR-STVWXY", "学生"] {
        assert_eq!(normalise_code(bad), None, "{bad}");
    }
}

/// The maze reference with its variables renamed, constants changed, comments gone and one
/// independent statement moved: a copy that the fingerprints must still see.
const MAZE_COPY: &str = "let count = 0;\nlet dir = 0.0;\nfn face(d) { turn(d - heading()); }\nwhile color(\"floor\") != \"green\" && count < 250 {\n  if distance(\"right\") > 0.4 { dir -= 90.0; face(dir); forward(0.5); }\n  else if distance(\"front\") > 0.4 { face(dir); forward(0.5); }\n  else { dir += 90.0; face(dir); }\n  count += 1;\n}\nstop();\nprint(`done in ${count}`);\n";

/// Written on its own: a wall follower on the left with its own loop and checks.
const MAZE_OWN: &str = "// 左手扶墙\nlet turns = [];\nloop {\n    let here = color(\"floor\");\n    if here == \"green\" { break; }\n    let left_open = distance(\"left\") > 0.3;\n    let ahead_open = distance(\"front\") > 0.3;\n    if left_open {\n        turn(90.0);\n        turns.push(\"L\");\n        forward(0.5);\n    } else if !ahead_open {\n        turn(-90.0);\n        turns.push(\"R\");\n    } else {\n        forward(0.5);\n    }\n    if turns.len() > 400 { break; }\n}\nstop();\n";

/// Similarity review across an event: the counting submission of each team per lab (a choice
/// wins over the newest), pairs and clusters for the officials only, verdicts recorded, taken
/// back and audited; never a change to a score.
async fn similarity_review(backend: &str) {
    let s = state(backend, "contest_similarity").await;
    let stop = workers(&s, 2);
    let JudgedEvent { admin, teacher, organiser, judge, event, division, kids, t0 } = judged_event(&s).await;
    for (i, name) in ["甲队", "乙队", "丙队"].iter().enumerate() {
        let (st, t, _) = call(
            &s,
            "POST",
            &format!("/api/events/{event}/teams"),
            Some(&teacher),
            Some(json!({"name": name, "division_id": division, "students": [kids[i].0]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let (st, _, _) =
            call(&s, "POST", &format!("/api/events/{event}/teams/{}/decision", t["id"]), Some(&organiser), Some(json!({"decision": "approve"}))).await;
        assert_eq!(st, StatusCode::OK);
    }
    let (st, r, _) = call(
        &s,
        "POST",
        &format!("/api/events/{event}/rounds"),
        Some(&organiser),
        Some(json!({"name": "初赛", "opens_at": t0 - 10, "closes_at": t0 + 1000, "labs": ["maze"], "submission_limit": 5})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let base = format!("/api/events/{event}/rounds/{}", r["id"]);
    let submit = |token: String, program: String| {
        let (s, base) = (s.clone(), base.clone());
        async move {
            let (st, v, _) =
                call(&s, "POST", &format!("{base}/submissions"), Some(&token), Some(json!({"lab_id": "maze", "language": "rhai", "program": program}))).await;
            assert_eq!(st, StatusCode::ACCEPTED, "{v}");
            let id = v["id"].as_i64().unwrap();
            graded(&s, &token, id).await;
            id
        }
    };
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/maze/reference.rhai")).unwrap();
    // Team A hands in the reference, then a stub (the newest, so it counts); B a disguised copy; C its own.
    let a_ref = submit(kids[0].1.clone(), reference).await;
    let a_stub = submit(kids[0].1.clone(), "stop();".into()).await;
    let b_copy = submit(kids[1].1.clone(), MAZE_COPY.into()).await;
    let c_own = submit(kids[2].1.clone(), MAZE_OWN.into()).await;
    let url = format!("/api/events/{event}/similarity");
    let lab = |v: &Value| v["labs"].as_array().unwrap().iter().find(|l| l["lab_id"] == "maze").cloned().unwrap_or_else(|| panic!("{v}"));
    let pair_ids = |l: &Value| -> Vec<(i64, i64, f64)> {
        l["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["a"]["submission_id"].as_i64().unwrap(), p["b"]["submission_id"].as_i64().unwrap(), p["score"].as_f64().unwrap()))
            .collect()
    };
    let involves = |pairs: &[(i64, i64, f64)], x: i64, y: i64| pairs.iter().any(|p| (p.0 == x && p.1 == y) || (p.0 == y && p.1 == x));
    let (st, v, _) = call(&s, "GET", &url, Some(&judge), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let l = lab(&v);
    assert_eq!(l["programs"], 3, "one counting submission per team: {l}");
    assert!(l["too_short"].as_array().unwrap().contains(&json!(a_stub)), "the stub counts for team A: {l}");
    assert!(!involves(&pair_ids(&l), a_ref, b_copy), "A's reference does not count: {l}");

    // The captain chooses the reference: now it counts, and the copy is found.
    let (st, c, _) = call(&s, "POST", &format!("{base}/choice"), Some(&kids[0].1), Some(json!({"submission_id": a_ref}))).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (st, v, _) = call(&s, "GET", &url, Some(&organiser), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let l = lab(&v);
    let pairs = pair_ids(&l);
    let top = pairs.first().copied().unwrap_or_else(|| panic!("no pairs: {l}"));
    assert!(involves(&[top], a_ref, b_copy), "the copy is the most similar pair: {l}");
    assert!(top.2 >= 0.6, "a renamed, re-numbered copy scores high: {l}");
    assert_eq!(l["pairs"][0]["same_school"], true, "{l}");
    assert_eq!(l["pairs"][0]["a"]["team"].as_str().map(|t| t.ends_with('队')), Some(true), "{l}");
    let clusters = l["clusters"].as_array().unwrap();
    assert!(clusters.iter().any(|c| c.as_array().unwrap().contains(&json!(a_ref)) && c.as_array().unwrap().contains(&json!(b_copy))), "{l}");
    assert!(!clusters.iter().any(|c| c.as_array().unwrap().contains(&json!(c_own))), "an independent solution is in no cluster: {l}");
    for p in &pairs {
        if p.0 == c_own || p.1 == c_own {
            assert!(p.2 < top.2, "the independent solution scores clearly lower: {l}");
        }
    }
    // One round only, and bad parameters.
    let (st, v, _) = call(&s, "GET", &format!("{url}?round={}&threshold=0.9", r["id"]), Some(&judge), None).await;
    assert_eq!((st, &v["threshold"]), (StatusCode::OK, &json!(0.9)), "{v}");
    let (st, v, _) = call(&s, "GET", &format!("{url}?threshold=2"), Some(&judge), None).await;
    assert_eq!((st, &v["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("threshold")), "{v}");
    let (st, v, _) = call(&s, "GET", &format!("{url}?round=999999"), Some(&judge), None).await;
    assert_eq!((st, &v["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("round")), "{v}");
    // Coaches and contestants do not review.
    for token in [&teacher, &kids[0].1] {
        let (st, _, _) = call(&s, "GET", &url, Some(token), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }

    // Verdicts: recorded on the pair (whichever order it is named in), replaced, taken back.
    let reviews = format!("{url}/reviews");
    let (st, v, _) =
        call(&s, "POST", &reviews, Some(&judge), Some(json!({"a": b_copy, "b": a_ref, "verdict": "referred", "note": "变量改名、常数改动，结构一致"}))).await;
    assert_eq!((st, v["a"].as_i64(), v["b"].as_i64()), (StatusCode::OK, Some(a_ref.min(b_copy)), Some(a_ref.max(b_copy))), "{v}");
    let (_, v, _) = call(&s, "GET", &url, Some(&organiser), None).await;
    let review = &lab(&v)["pairs"][0]["review"];
    assert_eq!((review["verdict"].as_str(), review["reviewer"].as_str()), (Some("referred"), Some("裁判")), "{v}");
    for (body, field) in [
        (json!({"a": a_ref, "b": b_copy, "verdict": "guilty"}), "verdict"),
        (json!({"a": a_ref, "b": a_ref, "verdict": "cleared"}), "b"),
        (json!({"a": a_ref, "b": 999_999, "verdict": "cleared"}), "b"),
        (json!({"a": a_ref, "b": b_copy, "verdict": "cleared", "note": "长".repeat(501)}), "note"),
    ] {
        let (st, e, _) = call(&s, "POST", &reviews, Some(&judge), Some(body.clone())).await;
        assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {e}");
    }
    let (st, _, _) = call(&s, "POST", &reviews, Some(&teacher), Some(json!({"a": a_ref, "b": b_copy, "verdict": "cleared"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a coach");
    let (st, _, _) = call(&s, "POST", &reviews, Some(&organiser), Some(json!({"a": a_ref, "b": b_copy, "verdict": "pending"}))).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v, _) = call(&s, "GET", &url, Some(&organiser), None).await;
    assert!(lab(&v)["pairs"][0]["review"].is_null(), "taken back: {v}");
    // Evidence, not a penalty: the scores stand.
    let (_, sub, _) = call(&s, "GET", &format!("/api/submissions/{b_copy}"), Some(&judge), None).await;
    assert!(sub["score"].as_f64().is_some() && sub["program"].as_str() == Some(MAZE_COPY), "officials read the programs: {sub}");
    let (_, audit, _) = call(&s, "GET", "/api/audit?limit=200", Some(&admin), None).await;
    let verdicts = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "similarity_verdict").count();
    assert_eq!(verdicts, 2, "{audit}");
    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similarity_review_on_sqlite() {
    similarity_review("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similarity_review_on_postgres() {
    similarity_review("postgres").await;
}
