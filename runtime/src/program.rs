//! Student programs: their language and bytes, and loading them from files.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The languages Qiming runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// Rhai source (`.rhai`).
    Rhai,
    /// WebAssembly, binary (`.wasm`) or text (`.wat`).
    Wasm,
}

impl Language {
    /// Picks the language from a file extension.
    pub fn from_extension(ext: &str) -> Option<Language> {
        match ext.to_ascii_lowercase().as_str() {
            "rhai" => Some(Language::Rhai),
            "wasm" | "wat" => Some(Language::Wasm),
            _ => None,
        }
    }

    /// The language a name stands for: `rhai` or `wasm` (as in lab files).
    pub fn from_name(name: &str) -> Option<Language> {
        match name {
            "rhai" => Some(Language::Rhai),
            "wasm" => Some(Language::Wasm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rhai => "rhai",
            Language::Wasm => "wasm",
        }
    }
}

/// A program as submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub language: Language,
    pub source: Vec<u8>,
}

/// A program kept as text (in a database row, a JSON request) that cannot be turned back into one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredProgramError {
    /// `wasm-base64` text that is not base64.
    #[error("program is not valid base64: {0}")]
    NotBase64(String),
    /// A language name Qiming does not run.
    #[error("unknown language {0:?}")]
    UnknownLanguage(String),
}

/// A program file that cannot be loaded (our error, not the student's).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramLoadError {
    /// The file could not be read.
    #[error("{path}: cannot read program: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The extension does not name a supported language.
    #[error("{path}: unknown program type; use .rhai, .wasm or .wat")]
    UnknownLanguage { path: String },
}

impl Program {
    pub fn rhai(source: impl Into<String>) -> Program {
        Program { language: Language::Rhai, source: source.into().into_bytes() }
    }

    /// A WebAssembly module, binary or text format.
    pub fn wasm(bytes: impl Into<Vec<u8>>) -> Program {
        Program { language: Language::Wasm, source: bytes.into() }
    }

    /// Loads a program, choosing the language by extension.
    pub fn load(path: impl AsRef<Path>) -> Result<Program, ProgramLoadError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let language = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Language::from_extension)
            .ok_or_else(|| ProgramLoadError::UnknownLanguage { path: display.clone() })?;
        let source = std::fs::read(path).map_err(|source| ProgramLoadError::Io { path: display, source })?;
        Ok(Program { language, source })
    }

    /// A program as stored and sent over the API: `rhai` (source), `wasm`
    /// (the text format, or bytes that are UTF-8) or `wasm-base64` (a binary
    /// module, base64-encoded).
    pub fn from_stored(language: &str, text: &str) -> Result<Program, StoredProgramError> {
        use base64::Engine as _;
        match language {
            "rhai" => Ok(Program::rhai(text)),
            "wasm" => Ok(Program::wasm(text.as_bytes().to_vec())),
            "wasm-base64" => {
                base64::engine::general_purpose::STANDARD.decode(text.trim()).map(Program::wasm).map_err(|e| StoredProgramError::NotBase64(e.to_string()))
            }
            other => Err(StoredProgramError::UnknownLanguage(other.to_string())),
        }
    }

    /// A program that does nothing at all: every lab must score it below half.
    pub fn do_nothing(language: Language) -> Program {
        match language {
            Language::Wasm => Program::wasm(b"(module (func (export \"run\")))".to_vec()),
            Language::Rhai => Program::rhai(""),
        }
    }

    /// SHA-256 of the language and bytes: the compile-cache key and the id in replays.
    pub fn sha256(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.language.as_str().as_bytes());
        h.update([0]);
        h.update(&self.source);
        h.finalize().into()
    }

    pub fn sha256_hex(&self) -> String {
        self.sha256().iter().map(|b| format!("{b:02x}")).collect()
    }
}
