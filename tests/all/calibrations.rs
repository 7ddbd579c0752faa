//! Calibration from the server's own sittings, on both databases: simulated sittings with
//! known item parameters are calibrated (MML, 2PL) and stored as versions with their date and
//! N; the parameters come back close to the truth; an adaptive test then selects by them
//! instead of the bank's priors; only the platform admin calibrates.
//! After a calibration, DIF and misfit are flagged for review: an item built to favour one
//! group at equal ability is flagged C, the neutral ones A, a too-small group "insufficient",
//! and the platform admin's decisions persist, are audited and retire the item.

use axum::http::StatusCode;
use qiming::serve::http::AppState;
use qiming_curriculum::Catalogue;
use qiming_grading::irt::{self, StepOptions};
use serde_json::{Value, json};

use crate::assessment_reports::person;
use crate::classroom::{School, school};
use crate::server::{call, state};
use crate::support::repo;

/// The items and the parameters their answers are drawn from: the prior's favourite at θ = 0
/// (`ct-56-018`, b = 0) is made nearly useless, and `ct-56-005` the most informative.
const TRUTH: [(&str, f64, f64); 7] = [
    ("ct-56-001", 1.0, -1.5),
    ("ct-56-002", 1.2, -0.6),
    ("ct-56-005", 2.5, 0.0),
    ("ct-56-008", 0.8, -0.9),
    ("ct-56-012", 1.0, 0.8),
    ("ct-56-014", 1.4, 1.2),
    ("ct-56-018", 0.8, 1.5),
];

/// SplitMix64: a seeded stream for the simulated takers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Where a simulated taker sits and the gender on record (None: not recorded).
struct Taker {
    school: i64,
    class: Option<i64>,
    gender: Option<&'static str>,
}

/// `n` submitted sittings of `assessment`, answered by simulated takers (θ ~ N(0, 1), 2PL with
/// [`TRUTH`]'s parameters), written straight to the database (one transaction). `taker(k)` says
/// who the k-th is; `dif` makes one item harder, by the given logits, for takers of one gender.
async fn simulate_takers(s: &AppState, assessment: i64, n: usize, seed: u64, names: &str, taker: impl Fn(usize) -> Taker, dif: Option<(&str, &str, f64)>) {
    let mut rng = Rng(seed);
    let mut tx = s.db.pool.begin().await.unwrap();
    for k in 0..n {
        let who = taker(k);
        let user: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, must_change_password, created_at, class_id, school_id, gender) \
             VALUES ($1, $2, 'x', 'student', 0, 0, $3, $4, $5) RETURNING id",
        )
        .bind(format!("{names}{k}"))
        .bind(format!("{names}{k}"))
        .bind(who.class)
        .bind(who.school)
        .bind(who.gender)
        .fetch_one(&mut *tx)
        .await
        .map(|r| sqlx::Row::get(&r, 0))
        .unwrap();
        let sitting: i64 = sqlx::query(
            "INSERT INTO sittings (assessment_id, taker_id, started_at, deadline_at, position, submitted_at, submitted_by, points, max_points) \
             VALUES ($1, $2, 1, 2, 0, 2, 'taker', 0, 7) RETURNING id",
        )
        .bind(assessment)
        .bind(user)
        .fetch_one(&mut *tx)
        .await
        .map(|r| sqlx::Row::get(&r, 0))
        .unwrap();
        let theta = rng.normal();
        for (j, (item, a, b)) in TRUTH.iter().enumerate() {
            let b = match dif {
                Some((harder, gender, logits)) if harder == *item && who.gender == Some(gender) => b + logits,
                _ => *b,
            };
            let p = 1.0 / (1.0 + (-a * (theta - b)).exp());
            let points = i64::from(rng.next() < p);
            sqlx::query("INSERT INTO sitting_items (sitting_id, position, item_id, literacy, response, points, max_points) VALUES ($1, $2, $3, 'computational-thinking', NULL, $4, 1)")
                .bind(sitting)
                .bind(j as i64)
                .bind(*item)
                .bind(points)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// `n` takers of one class, no gender recorded.
async fn simulate(s: &AppState, assessment: i64, class: i64, school: i64, n: usize) {
    simulate_takers(s, assessment, n, 2026, "sim", |_| Taker { school, class: Some(class), gender: None }, None).await;
}

/// The first item an adaptive test over the pool picks with these parameters (randomesque 1).
fn first_pick(bank: &[(String, irt::Item, Option<String>)]) -> String {
    let options = StepOptions { randomesque: 1, max_items: 5, ..StepOptions::default() };
    let step = irt::next_step(bank, &[], &vec![0; bank.len()], 0, &options, 1);
    bank[step.next.unwrap()].0.clone()
}

async fn calibration(backend: &str) {
    let s = state(backend, "calibrations").await;
    let cat = Catalogue::open(&repo().join("curriculum")).unwrap();
    let School { admin, school_id, teacher } = school(&s).await;
    let (_, c, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级(3)班"}))).await;
    let class = c["id"].as_i64().unwrap();
    let ids: Vec<&str> = TRUTH.iter().map(|t| t.0).collect();
    let new_test = |mode: &str| {
        json!({"title": "校准", "population": "students", "mode": mode, "closes_at": 4000000000i64, "time_limit_minutes": 60,
            "items": ids, "class_ids": [class], "randomesque": if mode == "adaptive" { Some(1) } else { None }, "max_items": if mode == "adaptive" { Some(5) } else { None }})
    };
    let (st, fixed, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new_test("fixed"))).await;
    assert_eq!(st, StatusCode::CREATED, "{fixed}");

    // Too few sittings: refused, nothing stored.
    let (st, v, _) = call(&s, "POST", "/api/calibrations", Some(&admin), Some(json!({"population": "students"}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "too_few_sittings");
    simulate(&s, fixed["id"].as_i64().unwrap(), class, school_id, 1500).await;
    // Only the platform admin calibrates; students do not read calibrations.
    let (st, _, _) = call(&s, "POST", "/api/calibrations", Some(&teacher), Some(json!({"population": "students"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, pupil) = person(&s, "pupil", "student", Some(school_id), Some(class), None).await;
    let (st, _, _) = call(&s, "GET", "/api/calibrations", Some(&pupil), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let started = qiming::serve::now();
    let clock = std::time::Instant::now();
    let (st, v, _) = call(&s, "POST", "/api/calibrations", Some(&admin), Some(json!({"population": "students"}))).await;
    let took = clock.elapsed();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["version"], 1);
    assert_eq!(v["takers"], 1500, "N");
    assert_eq!(v["items"], 7);
    assert!(v["created_at"].as_i64().unwrap() >= started);
    let lit = &v["literacies"][0];
    assert_eq!(lit["literacy"], "computational-thinking");
    assert_eq!(lit["model"], "2pl");
    assert_eq!(lit["converged"], true, "{lit}");
    // Parameter recovery: θ ~ N(0, 1) identifies the scale, so the truth is comparable directly.
    let params: Vec<Value> = lit["parameters"].as_array().unwrap().clone();
    let (mut sa, mut sb) = (0.0, 0.0);
    for (id, a, b) in TRUTH {
        let p = params.iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("{id} missing: {lit}"));
        sa += (p["a"].as_f64().unwrap() - a).powi(2);
        sb += (p["b"].as_f64().unwrap() - b).powi(2);
    }
    let (rmse_a, rmse_b) = ((sa / 7.0).sqrt(), (sb / 7.0).sqrt());
    assert!(rmse_a < 0.25 && rmse_b < 0.25, "RMSE a {rmse_a:.3}, b {rmse_b:.3}: {lit}");
    println!(
        "{backend}: 1500 sittings × 7 items, 2PL recovery: RMSE a {rmse_a:.3}, b {rmse_b:.3}; {} EM cycles; POST /api/calibrations took {took:.2?}",
        lit["iterations"]
    );
    // A second run is the next version; the list is newest first.
    let (st, v2, _) = call(&s, "POST", "/api/calibrations", Some(&admin), Some(json!({"population": "students", "min_takers": 20}))).await;
    assert_eq!(st, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["literacies"][0]["parameters"], lit["parameters"], "the same sittings give the same parameters");
    let (_, list, _) = call(&s, "GET", "/api/calibrations?population=students", Some(&teacher), None).await;
    let versions: Vec<i64> = list["calibrations"].as_array().unwrap().iter().map(|c| c["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1]);

    // Reports score with the newest calibration too, and say so.
    for format in ["json", "pdf"] {
        let clock = std::time::Instant::now();
        let req = axum::http::Request::builder()
            .uri(format!("/api/assessments/{}/reports/class/{class}?format={format}", fixed["id"]))
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {teacher}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(qiming::serve::http::app(s.clone()), req).await.unwrap();
        let took = clock.elapsed();
        let font = crate::classroom::has_cjk_font();
        assert_eq!(response.status(), if format == "pdf" && !font { StatusCode::CONFLICT } else { StatusCode::OK });
        if response.status() == StatusCode::OK {
            assert_eq!(response.headers()[qiming::serve::reports::CALIBRATION_HEADER], "v2");
        }
        println!("{backend}: class report of 1500 sittings ({format}) in {took:.2?}");
    }

    // The adaptive test now selects by the calibration, not by the bank's priors.
    let priors: Vec<(String, irt::Item, Option<String>)> =
        ids.iter().map(|id| (id.to_string(), irt::prior_item(cat.items.get(id).unwrap()), Some("computational-thinking".into()))).collect();
    let calibrated: Vec<(String, irt::Item, Option<String>)> = params
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                irt::Item::dichotomous(p["a"].as_f64().unwrap(), p["b"].as_f64().unwrap(), 0.0),
                Some("computational-thinking".into()),
            )
        })
        .collect();
    assert_eq!(first_pick(&priors), "ct-56-018");
    assert_eq!(first_pick(&calibrated), "ct-56-005");
    let (st, adaptive, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new_test("adaptive"))).await;
    assert_eq!(st, StatusCode::CREATED, "{adaptive}");
    let (st, sitting, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting", adaptive["id"]), Some(&pupil), None).await;
    assert_eq!(st, StatusCode::CREATED, "{sitting}");
    assert_eq!(sitting["items"][0]["item"]["id"], "ct-56-005", "{sitting}");
    // Scored with it too: the sitting records the calibration.
    let (st, done, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting/submit", adaptive["id"]), Some(&pupil), None).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    let used: Option<i64> = sqlx::query("SELECT calibration_id FROM sittings WHERE assessment_id = $1")
        .bind(adaptive["id"].as_i64().unwrap())
        .fetch_one(&s.db.pool)
        .await
        .map(|r| sqlx::Row::get(&r, 0))
        .unwrap();
    assert_eq!(used, v2["id"].as_i64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibration_on_sqlite() {
    calibration("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibration_on_postgres() {
    calibration("postgres").await;
}

/// The item built to favour boys at equal ability: girls find it 1.2 logits harder.
const DIF_ITEM: &str = "ct-56-012";

/// `n` submitted sittings of `assessment` by takers of recorded gender (girls and boys in turn,
/// θ ~ N(0, 1) in both groups), the first `rural` of them at `rural_school`, the rest at
/// `school`; [`DIF_ITEM`] is harder for the girls, every other item the same for all.
async fn simulate_groups(s: &AppState, assessment: i64, class: i64, school: i64, rural_school: i64, rural: usize, n: usize) {
    let taker = |k: usize| Taker {
        school: if k < rural { rural_school } else { school },
        class: if k < rural { None } else { Some(class) },
        gender: Some(if k.is_multiple_of(2) { "f" } else { "m" }),
    };
    simulate_takers(s, assessment, n, 77, "dif", taker, Some((DIF_ITEM, "f", 1.2))).await;
}

/// The review rows of one kind and comparison, flagged or not: item id → row.
fn rows<'a>(review: &'a Value, kind: &str, comparison: &str) -> std::collections::BTreeMap<String, &'a Value> {
    ["flags", "not_flagged"]
        .iter()
        .flat_map(|k| review[*k].as_array().unwrap())
        .filter(|r| r["kind"] == kind && r["comparison"] == comparison)
        .map(|r| (r["item_id"].as_str().unwrap().to_string(), r))
        .collect()
}

async fn item_review(backend: &str) {
    let s = state(backend, "item_review").await;
    let School { admin, school_id, teacher } = school(&s).await;
    let (_, c, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级(2)班"}))).await;
    let class = c["id"].as_i64().unwrap();
    let region: i64 =
        sqlx::query("SELECT region_id FROM schools WHERE id = $1").bind(school_id).fetch_one(&s.db.pool).await.map(|r| sqlx::Row::get(&r, 0)).unwrap();
    sqlx::query("UPDATE schools SET locality = 'urban' WHERE id = $1").bind(school_id).execute(&s.db.pool).await.unwrap();
    let (st, rural, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "山区小学", "region_id": region, "locality": "rural"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{rural}");
    let ids: Vec<&str> = TRUTH.iter().map(|t| t.0).collect();
    let test = |items: Vec<&str>| json!({"title": "审查", "population": "students", "mode": "fixed", "closes_at": 4000000000i64, "time_limit_minutes": 60, "items": items, "class_ids": [class]});
    let (st, fixed, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(test(ids.clone()))).await;
    assert_eq!(st, StatusCode::CREATED, "{fixed}");
    // 3000 takers, 8 of them at the rural school: too few for an urban/rural comparison.
    simulate_groups(&s, fixed["id"].as_i64().unwrap(), class, school_id, rural["id"].as_i64().unwrap(), 8, 3000).await;
    let (st, cal, _) = call(&s, "POST", "/api/calibrations", Some(&admin), Some(json!({"population": "students"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{cal}");
    let cal = cal["id"].as_i64().unwrap();

    // Staff read the review; students do not; an unknown calibration is 404.
    let (_, pupil) = person(&s, "pupil", "student", Some(school_id), Some(class), None).await;
    let (st, _, _) = call(&s, "GET", &format!("/api/calibrations/{cal}/review"), Some(&pupil), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = call(&s, "GET", &format!("/api/calibrations/{}/review", cal + 100), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, review, _) = call(&s, "GET", &format!("/api/calibrations/{cal}/review"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{review}");
    insta::with_settings!({ snapshot_path => crate::support::repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("item-review", review, {
            ".calibration.id" => "[id]", ".calibration.created_at" => "[time]", ".flags[].id" => "[id]", ".not_flagged[].id" => "[id]",
        });
    });

    // Gender: exactly the planted item is C (favouring the boys, the reference group); the rest A.
    let gender = rows(&review, "dif", "gender");
    assert_eq!(gender.len(), 7, "{review}");
    for (id, row) in &gender {
        if id == DIF_ITEM {
            assert_eq!(row["category"], "C", "{row}");
            assert_eq!(row["state"], "open", "{row}");
            assert_eq!(row["details"]["favours"], "reference", "{row}");
            assert!(row["statistic"].as_f64().unwrap() < -1.5, "{row}");
            assert_eq!(row["item"]["status"], "live", "{row}");
            assert!(!row["item"]["stem"]["zh-CN"].as_str().unwrap().is_empty(), "{row}");
        } else {
            assert_eq!(row["category"], "A", "{id}: {row}");
            assert!(row["state"].is_null(), "{row}");
        }
        assert_eq!(row["details"]["n_reference"].as_u64().unwrap() + row["details"]["n_focal"].as_u64().unwrap(), 3000);
    }
    let dif_flags: Vec<&Value> = review["flags"].as_array().unwrap().iter().filter(|f| f["kind"] == "dif").collect();
    assert_eq!(dif_flags.len(), 1, "{review}");
    // Urban/rural: 8 rural takers are not enough data, said per item, never a class.
    let locality = rows(&review, "dif", "locality");
    assert_eq!(locality.len(), 7);
    for row in locality.values() {
        assert_eq!(row["category"], "insufficient", "{row}");
        assert_eq!(row["details"]["n_focal"], 8, "{row}");
        assert!(row["statistic"].is_null(), "{row}");
    }
    // Every item has its fit.
    let fit = rows(&review, "fit", "fit");
    assert_eq!(fit.len(), 7);
    for row in fit.values() {
        assert!(row["details"]["infit"].as_f64().is_some() && row["details"]["outfit"].as_f64().is_some(), "{row}");
    }

    // Decisions: only the platform admin decides; a result that is not a flag needs none.
    let flag = dif_flags[0]["id"].as_i64().unwrap();
    let decide = |token: String, flag: i64, body: Value| {
        let s = s.clone();
        async move { call(&s, "POST", &format!("/api/calibrations/{cal}/flags/{flag}/review"), Some(&token), Some(body)).await }
    };
    let (st, _, _) = decide(teacher.clone(), flag, json!({"decision": "retire"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = decide(pupil.clone(), flag, json!({"decision": "retire"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v, _) = decide(admin.clone(), flag, json!({"decision": "drop"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("decision")), "{v}");
    let neutral = gender["ct-56-001"]["id"].as_i64().unwrap();
    let (st, v, _) = decide(admin.clone(), neutral, json!({"decision": "keep"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_flagged")), "{v}");
    let (st, _, _) = call(&s, "POST", &format!("/api/calibrations/{}/flags/{flag}/review", cal + 100), Some(&admin), Some(json!({"decision": "keep"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, kept, _) = decide(admin.clone(), flag, json!({"decision": "keep", "note": "专家认为题目内容公平"})).await;
    assert_eq!(st, StatusCode::OK, "{kept}");
    assert_eq!((kept["state"].as_str(), kept["note"].as_str()), (Some("kept"), Some("专家认为题目内容公平")));
    assert!(kept["reviewer_id"].as_i64().is_some() && kept["reviewed_at"].as_i64().is_some(), "{kept}");

    // An adaptive test over all seven items, open before the review decides.
    let (st, adaptive, _) = call(
        &s,
        "POST",
        "/api/assessments",
        Some(&admin),
        Some(json!({"title": "自适应", "population": "students", "mode": "adaptive", "closes_at": 4000000000i64, "time_limit_minutes": 60,
            "items": ids, "max_items": 7, "se_target": 0.05, "class_ids": [class]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{adaptive}");
    let adaptive = adaptive["id"].as_i64().unwrap();

    // Retiring retires the item on this server: a new test may not use it.
    let (st, retired, _) = decide(admin.clone(), flag, json!({"decision": "retire", "note": "对女生不公平"})).await;
    assert_eq!(st, StatusCode::OK, "{retired}");
    assert_eq!((retired["state"].as_str(), retired["item"]["status"].as_str()), (Some("retired"), Some("retired")));
    let (st, v, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(test(vec![DIF_ITEM, "ct-56-001"]))).await;
    assert_eq!((st, v["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("retired")), "{v}");
    // …nor does the adaptive test that was already open: it runs out of items instead of giving it.
    let given = take_adaptive(&s, &pupil, adaptive).await;
    assert_eq!(given.len(), 6, "{given:?}");
    assert!(!given.iter().any(|i| i == DIF_ITEM), "the retired item was given: {given:?}");
    // It persists: the review says so on the next read.
    let (_, again, _) = call(&s, "GET", &format!("/api/calibrations/{cal}/review"), Some(&teacher), None).await;
    let row = rows(&again, "dif", "gender")[DIF_ITEM].clone();
    assert_eq!((row["state"].as_str(), row["note"].as_str(), row["item"]["status"].as_str()), (Some("retired"), Some("对女生不公平"), Some("retired")));
    // Sent for revision instead: the item is back in use (the bank's authors revise it).
    let (st, revised, _) = decide(admin.clone(), flag, json!({"decision": "revise"})).await;
    assert_eq!(st, StatusCode::OK, "{revised}");
    assert_eq!((revised["state"].as_str(), revised["item"]["status"].as_str()), (Some("revised"), Some("live")));
    let (st, v, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(test(vec![DIF_ITEM, "ct-56-001"]))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Every decision is audited, with ids only.
    let audit: Vec<String> = sqlx::query("SELECT detail FROM audit_log WHERE action = 'item_review' ORDER BY id")
        .fetch_all(&s.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::get(r, 0))
        .collect();
    let expect: Vec<String> =
        ["keep", "retire", "revise"].iter().map(|d| format!("calibration_id={cal} flag_id={flag} item_id={DIF_ITEM} decision={d}")).collect();
    assert_eq!(audit, expect);
}

/// Sits an adaptive test to its end, answering every item right; the items given, in order.
async fn take_adaptive(s: &AppState, token: &str, id: i64) -> Vec<String> {
    let base = format!("/api/assessments/{id}/sitting");
    let (st, v, _) = call(s, "POST", &base, Some(token), None).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let given = || async {
        sqlx::query("SELECT si.item_id FROM sitting_items si JOIN sittings t ON t.id = si.sitting_id WHERE t.assessment_id = $1 ORDER BY si.position")
            .bind(id)
            .fetch_all(&s.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, 0))
            .collect::<Vec<String>>()
    };
    loop {
        let items = given().await;
        let current = items.last().unwrap().clone();
        let Some(qiming_curriculum::ItemKind::Single { answer, .. }) = s.catalogue.items.get(&current).map(|i| &i.kind) else {
            panic!("{current} is not a single-choice item")
        };
        let (st, v, _) = call(s, "PUT", &format!("{base}/answers/{current}"), Some(token), Some(json!({"response": {"choices": [answer]}}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v, _) = call(s, "POST", &format!("{base}/next"), Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if given().await.len() == items.len() {
            return items;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_review_on_sqlite() {
    item_review("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_review_on_postgres() {
    item_review("postgres").await;
}
