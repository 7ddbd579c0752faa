//! The response matrix: students × items scores read from CSV, with cells that were not presented kept as missing.

use std::collections::BTreeMap;

use super::model::{MAX_CATEGORY, Model};

/// The marker for a cell whose item was not presented to the student.
pub const MISSING: u8 = u8::MAX;

/// Scores of students (rows) on items (columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Responses {
    /// Student ids, in file order.
    pub persons: Vec<String>,
    /// Item ids, in header order.
    pub items: Vec<String>,
    /// Row-major scores, `persons.len() × items.len()`; [`MISSING`] where not presented.
    pub scores: Vec<u8>,
    /// The file line each student's row came from (1-based, the header is line 1), for messages.
    pub lines: Vec<u64>,
}

/// Why a response file was refused. Messages name the row (as in the file) and the column (by header).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file is not readable CSV.
    #[error("cannot read the CSV: {0}")]
    Csv(String),
    /// The header has no item columns.
    #[error("the header must name the student id column and at least one item column")]
    NoItems,
    /// Two header columns have the same item id.
    #[error("row 1: item id {id:?} appears twice in the header")]
    DuplicateItem {
        /// The repeated id.
        id: String,
    },
    /// A header cell is empty.
    #[error("row 1, column {column}: the header cell is empty; every column needs an item id")]
    EmptyHeader {
        /// 1-based column number.
        column: usize,
    },
    /// A row has a different number of cells from the header.
    #[error("row {row}: {found} cells, but the header has {expected} columns")]
    RowLength {
        /// 1-based row as in the file.
        row: u64,
        /// Cells in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A row has no student id.
    #[error("row {row}: the student id (first column) is empty")]
    EmptyId {
        /// 1-based row as in the file.
        row: u64,
    },
    /// A student id appears on two rows.
    #[error("row {row}: student {id:?} appears twice (first in row {first})")]
    DuplicatePerson {
        /// 1-based row of the repeat.
        row: u64,
        /// The student id.
        id: String,
        /// 1-based row where it first appeared.
        first: u64,
    },
    /// A cell is neither empty nor a whole-number score.
    #[error("row {row}, column {column}: {value:?} is not a score (a whole number from 0, or empty when the item was not presented)")]
    BadCell {
        /// 1-based row as in the file.
        row: u64,
        /// The column's header (item id).
        column: String,
        /// The cell as written.
        value: String,
    },
    /// A score above what the model takes.
    #[error("row {row}, column {column}: score {value} is above {max}, the highest the {model} model takes{hint}")]
    ScoreTooHigh {
        /// 1-based row as in the file.
        row: u64,
        /// The column's header (item id).
        column: String,
        /// The score.
        value: u32,
        /// The highest score allowed.
        max: u8,
        /// The model's name.
        model: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
    /// No data rows.
    #[error("the file has a header but no students")]
    NoPersons,
}

impl Responses {
    /// Reads a CSV: a header (student id column, then one column per item id), then one row per student.
    /// Cells are whole-number scores or empty (not presented). Surrounding spaces are ignored.
    pub fn parse_csv(bytes: &[u8]) -> Result<Responses, DataError> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let mut items = Vec::new();
        let mut seen_items = BTreeMap::new();
        let mut persons = Vec::new();
        let mut seen_persons: BTreeMap<String, u64> = BTreeMap::new();
        let mut scores = Vec::new();
        let mut lines = Vec::new();
        let mut header = true;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(DataError::Csv(e.to_string())),
            }
            let row = record.position().map_or(0, |p| p.line());
            if header {
                header = false;
                for (i, cell) in record.iter().enumerate().skip(1) {
                    let mut id = String::from_utf8_lossy(cell).trim().to_string();
                    if i == 1 {
                        id = id.trim_start_matches('\u{feff}').to_string();
                    }
                    if id.is_empty() {
                        return Err(DataError::EmptyHeader { column: i + 1 });
                    }
                    if seen_items.insert(id.clone(), i).is_some() {
                        return Err(DataError::DuplicateItem { id });
                    }
                    items.push(id);
                }
                if items.is_empty() {
                    return Err(DataError::NoItems);
                }
                continue;
            }
            // A blank line (one empty field) is not a student.
            if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if record.len() != items.len() + 1 {
                return Err(DataError::RowLength { row, found: record.len(), expected: items.len() + 1 });
            }
            let id = String::from_utf8_lossy(&record[0]).trim().to_string();
            if id.is_empty() {
                return Err(DataError::EmptyId { row });
            }
            if let Some(&first) = seen_persons.get(&id) {
                return Err(DataError::DuplicatePerson { row, id, first });
            }
            seen_persons.insert(id.clone(), row);
            for (j, cell) in record.iter().skip(1).enumerate() {
                match parse_cell(cell) {
                    Some(v) if v == u32::from(MISSING) || v <= u32::from(MAX_CATEGORY) => scores.push(v as u8),
                    Some(value) => {
                        return Err(DataError::ScoreTooHigh { row, column: items[j].clone(), value, max: MAX_CATEGORY, model: "gpcm", hint: "" });
                    }
                    None => return Err(DataError::BadCell { row, column: items[j].clone(), value: String::from_utf8_lossy(cell).into_owned() }),
                }
            }
            persons.push(id);
            lines.push(row);
        }
        if header {
            return Err(DataError::NoItems);
        }
        if persons.is_empty() {
            return Err(DataError::NoPersons);
        }
        Ok(Responses { persons, items, scores, lines })
    }

    /// Refuses the first cell (in file order) whose score is above what `model` takes.
    pub fn check_model(&self, model: Model) -> Result<(), DataError> {
        let hint = if model == Model::Gpcm { "" } else { "; use --model gpcm for items scored 0..k" };
        self.check_max(model.max_score(), model.name(), hint)
    }

    fn check_max(&self, max: u8, model: &'static str, hint: &'static str) -> Result<(), DataError> {
        let j_count = self.items.len();
        for (n, &s) in self.scores.iter().enumerate() {
            if s != MISSING && s > max {
                let (i, j) = (n / j_count, n % j_count);
                return Err(DataError::ScoreTooHigh { row: self.lines[i], column: self.items[j].clone(), value: u32::from(s), max, model, hint });
            }
        }
        Ok(())
    }

    /// The score of student `i` on item `j`, or `None` when not presented.
    pub fn get(&self, i: usize, j: usize) -> Option<u8> {
        let s = self.scores[i * self.items.len() + j];
        (s != MISSING).then_some(s)
    }

    /// Writes the matrix as CSV (the format [`Responses::parse_csv`] reads).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(self.scores.len() * 2 + self.persons.len() * 10);
        out.push_str("student");
        for id in &self.items {
            out.push(',');
            out.push_str(id);
        }
        out.push('\n');
        for (i, id) in self.persons.iter().enumerate() {
            out.push_str(id);
            for &s in &self.scores[i * self.items.len()..(i + 1) * self.items.len()] {
                out.push(',');
                if s != MISSING {
                    if s >= 10 {
                        out.push(char::from(b'0' + s / 10));
                    }
                    out.push(char::from(b'0' + s % 10));
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A cell: empty (missing, returned as [`MISSING`]) or a whole number (saturating, so a huge
/// number is reported as too high rather than unreadable).
fn parse_cell(cell: &[u8]) -> Option<u32> {
    let t = cell.trim_ascii();
    if t.is_empty() {
        return Some(u32::from(MISSING));
    }
    if !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u32 = 0;
    for &d in t {
        v = v.saturating_mul(10).saturating_add(u32::from(d - b'0'));
    }
    // Keep the missing marker unambiguous: 255 itself is "too high" like any big score.
    Some(if v == u32::from(MISSING) { v + 1 } else { v })
}
