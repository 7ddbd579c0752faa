//! Automated test assembly (`grading::assembly`, `qiming assemble`): forms
//! meet every blueprint constraint (checked here from the items, not from
//! the solver's summary), parallel forms share exactly their anchors, enemies
//! and exposure limits hold, infeasible blueprints name the constraint, and
//! the same input gives the same forms.

use std::collections::BTreeSet;
use std::process::Command;

use qiming_curriculum::{Catalogue, Item};
use qiming_grading::assembly::{Assembly, Blueprint, Infeasible, Outcome, TYPE_SECONDS, assemble};

use crate::support::repo;

fn items() -> Vec<Item> {
    Catalogue::open(&repo().join("curriculum")).expect("the shipped catalogue loads").items.items
}

fn midterm(items: &[Item]) -> Blueprint {
    Blueprint::from_file(&repo().join("examples/blueprints/grade-5-6-midterm.toml"), items).expect("the example blueprint parses")
}

fn assembled(outcome: Outcome) -> Assembly {
    match outcome {
        Outcome::Assembled(a) => a,
        Outcome::Infeasible(i) => panic!("expected forms, got {i:#?}"),
    }
}

fn infeasible(outcome: Outcome) -> Infeasible {
    match outcome {
        Outcome::Infeasible(i) => i,
        Outcome::Assembled(a) => panic!("expected an infeasibility report, got forms {:?}", a.forms.iter().map(|f| &f.items).collect::<Vec<_>>()),
    }
}

/// 3PL information written out again here, so the check does not trust the library's.
fn information(item: &Item, theta: f64) -> f64 {
    let (a, b, c) = (item.discrimination.unwrap_or(1.0), item.difficulty, item.guessing.unwrap_or(0.0));
    let p = c + (1.0 - c) / (1.0 + (-a * (theta - b)).exp());
    let q = 1.0 - p;
    a * a * (q / p) * ((p - c) / (1.0 - c)).powi(2)
}

fn seconds(item: &Item) -> u32 {
    TYPE_SECONDS.iter().find(|(t, _)| *t == item.kind.name()).expect("every type has a time").1
}

/// Asserts a form meets every constraint of the blueprint, computed from the items.
fn assert_meets(bp: &Blueprint, bank: &[Item], ids: &[String]) {
    let set: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "an item appears twice: {ids:?}");
    assert_eq!(ids.len(), bp.length as usize);
    let form: Vec<&Item> = ids.iter().map(|id| bank.iter().find(|i| &i.id == id).expect("the item is in the bank")).collect();
    for i in &form {
        assert_eq!(i.population, bp.population, "{}", i.id);
        assert!(bp.grade_band.is_none() || i.grade_band == bp.grade_band, "{} is for grade band {:?}", i.id, i.grade_band);
        assert!(bp.statuses.contains(&i.status), "{} is {}", i.id, i.status);
        assert!(bp.max_exposure.is_none_or(|m| i.exposure <= m), "{} is over-exposed", i.id);
    }
    for rule in &bp.counts {
        let n = form
            .iter()
            .filter(|i| match rule.category.table() {
                "literacy" => i.literacy == rule.key,
                "module" => i.module.as_deref() == Some(rule.key.as_str()),
                "difficulty" => {
                    let band = if i.difficulty < bp.easy_below {
                        "easy"
                    } else if i.difficulty > bp.hard_above {
                        "hard"
                    } else {
                        "medium"
                    };
                    band == rule.key
                }
                "type" => i.kind.name() == rule.key,
                other => panic!("unknown table {other}"),
            })
            .count() as u32;
        assert!(rule.min.is_none_or(|m| n >= m) && rule.max.is_none_or(|m| n <= m), "{}.{}: {n} items, rule {rule:?}", rule.category.table(), rule.key);
    }
    let time: u32 = form.iter().map(|i| seconds(i)).sum();
    assert!(bp.max_seconds.is_none_or(|m| time <= m) && bp.min_seconds.is_none_or(|m| time >= m), "time {time} s");
    for t in &bp.information {
        let info: f64 = form.iter().map(|i| information(i, t.theta)).sum();
        assert!(info >= t.min - 1e-9, "information {info} at θ = {} is below {}", t.theta, t.min);
    }
    for group in &bp.enemies {
        let n = form.iter().filter(|i| group.contains(&i.id)).count();
        assert!(n <= 1, "enemy group {group:?} has {n} items on the form");
    }
}

#[test]
fn a_realistic_40_item_blueprint_is_met_exactly() {
    let bank = items();
    let bp = midterm(&bank);
    assert_eq!((bp.length, bp.counts.len(), bp.information.len(), bp.enemies.len()), (40, 12, 3, 2));
    let a = assembled(assemble(&bp, &bank).expect("assembles"));
    assert_eq!(a.forms.len(), 1);
    assert!(a.anchors.is_empty(), "anchors count only with parallel forms");
    let form = &a.forms[0];
    assert_meets(&bp, &bank, &form.items);
    // The summary agrees with the items.
    let time: u32 = form.items.iter().map(|id| seconds(bank.iter().find(|i| &i.id == id).unwrap())).sum();
    assert_eq!(form.summary.time_seconds, time);
    assert_eq!(form.summary.literacy.values().sum::<u32>(), 40);
    // Easy first.
    let b: Vec<f64> = form.items.iter().map(|id| bank.iter().find(|i| &i.id == id).unwrap().difficulty).collect();
    assert!(b.windows(2).all(|w| w[0] <= w[1]), "items are ordered by difficulty: {b:?}");
}

#[test]
fn two_parallel_forms_share_exactly_the_anchors() {
    let bank = items();
    let mut bp = midterm(&bank);
    bp.forms = 2;
    let a = assembled(assemble(&bp, &bank).expect("assembles"));
    assert_eq!(a.forms.len(), 2);
    assert_eq!(a.anchors.len(), 8);
    for f in &a.forms {
        assert_meets(&bp, &bank, &f.items);
        assert_eq!(f.anchors, a.anchors);
    }
    let one: BTreeSet<&String> = a.forms[0].items.iter().collect();
    let two: BTreeSet<&String> = a.forms[1].items.iter().collect();
    let shared: BTreeSet<&String> = one.intersection(&two).copied().collect();
    let anchors: BTreeSet<&String> = a.anchors.iter().collect();
    assert_eq!(shared, anchors, "the forms share the anchors and nothing else");
}

/// A 20-item 5-6 form whose enemy groups pair the most informative items,
/// the ones the objective most wants together.
fn enemy_blueprint(bank: &[Item]) -> (Blueprint, Vec<Vec<String>>) {
    let mut best: Vec<&Item> = bank.iter().filter(|i| i.grade_band.as_deref() == Some("5-6") && i.status == "live").collect();
    best.sort_by(|a, b| information(b, 0.0).total_cmp(&information(a, 0.0)).then_with(|| a.id.cmp(&b.id)));
    let groups: Vec<Vec<String>> = best[..24].chunks(3).map(|c| c.iter().map(|i| i.id.clone()).collect()).collect();
    let list: Vec<String> = groups.iter().map(|g| format!("[{}]", g.iter().map(|id| format!("{id:?}")).collect::<Vec<_>>().join(", "))).collect();
    let text = format!(
        "format_version = 1\npopulation = \"student\"\ngrade_band = \"5-6\"\nlength = 20\nenemies = [{}]\n[[information]]\ntheta = 0.0\nmin = 3.0\n",
        list.join(", ")
    );
    (Blueprint::parse("enemies.toml", &text, bank).expect("parses"), groups)
}

#[test]
fn enemy_items_never_appear_together() {
    let bank = items();
    let (bp, groups) = enemy_blueprint(&bank);
    let a = assembled(assemble(&bp, &bank).expect("assembles"));
    let form = &a.forms[0].items;
    assert_meets(&bp, &bank, form);
    for g in &groups {
        let n = form.iter().filter(|id| g.contains(id)).count();
        assert_eq!(n, 1, "the form takes exactly one of each group of the most informative items {g:?}: {form:?}");
    }
}

#[test]
fn the_exposure_limit_is_respected() {
    let mut bank = items();
    let bp = midterm(&bank);
    let plain = assembled(assemble(&bp, &bank).expect("assembles"));
    // The items the unconstrained form chose have been shown too often.
    let chosen: Vec<String> = plain.forms[0].items[..12].to_vec();
    for i in bank.iter_mut().filter(|i| chosen.contains(&i.id)) {
        i.exposure = 2001;
    }
    let a = assembled(assemble(&bp, &bank).expect("assembles"));
    assert_eq!(a.pool.excluded_exposure, 12);
    assert_meets(&bp, &bank, &a.forms[0].items);
    assert!(a.forms[0].items.iter().all(|id| !chosen.contains(id)), "over-exposed items were used");
}

fn student_blueprint(bank: &[Item], extra: &str) -> Blueprint {
    let text = format!("format_version = 1\npopulation = \"student\"\ngrade_band = \"5-6\"\nlength = 40\n{extra}");
    Blueprint::parse("test.toml", &text, bank).expect("parses")
}

#[test]
fn an_infeasible_blueprint_names_the_constraint() {
    let bank = items();
    let live_sr = bank.iter().filter(|i| i.grade_band.as_deref() == Some("5-6") && i.status == "live" && i.literacy == "social-responsibility").count();
    // A count.
    let r = infeasible(assemble(&student_blueprint(&bank, "[literacy.social-responsibility]\nmin = 25\n"), &bank).unwrap());
    assert_eq!(r.stage, "alone");
    assert_eq!(r.problems.len(), 1);
    let p = &r.problems[0];
    assert_eq!((p.code.as_str(), p.constraint.as_str()), ("count_min_unreachable", "literacy.\"social-responsibility\".min"));
    assert_eq!((p.needed, p.available), (25.0, live_sr as f64));
    assert!(p.text.zh.contains("信息社会责任") && p.text.zh.contains(&live_sr.to_string()), "{}", p.text.zh);
    assert!(p.text.en.contains(&format!("has {live_sr}")), "{}", p.text.en);
    // Time.
    let r = infeasible(assemble(&student_blueprint(&bank, "[time]\nmax_minutes = 15\n"), &bank).unwrap());
    assert_eq!((r.problems[0].code.as_str(), r.problems[0].constraint.as_str()), ("time_max_unreachable", "time.max_minutes"));
    // Information.
    let r = infeasible(assemble(&student_blueprint(&bank, "[[information]]\ntheta = 0.0\nmin = 12.0\n"), &bank).unwrap());
    assert_eq!((r.problems[0].code.as_str(), r.problems[0].constraint.as_str()), ("information_unreachable", "information[0].min"));
    assert!(r.problems[0].available < 12.0 && r.problems[0].available > 5.0);
    // Enemies: one group of 40 items leaves too few for a 40-item form.
    let ids: Vec<String> =
        bank.iter().filter(|i| i.grade_band.as_deref() == Some("5-6") && i.status == "live").take(40).map(|i| format!("{:?}", i.id)).collect();
    let r = infeasible(assemble(&student_blueprint(&bank, &format!("enemies = [[\"ct-56-001\", \"ct-56-002\"], [{}]]\n", ids.join(", "))), &bank).unwrap());
    assert_eq!(r.problems.len(), 1, "{r:#?}");
    assert_eq!((r.problems[0].code.as_str(), r.problems[0].constraint.as_str()), ("enemies_unreachable", "enemies[1]"));
    // Each alone is fine, together they ask for 45 of 40 items: relaxing any one is enough.
    let three = "[literacy.computational-thinking]\nmin = 15\n[literacy.digital-learning]\nmin = 15\n[literacy.information-awareness]\nmin = 15\n";
    let r = infeasible(assemble(&student_blueprint(&bank, three), &bank).unwrap());
    assert_eq!(r.stage, "relax_one");
    let named: Vec<&str> = r.problems.iter().map(|p| p.constraint.as_str()).collect();
    assert_eq!(named, ["literacy.\"computational-thinking\".min", "literacy.\"digital-learning\".min", "literacy.\"information-awareness\".min"]);
    assert!(r.problems.iter().all(|p| p.code == "conflict"));
    // Time and information together: the most informative items are not quick enough.
    let r = infeasible(assemble(&student_blueprint(&bank, "[time]\nmax_minutes = 34\n[[information]]\ntheta = 0.0\nmin = 9.8\n"), &bank).unwrap());
    let named: BTreeSet<&str> = r.problems.iter().map(|p| p.constraint.as_str()).collect();
    assert_eq!(named, BTreeSet::from(["time.max_minutes", "information[0].min"]), "{r:#?}");
    // Both conflicts at once: no single relaxation helps, the elastic model names a set.
    let r =
        infeasible(assemble(&student_blueprint(&bank, &format!("{three}[time]\nmax_minutes = 34\n[[information]]\ntheta = 0.0\nmin = 9.8\n")), &bank).unwrap());
    assert_eq!(r.stage, "relax_set", "{r:#?}");
    assert!(r.problems.iter().all(|p| p.code == "conflict_set" && p.available != p.needed), "{r:#?}");
    assert!(r.problems.iter().any(|p| p.constraint.starts_with("literacy.")), "{r:#?}");
    assert!(r.problems.iter().any(|p| p.constraint == "time.max_minutes" || p.constraint == "information[0].min"), "{r:#?}");
}

#[test]
fn the_same_input_gives_the_same_forms() {
    let bank = items();
    let mut bp = midterm(&bank);
    bp.forms = 2;
    let first = serde_json::to_string(&assemble(&bp, &bank).unwrap()).unwrap();
    let second = serde_json::to_string(&assemble(&bp, &bank).unwrap()).unwrap();
    assert_eq!(first, second);
    // And through the command, in a fresh process.
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_qiming"))
            .args(["assemble", "examples/blueprints/grade-5-6-midterm.toml", "--forms", "2", "--json"])
            .current_dir(repo())
            .output()
            .expect("run qiming");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let cli = run();
    assert_eq!(cli, run());
    let parsed: serde_json::Value = serde_json::from_slice(&cli).unwrap();
    assert_eq!(serde_json::to_value(assemble(&bp, &bank).unwrap()).unwrap(), parsed);
}

#[test]
fn a_small_blueprint_snapshot() {
    let bank = items();
    let bp = Blueprint::from_file(&repo().join("examples/blueprints/teacher-screening.toml"), &bank).unwrap();
    let outcome = assemble(&bp, &bank).unwrap();
    assert_meets(&bp, &bank, &assembled(outcome.clone()).forms[0].items);
    insta::assert_snapshot!("assembly-teacher-screening", serde_json::to_string_pretty(&outcome).unwrap());
}

#[test]
fn the_command_reports_infeasibility_and_bad_blueprints() {
    let dir = std::env::temp_dir().join(format!("qiming-assemble-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_qiming")).args(["assemble", path.to_str().unwrap()]).current_dir(repo()).output().expect("run qiming")
    };
    let out = run("short.toml", "format_version = 1\npopulation = \"student\"\ngrade_band = \"5-6\"\nlength = 40\n[time]\nmax_minutes = 15\n");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("time_max_unreachable") && text.contains("无法组卷") && text.contains("minutes"), "{text}");
    let out = run("bad.toml", "format_version = 1\npopulation = \"student\"\ngrade_band = \"5-6\"\nlength = 40\n\n[literacy.computational-thinkin]\nmin = 3\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:6:") && err.contains("unknown literacy"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
