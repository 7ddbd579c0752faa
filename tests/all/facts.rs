//! Facts the web UI takes from the server instead of keeping copies: what
//! each role may do (`/api/me`'s `can`, held against the authorisation
//! matrix), the engine's palette and tick rate in replay payloads, and the
//! size limit of programs in lab payloads — on both databases.

use axum::http::StatusCode;
use qiming::serve::work::MAX_PROGRAM;
use serde_json::{Value, json};

use crate::authz::{MATRIX, ROLES, World, setup};
use crate::server::{call, state};

/// Each capability and the matrix row that shows it.
const SHOWN_BY: &[(&str, &str, &str)] = &[
    ("staff", "GET", "/api/regions"),
    ("manage_classes", "POST", "/api/classes"),
    ("manage_users", "GET", "/api/users"),
    ("view_audit", "GET", "/api/audit"),
    ("manage_schools", "POST", "/api/schools"),
    ("submit", "POST", "/api/assignments/{a}/submissions"),
];

/// Whether the matrix lets a role (`student`, `teacher`… — the matrix has
/// two callers of some roles, `_b` for another class or school) use the
/// route: some caller of that role gets an answer other than 401, 403 or
/// 404 (a 404 hides what that caller may not see; a 400 asks for more).
fn allowed(method: &str, path: &str, role: &str) -> bool {
    let (_, _, _, statuses) = MATRIX.iter().find(|(m, p, _, _)| *m == method && *p == path).unwrap_or_else(|| panic!("{method} {path} is not in the matrix"));
    statuses.split_whitespace().zip(ROLES).any(|(status, caller)| caller.trim_end_matches("_b") == role && !["401", "403", "404"].contains(&status))
}

fn id(world: &World, key: &str) -> String {
    world.ids.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("no {key} in the world")).1.clone()
}

async fn facts(backend: &str) {
    let s = state(backend, "facts").await;
    let world = setup(&s).await;

    // /api/me tells every role exactly what the matrix lets it do.
    for (i, role) in ROLES.iter().enumerate() {
        let Some(token) = &world.tokens[i] else { continue };
        let (st, me, _) = call(&s, "GET", "/api/me", Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{me}");
        let can = me["can"].as_object().unwrap_or_else(|| panic!("/api/me as {role} has no `can`: {me}"));
        let kind = role.trim_end_matches("_b");
        let mut expected: Vec<(&str, bool)> = SHOWN_BY.iter().map(|(name, m, p)| (*name, allowed(m, p, kind))).collect();
        // The administration pages are for staff above a single class: those
        // who manage accounts, and those who have no classes (organisers).
        let has_no_classes = !allowed("GET", "/api/classes", kind);
        expected.push(("admin", allowed("GET", "/api/regions", kind) && (allowed("GET", "/api/users", kind) || has_no_classes)));
        let mut names: Vec<&str> = can.keys().map(String::as_str).collect();
        let mut known: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        known.sort_unstable();
        assert_eq!(names, known, "every capability in /api/me must be held against the matrix here");
        for (name, want) in expected {
            assert_eq!(can[name], json!(want), "/api/me as {role}: can.{name}");
        }
    }

    // The replay payload carries the engine's palette and tick rate.
    let student = world.tokens[ROLES.iter().position(|r| *r == "student").unwrap()].clone().unwrap();
    let (st, r, _) = call(&s, "GET", &format!("/api/submissions/{}/replays/{}", id(&world, "s"), id(&world, "case")), Some(&student), None).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let w = &r["world"];
    assert_eq!(w["tick_rate"], json!(qiming_sim::TICK_HZ));
    assert_eq!(w["dt"], json!(qiming_sim::TICK));
    assert_eq!(r["replay"]["tick_hz"], json!(qiming_sim::TICK_HZ), "frames are ticks");
    let palette = w["palette"].as_object().expect("palette");
    assert_eq!(palette.len(), qiming_sim::color::PALETTE.len());
    for (name, [red, green, blue]) in qiming_sim::color::PALETTE {
        assert_eq!(palette[*name], json!(format!("#{red:02x}{green:02x}{blue:02x}")), "{name}");
    }
    assert!(palette.contains_key(w["floor"].as_str().unwrap()), "the floor's colour is in the palette");

    // Lab payloads carry the size limit, and the server holds programs to it.
    let (_, labs, _) = call(&s, "GET", "/api/labs", Some(&student), None).await;
    let labs = labs["labs"].as_array().unwrap();
    assert!(!labs.is_empty());
    for lab in labs {
        let max = lab["limits"]["max_program_bytes"].as_u64().unwrap_or_else(|| panic!("{}: no limits.max_program_bytes", lab["id"]));
        assert!(max > 0 && max <= MAX_PROGRAM as u64, "{}: {max}", lab["id"]);
        assert!(lab["limits"]["cpu_seconds"].as_f64().unwrap() > 0.0);
    }
    let aid = id(&world, "a");
    let (_, a, _) = call(&s, "GET", &format!("/api/assignments/{aid}"), Some(&student), None).await;
    let lab_id = a["lab_id"].as_str().unwrap();
    let listed: &Value = labs.iter().find(|l| l["id"] == lab_id).unwrap();
    assert_eq!(a["lab"]["limits"], listed["limits"]);
    let max = a["lab"]["limits"]["max_program_bytes"].as_u64().unwrap() as usize;
    let program = |len: usize| json!({"language": "rhai", "program": format!("stop();{}", " ".repeat(len - 7))});
    let submit = format!("/api/assignments/{aid}/submissions");
    let (st, e, _) = call(&s, "POST", &submit, Some(&student), Some(program(max + 1))).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");
    let (st, sub, _) = call(&s, "POST", &submit, Some(&student), Some(program(max))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "a program of exactly the limit is taken: {sub}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_from_the_server_on_sqlite() {
    facts("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_from_the_server_on_postgres() {
    facts("postgres").await;
}
