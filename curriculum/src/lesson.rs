//! Lessons: Markdown with TOML front matter, a body in zh-CN and in English.
//!
//! ```text
//! +++
//! id = "wall-stop"
//! grade_band = "5-6"
//! module = "process-control"
//! literacies = ["computational-thinking"]
//! minutes = 40
//! prerequisites = ["first-drive"]
//! [title]
//! zh-CN = "……"
//! en = "…"
//! +++
//! <!-- zh-CN -->
//! 中文正文……
//! <!-- en -->
//! English body…
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::meta::{GRADE_BANDS, Text, is_literacy, module_name};
use crate::{CurriculumError, err_at};

/// A loaded, validated lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub path: PathBuf,
    pub id: String,
    pub title: Text,
    pub grade_band: String,
    pub module: String,
    pub literacies: Vec<String>,
    pub minutes: u32,
    pub prerequisites: Vec<String>,
    /// Line of `prerequisites`, for reference errors.
    pub prerequisites_line: usize,
    pub body: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Spanned<String>,
    title: Text,
    grade_band: Spanned<String>,
    module: Spanned<String>,
    literacies: Spanned<Vec<String>>,
    minutes: Spanned<u32>,
    #[serde(default = "crate::lab::empty_list")]
    prerequisites: Spanned<Vec<String>>,
}

impl Lesson {
    pub fn load(path: &Path) -> Result<Lesson, CurriculumError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CurriculumError::new(&shown, 0, 0, format!("cannot read: {e}")))?;
        let Some(rest) = text.strip_prefix("+++\n") else {
            return Err(CurriculumError::new(&shown, 1, 1, "a lesson starts with TOML front matter between `+++` lines"));
        };
        let Some(end) = rest.find("\n+++\n") else {
            return Err(CurriculumError::new(&shown, 1, 1, "the front matter is not closed by a `+++` line"));
        };
        let front = &rest[..end + 1];
        let body = &rest[end + 5..];
        // Errors in the front matter are reported at file lines: it starts on line 2.
        let padded = format!("\n{front}");
        let at = |span: std::ops::Range<usize>, msg: String| err_at(&shown, &padded, span, msg);
        let fm: FrontMatter = toml::from_str(&padded).map_err(|e| at(e.span().unwrap_or(0..0), e.message().to_string()))?;
        let id = fm.id.get_ref().clone();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if stem != id {
            return Err(at(fm.id.span(), format!("id {id:?} must match the file name {stem:?}.md")));
        }
        if !GRADE_BANDS.contains(&fm.grade_band.get_ref().as_str()) {
            return Err(at(fm.grade_band.span(), format!("grade_band must be one of {}", GRADE_BANDS.join(", "))));
        }
        if module_name(fm.module.get_ref()).is_none() {
            return Err(at(fm.module.span(), format!("unknown module {:?}", fm.module.get_ref())));
        }
        if fm.literacies.get_ref().is_empty() || !fm.literacies.get_ref().iter().all(|l| is_literacy(l)) {
            return Err(at(fm.literacies.span(), "literacies must list known core literacies".into()));
        }
        if !(5..=240).contains(fm.minutes.get_ref()) {
            return Err(at(fm.minutes.span(), "minutes must be between 5 and 240".into()));
        }
        let (zh, en) = split_body(body).ok_or_else(|| {
            CurriculumError::new(&shown, 0, 0, "the body needs a `<!-- zh-CN -->` section followed by an `<!-- en -->` section, both non-empty")
        })?;
        Ok(Lesson {
            path: path.to_path_buf(),
            id,
            title: fm.title,
            grade_band: fm.grade_band.into_inner(),
            module: fm.module.into_inner(),
            literacies: fm.literacies.into_inner(),
            minutes: fm.minutes.into_inner(),
            prerequisites_line: crate::line_of(&padded, fm.prerequisites.span().start),
            prerequisites: fm.prerequisites.into_inner(),
            body: Text { zh, en },
        })
    }
}

fn split_body(body: &str) -> Option<(String, String)> {
    let zh_at = body.find("<!-- zh-CN -->")?;
    let en_at = body.find("<!-- en -->")?;
    if en_at < zh_at {
        return None;
    }
    let zh = body[zh_at + "<!-- zh-CN -->".len()..en_at].trim().to_string();
    let en = body[en_at + "<!-- en -->".len()..].trim().to_string();
    (!zh.is_empty() && !en.is_empty()).then_some((zh, en))
}
