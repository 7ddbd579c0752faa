//! Qiming's curriculum as versioned data: lessons, labs and the assessment
//! item bank, loaded and validated.
//!
//! A catalogue is a folder with `lessons/*.md`, `labs/<id>/lab.toml` and
//! (optionally) `assessment/` (see [`item`]).
//! [`Catalogue::load`] checks schemas, unique ids and cross references and
//! reports *every* problem it finds, each with file and line. Whether reference
//! solutions really score full marks is checked by `qiming curriculum check`,
//! which needs the grader.

pub mod item;
pub mod lab;
pub mod lesson;
pub mod meta;
pub mod qti;

use std::path::{Path, PathBuf};

pub use item::{Item, ItemBank, ItemKind, Response};
pub use lab::{Case, Check, CheckKind, Lab, Metric, ModelCase, ModelInputSpec, ModelSpec, ProgramFile};
pub use lesson::Lesson;
pub use meta::Text;

/// Something wrong in a curriculum file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct CurriculumError {
    pub path: String,
    /// 1-based; 0 when the problem is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl CurriculumError {
    pub fn new(path: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        CurriculumError { path: path.to_string(), line, column, message: message.into() }
    }
}

pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

pub(crate) fn err_at(path: &str, source: &str, span: std::ops::Range<usize>, message: String) -> CurriculumError {
    let (line, column) = qiming_sim::scenario::line_col(source, span.start);
    CurriculumError::new(path, line, column, message)
}

/// The shipped catalogue's folder (this crate's directory).
pub fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The catalogue a program uses when none is named: `QIMING_CURRICULUM`, else
/// `./curriculum` (a checkout or an unpacked release), else the source tree
/// this binary was built from.
pub fn find_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("QIMING_CURRICULUM") {
        return PathBuf::from(dir);
    }
    let local = Path::new("curriculum");
    if local.join("labs").is_dir() {
        return local.to_path_buf();
    }
    default_dir()
}

/// Every problem of a catalogue that did not load, for one error message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the curriculum in {} has {} problem(s):\n{}", .dir.display(), .errors.len(), list(.errors))]
pub struct CatalogueErrors {
    pub dir: PathBuf,
    pub errors: Vec<CurriculumError>,
}

fn list(errors: &[CurriculumError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
}

/// All lessons and labs of a folder.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub dir: PathBuf,
    pub lessons: Vec<Lesson>,
    pub labs: Vec<Lab>,
    /// The assessment item bank (`assessment/`), validated against the
    /// lessons and labs above; empty when the folder has none.
    pub items: ItemBank,
}

impl Catalogue {
    /// Loads and validates everything; returns every error found.
    pub fn load(dir: &Path) -> Result<Catalogue, Vec<CurriculumError>> {
        let (cat, errors) = Catalogue::load_all(dir);
        if errors.is_empty() { Ok(cat) } else { Err(errors) }
    }

    /// Loads a catalogue for use (the server, the studio): all of it or an
    /// error that lists every problem.
    pub fn open(dir: &Path) -> Result<Catalogue, CatalogueErrors> {
        Catalogue::load(dir).map_err(|errors| CatalogueErrors { dir: dir.to_path_buf(), errors })
    }

    /// Loads every valid lesson and lab, and lists the problems of the rest,
    /// so one broken lab does not hide the state of the others.
    pub fn load_all(dir: &Path) -> (Catalogue, Vec<CurriculumError>) {
        let mut errors = Vec::new();
        let mut cat = Catalogue { dir: dir.to_path_buf(), ..Default::default() };
        for path in sorted_entries(&dir.join("lessons"), &mut errors) {
            if path.extension().is_some_and(|e| e == "md") {
                match Lesson::load(&path) {
                    Ok(l) => cat.lessons.push(l),
                    Err(e) => errors.push(e),
                }
            }
        }
        for path in sorted_entries(&dir.join("labs"), &mut errors) {
            if path.is_dir() {
                match Lab::load(&path) {
                    Ok(l) => cat.labs.push(l),
                    Err(e) => errors.push(e),
                }
            }
        }
        // Unique ids and references that resolve.
        for (i, l) in cat.lessons.iter().enumerate() {
            if cat.lessons[..i].iter().any(|o| o.id == l.id) {
                errors.push(CurriculumError::new(&l.path.display().to_string(), 2, 1, format!("duplicate lesson id {:?}", l.id)));
            }
            for p in &l.prerequisites {
                if !cat.lessons.iter().any(|o| &o.id == p) {
                    errors.push(CurriculumError::new(&l.path.display().to_string(), l.prerequisites_line, 1, format!("prerequisite {p:?} is not a lesson")));
                }
            }
        }
        // Links between lessons resolve, to an anchor that exists; a linked
        // primer lesson is a prerequisite (directly or through other prerequisites).
        for l in &cat.lessons {
            let shown = l.path.display().to_string();
            for link in &l.links {
                let Some(target) = cat.lessons.iter().find(|o| o.id == link.lesson) else {
                    errors.push(CurriculumError::new(&shown, link.line, 1, format!("link to {}.md: there is no lesson {:?}", link.lesson, link.lesson)));
                    continue;
                };
                if let Some(anchor) = &link.anchor
                    && !target.has_anchor(anchor)
                {
                    let known: Vec<String> = target.anchors.iter().filter(|a| a.lang == "en").map(|a| format!("#{}", a.id)).collect();
                    errors.push(CurriculumError::new(
                        &shown,
                        link.line,
                        1,
                        format!("link to {}.md#{anchor}: lesson {:?} has no anchor {{#{anchor}}} (it has: {})", link.lesson, link.lesson, known.join(" ")),
                    ));
                }
                if target.kind == "primer" && target.id != l.id && !cat.requires(l, &target.id) {
                    errors.push(CurriculumError::new(
                        &shown,
                        link.line,
                        1,
                        format!("links the primer lesson {:?}, so `prerequisites` must list it", target.id),
                    ));
                }
            }
        }
        for lab in &cat.labs {
            let Some(lesson) = &lab.lesson else { continue };
            let toml = lab.dir.join("lab.toml").display().to_string();
            match cat.lessons.iter().find(|l| &l.id == lesson) {
                None => errors.push(CurriculumError::new(&toml, lab.lesson_line, 1, format!("lesson {lesson:?} does not exist"))),
                Some(l) if l.kind != "lab" => {
                    errors.push(CurriculumError::new(
                        &toml,
                        lab.lesson_line,
                        1,
                        format!("lesson {lesson:?} is a {} lesson; a lab's lesson has kind = \"lab\"", l.kind),
                    ));
                }
                Some(_) => {}
            }
        }
        let (items, item_errors) = ItemBank::load_dir(dir, &cat.lessons, &cat.labs);
        cat.items = items;
        errors.extend(item_errors);
        (cat, errors)
    }

    /// Whether `lesson` lists `id` among its prerequisites, directly or
    /// through the prerequisites of its prerequisites.
    pub fn requires(&self, lesson: &Lesson, id: &str) -> bool {
        let mut todo: Vec<&str> = lesson.prerequisites.iter().map(String::as_str).collect();
        let mut seen: Vec<&str> = Vec::new();
        while let Some(p) = todo.pop() {
            if p == id {
                return true;
            }
            if seen.contains(&p) {
                continue;
            }
            seen.push(p);
            if let Some(l) = self.lessons.iter().find(|l| l.id == p) {
                todo.extend(l.prerequisites.iter().map(String::as_str));
            }
        }
        false
    }

    pub fn lab(&self, id: &str) -> Option<&Lab> {
        self.labs.iter().find(|l| l.id == id)
    }
}

/// The entries of `dir`, sorted (so loading order never depends on the file system); an unreadable folder is an error.
pub(crate) fn sorted_entries(dir: &Path, errors: &mut Vec<CurriculumError>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            v
        }
        Err(e) => {
            errors.push(CurriculumError::new(&dir.display().to_string(), 0, 0, format!("cannot read folder: {e}")));
            Vec::new()
        }
    }
}

/// Parses TOML into any deserialisable type (for callers that share this
/// crate's TOML parser, such as the server's config file).
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}
