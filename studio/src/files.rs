//! Files the studio writes and reads: atomic writes, the user's data folder, and opening programs.

use std::io::Write;
use std::path::{Path, PathBuf};

use qiming_runtime::Language;

use crate::i18n::{Lang, tf};

/// Writes `bytes` to `path` so that a crash or power cut leaves either the old
/// file or the new one, never half of each: a temporary file in the same
/// folder, flushed to disk, then renamed over the old one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Where the studio keeps programs and settings: `QIMING_STUDIO_DATA`, else
/// the OS user's data folder (`$XDG_DATA_HOME/qiming-studio`,
/// `~/.local/share/qiming-studio`, `%APPDATA%\qiming-studio`).
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("QIMING_STUDIO_DATA") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("qiming-studio");
    }
    if let Some(d) = std::env::var_os("APPDATA") {
        return PathBuf::from(d).join("qiming-studio");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/share/qiming-studio");
    }
    PathBuf::from(".qiming-studio")
}

/// A program file as the editor takes it.
pub enum LoadedProgram {
    Text { text: String, language: Language },
    Binary(Vec<u8>),
}

/// Reads a program file, with a message in the user's language when it cannot be one.
pub fn load_program(path: &Path, lang: Lang) -> Result<LoadedProgram, String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let language = Language::from_extension(&ext).ok_or_else(|| tf(lang, "file_not_program", &[("path", &path.display())]))?;
    let bytes = std::fs::read(path).map_err(|_| tf(lang, "file_unreadable", &[("path", &path.display())]))?;
    if ext == "wasm" {
        return Ok(LoadedProgram::Binary(bytes));
    }
    let text = String::from_utf8(bytes).map_err(|_| tf(lang, "file_not_text", &[("path", &path.display())]))?;
    Ok(LoadedProgram::Text { text, language })
}

/// Autosave file of a lab's program in one language.
pub fn autosave_path(data: &Path, key: &str, language: Language) -> PathBuf {
    let ext = match language {
        Language::Rhai => "rhai",
        Language::Wasm => "wat",
    };
    let safe: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    data.join("programs").join(format!("{safe}.{ext}"))
}
