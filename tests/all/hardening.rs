//! Hardening: fair login throttling, the password hasher's bounds, connection
//! limits, the fair grading queue, crash-safe roster imports, cancellable
//! runs, hidden-case secrets, backups and the review's smaller points.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use qiming::serve::http::{AppState, app};
use serde_json::{Value, json};
use sqlx::Row;
use tower::ServiceExt;

use crate::classroom::school;
use crate::process::{free_port, http, serve};
use crate::server::{call, import_roster, login, raw, state};
use crate::support::repo;

/// What a login attempt from a given address (and device cookie) got.
struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    cookies: Vec<String>,
}

async fn login_from(s: &AppState, ip: &str, device: Option<&str>, username: &str, password: &str) -> Answer {
    let mut req = Request::builder().method("POST").uri("/api/login").header(header::CONTENT_TYPE, "application/json");
    if let Some(d) = device {
        req = req.header(header::COOKIE, format!("qiming_device={d}"));
    }
    let mut req = req.body(Body::from(json!({"username": username, "password": password}).to_string())).unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 40000)));
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let retry_after = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let cookies = resp.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), retry_after, cookies }
}

fn device_of(a: &Answer) -> String {
    let c = a.cookies.iter().find(|c| c.starts_with("qiming_device=")).expect("a device cookie on the first login");
    c["qiming_device=".len()..].split(';').next().unwrap().to_string()
}

/// Signs in a freshly imported student (`kid`, as the import listed them),
/// sets their own password and returns a session for it.
async fn signed_in(s: &AppState, kid: &Value) -> String {
    let (username, password) = (kid["username"].as_str().unwrap(), kid["password"].as_str().unwrap());
    let first = login(s, username, password).await;
    let (st, _, _) = call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": password, "new_password": "purple turtle 42"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    login(s, username, "purple turtle 42").await
}

async fn throttling(backend: &str) {
    let s = state(backend, "throttle").await;
    // The owner signs in once from their own browser: it becomes a trusted device.
    let first = login_from(&s, "10.0.0.7", None, "teacher1", "correct horse").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let owners_browser = device_of(&first);
    // Usernames are case-insensitive.
    assert_eq!(login_from(&s, "10.0.0.7", Some(&owners_browser), "Teacher1", "correct horse").await.status, StatusCode::OK);

    // A classmate guesses from another computer: slowed down with growing waits…
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let a = login_from(&s, "10.0.0.66", None, "teacher1", "guess").await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(a.retry_after.is_some_and(|r| r >= 1), "429 carries Retry-After");
            assert_eq!(a.body["error"]["code"], "too_many_requests");
        }
        statuses.push(a.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5], "five free tries: {statuses:?}");
    assert!(statuses[5..].contains(&429), "then back-off: {statuses:?}");
    // …but cannot lock the owner out: the right password from a client that has not failed gets in,
    assert_eq!(login_from(&s, "10.0.0.8", None, "teacher1", "correct horse").await.status, StatusCode::OK);
    // and so does the owner's own browser, even behind the same school router as the guesser.
    assert_eq!(login_from(&s, "10.0.0.66", Some(&owners_browser), "teacher1", "correct horse").await.status, StatusCode::OK);
    // A client that has failed many times is refused even with the right
    // password until its wait is over (failures planted at "now", so the
    // 32 s wait cannot run out while the test runs).
    let now = qiming::serve::now();
    for _ in 0..10 {
        sqlx::query("INSERT INTO login_failures (username, client, ip, at) VALUES ('teacher1', 'ip:10.0.0.77', '10.0.0.77', $1)")
            .bind(now)
            .execute(&s.db.pool)
            .await
            .unwrap();
    }
    let refused = login_from(&s, "10.0.0.77", None, "teacher1", "correct horse").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.retry_after.is_some_and(|r| r > 10), "{:?}", refused.retry_after);

    // Password spraying: one address, many accounts, is slowed too.
    let mut sprayed = Vec::new();
    for i in 0..40 {
        sprayed.push(login_from(&s, "10.0.0.99", None, &format!("user{i}"), "123456").await.status.as_u16());
    }
    assert!(sprayed[..30].iter().all(|&c| c == 401), "{sprayed:?}");
    assert!(sprayed[30..].contains(&429), "spraying is slowed after 30 failures: {sprayed:?}");
    // A different address is not affected.
    assert_eq!(login_from(&s, "10.0.0.100", None, "user1", "123456").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_throttling_slows_guessers_without_locking_owners_out_on_sqlite() {
    throttling("sqlite").await;
}

#[tokio::test]
async fn login_throttling_slows_guessers_without_locking_owners_out_on_postgres() {
    throttling("postgres").await;
}

/// A teacher's unlock (and a reset) clears an account's back-off; a wrong
/// current password at `/api/password` counts like a failed login.
async fn unlock_and_password_change(backend: &str) {
    let s = state(backend, "unlock").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "三班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (st, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n501,小红\n").await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let kid = &created["created"][0];
    let (id, username, password) = (kid["id"].as_i64().unwrap(), kid["username"].as_str().unwrap(), kid["password"].as_str().unwrap());
    for _ in 0..8 {
        login_from(&s, "10.1.1.1", None, username, "wrong-guess").await;
    }
    assert_eq!(login_from(&s, "10.1.1.1", None, username, password).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(call(&s, "POST", &format!("/api/users/{id}/unlock"), Some(&sc.teacher), None).await.0, StatusCode::NO_CONTENT);
    let ok = login_from(&s, "10.1.1.1", None, username, password).await;
    assert_eq!(ok.status, StatusCode::OK, "after the unlock: {}", ok.body);
    let token = ok.body["token"].as_str().unwrap().to_string();

    // Weak new passwords are refused with a reason.
    let with_name = format!("my-{username}-pw");
    for (weak, reason) in
        [("12345678", "common"), ("password1", "common"), (with_name.as_str(), "contains_username"), ("        ", "invisible"), ("short", "length")]
    {
        let (st, body, _) = call(&s, "POST", "/api/password", Some(&token), Some(json!({"current_password": password, "new_password": weak}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{weak:?}: {body}");
        assert_eq!(body["error"]["code"], "weak_password", "{weak:?}: {body}");
        assert_eq!(body["error"]["reason"], reason, "{weak:?}: {body}");
    }
    // Wrong current passwords count: back-off at /api/password as at login.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            call(&s, "POST", "/api/password", Some(&token), Some(json!({"current_password": "not-it", "new_password": "a much better one 42"})))
                .await
                .0
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // A reset lifts it.
    let (st, reset, _) = call(&s, "POST", &format!("/api/users/{id}/reset-password"), Some(&sc.teacher), None).await;
    assert_eq!(st, StatusCode::OK);
    let fresh = reset["password"].as_str().unwrap();
    assert_eq!(login_from(&s, "10.1.1.1", None, username, fresh).await.status, StatusCode::OK);
    // Both actions are audited.
    let actions: Vec<String> =
        sqlx::query("SELECT action FROM audit_log ORDER BY id").fetch_all(&s.db.pool).await.unwrap().iter().map(|r| r.get::<String, _>(0)).collect();
    assert!(actions.contains(&"login_unlock".to_string()) && actions.contains(&"password_reset".to_string()), "{actions:?}");
}

#[tokio::test]
async fn unlock_reset_and_password_policy_on_sqlite() {
    unlock_and_password_change("sqlite").await;
}

#[tokio::test]
async fn unlock_reset_and_password_policy_on_postgres() {
    unlock_and_password_change("postgres").await;
}

#[test]
fn the_password_policy_refuses_what_is_easy_to_guess() {
    use qiming::serve::auth::{WeakPassword, check_new_password};
    assert_eq!(check_new_password("qwertyuiop", "s1-1001"), Err(WeakPassword::Common));
    assert_eq!(check_new_password("woaini1314", "s1-1001"), Err(WeakPassword::Common));
    assert_eq!(check_new_password("11111111", "s1-1001"), Err(WeakPassword::Common));
    assert_eq!(check_new_password("zhangwei2012", "s1-1001"), Err(WeakPassword::Common));
    assert_eq!(check_new_password("5201314", "s1-1001"), Err(WeakPassword::Length));
    assert_eq!(check_new_password("\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}", "x"), Err(WeakPassword::Invisible));
    assert_eq!(check_new_password("xx-S1-1001-yy", "s1-1001"), Err(WeakPassword::ContainsUsername));
    assert_eq!(check_new_password("purple turtle 42", "s1-1001"), Ok(()));
    assert_eq!(check_new_password("我的新密码真的很长", "s1-1001"), Ok(()));
}

/// When every hasher is busy past the deadline, logins get 503 with
/// Retry-After instead of piling up unbounded argon2 allocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_saturated_password_hasher_answers_503_with_retry_after() {
    let mut s = state("sqlite", "busy").await;
    s.passwords = qiming::serve::auth::Passwords::new(1, Duration::from_millis(1));
    let logins: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { login_from(&s, &format!("10.2.0.{i}"), None, "teacher1", "correct horse").await })
        })
        .collect();
    let mut busy = 0;
    for l in logins {
        let a = l.await.unwrap();
        match a.status {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(a.body["error"]["code"], "busy");
                assert!(a.retry_after.is_some(), "503 carries Retry-After");
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert!(busy > 0, "with one hasher and no waiting, parallel logins must be turned away");
}

/// A student's later jobs never delay another student's first.
async fn fair_queue(backend: &str) {
    let s = state(backend, "fair").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "四班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (_, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n601,甲\n602,乙\n").await;
    let mut tokens = Vec::new();
    for kid in created["created"].as_array().unwrap() {
        tokens.push(signed_in(&s, kid).await);
    }
    let (_, asg, _) = call(
        &s,
        "POST",
        &format!("/api/classes/{cid}/assignments"),
        Some(&sc.teacher),
        Some(json!({"lab_id": "wall-stop", "due_at": 4000000000i64, "attempt_limit": 50})),
    )
    .await;
    let path = format!("/api/assignments/{}/submissions", asg["id"]);
    let mut flood = Vec::new();
    for _ in 0..6 {
        let (st, sub, _) = call(&s, "POST", &path, Some(&tokens[0]), Some(json!({"language": "rhai", "program": "loop { }"}))).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{sub}");
        flood.push(sub["id"].as_i64().unwrap());
    }
    let (_, classmate, _) = call(&s, "POST", &path, Some(&tokens[1]), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    let classmate = classmate["id"].as_i64().unwrap();
    // No workers run: claim by hand and look at the order.
    let mut order = Vec::new();
    while let Some(job) = s.db.claim("test-worker", 30).await.unwrap() {
        order.push(job.id);
    }
    assert_eq!(order.len(), 7);
    assert_eq!(order[0], flood[0], "the flooder's first job came first");
    assert_eq!(order[1], classmate, "the classmate's first job is next, before the flooder's second: {order:?}");
    assert_eq!(&order[2..], &flood[1..], "then the rest, oldest first");
}

#[tokio::test]
async fn a_flooding_student_does_not_delay_a_classmate_on_sqlite() {
    fair_queue("sqlite").await;
}

#[tokio::test]
async fn a_flooding_student_does_not_delay_a_classmate_on_postgres() {
    fair_queue("postgres").await;
}

/// Importing the same file again re-issues one-time passwords for students
/// who never signed in (the first answer was lost), writes its audit row in
/// the import's transaction, and still refuses students who did sign in.
async fn roster_reimport(backend: &str) {
    let s = state(backend, "reimport").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "五班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let file = "学号,姓名\n701,赵一\n702,钱二\n";
    let (st, first) = import_roster(&s, &sc.teacher, cid, file).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    let audits = |s: AppState| async move {
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'roster_import'").fetch_one(&s.db.pool).await.unwrap().get::<i64, _>(0)
    };
    assert_eq!(audits(s.clone()).await, 1);
    let (st, again) = import_roster(&s, &sc.teacher, cid, file).await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert_eq!(again["created"].as_array().unwrap().len(), 0);
    let reissued = again["reissued"].as_array().unwrap();
    assert_eq!(reissued.len(), 2, "{again}");
    // The old one-time password no longer works; the new one does.
    let kid = &reissued[0];
    let old = first["created"].as_array().unwrap().iter().find(|c| c["username"] == kid["username"]).unwrap();
    assert_eq!(call(&s, "POST", "/api/login", None, Some(json!({"username": kid["username"], "password": old["password"]}))).await.0, StatusCode::UNAUTHORIZED);
    login(&s, kid["username"].as_str().unwrap(), kid["password"].as_str().unwrap()).await;
    // Now that one has signed in, importing again is refused for that row only.
    let (st, refused) = import_roster(&s, &sc.teacher, cid, file).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let rows = refused["error"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{refused}");
    assert!(rows[0]["message"].as_str().unwrap().contains("signed in"), "{refused}");
    assert_eq!(audits(s.clone()).await, 2, "the refused import wrote no audit row");
}

#[tokio::test]
async fn roster_reimport_reissues_passwords_on_sqlite() {
    roster_reimport("sqlite").await;
}

#[tokio::test]
async fn roster_reimport_reissues_passwords_on_postgres() {
    roster_reimport("postgres").await;
}

#[tokio::test]
async fn api_answers_are_not_cached_or_sniffed_and_duplicate_session_cookies_are_refused() {
    let s = state("sqlite", "headers").await;
    let token = login(&s, "teacher1", "correct horse").await;
    let req = Request::builder().uri("/api/me").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert_eq!(resp.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    let two = Request::builder().uri("/api/me").header(header::COOKIE, format!("qiming_session={token}; qiming_session=planted")).body(Body::empty()).unwrap();
    let (st, body, _) = raw(&s, two).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn metrics_answer_loopback_or_the_configured_token_only() {
    let mut s = state("sqlite", "metrics").await;
    let get = |s: &AppState, ip: &str, token: Option<&str>| {
        let mut req = Request::builder().uri("/metrics");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let mut req = req.body(Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 1)));
        let s = s.clone();
        async move { app(s).oneshot(req).await.unwrap().status() }
    };
    assert_eq!(get(&s, "127.0.0.1", None).await, StatusCode::OK);
    assert_eq!(get(&s, "192.168.1.20", None).await, StatusCode::NOT_FOUND);
    s.metrics_token = Some("scrape-secret".into());
    assert_eq!(get(&s, "192.168.1.20", Some("scrape-secret")).await, StatusCode::OK);
    assert_eq!(get(&s, "192.168.1.20", Some("wrong")).await, StatusCode::NOT_FOUND);
    assert_eq!(get(&s, "127.0.0.1", None).await, StatusCode::NOT_FOUND, "with a token configured, loopback needs it too");
}

#[test]
fn database_passwords_never_reach_errors_or_logs() {
    use qiming::serve::redact;
    assert_eq!(redact("postgres://qiming:s3cret@db.example/qiming"), "postgres://qiming:***@db.example/qiming");
    let message = redact("cannot connect to PostgreSQL at postgres://u:hunter2@h:5432/d (error: password authentication failed)");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!redact("host=db user=u password=hunter2 dbname=x").contains("hunter2"));
    assert!(!redact("postgres://u@h/d?password=hunter2&sslmode=require").contains("hunter2"));
    // Through the real command: a wrong password is reported without it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["worker", "--database-url", "postgres://nobody:hunter2@127.0.0.1:1/none", "--workers", "1"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("***"), "{text}");
}

#[test]
fn too_many_workers_for_the_instance_pool_are_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["worker", "--database-url", "sqlite:///nonexistent/x.db", "--workers", "200"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("200 grading workers") && text.contains("128"), "{text}");
}

#[test]
fn a_weak_admin_password_from_the_environment_is_refused() {
    let dir = std::env::temp_dir().join(format!("qiming-weakadmin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["serve", "--addr", &format!("127.0.0.1:{}", free_port()), "--data-dir", dir.to_str().unwrap()])
        .env("QIMING_ADMIN_PASSWORD", "12345678")
        .env("QIMING_WORKERS", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("QIMING_ADMIN_PASSWORD"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Idle sockets and dripped requests cannot starve the server: with 8
/// connection slots and a 1 s header deadline, 30 idle sockets are dropped
/// and `/healthz` answers; a body dripped past its deadline gets 408.
#[test]
fn idle_and_slow_clients_cannot_hold_the_server() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("qiming-slow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("qiming.toml");
    std::fs::write(&config, "workers = 0\nmax_connections = 8\nheader_timeout_seconds = 1\nbody_timeout_seconds = 1\n").unwrap();
    let port = free_port();
    let log = dir.join("server.log");
    let _server = serve(
        port,
        &["--data-dir", dir.join("data").to_str().unwrap(), "--config", config.to_str().unwrap()],
        &[("QIMING_ADMIN_PASSWORD", "slow-client-test-pw")],
        &log,
    );
    let idle: Vec<_> = (0..30).map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    // Each idle socket is closed by the server within the header deadline.
    let mut closed = 0;
    for mut s in idle.into_iter().take(8) {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 64];
        if matches!(s.read(&mut buf), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 8, "the server closes idle connections");
    let (status, _) = http(port, "GET", "/healthz", None, None).expect("health answers while idle sockets were open");
    assert_eq!(status, 200);
    // A body promised but dripped too slowly.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"user").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408") || answer.is_empty(), "a dripped body is cut off: {answer:?}");
    assert_eq!(http(port, "GET", "/healthz", None, None).unwrap().0, 200);
}

#[tokio::test]
async fn one_user_cannot_open_unbounded_live_streams() {
    let mut s = state("sqlite", "streams").await;
    s.max_streams_per_user = 2;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "六班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (_, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n801,孙三\n").await;
    let kid = &created["created"][0];
    let token = signed_in(&s, kid).await;
    let (_, asg, _) =
        call(&s, "POST", &format!("/api/classes/{cid}/assignments"), Some(&sc.teacher), Some(json!({"lab_id": "wall-stop", "due_at": 4000000000i64}))).await;
    let (_, sub, _) =
        call(&s, "POST", &format!("/api/assignments/{}/submissions", asg["id"]), Some(&token), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    let path = format!("/api/submissions/{}/events", sub["id"]);
    let open = |s: &AppState| {
        let req = Request::builder().uri(&path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
        app(s.clone()).oneshot(req)
    };
    let a = open(&s).await.unwrap();
    let b = open(&s).await.unwrap();
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let c = open(&s).await.unwrap();
    assert_eq!(c.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(a);
    assert_eq!(open(&s).await.unwrap().status(), StatusCode::OK, "a closed stream frees its slot");
    drop(b);
}

#[test]
fn a_run_can_be_cancelled_from_another_thread() {
    use qiming_runtime::{Cancel, Outcome, Program};
    for program in [Program::rhai("loop { let a = [3, 1, 2]; a.sort(); }"), Program::wasm(b"(module (func (export \"run\") (loop (br 0))))".to_vec())] {
        let cancel = Cancel::new();
        let stopper = cancel.clone();
        // Ten simulated minutes: far more than the test waits, so only the cancel can end it early.
        let text = std::fs::read_to_string(repo().join("sim/scenarios/wall.toml")).unwrap().replace("duration = 20.0", "duration = 600.0");
        let scenario = qiming_sim::Scenario::parse(&text, "long-wall.toml").unwrap();
        let handle = std::thread::Builder::new()
            .stack_size(qiming_grading::grade::RUN_STACK)
            .spawn(move || {
                let options = qiming_grading::run::RunOptions { seed: 1, cancel, ..Default::default() };
                qiming_grading::run::run_program(&program, &scenario, &options).report.outcome
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        stopper.cancel();
        let outcome = handle.join().unwrap();
        assert_eq!(outcome, Outcome::Cancelled);
    }
}

#[test]
fn an_expensive_program_is_stopped_by_the_labs_cpu_budget() {
    let lab = qiming_curriculum::Lab::load(&repo().join("curriculum/labs/wall-stop")).unwrap();
    let budget = qiming_grading::grade::cpu_budget(&lab);
    assert!(budget >= Duration::from_secs(2) && budget <= Duration::from_secs(10), "{budget:?}");
    let limits = qiming_grading::grade::lab_limits(&lab, &qiming_runtime::Limits::default());
    assert_eq!(limits.cpu_time, budget, "labs run under their CPU budget, not the 20 s default");
}

#[test]
fn hidden_cases_run_on_seeds_derived_from_the_servers_secret() {
    use qiming_grading::grade::{GradeOptions, grade, hidden_seed};
    let a = [1u8; 32];
    let b = [2u8; 32];
    assert_ne!(hidden_seed(&a, "maze", "hidden-1", 7), 7);
    assert_ne!(hidden_seed(&a, "maze", "hidden-1", 7), hidden_seed(&b, "maze", "hidden-1", 7), "servers differ");
    assert_ne!(hidden_seed(&a, "maze", "hidden-1", 7), hidden_seed(&a, "maze", "hidden-2", 7), "cases differ");
    assert_eq!(hidden_seed(&a, "maze", "hidden-1", 7), hidden_seed(&a, "maze", "hidden-1", 7), "and stay put");
    // Grading with a secret is still deterministic, and the reference still passes.
    let lab = qiming_curriculum::Lab::load(&repo().join("curriculum/labs/wall-stop")).unwrap();
    let program = qiming_runtime::Program::load(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let options = GradeOptions { hidden_secret: Some(a), threads: 1, ..Default::default() };
    let one = crate::support::on_run_thread({
        let (lab, program, options) = (lab.clone(), program.clone(), options.clone());
        move || serde_json::to_string(&grade(&lab, &program, &options)).unwrap()
    });
    let two = crate::support::on_run_thread(move || serde_json::to_string(&grade(&lab, &program, &options)).unwrap());
    assert_eq!(one, two);
    assert!(one.contains("\"score\":100.0"), "{one}");
}

#[test]
fn a_replay_from_a_newer_qiming_is_reported_as_such() {
    use qiming_sim::replay::{Replay, ReplayError};
    let mut future = b"QMRPLY02".to_vec();
    future.extend_from_slice(&[0; 32]);
    assert!(matches!(Replay::from_bytes(&future), Err(ReplayError::Version(2))));
    // Same magic, a newer version inside the header.
    let replay = crate::support::on_run_thread(|| {
        let options = qiming_grading::run::RunOptions { replay: true, ..Default::default() };
        qiming_grading::run::run_program(&qiming_runtime::Program::rhai("stop();"), &crate::support::scenario("wall"), &options).replay.unwrap()
    });
    let mut newer = replay.clone();
    newer.header.version = 9;
    assert!(matches!(Replay::from_bytes(&newer.to_bytes()), Err(ReplayError::Version(9))));
}

/// `qiming backup` while submissions arrive, then `qiming restore`: every
/// submission acknowledged before the backup started is in the restored
/// copy, and the copy is consistent (no acknowledged submission missing
/// below the newest one it holds).
#[test]
fn backup_while_submissions_arrive_and_restore_finds_them() {
    use std::sync::{Arc, Mutex, atomic::AtomicBool, atomic::Ordering};
    let dir = std::env::temp_dir().join(format!("qiming-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let port = free_port();
    let log = dir.join("server.log");
    let _server =
        serve(port, &["--data-dir", data.to_str().unwrap()], &[("QIMING_ADMIN_PASSWORD", crate::crash::ADMIN_PASSWORD), ("QIMING_WORKERS", "1")], &log);
    let (student, aid) = crate::crash::classroom(port, 100);
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let body = json!({"language": "rhai", "program": "stop();"});
                if let Ok((202, v)) = http(port, "POST", &format!("/api/assignments/{aid}/submissions"), Some(&student), Some(&body)) {
                    acknowledged.lock().unwrap().push(v["id"].as_i64().unwrap());
                }
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 5 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let before_backup = acknowledged.lock().unwrap().clone();
    let archive = dir.join("backup.tar.gz");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["backup", "--out", archive.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let all = acknowledged.lock().unwrap().clone();
    assert!(during > before_backup.len(), "submissions kept arriving while the backup ran");
    // Restore refuses the live directory, and works into a new one.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["restore", archive.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already holds"), "{}", String::from_utf8_lossy(&refused.stderr));
    let restored = dir.join("restored");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["restore", archive.to_str().unwrap(), "--data-dir", restored.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(restored.join("hidden-seed.key").is_file(), "the data directory's secret comes along");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ids: Vec<i64> = rt.block_on(async {
        let db = qiming::serve::db::Db::connect(&format!("sqlite://{}", restored.join("qiming.db").display())).await.unwrap();
        sqlx::query("SELECT id FROM submissions ORDER BY id").fetch_all(&db.pool).await.unwrap().iter().map(|r| r.get::<i64, _>(0)).collect()
    });
    for id in &before_backup {
        assert!(ids.contains(id), "submission {id}, acknowledged before the backup, is missing from it");
    }
    let newest = *ids.last().unwrap();
    for id in all.iter().filter(|&&id| id <= newest) {
        assert!(ids.contains(id), "submission {id} is missing below the newest one in the backup: a torn copy");
    }
}

/// A student named like a formula is exported as text, not run by Excel or WPS.
#[tokio::test]
async fn gradebook_csv_neutralises_formula_injection() {
    use qiming::serve::gradebook::csv_safe;
    for (cell, safe) in [("=1+1", "'=1+1"), ("+86", "'+86"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("张三", "张三")] {
        assert_eq!(csv_safe(cell), safe);
    }
    let s = state("sqlite", "csvinj").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "七班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (st, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n901,=HYPERLINK(\"http://x\")\n").await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let req = Request::builder()
        .uri(format!("/api/classes/{cid}/gradebook.csv"))
        .header(header::AUTHORIZATION, format!("Bearer {}", sc.teacher))
        .body(Body::empty())
        .unwrap();
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let text = String::from_utf8(axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains("\"=HYPERLINK"), "{text}");
}

/// Forty children behind one school router sign in at the same moment: all
/// get in — tries still being checked do not count as a password spray.
async fn class_at_once(backend: &str) {
    let s = state(backend, "classatonce").await;
    let hash = qiming::serve::auth::hash_generated_password("sunny-day-2024").unwrap();
    for i in 0..40 {
        s.db.create_user(&format!("kid{i}"), "学生", &hash, "student", false, 0).await.unwrap();
    }
    let logins: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { login_from(&s, "10.9.9.9", None, &format!("kid{i}"), "sunny-day-2024").await.status })
        })
        .collect();
    for l in logins {
        assert_eq!(l.await.unwrap(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_class_signing_in_at_once_from_one_router_gets_in_on_sqlite() {
    class_at_once("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_class_signing_in_at_once_from_one_router_gets_in_on_postgres() {
    class_at_once("postgres").await;
}

/// "Test before submitting": the visible cases graded at once, no attempt
/// spent, nothing stored; the last submitted program comes back with the
/// assignment, for any computer.
async fn test_before_submitting(backend: &str) {
    let s = state(backend, "testrun").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "八班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (_, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n1101,周五\n").await;
    let kid = &created["created"][0];
    let token = signed_in(&s, kid).await;
    let (_, asg, _) = call(
        &s,
        "POST",
        &format!("/api/classes/{cid}/assignments"),
        Some(&sc.teacher),
        Some(json!({"lab_id": "wall-stop", "due_at": 4000000000i64, "attempt_limit": 1})),
    )
    .await;
    let aid = asg["id"].as_i64().unwrap();
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    for _ in 0..3 {
        let (st, report, _) =
            call(&s, "POST", &format!("/api/assignments/{aid}/test"), Some(&token), Some(json!({"language": "rhai", "program": reference}))).await;
        assert_eq!(st, StatusCode::OK, "{report}");
        assert_eq!(report["attempt_spent"], false);
        assert!(report["cases"].as_array().unwrap().iter().all(|c| c["hidden"] == false), "only visible cases: {report}");
        assert!(report["hidden_cases"].as_u64().unwrap() > 0);
        assert!(report["cases"].as_array().unwrap().iter().all(|c| c["passed"] == true), "{report}");
    }
    // A broken program is tested too, with the learner's explanation.
    let (st, broken, _) =
        call(&s, "POST", &format!("/api/assignments/{aid}/test"), Some(&token), Some(json!({"language": "rhai", "program": "motors(0.5, 0.5)\nwait(1);"})))
            .await;
    assert_eq!(st, StatusCode::OK, "{broken}");
    assert_eq!(broken["cases"][0]["run"]["outcome"], "error", "{broken}");
    // No attempt was spent: the one real submission is still available, and nothing was stored.
    let (_, a, _) = call(&s, "GET", &format!("/api/assignments/{aid}"), Some(&token), None).await;
    assert_eq!(a["attempts_used"], 0, "{a}");
    assert!(a["submissions"].as_array().unwrap().is_empty());
    assert!(a.get("last_program").is_none());
    let (st, _, _) =
        call(&s, "POST", &format!("/api/assignments/{aid}/submissions"), Some(&token), Some(json!({"language": "rhai", "program": reference}))).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let (_, a, _) = call(&s, "GET", &format!("/api/assignments/{aid}"), Some(&token), None).await;
    assert_eq!(a["last_program"]["program"], reference.as_str());
    assert_eq!(a["last_program"]["language"], "rhai");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_before_submitting_spends_no_attempt_on_sqlite() {
    test_before_submitting("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_before_submitting_spends_no_attempt_on_postgres() {
    test_before_submitting("postgres").await;
}

/// A whole class gets new one-time passwords at once (slips to reprint).
#[tokio::test]
async fn a_teacher_resets_a_whole_class_at_once() {
    let s = state("sqlite", "classreset").await;
    let sc = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&sc.teacher), Some(json!({"name": "九班"}))).await;
    let cid = class["id"].as_i64().unwrap();
    let (_, created) = import_roster(&s, &sc.teacher, cid, "学号,姓名\n1201,甲\n1202,乙\n1203,丙\n").await;
    let old = created["created"].as_array().unwrap().clone();
    let session = login(&s, old[0]["username"].as_str().unwrap(), old[0]["password"].as_str().unwrap()).await;
    let (st, reset, _) = call(&s, "POST", &format!("/api/classes/{cid}/reset-passwords"), Some(&sc.teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{reset}");
    let fresh = reset["reset"].as_array().unwrap();
    assert_eq!(fresh.len(), 3);
    for (o, n) in old.iter().zip(fresh) {
        assert_eq!(o["username"], n["username"]);
        assert_ne!(o["password"], n["password"]);
        assert_eq!(call(&s, "POST", "/api/login", None, Some(json!({"username": o["username"], "password": o["password"]}))).await.0, StatusCode::UNAUTHORIZED);
    }
    let (_, me, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": fresh[0]["username"], "password": fresh[0]["password"]}))).await;
    assert_eq!(me["user"]["must_change_password"], true);
    assert_eq!(call(&s, "GET", "/api/me", Some(&session), None).await.0, StatusCode::UNAUTHORIZED, "old sessions end");
    let audited: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'class_password_reset'").fetch_one(&s.db.pool).await.unwrap().get(0);
    assert_eq!(audited, 1);
}
