//! The dataset folder format (docs/ai.md): a `manifest.json` with labels,
//! sensor vectors, splits and where each sample came from, plus one 32×24 RGB
//! PNG per sample under `images/`. Opening validates everything against
//! limits before allocating; writing is canonical, so the same data gives the
//! same [`Dataset::sha256`].

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_LEN, IMAGE_WIDTH};

/// The manifest's `format` value.
pub const FORMAT: &str = "qiming-dataset";
/// The manifest format version this crate reads and writes.
pub const VERSION: u32 = 1;
/// The manifest's file name inside a dataset folder.
pub const MANIFEST: &str = "manifest.json";
/// The folder, inside a dataset folder, that holds the images.
pub const IMAGES: &str = "images";

/// Most samples a dataset may hold (a class of students recording for a
/// lesson makes a few thousand).
pub const MAX_SAMPLES: usize = 100_000;
/// Largest `manifest.json` read, in bytes.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
/// Largest image file read, in bytes (a 32×24 RGB PNG is at most ~2.5 KB even uncompressed).
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024;
/// Most sensors per sample.
pub const MAX_SENSORS: usize = 256;
/// Most labels per dataset.
pub const MAX_LABELS: usize = 256;
/// Longest label, sensor name or sample id, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Why a dataset could not be read or written. Each message names the file
/// and, where there is one, the sample.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file is larger than the format allows; it was not read.
    #[error("{}: {size} bytes is more than the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The manifest is not valid JSON of the dataset format.
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The manifest parses but breaks a rule of the format outside any sample.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// One sample breaks a rule of the format.
    #[error("{}: sample {id:?}: {problem}", path.display())]
    Sample {
        /// The file at fault: the manifest, or the sample's image.
        path: PathBuf,
        /// The sample's id.
        id: String,
        /// What is wrong.
        problem: SampleProblem,
    },
}

/// What is wrong with one sample.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SampleProblem {
    /// Another sample already has this id.
    #[error("duplicate id (another sample has it)")]
    DuplicateId,
    /// The id is empty, too long or has characters other than letters, digits, `-` and `_`.
    #[error("the id must be 1–{MAX_NAME_LEN} letters, digits, '-' or '_'")]
    BadId,
    /// The label is not in the manifest's `labels`.
    #[error("label {label:?} is not one of the dataset's labels {known:?}")]
    UnknownLabel {
        /// The sample's label.
        label: String,
        /// The dataset's labels.
        known: Vec<String>,
    },
    /// The sample has another number of sensor values than the manifest has sensor names.
    #[error("{found} sensor values, but the dataset has {expected} sensors")]
    SensorCount {
        /// Values in the sample.
        found: usize,
        /// Names in the manifest.
        expected: usize,
    },
    /// A sensor value is not a finite number.
    #[error("sensor {name:?} is not a finite number")]
    SensorNotFinite {
        /// The sensor's name.
        name: String,
    },
    /// The image path is not `images/<file>.png` inside the dataset.
    #[error("image path {0:?} must be \"images/<name>.png\" inside the dataset folder")]
    BadImagePath(String),
    /// The dataset has images but this sample has none, or the other way round.
    #[error("{0}")]
    ImagePresence(&'static str),
    /// The image file does not exist.
    #[error("image file is missing")]
    MissingImage,
    /// The image is not a decodable PNG.
    #[error("not a valid PNG image: {0}")]
    BadPng(String),
    /// The image is not 32×24 pixels.
    #[error("image is {width}×{height} pixels; camera images are {IMAGE_WIDTH}×{IMAGE_HEIGHT}")]
    ImageSize {
        /// Width found.
        width: u32,
        /// Height found.
        height: u32,
    },
    /// The image is not 8-bit RGB.
    #[error("image is {0}; camera images are 8-bit RGB without alpha")]
    ImageColor(String),
    /// Pixels of a new sample are not 32×24×3 bytes.
    #[error("image has {0} bytes; a camera image has {IMAGE_LEN}")]
    ImageBytes(usize),
}

impl DatasetError {
    /// The message in Chinese (zh-CN), for learners and teachers: no
    /// operating-system or parser text (those are English), only what is wrong and where.
    pub fn zh_cn(&self) -> String {
        match self {
            DatasetError::Io { path, source } => {
                let why = match source.kind() {
                    std::io::ErrorKind::NotFound => "文件不存在",
                    std::io::ErrorKind::PermissionDenied => "没有读写权限",
                    _ => "无法读写",
                };
                format!("{}：{why}", path.display())
            }
            DatasetError::TooLarge { path, size, limit } => format!("{}：有 {size} 字节，超过了上限 {limit} 字节", path.display()),
            DatasetError::Syntax { path, line, column, .. } => {
                format!("{}：第 {line} 行第 {column} 列不是有效的数据集清单（JSON 格式或字段不对）", path.display())
            }
            DatasetError::Invalid { path, .. } => format!("{}：清单不符合数据集格式（见 docs/ai.md）", path.display()),
            DatasetError::Sample { path, id, problem } => format!("{}：样本 {id:?}：{}", path.display(), problem.zh_cn()),
        }
    }
}

impl SampleProblem {
    /// The message in Chinese (zh-CN), for learners and teachers.
    pub fn zh_cn(&self) -> String {
        match self {
            SampleProblem::DuplicateId => "编号重复（另一个样本也用了它）".into(),
            SampleProblem::BadId => format!("编号必须是 1～{MAX_NAME_LEN} 个字母、数字、“-”或“_”"),
            SampleProblem::UnknownLabel { label, known } => format!("标签 {label:?} 不在数据集的标签 {known:?} 里"),
            SampleProblem::SensorCount { found, expected } => format!("有 {found} 个传感器读数，但数据集有 {expected} 个传感器"),
            SampleProblem::SensorNotFinite { name } => format!("传感器 {name:?} 的读数不是有限的数"),
            SampleProblem::BadImagePath(p) => format!("图片路径 {p:?} 必须是数据集文件夹里的“images/名称.png”"),
            SampleProblem::ImagePresence(_) => "数据集有图片而这个样本没有，或者反过来".into(),
            SampleProblem::MissingImage => "图片文件不存在".into(),
            SampleProblem::BadPng(_) => "不是有效的 PNG 图片".into(),
            SampleProblem::ImageSize { width, height } => format!("图片是 {width}×{height} 像素，摄像头图片是 {IMAGE_WIDTH}×{IMAGE_HEIGHT}"),
            SampleProblem::ImageColor(_) => "图片必须是 8 位 RGB、不带透明通道".into(),
            SampleProblem::ImageBytes(n) => format!("图片有 {n} 个字节，摄像头图片是 {IMAGE_LEN} 个"),
        }
    }
}

/// The shape of the dataset's images (always the camera's: 32×24×3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageShape {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Colour channels.
    pub channels: u32,
}

impl ImageShape {
    /// The camera's image shape, 32×24 RGB.
    pub const CAMERA: ImageShape = ImageShape { width: IMAGE_WIDTH as u32, height: IMAGE_HEIGHT as u32, channels: IMAGE_CHANNELS as u32 };
}

/// Whether a sample is for training or for testing (validation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used to fit the model.
    Train,
    /// Held out to measure it.
    Test,
}

/// Where a recorded sample came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The scenario file's name.
    pub scenario: String,
    /// SHA-256 of the scenario file, hex.
    pub scenario_sha256: String,
    /// The run's seed.
    pub seed: u64,
    /// SHA-256 of the program that recorded it, hex.
    pub program_sha256: String,
    /// The simulation tick of the `record` call.
    pub tick: u64,
}

/// The run a recording came from (a [`Source`] without the tick, which each sample has).
#[derive(Clone, Debug, PartialEq)]
pub struct RunSource {
    /// The scenario file's name.
    pub scenario: String,
    /// SHA-256 of the scenario file, hex.
    pub scenario_sha256: String,
    /// The run's seed.
    pub seed: u64,
    /// SHA-256 of the program, hex.
    pub program_sha256: String,
}

/// One sample as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleMeta {
    /// Unique within the dataset; letters, digits, `-`, `_`.
    pub id: String,
    /// `images/<file>.png`, or absent in a sensor-only dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// One value per name in [`Manifest::sensors`], same order.
    #[serde(default)]
    pub sensors: Vec<f64>,
    /// One of [`Manifest::labels`].
    pub label: String,
    /// Training or test.
    pub split: Split,
    /// Where it was recorded, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The camera's image shape, or `null` for a dataset of sensor vectors only.
    pub image: Option<ImageShape>,
    /// Sensor names, in the order of every sample's `sensors`.
    #[serde(default)]
    pub sensors: Vec<String>,
    /// The labels, sorted and unique.
    pub labels: Vec<String>,
    /// The samples, in order.
    pub samples: Vec<SampleMeta>,
}

/// A sample to add to a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSample {
    /// Its label (added to the dataset's labels if new).
    pub label: String,
    /// Sensor values in the dataset's sensor order.
    pub sensors: Vec<f64>,
    /// Camera pixels (32×24×3 bytes), or `None` in a sensor-only dataset.
    pub image: Option<Vec<u8>>,
    /// Training or test.
    pub split: Split,
    /// Where it came from.
    pub source: Option<Source>,
}

/// One `record(label)` call of a run: what `qiming ai record` appends.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The label the program gave.
    pub label: String,
    /// The sensor readings at that moment, in `sensor_names` order.
    pub sensors: Vec<f64>,
    /// The names of the sensors, e.g. `distance:front`.
    pub sensor_names: Vec<String>,
    /// The camera image (32×24 RGB, row-major, top row first).
    pub image: Vec<u8>,
    /// The simulation tick of the call.
    pub tick: u64,
}

/// A dataset folder, opened and validated: the manifest and every image's pixels.
#[derive(Clone, Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    /// Decoded pixels per sample (32×24×3 bytes), empty in a sensor-only dataset.
    pixels: Vec<Vec<u8>>,
    /// Image files of removed samples, deleted by the next [`Dataset::save`].
    removed: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io { path: path.to_path_buf(), source }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Labels and sensor names are shown to children and drawn in plots: any
/// printable text without control characters, at most [`MAX_NAME_LEN`] bytes.
fn valid_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN && !s.chars().any(char::is_control) && s.trim() == s
}

/// Reads a file whose size is checked against `limit` before it is read.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, DatasetError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(io(path))?;
    let size = file.metadata().map_err(io(path))?.len();
    if size > limit {
        return Err(DatasetError::TooLarge { path: path.to_path_buf(), size, limit });
    }
    // `take` guards against a file that grows between the check and the read.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io(path))?;
    if bytes.len() as u64 > limit {
        return Err(DatasetError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Decodes a camera PNG, checking its header before allocating the pixels.
pub fn decode_png(bytes: &[u8]) -> Result<Vec<u8>, SampleProblem> {
    let bad = |e: png::DecodingError| SampleProblem::BadPng(e.to_string());
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: 1 << 20 });
    let header = decoder.read_header_info().map_err(bad)?;
    if header.width as usize != IMAGE_WIDTH || header.height as usize != IMAGE_HEIGHT {
        return Err(SampleProblem::ImageSize { width: header.width, height: header.height });
    }
    if header.color_type != png::ColorType::Rgb || header.bit_depth != png::BitDepth::Eight {
        return Err(SampleProblem::ImageColor(format!("{:?} at {} bits", header.color_type, header.bit_depth as u8)));
    }
    let mut reader = decoder.read_info().map_err(bad)?;
    let mut pixels = vec![0u8; IMAGE_LEN];
    let info = reader.next_frame(&mut pixels).map_err(bad)?;
    if info.buffer_size() != IMAGE_LEN {
        return Err(SampleProblem::BadPng(format!("decoded {} bytes instead of {IMAGE_LEN}", info.buffer_size())));
    }
    Ok(pixels)
}

/// Encodes camera pixels as an 8-bit RGB PNG (deterministic: fixed settings).
pub fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, SampleProblem> {
    if pixels.len() != IMAGE_LEN {
        return Err(SampleProblem::ImageBytes(pixels.len()));
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, IMAGE_WIDTH as u32, IMAGE_HEIGHT as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let result = encoder.write_header().and_then(|mut w| {
        w.write_image_data(pixels)?;
        w.finish()
    });
    result.map_err(|e| SampleProblem::BadPng(e.to_string()))?;
    Ok(out)
}

impl Manifest {
    /// An empty manifest for camera images and these sensors.
    pub fn new(image: Option<ImageShape>, sensors: Vec<String>) -> Manifest {
        Manifest { format: FORMAT.into(), version: VERSION, image, sensors, labels: Vec::new(), samples: Vec::new() }
    }

    /// The canonical bytes: compact JSON with fields in declaration order.
    /// Both the hash and the file on disk use them.
    pub fn canonical(&self) -> Vec<u8> {
        // Serialising plain structs, strings and finite floats cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Checks everything but the image files. `path` names the manifest in errors.
    fn validate(&self, path: &Path) -> Result<(), DatasetError> {
        let invalid = |message: String| DatasetError::Invalid { path: path.to_path_buf(), message };
        if self.format != FORMAT {
            return Err(invalid(format!("\"format\" is {:?}; a dataset manifest has \"format\": {FORMAT:?}", self.format)));
        }
        if self.version != VERSION {
            return Err(invalid(format!("\"version\" is {}; this version of Qiming reads version {VERSION}", self.version)));
        }
        if let Some(shape) = self.image
            && shape != ImageShape::CAMERA
        {
            return Err(invalid(format!(
                "\"image\" is {}×{}×{}; camera images are {IMAGE_WIDTH}×{IMAGE_HEIGHT}×{IMAGE_CHANNELS}",
                shape.width, shape.height, shape.channels
            )));
        }
        if self.image.is_none() && self.sensors.is_empty() {
            return Err(invalid("the dataset has neither images nor sensors: there is nothing to learn from".into()));
        }
        if self.sensors.len() > MAX_SENSORS {
            return Err(invalid(format!("{} sensors; at most {MAX_SENSORS}", self.sensors.len())));
        }
        let mut seen = BTreeSet::new();
        for name in &self.sensors {
            if !valid_label(name) {
                return Err(invalid(format!("sensor name {name:?} must be 1–{MAX_NAME_LEN} bytes of text without control characters")));
            }
            if !seen.insert(name) {
                return Err(invalid(format!("sensor {name:?} is listed twice")));
            }
        }
        if self.labels.len() > MAX_LABELS {
            return Err(invalid(format!("{} labels; at most {MAX_LABELS}", self.labels.len())));
        }
        for name in &self.labels {
            if !valid_label(name) {
                return Err(invalid(format!("label {name:?} must be 1–{MAX_NAME_LEN} bytes of text without control characters")));
            }
        }
        if self.labels.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(format!("\"labels\" must be sorted and unique: {:?}", self.labels)));
        }
        if self.samples.len() > MAX_SAMPLES {
            return Err(invalid(format!("{} samples; at most {MAX_SAMPLES}", self.samples.len())));
        }
        let mut ids = BTreeSet::new();
        for s in &self.samples {
            let problem = |problem| DatasetError::Sample { path: path.to_path_buf(), id: s.id.clone(), problem };
            if !valid_name(&s.id) {
                return Err(problem(SampleProblem::BadId));
            }
            if !ids.insert(&s.id) {
                return Err(problem(SampleProblem::DuplicateId));
            }
            if self.labels.binary_search(&s.label).is_err() {
                return Err(problem(SampleProblem::UnknownLabel { label: s.label.clone(), known: self.labels.clone() }));
            }
            if s.sensors.len() != self.sensors.len() {
                return Err(problem(SampleProblem::SensorCount { found: s.sensors.len(), expected: self.sensors.len() }));
            }
            if let Some(i) = s.sensors.iter().position(|v| !v.is_finite()) {
                return Err(problem(SampleProblem::SensorNotFinite { name: self.sensors[i].clone() }));
            }
            match (&self.image, &s.image) {
                (Some(_), None) => return Err(problem(SampleProblem::ImagePresence("the dataset has images but this sample has none"))),
                (None, Some(_)) => return Err(problem(SampleProblem::ImagePresence("the dataset has no images (\"image\": null) but this sample has one"))),
                (Some(_), Some(file)) if !valid_image_path(file) => return Err(problem(SampleProblem::BadImagePath(file.clone()))),
                _ => {}
            }
        }
        Ok(())
    }
}

/// `images/<name>.png` with a plain file name: nothing can point outside the folder.
fn valid_image_path(p: &str) -> bool {
    let Some(name) = p.strip_prefix("images/") else { return false };
    let Some(stem) = name.strip_suffix(".png") else { return false };
    valid_name(stem)
}

impl Dataset {
    /// Opens and validates the dataset in `dir`: the manifest, then every
    /// image (size limit, PNG header, 32×24 RGB) in sample order.
    pub fn open(dir: &Path) -> Result<Dataset, DatasetError> {
        let path = dir.join(MANIFEST);
        let bytes = read_limited(&path, MAX_MANIFEST_BYTES)?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| DatasetError::Syntax {
            path: path.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        })?;
        manifest.validate(&path)?;
        let mut pixels = Vec::with_capacity(if manifest.image.is_some() { manifest.samples.len() } else { 0 });
        for s in &manifest.samples {
            let Some(file) = &s.image else { continue };
            let image_path = dir.join(file);
            let problem = |problem| DatasetError::Sample { path: image_path.clone(), id: s.id.clone(), problem };
            let bytes = match read_limited(&image_path, MAX_IMAGE_BYTES) {
                Ok(b) => b,
                Err(DatasetError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Err(problem(SampleProblem::MissingImage)),
                Err(e) => return Err(e),
            };
            pixels.push(decode_png(&bytes).map_err(problem)?);
        }
        Ok(Dataset { dir: dir.to_path_buf(), manifest, pixels, removed: Vec::new() })
    }

    /// Creates a new dataset in `dir` (made if missing; it must not hold a
    /// manifest yet) with the given sensors and samples, and writes it.
    pub fn create(dir: &Path, image: Option<ImageShape>, sensors: Vec<String>, samples: Vec<NewSample>) -> Result<Dataset, DatasetError> {
        let path = dir.join(MANIFEST);
        if path.exists() {
            return Err(DatasetError::Invalid { path, message: "a dataset already exists here; append to it or choose another folder".into() });
        }
        let manifest = Manifest::new(image, sensors);
        manifest.validate(&path)?;
        let mut ds = Dataset { dir: dir.to_path_buf(), manifest, pixels: Vec::new(), removed: Vec::new() };
        ds.push_samples(samples)?;
        ds.save()?;
        Ok(ds)
    }

    /// Appends samples to the dataset in `dir` (created with these sensors
    /// and camera images if it does not exist) and writes it. Returns the new ids.
    pub fn append(dir: &Path, sensors: &[String], samples: Vec<NewSample>) -> Result<(Dataset, Vec<String>), DatasetError> {
        let mut ds = if dir.join(MANIFEST).exists() {
            let ds = Dataset::open(dir)?;
            if ds.manifest.sensors != sensors {
                return Err(DatasetError::Invalid {
                    path: dir.join(MANIFEST),
                    message: format!("the dataset's sensors are {:?} but the new samples have {:?}; record into a new folder", ds.manifest.sensors, sensors),
                });
            }
            ds
        } else {
            let manifest = Manifest::new(Some(ImageShape::CAMERA), sensors.to_vec());
            manifest.validate(&dir.join(MANIFEST))?;
            Dataset { dir: dir.to_path_buf(), manifest, pixels: Vec::new(), removed: Vec::new() }
        };
        let ids = ds.push_samples(samples)?;
        ds.save()?;
        Ok((ds, ids))
    }

    /// Adds samples in memory (labels are merged into the sorted label set),
    /// with ids following the largest numeric id. Returns the new ids.
    pub fn push_samples(&mut self, samples: Vec<NewSample>) -> Result<Vec<String>, DatasetError> {
        let path = self.dir.join(MANIFEST);
        if self.manifest.samples.len() + samples.len() > MAX_SAMPLES {
            return Err(DatasetError::Invalid {
                path,
                message: format!("{} samples plus {} new ones is more than the limit of {MAX_SAMPLES}", self.manifest.samples.len(), samples.len()),
            });
        }
        let first = self.manifest.samples.iter().filter_map(|s| s.id.parse::<u64>().ok()).max().map_or(1, |m| m + 1);
        let mut ids = Vec::with_capacity(samples.len());
        let mut manifest = self.manifest.clone();
        let mut pixels = Vec::new();
        for (next, s) in (first..).zip(samples) {
            let id = format!("{next:06}");
            let problem = |problem| DatasetError::Sample { path: path.clone(), id: id.clone(), problem };
            let image = match (&manifest.image, s.image) {
                (Some(_), Some(px)) if px.len() != IMAGE_LEN => return Err(problem(SampleProblem::ImageBytes(px.len()))),
                (Some(_), Some(px)) => {
                    pixels.push(px);
                    Some(format!("{IMAGES}/{id}.png"))
                }
                (Some(_), None) => return Err(problem(SampleProblem::ImagePresence("the dataset has images but this sample has none"))),
                (None, Some(_)) => return Err(problem(SampleProblem::ImagePresence("the dataset has no images but this sample has one"))),
                (None, None) => None,
            };
            if let Err(i) = manifest.labels.binary_search(&s.label) {
                manifest.labels.insert(i, s.label.clone());
            }
            manifest.samples.push(SampleMeta { id: id.clone(), image, sensors: s.sensors, label: s.label, split: s.split, source: s.source });
            ids.push(id);
        }
        manifest.validate(&path)?;
        // A new sample may take the id (and image file) of one removed since the last save.
        self.removed.retain(|f| !manifest.samples.iter().any(|s| s.image.as_ref() == Some(f)));
        self.manifest = manifest;
        self.pixels.extend(pixels);
        Ok(ids)
    }

    /// Writes every image that is missing and then the manifest (through a
    /// temporary file, so a crash never leaves half a manifest).
    pub fn save(&self) -> Result<(), DatasetError> {
        let images = self.dir.join(IMAGES);
        if self.manifest.image.is_some() {
            std::fs::create_dir_all(&images).map_err(io(&images))?;
        } else {
            std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        }
        for (s, px) in self.manifest.samples.iter().filter(|s| s.image.is_some()).zip(&self.pixels) {
            let Some(file) = &s.image else { continue };
            let path = self.dir.join(file);
            let bytes = encode_png(px).map_err(|problem| DatasetError::Sample { path: path.clone(), id: s.id.clone(), problem })?;
            // Rewriting an identical file is harmless; skipping it saves time on big datasets.
            if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&path, &bytes).map_err(io(&path))?;
            }
        }
        let path = self.dir.join(MANIFEST);
        let tmp = self.dir.join("manifest.json.tmp");
        let mut text = serde_json::to_vec_pretty(&self.manifest).unwrap_or_default();
        text.push(b'\n');
        std::fs::write(&tmp, &text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        // Only after the manifest no longer names them: a crash in between
        // leaves an unused file, never a manifest pointing at a missing image.
        for file in &self.removed {
            let path = self.dir.join(file);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(DatasetError::Io { path, source: e }),
                _ => {}
            }
        }
        Ok(())
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The sorted labels.
    pub fn labels(&self) -> &[String] {
        &self.manifest.labels
    }

    /// The samples, in order.
    pub fn samples(&self) -> &[SampleMeta] {
        &self.manifest.samples
    }

    /// Whether the samples have camera images.
    pub fn has_images(&self) -> bool {
        self.manifest.image.is_some()
    }

    /// The pixels of sample `i` (32×24×3 bytes), if the dataset has images.
    pub fn pixels(&self, i: usize) -> Option<&[u8]> {
        self.pixels.get(i).map(Vec::as_slice)
    }

    /// The index of sample `i`'s label in [`Dataset::labels`].
    pub fn label_index(&self, i: usize) -> usize {
        self.manifest.labels.binary_search(&self.manifest.samples[i].label).unwrap_or(0)
    }

    /// Gives sample `id` another label (added to the label set if new). Call
    /// [`Dataset::save`] to write it.
    pub fn relabel(&mut self, id: &str, label: &str) -> Result<(), DatasetError> {
        let path = self.dir.join(MANIFEST);
        if !valid_label(label) {
            return Err(DatasetError::Invalid {
                path, message: format!("label {label:?} must be 1–{MAX_NAME_LEN} bytes of text without control characters")
            });
        }
        if self.manifest.labels.len() >= MAX_LABELS && self.manifest.labels.binary_search(&label.to_string()).is_err() {
            return Err(DatasetError::Invalid { path, message: format!("at most {MAX_LABELS} labels") });
        }
        let Some(sample) = self.manifest.samples.iter_mut().find(|s| s.id == id) else {
            return Err(DatasetError::Invalid { path, message: format!("there is no sample {id:?}") });
        };
        sample.label = label.to_string();
        if let Err(i) = self.manifest.labels.binary_search(&label.to_string()) {
            self.manifest.labels.insert(i, label.to_string());
        }
        Ok(())
    }

    /// Removes sample `id` (its image file goes at the next [`Dataset::save`]).
    pub fn remove(&mut self, id: &str) -> Result<(), DatasetError> {
        let Some(i) = self.manifest.samples.iter().position(|s| s.id == id) else {
            return Err(DatasetError::Invalid { path: self.dir.join(MANIFEST), message: format!("there is no sample {id:?}") });
        };
        let sample = self.manifest.samples.remove(i);
        if let Some(file) = sample.image {
            // Pixels follow the samples that have images, which in a dataset with images is all of them.
            if i < self.pixels.len() {
                self.pixels.remove(i);
            }
            self.removed.push(file);
        }
        Ok(())
    }

    /// Drops labels no sample has any more (after relabelling or removing),
    /// so a model trained next does not learn a label that names nothing.
    pub fn drop_unused_labels(&mut self) {
        let used: BTreeSet<&String> = self.manifest.samples.iter().map(|s| &s.label).collect();
        let labels: Vec<String> = self.manifest.labels.iter().filter(|l| used.contains(l)).cloned().collect();
        self.manifest.labels = labels;
    }

    /// Puts `test_fraction` of each label's samples (rounded, at least one
    /// when a label has two or more) in the test split and the rest in the
    /// training split, chosen by a shuffle seeded with `seed`. Stratified by
    /// label so a rare class is in both splits. Call [`Dataset::save`] to write it.
    pub fn split(&mut self, seed: u64, test_fraction: f64) -> Result<(), DatasetError> {
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(DatasetError::Invalid {
                path: self.dir.join(MANIFEST),
                message: format!("the test fraction {test_fraction} must be at least 0 and below 1"),
            });
        }
        let mut rng = SplitMix64::new(seed);
        for label in self.manifest.labels.clone() {
            let mut members: Vec<usize> = (0..self.manifest.samples.len()).filter(|&i| self.manifest.samples[i].label == label).collect();
            rng.shuffle(&mut members);
            let n = members.len();
            let mut n_test = (n as f64 * test_fraction).round() as usize;
            if test_fraction > 0.0 && n >= 2 {
                n_test = n_test.clamp(1, n - 1);
            }
            for (k, &i) in members.iter().enumerate() {
                self.manifest.samples[i].split = if k < n_test { Split::Test } else { Split::Train };
            }
        }
        Ok(())
    }

    /// SHA-256 (hex) of the canonical manifest followed by every image's
    /// pixels in sample order: the same data gives the same hash, whatever
    /// PNG encoder wrote the files.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.manifest.canonical());
        for px in &self.pixels {
            h.update(px);
        }
        hex::encode(h.finalize())
    }
}

/// Appends what a run recorded to the dataset in `dir` (made if missing),
/// every sample in the training split. Returns the new sample ids.
pub fn append_recording(dir: &Path, recorded: &[Recorded], source: &RunSource) -> Result<Vec<String>, DatasetError> {
    let Some(first) = recorded.first() else {
        return Ok(Vec::new());
    };
    let names = &first.sensor_names;
    let mut samples = Vec::with_capacity(recorded.len());
    for r in recorded {
        if &r.sensor_names != names {
            return Err(DatasetError::Invalid {
                path: dir.join(MANIFEST),
                message: format!("recordings of one run have different sensors: {:?} and {:?}", names, r.sensor_names),
            });
        }
        samples.push(NewSample {
            label: r.label.clone(),
            sensors: r.sensors.clone(),
            image: Some(r.image.clone()),
            split: Split::Train,
            source: Some(Source {
                scenario: source.scenario.clone(),
                scenario_sha256: source.scenario_sha256.clone(),
                seed: source.seed,
                program_sha256: source.program_sha256.clone(),
                tick: r.tick,
            }),
        });
    }
    Dataset::append(dir, names, samples).map(|(_, ids)| ids)
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator for
/// shuffles. The dataset's splits must be the same on every machine and in
/// every version, so the generator is written out here rather than borrowed
/// from a crate whose stream could change.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer below `n` (`n > 0`), by Lemire's multiply-shift (bias below 2⁻³²  for small n).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    // Folder round trips are in tests/all/ai.rs (this crate may not read the
    // environment for a temporary folder); here: the manifest rules and PNGs.
    use super::*;

    fn image(r: u8) -> Vec<u8> {
        (0..IMAGE_LEN).map(|i| [r, 10, 20][i % 3].wrapping_add((i / 3 % 7) as u8)).collect()
    }

    fn manifest() -> Manifest {
        let mut m = Manifest::new(Some(ImageShape::CAMERA), vec!["distance:front".into()]);
        m.labels = vec!["left".into(), "red".into()];
        for (i, label) in ["red", "left", "red"].into_iter().enumerate() {
            m.samples.push(SampleMeta {
                id: format!("{:06}", i + 1),
                image: Some(format!("images/{:06}.png", i + 1)),
                sensors: vec![0.25],
                label: label.into(),
                split: Split::Train,
                source: None,
            });
        }
        m
    }

    fn problem_of(m: &Manifest) -> SampleProblem {
        match m.validate(Path::new("d/manifest.json")) {
            Err(DatasetError::Sample { problem, .. }) => problem,
            other => panic!("expected a sample problem, got {other:?}"),
        }
    }

    #[test]
    fn png_round_trip_and_wrong_sizes_are_refused() {
        let px = image(200);
        let bytes = encode_png(&px).unwrap();
        assert_eq!(decode_png(&bytes).unwrap(), px);
        assert_eq!(encode_png(&px[..10]), Err(SampleProblem::ImageBytes(10)));
        assert!(matches!(decode_png(&bytes[..bytes.len() / 2]), Err(SampleProblem::BadPng(_))));
        let mut big = Vec::new();
        let mut enc = png::Encoder::new(&mut big, 64, 24);
        enc.set_color(png::ColorType::Rgb);
        enc.write_header().unwrap().write_image_data(&vec![0; 64 * 24 * 3]).unwrap();
        assert_eq!(decode_png(&big), Err(SampleProblem::ImageSize { width: 64, height: 24 }));
    }

    #[test]
    fn manifest_rules_name_the_sample() {
        assert!(manifest().validate(Path::new("m")).is_ok());
        let mut m = manifest();
        m.samples[2].id = "000001".into();
        assert_eq!(problem_of(&m), SampleProblem::DuplicateId);
        let mut m = manifest();
        m.samples[1].label = "green".into();
        assert!(matches!(problem_of(&m), SampleProblem::UnknownLabel { .. }));
        let mut m = manifest();
        m.samples[0].sensors = vec![];
        assert_eq!(problem_of(&m), SampleProblem::SensorCount { found: 0, expected: 1 });
        let mut m = manifest();
        m.samples[0].image = Some("../etc/passwd.png".into());
        assert!(matches!(problem_of(&m), SampleProblem::BadImagePath(_)));
        let mut m = manifest();
        m.labels = vec!["red".into(), "left".into()];
        let err = m.validate(Path::new("d/manifest.json")).unwrap_err().to_string();
        assert!(err.contains("sorted and unique"), "{err}");
        let mut m = manifest();
        m.version = 2;
        assert!(m.validate(Path::new("m")).unwrap_err().to_string().contains("version"));
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let mut ds = Dataset { dir: PathBuf::from("d"), manifest: manifest(), pixels: vec![image(1), image(2), image(3)], removed: Vec::new() };
        for _ in 0..7 {
            ds.manifest.samples.push(SampleMeta { id: format!("x{}", ds.manifest.samples.len()), ..ds.manifest.samples[1].clone() });
        }
        ds.split(3, 0.25).unwrap();
        let test_of = |ds: &Dataset, label: &str| ds.samples().iter().filter(|s| s.label == label && s.split == Split::Test).count();
        assert_eq!((test_of(&ds, "red"), test_of(&ds, "left")), (1, 2));
        let first: Vec<Split> = ds.samples().iter().map(|s| s.split).collect();
        ds.split(3, 0.25).unwrap();
        assert_eq!(ds.samples().iter().map(|s| s.split).collect::<Vec<_>>(), first);
        let before = ds.sha256();
        ds.relabel("000002", "right").unwrap();
        assert_eq!(ds.labels(), ["left", "red", "right"]);
        assert_ne!(ds.sha256(), before);
    }

    #[test]
    fn removing_keeps_pixels_aligned_and_unused_labels_go() {
        let mut ds = Dataset { dir: PathBuf::from("d"), manifest: manifest(), pixels: vec![image(1), image(2), image(3)], removed: Vec::new() };
        ds.remove("000002").unwrap();
        assert_eq!(ds.samples().iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["000001", "000003"]);
        assert_eq!(ds.pixels(1), Some(&image(3)[..]));
        assert_eq!(ds.removed, ["images/000002.png"]);
        assert!(ds.remove("000002").is_err());
        assert_eq!(ds.labels(), ["left", "red"]);
        ds.drop_unused_labels();
        assert_eq!(ds.labels(), ["red"]);
        assert!(ds.manifest.validate(Path::new("m")).is_ok());
        // The id of a removed last sample is given again: its image must not be deleted on save.
        ds.remove("000003").unwrap();
        let ids =
            ds.push_samples(vec![NewSample { label: "red".into(), sensors: vec![0.5], image: Some(image(9)), split: Split::Train, source: None }]).unwrap();
        assert_eq!(ids, ["000002"]);
        assert_eq!(ds.removed, ["images/000003.png"]);
    }
}
