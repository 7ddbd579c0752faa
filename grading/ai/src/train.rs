//! Training: networks (`cnn`, `mlp`, `logistic`) with burn (the pure-Rust
//! ndarray backend, or LibTorch with the `torch` feature; the model code is
//! the same), the perceptron and k-means by hand (`perceptron.rs`,
//! `kmeans.rs`: the labs draw each step). Weights start from our own seeded
//! generator and batches are shuffled by it, so the same seed and data give
//! a byte-identical model file.

use std::ops::ControlFlow;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::dataset::{Dataset, SplitMix64};
use crate::infer::to_planes;
use crate::model::{FORMAT, Header, Input, Layer, Model, ModelError, Shape, Training, VERSION};
use crate::{IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH, ModelKind, image_input};

/// Which of a dataset's values a model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputChoice {
    /// The camera image.
    Image,
    /// The sensor vector.
    Sensors,
}

/// How to train.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// The model kind.
    pub kind: ModelKind,
    /// Seed of the initial weights and the shuffles.
    pub seed: u64,
    /// Passes over the training data (None: the kind's default).
    pub epochs: Option<u32>,
    /// What the model reads (None: images for `cnn`, `mlp` and `logistic`
    /// when the dataset has them, sensors otherwise).
    pub input: Option<InputChoice>,
}

impl ModelKind {
    /// Epochs when `--epochs` is not given.
    pub fn default_epochs(self) -> u32 {
        match self {
            ModelKind::Cnn => 15,
            ModelKind::Mlp | ModelKind::Logistic => 40,
            ModelKind::Perceptron => 20,
            ModelKind::Kmeans => 50,
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: u32,
    /// Of how many.
    pub epochs: u32,
    /// Training loss: mean cross-entropy (networks), fraction misclassified
    /// while passing over the data (perceptron), mean squared distance to the
    /// nearest centroid (k-means).
    pub loss: f64,
    /// Training accuracy after the epoch.
    pub accuracy: f64,
    /// Accuracy on the test split, if the dataset has one.
    pub validation_accuracy: Option<f64>,
    /// Mean cross-entropy of softmax(scores) on the test split (networks only).
    pub validation_loss: Option<f64>,
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The dataset cannot train this kind of model.
    #[error("{0}")]
    Unsuitable(String),
    /// Training was cancelled by its caller.
    #[error("training was cancelled")]
    Cancelled,
    /// The weights became infinite or NaN.
    #[error("training diverged (a weight became infinite); try another seed or fewer epochs")]
    Diverged,
    /// The trained model broke a model limit.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The data a model trains on: inputs already in the model's layout.
pub(crate) struct Prepared {
    pub(crate) input: Input,
    /// Raw inputs (as `Classifier::predict` receives them), row by row.
    pub(crate) raw: Vec<Vec<f32>>,
    pub(crate) targets: Vec<usize>,
    pub(crate) train: Vec<usize>,
    pub(crate) test: Vec<usize>,
}

/// Raw model input of sample `i` (what a run passes to `predict`).
pub fn sample_input(ds: &Dataset, input: &Input, i: usize) -> Vec<f32> {
    match input {
        Input::Image { .. } => ds.pixels(i).map(image_input).unwrap_or_default(),
        Input::Sensors { .. } => ds.samples()[i].sensors.iter().map(|&v| v as f32).collect(),
    }
}

fn prepare(ds: &Dataset, kind: ModelKind, choice: Option<InputChoice>) -> Result<Prepared, TrainError> {
    let has_sensors = !ds.manifest().sensors.is_empty();
    let choice = choice.unwrap_or(match kind {
        ModelKind::Cnn => InputChoice::Image,
        ModelKind::Mlp | ModelKind::Logistic if ds.has_images() => InputChoice::Image,
        _ if has_sensors => InputChoice::Sensors,
        _ => InputChoice::Image,
    });
    let input = match choice {
        InputChoice::Image if !ds.has_images() => {
            return Err(TrainError::Unsuitable("this dataset has no camera images (\"image\": null); train on --input sensors".into()));
        }
        InputChoice::Image => Input::image(),
        InputChoice::Sensors if kind == ModelKind::Cnn => return Err(TrainError::Unsuitable("a cnn reads camera images, not sensor vectors".into())),
        InputChoice::Sensors if !has_sensors => return Err(TrainError::Unsuitable("this dataset has no sensors; train on --input image".into())),
        InputChoice::Sensors => Input::Sensors { names: ds.manifest().sensors.clone() },
    };
    if ds.labels().len() < 2 {
        return Err(TrainError::Unsuitable(format!("a classifier needs at least two labels; this dataset has {:?}", ds.labels())));
    }
    let n = ds.samples().len();
    let raw: Vec<Vec<f32>> = (0..n).map(|i| sample_input(ds, &input, i)).collect();
    let targets: Vec<usize> = (0..n).map(|i| ds.label_index(i)).collect();
    let (train, test): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| ds.samples()[i].split == crate::dataset::Split::Train);
    if train.is_empty() {
        return Err(TrainError::Unsuitable("the dataset has no samples in the training split".into()));
    }
    Ok(Prepared { input, raw, targets, train, test })
}

/// Mean and 1/standard deviation of each value over the training samples
/// (a constant value gets scale 1), for a `standardize` layer.
pub(crate) fn standardize_params(data: &Prepared) -> Vec<f32> {
    let n = data.input.len();
    let count = data.train.len() as f64;
    let mut mean = vec![0.0f64; n];
    for &i in &data.train {
        for (m, &v) in mean.iter_mut().zip(&data.raw[i]) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0f64; n];
    for &i in &data.train {
        for ((s, &v), m) in var.iter_mut().zip(&data.raw[i]).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    let scale = var.iter().map(|s| (s / count).sqrt()).map(|sd| if sd > 1e-9 { 1.0 / sd } else { 1.0 });
    mean.iter().map(|&m| m as f32).chain(scale.map(|s| s as f32)).collect()
}

/// The layers of each kind for this input and label count.
pub fn architecture(kind: ModelKind, input: &Input, n_labels: usize) -> Vec<Layer> {
    let n = input.len();
    let sensors = matches!(input, Input::Sensors { .. });
    let mut layers = Vec::new();
    if sensors || kind == ModelKind::Kmeans || kind == ModelKind::Perceptron {
        layers.push(Layer::Standardize { n });
    }
    match kind {
        ModelKind::Cnn => {
            // conv 8@3×3 → pool → conv 16@3×3 → pool → dense: 24×32 → 12×16 → 6×8.
            layers.extend([
                Layer::Conv2d { in_channels: IMAGE_CHANNELS, out_channels: 8, kernel: 3, padding: 1 },
                Layer::Relu,
                Layer::MaxPool2,
                Layer::Conv2d { in_channels: 8, out_channels: 16, kernel: 3, padding: 1 },
                Layer::Relu,
                Layer::MaxPool2,
                Layer::Dense { inputs: 16 * (IMAGE_HEIGHT / 4) * (IMAGE_WIDTH / 4), outputs: n_labels },
            ]);
        }
        ModelKind::Mlp => layers.extend([Layer::Dense { inputs: n, outputs: 32 }, Layer::Relu, Layer::Dense { inputs: 32, outputs: n_labels }]),
        ModelKind::Logistic | ModelKind::Perceptron => layers.push(Layer::Dense { inputs: n, outputs: n_labels }),
        ModelKind::Kmeans => layers.push(Layer::Nearest { k: n_labels, dim: n, cluster_labels: (0..n_labels).collect() }),
    }
    layers
}

/// Initial weights: standardize from the data, then U(-k, k) with
/// k = 1/√fan_in for every weight and bias (PyTorch's default), from `rng`.
fn initial_weights(layers: &[Layer], input: &Input, n_labels: usize, standardize: &[f32], rng: &mut SplitMix64) -> Result<Vec<f32>, ModelError> {
    let mut shape = match input {
        Input::Image { .. } => Shape::Image { c: IMAGE_CHANNELS, h: IMAGE_HEIGHT, w: IMAGE_WIDTH },
        Input::Sensors { names } => Shape::Flat(names.len()),
    };
    let mut weights = Vec::new();
    for layer in layers {
        let (count, next, _) = layer.plan(shape, n_labels)?;
        match layer {
            Layer::Standardize { .. } => weights.extend_from_slice(standardize),
            Layer::Conv2d { in_channels, kernel, .. } => {
                let k = 1.0 / ((in_channels * kernel * kernel) as f64).sqrt();
                weights.extend((0..count).map(|_| ((rng.unit_f64() * 2.0 - 1.0) * k) as f32));
            }
            Layer::Dense { inputs, .. } => {
                let k = 1.0 / (*inputs as f64).sqrt();
                weights.extend((0..count).map(|_| ((rng.unit_f64() * 2.0 - 1.0) * k) as f32));
            }
            _ => weights.extend(std::iter::repeat_n(0.0, count)),
        }
        shape = next;
    }
    Ok(weights)
}

/// Trains a model on a dataset. `progress` hears every epoch and may stop
/// training by returning `Break` (the studio's cancel button).
pub fn train(ds: &Dataset, options: &TrainOptions, progress: &mut dyn FnMut(&EpochReport) -> ControlFlow<()>) -> Result<(Model, Vec<EpochReport>), TrainError> {
    let data = prepare(ds, options.kind, options.input)?;
    let n_labels = ds.labels().len();
    let epochs = options.epochs.unwrap_or(options.kind.default_epochs()).max(1);
    let layers = architecture(options.kind, &data.input, n_labels);
    let standardize = standardize_params(&data);
    let mut rng = SplitMix64::new(options.seed);
    let weights = initial_weights(&layers, &data.input, n_labels, &standardize, &mut rng)?;
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kind: options.kind,
        labels: ds.labels().to_vec(),
        input: data.input.clone(),
        dataset_sha256: ds.sha256(),
        layers,
        parameters: weights.len() as u64,
        training: Training { seed: options.seed, epochs, samples: data.train.len() },
    };
    let model = Model::new(header, weights)?;
    match options.kind {
        ModelKind::Cnn | ModelKind::Mlp | ModelKind::Logistic => train_network(model, &data, epochs, &mut rng, progress),
        ModelKind::Perceptron => crate::perceptron::train(model, &data, epochs, &mut rng, progress),
        ModelKind::Kmeans => crate::kmeans::train(model, &data, epochs, &mut rng, progress),
    }
}

/// Accuracy and mean cross-entropy of `model` on samples `idx`.
pub(crate) fn measure(model: &Model, data: &Prepared, idx: &[usize]) -> (f64, f64) {
    if idx.is_empty() {
        return (0.0, 0.0);
    }
    let (mut right, mut loss) = (0usize, 0.0f64);
    for &i in idx {
        let scores = model.scores(&data.raw[i]);
        let best = crate::infer::argmax(&scores);
        right += usize::from(best == data.targets[i]);
        let max = scores.iter().fold(f64::NEG_INFINITY, |m, &s| m.max(f64::from(s)));
        let sum: f64 = scores.iter().map(|&s| (f64::from(s) - max).exp()).sum();
        loss += max + sum.ln() - f64::from(scores[data.targets[i]]);
    }
    (right as f64 / idx.len() as f64, loss / idx.len() as f64)
}

/// The burn device training runs on: LibTorch's CPU with the `torch`
/// feature, burn's pure-Rust ndarray backend otherwise.
pub fn device() -> Device {
    #[cfg(feature = "torch")]
    {
        Device::libtorch()
    }
    // burn 0.22 marks ndarray deprecated in favour of its new `flex`
    // backend; ndarray is the mature one, and the issue fixes it as the default.
    #[cfg(not(feature = "torch"))]
    #[allow(deprecated)]
    {
        Device::ndarray()
    }
}

/// A network's trainable layers as burn modules, built from a [`Model`]'s
/// layers and weights (`standardize` is applied to the data beforehand).
#[derive(Module, Debug)]
pub struct Net {
    convs: Vec<Conv2d>,
    denses: Vec<Linear>,
    pool: MaxPool2d,
    #[module(skip)]
    plan: Vec<Layer>,
}

enum Value {
    Planes(Tensor<4>),
    Flat(Tensor<2>),
}

impl Net {
    /// burn modules holding `model`'s weights on `device`.
    pub fn from_model(model: &Model, device: &Device) -> Net {
        let mut params = model.weights();
        let mut take = |n: usize| {
            let (a, b) = params.split_at(n.min(params.len()));
            params = b;
            a.to_vec()
        };
        let (mut convs, mut denses, mut plan) = (Vec::new(), Vec::new(), Vec::new());
        for layer in &model.header().layers {
            match *layer {
                Layer::Standardize { n } => drop(take(2 * n)),
                Layer::Conv2d { in_channels, out_channels, kernel, padding } => {
                    let mut conv = Conv2dConfig::new([in_channels, out_channels], [kernel, kernel])
                        .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
                        .with_initializer(Initializer::Zeros)
                        .init(device);
                    let w = take(out_channels * in_channels * kernel * kernel);
                    conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [out_channels, in_channels, kernel, kernel]), device));
                    conv.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(take(out_channels), [out_channels]), device)));
                    convs.push(conv);
                    plan.push(layer.clone());
                }
                Layer::Dense { inputs, outputs } => {
                    let mut dense = LinearConfig::new(inputs, outputs).with_initializer(Initializer::Zeros).init(device);
                    let w = take(inputs * outputs);
                    // Our files store [outputs][inputs]; burn's Linear holds [inputs][outputs].
                    let mut t = vec![0.0f32; inputs * outputs];
                    for o in 0..outputs {
                        for i in 0..inputs {
                            t[i * outputs + o] = w[o * inputs + i];
                        }
                    }
                    dense.weight = Param::from_tensor(Tensor::from_data(TensorData::new(t, [inputs, outputs]), device));
                    dense.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(take(outputs), [outputs]), device)));
                    denses.push(dense);
                    plan.push(layer.clone());
                }
                Layer::Relu | Layer::MaxPool2 => plan.push(layer.clone()),
                Layer::Nearest { .. } => {}
            }
        }
        Net { convs, denses, pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(), plan }
    }

    /// Writes the trained weights back into `model` (same layers).
    pub fn export(&self, model: &mut Model) -> Result<(), TrainError> {
        let mut out = Vec::with_capacity(model.weights.len());
        let (mut convs, mut denses) = (self.convs.iter(), self.denses.iter());
        let mut params = &model.weights[..];
        let floats = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
        for layer in &model.header.layers {
            match *layer {
                Layer::Standardize { n } => {
                    out.extend_from_slice(&params[..2 * n]);
                    params = &params[2 * n..];
                }
                Layer::Conv2d { .. } => {
                    let Some(conv) = convs.next() else { return Err(TrainError::Diverged) };
                    out.extend(floats(conv.weight.val().flatten(0, 3)));
                    out.extend(conv.bias.as_ref().map(|b| floats(b.val())).unwrap_or_default());
                }
                Layer::Dense { inputs, outputs } => {
                    let Some(dense) = denses.next() else { return Err(TrainError::Diverged) };
                    let t = floats(dense.weight.val().flatten(0, 1));
                    for o in 0..outputs {
                        for i in 0..inputs {
                            out.push(t.get(i * outputs + o).copied().unwrap_or(f32::NAN));
                        }
                    }
                    out.extend(dense.bias.as_ref().map(|b| floats(b.val())).unwrap_or_default());
                }
                _ => {}
            }
        }
        if out.len() != model.weights.len() {
            return Err(TrainError::Diverged);
        }
        if out.iter().any(|w| !w.is_finite()) {
            return Err(TrainError::Diverged);
        }
        model.weights = out;
        Ok(())
    }

    /// Scores for a batch `[n, input_len]` of inputs in the network's layout
    /// (image planes, standardized sensors).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let mut v = if self.plan.first().is_some_and(|l| matches!(l, Layer::Conv2d { .. })) {
            Value::Planes(x.reshape([n, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH]))
        } else {
            Value::Flat(x)
        };
        let (mut convs, mut denses) = (self.convs.iter(), self.denses.iter());
        for layer in &self.plan {
            v = match (layer, v) {
                (Layer::Conv2d { .. }, Value::Planes(t)) => Value::Planes(convs.next().map_or(t.clone(), |c| c.forward(t))),
                (Layer::MaxPool2, Value::Planes(t)) => Value::Planes(self.pool.forward(t)),
                (Layer::Relu, Value::Planes(t)) => Value::Planes(burn::tensor::activation::relu(t)),
                (Layer::Relu, Value::Flat(t)) => Value::Flat(burn::tensor::activation::relu(t)),
                (Layer::Dense { .. }, v) => {
                    let t = match v {
                        Value::Planes(t) => t.flatten(1, 3),
                        Value::Flat(t) => t,
                    };
                    Value::Flat(denses.next().map_or(t.clone(), |d| d.forward(t)))
                }
                (_, v) => v,
            };
        }
        match v {
            Value::Flat(t) => t,
            Value::Planes(t) => t.flatten(1, 3),
        }
    }
}

/// A sample's input in the network's layout: image planes, or the sensors
/// standardized with the model's first layer.
pub(crate) fn network_input(model: &Model, raw: &[f32]) -> Vec<f32> {
    match (&model.header().input, model.header().layers.first()) {
        (Input::Image { .. }, _) => to_planes(raw),
        (Input::Sensors { .. }, Some(Layer::Standardize { n })) => {
            let p = &model.weights()[..2 * n];
            (0..*n).map(|i| (raw.get(i).copied().unwrap_or(0.0) - p[i]) * p[n + i]).collect()
        }
        _ => raw.to_vec(),
    }
}

/// burn's forward pass of `model` on raw inputs (for checking our own
/// inference against it; not used on the grading path).
pub fn burn_scores(model: &Model, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let device = device();
    let net = Net::from_model(model, &device);
    let len = model.header().input.len();
    let flat: Vec<f32> = inputs.iter().flat_map(|x| network_input(model, x)).collect();
    let out = net.forward(Tensor::from_data(TensorData::new(flat, [inputs.len(), len]), &device));
    let [_, k] = out.dims();
    out.into_data().try_to_vec::<f32>().unwrap_or_default().chunks(k.max(1)).map(<[f32]>::to_vec).collect()
}

const BATCH: usize = 16;
const LEARNING_RATE: f64 = 0.005;

fn train_network(
    mut model: Model,
    data: &Prepared,
    epochs: u32,
    rng: &mut SplitMix64,
    progress: &mut dyn FnMut(&EpochReport) -> ControlFlow<()>,
) -> Result<(Model, Vec<EpochReport>), TrainError> {
    let device = device().autodiff();
    let mut net = Net::from_model(&model, &device);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let len = model.header().input.len();
    let inputs: Vec<Vec<f32>> = data.raw.iter().map(|x| network_input(&model, x)).collect();
    let mut order = data.train.clone();
    let mut reports = Vec::new();
    for epoch in 1..=epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for batch in order.chunks(BATCH) {
            let x: Vec<f32> = batch.iter().flat_map(|&i| inputs[i].iter().copied()).collect();
            let y: Vec<i64> = batch.iter().map(|&i| data.targets[i] as i64).collect();
            let x = Tensor::<2>::from_data(TensorData::new(x, [batch.len(), len]), &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(y, [batch.len()]), &device);
            let loss = loss_fn.forward(net.forward(x), y);
            loss_sum += f64::from(loss.clone().into_scalar::<f32>()) * batch.len() as f64;
            seen += batch.len();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(LEARNING_RATE, net, grads);
        }
        net.export(&mut model)?;
        let (accuracy, _) = measure(&model, data, &data.train);
        let validation = (!data.test.is_empty()).then(|| measure(&model, data, &data.test));
        let report = EpochReport {
            epoch,
            epochs,
            loss: loss_sum / seen.max(1) as f64,
            accuracy,
            validation_accuracy: validation.map(|v| v.0),
            validation_loss: validation.map(|v| v.1),
        };
        let flow = progress(&report);
        reports.push(report);
        if flow.is_break() {
            return Err(TrainError::Cancelled);
        }
    }
    Ok((model, reports))
}
