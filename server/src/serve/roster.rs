//! Class rosters from CSV or XLSX: parsed and checked in full before anything is stored.
//!
//! A roster has a header row naming its columns — `student_number` (学号) and
//! `display_name` (姓名), in any order — and one row per student. Exports
//! from school systems carry more (序号, 性别, 班级, even ID numbers) and often
//! a title row above the header: the header is the first row that names one
//! of our two columns, and every other column is ignored — never read into
//! memory beyond the parser, never stored — and named back to the teacher
//! (`ignored_columns`). The one exception is opt-in: a school that monitors
//! gender gaps imports with `record_gender`, and then a `gender` (性别)
//! column is read too (男/女, f/m; empty: not recorded). Every bad row is reported at once, with the row
//! number a spreadsheet shows, so a teacher fixes the file in one pass.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most students one import may create.
pub const MAX_ROWS: usize = 2000;
/// Longest display name (characters).
pub const MAX_NAME: usize = 32;
/// Longest student number (characters).
pub const MAX_NUMBER: usize = 32;

/// One student to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterRow {
    /// Row number in the file (header = 1).
    pub row: usize,
    pub student_number: String,
    pub display_name: String,
    /// `f` or `m`, read only when the import records gender.
    pub gender: Option<String>,
}

/// What is wrong with one row (or, with row 1, with the header).
///
/// `code` is stable and `params` carries its values (`value`, `first`,
/// `max`, `column`), so the web UI says it in the teacher's language
/// (`roster_err_<code>` in i18n.json); `message` is the English text for API
/// clients and logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub code: &'static str,
    pub params: BTreeMap<&'static str, String>,
    pub message: String,
}

impl RowError {
    pub fn new(row: usize, field: &str, code: &'static str, message: impl Into<String>) -> RowError {
        RowError { row, field: field.to_string(), code, params: BTreeMap::new(), message: message.into() }
    }

    /// Adds a value the translated message names.
    pub fn with(mut self, key: &'static str, value: impl ToString) -> RowError {
        self.params.insert(key, value.to_string());
        self
    }
}

/// The MIME type of XLSX files.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Parses a roster upload. XLSX is recognised by its content type or its ZIP
/// signature; anything else is read as CSV (UTF-8, with or without a BOM, or
/// GB18030 as Excel saves CSV on Chinese Windows).
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Vec<RosterRow>, Vec<RowError>> {
    let parsed = parse_all(bytes, content_type);
    if parsed.errors.is_empty() { Ok(parsed.rows) } else { Err(parsed.errors) }
}

/// A roster file, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The students that were readable (even when other rows were not, so
    /// the caller can check them too and report everything at once).
    pub rows: Vec<RosterRow>,
    pub errors: Vec<RowError>,
    /// Header names of the columns that were ignored (and not stored).
    pub ignored_columns: Vec<String>,
}

/// Like [`parse`], with everything the caller reports back.
pub fn parse_all(bytes: &[u8], content_type: Option<&str>) -> Parsed {
    parse_with(bytes, content_type, false)
}

/// Like [`parse_all`]; with `record_gender`, a `gender` (性别) column is read instead of ignored.
pub fn parse_with(bytes: &[u8], content_type: Option<&str>, record_gender: bool) -> Parsed {
    let is_xlsx = content_type.is_some_and(|t| t.starts_with(XLSX_TYPE)) || bytes.starts_with(b"PK\x03\x04");
    match if is_xlsx { xlsx_cells(bytes) } else { csv_cells(bytes) } {
        Ok(cells) => check(cells, record_gender),
        Err(errors) => Parsed { errors, ..Parsed::default() },
    }
}

/// The cells of an uploaded sheet (XLSX by content type or signature, else
/// CSV), bounded as for rosters: for other imports (contest registrations).
pub fn cells(bytes: &[u8], content_type: Option<&str>) -> Result<Vec<Vec<String>>, Vec<RowError>> {
    let is_xlsx = content_type.is_some_and(|t| t.starts_with(XLSX_TYPE)) || bytes.starts_with(b"PK\x03\x04");
    if is_xlsx { xlsx_cells(bytes) } else { csv_cells(bytes) }
}

/// How many rows above the header (a title, a date, a blank line) we look past.
const MAX_TITLE_ROWS: usize = 10;

fn csv_cells(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<RowError>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(_) => {
            let (decoded, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors {
                return Err(vec![RowError::new(1, "file", "file_encoding", "the file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8) or XLSX")]);
            }
            decoded
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) => rows.push(r.iter().map(|c| c.trim().to_string()).collect()),
            Err(e) => return Err(vec![RowError::new(i + 1, "file", "file_csv", format!("not valid CSV: {e}"))]),
        }
    }
    Ok(rows)
}

/// Rows and columns beyond these are refused before anything is allocated:
/// a small file can claim a cell at XFD1048576.
const MAX_XLSX_ROWS: u32 = MAX_ROWS as u32 + 100;
const MAX_XLSX_COLS: u32 = 50;

/// Largest uncompressed size of any one part of an XLSX file, and of all
/// parts together. calamine reads the shared-strings table whole when it
/// opens a workbook: a 246 KB file once unpacked into 103 MB of XML. A real
/// roster of 2,000 students is well under 1 MB unpacked.
const MAX_XLSX_PART: u64 = 8 << 20;
const MAX_XLSX_TOTAL: u64 = 24 << 20;

/// Refuses XLSX files whose parts claim to unpack beyond the bounds, before calamine reads them.
fn check_xlsx_sizes(bytes: &[u8]) -> Result<(), RowError> {
    let unreadable = |e: zip::result::ZipError| RowError::new(1, "file", "file_unreadable", format!("not a readable XLSX file: {e}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(unreadable)?;
        let size = part.size();
        total = total.saturating_add(size);
        if size > MAX_XLSX_PART || total > MAX_XLSX_TOTAL {
            let mb = size.max(total) >> 20;
            return Err(RowError::new(
                1,
                "file",
                "file_too_big",
                format!("the file unpacks to more than a roster needs ({mb} MB in {}); save only the roster sheet with the two columns", part.name()),
            )
            .with("max", mb));
        }
    }
    Ok(())
}

fn xlsx_cells(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<RowError>> {
    use calamine::{DataRef, Reader, Xlsx};
    let fail = |row: usize, m: String| vec![RowError::new(row, "file", "file_unreadable", m)];
    check_xlsx_sizes(bytes).map_err(|e| vec![e])?;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| fail(1, format!("not a readable XLSX file: {e}")))?;
    let sheet = book.sheet_names().first().cloned().ok_or_else(|| fail(1, "the workbook has no sheets".into()))?;
    // Cell by cell (not `worksheet_range`, which allocates the whole used rectangle).
    let mut reader = book.worksheet_cells_reader(&sheet).map_err(|e| fail(1, format!("cannot read the first sheet: {e}")))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(|e| fail(rows.len().max(1), format!("cannot read the first sheet: {e}")))? {
        let (r, c) = cell.get_position();
        if r >= MAX_XLSX_ROWS || c >= MAX_XLSX_COLS {
            return Err(vec![
                RowError::new(
                    r as usize + 1,
                    "file",
                    "cell_out_of_range",
                    format!("the sheet has a value in row {} column {}: a roster has at most {MAX_ROWS} students and two columns", r + 1, c + 1),
                )
                .with("column", c + 1)
                .with("max", MAX_ROWS),
            ]);
        }
        let text = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) => s.trim().to_string(),
            DataRef::SharedString(s) => s.trim().to_string(),
            // Student numbers typed into Excel become numbers: 20230101.0 → "20230101".
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::Float(f) => f.to_string(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Bool(b) => b.to_string(),
            other => format!("{other:?}"),
        };
        let (r, c) = (r as usize, c as usize);
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        if rows[r].len() <= c {
            rows[r].resize(c + 1, String::new());
        }
        rows[r][c] = text;
    }
    Ok(rows)
}

#[derive(Clone, Copy)]
enum Column {
    Number,
    Name,
}

fn column_of(header: &str) -> Option<Column> {
    match header.trim().to_lowercase().as_str() {
        "student_number" | "学号" | "student number" => Some(Column::Number),
        "display_name" | "姓名" | "name" | "display name" => Some(Column::Name),
        _ => None,
    }
}

/// Whether a header names the gender column.
fn is_gender_column(header: &str) -> bool {
    matches!(header.trim().to_lowercase().as_str(), "gender" | "性别" | "sex")
}

/// A gender cell as stored: `f`, `m`, or none for an empty cell; Err for anything else.
fn gender_of(cell: &str) -> Result<Option<String>, ()> {
    match cell.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "女" | "f" | "female" => Ok(Some("f".into())),
        "男" | "m" | "male" => Ok(Some("m".into())),
        _ => Err(()),
    }
}

fn check(cells: Vec<Vec<String>>, record_gender: bool) -> Parsed {
    let mut errors = Vec::new();
    let mut ignored_columns = Vec::new();
    let Some(first) = cells.iter().position(|r| r.iter().any(|c| !c.is_empty())) else {
        return Parsed {
            errors: vec![RowError::new(
                1,
                "file",
                "empty_file",
                "the roster is empty: it needs a header row (student_number, display_name) and one row per student",
            )],
            ..Parsed::default()
        };
    };
    // The header is the first row naming one of our columns; rows above it
    // (a title such as “2024级五(2)班名单”) are skipped. Without one, the
    // first non-empty row is taken as the header, so the errors name it.
    let header_at = cells.iter().enumerate().skip(first).take(MAX_TITLE_ROWS).find(|(_, r)| r.iter().any(|c| column_of(c).is_some())).map_or(first, |(i, _)| i);
    let header_row = header_at + 1;
    let mut columns: Vec<Option<Column>> = Vec::new();
    let (mut number_col, mut name_col, mut gender_col) = (None, None, None);
    for (i, h) in cells[header_at].iter().enumerate() {
        let col = column_of(h);
        match col {
            None if record_gender && is_gender_column(h) && gender_col.is_none() => gender_col = Some(i),
            Some(Column::Number) if number_col.is_none() => number_col = Some(i),
            Some(Column::Name) if name_col.is_none() => name_col = Some(i),
            Some(_) => errors.push(RowError::new(header_row, h, "column_twice", "this column appears twice").with("column", h)),
            None if h.is_empty() => {}
            // Another column of a school-system export: not read, not stored.
            None => ignored_columns.push(h.clone()),
        }
        columns.push(col);
    }
    if number_col.is_none() {
        errors.push(RowError::new(header_row, "student_number", "no_number_column", "the header row has no student_number (学号) column"));
    }
    if name_col.is_none() {
        errors.push(RowError::new(header_row, "display_name", "no_name_column", "the header row has no display_name (姓名) column"));
    }
    let (Some(number_col), Some(name_col)) = (number_col, name_col) else {
        return Parsed { errors, ignored_columns, ..Parsed::default() };
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, row) in cells.iter().enumerate().skip(header_at + 1) {
        let row_no = i + 1;
        if row.iter().all(|c| c.is_empty()) {
            continue;
        }
        let get = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
        let number = get(number_col);
        let name = get(name_col);
        for (c, value) in row.iter().enumerate() {
            // A value with no header at all means the columns are misaligned.
            let headerless = cells[header_at].get(c).is_none_or(|h| h.is_empty());
            if !value.is_empty() && headerless && columns.get(c).copied().flatten().is_none() {
                errors.push(RowError::new(row_no, "file", "headerless_value", format!("a value in column {} has no header", c + 1)).with("column", c + 1));
                break;
            }
        }
        let (mut row, row_errors) = check_student(row_no, number, name, &mut seen);
        errors.extend(row_errors);
        if let Some(c) = gender_col {
            match gender_of(get(c)) {
                Ok(g) => row.iter_mut().for_each(|r| r.gender = g.clone()),
                Err(()) => errors
                    .push(RowError::new(row_no, "gender", "gender_invalid", format!("gender {:?} is not 男, 女, m, f or empty", get(c))).with("value", get(c))),
            }
        }
        out.extend(row);
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(RowError::new(header_row + 1, "file", "no_students", "the roster has a header but no students"));
    }
    if out.len() > MAX_ROWS {
        errors.push(RowError::new(header_row, "file", "too_many", format!("at most {MAX_ROWS} students per import")).with("max", MAX_ROWS));
    }
    Parsed { rows: out, errors, ignored_columns }
}

/// Checks one student's number and name: the rules of a roster file's rows,
/// also used for a student added by hand. `seen` catches a number given
/// twice. The row comes back whenever its number is usable — even with a bad
/// name — so the caller can check it against the database as well and report
/// everything at once.
pub fn check_student(row: usize, number: &str, name: &str, seen: &mut BTreeMap<String, usize>) -> (Option<RosterRow>, Vec<RowError>) {
    let mut errors = Vec::new();
    let number_error = if number.is_empty() {
        Some(RowError::new(row, "student_number", "number_empty", "the student number is empty"))
    } else if number.chars().count() > MAX_NUMBER || !number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Some(
            RowError::new(
                row,
                "student_number",
                "number_invalid",
                format!("{number:?} is not a student number: use up to {MAX_NUMBER} letters, digits, '-' or '_'"),
            )
            .with("value", number)
            .with("max", MAX_NUMBER),
        )
    } else {
        seen.insert(number.to_string(), row).map(|first| {
            RowError::new(row, "student_number", "number_twice", format!("{number} appears twice (also in row {first})"))
                .with("value", number)
                .with("first", first)
        })
    };
    let number_ok = number_error.is_none();
    errors.extend(number_error);
    if name.is_empty() {
        errors.push(RowError::new(row, "display_name", "name_empty", "the name is empty"));
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.push(
            RowError::new(row, "display_name", "name_invalid", format!("the name must be 1–{MAX_NAME} characters without control characters"))
                .with("max", MAX_NAME),
        );
    }
    let out = number_ok.then(|| RosterRow { row, student_number: number.to_string(), display_name: name.to_string(), gender: None });
    (out, errors)
}

/// One student typed in by hand (trimmed like a file's cells), checked by the import's rules.
pub fn one_student(number: &str, name: &str) -> Result<RosterRow, Vec<RowError>> {
    match check_student(1, number.trim(), name.trim(), &mut BTreeMap::new()) {
        (Some(row), errors) if errors.is_empty() => Ok(row),
        (_, errors) => Err(errors),
    }
}
