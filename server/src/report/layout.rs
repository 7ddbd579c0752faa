//! A report as a document: sections of paragraphs, tables and charts, in the report's language.
//! The PDF writer draws it (charts as pictures) and the XLSX writer puts each section on a sheet
//! (charts as native Excel charts over the sheet's own cells), so both show the same figures.

use super::group::{AnnualReport, Breakdown, GroupReport, Shown, bin_label};
use super::scoring::LITERACY_COUNT;
use super::student::StudentReport;
use super::text::{Lang, literacy_name, t};
use super::{GroupLevel, Report};

#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub title: String,
    pub subtitle: String,
    pub sections: Vec<Section>,
}

/// A PDF section and an XLSX sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Sheet name (≤ 31 characters, unique in the document).
    pub name: String,
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Paragraph(String),
    Table(Table),
    /// Charts side by side.
    Charts(Vec<Chart>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Text-heavy rows: the PDF prints each row as a record (header: value lines).
    pub records: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(v) => {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                }
            }
            Cell::Empty => String::new(),
        }
    }
}

fn num(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Number)
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChartKind {
    /// Grouped columns: one group per category, one column per series.
    Columns,
    /// Horizontal bars per category, the series stacked to 100% (level percentages).
    StackedPercent,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub kind: ChartKind,
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<(String, Vec<f64>)>,
}

/// The document for a report.
pub fn doc(report: &Report) -> Doc {
    match report {
        Report::Student(r) => student_doc(r),
        Report::Group(r) => {
            let mut d = Doc { title: r.title.clone(), subtitle: subtitle(r), sections: Vec::new() };
            group_sections(r, "", &mut d.sections);
            d
        }
        Report::Annual(r) => annual_doc(r),
    }
}

fn subtitle(r: &GroupReport) -> String {
    match r.lang {
        Lang::Zh => format!("{} · {}{} · {}", r.path.join(" / "), r.year, t(r.lang, "year"), r.population_name),
        Lang::En => format!("{} · {} · {}", r.path.join(" / "), r.year, r.population_name),
    }
}

fn student_doc(r: &StudentReport) -> Doc {
    let lang = r.lang;
    let tt = |k: &str| t(lang, k).to_string();
    let mut summary = Vec::new();
    let mut rows = Vec::new();
    for l in &r.literacies {
        rows.push(vec![
            text(l.name),
            num(l.score),
            num(l.se),
            l.level.map_or_else(|| text(tt("not_taken")), |v| Cell::Number(f64::from(v))),
            text(l.level_name.unwrap_or("")),
            num(l.region_mean),
            num(l.vs_region),
        ]);
    }
    summary.push(Block::Table(Table {
        headers: vec![tt("literacy"), tt("score"), tt("se"), tt("level"), tt("level"), tt("region_mean"), tt("difference")],
        rows,
        records: false,
    }));
    summary.push(Block::Charts(vec![Chart {
        kind: ChartKind::Columns,
        title: tt("scores_by_literacy"),
        categories: r.literacies.iter().map(|l| l.name.to_string()).collect(),
        series: vec![
            (r.name.clone(), r.literacies.iter().map(|l| l.score.unwrap_or(0.0)).collect()),
            (tt("region_mean"), r.literacies.iter().map(|l| l.region_mean.unwrap_or(0.0)).collect()),
        ],
    }]));
    for l in &r.literacies {
        if let Some(d) = &l.descriptor {
            summary.push(Block::Paragraph(d.clone()));
        }
    }
    summary.push(Block::Paragraph(format!("{}{}{}", tt("strengths"), lang.pick("：", ": "), r.strengths.join(lang.pick("；", "; ")))));
    summary.push(Block::Paragraph(format!("{}{}{}", tt("weaknesses"), lang.pick("：", ": "), r.weaknesses.join(lang.pick("；", "; ")))));
    if let Some(p) = &r.profile {
        summary.push(Block::Paragraph(format!("{}{}{}{}{}", tt("profile"), lang.pick("：", ": "), p.name, lang.pick("。", ". "), p.description)));
    }
    for n in &r.notes {
        summary.push(Block::Paragraph(n.clone()));
    }
    let mut mistakes = Vec::new();
    if r.mistakes.is_empty() {
        mistakes.push(Block::Paragraph(tt("no_mistakes")));
    } else {
        mistakes.push(Block::Table(Table {
            headers: vec![
                tt("question"),
                tt("literacy"),
                tt("points"),
                tt("question"),
                tt("your_answer"),
                tt("correct_answer"),
                tt("explanation"),
                tt("revisit"),
            ],
            rows: r
                .mistakes
                .iter()
                .map(|m| {
                    vec![
                        text(m.item.clone()),
                        text(m.literacy),
                        text(format!("{}/{}", m.points, m.max)),
                        text(m.stem.clone()),
                        text(m.answer.clone()),
                        text(m.correct_answer.clone()),
                        text(m.explanation.clone()),
                        text(m.lessons.iter().map(|l| l.title.clone()).collect::<Vec<_>>().join(lang.pick("；", "; "))),
                    ]
                })
                .collect(),
            records: true,
        }));
    }
    if !r.lab_failures.is_empty() {
        mistakes.push(Block::Paragraph(tt("lab_failures")));
        mistakes.push(Block::Table(Table {
            headers: vec![tt("lab"), tt("check"), tt("feedback")],
            rows: r.lab_failures.iter().map(|f| vec![text(f.lab_title.clone()), text(f.check.clone()), text(f.feedback.clone())]).collect(),
            records: true,
        }));
    }
    Doc {
        title: r.title.clone(),
        subtitle: format!("{} · {} · {} · {}", r.name, r.school, r.class, r.year),
        sections: vec![
            Section { name: tt("summary"), heading: tt("summary"), blocks: summary },
            Section { name: tt("mistakes"), heading: tt("mistakes"), blocks: mistakes },
        ],
    }
}

fn breakdown_table(lang: Lang, b: &Breakdown) -> Table {
    let tt = |k: &str| t(lang, k).to_string();
    let mut headers = vec![b.title.to_string(), tt("takers")];
    headers.extend((0..LITERACY_COUNT).map(|l| literacy_name(lang, l).to_string()));
    let mut rows: Vec<Vec<Cell>> = b
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![text(r.label.clone())];
            match &r.value {
                Shown::Value(v) => {
                    row.push(Cell::Number(v.n as f64));
                    row.extend(v.means.iter().map(|m| num(*m)));
                }
                Shown::Hidden(h) => {
                    row.push(text(h.note));
                    row.extend((0..LITERACY_COUNT).map(|_| Cell::Empty));
                }
            }
            row
        })
        .collect();
    if let (Some(gap), Some(title)) = (&b.gap, b.gap_title) {
        let mut row = vec![text(title), Cell::Empty];
        row.extend(gap.iter().map(|g| num(*g)));
        rows.push(row);
    }
    Table { headers, rows, records: false }
}

fn group_sections(r: &GroupReport, prefix: &str, out: &mut Vec<Section>) {
    let lang = r.lang;
    let tt = |k: &str| t(lang, k).to_string();
    let name = |k: &str| format!("{prefix}{}", tt(k));
    let mut summary = vec![Block::Paragraph(match (&r.takers, lang) {
        (Shown::Value(n), Lang::Zh) => format!("{}：{n}", tt("takers")),
        (Shown::Value(n), Lang::En) => format!("{}: {n}", tt("takers")),
        (Shown::Hidden(h), _) => format!("{}{}{}", tt("takers"), lang.pick("：", ": "), h.note),
    })];
    if r.literacies.is_empty() {
        for n in &r.notes {
            summary.push(Block::Paragraph(n.clone()));
        }
        out.push(Section { name: name("summary"), heading: format!("{prefix}{}", tt("summary")), blocks: summary });
        if !r.students.is_empty() {
            out.push(students_section(r, prefix));
        }
        return;
    }
    let has_growth = r.literacies.iter().any(|l| matches!(l.growth, Some(Shown::Value(_))));
    let mut headers = vec![tt("literacy"), tt("takers"), tt("mean"), tt("sd"), tt("p10"), tt("p50"), tt("p90"), tt("region_mean"), tt("difference")];
    if has_growth {
        headers.extend([tt("previous_mean"), tt("change")]);
    }
    let rows = r
        .literacies
        .iter()
        .map(|l| {
            let mut row = vec![
                text(l.name),
                Cell::Number(l.n as f64),
                Cell::Number(l.mean),
                Cell::Number(l.sd),
                Cell::Number(l.percentiles[0]),
                Cell::Number(l.percentiles[1]),
                Cell::Number(l.percentiles[2]),
                num(l.region.as_ref().map(|x| x.mean)),
                num(l.region.as_ref().map(|x| x.difference)),
            ];
            if has_growth {
                match &l.growth {
                    Some(Shown::Value(g)) => row.extend([Cell::Number(g.previous_mean), Cell::Number(g.change)]),
                    Some(Shown::Hidden(h)) => row.extend([text(h.note), Cell::Empty]),
                    None => row.extend([Cell::Empty, Cell::Empty]),
                }
            }
            row
        })
        .collect();
    summary.push(Block::Table(Table { headers, rows, records: false }));
    let mut series = vec![(r.name.clone(), r.literacies.iter().map(|l| l.mean).collect::<Vec<f64>>())];
    if r.literacies.iter().all(|l| l.region.is_some()) {
        let region = r.literacies[0].region.as_ref().map_or_else(|| tt("region_mean"), |x| x.name.clone());
        series.push((region, r.literacies.iter().map(|l| l.region.as_ref().map_or(0.0, |x| x.mean)).collect()));
    }
    if r.literacies.iter().all(|l| matches!(l.growth, Some(Shown::Value(_)))) {
        let prev_year = r.year - 1;
        series.push((format!("{prev_year}"), r.literacies.iter().map(|l| if let Some(Shown::Value(g)) = &l.growth { g.previous_mean } else { 0.0 }).collect()));
    }
    summary.push(Block::Charts(vec![Chart {
        kind: ChartKind::Columns,
        title: tt("scores_by_literacy"),
        categories: r.literacies.iter().map(|l| l.name.to_string()).collect(),
        series,
    }]));
    for n in &r.notes {
        summary.push(Block::Paragraph(n.clone()));
    }
    out.push(Section { name: name("summary"), heading: format!("{prefix}{}", tt("summary")), blocks: summary });

    // Levels.
    let mut headers = vec![tt("literacy")];
    headers.extend((1..=5u8).map(|l| format!("{} {}", tt(&format!("level_{l}")), r.level_names[usize::from(l) - 1])));
    let levels = vec![
        Block::Table(Table {
            headers,
            rows: r.literacies.iter().map(|l| std::iter::once(text(l.name)).chain(l.levels.iter().map(|p| Cell::Number(*p))).collect()).collect(),
            records: false,
        }),
        Block::Charts(vec![Chart {
            kind: ChartKind::StackedPercent,
            title: tt("levels_by_literacy"),
            categories: r.literacies.iter().map(|l| l.name.to_string()).collect(),
            series: (0..5).map(|k| (r.level_names[k].to_string(), r.literacies.iter().map(|l| l.levels[k]).collect())).collect(),
        }]),
    ];
    out.push(Section { name: name("levels"), heading: format!("{prefix}{}", tt("levels_by_literacy")), blocks: levels });

    // Distributions.
    let bins: Vec<String> = (0..super::group::BINS.len()).map(bin_label).collect();
    let mut headers = vec![tt("score")];
    headers.extend(r.literacies.iter().map(|l| l.name.to_string()));
    let table = Table {
        headers,
        rows: bins
            .iter()
            .enumerate()
            .map(|(b, label)| std::iter::once(text(label.clone())).chain(r.literacies.iter().map(|l| Cell::Number(l.distribution[b]))).collect())
            .collect(),
        records: false,
    };
    let charts: Vec<Chart> = r
        .literacies
        .iter()
        .map(|l| Chart {
            kind: ChartKind::Columns,
            title: l.name.to_string(),
            categories: bins.clone(),
            series: vec![(l.name.to_string(), l.distribution.clone())],
        })
        .collect();
    let mut blocks = vec![Block::Table(table)];
    for pair in charts.chunks(2) {
        blocks.push(Block::Charts(pair.to_vec()));
    }
    out.push(Section { name: name("distribution"), heading: format!("{prefix}{}", tt("distribution")), blocks });

    // Comparisons.
    let mut blocks = Vec::new();
    for b in &r.breakdowns {
        blocks.push(Block::Paragraph(b.title.to_string()));
        blocks.push(Block::Table(breakdown_table(lang, b)));
        let shown: Vec<(&str, [Option<f64>; LITERACY_COUNT])> =
            b.rows.iter().filter_map(|row| row.value.value().map(|v| (row.label.as_str(), v.means))).collect();
        if shown.len() >= 2 && r.kind != GroupLevel::Class {
            blocks.push(Block::Charts(vec![Chart {
                kind: ChartKind::Columns,
                title: b.title.to_string(),
                categories: (0..LITERACY_COUNT).map(|l| literacy_name(lang, l).to_string()).collect(),
                series: shown.iter().map(|(label, means)| (label.to_string(), means.iter().map(|m| m.unwrap_or(0.0)).collect())).collect(),
            }]));
        }
    }
    out.push(Section { name: name("comparison"), heading: format!("{prefix}{}", tt("comparison")), blocks });

    if !r.profiles.is_empty() {
        let mut headers = vec![tt("profile"), tt("name")];
        headers.extend((0..LITERACY_COUNT).map(|l| literacy_name(lang, l).to_string()));
        headers.extend([tt("takers"), tt("share")]);
        let rows = r
            .profiles
            .iter()
            .map(|p| {
                let mut row = vec![Cell::Number(p.profile as f64), text(p.name.clone())];
                row.extend(p.centroid.iter().map(|c| Cell::Number(*c)));
                match &p.value {
                    Shown::Value(s) => row.extend([Cell::Number(s.n as f64), Cell::Number(s.percent)]),
                    Shown::Hidden(h) => row.extend([text(h.note), Cell::Empty]),
                }
                row
            })
            .collect();
        let mut blocks = vec![Block::Table(Table { headers, rows, records: false })];
        blocks.extend(r.profiles.iter().map(|p| Block::Paragraph(format!("{} {}{}{}", p.profile, p.name, lang.pick("：", ": "), p.description))));
        blocks.push(Block::Charts(vec![Chart {
            kind: ChartKind::Columns,
            title: tt("profiles"),
            categories: (0..LITERACY_COUNT).map(|l| literacy_name(lang, l).to_string()).collect(),
            series: r.profiles.iter().map(|p| (format!("{} {}", p.profile, p.name), p.centroid.to_vec())).collect(),
        }]));
        out.push(Section { name: format!("{prefix}{}", tt("profile")), heading: format!("{prefix}{}", tt("profiles")), blocks });
    }
    if !r.students.is_empty() {
        out.push(students_section(r, prefix));
    }
}

fn students_section(r: &GroupReport, prefix: &str) -> Section {
    let lang = r.lang;
    let tt = |k: &str| t(lang, k).to_string();
    let mut headers = vec![tt("id"), tt("name")];
    headers.extend((0..LITERACY_COUNT).map(|l| literacy_name(lang, l).to_string()));
    headers.extend((0..LITERACY_COUNT).map(|l| format!("{}{}", literacy_name(lang, l), lang.pick("水平", " level"))));
    headers.push(tt("profile"));
    let rows = r
        .students
        .iter()
        .map(|s| {
            let mut row = vec![text(s.id.clone()), text(s.name.clone())];
            row.extend(s.scores.iter().map(|v| num(*v)));
            row.extend(s.levels.iter().map(|v| num(v.map(f64::from))));
            row.push(num(s.profile.map(|p| p as f64)));
            row
        })
        .collect();
    Section {
        name: format!("{prefix}{}", tt("students")),
        heading: format!("{prefix}{}", tt("student_list")),
        blocks: vec![Block::Table(Table { headers, rows, records: false })],
    }
}

fn annual_doc(r: &AnnualReport) -> Doc {
    let lang = r.lang;
    let tt = |k: &str| t(lang, k).to_string();
    let mut sections = Vec::new();
    let mut overview = Vec::new();
    let mut rows = Vec::new();
    for p in &r.populations {
        let n = match &p.report.takers {
            Shown::Value(n) => Cell::Number(*n as f64),
            Shown::Hidden(h) => text(h.note),
        };
        rows.push(vec![text(p.population_name), n, Cell::Number(p.districts as f64), Cell::Number(p.schools_count as f64)]);
    }
    overview.push(Block::Table(Table { headers: vec![tt("population"), tt("takers"), tt("districts_count"), tt("schools_count")], rows, records: false }));
    for n in &r.notes {
        overview.push(Block::Paragraph(n.clone()));
    }
    sections.push(Section { name: tt("participation"), heading: tt("participation"), blocks: overview });
    for p in &r.populations {
        let prefix = format!("{}{}", p.population_name, lang.pick("·", " · "));
        group_sections(&p.report, &prefix, &mut sections);
        sections.push(Section {
            name: format!("{prefix}{}", tt("schools")),
            heading: format!("{prefix}{}", tt("schools")),
            blocks: vec![Block::Table(breakdown_table(lang, &p.schools))],
        });
    }
    Doc { title: r.title.clone(), subtitle: format!("{} · {}", r.city, r.year), sections }
}
