//! The AI crate: dataset folders, training that converges and repeats
//! byte for byte, untrusted model files, deterministic inference, and
//! `qiming ai train|eval`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qiming_ai::dataset::{self, DatasetError, NewSample, SampleProblem, Split, SplitMix64};
use qiming_ai::model::{FORMAT, Header, Input, Training, VERSION};
use qiming_ai::{Classifier, Dataset, IMAGE_LEN, InputChoice, Misfit, Model, ModelError, ModelKind, Recorded, RunSource, TrainOptions, image_input};
use sha2::{Digest, Sha256};

use crate::support::repo;

/// A fresh folder per call: tests run in parallel and some helpers (e.g.
/// `sensor_model`) are called by several of them at once.
fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("qiming-ai-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn qiming(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).output().expect("run qiming")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const COLOURS: [(&str, [f32; 3]); 3] = [("blue", [0.15, 0.25, 0.85]), ("green", [0.2, 0.8, 0.25]), ("red", [0.9, 0.15, 0.1])];

/// A sign-like image: background noise with a coloured square whose place
/// and size vary, so the classes differ by colour, not position.
fn sign_image(colour: [f32; 3], rng: &mut SplitMix64) -> Vec<u8> {
    let (w, h) = (32, 24);
    let side = 6 + rng.below(6);
    let (x0, y0) = (rng.below(w - side), rng.below(h - side));
    let light = 0.7 + 0.3 * rng.unit_f64() as f32;
    let mut px = Vec::with_capacity(IMAGE_LEN);
    for y in 0..h {
        for x in 0..w {
            let inside = (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y);
            for c in colour {
                let base = if inside { c * light } else { 0.5 };
                let v = base + (rng.unit_f64() as f32 - 0.5) * 0.3;
                px.push((v.clamp(0.0, 1.0) * 255.0) as u8);
            }
        }
    }
    px
}

/// `per_class` samples of each colour, the last quarter of each in the test split;
/// two sensors that carry the class with noise.
fn coloured_dataset(dir: &Path, per_class: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut samples = Vec::new();
    for k in 0..per_class {
        for (j, (label, colour)) in COLOURS.into_iter().enumerate() {
            let image = sign_image(colour, &mut rng);
            let s1 = j as f64 + (rng.unit_f64() - 0.5) * 0.6;
            let s2 = 2.0 - j as f64 * 0.5 + (rng.unit_f64() - 0.5) * 0.4;
            let split = if k * 4 >= per_class * 3 { Split::Test } else { Split::Train };
            samples.push(NewSample { label: label.into(), sensors: vec![s1, s2 * 100.0], image: Some(image), split, source: None });
        }
    }
    Dataset::create(dir, Some(dataset::ImageShape::CAMERA), vec!["light".into(), "distance:front".into()], samples).unwrap()
}

fn options(kind: ModelKind, seed: u64, epochs: u32) -> TrainOptions {
    TrainOptions { kind, seed, epochs: Some(epochs), input: None }
}

#[test]
fn recordings_append_and_reopen_with_a_stable_hash() {
    let dir = temp_dir("record");
    let rec = |label: &str, tick| Recorded {
        label: label.into(),
        sensors: vec![0.5, 1.25],
        sensor_names: vec!["distance:front".into(), "floor".into()],
        image: sign_image([0.9, 0.1, 0.1], &mut SplitMix64::new(tick)),
        tick,
    };
    let source = RunSource { scenario: "signs.toml".into(), scenario_sha256: "a".repeat(64), seed: 7, program_sha256: "b".repeat(64) };
    let ids = dataset::append_recording(&dir, &[rec("red", 10), rec("left", 20)], &source).unwrap();
    assert_eq!(ids, ["000001", "000002"]);
    let ids = dataset::append_recording(&dir, &[rec("red", 30)], &source).unwrap();
    assert_eq!(ids, ["000003"]);
    let ds = Dataset::open(&dir).unwrap();
    assert_eq!(ds.labels(), ["left", "red"]);
    assert_eq!(ds.samples()[2].source.as_ref().unwrap().tick, 30);
    assert_eq!(ds.pixels(0).unwrap(), &rec("red", 10).image[..]);
    let hash = ds.sha256();
    assert_eq!(Dataset::open(&dir).unwrap().sha256(), hash, "the same data gives the same hash");

    // Another run's sensors do not mix into the dataset.
    let mut other = rec("red", 40);
    other.sensor_names = vec!["distance:left".into(), "floor".into()];
    let err = dataset::append_recording(&dir, &[other], &source).unwrap_err().to_string();
    assert!(err.contains("sensors") && err.contains("new folder"), "{err}");

    // Relabel and split are written by save and change the hash.
    let mut ds = Dataset::open(&dir).unwrap();
    ds.relabel("000002", "right").unwrap();
    ds.split(1, 0.4).unwrap();
    ds.save().unwrap();
    let again = Dataset::open(&dir).unwrap();
    assert_eq!(again.labels(), ["left", "red", "right"]);
    assert_ne!(again.sha256(), hash);
}

#[test]
fn a_broken_dataset_is_refused_naming_the_file_and_sample() {
    let dir = temp_dir("broken");
    coloured_dataset(&dir, 2, 1);
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();

    let original = std::fs::read(dir.join("images/000002.png")).unwrap();
    std::fs::remove_file(dir.join("images/000002.png")).unwrap();
    let err = Dataset::open(&dir).unwrap_err();
    assert!(matches!(&err, DatasetError::Sample { id, problem: SampleProblem::MissingImage, .. } if id == "000002"), "{err}");
    assert!(err.to_string().contains("images/000002.png"), "{err}");

    std::fs::write(dir.join("images/000002.png"), b"not a png").unwrap();
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(err.contains("000002") && err.contains("not a valid PNG"), "{err}");

    let edit = |from: &str, to: &str| std::fs::write(dir.join("manifest.json"), manifest.replacen(from, to, 1)).unwrap();
    std::fs::write(dir.join("images/000002.png"), original).unwrap();
    edit("\"label\": \"red\"", "\"label\": \"purple\"");
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(err.contains("manifest.json") && err.contains("\"purple\" is not one of the dataset's labels"), "{err}");
    edit("\"id\": \"000002\"", "\"id\": \"000001\"");
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(err.contains("sample \"000001\": duplicate id"), "{err}");
    edit("\"samples\": [", "\"samples\": [}");
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(err.contains("manifest.json: line "), "{err}");

    // An image of the wrong size.
    std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
    let mut png = Vec::new();
    let mut enc = png::Encoder::new(&mut png, 16, 16);
    enc.set_color(png::ColorType::Rgb);
    enc.write_header().unwrap().write_image_data(&[0; 16 * 16 * 3]).unwrap();
    std::fs::write(dir.join("images/000003.png"), png).unwrap();
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(err.contains("000003") && err.contains("16×16"), "{err}");
    // A file over the limit is refused before it is read.
    std::fs::write(dir.join("images/000003.png"), vec![0u8; dataset::MAX_IMAGE_BYTES as usize + 1]).unwrap();
    let err = Dataset::open(&dir).unwrap_err();
    assert!(matches!(err, DatasetError::TooLarge { .. }), "{err}");
}

#[test]
fn training_converges_on_coloured_signs() {
    // 3 classes × 60 samples (45 train, 15 test), seed 1. Stated accuracies:
    // the CNN ≥ 95 % on the test split after 20 epochs; the sensor models ≥ 90 %.
    let ds = coloured_dataset(&temp_dir("converge"), 60, 1);
    let (cnn, reports) = qiming_ai::train(&ds, &options(ModelKind::Cnn, 1, 20), &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    let last = reports.last().unwrap();
    assert!(last.validation_accuracy.unwrap() >= 0.95, "cnn: {reports:#?}");
    assert!(reports[0].loss > last.loss, "the loss falls: {reports:#?}");
    assert_eq!(cnn.input_len(), IMAGE_LEN);
    assert_eq!(cnn.labels(), ["blue", "green", "red"]);
    assert_eq!(cnn.cost(), 165_888 + 221_184 + 768 * 3);
    for kind in [ModelKind::Mlp, ModelKind::Logistic, ModelKind::Perceptron, ModelKind::Kmeans] {
        let opts = TrainOptions { input: Some(InputChoice::Sensors), ..options(kind, 1, 30) };
        let (model, reports) = qiming_ai::train(&ds, &opts, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
        let acc = reports.last().unwrap().validation_accuracy.unwrap();
        assert!(acc >= 0.9, "{kind}: validation accuracy {acc}");
        assert_eq!(model.input_len(), 2);
    }
    // Cancelling stops training.
    let err = qiming_ai::train(&ds, &options(ModelKind::Logistic, 1, 30), &mut |_| std::ops::ControlFlow::Break(())).unwrap_err();
    assert!(matches!(err, qiming_ai::TrainError::Cancelled));
}

#[test]
fn the_same_seed_gives_a_byte_identical_model() {
    let ds = coloured_dataset(&temp_dir("same-seed"), 12, 2);
    let go = |kind, seed| qiming_ai::train(&ds, &options(kind, seed, 2), &mut |_| std::ops::ControlFlow::Continue(())).unwrap().0.to_bytes();
    for kind in ModelKind::ALL {
        let a = go(kind, 5);
        assert_eq!(a, go(kind, 5), "{kind}: same seed, same bytes");
        if kind != ModelKind::Kmeans {
            assert_ne!(a, go(kind, 6), "{kind}: another seed, other weights");
        }
    }
}

fn sensor_model() -> Model {
    let dir = temp_dir("sensor-model");
    let ds = coloured_dataset(&dir, 8, 3);
    let opts = TrainOptions { input: Some(InputChoice::Sensors), ..options(ModelKind::Logistic, 1, 5) };
    qiming_ai::train(&ds, &opts, &mut |_| std::ops::ControlFlow::Continue(())).unwrap().0
}

#[test]
fn corrupt_truncated_and_oversized_model_files_are_refused() {
    let model = sensor_model();
    let bytes = model.to_bytes();
    assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
    assert!(matches!(Model::from_bytes(b"PK\x03\x04 a zip"), Err(ModelError::NotAModel)));
    assert!(matches!(Model::from_bytes(&bytes[..bytes.len() - 10]), Err(ModelError::Checksum)));
    assert!(matches!(Model::from_bytes(&bytes[..20]), Err(ModelError::Checksum | ModelError::Truncated { .. })));
    let mut flipped = bytes.clone();
    flipped[bytes.len() - 40] ^= 0x55;
    assert!(matches!(Model::from_bytes(&flipped), Err(ModelError::Checksum)));

    // A well-formed file whose header claims a huge layer is refused before allocating.
    let header = |layers: serde_json::Value, parameters: u64| {
        let mut h = serde_json::to_value(model.header()).unwrap();
        h["layers"] = layers;
        h["parameters"] = parameters.into();
        h
    };
    let forge = |h: serde_json::Value, weights: usize| {
        let text = serde_json::to_vec(&h).unwrap();
        let mut out = b"QIMINGM1".to_vec();
        out.extend((text.len() as u32).to_le_bytes());
        out.extend(text);
        out.extend(vec![0u8; weights * 4]);
        let sum = Sha256::digest(&out);
        out.extend(sum);
        out
    };
    let huge = header(
        serde_json::json!([{"type": "dense", "inputs": 2, "outputs": 4000}, {"type": "dense", "inputs": 4000, "outputs": 4000}, {"type": "dense", "inputs": 4000, "outputs": 3}]),
        1 << 40,
    );
    let err = Model::from_bytes(&forge(huge, 0)).unwrap_err();
    assert!(matches!(err, ModelError::Layers(ref m) if m.contains("parameters")), "{err}");
    let deep = header(serde_json::json!(vec![serde_json::json!({"type": "relu"}); 40]), 0);
    assert!(matches!(Model::from_bytes(&forge(deep, 0)), Err(ModelError::Layers(_))));
    let lying = header(serde_json::json!([{"type": "dense", "inputs": 2, "outputs": 3}]), 12);
    assert!(matches!(Model::from_bytes(&forge(lying, 12)), Err(ModelError::Header(_))));
    let short = header(serde_json::json!([{"type": "dense", "inputs": 2, "outputs": 3}]), 9);
    assert!(matches!(Model::from_bytes(&forge(short, 4)), Err(ModelError::Header(_) | ModelError::Truncated { .. })));

    // An oversized file is refused from its size alone.
    let dir = temp_dir("oversized");
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.qmodel");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(qiming_ai::model::MAX_FILE_BYTES + 1).unwrap();
    assert!(matches!(Model::read(&big), Err(ModelError::TooLarge { .. })));
    let out = qiming(&["ai", "eval", path(&big), path(&dir)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("at most"), "{err}");
}

#[test]
fn a_model_from_another_dataset_is_refused_with_its_message() {
    let model = sensor_model();
    let lab = vec!["left".to_string(), "red".to_string(), "right".to_string()];
    let misfit = model.fits(&lab, 2).unwrap_err();
    assert!(matches!(misfit, Misfit::Labels { .. }));
    assert!(misfit.to_string().contains("this lab uses [\"left\", \"red\", \"right\"]"), "{misfit}");
    assert!(misfit.zh_cn().contains("本实验"), "{}", misfit.zh_cn());
    let misfit = model.fits(model.labels(), IMAGE_LEN).unwrap_err();
    assert!(misfit.to_string().contains("reads 2 numbers, but this lab gives it 2304 (a camera image)"), "{misfit}");
    assert_eq!(model.fits(model.labels(), 2), Ok(()));

    // `qiming ai eval` refuses a dataset with labels the model does not know.
    let dir = temp_dir("another");
    let model_path = dir.join("m.qmodel");
    std::fs::create_dir_all(&dir).unwrap();
    model.write(&model_path).unwrap();
    let other = dir.join("other");
    Dataset::create(
        &other,
        None,
        vec!["light".into(), "distance:front".into()],
        vec![NewSample { label: "purple".into(), sensors: vec![1.0, 2.0], image: None, split: Split::Train, source: None }],
    )
    .unwrap();
    let out = qiming(&["ai", "eval", path(&model_path), path(&other)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("labels [\"purple\"] that the model does not know"), "{err}");
    // `qiming ai train` refuses a cnn on a dataset without images.
    let out = qiming(&["ai", "train", path(&other), "--model", "cnn", "--seed", "1", "--out", path(&dir.join("x.qmodel"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no camera images"), "{err}");
}

/// A CNN with fixed pseudo-random weights (no training: the weights are the
/// same on every machine), for inference tests.
fn fixed_cnn() -> Model {
    let layers = qiming_ai::train::architecture(ModelKind::Cnn, &Input::image(), 4);
    let n = 8 * 3 * 9 + 8 + 16 * 8 * 9 + 16 + 768 * 4 + 4;
    let mut rng = SplitMix64::new(42);
    let weights = (0..n).map(|_| (rng.unit_f64() as f32 - 0.5) * 0.4).collect();
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kind: ModelKind::Cnn,
        labels: ["a", "b", "c", "d"].map(String::from).to_vec(),
        input: Input::image(),
        dataset_sha256: "0".repeat(64),
        layers,
        parameters: n as u64,
        training: Training { seed: 0, epochs: 0, samples: 0 },
    };
    Model::new(header, weights).unwrap()
}

fn inputs(count: usize) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64::new(9);
    (0..count).map(|_| image_input(&(0..IMAGE_LEN).map(|_| rng.below(256) as u8).collect::<Vec<_>>())).collect()
}

fn hash_scores(model: &Model, inputs: &[Vec<f32>]) -> String {
    let mut h = Sha256::new();
    for x in inputs {
        for s in model.scores(x) {
            h.update(s.to_bits().to_le_bytes());
        }
    }
    hex::encode(h.finalize())
}

#[test]
fn inference_is_bit_identical_on_any_thread_count_and_machine() {
    let model = std::sync::Arc::new(fixed_cnn());
    let xs = std::sync::Arc::new(inputs(64));
    let one = hash_scores(&model, &xs);
    // Four threads each score all inputs at once.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (m, x) = (model.clone(), xs.clone());
            std::thread::spawn(move || hash_scores(&m, &x))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), one);
    }
    // The stored hash: the same scores on every machine (plain f32 arithmetic in a fixed order).
    assert_eq!(one, STORED_SCORES_HASH);
}

const STORED_SCORES_HASH: &str = "a54d9d345b00ae2d1acb5f1e20f5e9110a513358fdeb67a665ba62eebd6156af";

#[test]
fn our_inference_agrees_with_burn() {
    let model = fixed_cnn();
    let xs = inputs(16);
    let burn = qiming_ai::train::burn_scores(&model, &xs);
    for (x, b) in xs.iter().zip(&burn) {
        let ours = model.scores(x);
        for (o, b) in ours.iter().zip(b) {
            assert!((o - b).abs() <= 1e-4, "ours {ours:?} burn {b:?}");
        }
    }
    let mlp = {
        let ds = coloured_dataset(&temp_dir("agree"), 6, 4);
        let opts = TrainOptions { input: Some(InputChoice::Sensors), ..options(ModelKind::Mlp, 3, 3) };
        qiming_ai::train(&ds, &opts, &mut |_| std::ops::ControlFlow::Continue(())).unwrap().0
    };
    let xs: Vec<Vec<f32>> = (0..20).map(|i| vec![i as f32 * 0.1, 200.0 - i as f32 * 7.0]).collect();
    for (x, b) in xs.iter().zip(qiming_ai::train::burn_scores(&mlp, &xs)) {
        for (o, b) in mlp.scores(x).iter().zip(&b) {
            assert!((o - b).abs() <= 1e-4, "mlp: ours {o} burn {b}");
        }
    }
}

#[test]
fn train_and_eval_commands_report_json() {
    let dir = temp_dir("cli");
    let data = dir.join("data");
    coloured_dataset(&data, 12, 5);
    let model = dir.join("p.qmodel");
    let out = qiming(&["ai", "train", path(&data), "--model", "perceptron", "--seed", "3", "--out", path(&model), "--epochs", "10", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["model_kind", "dataset_sha256", "epochs", "training", "validation", "input"] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
    assert_eq!(json["model_kind"], "perceptron");
    assert_eq!(json["input"], "sensors");
    assert!(json["validation"]["accuracy"].as_f64().unwrap() > 0.8, "{json}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("epoch  10/10"), "progress on stderr");

    let out = qiming(&["ai", "eval", path(&model), path(&data), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["evaluated"], "test", "its own dataset is evaluated on the test split");
    assert_eq!(json["samples"], 9);
    // Another dataset, all of it, with a model trained for one epoch on images (so it errs).
    let other = dir.join("other");
    coloured_dataset(&other, 8, 6);
    let out =
        qiming(&["ai", "train", path(&data), "--model", "perceptron", "--input", "image", "--seed", "3", "--out", path(&model), "--epochs", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = qiming(&["ai", "eval", path(&model), path(&other), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["evaluated"], "all");
    insta::with_settings!({ snapshot_path => repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!("ai-eval", json);
    });
    let out = qiming(&["ai", "eval", path(&model), path(&data)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("confusion matrix") && text.contains("precision"), "{text}");
}
