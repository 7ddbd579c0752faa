//! `qiming similarity`: disguised copies are found, independent solutions are not, broken programs are compared as text.

use std::process::Command;

use serde_json::Value;

use crate::support::repo;

fn similarity(dir: &std::path::Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_qiming")).args(["similarity", dir.to_str().unwrap(), "--json"]).output().expect("run qiming");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn score(report: &Value, a: &str, b: &str) -> f64 {
    report["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| (p["a"] == a && p["b"] == b) || (p["a"] == b && p["b"] == a))
        .map_or(0.0, |p| p["score"].as_f64().unwrap())
}

#[test]
fn disguised_copies_stand_out_and_independent_work_does_not() {
    let dir = std::env::temp_dir().join(format!("qiming-similarity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("class-2")).unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(repo().join(from), dir.join(to)).unwrap();
    copy("curriculum/labs/traffic-light/reference.rhai", "original.rhai");
    copy("tests/similarity/traffic-light-disguised.rhai", "class-2/disguised.rhai");
    copy("tests/similarity/traffic-light-independent.rhai", "independent.rhai");
    copy("curriculum/labs/traffic-light/starter.rhai", "starter.rhai");
    copy("curriculum/labs/stripe-count/reference.rhai", "other-lab.rhai");
    copy("examples/wall-stop.wat", "wall.wat");
    copy("tests/similarity/wall-stop-renamed.wat", "wall-renamed.wat");
    std::fs::write(dir.join("broken.rhai"), "let x = ;; motors(\n").unwrap();
    std::fs::write(dir.join("broken-copy.rhai"), "let x = ;;   motors(\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a program").unwrap();

    let report = similarity(&dir);
    let pairs = report["pairs"].as_array().unwrap();
    let scores: Vec<f64> = pairs.iter().map(|p| p["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "pairs must be sorted by score: {scores:?}");
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));

    let copied = score(&report, "class-2/disguised.rhai", "original.rhai");
    let wat = score(&report, "wall-renamed.wat", "wall.wat");
    let independent = score(&report, "independent.rhai", "original.rhai");
    let other_lab = score(&report, "other-lab.rhai", "original.rhai");
    assert!(copied >= 0.7, "a disguised copy scores {copied}: {report}");
    assert!(wat >= 0.7, "a renamed WebAssembly copy scores {wat}: {report}");
    assert!(independent < 0.3 && other_lab < 0.3, "independent work scores {independent} / {other_lab}: {report}");
    assert!(copied - independent > 0.4, "copies must stand clearly apart");

    // Programs that do not parse are compared as text, and named.
    let unparsed: Vec<&str> = report["unparsed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(unparsed, ["broken-copy.rhai", "broken.rhai"]);
    let broken = pairs.iter().find(|p| p["a"] == "broken-copy.rhai" && p["b"] == "broken.rhai").expect("the broken pair");
    assert_eq!(broken["compared_as"], "text");

    // Clusters: the copies together; the independent solution in none.
    let clusters: Vec<Vec<&str>> =
        report["clusters"].as_array().unwrap().iter().map(|c| c.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()).collect();
    assert!(clusters.contains(&vec!["class-2/disguised.rhai", "original.rhai"]), "{clusters:?}");
    assert!(clusters.contains(&vec!["wall-renamed.wat", "wall.wat"]), "{clusters:?}");
    assert!(!clusters.iter().flatten().any(|f| *f == "independent.rhai" || *f == "notes.txt"), "{clusters:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
