//! The assessment item bank: information-literacy items as versioned data
//! (`assessment/items/<literacy>/<grade-band>.toml` for students,
//! `assessment/teachers/*.toml` for teachers), their validation against the
//! catalogue, and the scoring of one response.
//!
//! The format is documented in docs/item-bank.md. Loading is strict (unknown
//! keys are errors) and every problem names the file, line and column, so a
//! `qiming curriculum check` on a bank of hundreds of items points at the one
//! that needs fixing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::meta::{GRADE_BANDS, LITERACIES, Text, is_literacy, module_name};
use crate::{CurriculumError, Lab, Lesson, err_at};

/// The only item-bank format version this build reads.
pub const ITEM_FORMAT_VERSION: u32 = 1;

/// Item types, as written in `type = …`.
pub const ITEM_TYPES: &[&str] = &["single", "multiple", "true_false", "numeric", "text", "ordering", "matching", "performance"];

/// Where an item is in its life: written, checked by a second person, in use,
/// withdrawn (kept so old results still resolve; never deleted).
pub const STATUSES: &[&str] = &["draft", "reviewed", "live", "retired"];

/// Who an item is for. Each population is calibrated on its own scale.
pub const POPULATIONS: &[&str] = &["student", "teacher"];

/// The grade bands the student bank covers (the compulsory 信息科技 course).
pub const STUDENT_BANDS: &[&str] = &["3-4", "5-6", "7-9"];

/// One option of a choice, ordering or matching item.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// Short id the answer refers to (`a`, `b`, … or `1`, `2`, …).
    pub id: String,
    pub text: Text,
}

/// Accepted spellings of a short-text answer, per language.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub zh: Vec<String>,
    pub en: Vec<String>,
}

/// What kind of item it is, with its answer key.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// One right option.
    Single { options: Vec<Choice>, answer: String },
    /// One or more right options; partial credit (see [`Item::score`]).
    Multiple { options: Vec<Choice>, answer: Vec<String> },
    /// A statement that is true or false.
    TrueFalse { answer: bool },
    /// A number, right within `tolerance` (absolute); `unit` is shown next to the box.
    Numeric { answer: f64, tolerance: f64, unit: Option<Text> },
    /// A word or short phrase; any accepted spelling of either language is right.
    Text { accept: Accepted },
    /// Put all options in order; `answer` is the right order.
    Ordering { options: Vec<Choice>, answer: Vec<String> },
    /// Pair each option with one target; targets may include distractors.
    Matching { options: Vec<Choice>, targets: Vec<Choice>, answer: Vec<(String, String)> },
    /// A small lab graded by the engine. The lab's score (a fraction in
    /// [0, 1]) earns one point per level reached: `levels = [1.0]` is
    /// dichotomous, `[0.5, 1.0]` gives 0, 1 or 2 points.
    Performance { lab: String, levels: Vec<f64> },
}

impl ItemKind {
    /// The name written in `type = …`.
    pub fn name(&self) -> &'static str {
        match self {
            ItemKind::Single { .. } => "single",
            ItemKind::Multiple { .. } => "multiple",
            ItemKind::TrueFalse { .. } => "true_false",
            ItemKind::Numeric { .. } => "numeric",
            ItemKind::Text { .. } => "text",
            ItemKind::Ordering { .. } => "ordering",
            ItemKind::Matching { .. } => "matching",
            ItemKind::Performance { .. } => "performance",
        }
    }
}

/// A loaded, validated item.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Unique across the whole bank (both populations) and stable forever:
    /// results refer to it.
    pub id: String,
    /// `student` or `teacher`.
    pub population: String,
    /// One of the four core literacies (`meta::LITERACIES` ids).
    pub literacy: String,
    /// Curriculum module (`meta::MODULES` ids); required for students.
    pub module: Option<String>,
    /// Grade band; required for students.
    pub grade_band: Option<String>,
    /// Lessons (and anchors) the item assesses: `lesson` or `lesson#anchor`.
    pub knowledge: Vec<String>,
    pub status: String,
    /// Prior difficulty b on the logit scale.
    pub difficulty: f64,
    /// Prior discrimination a (2PL/3PL), when the author has one.
    pub discrimination: Option<f64>,
    /// Prior lower asymptote c (3PL), when the author has one.
    pub guessing: Option<f64>,
    /// A seed for the exposure count. Live exposure counts are runtime data
    /// kept by the server; this only carries a count over from another system.
    pub exposure: u64,
    /// The question (paragraphs and fenced code blocks; see [`text_blocks`]).
    pub stem: Text,
    pub kind: ItemKind,
    /// Shown after the test: why the answer is right.
    pub explanation: Text,
}

/// A learner's response to one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// Option ids chosen (single, multiple).
    Choices(Vec<String>),
    Bool(bool),
    Number(f64),
    Text(String),
    /// Option ids in the order given.
    Order(Vec<String>),
    /// (option, target) pairs.
    Pairs(Vec<(String, String)>),
    /// The lab's score as a fraction in [0, 1].
    LabScore(f64),
}

impl Item {
    /// The most points the item gives: 1 for dichotomous types; the number of
    /// right options (multiple), adjacent pairs (ordering: n − 1), pairs
    /// (matching) or levels (performance) for partial-credit types.
    pub fn max_points(&self) -> u32 {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        match &self.kind {
            ItemKind::Multiple { answer, .. } => n(answer.len()),
            ItemKind::Ordering { answer, .. } => n(answer.len().saturating_sub(1)),
            ItemKind::Matching { answer, .. } => n(answer.len()),
            ItemKind::Performance { levels, .. } => n(levels.len()),
            _ => 1,
        }
    }

    /// Scores one response: `(points, max_points)`.
    ///
    /// - single, true/false, numeric (within the tolerance), text: 1 or 0;
    ///   text is compared after [`normalize_answer`] with every accepted
    ///   spelling of both languages.
    /// - multiple: the rule of Chinese exams (全部选对得满分，部分选对得部分分，
    ///   有选错的不得分): choosing any wrong option scores 0, otherwise one
    ///   point per right option chosen.
    /// - ordering: one point per adjacent pair of the right order that stands
    ///   next to each other, in that order, in the response (max n − 1); a
    ///   response that is not an arrangement of all options scores 0. Kendall's
    ///   distance would credit a reversed list for half its pairs; adjacency
    ///   credits only the runs a learner got right.
    /// - matching: one point per right pair; an option paired twice scores
    ///   none of its pairs.
    /// - performance: one point per level the lab score reaches.
    ///
    /// A response of the wrong shape for the item scores 0.
    pub fn score(&self, response: &Response) -> (u32, u32) {
        let max = self.max_points();
        let points = match (&self.kind, response) {
            (ItemKind::Single { answer, .. }, Response::Choices(c)) => u32::from(c.len() == 1 && &c[0] == answer),
            (ItemKind::Multiple { answer, .. }, Response::Choices(c)) => {
                let mut chosen: Vec<&String> = c.iter().collect();
                chosen.sort();
                chosen.dedup();
                if chosen.iter().all(|id| answer.contains(id)) { chosen.len() as u32 } else { 0 }
            }
            (ItemKind::TrueFalse { answer }, Response::Bool(b)) => u32::from(answer == b),
            (ItemKind::Numeric { answer, tolerance, .. }, Response::Number(x)) => u32::from(x.is_finite() && (x - answer).abs() <= *tolerance + 1e-9),
            (ItemKind::Text { accept }, Response::Text(t)) => {
                let given = normalize_answer(t);
                u32::from(!given.is_empty() && accept.zh.iter().chain(&accept.en).any(|a| normalize_answer(a) == given))
            }
            (ItemKind::Ordering { answer, .. }, Response::Order(order)) => {
                let mut sorted_given: Vec<&String> = order.iter().collect();
                let mut sorted_key: Vec<&String> = answer.iter().collect();
                sorted_given.sort();
                sorted_key.sort();
                if sorted_given != sorted_key {
                    0
                } else {
                    let pos = |id: &String| order.iter().position(|o| o == id);
                    answer.windows(2).filter(|w| matches!((pos(&w[0]), pos(&w[1])), (Some(i), Some(j)) if j == i + 1)).count() as u32
                }
            }
            (ItemKind::Matching { answer, .. }, Response::Pairs(pairs)) => {
                pairs.iter().filter(|(o, t)| pairs.iter().filter(|(o2, _)| o2 == o).count() == 1 && answer.iter().any(|(ao, at)| ao == o && at == t)).count()
                    as u32
            }
            (ItemKind::Performance { levels, .. }, Response::LabScore(s)) => levels.iter().filter(|l| s.is_finite() && *s + 1e-9 >= **l).count() as u32,
            _ => 0,
        };
        (points.min(max), max)
    }

    /// The options of a choice, ordering or matching item.
    pub fn options(&self) -> &[Choice] {
        match &self.kind {
            ItemKind::Single { options, .. } | ItemKind::Multiple { options, .. } | ItemKind::Ordering { options, .. } | ItemKind::Matching { options, .. } => {
                options
            }
            _ => &[],
        }
    }
}

/// How a short answer is compared: full-width letters, digits and
/// punctuation become half-width (a Chinese input method types `ＬＥＤ`),
/// letters lower case, runs of whitespace (the ideographic space included)
/// one space, no space at the ends, and a final full stop (。 or .) dropped.
pub fn normalize_answer(s: &str) -> String {
    let half: String = s
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '。' => '.',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let joined = half.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches('.').trim_end().to_string()
}

/// A part of a stem or explanation: a paragraph (lines kept) or a fenced code block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Para(String),
    Code { lang: String, code: String },
}

/// Splits a text into paragraphs (separated by blank lines) and fenced code
/// blocks (```` ```rhai ```` … ```` ``` ````). `Err` names the 0-based line of
/// a fence that is never closed.
pub fn text_blocks(text: &str) -> Result<Vec<Block>, usize> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut lines = text.lines().enumerate();
    let flush = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Para(para.join("\n")));
            para.clear();
        }
    };
    while let Some((i, line)) = lines.next() {
        let t = line.trim_end();
        if let Some(lang) = t.trim_start().strip_prefix("```") {
            flush(&mut para, &mut blocks);
            let mut code: Vec<&str> = Vec::new();
            let mut closed = false;
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    closed = true;
                    break;
                }
                code.push(l.trim_end());
            }
            if !closed {
                return Err(i);
            }
            blocks.push(Block::Code { lang: lang.trim().to_string(), code: code.join("\n") });
        } else if t.trim().is_empty() {
            flush(&mut para, &mut blocks);
        } else {
            para.push(t.trim());
        }
    }
    flush(&mut para, &mut blocks);
    Ok(blocks)
}

/// The one way a list of blocks is written: blocks separated by one blank
/// line. Stems are stored in this form, so an export and import gives back
/// the same text.
pub fn join_blocks(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|b| match b {
            Block::Para(p) => p.clone(),
            Block::Code { lang, code } => format!("```{lang}\n{code}\n```"),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Where an item was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
}

/// Every item of a catalogue, student and teacher banks together.
#[derive(Clone, Debug, Default)]
pub struct ItemBank {
    pub items: Vec<Item>,
    /// Where each item (by id) is defined.
    pub locations: BTreeMap<String, Location>,
}

/// Counts of a bank, for `qiming curriculum check` and `list`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankCounts {
    /// (population, literacy, grade band or "-", type) → items.
    pub cells: BTreeMap<(String, String, String, String), usize>,
}

impl ItemBank {
    /// The items of one population.
    pub fn population<'a>(&'a self, population: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.population == population)
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn counts(&self) -> BankCounts {
        let mut cells = BTreeMap::new();
        for i in &self.items {
            let key = (i.population.clone(), i.literacy.clone(), i.grade_band.clone().unwrap_or_else(|| "-".into()), i.kind.name().to_string());
            *cells.entry(key).or_insert(0) += 1;
        }
        BankCounts { cells }
    }

    /// A table of items per literacy × grade band, and per type, for each
    /// population (literacy names in both languages).
    pub fn summary(&self) -> String {
        let counts = self.counts();
        let mut out = String::new();
        for pop in POPULATIONS {
            let total: usize = counts.cells.iter().filter(|(k, _)| k.0 == *pop).map(|(_, n)| n).sum();
            if total == 0 {
                continue;
            }
            let bands: Vec<String> = {
                let mut b: Vec<String> = counts.cells.keys().filter(|k| k.0 == *pop).map(|k| k.2.clone()).collect();
                b.sort_by_key(|x| GRADE_BANDS.iter().position(|g| g == x).unwrap_or(usize::MAX));
                b.dedup();
                b
            };
            out.push_str(&format!("{pop} items / {}题目: {total}\n", if *pop == "student" { "学生" } else { "教师" }));
            // Chinese characters take two columns in a terminal.
            let pad = |label: &str| {
                let width = label.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
                format!("  {label}{}", " ".repeat(50usize.saturating_sub(width)))
            };
            out.push_str(&pad("literacy / 素养"));
            for b in &bands {
                out.push_str(&format!("{b:>7}"));
            }
            out.push_str(&format!("{:>7}\n", "total"));
            for (lit, zh, en) in LITERACIES {
                let row: Vec<usize> =
                    bands.iter().map(|b| counts.cells.iter().filter(|(k, _)| k.0 == *pop && k.1 == *lit && &k.2 == b).map(|(_, n)| n).sum()).collect();
                out.push_str(&pad(&format!("{zh} {en}")));
                for n in &row {
                    out.push_str(&format!("{n:>7}"));
                }
                out.push_str(&format!("{:>7}\n", row.iter().sum::<usize>()));
            }
            out.push_str("  types / 题型:");
            for t in ITEM_TYPES {
                let n: usize = counts.cells.iter().filter(|(k, _)| k.0 == *pop && k.3 == *t).map(|(_, n)| n).sum();
                out.push_str(&format!(" {t} {n}"));
            }
            out.push('\n');
        }
        out
    }

    /// Loads `dir/assessment/items/<literacy>/<band>.toml` and
    /// `dir/assessment/teachers/*.toml` (a catalogue without an `assessment`
    /// folder has an empty bank) and validates every item against the
    /// lessons and labs. Returns the items that loaded and every problem.
    pub fn load_dir(dir: &Path, lessons: &[Lesson], labs: &[Lab]) -> (ItemBank, Vec<CurriculumError>) {
        let mut bank = ItemBank::default();
        let mut errors = Vec::new();
        let root = dir.join("assessment");
        if !root.is_dir() {
            return (bank, errors);
        }
        let mut files: Vec<(PathBuf, Expect)> = Vec::new();
        let items_dir = root.join("items");
        for sub in crate::sorted_entries(&items_dir, &mut errors) {
            let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if !sub.is_dir() {
                errors.push(CurriculumError::new(
                    &sub.display().to_string(),
                    0,
                    0,
                    "the student bank holds one folder per literacy: items/<literacy>/<grade-band>.toml",
                ));
                continue;
            }
            if !is_literacy(&name) {
                errors.push(CurriculumError::new(&sub.display().to_string(), 0, 0, format!("{name:?} is not a literacy id ({})", literacy_ids())));
                continue;
            }
            for f in crate::sorted_entries(&sub, &mut errors) {
                let band = f.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if f.extension().is_none_or(|e| e != "toml") || !STUDENT_BANDS.contains(&band.as_str()) {
                    errors.push(CurriculumError::new(
                        &f.display().to_string(),
                        0,
                        0,
                        format!("student item files are named <grade-band>.toml, one of {}", STUDENT_BANDS.join(", ")),
                    ));
                    continue;
                }
                files.push((f, Expect { population: "student", literacy: Some(name.clone()), band: Some(band) }));
            }
        }
        let teachers = root.join("teachers");
        if teachers.is_dir() {
            for f in crate::sorted_entries(&teachers, &mut errors) {
                if f.extension().is_some_and(|e| e == "toml") {
                    files.push((f, Expect { population: "teacher", literacy: None, band: None }));
                }
            }
        }
        for (path, expect) in files {
            match std::fs::read_to_string(&path) {
                Ok(source) => {
                    let (items, errs) = parse_file(&path, &source, Some(&expect), lessons, labs);
                    errors.extend(errs);
                    bank.add(items, &mut errors);
                }
                Err(e) => errors.push(CurriculumError::new(&path.display().to_string(), 0, 0, format!("cannot read: {e}"))),
            }
        }
        (bank, errors)
    }

    /// Loads one item file anywhere (an imported bank), validating references
    /// against the given lessons and labs.
    pub fn load_file(path: &Path, lessons: &[Lesson], labs: &[Lab]) -> Result<ItemBank, Vec<CurriculumError>> {
        let source = std::fs::read_to_string(path).map_err(|e| vec![CurriculumError::new(&path.display().to_string(), 0, 0, format!("cannot read: {e}"))])?;
        let (items, mut errors) = parse_file(path, &source, None, lessons, labs);
        let mut bank = ItemBank::default();
        bank.add(items, &mut errors);
        if errors.is_empty() { Ok(bank) } else { Err(errors) }
    }

    fn add(&mut self, items: Vec<(Item, Location)>, errors: &mut Vec<CurriculumError>) {
        for (item, loc) in items {
            if let Some(first) = self.locations.get(&item.id) {
                errors.push(CurriculumError::new(
                    &loc.path.display().to_string(),
                    loc.line,
                    1,
                    format!("duplicate item id {:?} (first defined at {}:{})", item.id, first.path.display(), first.line),
                ));
                continue;
            }
            self.locations.insert(item.id.clone(), loc);
            self.items.push(item);
        }
    }
}

fn literacy_ids() -> String {
    LITERACIES.iter().map(|l| l.0).collect::<Vec<_>>().join(", ")
}

/// What a file's place in the bank says its items are.
struct Expect {
    population: &'static str,
    literacy: Option<String>,
    band: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BankFile {
    format_version: Spanned<u32>,
    #[serde(default)]
    item: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    id: String,
    #[serde(rename = "zh-CN")]
    zh: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    population: Option<Spanned<String>>,
    literacy: Spanned<String>,
    module: Option<Spanned<String>>,
    grade_band: Option<Spanned<String>>,
    #[serde(default)]
    knowledge: Vec<Spanned<String>>,
    status: Spanned<String>,
    difficulty: Spanned<f64>,
    discrimination: Option<Spanned<f64>>,
    guessing: Option<Spanned<f64>>,
    #[serde(default)]
    exposure: u64,
    stem: Spanned<Text>,
    options: Option<Spanned<Vec<Spanned<RawChoice>>>>,
    targets: Option<Spanned<Vec<Spanned<RawChoice>>>>,
    answer: Option<Spanned<toml::Value>>,
    tolerance: Option<Spanned<f64>>,
    unit: Option<Text>,
    lab: Option<Spanned<String>>,
    levels: Option<Spanned<Vec<f64>>>,
    explanation: Spanned<Text>,
}

type Span = std::ops::Range<usize>;

fn parse_file(path: &Path, source: &str, expect: Option<&Expect>, lessons: &[Lesson], labs: &[Lab]) -> (Vec<(Item, Location)>, Vec<CurriculumError>) {
    let shown = path.display().to_string();
    let at = |span: Span, msg: String| err_at(&shown, source, span, msg);
    let file: BankFile = match toml::from_str(source) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![at(e.span().unwrap_or(0..0), e.message().to_string())]),
    };
    if *file.format_version.get_ref() != ITEM_FORMAT_VERSION {
        return (Vec::new(), vec![at(file.format_version.span(), format!("format_version must be {ITEM_FORMAT_VERSION}"))]);
    }
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for raw in file.item {
        let span = raw.span();
        match build_item(raw.into_inner(), expect, lessons, labs) {
            Ok(item) => {
                let line = crate::line_of(source, span.start);
                items.push((item, Location { path: path.to_path_buf(), line }));
            }
            Err((span, msg)) => errors.push(at(span, msg)),
        }
    }
    (items, errors)
}

fn ids_ok(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn text_ok(t: &Text) -> bool {
    !t.zh.trim().is_empty() && !t.en.trim().is_empty()
}

/// Stores a stem or explanation in its one written form, refusing a code
/// fence that is never closed.
fn canonical(t: &Text, what: &str, span: &Span) -> Result<Text, (Span, String)> {
    let one = |s: &str, lang: &str| {
        text_blocks(s)
            .map(|b| join_blocks(&b))
            .map_err(|line| (span.clone(), format!("{what} ({lang}): the code block opened on its line {} is never closed by a ``` line", line + 1)))
    };
    Ok(Text { zh: one(&t.zh, "zh-CN")?, en: one(&t.en, "en")? })
}

fn build_item(raw: RawItem, expect: Option<&Expect>, lessons: &[Lesson], labs: &[Lab]) -> Result<Item, (Span, String)> {
    let err = |span: Span, msg: String| Err((span, msg));
    let id = raw.id.get_ref().clone();
    if !ids_ok(&id) {
        return err(raw.id.span(), format!("item id {id:?} must be lowercase letters, digits and '-'"));
    }
    let ctx = |m: String| format!("item {id:?}: {m}");
    let population = raw.population.as_ref().map_or_else(|| "student".to_string(), |p| p.get_ref().clone());
    if let Some(p) = &raw.population
        && !POPULATIONS.contains(&p.get_ref().as_str())
    {
        return err(p.span(), ctx(format!("population must be one of {}", POPULATIONS.join(", "))));
    }
    let literacy = raw.literacy.get_ref().clone();
    if !is_literacy(&literacy) {
        return err(raw.literacy.span(), ctx(format!("literacy {literacy:?} is not one of {}", literacy_ids())));
    }
    if let Some(m) = &raw.module
        && module_name(m.get_ref()).is_none()
    {
        let known: Vec<&str> = crate::meta::MODULES.iter().map(|m| m.0).collect();
        return err(m.span(), ctx(format!("unknown module {:?}; known: {}", m.get_ref(), known.join(", "))));
    }
    if let Some(b) = &raw.grade_band
        && !GRADE_BANDS.contains(&b.get_ref().as_str())
    {
        return err(b.span(), ctx(format!("grade_band must be one of {}", GRADE_BANDS.join(", "))));
    }
    if population == "student" {
        if raw.module.is_none() {
            return err(raw.id.span(), ctx("a student item needs `module`".into()));
        }
        if raw.grade_band.is_none() {
            return err(raw.id.span(), ctx("a student item needs `grade_band`".into()));
        }
    }
    if let Some(e) = expect {
        if population != e.population {
            let span = raw.population.as_ref().map_or(raw.id.span(), |p| p.span());
            return err(span, ctx(format!("items in this folder are for the {} population (population = {:?})", e.population, e.population)));
        }
        if let Some(l) = &e.literacy
            && &literacy != l
        {
            return err(raw.literacy.span(), ctx(format!("this file holds {l} items (items/<literacy>/<grade-band>.toml)")));
        }
        if let (Some(b), Some(g)) = (&e.band, &raw.grade_band)
            && g.get_ref() != b
        {
            return err(g.span(), ctx(format!("this file holds grade band {b} items (items/<literacy>/<grade-band>.toml)")));
        }
    }
    let mut knowledge = Vec::new();
    for k in &raw.knowledge {
        let (lesson, anchor) = match k.get_ref().split_once('#') {
            Some((l, a)) => (l, Some(a)),
            None => (k.get_ref().as_str(), None),
        };
        let Some(found) = lessons.iter().find(|l| l.id == lesson) else {
            return err(k.span(), ctx(format!("knowledge point {:?}: there is no lesson {lesson:?}", k.get_ref())));
        };
        if let Some(a) = anchor
            && !found.has_anchor(a)
        {
            let known: Vec<String> = found.anchors.iter().filter(|x| x.lang == "en").map(|x| format!("#{}", x.id)).collect();
            return err(k.span(), ctx(format!("knowledge point {:?}: lesson {lesson:?} has no anchor {{#{a}}} (it has: {})", k.get_ref(), known.join(" "))));
        }
        if knowledge.contains(k.get_ref()) {
            return err(k.span(), ctx(format!("knowledge point {:?} is listed twice", k.get_ref())));
        }
        knowledge.push(k.get_ref().clone());
    }
    let status = raw.status.get_ref().clone();
    if !STATUSES.contains(&status.as_str()) {
        return err(raw.status.span(), ctx(format!("status must be one of {}", STATUSES.join(", "))));
    }
    let difficulty = *raw.difficulty.get_ref();
    if !(-4.0..=4.0).contains(&difficulty) {
        return err(raw.difficulty.span(), ctx("difficulty (prior b, logits) must be between -4 and 4".into()));
    }
    if let Some(a) = &raw.discrimination
        && !(*a.get_ref() > 0.0 && *a.get_ref() <= 4.0)
    {
        return err(a.span(), ctx("discrimination (a) must be in (0, 4]".into()));
    }
    if let Some(c) = &raw.guessing
        && !(0.0..0.5).contains(c.get_ref())
    {
        return err(c.span(), ctx("guessing (c) must be in [0, 0.5)".into()));
    }
    if !text_ok(raw.stem.get_ref()) {
        return err(raw.stem.span(), ctx("stem needs non-empty zh-CN and en text".into()));
    }
    if !text_ok(raw.explanation.get_ref()) {
        return err(raw.explanation.span(), ctx("explanation needs non-empty zh-CN and en text".into()));
    }
    let stem = canonical(raw.stem.get_ref(), "stem", &raw.stem.span())?;
    let explanation = canonical(raw.explanation.get_ref(), "explanation", &raw.explanation.span())?;

    let type_name = raw.kind.get_ref().as_str();
    if !ITEM_TYPES.contains(&type_name) {
        return err(raw.kind.span(), ctx(format!("type must be one of {}", ITEM_TYPES.join(", "))));
    }
    // Keys that only some types use are refused elsewhere, so a typo in
    // `type` does not silently ignore an answer key.
    let uses: &[&str] = match type_name {
        "single" | "multiple" | "ordering" => &["options", "answer"],
        "true_false" | "text" => &["answer"],
        "numeric" => &["answer", "tolerance", "unit"],
        "matching" => &["options", "targets", "answer"],
        _ => &["lab", "levels"],
    };
    let present: [(&str, Option<Span>); 7] = [
        ("options", raw.options.as_ref().map(|o| o.span())),
        ("targets", raw.targets.as_ref().map(|o| o.span())),
        ("answer", raw.answer.as_ref().map(|o| o.span())),
        ("tolerance", raw.tolerance.as_ref().map(|o| o.span())),
        ("unit", raw.unit.as_ref().map(|_| raw.kind.span())),
        ("lab", raw.lab.as_ref().map(|o| o.span())),
        ("levels", raw.levels.as_ref().map(|o| o.span())),
    ];
    for (key, span) in &present {
        if let Some(span) = span
            && !uses.contains(key)
        {
            return err(span.clone(), ctx(format!("`{key}` is not used by {type_name} items")));
        }
    }
    for key in uses {
        let optional = *key == "unit";
        if !optional && present.iter().any(|(k, s)| k == key && s.is_none()) {
            return err(raw.kind.span(), ctx(format!("a {type_name} item needs `{key}`")));
        }
    }
    let choices = |list: &Option<Spanned<Vec<Spanned<RawChoice>>>>, what: &str, min: usize| -> Result<Vec<Choice>, (Span, String)> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut out: Vec<Choice> = Vec::new();
        for c in list.get_ref() {
            let r = c.get_ref();
            if !ids_ok(&r.id) {
                return Err((c.span(), ctx(format!("{what}: id {:?} must be lowercase letters, digits and '-'", r.id))));
            }
            if out.iter().any(|o| o.id == r.id) {
                return Err((c.span(), ctx(format!("{what}: id {:?} is used twice", r.id))));
            }
            let text = Text::new(r.zh.clone(), r.en.clone());
            if !text_ok(&text) || text.zh.contains('\n') || text.en.contains('\n') {
                return Err((c.span(), ctx(format!("{what} {:?}: needs one line of zh-CN and of en text", r.id))));
            }
            out.push(Choice { id: r.id.clone(), text });
        }
        if !(min..=10).contains(&out.len()) {
            return Err((list.span(), ctx(format!("{what}: between {min} and 10 are needed, found {}", out.len()))));
        }
        Ok(out)
    };
    let answer_span = raw.answer.as_ref().map_or(raw.kind.span(), |a| a.span());
    let answer = raw.answer.as_ref().map(|a| a.get_ref().clone());
    let id_list = |v: &Option<toml::Value>| -> Option<Vec<String>> {
        match v {
            Some(toml::Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
            _ => None,
        }
    };
    let kind = match type_name {
        "single" => {
            let options = choices(&raw.options, "options", 2)?;
            let Some(a) = answer.as_ref().and_then(|a| a.as_str()) else {
                return err(answer_span, ctx("a single-choice answer is one option id: answer = \"b\"".into()));
            };
            if !options.iter().any(|o| o.id == a) {
                return err(answer_span, ctx(format!("answer {a:?} is not one of the options")));
            }
            ItemKind::Single { answer: a.to_string(), options }
        }
        "multiple" => {
            let options = choices(&raw.options, "options", 3)?;
            let Some(a) = id_list(&answer).filter(|a| !a.is_empty()) else {
                return err(answer_span, ctx("a multiple-choice answer lists option ids: answer = [\"a\", \"c\"]".into()));
            };
            if let Some(bad) = a.iter().find(|x| !options.iter().any(|o| &o.id == *x)) {
                return err(answer_span, ctx(format!("answer {bad:?} is not one of the options")));
            }
            if a.iter().enumerate().any(|(i, x)| a[..i].contains(x)) {
                return err(answer_span, ctx("answer lists an option twice".into()));
            }
            if a.len() == options.len() {
                return err(answer_span, ctx("every option is right: a multiple-choice item needs at least one wrong option".into()));
            }
            ItemKind::Multiple { answer: a, options }
        }
        "ordering" => {
            let options = choices(&raw.options, "options", 3)?;
            let Some(a) = id_list(&answer) else {
                return err(answer_span, ctx("an ordering answer lists every option id in the right order".into()));
            };
            let mut x = a.clone();
            x.sort();
            let mut y: Vec<String> = options.iter().map(|o| o.id.clone()).collect();
            y.sort();
            if x != y {
                return err(answer_span, ctx("an ordering answer lists every option id exactly once".into()));
            }
            if a.iter().zip(&options).all(|(x, o)| x == &o.id) {
                return err(answer_span, ctx("the options are already in the right order: list them shuffled".into()));
            }
            ItemKind::Ordering { answer: a, options }
        }
        "matching" => {
            let options = choices(&raw.options, "options", 2)?;
            let targets = choices(&raw.targets, "targets", 2)?;
            if targets.len() < options.len() {
                return err(answer_span, ctx("matching needs at least as many targets as options".into()));
            }
            let pairs: Option<Vec<(String, String)>> = match &answer {
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|p| match p.as_array().map(Vec::as_slice) {
                        Some([o, t]) => Some((o.as_str()?.to_string(), t.as_str()?.to_string())),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            };
            let Some(pairs) = pairs else {
                return err(answer_span, ctx("a matching answer lists [option, target] pairs: answer = [[\"a\", \"1\"], [\"b\", \"2\"]]".into()));
            };
            for o in &options {
                if pairs.iter().filter(|(p, _)| p == &o.id).count() != 1 {
                    return err(answer_span, ctx(format!("option {:?} must be paired exactly once", o.id)));
                }
            }
            for (o, t) in &pairs {
                if !options.iter().any(|x| &x.id == o) {
                    return err(answer_span, ctx(format!("pair [{o:?}, {t:?}]: {o:?} is not an option")));
                }
                if !targets.iter().any(|x| &x.id == t) {
                    return err(answer_span, ctx(format!("pair [{o:?}, {t:?}]: {t:?} is not a target")));
                }
                if pairs.iter().filter(|(_, t2)| t2 == t).count() > 1 {
                    return err(answer_span, ctx(format!("target {t:?} is used by two pairs")));
                }
            }
            ItemKind::Matching { options, targets, answer: pairs }
        }
        "true_false" => {
            let Some(b) = answer.as_ref().and_then(|a| a.as_bool()) else {
                return err(answer_span, ctx("a true/false answer is true or false".into()));
            };
            ItemKind::TrueFalse { answer: b }
        }
        "numeric" => {
            let value = match &answer {
                Some(toml::Value::Float(f)) => Some(*f),
                Some(toml::Value::Integer(i)) => Some(*i as f64),
                _ => None,
            };
            let Some(value) = value.filter(|v| v.is_finite()) else {
                return err(answer_span, ctx("a numeric answer is a number".into()));
            };
            let tolerance = raw.tolerance.as_ref().map_or(0.0, |t| *t.get_ref());
            if !(tolerance.is_finite() && tolerance >= 0.0) {
                return err(raw.tolerance.as_ref().map_or(answer_span, |t| t.span()), ctx("tolerance must be a number >= 0".into()));
            }
            if let Some(u) = &raw.unit
                && !text_ok(u)
            {
                return err(raw.kind.span(), ctx("unit needs zh-CN and en text".into()));
            }
            ItemKind::Numeric { answer: value, tolerance, unit: raw.unit.clone() }
        }
        "text" => {
            let accept = match &answer {
                Some(toml::Value::Table(t)) => {
                    let list = |k: &str| -> Option<Vec<String>> { t.get(k)?.as_array()?.iter().map(|v| v.as_str().map(str::to_string)).collect() };
                    if t.keys().any(|k| k != "zh-CN" && k != "en") {
                        None
                    } else {
                        match (list("zh-CN"), list("en")) {
                            (Some(zh), Some(en)) => Some(Accepted { zh, en }),
                            _ => None,
                        }
                    }
                }
                _ => None,
            };
            let Some(accept) = accept else {
                return err(answer_span, ctx("a text answer lists accepted spellings per language: answer = { zh-CN = [\"…\"], en = [\"…\"] }".into()));
            };
            if accept.zh.is_empty() || accept.en.is_empty() || accept.zh.iter().chain(&accept.en).any(|s| normalize_answer(s).is_empty()) {
                return err(answer_span, ctx("each language needs at least one non-empty accepted spelling".into()));
            }
            ItemKind::Text { accept }
        }
        _ => {
            let lab = raw.lab.as_ref().map(|l| l.get_ref().clone()).unwrap_or_default();
            if !labs.iter().any(|l| l.id == lab) {
                return err(raw.lab.as_ref().map_or(raw.kind.span(), |l| l.span()), ctx(format!("lab {lab:?} does not exist in labs/")));
            }
            let levels = raw.levels.as_ref().map(|l| l.get_ref().clone()).unwrap_or_default();
            let span = raw.levels.as_ref().map_or(raw.kind.span(), |l| l.span());
            if levels.is_empty() || levels.iter().any(|l| !(*l > 0.0 && *l <= 1.0)) || levels.windows(2).any(|w| w[0] >= w[1]) {
                return err(span, ctx("levels are lab-score fractions in (0, 1], increasing: [1.0] (right/wrong) or e.g. [0.5, 1.0]".into()));
            }
            ItemKind::Performance { lab, levels }
        }
    };
    Ok(Item {
        id,
        population,
        literacy,
        module: raw.module.map(Spanned::into_inner),
        grade_band: raw.grade_band.map(Spanned::into_inner),
        knowledge,
        status,
        difficulty,
        discrimination: raw.discrimination.map(Spanned::into_inner),
        guessing: raw.guessing.map(Spanned::into_inner),
        exposure: raw.exposure,
        stem,
        kind,
        explanation,
    })
}

/// Writes items as a bank file in the format [`ItemBank::load_file`] reads
/// (for `qiming bank import-qti --out`). Every string is a TOML basic string,
/// escaped, so any text survives.
pub fn to_toml(items: &[Item]) -> String {
    let mut out = format!("format_version = {ITEM_FORMAT_VERSION}\n");
    let s = |v: &str| toml_string(v);
    let text = |t: &Text| format!("{{ zh-CN = {}, en = {} }}", s(&t.zh), s(&t.en));
    let ids = |v: &[String]| format!("[{}]", v.iter().map(|x| s(x)).collect::<Vec<_>>().join(", "));
    let choices = |name: &str, list: &[Choice]| {
        let mut o = format!("{name} = [\n");
        for c in list {
            o.push_str(&format!("  {{ id = {}, zh-CN = {}, en = {} }},\n", s(&c.id), s(&c.text.zh), s(&c.text.en)));
        }
        o.push_str("]\n");
        o
    };
    for i in items {
        out.push_str("\n[[item]]\n");
        out.push_str(&format!("id = {}\ntype = {}\n", s(&i.id), s(i.kind.name())));
        if i.population != "student" {
            out.push_str(&format!("population = {}\n", s(&i.population)));
        }
        out.push_str(&format!("literacy = {}\n", s(&i.literacy)));
        if let Some(m) = &i.module {
            out.push_str(&format!("module = {}\n", s(m)));
        }
        if let Some(b) = &i.grade_band {
            out.push_str(&format!("grade_band = {}\n", s(b)));
        }
        if !i.knowledge.is_empty() {
            out.push_str(&format!("knowledge = {}\n", ids(&i.knowledge)));
        }
        out.push_str(&format!("status = {}\ndifficulty = {}\n", s(&i.status), toml_float(i.difficulty)));
        if let Some(a) = i.discrimination {
            out.push_str(&format!("discrimination = {}\n", toml_float(a)));
        }
        if let Some(c) = i.guessing {
            out.push_str(&format!("guessing = {}\n", toml_float(c)));
        }
        if i.exposure != 0 {
            out.push_str(&format!("exposure = {}\n", i.exposure));
        }
        out.push_str(&format!("stem = {}\n", text(&i.stem)));
        match &i.kind {
            ItemKind::Single { options, answer } => {
                out.push_str(&choices("options", options));
                out.push_str(&format!("answer = {}\n", s(answer)));
            }
            ItemKind::Multiple { options, answer } | ItemKind::Ordering { options, answer } => {
                out.push_str(&choices("options", options));
                out.push_str(&format!("answer = {}\n", ids(answer)));
            }
            ItemKind::Matching { options, targets, answer } => {
                out.push_str(&choices("options", options));
                out.push_str(&choices("targets", targets));
                let pairs: Vec<String> = answer.iter().map(|(o, t)| format!("[{}, {}]", s(o), s(t))).collect();
                out.push_str(&format!("answer = [{}]\n", pairs.join(", ")));
            }
            ItemKind::TrueFalse { answer } => out.push_str(&format!("answer = {answer}\n")),
            ItemKind::Numeric { answer, tolerance, unit } => {
                out.push_str(&format!("answer = {}\ntolerance = {}\n", toml_float(*answer), toml_float(*tolerance)));
                if let Some(u) = unit {
                    out.push_str(&format!("unit = {}\n", text(u)));
                }
            }
            ItemKind::Text { accept } => out.push_str(&format!("answer = {{ zh-CN = {}, en = {} }}\n", ids(&accept.zh), ids(&accept.en))),
            ItemKind::Performance { lab, levels } => {
                let l: Vec<String> = levels.iter().map(|x| toml_float(*x)).collect();
                out.push_str(&format!("lab = {}\nlevels = [{}]\n", s(lab), l.join(", ")));
            }
        }
        out.push_str(&format!("explanation = {}\n", text(&i.explanation)));
    }
    out
}

fn toml_float(x: f64) -> String {
    // `{:?}` always writes a decimal point or exponent, so the value reads back as a float.
    format!("{x:?}")
}

fn toml_string(v: &str) -> String {
    let mut o = String::with_capacity(v.len() + 2);
    o.push('"');
    for c in v.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}
