//! The reports' input model: takers with their placement (class, school, district, city, urban or
//! rural, gender, year, population) and their scored responses and failed lab checks, read from a
//! JSON file or from CSV files (takers + a response matrix in the `qiming assess calibrate`
//! format), checked against the item bank with row and column in every error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use qiming_curriculum::{ItemBank, Text};
use serde::{Deserialize, Serialize};

/// The only input format version this build reads.
pub const INPUT_FORMAT_VERSION: u32 = 1;

/// Who took the assessment: each population has its own bank and scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Population {
    Students,
    Teachers,
}

impl Population {
    /// `students` or `teachers` (also `student`, `teacher`).
    pub fn parse(s: &str) -> Option<Population> {
        match s.trim() {
            "students" | "student" => Some(Population::Students),
            "teachers" | "teacher" => Some(Population::Teachers),
            _ => None,
        }
    }

    /// The item bank's name for the population (`Item::population`).
    pub fn bank_name(self) -> &'static str {
        match self {
            Population::Students => "student",
            Population::Teachers => "teacher",
        }
    }

    /// The JSON and command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Population::Students => "students",
            Population::Teachers => "teachers",
        }
    }
}

/// Where a school is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locality {
    Urban,
    Rural,
    /// Not recorded: the school server does not store whether a school is urban or rural, so
    /// reports built from its sittings show these takers in a row of their own.
    Unknown,
}

/// One scored response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemResponse {
    /// Item id in the bank.
    pub item: String,
    /// Points scored.
    pub points: u32,
    /// The item's most points (checked against the bank when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// What the taker answered, as shown back in the mistake notebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// A lab check the taker's program did not pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabFailure {
    /// Lab id.
    pub lab: String,
    /// The check's name (its code, e.g. `rest_near_wall`).
    pub check: String,
    /// The feedback the grader gave, in both languages.
    pub feedback: Text,
}

/// One taker (a student or a teacher) in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taker {
    /// Unique in the input (a student taking the test in two years has one id per year).
    pub id: String,
    /// Display name: only student and class reports show it.
    pub name: String,
    /// Class (empty for teachers).
    #[serde(default)]
    pub class: String,
    pub school: String,
    pub district: String,
    pub city: String,
    pub locality: Locality,
    /// `f`, `m`, or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    pub year: i32,
    pub population: Population,
    #[serde(default)]
    pub responses: Vec<ItemResponse>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lab_failures: Vec<LabFailure>,
}

/// The whole input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub format_version: u32,
    pub takers: Vec<Taker>,
}

/// Why an input was refused: every message names the file and, for CSV, the row and column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A file cannot be read.
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    /// A CSV cell or row is wrong.
    #[error("{file}: row {row}, column {column}: {message}")]
    Cell { file: String, row: u64, column: String, message: String },
    /// A CSV row is wrong as a whole.
    #[error("{file}: row {row}: {message}")]
    Row { file: String, row: u64, message: String },
    /// The JSON is not an input file.
    #[error("{file}: {message}")]
    Json { file: String, message: String },
    /// A taker's data does not fit the item bank or the rest of the input.
    #[error("{file}: taker {taker}: {message}")]
    Taker { file: String, taker: String, message: String },
}

fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| InputError::Read { file: path.display().to_string(), message: e.to_string() })
}

/// Reads a JSON input file and checks it against the bank.
pub fn read_json(path: &Path, bank: &ItemBank) -> Result<Input, InputError> {
    let bytes = read(path)?;
    let file = path.display().to_string();
    let input: Input = serde_json::from_slice(&bytes)
        .map_err(|e| InputError::Json { file: file.clone(), message: format!("line {}, column {}: {e}", e.line(), e.column()) })?;
    if input.format_version != INPUT_FORMAT_VERSION {
        return Err(InputError::Json {
            file,
            message: format!("format_version {} is not {INPUT_FORMAT_VERSION}, the version this build reads", input.format_version),
        });
    }
    validate(&input, bank, &file)?;
    Ok(input)
}

/// The columns of a takers CSV, in any order; `gender` and `class` cells may be empty.
pub const TAKER_COLUMNS: &[&str] = &["id", "name", "class", "school", "district", "city", "locality", "gender", "year", "population"];

/// Reads takers (CSV with the [`TAKER_COLUMNS`] header), their scores (a response matrix as
/// `qiming assess calibrate` reads it), and optionally their answers (`student,item,answer`)
/// and failed lab checks (`student,lab,check,feedback_zh,feedback_en`).
pub fn read_csv(takers: &Path, responses: &Path, answers: Option<&Path>, lab_failures: Option<&Path>, bank: &ItemBank) -> Result<Input, InputError> {
    let mut input = Input { format_version: INPUT_FORMAT_VERSION, takers: read_takers(takers)? };
    let index: BTreeMap<String, usize> = input.takers.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
    let file = responses.display().to_string();
    let matrix = qiming_grading::irt::Responses::parse_csv(&read(responses)?).map_err(|e| InputError::Json { file: file.clone(), message: e.to_string() })?;
    for (p, id) in matrix.persons.iter().enumerate() {
        let row = matrix.lines[p];
        let Some(&t) = index.get(id) else {
            return Err(InputError::Cell { file, row, column: "1".into(), message: format!("student {id:?} is not in {}", takers.display()) });
        };
        for (j, item) in matrix.items.iter().enumerate() {
            let s = matrix.scores[p * matrix.items.len() + j];
            if s != qiming_grading::irt::MISSING {
                input.takers[t].responses.push(ItemResponse { item: item.clone(), points: u32::from(s), max: None, answer: None });
            }
        }
    }
    // Check cells against the bank here so the error names the row and column.
    for (p, id) in matrix.persons.iter().enumerate() {
        let t = &input.takers[index[id]];
        for r in &t.responses {
            if let Err(message) = check_response(r, t, bank) {
                return Err(InputError::Cell { file: file.clone(), row: matrix.lines[p], column: r.item.clone(), message });
            }
        }
    }
    if let Some(path) = answers {
        let file = path.display().to_string();
        for (row, cells) in csv_rows(path, &["student", "item", "answer"])? {
            let (id, item, answer) = (&cells[0], &cells[1], &cells[2]);
            let t = *index.get(id).ok_or_else(|| InputError::Cell {
                file: file.clone(),
                row,
                column: "student".into(),
                message: format!("student {id:?} is not a taker"),
            })?;
            let Some(r) = input.takers[t].responses.iter_mut().find(|r| &r.item == item) else {
                return Err(InputError::Cell {
                    file,
                    row,
                    column: "item".into(),
                    message: format!("student {id:?} has no score for item {item:?} in {}", responses.display()),
                });
            };
            r.answer = Some(answer.clone());
        }
    }
    if let Some(path) = lab_failures {
        let file = path.display().to_string();
        for (row, cells) in csv_rows(path, &["student", "lab", "check", "feedback_zh", "feedback_en"])? {
            let t = *index.get(&cells[0]).ok_or_else(|| InputError::Cell {
                file: file.clone(),
                row,
                column: "student".into(),
                message: format!("student {:?} is not a taker", cells[0]),
            })?;
            if cells[1].is_empty() || cells[2].is_empty() {
                return Err(InputError::Row { file, row, message: "lab and check must not be empty".into() });
            }
            input.takers[t].lab_failures.push(LabFailure {
                lab: cells[1].clone(),
                check: cells[2].clone(),
                feedback: Text::new(cells[3].clone(), cells[4].clone()),
            });
        }
    }
    validate(&input, bank, &file)?;
    Ok(input)
}

/// Rows of a CSV whose header must be exactly `columns`: (row number in the file, cells).
fn csv_rows(path: &Path, columns: &[&str]) -> Result<Vec<(u64, Vec<String>)>, InputError> {
    let file = path.display().to_string();
    let bytes = read(path)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(bytes.as_slice());
    let header: Vec<String> =
        reader.headers().map_err(|e| InputError::Row { file: file.clone(), row: 1, message: e.to_string() })?.iter().map(str::to_string).collect();
    if header != columns {
        return Err(InputError::Row { file, row: 1, message: format!("the header must be `{}`", columns.join(",")) });
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InputError::Row { file: file.clone(), row: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
        let row = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            return Err(InputError::Row { file, row, message: format!("{} cells, but the header has {}", record.len(), columns.len()) });
        }
        out.push((row, record.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

fn read_takers(path: &Path) -> Result<Vec<Taker>, InputError> {
    let file = path.display().to_string();
    let bytes = read(path)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(bytes.as_slice());
    let header: Vec<String> =
        reader.headers().map_err(|e| InputError::Row { file: file.clone(), row: 1, message: e.to_string() })?.iter().map(str::to_string).collect();
    for (c, h) in header.iter().enumerate() {
        if !TAKER_COLUMNS.contains(&h.as_str()) {
            return Err(InputError::Cell {
                file,
                row: 1,
                column: (c + 1).to_string(),
                message: format!("unknown column {h:?}: the columns are {}", TAKER_COLUMNS.join(",")),
            });
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut cols = BTreeMap::new();
    for &name in TAKER_COLUMNS {
        let Some(c) = col(name) else {
            return Err(InputError::Row { file, row: 1, message: format!("the header has no {name:?} column (the columns are {})", TAKER_COLUMNS.join(",")) });
        };
        cols.insert(name, c);
    }
    let mut takers = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| InputError::Row { file: file.clone(), row: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
        let row = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(InputError::Row { file, row, message: format!("{} cells, but the header has {} columns", record.len(), header.len()) });
        }
        let get = |name: &str| record.get(cols[name]).unwrap_or("").to_string();
        let bad = |name: &str, message: String| InputError::Cell { file: file.clone(), row, column: name.to_string(), message };
        let id = get("id");
        if id.is_empty() {
            return Err(bad("id", "the id is empty".into()));
        }
        if let Some(first) = seen.insert(id.clone(), row) {
            return Err(bad("id", format!("taker {id:?} appears twice (first in row {first})")));
        }
        let population =
            Population::parse(&get("population")).ok_or_else(|| bad("population", format!("{:?} is not students or teachers", get("population"))))?;
        let locality = match get("locality").as_str() {
            "urban" => Locality::Urban,
            "rural" => Locality::Rural,
            other => return Err(bad("locality", format!("{other:?} is not urban or rural"))),
        };
        let gender = match get("gender").as_str() {
            "" => None,
            g @ ("f" | "m") => Some(g.to_string()),
            other => return Err(bad("gender", format!("{other:?} is not f, m or empty"))),
        };
        let year =
            get("year").parse::<i32>().ok().filter(|y| (1900..=9999).contains(y)).ok_or_else(|| bad("year", format!("{:?} is not a year", get("year"))))?;
        for name in ["name", "school", "district", "city"] {
            if get(name).is_empty() {
                return Err(bad(name, "must not be empty".into()));
            }
        }
        if population == Population::Students && get("class").is_empty() {
            return Err(bad("class", "a student needs a class".into()));
        }
        takers.push(Taker {
            id,
            name: get("name"),
            class: get("class"),
            school: get("school"),
            district: get("district"),
            city: get("city"),
            locality,
            gender,
            year,
            population,
            responses: Vec::new(),
            lab_failures: Vec::new(),
        });
    }
    Ok(takers)
}

/// A response against the bank: the item exists, is for the taker's population, and the points fit.
fn check_response(r: &ItemResponse, t: &Taker, bank: &ItemBank) -> Result<(), String> {
    let item = bank.get(&r.item).ok_or_else(|| format!("item {:?} is not in the item bank", r.item))?;
    if item.population != t.population.bank_name() {
        return Err(format!("item {:?} is a {} item, but {} is one of the {}", r.item, item.population, t.id, t.population.name()));
    }
    let max = item.max_points();
    if let Some(m) = r.max
        && m != max
    {
        return Err(format!("item {:?}: max {m} is not the bank's {max}", r.item));
    }
    if r.points > max {
        return Err(format!("item {:?}: {} points is above the item's most, {max}", r.item, r.points));
    }
    Ok(())
}

/// Checks ids, placements and every response against the bank.
pub fn validate(input: &Input, bank: &ItemBank, file: &str) -> Result<(), InputError> {
    let mut ids = BTreeSet::new();
    for t in &input.takers {
        let bad = |message: String| InputError::Taker { file: file.to_string(), taker: t.id.clone(), message };
        if t.id.is_empty() {
            return Err(bad("the id is empty".into()));
        }
        if !ids.insert(&t.id) {
            return Err(bad("the id appears twice; a taker in two years needs one id per year".into()));
        }
        for (name, v) in [("name", &t.name), ("school", &t.school), ("district", &t.district), ("city", &t.city)] {
            if v.trim().is_empty() {
                return Err(bad(format!("{name} must not be empty")));
            }
        }
        if t.population == Population::Students && t.class.trim().is_empty() {
            return Err(bad("a student needs a class".into()));
        }
        if let Some(g) = &t.gender
            && g != "f"
            && g != "m"
        {
            return Err(bad(format!("gender {g:?} is not f, m or absent")));
        }
        let mut items = BTreeSet::new();
        for r in &t.responses {
            check_response(r, t, bank).map_err(&bad)?;
            if !items.insert(&r.item) {
                return Err(bad(format!("item {:?} is answered twice", r.item)));
            }
        }
    }
    Ok(())
}
