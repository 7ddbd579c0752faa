//! Roster parsing: headers in Chinese or English, every bad row at once, no extra personal data, GB18030 CSV.

use qiming::serve::roster::parse;

#[test]
fn reads_chinese_headers_and_reports_every_bad_row() {
    let ok = parse("\u{feff}学号,姓名\n20230101,张小明\n20230102, 李华 \n".as_bytes(), Some("text/csv")).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1].display_name, "李华");
    let bad = parse(b"student_number,display_name\n1,A\n,B\n1,C\nx y,\n", None).unwrap_err();
    let rows: Vec<(usize, &str)> = bad.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(rows, vec![(3, "student_number"), (4, "student_number"), (5, "student_number"), (5, "display_name")]);
}

/// A school-system export: a title row, extra columns (序号, 性别, even an ID
/// number) — the students are read, the other columns are named back and
/// never read into a row.
#[test]
fn reads_school_system_exports_and_ignores_extra_columns() {
    let export = "2024级五(2)班学生名单,,,,\n序号,学号,姓名,性别,身份证号\n1,20240201,张三,男,110101200001011234\n2,20240202,李四,女,110101200001021234\n";
    let parsed = qiming::serve::roster::parse_all(export.as_bytes(), Some("text/csv"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.ignored_columns, vec!["序号", "性别", "身份证号"]);
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!((parsed.rows[0].row, parsed.rows[0].student_number.as_str(), parsed.rows[0].display_name.as_str()), (3, "20240201", "张三"));
    // Nothing of the ID number survives in what is kept.
    assert!(!format!("{:?}", parsed.rows).contains("1101012000"));
}

/// Gender is read only when the import records it (a school monitoring gender gaps): 男/女 or
/// m/f, empty for not recorded, anything else a row error; the other extra columns stay ignored.
#[test]
fn reads_gender_only_when_asked() {
    let export =
        "序号,学号,姓名,性别,身份证号\n1,20240201,张三,男,110101200001011234\n2,20240202,李四,女,110101200001021234\n3,20240203,王五,,110101200001031234\n";
    let parsed = qiming::serve::roster::parse_all(export.as_bytes(), Some("text/csv"));
    assert!(parsed.rows.iter().all(|r| r.gender.is_none()), "{:?}", parsed.rows);
    let parsed = qiming::serve::roster::parse_with(export.as_bytes(), Some("text/csv"), true);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.ignored_columns, vec!["序号", "身份证号"]);
    let genders: Vec<Option<&str>> = parsed.rows.iter().map(|r| r.gender.as_deref()).collect();
    assert_eq!(genders, [Some("m"), Some("f"), None]);
    let bad = "学号,姓名,gender\n20240201,张三,x\n";
    let parsed = qiming::serve::roster::parse_with(bad.as_bytes(), Some("text/csv"), true);
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!((parsed.errors[0].row, parsed.errors[0].code, parsed.errors[0].field.as_str()), (2, "gender_invalid", "gender"));
}

#[test]
fn reads_gb18030_csv() {
    let (bytes, _, _) = encoding_rs::GB18030.encode("学号,姓名\n7,王芳\n");
    let rows = parse(&bytes, Some("text/csv")).unwrap();
    assert_eq!(rows[0].display_name, "王芳");
}

/// A small XLSX whose shared-strings table unpacks to megabytes is refused
/// before calamine reads it (a 246 KB file once expanded to 103 MB of XML).
#[test]
fn refuses_an_xlsx_whose_parts_unpack_too_far() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "学号").unwrap();
    sheet.write_string(0, 1, "姓名").unwrap();
    // 300 distinct 32,000-character strings: ~9.6 MB of shared strings, a few hundred KB zipped.
    for i in 0..300u32 {
        sheet.write_string(i + 1, 2, format!("{i:05}{}", "x".repeat(32_000))).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    assert!(bytes.len() < 2 << 20, "the bomb is small: {} bytes", bytes.len());
    let errors = parse(&bytes, Some(qiming::serve::roster::XLSX_TYPE)).unwrap_err();
    assert!(errors[0].message.contains("unpacks"), "{errors:?}");
}

/// Old login records and expired sessions are pruned; recent ones stay.
#[tokio::test]
async fn pruning_removes_old_login_records_and_expired_sessions() {
    let s = crate::server::state("sqlite", "prune").await;
    let now = qiming::serve::now();
    for (at, who) in [(now - 3 * 24 * 3600, "old"), (now - 60, "recent")] {
        sqlx::query("INSERT INTO login_failures (username, client, ip, at) VALUES ($1, 'ip:1', '1', $2)").bind(who).bind(at).execute(&s.db.pool).await.unwrap();
    }
    s.db.create_session("expired-hash", "csrf", 1, now - 100, now - 10).await.unwrap();
    s.db.create_session("live-hash", "csrf", 1, now, now + 3600).await.unwrap();
    let removed = s.db.prune(now).await.unwrap();
    assert_eq!(removed, 2);
    use sqlx::Row;
    let left: Vec<String> = sqlx::query("SELECT username FROM login_failures").fetch_all(&s.db.pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec!["recent".to_string()]);
    let sessions: Vec<String> = sqlx::query("SELECT token_hash FROM sessions").fetch_all(&s.db.pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(sessions, vec!["live-hash".to_string()]);
}

// ---------------------------------------------------------------- rosters, accounts and admin on both databases

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::classroom::{School, school};
use crate::server::{call, login, raw_bytes, state};

/// Runs a server test on SQLite and on PostgreSQL.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body("sqlite").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body("postgres").await;
            }
        }
    };
}

async fn audit_actions(s: &qiming::serve::http::AppState, admin: &str) -> Vec<(String, String)> {
    let (_, log, _) = call(s, "GET", "/api/audit", Some(admin), None).await;
    log["entries"].as_array().unwrap().iter().map(|e| (e["action"].as_str().unwrap().to_string(), e["detail"].as_str().unwrap().to_string())).collect()
}

fn codes(e: &Value) -> Vec<String> {
    e["error"]["rows"].as_array().map(|r| r.iter().map(|r| r["code"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

/// One student added by hand: the import's rules and answer; counts follow.
async fn add_one_student(backend: &str) {
    let s = state(backend, "add_student").await;
    let School { admin, school_id, teacher } = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五(3)班"}))).await;
    let path = format!("/api/classes/{}/students", class["id"]);
    let (st, added, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": " 2024101 ", "display_name": "王䶮"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{added}");
    let first = &added["created"][0];
    assert_eq!(first["username"], format!("s{school_id}-2024101"));
    assert_eq!(first["display_name"], "王䶮");
    assert_eq!(first["password"].as_str().unwrap().len(), 14);
    let (_, c, _) = call(&s, "GET", &format!("/api/classes/{}", class["id"]), Some(&teacher), None).await;
    assert_eq!((c["students"].as_i64(), c["roster"].as_array().unwrap().len()), (Some(1), 1), "{c}");
    // The import's checks, with codes the UI translates.
    let (st, e, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "", "display_name": ""}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(codes(&e), vec!["number_empty", "name_empty"]);
    let (st, e, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "20 24", "display_name": "李"}))).await;
    assert_eq!((st, codes(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["number_invalid".to_string()]));
    assert_eq!(e["error"]["rows"][0]["params"]["value"], "20 24");
    // Another child under a number already taken; the same child again (never signed in) gets a new password.
    let (st, e, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "2024101", "display_name": "别人"}))).await;
    assert_eq!((st, codes(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["number_taken".to_string()]));
    let (st, again, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "2024101", "display_name": "王䶮"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert_eq!(again["reissued"][0]["id"], first["id"]);
    assert_ne!(again["reissued"][0]["password"], first["password"]);
    // An optional username of the teacher's choosing, checked like staff names.
    let (st, named, _) =
        call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "2024102", "display_name": "赵敏", "username": "zhaomin"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{named}");
    assert_eq!(named["created"][0]["username"], "zhaomin");
    login(&s, "zhaomin", named["created"][0]["password"].as_str().unwrap()).await;
    for (username, code) in [("li", "username_taken"), ("s99-7", "username_invalid"), ("张", "username_invalid")] {
        let (st, e, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "2024103", "display_name": "钱", "username": username}))).await;
        assert_eq!((st, codes(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec![code.to_string()]), "{username}: {e}");
    }
    let (_, c, _) = call(&s, "GET", &format!("/api/classes/{}", class["id"]), Some(&teacher), None).await;
    assert_eq!(c["students"], 2, "failed adds create nothing");
    let adds: Vec<_> = audit_actions(&s, &admin).await.into_iter().filter(|(a, _)| a == "student_add").collect();
    assert_eq!(adds.len(), 3, "{adds:?}");
    assert!(adds.iter().all(|(_, d)| d.starts_with(&format!("class_id={} user_id=", class["id"]))), "{adds:?}");
}
both!(add_one_student_by_hand, add_one_student);

async fn password_body(s: &qiming::serve::http::AppState, token: &str, body: Value) -> (StatusCode, Value) {
    let (st, v, _) = call(s, "POST", "/api/password", Some(token), Some(body)).await;
    (st, v)
}

/// The forced first change needs only the new password — from the session
/// that signed in with the generated one, and only while the change is due.
async fn forced_change(backend: &str) {
    let s = state(backend, "forced_change").await;
    let School { admin, teacher, .. } = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "六(1)班"}))).await;
    let path = format!("/api/classes/{}/students", class["id"]);
    let (_, added, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"student_number": "1", "display_name": "小红"}))).await;
    let (username, generated) = (added["created"][0]["username"].as_str().unwrap().to_string(), added["created"][0]["password"].as_str().unwrap().to_string());
    let fresh = login(&s, &username, &generated).await;
    let (_, me, _) = call(&s, "GET", "/api/me", Some(&fresh), None).await;
    assert_eq!((me["must_change_password"].as_bool(), me["current_password_required"].as_bool()), (Some(true), Some(false)), "{me}");
    // Still the password policy, and not the generated password again.
    assert_eq!(password_body(&s, &fresh, json!({"new_password": "123"})).await.1["error"]["code"], "weak_password");
    let (st, e) = password_body(&s, &fresh, json!({"new_password": generated})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, e) = password_body(&s, &fresh, json!({"new_password": "Hongxing-2024!"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let (_, me, _) = call(&s, "GET", "/api/me", Some(&fresh), None).await;
    assert_eq!((me["must_change_password"].as_bool(), me["current_password_required"].as_bool()), (Some(false), Some(true)), "{me}");
    // Once changed, the current password is required again, in that same session.
    let (st, e) = password_body(&s, &fresh, json!({"new_password": "Another-one-2024"})).await;
    assert_eq!((st, e["error"]["message"].as_str().unwrap_or("").contains("current_password")), (StatusCode::BAD_REQUEST, true), "{e}");
    let (st, _) = password_body(&s, &fresh, json!({"current_password": "Hongxing-2024!", "new_password": "Another-one-2024"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    // A session that did not sign in with the generated password must still type the current one,
    // even when the change becomes due (here: an admin's flag set while the session was open).
    let staff = login(&s, "li", "teacher-password").await;
    sqlx::query("UPDATE users SET must_change_password = 1 WHERE username = 'li'").execute(&s.db.pool).await.unwrap();
    let (_, me, _) = call(&s, "GET", "/api/me", Some(&staff), None).await;
    assert_eq!((me["must_change_password"].as_bool(), me["current_password_required"].as_bool()), (Some(true), Some(true)), "{me}");
    let (st, _) = password_body(&s, &staff, json!({"new_password": "Teacher-new-2024"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = password_body(&s, &staff, json!({"current_password": "teacher-password", "new_password": "Teacher-new-2024"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    // Audited, and which way it went.
    let changes: Vec<String> = audit_actions(&s, &admin).await.into_iter().filter(|(a, _)| a == "password_change").map(|(_, d)| d).collect();
    assert_eq!(changes.iter().filter(|d| d.contains("signed_in_with_generated")).count(), 1, "{changes:?}");
    assert_eq!(changes.len(), 3, "{changes:?}");
}
both!(forced_change_needs_no_current_password_only_when_fresh, forced_change);

/// A deactivated account cannot sign in, its sessions end, it is listed as
/// such, and it comes back with its password when reactivated.
async fn deactivate(backend: &str) {
    let s = state(backend, "deactivate").await;
    let School { admin, teacher, .. } = school(&s).await;
    let (_, found, _) = call(&s, "GET", "/api/users?q=li", Some(&admin), None).await;
    let li = found["users"].as_array().unwrap().iter().find(|u| u["username"] == "li").unwrap()["id"].as_i64().unwrap();
    let (st, _, _) = call(&s, "POST", &format!("/api/users/{li}/deactivate"), Some(&admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _, _) = call(&s, "GET", "/api/me", Some(&teacher), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the session ended");
    let (st, e, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "li", "password": "teacher-password"}))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("account_deactivated")), "{e}");
    // A wrong password still reads as a wrong password (nothing learnt without it).
    let (st, _, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "li", "password": "nope-nope"}))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, found, _) = call(&s, "GET", "/api/users?q=li", Some(&admin), None).await;
    assert_eq!(found["users"][0]["deactivated"], true, "{found}");
    let (st, _, _) = call(&s, "POST", &format!("/api/users/{li}/reactivate"), Some(&admin), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    login(&s, "li", "teacher-password").await;
    let actions: Vec<String> = audit_actions(&s, &admin).await.into_iter().map(|(a, _)| a).collect();
    assert!(actions.contains(&"user_deactivate".into()) && actions.contains(&"user_reactivate".into()), "{actions:?}");
}
both!(deactivated_accounts_cannot_sign_in, deactivate);

/// Regions and schools that still hold something are not deleted, and the
/// refusal lists what is inside; empty ones go.
async fn delete_refusals(backend: &str) {
    let s = state(backend, "delete_refusals").await;
    let School { admin, school_id, teacher } = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "一(1)班"}))).await;
    let (st, e, _) = call(&s, "DELETE", &format!("/api/schools/{school_id}"), Some(&admin), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_empty")), "{e}");
    assert_eq!(e["error"]["contents"]["classes"]["names"], json!(["一(1)班"]));
    assert_eq!(e["error"]["contents"]["people"]["teacher"], 1);
    // The city holds the district, the district holds the school.
    let (_, regions, _) = call(&s, "GET", "/api/regions", Some(&admin), None).await;
    let id_of = |name: &str| regions["regions"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].as_i64().unwrap();
    let (city, district) = (id_of("杭州市"), id_of("西湖区"));
    let (st, e, _) = call(&s, "DELETE", &format!("/api/regions/{city}"), Some(&admin), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(e["error"]["contents"]["regions"]["names"], json!(["西湖区"]));
    let (_, e, _) = call(&s, "DELETE", &format!("/api/regions/{district}"), Some(&admin), None).await;
    assert_eq!(e["error"]["contents"]["schools"]["names"], json!(["启明小学"]), "{e}");
    // No loops; renames are audited.
    let (st, _, _) = call(&s, "PATCH", &format!("/api/regions/{city}"), Some(&admin), Some(json!({"parent_id": district}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, r, _) = call(&s, "PATCH", &format!("/api/schools/{school_id}"), Some(&admin), Some(json!({"name": "启明实验小学"}))).await;
    assert_eq!((st, r["name"].as_str()), (StatusCode::OK, Some("启明实验小学")));
    // Only the platform admin edits schools.
    let (st, _, _) = call(&s, "PATCH", &format!("/api/schools/{school_id}"), Some(&teacher), Some(json!({"name": "X"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Emptied, they go: the class, the teacher, the school, then the regions.
    sqlx::query("DELETE FROM classes WHERE id = $1").bind(class["id"].as_i64().unwrap()).execute(&s.db.pool).await.unwrap();
    let (_, users, _) = call(&s, "GET", &format!("/api/users?school_id={school_id}"), Some(&admin), None).await;
    for u in users["users"].as_array().unwrap() {
        let (st, e, _) = call(&s, "DELETE", &format!("/api/users/{}", u["id"]), Some(&admin), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    }
    for path in [format!("/api/schools/{school_id}"), format!("/api/regions/{district}"), format!("/api/regions/{city}")] {
        let (st, e, _) = call(&s, "DELETE", &path, Some(&admin), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{path}: {e}");
    }
    let actions: Vec<String> = audit_actions(&s, &admin).await.into_iter().map(|(a, _)| a).collect();
    for a in ["school_update", "school_delete", "region_delete", "user_delete"] {
        assert!(actions.contains(&a.to_string()), "{a} not audited: {actions:?}");
    }
}
both!(non_empty_regions_and_schools_are_not_deleted, delete_refusals);

/// Search and pages on the server: `total` counts every match.
async fn search_and_pages(backend: &str) {
    let s = state(backend, "search_pages").await;
    let School { admin, school_id, .. } = school(&s).await;
    for i in 1..=12 {
        let (st, v, _) = call(
            &s,
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"username": format!("t-{i}"), "display_name": format!("老师{i}"), "role": "teacher", "school_id": school_id, "password": "staff-password"})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let get = |q: String| {
        let s = s.clone();
        let admin = admin.clone();
        async move {
            let (st, v, _) = call(&s, "GET", &format!("/api/users?{q}"), Some(&admin), None).await;
            assert_eq!(st, StatusCode::OK, "{q}: {v}");
            let names: Vec<String> = v["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
            (v["total"].as_i64().unwrap(), names)
        }
    };
    assert_eq!(get("q=T-1".into()).await, (4, vec!["t-1".into(), "t-10".into(), "t-11".into(), "t-12".into()]));
    // Display names too (老师1, 老师10, 老师11, 老师12).
    assert_eq!(get(format!("q={}", "%E8%80%81%E5%B8%881")).await.0, 4);
    // The whole school's teachers (li and twelve), five a page.
    let (total, page3) = get(format!("school_id={school_id}&role=teacher&per_page=5&page=3")).await;
    assert_eq!((total, page3.len()), (13, 3));
    // `%` and `_` are literal, not wildcards.
    assert_eq!(get("q=%25".into()).await, (0, vec![]));
    assert_eq!(get("q=t_1".into()).await.0, 0);
    let (st, e, _) = call(&s, "GET", "/api/users?per_page=0", Some(&admin), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    // Schools have pages and a search too.
    let (_, schools, _) = call(&s, "GET", "/api/schools?q=%E5%90%AF%E6%98%8E&per_page=1", Some(&admin), None).await;
    assert_eq!((schools["total"].as_i64(), schools["schools"][0]["people"].as_i64()), (Some(1), Some(13)), "{schools}");
}
both!(user_search_and_pagination, search_and_pages);

/// A school admin may give only the roles the server says, and the server holds them to it.
async fn assignable_roles(backend: &str) {
    let s = state(backend, "roles").await;
    let School { admin, school_id, .. } = school(&s).await;
    let (_, me, _) = call(&s, "GET", "/api/me", Some(&admin), None).await;
    assert_eq!(me["may_assign_roles"], json!(["teacher", "school_admin", "organiser", "platform_admin"]));
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "zhang", "display_name": "张校长", "role": "school_admin", "school_id": school_id, "password": "staff-password"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let head = login(&s, "zhang", "staff-password").await;
    let (_, me, _) = call(&s, "GET", "/api/me", Some(&head), None).await;
    assert_eq!(me["may_assign_roles"], json!(["teacher", "school_admin"]));
    let (_, teacher_me, _) = call(&s, "GET", "/api/me", Some(&login(&s, "li", "teacher-password").await), None).await;
    assert_eq!(teacher_me["may_assign_roles"], json!([]));
    let (st, _, _) = call(&s, "POST", "/api/users", Some(&head), Some(json!({"username": "org", "display_name": "O", "role": "organiser"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, list, _) = call(&s, "GET", "/api/users?q=li", Some(&head), None).await;
    let li = list["users"][0]["id"].as_i64().unwrap();
    for role in ["organiser", "platform_admin"] {
        let (st, e, _) = call(&s, "PATCH", &format!("/api/users/{li}"), Some(&head), Some(json!({"role": role}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{role}: {e}");
    }
    // A school admin moves no one to another school; a rename is fine and audited.
    let (st, _, _) = call(&s, "PATCH", &format!("/api/users/{li}"), Some(&head), Some(json!({"school_id": null}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{li}"), Some(&head), Some(json!({"display_name": "李明老师"}))).await;
    assert_eq!((st, v["user"]["display_name"].as_str()), (StatusCode::OK, Some("李明老师")), "{v}");
    let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{li}"), Some(&head), Some(json!({"role": "school_admin"}))).await;
    assert_eq!((st, v["user"]["role"].as_str()), (StatusCode::OK, Some("school_admin")), "{v}");
    let updates: Vec<String> = audit_actions(&s, &admin).await.into_iter().filter(|(a, _)| a == "user_update").map(|(_, d)| d).collect();
    assert_eq!(updates, vec![format!("user_id={li} fields=role"), format!("user_id={li} fields=display_name")]);
}
both!(school_admins_assign_only_their_roles, assignable_roles);

// ---------------------------------------------------------------- 账号卡 layout

/// Whether the fallback font for CJK Extension A is here; CI installs it (fonts-hanazono), so there it must be.
fn has_rare_font() -> bool {
    let found = qiming::serve::slips::FALLBACK_FONTS.iter().any(|p| std::path::Path::new(p).is_file());
    assert!(found || std::env::var_os("CI").is_none(), "CI needs a CJK Extension A font (fonts-hanazono) for 账号卡");
    found && crate::classroom::has_cjk_font()
}

/// A 30-character name wraps inside the card (never wider than its place),
/// 䶮 (U+4DAE, CJK Extension A) comes from a fallback font, and a character
/// no font has is drawn as □ and reported.
#[test]
fn account_card_names_wrap_and_rare_characters_fall_back() {
    use qiming::serve::slips::{FontSet, NAME_SIZES, NAME_W, PLACEHOLDER};
    if !has_rare_font() {
        eprintln!("skipping: no CJK Extension A font here");
        return;
    }
    let fonts = FontSet::standard(None).unwrap();
    let name = "欧阳䶮明月星辰大海山川河流湖泊江南塞北东西南北中发白龙春夏秋";
    assert_eq!(name.chars().count(), 30);
    let (max, min, lines) = NAME_SIZES;
    let block = fonts.layout(name, NAME_W, max, min, lines);
    assert!(block.lines.len() <= lines && block.lines.len() > 1, "{block:?}");
    assert!(block.size < max, "a long name is shrunk: {}", block.size);
    for line in &block.lines {
        assert!(line.width <= NAME_W + 0.01, "a line of {} pt in {NAME_W} pt: {}", line.width, line.text());
    }
    let all: String = block.lines.iter().map(|l| l.text()).collect();
    assert_eq!(all, name, "nothing dropped, nothing cut");
    let rare = block.lines.iter().flat_map(|l| &l.runs).find(|r| r.text.contains('䶮')).unwrap();
    assert_eq!(rare.text, "䶮", "only the rare character switches font");
    assert_ne!(rare.font, 0, "drawn with a fallback font ({})", fonts.path(rare.font).display());
    assert_eq!(fonts.font_for('欧'), Some(0));
    assert!(block.missing.is_empty());
    // Latin text breaks between words, and a name that cannot fit even small is cut with "…", inside the card.
    let long = "Maximilian Alexander Christopher Montgomery-Worthington the Third of Somewhere";
    let block = fonts.layout(long, NAME_W, max, min, lines);
    assert_eq!(block.size, min);
    assert!(block.lines.iter().all(|l| l.width <= NAME_W + 0.01));
    assert!(block.lines[1].text().ends_with('…'), "{:?}", block.lines[1].text());
    assert!(block.lines[0].text().starts_with("Maximilian Alexander"), "{:?}", block.lines[0].text());
    // No font has U+10FFFD: a visible placeholder, reported.
    let block = fonts.layout("王\u{10FFFD}", NAME_W, max, min, lines);
    assert_eq!(block.missing, vec!['\u{10FFFD}']);
    assert!(block.lines[0].text().contains(PLACEHOLDER), "{:?}", block.lines[0].text());
}

/// Through the API: the address from the request's Host goes on the card,
/// and characters no font has are named in a header.
#[tokio::test]
async fn account_cards_report_missing_characters() {
    if !has_rare_font() {
        return;
    }
    let s = state("sqlite", "cards").await;
    let School { teacher, .. } = school(&s).await;
    let body = json!({"title": "五(2)班", "students": [
        {"display_name": "欧阳䶮", "username": "s1-1", "password": "abcdefghjkmnpq", "student_number": "1"},
        {"display_name": "王\u{10FFFD}", "username": "s1-2", "password": "abcdefghjkmnpq"}]});
    let req = |body: &Value| {
        Request::builder()
            .method("POST")
            .uri("/api/login-slips")
            .header(header::HOST, "192.168.1.10:8080")
            .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let resp = tower::ServiceExt::oneshot(qiming::serve::http::app(s.clone()), req(&body)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("x-qiming-missing-glyphs").unwrap(), "U+10FFFD");
    assert!(resp.headers().get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap().contains("account-cards.pdf"));
    let pdf = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // Over-long fields are refused, not squeezed.
    let (st, _, _) = raw_bytes(&s, req(&json!({"students": [{"display_name": "x".repeat(65), "username": "u", "password": "p"}]}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
