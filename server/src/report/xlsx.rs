//! A report document as an XLSX workbook (rust_xlsxwriter): one sheet per section, its tables as
//! cells (numbers as numbers), and each chart as a native Excel chart over a block of cells that
//! holds exactly the chart's data (to the right of the tables), so a teacher can re-plot it.

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

use super::ReportError;
use super::layout::{Block, Cell, ChartKind, Doc};

/// Column where chart data blocks start (right of any table).
const DATA_COL: u16 = 14;

/// A valid, unique sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name.chars().map(|c| if "[]:*?/\\".contains(c) { '-' } else { c }).take(28).collect();
    let mut candidate = clean.clone();
    let mut k = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
        candidate = format!("{clean}{k}");
        k += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// Renders a document to XLSX bytes.
pub fn render(doc: &Doc) -> Result<Vec<u8>, ReportError> {
    write(doc).map_err(|e| ReportError::Xlsx(e.to_string()))
}

fn write(doc: &Doc) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new().set_text_wrap();
    let header = Format::new().set_bold().set_text_wrap().set_background_color(0xEBEEF2);
    let mut used = Vec::new();
    for section in &doc.sections {
        let name = sheet_name(&section.name, &mut used);
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, &doc.title, &title)?;
        ws.write_string(1, 0, &doc.subtitle)?;
        ws.write_string_with_format(2, 0, &section.heading, &bold)?;
        ws.set_column_width(0, 24)?;
        for c in 1..DATA_COL {
            ws.set_column_width(c, 12)?;
        }
        let mut row: u32 = 4;
        let mut data_row: u32 = 0;
        for block in &section.blocks {
            match block {
                Block::Paragraph(p) => {
                    ws.write_string(row, 0, p)?;
                    row += 1;
                }
                Block::Table(t) => {
                    for (c, h) in t.headers.iter().enumerate() {
                        ws.write_string_with_format(row, c as u16, h, &header)?;
                    }
                    row += 1;
                    for r in &t.rows {
                        for (c, cell) in r.iter().enumerate() {
                            match cell {
                                Cell::Number(v) => {
                                    ws.write_number(row, c as u16, *v)?;
                                }
                                Cell::Text(s) if t.records => {
                                    ws.write_string_with_format(row, c as u16, s, &wrap)?;
                                }
                                Cell::Text(s) => {
                                    ws.write_string(row, c as u16, s)?;
                                }
                                Cell::Empty => {}
                            }
                        }
                        row += 1;
                    }
                    if t.records {
                        for c in 1..t.headers.len() as u16 {
                            ws.set_column_width(c, 30)?;
                        }
                    }
                    row += 1;
                }
                Block::Charts(charts) => {
                    for (k, c) in charts.iter().enumerate() {
                        // The chart's data: categories down column DATA_COL, one column per series.
                        let top = data_row;
                        ws.write_string_with_format(top, DATA_COL, &c.title, &bold)?;
                        for (s, (series, _)) in c.series.iter().enumerate() {
                            ws.write_string_with_format(top, DATA_COL + 1 + s as u16, series, &bold)?;
                        }
                        for (g, cat) in c.categories.iter().enumerate() {
                            ws.write_string(top + 1 + g as u32, DATA_COL, cat)?;
                            for (s, (_, values)) in c.series.iter().enumerate() {
                                ws.write_number(top + 1 + g as u32, DATA_COL + 1 + s as u16, values.get(g).copied().unwrap_or(0.0))?;
                            }
                        }
                        let last = top + c.categories.len().max(1) as u32;
                        data_row = last + 2;
                        let mut chart = Chart::new(match c.kind {
                            ChartKind::Columns => ChartType::Column,
                            ChartKind::StackedPercent => ChartType::BarPercentStacked,
                        });
                        chart.title().set_name(&c.title);
                        for s in 0..c.series.len() {
                            let col = DATA_COL + 1 + s as u16;
                            chart
                                .add_series()
                                .set_name((name.as_str(), top, col))
                                .set_categories((name.as_str(), top + 1, DATA_COL, last, DATA_COL))
                                .set_values((name.as_str(), top + 1, col, last, col));
                        }
                        if c.series.len() < 2 {
                            chart.legend().set_hidden();
                        }
                        chart.set_width(480).set_height(288);
                        ws.insert_chart(row, (k as u16) * 8, &chart)?;
                    }
                    row += 16;
                }
            }
        }
    }
    wb.save_to_buffer()
}
