//! The `.qmodel` file: a model's kind, labels, input, the dataset it was
//! trained on, its layers and their f32 weights. Model files are untrusted
//! input (students hand them in): sizes, shapes, layer and parameter counts
//! are checked against limits before anything is allocated.
//!
//! Layout: `QIMINGM1` (8 bytes), the header's length (u32 LE), the header
//! (JSON, [`Header`]), the weights (f32 LE, layer by layer in the order the
//! layers document), and a SHA-256 of everything before it (32 bytes).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Classifier, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_LEN, IMAGE_WIDTH, ModelKind};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"QIMINGM1";
/// The header's `format`.
pub const FORMAT: &str = "qiming-model";
/// The header's `version`.
pub const VERSION: u32 = 1;
/// Largest header, in bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most layers.
pub const MAX_LAYERS: usize = 16;
/// Most parameters (4 M f32, 16 MiB).
pub const MAX_PARAMETERS: u64 = 4 * 1024 * 1024;
/// Largest model file, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 + 4 + MAX_HEADER_BYTES as u64 + 4 * MAX_PARAMETERS + 32;
/// Most channels of a convolution, units of a dense layer, clusters.
pub const MAX_WIDTH: usize = 4096;
/// Largest convolution kernel side.
pub const MAX_KERNEL: usize = 7;
/// Most multiply-adds of one prediction (keeps `classify` cheap in virtual time).
pub const MAX_COST: u64 = 50_000_000;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is larger than any model may be; it was not read.
    #[error("the model file is {size} bytes; at most {MAX_FILE_BYTES} bytes are accepted")]
    TooLarge {
        /// Its size.
        size: u64,
    },
    /// The file does not start like a model file.
    #[error("not a Qiming model file (it does not start with {MAGIC:?}); train one with `qiming ai train`")]
    NotAModel,
    /// The file ends early.
    #[error("the model file is truncated: {needed} bytes needed, {found} present")]
    Truncated {
        /// Bytes the layout needs.
        needed: u64,
        /// Bytes present.
        found: u64,
    },
    /// The checksum does not match: the file was damaged or edited.
    #[error("the model file is damaged (its checksum does not match); train or copy it again")]
    Checksum,
    /// The header is not valid.
    #[error("the model file's header is invalid: {0}")]
    Header(String),
    /// The layers do not fit together or break a limit.
    #[error("the model's layers are invalid: {0}")]
    Layers(String),
    /// A weight is not a finite number.
    #[error("the model has a weight that is not a finite number (parameter {0})")]
    NotFinite(u64),
}

/// What a model reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Input {
    /// A camera image (32×24×3, see [`crate::image_input`]).
    Image {
        /// 32.
        width: u32,
        /// 24.
        height: u32,
        /// 3.
        channels: u32,
    },
    /// A sensor vector with these names, in this order.
    Sensors {
        /// The sensors' names (as in the dataset).
        names: Vec<String>,
    },
}

impl Input {
    /// The camera image input.
    pub fn image() -> Input {
        Input::Image { width: IMAGE_WIDTH as u32, height: IMAGE_HEIGHT as u32, channels: IMAGE_CHANNELS as u32 }
    }

    /// Input length: 2304 for images, the number of sensors otherwise.
    pub fn len(&self) -> usize {
        match self {
            Input::Image { width, height, channels } => (*width as usize) * (*height as usize) * (*channels as usize),
            Input::Sensors { names } => names.len(),
        }
    }

    /// Whether the input has no values (never true of a valid model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One layer. The network's values flow through them in order; see
/// [`crate::infer`] for exactly what each computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// `(x - mean) * scale` per value; parameters: `mean[n]`, `scale[n]`.
    Standardize {
        /// Values.
        n: usize,
    },
    /// 2-D convolution, stride 1, zero padding; parameters: weights
    /// `[out][in][kernel][kernel]`, bias `[out]`.
    Conv2d {
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Kernel side.
        kernel: usize,
        /// Zero padding on every side.
        padding: usize,
    },
    /// `max(x, 0)`.
    Relu,
    /// 2×2 max pooling with stride 2 (odd edges dropped).
    MaxPool2,
    /// Fully connected; parameters: weights `[outputs][inputs]`, bias `[outputs]`.
    Dense {
        /// Input values (everything before it, flattened).
        inputs: usize,
        /// Output values.
        outputs: usize,
    },
    /// Nearest centroid (k-means); parameters: centroids `[k][dim]`. The
    /// score of a label is minus the squared distance to its nearest centroid.
    Nearest {
        /// Clusters.
        k: usize,
        /// Values per centroid.
        dim: usize,
        /// The label index of each cluster.
        cluster_labels: Vec<usize>,
    },
}

/// Values flowing between layers: `[channels, height, width]` or a flat vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Shape {
    Image { c: usize, h: usize, w: usize },
    Flat(usize),
}

impl Shape {
    pub(crate) fn len(self) -> usize {
        match self {
            Shape::Image { c, h, w } => c * h * w,
            Shape::Flat(n) => n,
        }
    }
}

/// How a model was trained (informative; not used for inference).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// The seed.
    pub seed: u64,
    /// Passes over the data.
    pub epochs: u32,
    /// Training samples.
    pub samples: usize,
}

/// The model file's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The model kind.
    pub kind: ModelKind,
    /// The labels, sorted; predictions index them.
    pub labels: Vec<String>,
    /// What the model reads.
    pub input: Input,
    /// SHA-256 of the dataset it was trained on (docs/ai.md).
    pub dataset_sha256: String,
    /// The layers.
    pub layers: Vec<Layer>,
    /// Number of f32 weights that follow the header.
    pub parameters: u64,
    /// How it was trained.
    pub training: Training,
}

/// A model: header and weights, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub(crate) header: Header,
    pub(crate) weights: Vec<f32>,
    /// Multiply-adds of one prediction.
    pub(crate) cost: u64,
}

/// Why a model does not fit a lab.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Misfit {
    /// The model predicts other labels than the lab uses.
    #[error("this model knows the labels {model:?}, but this lab uses {lab:?}: train it on a dataset recorded in this lab")]
    Labels {
        /// The model's labels.
        model: Vec<String>,
        /// The lab's labels.
        lab: Vec<String>,
    },
    /// The model reads another input than the lab gives.
    #[error("this model reads {model} numbers, but this lab gives it {lab} ({what}): train it on a dataset recorded in this lab")]
    Input {
        /// The model's input length.
        model: usize,
        /// The lab's.
        lab: usize,
        /// What the lab gives.
        what: &'static str,
    },
    /// The lab accepts other kinds of model.
    #[error("this is a {model} model, but this lab accepts only {}: train one with `qiming ai train --model {}`", kind_list(accepted), accepted.first().map_or("cnn", |k| k.name()))]
    Kind {
        /// The model's kind.
        model: ModelKind,
        /// The kinds the lab accepts.
        accepted: Vec<ModelKind>,
    },
    /// The model reads other sensors than the lab gives.
    #[error("this model reads the sensors {model:?}, but this lab gives it {lab:?}: train it on a dataset recorded in this lab")]
    Sensors {
        /// The model's sensors, in order.
        model: Vec<String>,
        /// The lab's.
        lab: Vec<String>,
    },
    /// The model reads sensors the robot does not have (`qiming run --model`).
    #[error("this model reads the sensors {missing:?}, which this robot does not have: train it on a dataset recorded in this scenario")]
    MissingSensors {
        /// Sensors the model reads that the robot lacks.
        missing: Vec<String>,
    },
}

fn kind_list(kinds: &[ModelKind]) -> String {
    kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

impl Misfit {
    /// The message in Chinese (zh-CN), for learners.
    pub fn zh_cn(&self) -> String {
        match self {
            Misfit::Labels { model, lab } => format!("这个模型认识的标签是 {model:?}，但本实验使用 {lab:?}：请用在本实验中录制的数据集训练模型"),
            Misfit::Input { model, lab, .. } => {
                format!("这个模型需要 {model} 个输入数值，但本实验提供 {lab} 个：请用在本实验中录制的数据集训练模型")
            }
            Misfit::Kind { model, accepted } => {
                let names: Vec<&str> = accepted.iter().map(|k| k.name()).collect();
                format!(
                    "这是一个 {model} 模型，但本实验只接受 {}：请用 qiming ai train --model {} 训练模型",
                    names.join("、"),
                    names.first().copied().unwrap_or("cnn")
                )
            }
            Misfit::Sensors { model, lab } => {
                format!("这个模型读取的传感器是 {model:?}，但本实验提供的是 {lab:?}：请用在本实验中录制的数据集训练模型")
            }
            Misfit::MissingSensors { missing } => format!("这个模型要读取传感器 {missing:?}，但这个机器人没有：请用在这个场景中录制的数据集训练模型"),
        }
    }

    /// The message in English (the same as `Display`).
    pub fn en(&self) -> String {
        self.to_string()
    }
}

/// Checked arithmetic for untrusted sizes.
fn mul(a: usize, b: usize) -> Result<usize, ModelError> {
    a.checked_mul(b).ok_or_else(|| ModelError::Layers("a layer is too large".into()))
}

impl Layer {
    /// Parameters, output shape and multiply-adds of this layer on `shape`,
    /// or why it does not fit. Works only with checked arithmetic.
    pub(crate) fn plan(&self, shape: Shape, n_labels: usize) -> Result<(usize, Shape, u64), ModelError> {
        let bad = |m: String| Err(ModelError::Layers(m));
        let wide =
            |n: usize, what: &str| if n == 0 || n > MAX_WIDTH { Err(ModelError::Layers(format!("{what} is {n}; it must be 1–{MAX_WIDTH}"))) } else { Ok(()) };
        match *self {
            Layer::Standardize { n } => {
                if n != shape.len() {
                    return bad(format!("standardize has {n} values but receives {}", shape.len()));
                }
                Ok((mul(n, 2)?, shape, n as u64))
            }
            Layer::Conv2d { in_channels, out_channels, kernel, padding } => {
                let Shape::Image { c, h, w } = shape else { return bad("conv2d needs an image, but receives a flat vector".into()) };
                if in_channels != c {
                    return bad(format!("conv2d expects {in_channels} channels but receives {c}"));
                }
                wide(out_channels, "conv2d out_channels")?;
                if kernel == 0 || kernel > MAX_KERNEL || kernel % 2 == 0 || padding > kernel / 2 {
                    return bad(format!("conv2d kernel {kernel} with padding {padding}: the kernel must be odd, 1–{MAX_KERNEL}, padding at most half of it"));
                }
                let (oh, ow) = ((h + 2 * padding).checked_sub(kernel - 1), (w + 2 * padding).checked_sub(kernel - 1));
                let (Some(oh), Some(ow)) = (oh, ow) else { return bad("conv2d kernel is larger than its input".into()) };
                if oh == 0 || ow == 0 {
                    return bad("conv2d kernel is larger than its input".into());
                }
                let params = mul(mul(mul(mul(out_channels, in_channels)?, kernel)?, kernel)?, 1)? + out_channels;
                let cost = mul(mul(mul(oh, ow)?, out_channels)?, mul(mul(in_channels, kernel)?, kernel)?)? as u64;
                Ok((params, Shape::Image { c: out_channels, h: oh, w: ow }, cost))
            }
            Layer::Relu => Ok((0, shape, 0)),
            Layer::MaxPool2 => {
                let Shape::Image { c, h, w } = shape else { return bad("max_pool2 needs an image, but receives a flat vector".into()) };
                if h < 2 || w < 2 {
                    return bad(format!("max_pool2 receives {h}×{w}, smaller than 2×2"));
                }
                Ok((0, Shape::Image { c, h: h / 2, w: w / 2 }, 0))
            }
            Layer::Dense { inputs, outputs } => {
                if inputs != shape.len() {
                    return bad(format!("dense expects {inputs} inputs but receives {}", shape.len()));
                }
                wide(outputs, "dense outputs")?;
                let params = mul(inputs, outputs)? + outputs;
                Ok((params, Shape::Flat(outputs), mul(inputs, outputs)? as u64))
            }
            Layer::Nearest { k, dim, ref cluster_labels } => {
                if dim != shape.len() {
                    return bad(format!("nearest expects {dim} values but receives {}", shape.len()));
                }
                wide(k, "nearest k")?;
                if cluster_labels.len() != k || cluster_labels.iter().any(|&l| l >= n_labels) {
                    return bad(format!("nearest needs {k} cluster labels, each below {n_labels}"));
                }
                Ok((mul(k, dim)?, Shape::Flat(n_labels), mul(k, dim)? as u64))
            }
        }
    }
}

impl Header {
    /// The number of weights these layers need (the header's `parameters`
    /// must equal it), or why the header is not valid.
    pub fn parameter_count(&self) -> Result<u64, ModelError> {
        Ok(self.plan()?.0)
    }

    /// Checks the header and returns the parameter count and prediction
    /// cost the layers imply (before any weight is allocated).
    fn plan(&self) -> Result<(u64, u64), ModelError> {
        let bad = |m: String| Err(ModelError::Header(m));
        if self.format != FORMAT || self.version != VERSION {
            return bad(format!("format {:?} version {}; this version of Qiming reads {FORMAT:?} version {VERSION}", self.format, self.version));
        }
        if self.labels.len() < 2 || self.labels.len() > crate::dataset::MAX_LABELS || self.labels.windows(2).any(|w| w[0] >= w[1]) {
            return bad(format!("a model needs 2–{} sorted, unique labels", crate::dataset::MAX_LABELS));
        }
        let input_shape = match &self.input {
            Input::Image { width, height, channels } => {
                if (*width as usize, *height as usize, *channels as usize) != (IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_CHANNELS) {
                    return bad(format!("image input {width}×{height}×{channels}; camera images are {IMAGE_WIDTH}×{IMAGE_HEIGHT}×{IMAGE_CHANNELS}"));
                }
                Shape::Image { c: IMAGE_CHANNELS, h: IMAGE_HEIGHT, w: IMAGE_WIDTH }
            }
            Input::Sensors { names } => {
                if names.is_empty() || names.len() > crate::dataset::MAX_SENSORS {
                    return bad(format!("a sensor model reads 1–{} sensors", crate::dataset::MAX_SENSORS));
                }
                Shape::Flat(names.len())
            }
        };
        if self.dataset_sha256.len() != 64 || !self.dataset_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad("dataset_sha256 must be 64 hexadecimal digits".into());
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(ModelError::Layers(format!("{} layers; a model has 1–{MAX_LAYERS}", self.layers.len())));
        }
        let (mut shape, mut params, mut cost) = (input_shape, 0u64, 0u64);
        for layer in &self.layers {
            let (p, next, c) = layer.plan(shape, self.labels.len())?;
            params = params.saturating_add(p as u64);
            cost = cost.saturating_add(c);
            shape = next;
            if params > MAX_PARAMETERS {
                return Err(ModelError::Layers(format!("more than {MAX_PARAMETERS} parameters")));
            }
        }
        if cost > MAX_COST {
            return Err(ModelError::Layers(format!("one prediction costs more than {MAX_COST} multiply-adds")));
        }
        if shape != Shape::Flat(self.labels.len()) {
            return Err(ModelError::Layers(format!("the last layer gives {} values but the model has {} labels", shape.len(), self.labels.len())));
        }
        Ok((params, cost.max(1)))
    }

    /// The layout check, and the declared parameter count must match it.
    pub(crate) fn validate(&self) -> Result<(u64, u64), ModelError> {
        let (params, cost) = self.plan()?;
        if params != self.parameters {
            return Err(ModelError::Header(format!("it declares {} parameters but its layers have {params}", self.parameters)));
        }
        Ok((params, cost))
    }
}

impl Model {
    /// A model from a header and weights, validated like a file.
    pub fn new(header: Header, weights: Vec<f32>) -> Result<Model, ModelError> {
        let (params, cost) = header.validate()?;
        if weights.len() as u64 != params {
            return Err(ModelError::Layers(format!("{} weights given for {params} parameters", weights.len())));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(ModelError::NotFinite(i as u64));
        }
        Ok(Model { header, weights, cost })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The kind.
    pub fn kind(&self) -> ModelKind {
        self.header.kind
    }

    /// The weights, layer by layer.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The SHA-256 of the dataset it was trained on.
    pub fn dataset_sha256(&self) -> &str {
        &self.header.dataset_sha256
    }

    /// The file's bytes (deterministic: the same model gives the same bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(12 + header.len() + 4 * self.weights.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Reads a model from a file's bytes, checking every size before allocating.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let found = bytes.len() as u64;
        if found > MAX_FILE_BYTES {
            return Err(ModelError::TooLarge { size: found });
        }
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        if bytes.len() < 12 + 32 {
            return Err(ModelError::Truncated { needed: 12 + 32, found });
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != sum {
            return Err(ModelError::Checksum);
        }
        let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if header_len > MAX_HEADER_BYTES {
            return Err(ModelError::Header(format!("{header_len} bytes; at most {MAX_HEADER_BYTES}")));
        }
        let Some(header_bytes) = body.get(12..12 + header_len) else {
            return Err(ModelError::Truncated { needed: 12 + header_len as u64 + 32, found });
        };
        let header: Header = serde_json::from_slice(header_bytes).map_err(|e| ModelError::Header(e.to_string()))?;
        let (params, _) = header.validate()?;
        let weight_bytes = &body[12 + header_len..];
        let needed = 12 + header_len as u64 + 4 * params + 32;
        if weight_bytes.len() as u64 != 4 * params {
            return Err(ModelError::Truncated { needed, found });
        }
        let weights = weight_bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Model::new(header, weights)
    }

    /// Reads a model file, checking its size before reading it.
    pub fn read(path: &Path) -> Result<Model, ModelError> {
        use std::io::Read;
        let io = |source| ModelError::Io { path: path.display().to_string(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            return Err(ModelError::TooLarge { size });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        Model::from_bytes(&bytes)
    }

    /// Writes the model file.
    pub fn write(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io { path: path.display().to_string(), source })
    }

    /// Whether this model fits a lab with these labels and this input length.
    pub fn fits(&self, lab_labels: &[String], input_len: usize) -> Result<(), Misfit> {
        if self.header.labels != lab_labels {
            return Err(Misfit::Labels { model: self.header.labels.clone(), lab: lab_labels.to_vec() });
        }
        if self.header.input.len() != input_len {
            let what = if input_len == IMAGE_LEN { "a camera image" } else { "a sensor vector" };
            return Err(Misfit::Input { model: self.header.input.len(), lab: input_len, what });
        }
        Ok(())
    }

    /// Whether the model fits a lab that declares its labels, its input (the
    /// camera image or named sensors, in order) and the kinds it accepts
    /// (empty: any). The kind is checked first, then labels, then input.
    pub fn fits_lab(&self, labels: &[String], input: &Input, kinds: &[ModelKind]) -> Result<(), Misfit> {
        if !kinds.is_empty() && !kinds.contains(&self.header.kind) {
            return Err(Misfit::Kind { model: self.header.kind, accepted: kinds.to_vec() });
        }
        self.fits(labels, input.len())?;
        if let (Input::Sensors { names: model }, Input::Sensors { names: lab }) = (&self.header.input, input)
            && model != lab
        {
            return Err(Misfit::Sensors { model: model.clone(), lab: lab.clone() });
        }
        Ok(())
    }

    /// Whether a robot with the sensors `available` (names as in datasets,
    /// `distance:front`…) can feed this model: an image model always can,
    /// a sensor model when the robot has every sensor it reads.
    pub fn fits_robot(&self, available: &[String]) -> Result<(), Misfit> {
        match &self.header.input {
            Input::Image { .. } => Ok(()),
            Input::Sensors { names } => {
                let missing: Vec<String> = names.iter().filter(|n| !available.contains(n)).cloned().collect();
                if missing.is_empty() { Ok(()) } else { Err(Misfit::MissingSensors { missing }) }
            }
        }
    }

    /// The score of every label for one input (higher is more likely);
    /// deterministic, see [`crate::infer`].
    pub fn scores(&self, input: &[f32]) -> Vec<f32> {
        crate::infer::forward(self, input)
    }
}

impl Classifier for Model {
    fn labels(&self) -> &[String] {
        &self.header.labels
    }

    fn input_len(&self) -> usize {
        self.header.input.len()
    }

    fn predict(&self, input: &[f32]) -> usize {
        crate::infer::argmax(&self.scores(input))
    }

    fn cost(&self) -> u64 {
        self.cost
    }
}
