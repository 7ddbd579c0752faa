//! The robot's AI functions: camera, classify and record in Rhai and WebAssembly, signs seen by the camera, `qiming ai record`.

use qiming_grading::{RunOptions, RunResult, run_program};
use qiming_runtime::{Outcome, Program};
use qiming_sim::{Scenario, Sim, SimOptions};

use crate::support::on_run_thread;

/// A stop sign half a metre in front of the robot, its face towards it.
fn sign_ahead(kind: &str, extra: &str) -> String {
    format!(
        r#"
format_version = 1
name = "sign-ahead"
duration = 20
[arena]
size = [2.0, 1.5]
[robot]
x = 0.5
y = 0.75
heading = 0
{extra}
[[signs]]
kind = "{kind}"
center = [1.0, 0.75]
facing = 180
"#
    )
}

fn scenario(src: &str) -> Scenario {
    Scenario::parse(src, "<test>").expect("test scenario parses")
}

fn run(program: Program, src: &str, options: RunOptions) -> RunResult {
    let sc = scenario(src);
    on_run_thread(move || run_program(&program, &sc, &options))
}

fn first_image(src: &str) -> Vec<u8> {
    Sim::new(&scenario(src), 0, SimOptions::default()).camera().rgb
}

fn error_code(r: &RunResult) -> (&'static str, String, String) {
    match &r.report.outcome {
        Outcome::Error(e) => {
            let d = &e.diagnostic;
            (d.code, d.explanation.zh.clone(), d.explanation.en.clone())
        }
        other => panic!("expected an error, got {other:?} (output {:?})", r.report.output),
    }
}

fn is_red(p: &[u8]) -> bool {
    p[0] > 150 && p[1] < 90 && p[2] < 90
}

#[test]
fn camera_in_rhai_gives_the_sims_image() {
    let src = sign_ahead("stop", "");
    let program = r#"
        let img = camera();
        let s = "";
        for b in img { s += b.to_string(); s += ","; }
        print(img.len());
        print(s);
        print(pixel(img, 3, 20));
    "#;
    let r = run(Program::rhai(program), &src, RunOptions::default());
    assert_eq!(r.report.outcome, Outcome::Finished, "{:?}", r.report.outcome);
    let img = first_image(&src);
    let mut lines = r.report.output.lines();
    assert_eq!(lines.next(), Some("2304"));
    let want: String = img.iter().map(|b| format!("{b},")).collect();
    assert_eq!(lines.next(), Some(want.as_str()));
    let at = (20 * 32 + 3) * 3;
    assert_eq!(lines.next(), Some(format!("[{}, {}, {}]", img[at], img[at + 1], img[at + 2]).as_str()));
}

/// A WebAssembly program that takes a picture and prints its length and a checksum.
const WAT_CAMERA_SUM: &str = r#"
(module
  (import "robot" "camera" (func $camera (param i32) (result i32)))
  (import "robot" "print_num" (func $pn (param f64)))
  (memory (export "memory") 1)
  (func (export "run") (local $i i32) (local $n i32) (local $sum i64)
    (local.set $n (call $camera (i32.const 16)))
    (call $pn (f64.convert_i32_s (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i64.add (local.get $sum)
          (i64.mul (i64.extend_i32_u (i32.load8_u offset=16 (local.get $i)))
                   (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $pn (f64.convert_i64_s (local.get $sum)))))
"#;

#[test]
fn camera_in_wasm_gives_the_sims_image() {
    let src = sign_ahead("left", "");
    let r = run(Program::wasm(WAT_CAMERA_SUM.as_bytes().to_vec()), &src, RunOptions::default());
    assert_eq!(r.report.outcome, Outcome::Finished, "{:?}", r.report.outcome);
    let img = first_image(&src);
    let sum: u64 = img.iter().enumerate().map(|(i, &b)| u64::from(b) * (i as u64 + 1)).sum();
    assert_eq!(r.report.output, format!("2304\n{sum}\n"));
}

#[test]
fn a_stop_sign_ahead_renders_red_and_a_go_sign_does_not() {
    let stop = first_image(&sign_ahead("stop", ""));
    let go = first_image(&sign_ahead("go", ""));
    let red = |img: &[u8]| img.chunks(3).filter(|p| is_red(p)).count();
    assert!(red(&stop) > 40, "a stop sign fills part of the view with red: {} red pixels", red(&stop));
    assert_eq!(red(&go), 0);
    let green = go.chunks(3).filter(|p| p[1] > 140 && p[0] < 90 && p[2] < 110).count();
    assert!(green > 40, "{green} green pixels");
}

#[test]
fn arrows_point_the_way_the_robot_sees_them() {
    let white_by_half = |img: &[u8]| {
        let mut halves = [0usize; 2];
        for (i, p) in img.chunks(3).enumerate() {
            if p.iter().all(|&c| c > 200) && (4..20).contains(&(i / 32)) {
                halves[usize::from(i % 32 >= 16)] += 1;
            }
        }
        halves
    };
    let left = white_by_half(&first_image(&sign_ahead("left", "")));
    let right = white_by_half(&first_image(&sign_ahead("right", "")));
    assert!(left[0] > left[1], "a left arrow's head is on the left: {left:?}");
    assert!(right[1] > right[0], "a right arrow's head is on the right: {right:?}");
}

#[test]
fn signs_are_solids_for_sensors_and_collisions() {
    let src = sign_ahead("stop", "");
    let r = run(Program::rhai("print(distance(\"front\")); forward(1.0);"), &src, RunOptions::default());
    let d: f64 = r.report.output.trim().parse().unwrap();
    // Sign face at x = 0.99, robot's front edge at 0.59.
    assert!((d - 0.40).abs() < 0.01, "distance to the sign: {d}");
    assert!(r.sim.events.iter().any(|e| matches!(e, qiming_sim::SimEvent::Contact { solid, .. } if solid == "sign 1")), "{:?}", r.sim.events);
}

#[test]
fn lighting_noise_is_seeded_per_tick() {
    let src = sign_ahead("stop", "camera_noise = 0.2");
    let sc = scenario(&src);
    let a = Sim::new(&sc, 7, SimOptions::default());
    let b = Sim::new(&sc, 7, SimOptions::default());
    assert_eq!(a.camera(), b.camera(), "same seed and tick, same frame");
    assert_eq!(a.camera(), a.camera(), "asking twice changes nothing");
    let c = Sim::new(&sc, 8, SimOptions::default());
    assert_ne!(a.camera(), c.camera(), "another seed, other lighting");
    let mut d = Sim::new(&sc, 7, SimOptions::default());
    d.step();
    assert_ne!(a.camera(), d.camera(), "each tick's frame has its own lighting");
    let plain = first_image(&sign_ahead("stop", ""));
    assert_ne!(a.camera().rgb, plain);
}

#[test]
fn sign_placement_is_seeded_and_validated() {
    let src = sign_ahead("stop", "").replace("center = [1.0, 0.75]", "center = [{ min = 0.9, max = 1.2 }, 0.75]");
    let sc = scenario(&src);
    let x = |seed| match &sc.resolve(seed).solids.last().unwrap().shape {
        qiming_sim::scenario::SolidShape::Box(b) => b.center[0],
        other => panic!("{other:?}"),
    };
    assert_eq!(x(1), x(1));
    assert_ne!(x(1), x(2));
    let bad = sign_ahead("stopp", "");
    let err = Scenario::parse(&bad, "bad.toml").unwrap_err().to_string();
    assert!(err.starts_with("bad.toml:") && err.contains("unknown kind \"stopp\"") && err.contains("stop, go, left, right, slow"), "{err}");
    let view = serde_json::to_value(qiming_sim::view::WorldView::of(&sc.resolve(1), 0.09)).unwrap();
    let signs: Vec<_> = view["solids"].as_array().unwrap().iter().filter(|s| s.get("sign").is_some()).collect();
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0]["sign"], "stop");
    assert_eq!(signs[0]["color"], "red");
}

#[test]
fn classify_without_a_model_is_explained_in_both_languages() {
    let src = sign_ahead("stop", "");
    let rhai = run(Program::rhai("let x = classify(camera());"), &src, RunOptions::default());
    let wat = r#"(module
      (import "robot" "classify_image" (func $c (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "run") (drop (call $c (i32.const 0)))))"#;
    let wasm = run(Program::wasm(wat.as_bytes().to_vec()), &src, RunOptions::default());
    for r in [&rhai, &wasm] {
        let (code, zh, en) = error_code(r);
        assert_eq!(code, "no_model");
        assert!(en.contains("no model") && en.contains("train"), "{en}");
        assert!(zh.contains("模型") && zh.contains("训练") && zh.contains("部署"), "{zh}");
        for word in ["model", "train", "deploy", "run", "Error", "Option", "String"] {
            assert!(!zh.contains(word), "no English in the Chinese text: {zh}");
        }
    }
    // A line number for the Rhai program.
    match &rhai.report.outcome {
        Outcome::Error(e) => assert_eq!(e.line, Some(1)),
        _ => unreachable!(),
    }
    let r = run(Program::rhai("classify(\"stop\");"), &src, RunOptions::default());
    assert_eq!(error_code(&r).0, "wrong_argument_type");
    let r = run(Program::rhai("let img = camera(); img.pop(); classify(img);"), &src, RunOptions::default());
    assert_eq!(error_code(&r).0, "wrong_argument_type");
    let r = run(Program::rhai("pixel(camera(), 32, 0);"), &src, RunOptions::default());
    assert_eq!(error_code(&r).0, "value_out_of_range");
}

#[test]
fn camera_costs_one_tick() {
    // WebAssembly: a handful of instructions between the calls, far below a tick of fuel.
    let wat = r#"(module
      (import "robot" "camera" (func $camera (param i32) (result i32)))
      (import "robot" "time" (func $time (result f64)))
      (import "robot" "print_num" (func $pn (param f64)))
      (memory (export "memory") 1)
      (func (export "run") (local $t f64)
        (local.set $t (call $time))
        (drop (call $camera (i32.const 0)))
        (drop (call $camera (i32.const 0)))
        (call $pn (f64.sub (call $time) (local.get $t)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &sign_ahead("go", ""), RunOptions::default());
    assert_eq!(r.report.output.trim().parse::<f64>().unwrap(), 0.02);
}

#[test]
fn record_keeps_samples_within_its_limits() {
    let src = sign_ahead("stop", "");
    let r = run(Program::rhai("record(\"stop\"); forward(0.1); record(\"stop\"); turn(90); record(\"wall\");"), &src, RunOptions::default());
    assert_eq!(r.report.outcome, Outcome::Finished);
    assert_eq!(r.samples.len(), 3);
    assert_eq!(r.samples.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), ["stop", "stop", "wall"]);
    assert_eq!(r.samples[0].tick, 0);
    assert_eq!(r.samples[0].image, first_image(&src));
    assert!(r.samples.iter().all(|s| s.image.len() == 2304 && s.sensors.len() == 7));
    // distance:front shrinks as the robot drives towards the sign.
    assert!(r.samples[1].sensors[0] < r.samples[0].sensors[0]);

    let r = run(Program::rhai("loop { record(\"x\"); }"), &src, RunOptions::default());
    assert_eq!(error_code(&r).0, "too_many_records");
    assert_eq!(r.samples.len(), qiming_runtime::MAX_RECORDS);
    for bad in ["\"\"", "\" stop\"", "\"a/b\"", "\"abcdefghijklmnopqrstuvwxyz0123456789\"", "42"] {
        let r = run(Program::rhai(&format!("record({bad});")), &src, RunOptions::default());
        let (code, zh, _) = error_code(&r);
        assert!(code == "bad_label" || code == "wrong_argument_type", "{bad}: {code}");
        assert!(zh.contains("类别名"), "{zh}");
        assert!(r.samples.is_empty());
    }
    // Chinese labels are fine.
    let r = run(Program::rhai("record(\"停\");"), &src, RunOptions::default());
    assert_eq!(r.samples.len(), 1);
}

#[test]
fn hostile_wasm_pointers_end_with_a_typed_outcome() {
    let src = sign_ahead("stop", "");
    let cases = [
        ("camera", "(param i32) (result i32)", "(drop (call $f (i32.const 65000)))"),
        ("camera", "(param i32) (result i32)", "(drop (call $f (i32.const -1)))"),
        ("classify_image", "(param i32) (result i32)", "(drop (call $f (i32.const 65535)))"),
        ("classify_vector", "(param i32 i32) (result i32)", "(drop (call $f (i32.const 0) (i32.const 20000)))"),
        ("classify_vector", "(param i32 i32) (result i32)", "(drop (call $f (i32.const 65532) (i32.const 2)))"),
        ("label", "(param i32 i32 i32) (result i32)", "(drop (call $f (i32.const 0) (i32.const 65535) (i32.const 100)))"),
        ("record", "(param i32 i32)", "(call $f (i32.const 65535) (i32.const 10))"),
        ("record", "(param i32 i32)", "(call $f (i32.const 0) (i32.const -1))"),
    ];
    for (name, sig, body) in cases {
        let wat = format!(r#"(module (import "robot" "{name}" (func $f {sig})) (memory (export "memory") 1) (func (export "run") {body}))"#);
        let r = run(Program::wasm(wat.into_bytes()), &src, RunOptions::default());
        let (code, _, _) = error_code(&r);
        assert!(["wasm_bad_buffer", "wasm_bad_text", "no_model", "model_input_length"].contains(&code), "{name} {body}: {code}");
    }
    // Without an exported memory.
    let wat = r#"(module (import "robot" "camera" (func $f (param i32) (result i32))) (func (export "run") (drop (call $f (i32.const 0)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &src, RunOptions::default());
    assert_eq!(error_code(&r).0, "wasm_bad_buffer");
}
