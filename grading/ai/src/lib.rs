//! Qiming's AI crate: datasets recorded from runs, models, training, and the
//! deterministic inference that runs use through [`Classifier`].
//!
//! The grading path only ever calls [`Classifier::predict`], which is plain,
//! single-threaded Rust over stored weights so that a run's `classify` gives
//! the same answer on every machine and thread count. Training may use
//! threads and other backends; it never runs inside a student's run.
//!
//! `qiming-grading`, the studio and the server's workers link this crate;
//! `qiming-runtime` never does (the sandbox stays small).

pub mod dataset;
pub mod eval;
pub mod infer;
pub mod kmeans;
pub mod model;
pub mod perceptron;
pub mod train;

pub use dataset::{Dataset, DatasetError, Recorded, RunSource};
pub use model::{Misfit, Model, ModelError};
pub use train::{EpochReport, InputChoice, TrainError, TrainOptions, train};

/// Width of a camera image in pixels.
pub const IMAGE_WIDTH: usize = 32;
/// Height of a camera image in pixels.
pub const IMAGE_HEIGHT: usize = 24;
/// Colour channels of a camera image (red, green, blue).
pub const IMAGE_CHANNELS: usize = 3;
/// Bytes of one camera image, and the input length of an image model: 32×24×3 = 2304.
pub const IMAGE_LEN: usize = IMAGE_WIDTH * IMAGE_HEIGHT * IMAGE_CHANNELS;

/// A trained model as a run sees it: inputs in, a label index out.
///
/// Camera images are 32×24 RGB, row-major, top row first, one `u8` per
/// channel (`[r, g, b, r, g, b, …]`); an image model's input is that image as
/// `f32` in `[0, 1]` in the same order ([`image_input`]). A sensor model's
/// input is the sensor vector in the dataset's sensor order.
pub trait Classifier: Send + Sync + std::fmt::Debug {
    /// The labels, sorted; [`Classifier::predict`] returns an index into them.
    fn labels(&self) -> &[String];
    /// Input length the model expects (32*24*3 = 2304 for camera images, n for sensor vectors).
    fn input_len(&self) -> usize;
    /// Deterministic: the same input gives the same index on every machine/thread count.
    fn predict(&self, input: &[f32]) -> usize;
    /// Multiply-adds of one prediction, which the run charges as virtual time.
    fn cost(&self) -> u64;
}

/// A camera image (32×24 RGB `u8`, row-major, top row first) as a model
/// input: each byte divided by 255, in the same order.
///
/// An image of another length gives an input of that length, which
/// [`Classifier::predict`]'s caller must check against [`Classifier::input_len`].
pub fn image_input(image: &[u8]) -> Vec<f32> {
    image.iter().map(|&b| f32::from(b) / 255.0).collect()
}

/// The model kinds `qiming ai train --model KIND` knows (their names are a contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A small convolutional network over camera images.
    Cnn,
    /// A multi-layer perceptron (one hidden layer) over images or sensor vectors.
    Mlp,
    /// Rosenblatt's perceptron, trained one sample at a time (the lab draws each step).
    Perceptron,
    /// Multinomial logistic regression (softmax over one dense layer).
    Logistic,
    /// k-means clustering; each cluster is named by the majority label of its members.
    Kmeans,
}

impl ModelKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [ModelKind; 5] = [ModelKind::Cnn, ModelKind::Mlp, ModelKind::Perceptron, ModelKind::Logistic, ModelKind::Kmeans];

    /// The kind's name on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Cnn => "cnn",
            ModelKind::Mlp => "mlp",
            ModelKind::Perceptron => "perceptron",
            ModelKind::Logistic => "logistic",
            ModelKind::Kmeans => "kmeans",
        }
    }

    /// The kind called `name`, if there is one.
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_input_scales_bytes_to_unit_range_in_order() {
        let input = image_input(&[0, 255, 51]);
        assert_eq!(input, vec![0.0, 1.0, 0.2]);
        assert_eq!(IMAGE_LEN, 2304);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in ModelKind::ALL {
            assert_eq!(ModelKind::parse(k.name()), Some(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        assert_eq!(ModelKind::parse("svm"), None);
    }
}
