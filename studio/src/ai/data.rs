//! The AI screen's dataset work without any UI: edits saved back in the documented folder format (docs/ai.md), and recording a dataset from a run of the open program, as `qiming ai record` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use qiming_ai::dataset::DatasetError;
use qiming_ai::{Dataset, Recorded, RunSource, dataset::append_recording};
use qiming_grading::grade::RUN_STACK;
use qiming_grading::{RunOptions, run_program, sensor_vector_names};
use qiming_runtime::{Outcome, Program};
use qiming_sim::{Scenario, ScenarioError};
use sha2::{Digest, Sha256};

/// Gives sample `id` another label and writes the dataset. Labels no sample
/// has any more are dropped, so a typo fixed leaves no ghost label behind
/// (a model trained on it would not fit the lab).
pub fn relabel(ds: &mut Dataset, id: &str, label: &str) -> Result<(), DatasetError> {
    ds.relabel(id, label.trim())?;
    ds.drop_unused_labels();
    ds.save()
}

/// Deletes sample `id` (and its image) and writes the dataset.
pub fn delete(ds: &mut Dataset, id: &str) -> Result<(), DatasetError> {
    ds.remove(id)?;
    ds.drop_unused_labels();
    ds.save()
}

/// Splits into training and test samples (stratified by label, seeded) and writes the dataset.
pub fn split(ds: &mut Dataset, seed: u64, test_fraction: f64) -> Result<(), DatasetError> {
    ds.split(seed, test_fraction)?;
    ds.save()
}

/// How many samples each label has, and how many are in the test split.
pub fn counts(ds: &Dataset) -> (BTreeMap<String, usize>, usize) {
    let mut by_label = BTreeMap::new();
    let mut test = 0;
    for s in ds.samples() {
        *by_label.entry(s.label.clone()).or_insert(0) += 1;
        test += usize::from(s.split == qiming_ai::dataset::Split::Test);
    }
    (by_label, test)
}

/// What to record: a program run in a scenario file with a seed, into a dataset folder.
#[derive(Clone, Debug)]
pub struct RecordRequest {
    pub program: Program,
    pub scenario: PathBuf,
    pub seed: u64,
    pub out: PathBuf,
}

/// A finished recording.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Samples added, per label.
    pub by_label: BTreeMap<String, usize>,
    /// How the run ended (samples recorded before an error are kept, as the CLI keeps them).
    pub outcome: Outcome,
}

/// Why nothing was recorded.
#[derive(Debug)]
pub enum RecordFailure {
    /// The scenario file (named) could not be read or is invalid.
    Scenario(PathBuf, ScenarioError),
    /// The run called `record` not once.
    Nothing(Outcome),
    /// The dataset folder could not be written (or holds a dataset with other sensors).
    Dataset(DatasetError),
    /// The run thread could not start or died.
    Thread,
}

/// Runs the program and appends what it `record`ed, exactly as `qiming ai
/// record PROGRAM --scenario FILE --seed N --out DIR` does. Blocking, and it
/// runs student code: call it on a run thread ([`RecordJob`]).
pub fn record(req: &RecordRequest) -> Result<Recording, RecordFailure> {
    let scenario = Scenario::load(&req.scenario).map_err(|e| RecordFailure::Scenario(req.scenario.clone(), e))?;
    let scenario_sha256 = hex::encode(Sha256::digest(scenario.source.as_bytes()));
    let names = sensor_vector_names(&scenario.resolve(req.seed).robot);
    let options = RunOptions { seed: req.seed, ..RunOptions::default() };
    let result = run_program(&req.program, &scenario, &options);
    let outcome = result.report.outcome.clone();
    if result.samples.is_empty() {
        return Err(RecordFailure::Nothing(outcome));
    }
    let recorded: Vec<Recorded> = result
        .samples
        .iter()
        .map(|s| Recorded { label: s.label.clone(), sensors: s.sensors.clone(), sensor_names: names.clone(), image: s.image.clone(), tick: s.tick })
        .collect();
    let file_name = req.scenario.file_name().map_or_else(|| req.scenario.display().to_string(), |n| n.to_string_lossy().into_owned());
    let source = RunSource { scenario: file_name, scenario_sha256, seed: req.seed, program_sha256: req.program.sha256_hex() };
    append_recording(&req.out, &recorded, &source).map_err(RecordFailure::Dataset)?;
    let mut by_label = BTreeMap::new();
    for s in &result.samples {
        *by_label.entry(s.label.clone()).or_insert(0) += 1;
    }
    Ok(Recording { by_label, outcome })
}

/// A recording in progress on a run thread (the engine's big stack), so the window stays responsive.
pub struct RecordJob {
    rx: Receiver<Result<Recording, RecordFailure>>,
    /// The dataset folder it writes.
    pub out: PathBuf,
}

impl RecordJob {
    pub fn start(req: RecordRequest) -> RecordJob {
        let (tx, rx) = channel();
        let out = req.out.clone();
        let failed = tx.clone();
        let spawned = std::thread::Builder::new().name("studio-record".into()).stack_size(RUN_STACK).spawn(move || {
            let _ = tx.send(record(&req));
        });
        if spawned.is_err() {
            let _ = failed.send(Err(RecordFailure::Thread));
        }
        RecordJob { rx, out }
    }

    /// The result once there is one.
    pub fn poll(&self) -> Option<Result<Recording, RecordFailure>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(RecordFailure::Thread)),
        }
    }

    /// Waits for the result (tests, `--screenshot`).
    pub fn wait(self) -> Result<Recording, RecordFailure> {
        self.rx.recv().unwrap_or(Err(RecordFailure::Thread))
    }
}

/// The lab files a student records with (`record*.rhai` beside `lab.toml`), sorted.
pub fn lab_record_programs(lab_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(lab_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("record")))
        .collect();
    found.sort();
    found
}

/// The lab's scenario files (`scenarios/*.toml`), training arenas first, then by name.
pub fn lab_scenarios(lab_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(lab_dir.join("scenarios"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    found.sort_by_key(|p| (!p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("train")), p.clone()));
    found
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use qiming_ai::dataset::{NewSample, Split};

    /// A temporary folder removed when dropped.
    pub(crate) struct TempDir(pub PathBuf);
    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("qiming-studio-ai-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            TempDir(path)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn image(shade: u8) -> Vec<u8> {
        (0..qiming_ai::IMAGE_LEN).map(|i| shade.wrapping_add((i % 7) as u8)).collect()
    }

    fn sample(label: &str, shade: u8) -> NewSample {
        NewSample { label: label.into(), sensors: vec![f64::from(shade) / 8.0], image: Some(image(shade)), split: Split::Train, source: None }
    }

    #[test]
    fn relabel_delete_and_split_round_trip_through_the_folder() {
        let dir = TempDir::new("edit");
        let samples = (0..12).map(|i| sample(if i % 3 == 0 { "red" } else { "green" }, i * 20)).collect();
        let created = Dataset::create(&dir.0, Some(qiming_ai::dataset::ImageShape::CAMERA), vec!["distance:front".into()], samples).unwrap();
        let mut ds = Dataset::open(&dir.0).unwrap();
        assert_eq!(ds.sha256(), created.sha256());

        // A typo and its fix leave no ghost label.
        relabel(&mut ds, "000002", "gren").unwrap();
        assert_eq!(Dataset::open(&dir.0).unwrap().labels(), ["green", "gren", "red"]);
        relabel(&mut ds, "000002", "green").unwrap();
        let back = Dataset::open(&dir.0).unwrap();
        assert_eq!(back.labels(), ["green", "red"]);
        assert_eq!(back.sha256(), created.sha256(), "relabelling back restores the very same dataset");

        // Deleting removes the sample and its image; the folder stays a valid dataset.
        delete(&mut ds, "000004").unwrap();
        assert!(!dir.0.join("images/000004.png").exists());
        let back = Dataset::open(&dir.0).unwrap();
        assert_eq!(back.samples().len(), 11);
        assert!(back.samples().iter().all(|s| s.id != "000004"));
        assert_eq!(back.pixels(3), Some(&image(4 * 20)[..]), "pixels stay with their samples");
        assert_eq!(back.sha256(), ds.sha256());

        // A seeded split is written, stratified, and the same for the same seed.
        split(&mut ds, 5, 0.25).unwrap();
        let back = Dataset::open(&dir.0).unwrap();
        let (by_label, test) = counts(&back);
        assert_eq!(by_label["red"], 3);
        assert_eq!(test, 1 + 2, "a quarter of each label, at least one: red 1 of 3, green 2 of 8");
        let first: Vec<Split> = back.samples().iter().map(|s| s.split).collect();
        split(&mut ds, 5, 0.25).unwrap();
        assert_eq!(Dataset::open(&dir.0).unwrap().samples().iter().map(|s| s.split).collect::<Vec<_>>(), first);
        split(&mut ds, 6, 0.25).unwrap();
        assert_eq!(counts(&Dataset::open(&dir.0).unwrap()).1, 3);
    }

    #[test]
    fn recording_a_run_appends_what_the_program_records() {
        let lab = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../curriculum/labs/ai-perceptron");
        let dir = TempDir::new("record");
        let program = Program::load(lab.join("record.rhai")).unwrap();
        let scenario = lab_scenarios(&lab).into_iter().next().unwrap();
        assert!(scenario.ends_with("train-a.toml"), "{scenario:?}");
        assert_eq!(lab_record_programs(&lab), [lab.join("record.rhai")]);
        let req = RecordRequest { program, scenario, seed: 1, out: dir.0.clone() };
        let got = RecordJob::start(req.clone()).wait().unwrap();
        let ds = Dataset::open(&dir.0).unwrap();
        assert_eq!(ds.samples().len(), got.by_label.values().sum::<usize>());
        assert_eq!(ds.labels(), ["narrow", "wide"]);
        assert_eq!(ds.manifest().sensors, ["distance:left", "distance:right"]);
        let source = ds.samples()[0].source.clone().unwrap();
        assert_eq!((source.scenario.as_str(), source.seed), ("train-a.toml", 1));
        // A second run appends.
        RecordJob::start(req).wait().unwrap();
        assert_eq!(Dataset::open(&dir.0).unwrap().samples().len(), 2 * ds.samples().len());
        // A program that records nothing changes nothing.
        let quiet = RecordRequest { program: Program::rhai("stop();"), scenario: lab.join("scenarios/train-a.toml"), seed: 1, out: dir.0.join("none") };
        assert!(matches!(record(&quiet), Err(RecordFailure::Nothing(_))));
        assert!(!dir.0.join("none").exists());
    }
}
