//! Lessons: Markdown with TOML front matter, a body in zh-CN and in English.
//!
//! ```text
//! +++
//! id = "wall-stop"
//! grade_band = "5-6"
//! module = "process-control"
//! literacies = ["computational-thinking"]
//! minutes = 40
//! prerequisites = ["primer-1", "first-drive"]
//! # kind = "primer"                 # optional: "lab" (default) or "primer"
//! # scenario = "scenarios/primer.toml"   # optional: where the examples run
//! [title]
//! zh-CN = "……"
//! en = "…"
//! +++
//! <!-- zh-CN -->
//! 中文正文……
//! <!-- en -->
//! English body…
//! ```
//!
//! In the bodies, outside code blocks:
//! - a heading may end in an anchor, `## 变量 let {#let}`; both languages must
//!   define the same anchors, so a link works whichever language is shown;
//! - a link to another lesson is written `[text](primer-2.md#let)` or
//!   `[text](primer-2.md)`; the catalogue checks that the lesson and anchor exist
//!   (and that a linked primer lesson is listed in `prerequisites`, directly or through
//!   the prerequisites of a prerequisite).
//!
//! Fenced code blocks tagged `rhai` are runnable examples: the test suite runs
//! each one in the lesson's scenario and expects no error; a block tagged
//! `rhai,error` shows a mistake and must end in an error.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::meta::{GRADE_BANDS, Text, is_literacy, module_name};
use crate::{CurriculumError, err_at};

/// What a lesson is for.
pub const LESSON_KINDS: &[&str] = &["lab", "primer"];

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
    /// `"lab"` (the default: a lesson that goes with a lab) or `"primer"` (a
    /// lesson that teaches the programming language, with no lab of its own).
    pub kind: String,
    /// Where the lesson's examples run: a scenario file (resolved against the
    /// lessons folder). When absent, the examples of a lab's lesson run in the
    /// first case of that lab.
    pub scenario: Option<PathBuf>,
    pub body: Text,
    /// Heading anchors (`{#id}`), per language.
    pub anchors: Vec<Anchor>,
    /// Links to lessons (`[text](id.md#anchor)`), per language.
    pub links: Vec<LessonLink>,
    /// Fenced `rhai` code blocks, per language.
    pub examples: Vec<Example>,
}

/// The language of a part of a lesson's body: `"zh-CN"` or `"en"`.
pub type Lang = &'static str;

/// A heading anchor, `## Title {#id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub lang: Lang,
    pub id: String,
    /// 1-based line in the lesson file.
    pub line: usize,
}

/// A Markdown link to a lesson: `[text](lesson.md#anchor)`, or `[text](#anchor)`
/// within the same lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonLink {
    pub lang: Lang,
    /// The linked lesson's id (this lesson's own id for `#anchor` links).
    pub lesson: String,
    pub anchor: Option<String>,
    pub line: usize,
}

/// A fenced code block tagged `rhai` (runs without error) or `rhai,error`
/// (shows a mistake: must end in an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub lang: Lang,
    /// Line of the opening fence.
    pub line: usize,
    pub code: String,
    pub expect_error: bool,
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
    kind: Option<Spanned<String>>,
    scenario: Option<Spanned<String>>,
}

const ZH_MARK: &str = "<!-- zh-CN -->";
const EN_MARK: &str = "<!-- en -->";

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
        let kind = match &fm.kind {
            Some(k) if !LESSON_KINDS.contains(&k.get_ref().as_str()) => {
                return Err(at(k.span(), format!("kind must be one of {}", LESSON_KINDS.join(", "))));
            }
            Some(k) => k.get_ref().clone(),
            None => "lab".to_string(),
        };
        let scenario = match &fm.scenario {
            Some(rel) => {
                let p = path.parent().unwrap_or(Path::new(".")).join(rel.get_ref());
                qiming_sim::Scenario::load(&p).map_err(|e| at(rel.span(), format!("scenario: {e}")))?;
                Some(p)
            }
            None => None,
        };
        let (zh, en) = split_body(body).ok_or_else(|| {
            CurriculumError::new(&shown, 0, 0, "the body needs a `<!-- zh-CN -->` section followed by an `<!-- en -->` section, both non-empty")
        })?;
        // The body's first line in the file.
        let first_line = crate::line_of(&text, 4 + end + 5);
        let parsed = scan_body(body, first_line).map_err(|(line, msg)| CurriculumError::new(&shown, line, 1, msg))?;
        // Both languages define the same anchors.
        for a in &parsed.anchors {
            let other = if a.lang == "zh-CN" { "en" } else { "zh-CN" };
            if !parsed.anchors.iter().any(|b| b.lang == other && b.id == a.id) {
                return Err(CurriculumError::new(&shown, a.line, 1, format!("anchor {{#{}}} is in the {} text but not in the {other} text", a.id, a.lang)));
            }
        }
        let links = parsed
            .links
            .into_iter()
            .map(|(lang, line, lesson, anchor)| LessonLink { lang, line, lesson: lesson.unwrap_or_else(|| id.clone()), anchor })
            .collect();
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
            kind,
            scenario,
            body: Text { zh, en },
            anchors: parsed.anchors,
            links,
            examples: parsed.examples,
        })
    }

    /// Whether `anchor` is one of this lesson's heading anchors.
    pub fn has_anchor(&self, anchor: &str) -> bool {
        self.anchors.iter().any(|a| a.id == anchor)
    }
}

fn split_body(body: &str) -> Option<(String, String)> {
    let zh_at = body.find(ZH_MARK)?;
    let en_at = body.find(EN_MARK)?;
    if en_at < zh_at {
        return None;
    }
    let zh = body[zh_at + ZH_MARK.len()..en_at].trim().to_string();
    let en = body[en_at + EN_MARK.len()..].trim().to_string();
    (!zh.is_empty() && !en.is_empty()).then_some((zh, en))
}

#[derive(Default)]
struct Scanned {
    anchors: Vec<Anchor>,
    /// (language, line, lesson id or None for this lesson, anchor)
    links: Vec<(Lang, usize, Option<String>, Option<String>)>,
    examples: Vec<Example>,
}

fn valid_anchor(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Walks the body line by line: headings with anchors and links outside code
/// blocks, and the code blocks themselves. Errors are (file line, message).
fn scan_body(body: &str, first_line: usize) -> Result<Scanned, (usize, String)> {
    let mut out = Scanned::default();
    let mut lang: Option<Lang> = None;
    // An open fence: (info string, line, code so far).
    let mut fence: Option<(String, usize, String)> = None;
    for (i, raw) in body.split('\n').enumerate() {
        let line_no = first_line + i;
        let line = raw.trim_end();
        if let Some((info, start, code)) = &mut fence {
            if line.trim_start() == "```" {
                let tag = info.trim().to_string();
                if let Some(l) = lang
                    && tag.starts_with("rhai")
                {
                    out.examples.push(Example { lang: l, line: *start, code: std::mem::take(code), expect_error: tag == "rhai,error" });
                }
                fence = None;
            } else {
                code.push_str(raw);
                code.push('\n');
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed == ZH_MARK {
            lang = Some("zh-CN");
            continue;
        }
        if trimmed == EN_MARK {
            lang = Some("en");
            continue;
        }
        if let Some(info) = trimmed.strip_prefix("```") {
            let tag = info.trim();
            if tag.starts_with("rhai") && tag != "rhai" && tag != "rhai,error" {
                return Err((line_no, format!("unknown code block tag {tag:?}: runnable examples are tagged `rhai`, examples of a mistake `rhai,error`")));
            }
            fence = Some((tag.to_string(), line_no, String::new()));
            continue;
        }
        let Some(l) = lang else { continue };
        if trimmed.starts_with('#')
            && let Some(open) = line.rfind("{#")
        {
            let Some(id) = line[open + 2..].strip_suffix('}') else {
                return Err((line_no, "a heading anchor is written at the end of the heading: `## Title {#id}`".into()));
            };
            if !valid_anchor(id) {
                return Err((line_no, format!("anchor {id:?} must be lowercase letters, digits and '-'")));
            }
            if out.anchors.iter().any(|a| a.lang == l && a.id == id) {
                return Err((line_no, format!("anchor {{#{id}}} appears twice in the {l} text")));
            }
            out.anchors.push(Anchor { lang: l, id: id.to_string(), line: line_no });
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(close) = after.find(')') else { break };
            let target = &after[..close];
            rest = &after[close..];
            if target.contains("://") || target.contains('/') {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a.to_string())),
                None => (target, None),
            };
            let lesson = if file.is_empty() {
                None
            } else if let Some(stem) = file.strip_suffix(".md") {
                Some(stem.to_string())
            } else {
                continue;
            };
            if let Some(a) = &anchor
                && !valid_anchor(a)
            {
                return Err((line_no, format!("link to {target:?}: anchor {a:?} must be lowercase letters, digits and '-'")));
            }
            out.links.push((l, line_no, lesson, anchor));
        }
    }
    if let Some((_, start, _)) = fence {
        return Err((start, "this code block is never closed by a ``` line".into()));
    }
    Ok(out)
}
