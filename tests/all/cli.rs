//! The `qiming` binary: `run`'s JSON contract, exit statuses and messages.

use std::process::Command;

use serde_json::Value;

use crate::support::repo;

fn qiming(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).current_dir(repo()).output().expect("run qiming")
}

fn run_json(program: &str, scenario: &str, extra: &[&str]) -> Value {
    let mut args = vec!["run", program, "--scenario", scenario, "--json"];
    args.extend_from_slice(extra);
    let out = qiming(&args);
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn run_json_has_the_documented_fields() {
    let v = run_json("examples/wall-stop.rhai", "sim/scenarios/wall.toml", &[]);
    assert_eq!(v["outcome"], "finished");
    for key in ["limit", "error", "sim_time", "ticks", "collisions", "final_pose", "output"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert!(v["limit"].is_null() && v["error"].is_null());
    assert_eq!(v["collisions"], 0);
    let x = v["final_pose"]["x"].as_f64().unwrap();
    assert!(x > 1.85 && x < 2.0, "stopped at x = {x}");
    assert!(v["final_pose"]["heading"].is_number() && v["final_pose"]["y"].is_number());
    assert!(v["output"].as_str().unwrap().starts_with("stopped at"));
    assert!(v["sim_time"].as_f64().unwrap() > 1.0);
}

#[test]
fn outcomes_that_are_not_finished_still_exit_zero() {
    let dir = std::env::temp_dir().join(format!("qiming-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.rhai");
    std::fs::write(&bad, "let x = 1;\nlet y = x +;\n").unwrap();
    let v = run_json(bad.to_str().unwrap(), "sim/scenarios/empty.toml", &[]);
    assert_eq!(v["outcome"], "error");
    assert_eq!(v["error"]["line"], 2);
    assert!(v["error"]["column"].is_number());
    assert!(v["error"]["message"].as_str().unwrap().len() > 5);
    // What a student is shown: a code and an explanation in both languages.
    assert!(v["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
    assert!(v["error"]["explanation"]["zh-CN"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert!(v["error"]["explanation"]["en"].as_str().is_some_and(|t| !t.is_empty()), "{v}");

    let flood = dir.join("flood.rhai");
    std::fs::write(&flood, "loop { print(\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"); }").unwrap();
    let v = run_json(flood.to_str().unwrap(), "sim/scenarios/empty.toml", &[]);
    assert_eq!(v["outcome"], "limit");
    assert_eq!(v["limit"], "output");
    assert_eq!(v["output"].as_str().unwrap().len(), 64 << 10);

    let spin = dir.join("spin.wat");
    std::fs::write(&spin, "(module (func (export \"run\") (loop $l (br $l))))").unwrap();
    let v = run_json(spin.to_str().unwrap(), "sim/scenarios/empty.toml", &[]);
    assert_eq!(v["outcome"], "time_up");
    assert_eq!(v["ticks"], 3000);
    assert_eq!(v["sim_time"], 30.0);
}

#[test]
fn replays_are_written_and_seeds_are_reported() {
    let out = std::env::temp_dir().join(format!("qiming-cli-{}.qreplay", std::process::id()));
    let v = run_json("examples/wall-stop.wat", "sim/scenarios/wall.toml", &["--seed", "9", "--replay", out.to_str().unwrap()]);
    assert_eq!(v["seed"], 9);
    let bytes = std::fs::read(&out).unwrap();
    let replay = qiming_sim::Replay::from_bytes(&bytes).unwrap();
    assert_eq!(replay.header.seed, 9);
    assert_eq!(replay.frames.len() as u64, v["ticks"].as_u64().unwrap() + 1);

    let shown = qiming(&["replay", out.to_str().unwrap(), "--json"]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let j: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(j["seed"], 9);
    assert_eq!(j["frames"].as_array().unwrap().len(), replay.frames.len());
    assert_eq!(j["frames"][0]["color"][0], "white");
    assert_eq!(j["state_digest"], v["state_digest"]);
    let bad = qiming(&["replay", "README.md"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a Qiming replay"));
}

#[test]
fn bad_invocations_fail_with_a_clear_message() {
    let out = qiming(&["run", "examples/nope.rhai", "--scenario", "sim/scenarios/empty.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("examples/nope.rhai"));

    let dir = std::env::temp_dir().join(format!("qiming-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("broken.toml");
    std::fs::write(&sc, "format_version = 1\nname = \"x\"\nduration = 5.0\nbogus = 1\n").unwrap();
    let out = qiming(&["run", "examples/wall-stop.rhai", "--scenario", sc.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml:4"), "{err}");

    let out = qiming(&["run", "examples/wall-stop.rhai"]);
    assert!(!out.status.success(), "missing --scenario is a usage error");
    let out = qiming(&["run", "README.md", "--scenario", "sim/scenarios/empty.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".rhai"));
}

/// The C example in docs/wasm-abi.md compiles with clang and runs. CI installs
/// clang and lld and sets QIMING_REQUIRE_CLANG=1; elsewhere the test only runs
/// when clang is present.
#[test]
fn the_c_example_of_the_wasm_abi_compiles_and_drives_the_robot() {
    let required = std::env::var("QIMING_REQUIRE_CLANG").is_ok_and(|v| v == "1");
    let out_dir = std::env::temp_dir().join(format!("qiming-c-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let wasm = out_dir.join("wall-stop.wasm");
    let compiled = Command::new("clang")
        .args(["--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-o"])
        .arg(&wasm)
        .arg(repo().join("examples/wall-stop.c"))
        .output();
    match compiled {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("clang failed on examples/wall-stop.c:\n{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            assert!(!required, "clang is required here but could not run: {e}");
            eprintln!("clang not available ({e}); skipping the C example");
            return;
        }
    }
    let v = run_json(wasm.to_str().unwrap(), "sim/scenarios/wall.toml", &[]);
    assert_eq!(v["outcome"], "finished", "{v}");
    assert_eq!(v["collisions"], 0);
    assert_eq!(v["output"], "stopped in front of the wall\n");
}
