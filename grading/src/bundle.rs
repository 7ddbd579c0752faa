//! Submissions as bundles: one program file, or a folder or `.zip` holding
//! exactly one program and at most one model (`*.qmodel`). The one loader the
//! CLI, the curriculum check and the server use.
//!
//! A zip is untrusted input. Everything that could hurt is refused before a
//! byte is decompressed: the archive's size, its number of entries, each
//! entry's declared size and compression ratio, unsafe names (absolute paths,
//! `..`, backslashes, drive letters), symbolic links, encrypted entries and
//! methods other than stored and deflate. The two entries that are read are
//! then streamed with a cap (a declared size is a claim, never trusted), and
//! nothing is ever written to disk.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qiming_ai::{Model, ModelError};
use qiming_curriculum::Text;
use qiming_runtime::{Language, Program};

/// Largest `.zip` accepted, in bytes (a model of the largest size and a program fit).
pub const MAX_ZIP_BYTES: u64 = 24 << 20;
/// Most entries (files and folders) in a zip.
pub const MAX_ZIP_ENTRIES: usize = 64;
/// Largest program file, in bytes (the runtime's largest program is 1 MiB).
pub const MAX_PROGRAM_BYTES: u64 = 1 << 20;
/// Largest model file, in bytes.
pub const MAX_MODEL_BYTES: u64 = qiming_ai::model::MAX_FILE_BYTES;
/// Largest sum of the declared uncompressed sizes of a zip's entries.
pub const MAX_ZIP_UNCOMPRESSED: u64 = 64 << 20;
/// Highest compression ratio accepted for an entry larger than
/// [`RATIO_FLOOR`]: real programs compress about 4:1 and model weights
/// hardly at all; a zip bomb compresses about 1000:1.
pub const MAX_RATIO: u64 = 100;
/// Entries up to this size may have any ratio (a file of blanks is harmless).
pub const RATIO_FLOOR: u64 = 64 << 10;

/// A submission: the program and, for AI labs, the model deployed with it.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub program: Program,
    /// The program's file name inside the bundle (for messages).
    pub program_name: String,
    pub model: Option<Arc<Model>>,
    /// The model's file name inside the bundle.
    pub model_name: Option<String>,
}

/// Why a submission was refused. Each has a message for the person who must
/// fix it ([`BundleError::user_message`] in zh-CN and en; `Display` in English).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What could not be read.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file that is neither a program, a model, a folder nor a zip.
    #[error("{name}: a submission is a program (.rhai, .wat, .wasm), or a folder or .zip with one program and at most one .qmodel model")]
    NotASubmission {
        /// The file.
        name: String,
    },
    /// No program in the folder or zip.
    #[error("there is no program (.rhai, .wat, .wasm) in the submission")]
    NoProgram,
    /// More than one program.
    #[error("the submission holds two programs, {first} and {second}; hand in exactly one")]
    TwoPrograms {
        /// One.
        first: String,
        /// The other.
        second: String,
    },
    /// More than one model.
    #[error("the submission holds two models, {first} and {second}; hand in at most one")]
    TwoModels {
        /// One.
        first: String,
        /// The other.
        second: String,
    },
    /// A program or model larger than any may be.
    #[error("{name} is larger than {max} bytes")]
    FileTooLarge {
        /// The file.
        name: String,
        /// The limit.
        max: u64,
    },
    /// The zip file is larger than any bundle may be.
    #[error("the zip file is {size} bytes; at most {MAX_ZIP_BYTES} bytes are accepted")]
    ZipTooLarge {
        /// Its size.
        size: u64,
    },
    /// Too many entries in the zip.
    #[error("the zip file has {count} entries; at most {MAX_ZIP_ENTRIES} are accepted")]
    ZipTooManyEntries {
        /// Entries found (or claimed).
        count: u64,
    },
    /// The entries would unpack to more than the limit, or one compresses
    /// suspiciously well (a zip bomb).
    #[error("the zip file's entry {name} would unpack to too much data (a zip bomb?)")]
    ZipBomb {
        /// The entry.
        name: String,
    },
    /// An entry's name is absolute, climbs out with `..` or is otherwise unsafe.
    #[error("the zip file's entry {name:?} has an unsafe path")]
    ZipUnsafePath {
        /// The entry's name as stored.
        name: String,
    },
    /// A symbolic link in the zip.
    #[error("the zip file's entry {name} is a symbolic link; links are not accepted")]
    ZipSymlink {
        /// The entry.
        name: String,
    },
    /// Two entries with the same name.
    #[error("the zip file holds {name} twice")]
    ZipDuplicate {
        /// The name.
        name: String,
    },
    /// Encrypted entries or a compression method other than stored or deflate.
    #[error("the zip file's entry {name} is encrypted or compressed with a method other than deflate")]
    ZipUnsupported {
        /// The entry.
        name: String,
    },
    /// Not a zip file, or a damaged one.
    #[error("the zip file is damaged or not a zip file: {0}")]
    ZipCorrupt(String),
    /// A program that is not text where text is needed.
    #[error("{name} is not UTF-8 text")]
    NotText {
        /// The program's name.
        name: String,
    },
    /// The model file is refused.
    #[error("{name}: {source}")]
    Model {
        /// The model's name.
        name: String,
        /// Why.
        source: ModelError,
    },
}

impl BundleError {
    /// What a student or teacher reads, in zh-CN and en (no engine text).
    pub fn user_message(&self) -> Text {
        let en = self.to_string();
        let zh = match self {
            BundleError::Io { path, .. } => format!("无法读取 {path}"),
            BundleError::NotASubmission { name } => {
                format!("{name}：提交的应是一个程序（.rhai、.wat、.wasm），或者一个包含一个程序和至多一个 .qmodel 模型的文件夹或 .zip 压缩包")
            }
            BundleError::NoProgram => "提交的内容里没有程序（.rhai、.wat、.wasm）".into(),
            BundleError::TwoPrograms { first, second } => format!("提交的内容里有两个程序：{first} 和 {second}。只能交一个程序"),
            BundleError::TwoModels { first, second } => format!("提交的内容里有两个模型：{first} 和 {second}。至多交一个模型"),
            BundleError::FileTooLarge { name, max } => format!("{name} 超过了 {max} 字节"),
            BundleError::ZipTooLarge { size } => format!("压缩包有 {size} 字节，最多接受 {MAX_ZIP_BYTES} 字节"),
            BundleError::ZipTooManyEntries { count } => format!("压缩包里有 {count} 项，最多接受 {MAX_ZIP_ENTRIES} 项"),
            BundleError::ZipBomb { name } => format!("压缩包里的 {name} 解压后太大了（可能是“压缩炸弹”）"),
            BundleError::ZipUnsafePath { name } => format!("压缩包里的 {name:?} 路径不安全"),
            BundleError::ZipSymlink { name } => format!("压缩包里的 {name} 是符号链接，不接受链接"),
            BundleError::ZipDuplicate { name } => format!("压缩包里有两个 {name}"),
            BundleError::ZipUnsupported { name } => format!("压缩包里的 {name} 加了密，或者不是用 deflate 压缩的"),
            BundleError::ZipCorrupt(_) => "压缩包已损坏，或者不是 zip 文件".into(),
            BundleError::NotText { name } => format!("{name} 不是 UTF-8 文本"),
            BundleError::Model { name, source } => format!("模型文件 {name} 不能使用：{}", model_error_zh(source)),
        };
        let en = match self {
            // The English line for a damaged zip keeps the library's words out.
            BundleError::ZipCorrupt(_) => "the zip file is damaged or not a zip file".to_string(),
            BundleError::Io { path, .. } => format!("cannot read {path}"),
            _ => en,
        };
        Text::new(zh, en)
    }
}

fn model_error_zh(e: &ModelError) -> String {
    match e {
        ModelError::TooLarge { size } => format!("文件有 {size} 字节，超过了上限"),
        ModelError::NotAModel => "这不是启明的模型文件（请用 qiming ai train 训练）".into(),
        ModelError::Truncated { .. } => "文件不完整".into(),
        ModelError::Checksum => "文件已损坏（校验和不符），请重新训练或复制".into(),
        ModelError::Header(_) => "文件头无效".into(),
        ModelError::Layers(_) => "模型的层无效或超出限制".into(),
        ModelError::NotFinite(_) => "有的权重不是有限的数".into(),
        _ => "文件无法读取".into(),
    }
}

/// What a file name says it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Program(Language),
    Model,
    Other,
}

fn role(name: &str) -> Role {
    let ext = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or_default();
    if ext.eq_ignore_ascii_case("qmodel") {
        Role::Model
    } else if let Some(l) = Language::from_extension(ext) {
        Role::Program(l)
    } else {
        Role::Other
    }
}

/// The program a file's bytes make (Rhai must be text).
fn program_of(language: Language, name: &str, bytes: Vec<u8>) -> Result<Program, BundleError> {
    if language == Language::Rhai && std::str::from_utf8(&bytes).is_err() {
        return Err(BundleError::NotText { name: name.to_string() });
    }
    Ok(Program { language, source: bytes })
}

fn model_of(name: &str, bytes: &[u8]) -> Result<Arc<Model>, BundleError> {
    Model::from_bytes(bytes).map(Arc::new).map_err(|source| BundleError::Model { name: name.to_string(), source })
}

/// Reads at most `max` bytes of a file, refusing a larger one without reading it all.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, BundleError> {
    let io = |source| BundleError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if file.metadata().map_err(io)?.len() > max {
        return Err(BundleError::FileTooLarge { name, max });
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(BundleError::FileTooLarge { name, max });
    }
    Ok(bytes)
}

/// Keeps the one program and the one model, refusing a second of either.
#[derive(Default)]
struct Picker<T> {
    program: Option<(String, Language, T)>,
    model: Option<(String, T)>,
}

impl<T> Picker<T> {
    fn offer(&mut self, name: String, what: T) -> Result<(), BundleError> {
        match role(&name) {
            Role::Program(language) => {
                if let Some((first, ..)) = &self.program {
                    return Err(BundleError::TwoPrograms { first: first.clone(), second: name });
                }
                self.program = Some((name, language, what));
            }
            Role::Model => {
                if let Some((first, _)) = &self.model {
                    return Err(BundleError::TwoModels { first: first.clone(), second: name });
                }
                self.model = Some((name, what));
            }
            Role::Other => {}
        }
        Ok(())
    }
}

impl Bundle {
    /// A bundle of a program alone.
    pub fn program(program: Program, name: impl Into<String>) -> Bundle {
        Bundle { program, program_name: name.into(), model: None, model_name: None }
    }

    /// Loads a submission from a path: a program file, a folder (its top
    /// level: one program, at most one model; other files such as
    /// `make-model.sh` and sub-folders are ignored) or a `.zip` file.
    pub fn load(path: &Path) -> Result<Bundle, BundleError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        if path.is_dir() {
            return Bundle::from_folder(path);
        }
        match role(&name) {
            Role::Program(language) => {
                let bytes = read_capped(path, MAX_PROGRAM_BYTES)?;
                Ok(Bundle::program(program_of(language, &name, bytes)?, name))
            }
            _ if name.to_ascii_lowercase().ends_with(".zip") => {
                let bytes = read_capped(path, MAX_ZIP_BYTES).map_err(|e| match e {
                    BundleError::FileTooLarge { .. } => BundleError::ZipTooLarge { size: std::fs::metadata(path).map_or(MAX_ZIP_BYTES + 1, |m| m.len()) },
                    other => other,
                })?;
                Bundle::from_zip(&bytes)
            }
            _ => Err(BundleError::NotASubmission { name }),
        }
    }

    /// The top level of a folder.
    pub fn from_folder(dir: &Path) -> Result<Bundle, BundleError> {
        let io = |source| BundleError::Io { path: dir.display().to_string(), source };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).map_err(io)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        // File order decides which of two programs is named first: keep it stable.
        entries.sort();
        let mut picker = Picker::default();
        for path in entries {
            if path.is_file() {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                picker.offer(name, path)?;
            }
        }
        let (program_name, language, program_path) = picker.program.ok_or(BundleError::NoProgram)?;
        let program = program_of(language, &program_name, read_capped(&program_path, MAX_PROGRAM_BYTES)?)?;
        let (model, model_name) = match picker.model {
            Some((name, path)) => (Some(model_of(&name, &read_capped(&path, MAX_MODEL_BYTES)?)?), Some(name)),
            None => (None, None),
        };
        Ok(Bundle { program, program_name, model, model_name })
    }

    /// A `.zip` file's bytes. Programs and the model may sit in a folder
    /// inside the zip (as when a folder is zipped); other entries are
    /// checked but never decompressed.
    pub fn from_zip(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() as u64 > MAX_ZIP_BYTES {
            return Err(BundleError::ZipTooLarge { size: bytes.len() as u64 });
        }
        // The end record's entry count, before the library reads the
        // central directory (a forged count could make it allocate).
        if let Some(count) = eocd_entries(bytes)
            && count as usize > MAX_ZIP_ENTRIES
        {
            return Err(BundleError::ZipTooManyEntries { count });
        }
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| BundleError::ZipCorrupt(e.to_string()))?;
        if archive.len() > MAX_ZIP_ENTRIES {
            return Err(BundleError::ZipTooManyEntries { count: archive.len() as u64 });
        }
        // First pass: headers only, nothing decompressed.
        let mut names: Vec<String> = Vec::new();
        let mut declared_total: u64 = 0;
        let mut picker = Picker::default();
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| BundleError::ZipCorrupt(e.to_string()))?;
            let raw = entry.name().to_string();
            if raw.contains('\\') || raw.starts_with('/') || raw.contains(':') || raw.contains('\0') || entry.enclosed_name().is_none() {
                return Err(BundleError::ZipUnsafePath { name: raw });
            }
            if raw.split('/').any(|part| part == "..") {
                return Err(BundleError::ZipUnsafePath { name: raw });
            }
            let symlink = entry.is_symlink() || entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
            if symlink {
                return Err(BundleError::ZipSymlink { name: raw });
            }
            if names.contains(&raw) {
                return Err(BundleError::ZipDuplicate { name: raw });
            }
            names.push(raw.clone());
            if entry.is_dir() {
                continue;
            }
            if entry.encrypted() || !matches!(entry.compression(), zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated) {
                return Err(BundleError::ZipUnsupported { name: raw });
            }
            let size = entry.size();
            declared_total = declared_total.saturating_add(size);
            let ratio_too_high = size > RATIO_FLOOR && size / entry.compressed_size().max(1) > MAX_RATIO;
            if declared_total > MAX_ZIP_UNCOMPRESSED || ratio_too_high {
                return Err(BundleError::ZipBomb { name: raw });
            }
            let base = raw.rsplit('/').next().unwrap_or(&raw).to_string();
            let cap = match role(&base) {
                Role::Program(_) => MAX_PROGRAM_BYTES,
                Role::Model => MAX_MODEL_BYTES,
                Role::Other => continue,
            };
            if size > cap {
                return Err(BundleError::FileTooLarge { name: raw, max: cap });
            }
            // macOS adds `__MACOSX/._main.rhai` resource forks: not programs.
            if raw.starts_with("__MACOSX/") || base.starts_with("._") {
                continue;
            }
            picker.offer(base, (i, raw, cap))?;
        }
        let (program_name, language, (pi, praw, pcap)) = picker.program.ok_or(BundleError::NoProgram)?;
        let program = program_of(language, &program_name, read_entry(&mut archive, pi, &praw, pcap)?)?;
        let (model, model_name) = match picker.model {
            Some((name, (mi, mraw, mcap))) => (Some(model_of(&name, &read_entry(&mut archive, mi, &mraw, mcap)?)?), Some(name)),
            None => (None, None),
        };
        Ok(Bundle { program, program_name, model, model_name })
    }

    /// SHA-256 of the model file, if there is one (for reports).
    pub fn model_sha256(&self) -> Option<String> {
        use sha2::{Digest, Sha256};
        self.model.as_ref().map(|m| Sha256::digest(m.to_bytes()).iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// Decompresses one entry, stopping one byte past `cap` whatever its header says.
fn read_entry(archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, index: usize, name: &str, cap: u64) -> Result<Vec<u8>, BundleError> {
    let entry = archive.by_index(index).map_err(|e| BundleError::ZipCorrupt(e.to_string()))?;
    let mut out = Vec::new();
    entry.take(cap + 1).read_to_end(&mut out).map_err(|e| BundleError::ZipCorrupt(e.to_string()))?;
    if out.len() as u64 > cap {
        return Err(BundleError::ZipBomb { name: name.to_string() });
    }
    Ok(out)
}

/// The total entry count of a zip's end-of-central-directory record, when
/// one is found and it is not a ZIP64 placeholder.
fn eocd_entries(bytes: &[u8]) -> Option<u64> {
    const SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let lowest = bytes.len().saturating_sub(22 + 0xffff);
    let at = (lowest..=bytes.len().checked_sub(22)?).rev().find(|&i| bytes[i..i + 4] == SIG)?;
    let count = u16::from_le_bytes([bytes[at + 10], bytes[at + 11]]);
    (count != 0xffff).then_some(u64::from(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_extensions() {
        assert!(role("main.rhai") == Role::Program(Language::Rhai));
        assert!(role("a.WAT") == Role::Program(Language::Wasm));
        assert!(role("signs.qmodel") == Role::Model);
        assert!(role("make-model.sh") == Role::Other);
    }

    #[test]
    fn garbage_is_not_a_zip_and_says_so_in_both_languages() {
        let err = Bundle::from_zip(b"this is not a zip").unwrap_err();
        assert!(matches!(err, BundleError::ZipCorrupt(_)), "{err}");
        let m = err.user_message();
        assert!(m.zh.contains("压缩包") && m.en.contains("damaged"), "{m:?}");
    }

    #[test]
    fn a_forged_entry_count_is_refused_before_parsing() {
        let mut eocd = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0];
        eocd.extend(5000u16.to_le_bytes());
        eocd.extend(5000u16.to_le_bytes());
        eocd.extend([0u8; 10]);
        assert!(matches!(Bundle::from_zip(&eocd), Err(BundleError::ZipTooManyEntries { count: 5000 })));
    }
}
