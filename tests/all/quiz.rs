//! Computational-thinking quiz rounds, on both databases: a round's forms
//! chosen by id or assembled from a blueprint and checked against the bank
//! (unknown, not live, performance tasks, the division's grade band), one
//! answer sheet per team that its members share and resume, keys and
//! explanations hidden until the round closes, scoring by the bank's rules
//! with partial credit, the sheets on the same leaderboard (freeze and
//! tie-breaks included), sheets still open closed at the round's end, the
//! review with explanations in both languages, finalisation and the results
//! workbook, and the refusals (not a member, round closed, unknown item).

use axum::http::StatusCode;
use qiming::serve::http::AppState;
use serde_json::{Value, json};

use crate::classroom::{School, school};
use crate::creative::{staff, student, unix_now, until};
use crate::server::{call, raw_bytes};

/// The division's form: single (1 point), multiple (2, partial), ordering (4, partial),
/// matching (4, partial), true/false (1), text (1): 13 points.
const FORM: [&str; 6] = ["ct-56-001", "ct-56-003", "ct-56-011", "ct-56-013", "ct-56-009", "ct-56-017"];

async fn answer(s: &AppState, base: &str, token: &str, item: &str, response: Value) -> (StatusCode, Value) {
    let (st, v, _) = call(s, "PUT", &format!("{base}/quiz/sheet/answers/{item}"), Some(token), Some(json!({"response": response}))).await;
    (st, v)
}

/// The right answer to every item of [`FORM`].
fn all_right() -> Vec<(&'static str, Value)> {
    vec![
        ("ct-56-001", json!({"choices": ["a"]})),
        ("ct-56-003", json!({"choices": ["a", "b"]})),
        ("ct-56-011", json!({"order": ["b", "a", "d", "e", "c"]})),
        ("ct-56-013", json!({"pairs": [["a", "2"], ["b", "4"], ["c", "1"], ["d", "3"]]})),
        ("ct-56-009", json!({"value": false})),
        ("ct-56-017", json!({"text": "threshold"})),
    ]
}

fn item<'a>(sheet: &'a Value, id: &str) -> &'a Value {
    sheet["items"].as_array().unwrap().iter().find(|x| x["item"]["id"] == id).unwrap_or_else(|| panic!("{id} not on {sheet}"))
}

/// (team id, rank, score, last_submitted_at) of a board.
fn board(v: &Value) -> Vec<(i64, i64, f64, Option<i64>)> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["team_id"].as_i64().unwrap(), e["rank"].as_i64().unwrap(), e["score"].as_f64().unwrap(), e["last_submitted_at"].as_i64()))
        .collect()
}

async fn quiz_flow(backend: &str) {
    let s = state_for(backend).await;
    let School { admin, school_id, teacher: t1 } = school(&s).await;
    let (_, regions, _) = call(&s, "GET", "/api/regions", Some(&admin), None).await;
    let region = |name: &str| regions["regions"].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap()["id"].as_i64().unwrap();
    let (city, district) = (region("杭州市"), region("西湖区"));
    let (_, organiser) = staff(&s, &admin, "zuwei", "organiser", None, Some(city)).await;
    // The city's quiz the district's best teams advance into.
    let (st, city_ev, _) = call(
        &s,
        "POST",
        "/api/events",
        Some(&organiser),
        Some(json!({"name": "市计算思维挑战", "tier": "city", "kind": "ct_quiz", "region_id": city,
            "registration_deadline": unix_now() + 3600, "divisions": [{"name": "五六年级", "min_grade": 5, "max_grade": 6}]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{city_ev}");
    let city_event = city_ev["id"].as_i64().unwrap();
    let (_, judge) = staff(&s, &admin, "caipan", "teacher", Some(school_id), None).await;
    let new_event = |kind: &'static str| {
        let organiser = organiser.clone();
        let s = s.clone();
        async move {
            let (st, ev, _) = call(
                &s,
                "POST",
                "/api/events",
                Some(&organiser),
                Some(json!({"name": "计算思维挑战", "tier": "district", "kind": kind, "region_id": district, "parent_id": city_event,
                    "registration_deadline": unix_now() + 3600, "divisions": [{"name": "五六年级", "min_grade": 5, "max_grade": 6}]})),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED, "{ev}");
            (ev["id"].as_i64().unwrap(), ev["divisions"][0]["id"].as_i64().unwrap())
        }
    };
    let (event, division) = new_event("ct_quiz").await;
    let (robot_event, robot_division) = new_event("robot_sim").await;
    let (st, v, _) = call(&s, "POST", &format!("/api/events/{event}/members"), Some(&organiser), Some(json!({"username": "caipan", "role": "judge"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");

    // Teams: A with two members, B and C with one; a student of the school in no team.
    let (a1_id, a1) = student(&s, &t1, "501", "张小明").await;
    let (a2_id, a2) = student(&s, &t1, "502", "李小红").await;
    let (b_id, b) = student(&s, &t1, "503", "王小刚").await;
    let (c_id, c) = student(&s, &t1, "504", "赵小云").await;
    let (_, outsider) = student(&s, &t1, "505", "钱小雨").await;
    let mut teams = Vec::new();
    for (name, members) in [("甲队", vec![a1_id, a2_id]), ("乙队", vec![b_id]), ("丙队", vec![c_id])] {
        let (st, team, _) =
            call(&s, "POST", &format!("/api/events/{event}/teams"), Some(&t1), Some(json!({"name": name, "division_id": division, "students": members}))).await;
        assert_eq!(st, StatusCode::CREATED, "{team}");
        let tid = team["id"].as_i64().unwrap();
        let (st, v, _) = call(&s, "POST", &format!("/api/events/{event}/teams/{tid}/decision"), Some(&organiser), Some(json!({"decision": "approve"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        teams.push(tid);
    }
    let (team_a, team_b, team_c) = (teams[0], teams[1], teams[2]);

    // ---- creating the round: the forms are checked against the bank
    let t0 = s.clock.now();
    let round_body = |items: Value| json!({"name": "初赛", "opens_at": t0 - 10, "closes_at": t0 + 600, "freeze_seconds": 300, "forms": [{"division_id": division, "items": items}]});
    let create = |body: Value| {
        let (s, organiser) = (s.clone(), organiser.clone());
        async move { call(&s, "POST", &format!("/api/events/{event}/quiz-rounds"), Some(&organiser), Some(body)).await }
    };
    let refused = |v: &Value| (v["error"]["field"].as_str().map(str::to_string), v["error"]["reason"].as_str().map(str::to_string));
    for (items, reason) in [
        (json!(["ct-99-999"]), "unknown"),
        (json!(["ct-56-007"]), "not_live"),
        (json!(["ct-56-020"]), "quiz_performance"),
        (json!(["ct-34-001"]), "division_band"),
        (json!(["ct-56-001", "ct-56-001"]), "duplicate"),
        (json!([]), "count"),
    ] {
        let (st, e, _) = create(round_body(items.clone())).await;
        assert_eq!((st, refused(&e)), (StatusCode::BAD_REQUEST, (Some("items".into()), Some(reason.into()))), "{items}: {e}");
    }
    let (st, e, _) = create(json!({"name": "初赛", "opens_at": t0 - 10, "closes_at": t0 + 600, "forms": []})).await;
    assert_eq!((st, refused(&e)), (StatusCode::BAD_REQUEST, (Some("forms".into()), Some("each_division".into()))), "{e}");
    let (st, e, _) =
        create(json!({"name": "初赛", "opens_at": t0 - 10, "closes_at": t0 + 600, "forms": [{"division_id": robot_division, "items": ["ct-56-001"]}]})).await;
    assert_eq!((st, refused(&e)), (StatusCode::BAD_REQUEST, (Some("division_id".into()), Some("unknown".into()))), "{e}");
    // A robot_sim event takes no quiz round; a ct_quiz event no round with labs.
    let (st, e, _) = call(&s, "POST", &format!("/api/events/{robot_event}/quiz-rounds"), Some(&organiser), Some(round_body(json!(FORM)))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_quiz")), "{e}");
    // Only the event's organisers create rounds.
    let (st, _, _) = call(&s, "POST", &format!("/api/events/{event}/quiz-rounds"), Some(&t1), Some(round_body(json!(FORM)))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The organisers' item picker: the division's candidates, never a key.
    let (st, bank, _) = call(&s, "GET", &format!("/api/events/{event}/quiz-bank?division_id={division}"), Some(&organiser), None).await;
    assert_eq!(st, StatusCode::OK, "{bank}");
    let ids: Vec<&str> = bank["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"ct-56-001") && !ids.contains(&"ct-56-007") && !ids.contains(&"ct-56-020") && !ids.contains(&"ct-34-001"), "{ids:?}");
    assert!(bank["items"].as_array().unwrap().iter().all(|i| i.get("answer").is_none() && i.get("explanation").is_none()));

    // A form assembled from a blueprint: five live computational-thinking items of grades 5–6.
    let blueprint = "format_version = 1\npopulation = \"student\"\ngrade_band = \"5-6\"\nlength = 5\n[literacy.computational-thinking]\nmin = 5\n";
    let (st, assembled, _) = create(json!({"name": "组卷", "opens_at": t0 + 5000, "closes_at": t0 + 6000,
        "forms": [{"division_id": division, "blueprint": blueprint}]}))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{assembled}");
    let list = assembled["quiz"]["forms"][0]["item_list"].as_array().unwrap();
    assert_eq!(list.len(), 5, "{assembled}");
    for it in list {
        let bank_item = s.catalogue.items.get(it["id"].as_str().unwrap()).unwrap();
        assert_eq!((bank_item.status.as_str(), bank_item.grade_band.as_deref(), bank_item.literacy.as_str()), ("live", Some("5-6"), "computational-thinking"));
        assert_ne!(bank_item.kind.name(), "performance");
    }
    let (st, e, _) =
        create(json!({"name": "组卷", "opens_at": t0 + 5000, "closes_at": t0 + 6000, "forms": [{"division_id": division, "blueprint": blueprint.replace("length = 5", "length = 500")}]}))
            .await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("blueprint_infeasible")), "{e}");
    // Its forms may change until it opens; nobody may start it before.
    let future = assembled["id"].as_i64().unwrap();
    let (st, v, _) = call(
        &s,
        "PUT",
        &format!("/api/events/{event}/rounds/{future}/quiz"),
        Some(&organiser),
        Some(json!({"forms": [{"division_id": division, "items": ["ct-56-002", "ct-56-001"]}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["quiz"]["forms"][0]["items"], 2);
    let (st, e, _) = call(&s, "POST", &format!("/api/events/{event}/rounds/{future}/quiz/sheet"), Some(&a1), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_not_open")), "{e}");

    let (st, round, _) = create(round_body(json!(FORM))).await;
    assert_eq!(st, StatusCode::CREATED, "{round}");
    let rid = round["id"].as_i64().unwrap();
    let base = format!("/api/events/{event}/rounds/{rid}");
    assert_eq!(round["labs"], json!([]));
    assert_eq!((round["quiz"]["forms"][0]["items"].as_i64(), round["quiz"]["forms"][0]["max_points"].as_i64()), (Some(6), Some(13)), "{round}");
    // The open round's forms stay.
    let (st, e, _) =
        call(&s, "PUT", &format!("{base}/quiz"), Some(&organiser), Some(json!({"forms": [{"division_id": division, "items": ["ct-56-001"]}]}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("quiz_started")), "{e}");
    // Contestants see how many questions there are, not which.
    let (st, q, _) = call(&s, "GET", &format!("{base}/quiz"), Some(&a1), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(q["quiz"]["forms"][0].get("item_list").is_none(), "{q}");
    assert_eq!(q["team_id"], team_a);

    // ---- answering: one sheet per team, shared and resumed
    let (st, v, _) = call(&s, "GET", &format!("{base}/quiz/sheet"), Some(&a1), None).await;
    assert_eq!((st, v["status"].as_str(), v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some("not_started"), Some(0)), "{v}");
    let (st, e) = answer(&s, &base, &a1, "ct-56-001", json!({"choices": ["a"]})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_started")), "{e}");
    let (st, sheet, _) = call(&s, "POST", &format!("{base}/quiz/sheet"), Some(&a1), None).await;
    assert_eq!(st, StatusCode::CREATED, "{sheet}");
    assert_eq!((sheet["status"].as_str(), sheet["total"].as_i64()), (Some("in_progress"), Some(6)));
    assert!(sheet["remaining_seconds"].as_i64().unwrap() > 500);
    // Keys and explanations stay on the server while the round runs.
    let explanation = &s.catalogue.items.get("ct-56-003").unwrap().explanation;
    let hidden = |v: &Value| {
        let text = v.to_string();
        !text.contains(&explanation.en) && !text.contains(&explanation.zh) && !text.contains("\"correct\"") && !text.contains("\"answer\"")
    };
    assert!(hidden(&sheet), "{sheet}");
    assert_eq!(item(&sheet, "ct-56-003")["item"]["options"].as_array().unwrap().len(), 4);
    for (id, r) in
        [("ct-56-001", json!({"choices": ["a"]})), ("ct-56-003", json!({"choices": ["a"]})), ("ct-56-011", json!({"order": ["b", "a", "d", "c", "e"]}))]
    {
        let (st, v) = answer(&s, &base, &a1, id, r).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    // The teammate (another computer, or the same after a dropped connection) finds the answers as given.
    let (st, resumed, _) = call(&s, "POST", &format!("{base}/quiz/sheet"), Some(&a2), None).await;
    assert_eq!(st, StatusCode::OK, "{resumed}");
    assert_eq!(item(&resumed, "ct-56-011")["response"], json!({"order": ["b", "a", "d", "c", "e"]}));
    assert_eq!(item(&resumed, "ct-56-003")["answered_by"], a1_id);
    assert_eq!(resumed["answered"], 3);
    for (id, r) in
        [("ct-56-013", json!({"pairs": [["a", "2"], ["b", "4"]]})), ("ct-56-009", json!({"value": true})), ("ct-56-017", json!({"text": "Threshold"}))]
    {
        let (st, v) = answer(&s, &base, &a2, id, r).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    // Changed, and the same save twice: the last answer stands.
    for _ in 0..2 {
        let (st, v) = answer(&s, &base, &a2, "ct-56-009", json!({"value": false})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, now_sheet, _) = call(&s, "GET", &format!("{base}/quiz/sheet"), Some(&a1), None).await;
    assert_eq!(
        (item(&now_sheet, "ct-56-009")["response"].clone(), item(&now_sheet, "ct-56-009")["answered_by"].as_i64()),
        (json!({"value": false}), Some(a2_id))
    );
    assert_eq!(now_sheet["answered"], 6);

    // Refusals: an answer of the wrong shape, an item not on the sheet, someone not in a team, the coach.
    let (st, e) = answer(&s, &base, &a1, "ct-56-001", json!({"choices": ["z"]})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("response")), "{e}");
    for unknown in ["ct-99-999", "ct-56-002"] {
        let (st, _) = answer(&s, &base, &a1, unknown, json!({"choices": ["a"]})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{unknown}");
    }
    for who in [&outsider, &t1, &organiser] {
        let (st, _) = answer(&s, &base, who, "ct-56-001", json!({"choices": ["a"]})).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, _) = call(&s, "POST", &format!("{base}/quiz/sheet"), Some(who), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }

    // Outside the team, nobody reads its sheet while the round runs: not even its coach.
    let other = |token: &str, team: i64| {
        let (s, path, token) = (s.clone(), format!("{base}/quiz/sheet?team_id={team}"), token.to_string());
        async move { call(&s, "GET", &path, Some(&token), None).await }
    };
    let (st, e, _) = other(&t1, team_a).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_running")), "{e}");
    for (who, team) in [(&a1, team_b), (&outsider, team_a)] {
        let (st, e, _) = other(who, team).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    }

    // Team A hands in (before the freeze): 1 + 1 (one of two right options) + 2 (two adjacent pairs) + 2 (two pairs) + 1 + 1 = 8.
    until(&s, t0 + 100);
    let (st, handed, _) = call(&s, "POST", &format!("{base}/quiz/sheet/submit"), Some(&a2), None).await;
    assert_eq!(st, StatusCode::OK, "{handed}");
    assert_eq!((handed["status"].as_str(), handed["sheet"]["closed_by"].as_str()), (Some("submitted"), Some("team")));
    // Until the round closes not even the team sees its score or the keys: it could pass them on.
    assert!(handed["sheet"]["points"].is_null() && hidden(&handed), "{handed}");
    let (st, e) = answer(&s, &base, &a1, "ct-56-001", json!({"choices": ["b"]})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sitting_submitted")), "{e}");
    let (st, again, _) = call(&s, "POST", &format!("{base}/quiz/sheet/submit"), Some(&a1), None).await;
    assert_eq!((st, again["sheet"]["submitted_at"].as_i64()), (StatusCode::OK, handed["sheet"]["submitted_at"].as_i64()));

    // Team C answers 8 points' worth and never hands in; team B answers everything right, after the freeze.
    let (st, _, _) = call(&s, "POST", &format!("{base}/quiz/sheet"), Some(&c), None).await;
    assert_eq!(st, StatusCode::CREATED);
    for (id, r) in [
        ("ct-56-001", json!({"choices": ["a"]})),
        ("ct-56-003", json!({"choices": ["a", "b"]})),
        ("ct-56-011", json!({"order": ["b", "a", "d", "e", "c"]})),
        ("ct-56-009", json!({"value": false})),
        ("ct-56-013", json!({"pairs": [["a", "1"]]})),
    ] {
        let (st, v) = answer(&s, &base, &c, id, r).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    until(&s, t0 + 400);
    let (st, _, _) = call(&s, "POST", &format!("{base}/quiz/sheet"), Some(&b), None).await;
    assert_eq!(st, StatusCode::CREATED);
    for (id, r) in all_right() {
        let (st, v) = answer(&s, &base, &b, id, r).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, v, _) = call(&s, "POST", &format!("{base}/quiz/sheet/submit"), Some(&b), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // The board: organisers see it live; contestants frozen as it stood at the freeze (only team A had handed in).
    let lb = |token: &str| {
        let (s, path, token) = (s.clone(), format!("{base}/leaderboard?division={division}"), token.to_string());
        async move {
            let (st, v, _) = call(&s, "GET", &path, Some(&token), None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            v
        }
    };
    let live = lb(&organiser).await;
    assert_eq!(live["view"], "live");
    let rows = board(&live);
    assert_eq!((rows[0].0, rows[0].2), (team_b, 13.0), "{live}");
    assert_eq!((rows[1].0, rows[1].2, rows[1].3), (team_a, 8.0, handed["sheet"]["submitted_at"].as_i64()), "{live}");
    assert_eq!((rows[2].0, rows[2].3), (team_c, None), "C has not handed in: {live}");
    let frozen = lb(&c).await;
    assert_eq!(frozen["view"], "frozen");
    let rows = board(&frozen);
    assert_eq!((rows[0].0, rows[0].1, rows[0].2), (team_a, 1, 8.0), "{frozen}");
    assert!(rows[1..].iter().all(|r| r.2 == 0.0 && r.3.is_none()), "{frozen}");
    // The officials' progress: where each sheet stands, never a key.
    let (st, p, _) = call(&s, "GET", &format!("{base}/quiz/progress"), Some(&judge), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["totals"], json!({"teams": 3, "started": 3, "submitted": 2}));
    let status = |team: i64| p["teams"].as_array().unwrap().iter().find(|x| x["team_id"] == team).unwrap().clone();
    assert_eq!((status(team_c)["status"].as_str(), status(team_c)["answered"].as_i64()), (Some("in_progress"), Some(5)));
    assert_eq!(status(team_b)["points"], 13);
    assert!(hidden(&p));
    let (st, _, _) = call(&s, "GET", &format!("{base}/quiz/progress"), Some(&a1), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_not_closed")), "{e}");

    // ---- the round closes: C's sheet counts as handed in at the close; answers and starts are refused.
    until(&s, t0 + 601);
    let (st, e) = answer(&s, &base, &c, "ct-56-017", json!({"text": "threshold"})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("round_closed")), "{e}");
    // The first look after a change is answered from the cache while the board is recomputed.
    let mut rows = board(&lb(&c).await);
    for _ in 0..100 {
        if rows.iter().all(|r| r.3.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        rows = board(&lb(&c).await);
    }
    assert_eq!(
        rows.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(),
        vec![(team_b, 1, 13.0), (team_a, 2, 8.0), (team_c, 3, 8.0)],
        "same score: the earlier sheet first"
    );
    assert_eq!(rows[2].3, Some(t0 + 600));

    // The review: each answer with its points (partial credit), the key and the explanation in both languages.
    let (st, review, _) = call(&s, "GET", &format!("{base}/quiz/sheet"), Some(&a1), None).await;
    assert_eq!(st, StatusCode::OK, "{review}");
    assert_eq!((review["review"].as_bool(), review["sheet"]["points"].as_i64(), review["sheet"]["max_points"].as_i64()), (Some(true), Some(8), Some(13)));
    let points: Vec<(String, i64, i64)> =
        FORM.iter().map(|id| (id.to_string(), item(&review, id)["points"].as_i64().unwrap(), item(&review, id)["max_points"].as_i64().unwrap())).collect();
    assert_eq!(
        points,
        [("ct-56-001", 1, 1), ("ct-56-003", 1, 2), ("ct-56-011", 2, 4), ("ct-56-013", 2, 4), ("ct-56-009", 1, 1), ("ct-56-017", 1, 1)].map(|(i, p, m)| (
            i.to_string(),
            p,
            m
        ))
    );
    let multiple = item(&review, "ct-56-003");
    assert_eq!(multiple["correct"], json!({"choices": ["a", "b"]}));
    assert_eq!(
        (multiple["explanation"]["zh-CN"].as_str(), multiple["explanation"]["en"].as_str()),
        (Some(explanation.zh.as_str()), Some(explanation.en.as_str()))
    );
    assert_eq!(multiple["response"], json!({"choices": ["a"]}));
    // Once closed, the coach (and the judge) go through a team's sheet with it: the same review, read-only.
    for token in [&t1, &judge] {
        let (st, coach_view, _) = other(token, team_a).await;
        assert_eq!(st, StatusCode::OK, "{coach_view}");
        assert_eq!((coach_view["team_id"].as_i64(), coach_view["sheet"]["points"].as_i64()), (Some(team_a), Some(8)), "{coach_view}");
        assert_eq!(item(&coach_view, "ct-56-003")["correct"], json!({"choices": ["a", "b"]}));
    }
    let (st, _, _) = call(&s, "PUT", &format!("{base}/quiz/sheet/answers/ct-56-001"), Some(&t1), Some(json!({"response": {"choices": ["b"]}}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "read-only for the coach");
    let (st, _, _) = other(&t1, 999_999).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, c_review, _) = call(&s, "GET", &format!("{base}/quiz/sheet"), Some(&c), None).await;
    assert_eq!((c_review["sheet"]["closed_by"].as_str(), c_review["sheet"]["points"].as_i64()), (Some("deadline"), Some(8)), "{c_review}");
    assert_eq!((item(&c_review, "ct-56-013")["points"].as_i64(), item(&c_review, "ct-56-017")["response"].clone()), (Some(0), Value::Null));

    // Finalised once closed: nothing to re-grade; the ranking feeds the results like any round's.
    let (st, f, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((st, f["regrades"].as_i64(), f["already"].as_bool()), (StatusCode::OK, Some(0), Some(false)), "{f}");
    let (st, f, _) = call(&s, "POST", &format!("{base}/finalise"), Some(&organiser), None).await;
    assert_eq!((st, f["already"].as_bool()), (StatusCode::OK, Some(true)), "{f}");
    let final_board = lb(&a1).await;
    assert_eq!(board(&final_board).iter().map(|r| r.0).collect::<Vec<_>>(), vec![team_b, team_a, team_c], "{final_board}");
    // Certificates and advancement read the same final ranking.
    let awards = json!({"awards": [{"name": "一等奖", "top": 1}, {"name": "优秀奖", "top_percent": 100}]});
    let (st, issued, _) = call(&s, "POST", &format!("{base}/certificates"), Some(&organiser), Some(awards)).await;
    assert_eq!((st, issued["issued"].as_i64()), (StatusCode::CREATED, Some(4)), "{issued}");
    let award_of = |student: i64| issued["certificates"].as_array().unwrap().iter().find(|c| c["student_id"] == student).unwrap()["award"].clone();
    assert_eq!((award_of(b_id), award_of(a1_id), award_of(c_id)), (json!("一等奖"), json!("优秀奖"), json!("优秀奖")));
    let (st, adv, _) = call(&s, "POST", &format!("/api/events/{event}/advance"), Some(&organiser), Some(json!({"round_id": rid, "top": 1}))).await;
    assert_eq!(st, StatusCode::OK, "{adv}");
    assert_eq!(
        (adv["parent_id"].as_i64(), adv["advanced"].as_array().unwrap().len(), adv["advanced"][0]["from_team_id"].as_i64()),
        (Some(city_event), 1, Some(team_b))
    );
    let req = axum::http::Request::builder()
        .uri(format!("{base}/results.xlsx"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {organiser}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (st, bytes, _) = raw_bytes(&s, req).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    assert!(bytes.starts_with(b"PK"));
}

async fn state_for(backend: &str) -> AppState {
    crate::server::state(backend, "quiz").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiz_round_on_sqlite() {
    quiz_flow("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiz_round_on_postgres() {
    quiz_flow("postgres").await;
}
