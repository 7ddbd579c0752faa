//! Training for the AI screen: `qiming_ai::train` on a background thread, with every epoch's metrics sent back for the live curves, a cancel flag checked between epochs, and the model written as a `.qmodel` (carrying its dataset's hash) exactly as `qiming ai train` writes it.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use qiming_ai::{Dataset, EpochReport, Model, TrainError, TrainOptions};

/// A trained and saved model.
#[derive(Clone, Debug)]
pub struct Trained {
    pub model: Arc<Model>,
    pub path: PathBuf,
}

/// Why training gave no model.
#[derive(Debug)]
pub enum TrainFailure {
    /// The student pressed Cancel.
    Cancelled,
    /// Training failed (the dataset does not suit the kind, or the weights diverged).
    Train(TrainError),
    /// The model file could not be written.
    Save(String),
    /// The training thread could not start or died.
    Thread,
}

enum Message {
    Epoch(EpochReport),
    Done(Result<Trained, TrainFailure>),
}

/// Training in progress (or finished) on its own thread.
pub struct TrainJob {
    rx: Receiver<Message>,
    cancel: Arc<AtomicBool>,
    /// Every epoch so far, for the curves.
    pub reports: Vec<EpochReport>,
    /// The result, once training has ended.
    pub result: Option<Result<Trained, TrainFailure>>,
    /// Epochs asked for.
    pub epochs: u32,
}

impl TrainJob {
    /// Trains on `ds` with `options` and writes the model to `out`. `cancel`
    /// is checked after every epoch (an epoch is never cut in half, so a
    /// cancelled run never leaves a half-trained file).
    pub fn start(ds: Dataset, options: TrainOptions, out: PathBuf, cancel: Arc<AtomicBool>) -> TrainJob {
        let (tx, rx) = channel();
        let epochs = options.epochs.unwrap_or(options.kind.default_epochs()).max(1);
        let flag = cancel.clone();
        let failed = tx.clone();
        let spawned = std::thread::Builder::new().name("studio-train".into()).spawn(move || {
            let progress = tx.clone();
            let trained = qiming_ai::train(&ds, &options, &mut |r| {
                let _ = progress.send(Message::Epoch(r.clone()));
                if flag.load(Ordering::Relaxed) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            });
            let result = match trained {
                Ok((model, _)) => save(model, out),
                Err(TrainError::Cancelled) => Err(TrainFailure::Cancelled),
                Err(e) => Err(TrainFailure::Train(e)),
            };
            let _ = tx.send(Message::Done(result));
        });
        if spawned.is_err() {
            let _ = failed.send(Message::Done(Err(TrainFailure::Thread)));
        }
        TrainJob { rx, cancel, reports: Vec::new(), result: None, epochs }
    }

    /// Asks training to stop after the current epoch.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn running(&self) -> bool {
        self.result.is_none()
    }

    /// Takes what the thread has sent; true when something new arrived.
    pub fn poll(&mut self) -> bool {
        let mut news = false;
        while self.result.is_none() {
            match self.rx.try_recv() {
                Ok(m) => {
                    news = true;
                    self.take(m);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    news = true;
                    self.result = Some(Err(TrainFailure::Thread));
                }
            }
        }
        news
    }

    /// Waits until training has ended (tests, `--screenshot`).
    pub fn wait(&mut self) {
        while self.result.is_none() {
            match self.rx.recv() {
                Ok(m) => self.take(m),
                Err(_) => self.result = Some(Err(TrainFailure::Thread)),
            }
        }
    }

    fn take(&mut self, m: Message) {
        match m {
            Message::Epoch(r) => self.reports.push(r),
            Message::Done(r) => self.result = Some(r),
        }
    }
}

/// Writes the model where the student asked (making the folder), as `qiming ai train --out` does.
fn save(model: Model, out: PathBuf) -> Result<Trained, TrainFailure> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| TrainFailure::Save(format!("{}: {e}", parent.display())))?;
    }
    model.write(&out).map_err(|e| TrainFailure::Save(e.to_string()))?;
    Ok(Trained { model: Arc::new(model), path: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::data::tests::TempDir;
    use qiming_ai::ModelKind;
    use qiming_ai::dataset::{NewSample, Split};

    /// Two groups of two sensor readings, every fourth sample in the test split.
    fn blobs(dir: &std::path::Path) -> Dataset {
        let samples = (0..40)
            .map(|i| {
                let e = f64::from(i) * 0.005;
                let (label, x) = if i % 2 == 0 { ("narrow", 0.2 + e) } else { ("wide", 0.8 - e) };
                NewSample {
                    label: label.into(),
                    sensors: vec![x, x + 0.1],
                    image: None,
                    split: if i % 4 < 2 { Split::Train } else { Split::Test },
                    source: None,
                }
            })
            .collect();
        Dataset::create(dir, None, vec!["distance:left".into(), "distance:right".into()], samples).unwrap()
    }

    #[test]
    fn training_saves_a_model_with_its_dataset_hash_and_reports_each_epoch() {
        let dir = TempDir::new("train");
        let ds = blobs(&dir.0.join("data"));
        let out = dir.0.join("models/lane.qmodel");
        let options = TrainOptions { kind: ModelKind::Perceptron, seed: 1, epochs: Some(6), input: None };
        let mut job = TrainJob::start(ds.clone(), options.clone(), out.clone(), Arc::default());
        job.wait();
        let trained = job.result.take().unwrap().unwrap();
        assert_eq!(job.reports.len(), 6);
        assert_eq!(job.reports.last().unwrap().accuracy, 1.0);
        assert!(job.reports.iter().all(|r| r.validation_accuracy.is_some()), "the test split validates");
        let read = Model::read(&out).unwrap();
        assert_eq!(read.dataset_sha256(), ds.sha256());
        assert_eq!(&read, &*trained.model);
        // The same as the CLI's library call: the same seed gives the same bytes.
        let (direct, _) = qiming_ai::train(&ds, &options, &mut |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(direct.to_bytes(), std::fs::read(&out).unwrap());
    }

    #[test]
    fn cancelling_stops_after_the_epoch_and_writes_nothing() {
        let dir = TempDir::new("cancel");
        let ds = blobs(&dir.0.join("data"));
        let out = dir.0.join("never.qmodel");
        let cancel = Arc::new(AtomicBool::new(false));
        let options = TrainOptions { kind: ModelKind::Logistic, seed: 3, epochs: Some(10_000), input: None };
        let mut job = TrainJob::start(ds, options, out.clone(), cancel.clone());
        // Cancel once training is under way, as the button does.
        while job.reports.is_empty() && job.result.is_none() {
            job.poll();
            std::thread::yield_now();
        }
        job.cancel();
        job.wait();
        assert!(matches!(job.result, Some(Err(TrainFailure::Cancelled))), "{:?}", job.result);
        assert!(job.reports.len() < 10_000, "stopped early after {} epochs", job.reports.len());
        assert!(!out.exists(), "a cancelled training writes no model");
        assert!(cancel.load(Ordering::Relaxed));
    }
}
