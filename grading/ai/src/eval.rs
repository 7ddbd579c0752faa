//! Evaluating a model on a dataset: accuracy, per-class precision and recall,
//! and the confusion matrix (`qiming ai eval`, docs/cli.md). Uses the same
//! deterministic inference as runs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Classifier;
use crate::dataset::{Dataset, Split};
use crate::model::{Input, Model};
use crate::train::sample_input;

/// Why a model cannot be evaluated on (or trained for) a dataset.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The dataset has labels the model does not know.
    #[error("the dataset has labels {extra:?} that the model does not know (the model knows {model:?})")]
    Labels {
        /// Labels only the dataset has.
        extra: Vec<String>,
        /// The model's labels.
        model: Vec<String>,
    },
    /// The model reads images but the dataset has none.
    #[error("the model reads camera images but the dataset has none")]
    NoImages,
    /// The model reads other sensors than the dataset has.
    #[error("the model reads the sensors {model:?} but the dataset has {dataset:?}")]
    Sensors {
        /// The model's sensors.
        model: Vec<String>,
        /// The dataset's.
        dataset: Vec<String>,
    },
    /// Nothing to evaluate.
    #[error("the dataset has no samples to evaluate")]
    Empty,
}

impl Mismatch {
    /// The message in Chinese (zh-CN), for learners and teachers.
    pub fn zh_cn(&self) -> String {
        match self {
            Mismatch::Labels { extra, model } => format!("数据集里有模型不认识的标签 {extra:?}（模型认识的是 {model:?}）"),
            Mismatch::NoImages => "模型读取摄像头图片，但数据集里没有图片".into(),
            Mismatch::Sensors { model, dataset } => format!("模型读取的传感器是 {model:?}，但数据集里的是 {dataset:?}"),
            Mismatch::Empty => "数据集里没有可以评估的样本".into(),
        }
    }
}

/// Precision and recall of one label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Of the samples predicted as this label, the fraction that have it (0 when none were).
    pub precision: f64,
    /// Of the samples with this label, the fraction predicted as it (0 when there are none).
    pub recall: f64,
    /// Samples with this label.
    pub support: u64,
}

/// The result of `qiming ai eval`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// The model's kind.
    pub model_kind: crate::ModelKind,
    /// SHA-256 of the dataset the model was trained on.
    pub model_dataset_sha256: String,
    /// SHA-256 of the dataset evaluated.
    pub dataset_sha256: String,
    /// `"test"` when the dataset is the model's own (its training samples
    /// would flatter it), `"all"` otherwise.
    pub evaluated: &'static str,
    /// Samples evaluated.
    pub samples: u64,
    /// Fraction predicted right.
    pub accuracy: f64,
    /// The model's labels: the rows and columns of `confusion`.
    pub labels: Vec<String>,
    /// Per label.
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// `confusion[true][predicted]`: samples with label `labels[true]` predicted as `labels[predicted]`.
    pub confusion: Vec<Vec<u64>>,
}

/// Whether `model` can be evaluated on `ds`.
pub fn check(model: &Model, ds: &Dataset) -> Result<(), Mismatch> {
    let labels = model.labels();
    let extra: Vec<String> = ds.labels().iter().filter(|l| labels.binary_search(l).is_err()).cloned().collect();
    if !extra.is_empty() {
        return Err(Mismatch::Labels { extra, model: labels.to_vec() });
    }
    match &model.header().input {
        Input::Image { .. } if !ds.has_images() => return Err(Mismatch::NoImages),
        Input::Sensors { names } if names != &ds.manifest().sensors => {
            return Err(Mismatch::Sensors { model: names.clone(), dataset: ds.manifest().sensors.clone() });
        }
        _ => {}
    }
    Ok(())
}

/// Evaluates `model` on `ds` (its test split if `ds` is the dataset the model was trained on).
pub fn evaluate(model: &Model, ds: &Dataset) -> Result<Evaluation, Mismatch> {
    check(model, ds)?;
    let sha = ds.sha256();
    let own = sha == model.dataset_sha256();
    let idx: Vec<usize> = (0..ds.samples().len()).filter(|&i| !own || ds.samples()[i].split == Split::Test).collect();
    if idx.is_empty() {
        return Err(Mismatch::Empty);
    }
    let labels = model.labels().to_vec();
    let k = labels.len();
    let mut confusion = vec![vec![0u64; k]; k];
    for &i in &idx {
        let truth = labels.binary_search(&ds.samples()[i].label).unwrap_or(0);
        let predicted = model.predict(&sample_input(ds, &model.header().input, i));
        confusion[truth][predicted] += 1;
    }
    let right: u64 = (0..k).map(|j| confusion[j][j]).sum();
    let per_class = labels
        .iter()
        .enumerate()
        .map(|(j, l)| {
            let predicted: u64 = (0..k).map(|t| confusion[t][j]).sum();
            let support: u64 = confusion[j].iter().sum();
            let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            (l.clone(), ClassMetrics { precision: ratio(confusion[j][j], predicted), recall: ratio(confusion[j][j], support), support })
        })
        .collect();
    Ok(Evaluation {
        model_kind: model.kind(),
        model_dataset_sha256: model.dataset_sha256().to_string(),
        dataset_sha256: sha,
        evaluated: if own { "test" } else { "all" },
        samples: idx.len() as u64,
        accuracy: right as f64 / idx.len() as f64,
        labels,
        per_class,
        confusion,
    })
}
