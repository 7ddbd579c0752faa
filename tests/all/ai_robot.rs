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
        let r = run(Program::rhai(format!("record({bad});")), &src, RunOptions::default());
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

/// A nearest-mean colour classifier: "stop" when the picture is redder than
/// it is green, else "go". Small, exact and independent of the AI crate's models.
#[derive(Debug)]
struct RedOrGreen {
    labels: Vec<String>,
}

impl RedOrGreen {
    fn arc() -> std::sync::Arc<dyn qiming_ai::Classifier> {
        std::sync::Arc::new(RedOrGreen { labels: vec!["go".into(), "stop".into()] })
    }
}

impl qiming_ai::Classifier for RedOrGreen {
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn input_len(&self) -> usize {
        qiming_ai::IMAGE_LEN
    }
    fn predict(&self, input: &[f32]) -> usize {
        let (mut red, mut green) = (0.0f32, 0.0f32);
        for p in input.chunks(3) {
            red += p[0];
            green += p[1];
        }
        usize::from(red > green)
    }
    fn cost(&self) -> u64 {
        // Two adds per pixel, priced generously: 2.5 ticks' worth, so 3 ticks.
        250_000
    }
}

/// A sensor-vector model: "near" when the first reading is under 0.5.
#[derive(Debug)]
struct Near {
    labels: Vec<String>,
}

impl qiming_ai::Classifier for Near {
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn input_len(&self) -> usize {
        3
    }
    fn predict(&self, input: &[f32]) -> usize {
        usize::from(input[0] >= 0.5)
    }
    fn cost(&self) -> u64 {
        3
    }
}

fn with_model(model: std::sync::Arc<dyn qiming_ai::Classifier>) -> RunOptions {
    RunOptions { model: Some(model), ..RunOptions::default() }
}

#[test]
fn classify_gives_the_models_label_in_rhai_and_wasm() {
    let program = "print(classify(camera())); print(labels());";
    let r = run(Program::rhai(program), &sign_ahead("stop", ""), with_model(RedOrGreen::arc()));
    assert_eq!(r.report.output, "stop\n[\"go\", \"stop\"]\n", "{:?}", r.report.outcome);
    let r = run(Program::rhai(program), &sign_ahead("go", ""), with_model(RedOrGreen::arc()));
    assert_eq!(r.report.output, "go\n[\"go\", \"stop\"]\n");

    // WebAssembly: the index, then the label's name through `label`.
    let wat = r#"(module
      (import "robot" "camera" (func $camera (param i32) (result i32)))
      (import "robot" "classify_image" (func $classify (param i32) (result i32)))
      (import "robot" "label_count" (func $count (result i32)))
      (import "robot" "label" (func $label (param i32 i32 i32) (result i32)))
      (import "robot" "print" (func $print (param i32 i32)))
      (import "robot" "print_num" (func $pn (param f64)))
      (memory (export "memory") 1)
      (func (export "run") (local $i i32)
        (drop (call $camera (i32.const 1024)))
        (local.set $i (call $classify (i32.const 1024)))
        (call $pn (f64.convert_i32_s (local.get $i)))
        (call $pn (f64.convert_i32_s (call $count)))
        ;; A buffer too small: nothing is written, the length comes back.
        (call $pn (f64.convert_i32_s (call $label (local.get $i) (i32.const 0) (i32.const 1))))
        (call $print (i32.const 0) (call $label (local.get $i) (i32.const 0) (i32.const 64)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &sign_ahead("stop", ""), with_model(RedOrGreen::arc()));
    assert_eq!(r.report.output, "1\n2\n4\nstop\n", "{:?}", r.report.outcome);

    // A label number the model does not have.
    let wat = r#"(module
      (import "robot" "label" (func $label (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "run") (drop (call $label (i32.const 2) (i32.const 0) (i32.const 64)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &sign_ahead("stop", ""), with_model(RedOrGreen::arc()));
    assert_eq!(error_code(&r).0, "value_out_of_range");
}

#[test]
fn classify_checks_the_input_length_and_takes_vectors() {
    let near: std::sync::Arc<dyn qiming_ai::Classifier> = std::sync::Arc::new(Near { labels: vec!["near".into(), "far".into()] });
    let src = sign_ahead("stop", "");
    let r = run(Program::rhai("print(classify([distance(\"front\"), 1, 2.5]));"), &src, with_model(near.clone()));
    assert_eq!(r.report.output, "near\n");
    let r = run(Program::rhai("classify([1, 2]);"), &src, with_model(near.clone()));
    let (code, zh, en) = error_code(&r);
    assert_eq!(code, "model_input_length");
    assert!(zh.contains("3 个数") && zh.contains("2 个") && en.contains("needs 3 numbers"), "{zh} | {en}");
    let r = run(Program::rhai("classify(camera());"), &src, with_model(near.clone()));
    assert_eq!(error_code(&r).0, "model_input_length");
    let r = run(Program::rhai("classify([1, \"two\", 3]);"), &src, with_model(near.clone()));
    assert_eq!(error_code(&r).0, "wrong_argument_type");
    // WebAssembly: three f32s at an unaligned address.
    let wat = r#"(module
      (import "robot" "classify_vector" (func $cv (param i32 i32) (result i32)))
      (import "robot" "print_num" (func $pn (param f64)))
      (memory (export "memory") 1)
      (func (export "run")
        (f32.store (i32.const 1) (f32.const 0.9))
        (call $pn (f64.convert_i32_s (call $cv (i32.const 1) (i32.const 3))))
        (drop (call $cv (i32.const 1) (i32.const 4)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &src, with_model(near));
    assert_eq!(r.report.output, "1\n");
    assert_eq!(error_code(&r).0, "model_input_length");
}

#[test]
fn classify_costs_the_models_multiply_adds_in_virtual_time() {
    assert_eq!(qiming_runtime::classify_ticks(250_000, 100), 3);
    assert_eq!(qiming_runtime::classify_ticks(100_000, 100), 1);
    assert_eq!(qiming_runtime::classify_ticks(3, 100), 1, "every call takes at least a tick");
    let wat = r#"(module
      (import "robot" "classify_image" (func $classify (param i32) (result i32)))
      (import "robot" "time" (func $time (result f64)))
      (import "robot" "print_num" (func $pn (param f64)))
      (memory (export "memory") 1)
      (func (export "run") (local $t f64)
        (local.set $t (call $time))
        (drop (call $classify (i32.const 0)))
        (call $pn (f64.sub (call $time) (local.get $t)))))"#;
    let r = run(Program::wasm(wat.as_bytes().to_vec()), &sign_ahead("stop", ""), with_model(RedOrGreen::arc()));
    assert_eq!(r.report.output.trim().parse::<f64>().unwrap(), 0.03);
    // Rhai: the same price, plus whatever the few operations in between cost (under a tick).
    let r = run(Program::rhai("let img = camera(); let t = time(); classify(img); print(time() - t);"), &sign_ahead("stop", ""), with_model(RedOrGreen::arc()));
    let dt: f64 = r.report.output.trim().parse().unwrap();
    assert!((0.029..0.041).contains(&dt), "{dt}");
}

fn qiming(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).current_dir(crate::support::repo()).output().expect("run qiming")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qiming-ai-robot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn record(out: &std::path::Path, seed: &str) -> std::process::Output {
    let out = out.to_str().unwrap();
    qiming(&["ai", "record", "examples/ai/record-signs.rhai", "--scenario", "examples/ai/signs.toml", "--seed", seed, "--out", out])
}

#[test]
fn qiming_ai_record_writes_a_dataset_that_opens_and_is_deterministic() {
    let a = scratch("a");
    let out = record(&a, "1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("recorded 28 samples (go ×7, left ×7, right ×7, stop ×7)"), "{text}");
    let ds = qiming_ai::Dataset::open(&a).expect("the recording is a valid dataset");
    assert_eq!(ds.samples().len(), 28);
    assert_eq!(ds.labels(), ["go", "left", "right", "stop"]);
    assert_eq!(ds.manifest().sensors[0], "distance:front");
    let s = &ds.samples()[0];
    let source = s.source.as_ref().expect("samples say where they came from");
    assert_eq!((source.scenario.as_str(), source.seed), ("signs.toml", 1));
    assert_eq!(source.program_sha256, Program::load(crate::support::repo().join("examples/ai/record-signs.rhai")).unwrap().sha256_hex());
    // The first frame looks at the stop sign: it is mostly red where the sign is.
    let red = ds.pixels(0).unwrap().chunks(3).filter(|p| is_red(p)).count();
    assert_eq!(s.label, "stop");
    assert!(red > 20, "{red} red pixels in a frame labelled stop");

    // Same program, scenario and seed: the same bytes.
    let b = scratch("b");
    assert!(record(&b, "1").status.success());
    assert_eq!(qiming_ai::Dataset::open(&b).unwrap().sha256(), ds.sha256());
    // Another seed moves the signs and the lighting; appending adds samples.
    assert!(record(&a, "2").status.success());
    let more = qiming_ai::Dataset::open(&a).unwrap();
    assert_eq!(more.samples().len(), 56);
    assert_ne!(more.sha256(), ds.sha256());
    for dir in [a, b] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn qiming_ai_record_refuses_what_it_cannot_do_clearly() {
    // --out is a file.
    let file = scratch("file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = record(&file, "1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("is a file"), "{err}");
    // A folder that cannot be created (its parent is a file).
    let out = record(&file.join("data"), "1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot add the recording") && err.contains("data"), "{err}");
    let _ = std::fs::remove_file(&file);

    // A dataset recorded by a robot with other sensors.
    let dir = scratch("sensors");
    assert!(record(&dir, "1").status.success());
    let other = scratch("other.toml");
    let src = std::fs::read_to_string(crate::support::repo().join("examples/ai/signs.toml"))
        .unwrap()
        .replace("camera_noise = 0.1", "camera_noise = 0.1\ndistance_sensors = [{ name = \"ahead\", angle = 0 }]");
    std::fs::write(&other, src).unwrap();
    let out = qiming(&["ai", "record", "examples/ai/record-signs.rhai", "--scenario", other.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("sensors") && err.contains("distance:ahead"), "{err}");
    assert_eq!(qiming_ai::Dataset::open(&dir).unwrap().samples().len(), 28, "nothing was added");

    // A program that records nothing changes nothing.
    let nothing = scratch("nothing.rhai");
    std::fs::write(&nothing, "forward(0.1);").unwrap();
    let out = qiming(&["ai", "record", nothing.to_str().unwrap(), "--scenario", "examples/ai/signs.toml", "--out", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("recorded nothing"), "{err}");
    for p in [other, nothing] {
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_dir_all(dir);
}
