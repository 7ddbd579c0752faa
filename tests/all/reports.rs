//! Assessment reports (`qiming::report`, `qiming assess report`): snapshots of a student and a class
//! report, small-cell and complementary suppression, deterministic k-means profiles, PDF and XLSX
//! written and reopened in both languages, no English in zh-CN learner text, refused input rows.

use std::sync::OnceLock;

use qiming::report::group::suppress;
use qiming::report::input::{Input, Population};
use qiming::report::simulate::{RegionOptions, simulate_region, to_csv};
use qiming::report::{Context, GroupLevel, Lang, Report, ReportLevel, Scored, build, layout, pdf, profiles, score, xlsx};
use qiming_curriculum::Catalogue;
use qiming_grading::irt::Levels;
use serde_json::Value;

use crate::support::repo;

struct Region {
    catalogue: Catalogue,
    input: Input,
    scored: Scored,
}

/// The synthetic region (two years, students and teachers), scored once for every test.
fn region() -> &'static Region {
    static REGION: OnceLock<Region> = OnceLock::new();
    REGION.get_or_init(|| {
        let catalogue = Catalogue::open(&repo().join("curriculum")).expect("the shipped curriculum loads");
        let input = simulate_region(&catalogue, &RegionOptions::default());
        let scored = score(&input, &catalogue.items, &[], &Levels::default(), 2).expect("scores");
        Region { catalogue, input, scored }
    })
}

fn context(lang: Lang) -> Context<'static> {
    let r = region();
    Context::new(&r.input, &r.catalogue, &r.scored, lang, None, 2026)
}

fn report(lang: Lang, level: ReportLevel, id: Option<&str>, population: Population) -> Report {
    build(&context(lang), level, id, population).expect("the report builds")
}

fn json(r: &Report) -> Value {
    serde_json::from_str(&r.to_json()).expect("valid JSON")
}

/// A student who has a mistake with a written answer and a failed lab check.
fn student_with_everything() -> String {
    let r = region();
    r.input
        .takers
        .iter()
        .find(|t| t.year == 2026 && t.population == Population::Students && !t.lab_failures.is_empty() && t.responses.iter().any(|x| x.answer.is_some()))
        .expect("the region has such a student")
        .id
        .clone()
}

fn snapshot(name: &str, value: &Value) {
    insta::with_settings!({ snapshot_path => repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!(name, value);
    });
}

#[test]
fn student_report_snapshot_with_mistake_notebook() {
    let id = student_with_everything();
    let r = json(&report(Lang::Zh, ReportLevel::Student, Some(&id), Population::Students));
    assert_eq!(r["literacies"].as_array().unwrap().len(), 4);
    let mistakes = r["mistakes"].as_array().unwrap();
    assert!(!mistakes.is_empty());
    for m in mistakes {
        assert!(m["points"].as_u64().unwrap() < m["max"].as_u64().unwrap(), "only items not fully right: {m}");
        for key in ["stem", "correct_answer", "explanation"] {
            assert!(!m[key].as_str().unwrap().is_empty(), "{key} in {m}");
        }
        assert!(!m["lessons"].as_array().unwrap().is_empty(), "every mistake names lessons to revisit (its knowledge points, else its module's lessons): {m}");
    }
    assert!(!r["lab_failures"].as_array().unwrap().is_empty());
    snapshot("report-student-zh", &r);
}

#[test]
fn class_report_snapshot_lists_its_students() {
    let r = json(&report(Lang::En, ReportLevel::Group(GroupLevel::Class), Some("示范市/东湖区/东湖第一小学/五年级(1)班"), Population::Students));
    let n = r["takers"].as_u64().expect("a class of 10 or more is shown");
    assert_eq!(r["students"].as_array().unwrap().len() as u64, n);
    assert_eq!(r["literacies"].as_array().unwrap().len(), 4);
    for l in r["literacies"].as_array().unwrap() {
        let levels: f64 = l["levels"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).sum();
        assert!((levels - 100.0).abs() < 0.6, "level percentages add up to 100: {levels}");
        assert!(l["growth"].is_object(), "two years in the input give growth: {l}");
    }
    snapshot("report-class-en", &r);
}

#[test]
fn the_same_input_gives_the_same_report() {
    let a = report(Lang::Zh, ReportLevel::Annual, None, Population::Students).to_json();
    let b = report(Lang::Zh, ReportLevel::Annual, None, Population::Students).to_json();
    assert_eq!(a, b);
}

#[test]
fn suppression_hides_small_cells_and_their_complements() {
    // Any vector: every cell under 10 hidden, and never exactly one hidden cell.
    let cases: &[&[usize]] = &[&[9, 30, 40], &[9, 12], &[30, 40], &[3, 4, 50], &[9], &[11, 9, 10, 25], &[0, 9, 30]];
    for sizes in cases {
        let hidden = suppress(sizes);
        for (n, h) in sizes.iter().zip(&hidden) {
            if *n < 10 {
                assert_eq!(*h, Some("fewer_than_10"), "{sizes:?}");
            }
        }
        let count = hidden.iter().filter(|h| h.is_some()).count();
        assert!(count != 1 || sizes.len() == 1, "{sizes:?}: one hidden cell would be the total minus the others");
    }
    assert_eq!(suppress(&[9, 30, 40]), vec![Some("fewer_than_10"), Some("complementary"), None]);

    // The teaching point has one class of 9 pupils.
    let school = json(&report(Lang::Zh, ReportLevel::Group(GroupLevel::School), Some("北岭县山口教学点"), Population::Students));
    assert_eq!(school["takers"]["suppressed"], "fewer_than_10");
    assert!(school["literacies"].as_array().unwrap().is_empty());
    assert!(school["breakdowns"].as_array().unwrap().is_empty());
    assert!(school.get("students").is_none(), "no names above class level");

    let district = json(&report(Lang::Zh, ReportLevel::Group(GroupLevel::District), Some("北岭县"), Population::Students));
    let schools = district["breakdowns"].as_array().unwrap().iter().find(|b| b["kind"] == "schools").unwrap();
    let point = schools["rows"].as_array().unwrap().iter().find(|r| r["key"] == "北岭县山口教学点").unwrap();
    assert_eq!(point["suppressed"], "fewer_than_10");
    assert!(point.get("n").is_none() && point.get("means").is_none(), "{point}");
    let hidden = schools["rows"].as_array().unwrap().iter().filter(|r| r.get("suppressed").is_some()).count();
    assert!(hidden >= 2, "a second school is hidden so the 9 cannot be worked out from the district's total");

    // Every breakdown of every group report and of the annual report: no shown row under 10,
    // never exactly one hidden row, no names.
    let mut reports = vec![json(&report(Lang::En, ReportLevel::Annual, None, Population::Students))];
    for (level, id) in [(GroupLevel::City, "示范市"), (GroupLevel::District, "北岭县"), (GroupLevel::District, "东湖区"), (GroupLevel::School, "北岭第一小学")]
    {
        for population in [Population::Students, Population::Teachers] {
            reports.push(json(&report(Lang::En, ReportLevel::Group(level), Some(id), population)));
        }
    }
    let mut checked = 0;
    fn walk(v: &Value, checked: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(rows)) = map.get("rows") {
                    let hidden = rows.iter().filter(|r| r.get("suppressed").is_some()).count();
                    assert!(hidden != 1 || rows.len() == 1, "exactly one hidden row: {v}");
                    for r in rows {
                        if let Some(n) = r.get("n").and_then(Value::as_u64) {
                            assert!(n >= 10, "a row of {n} is shown: {r}");
                        }
                    }
                    *checked += 1;
                }
                assert!(!map.contains_key("students"), "names above class level");
                map.values().for_each(|x| walk(x, checked));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, checked)),
            _ => {}
        }
    }
    for r in &reports {
        walk(r, &mut checked);
        let text = r.to_string();
        assert!(!text.contains("\"n\":9,") && !text.contains("\"n\": 9,"), "a group of 9 is never shown");
    }
    assert!(checked > 20);
}

#[test]
fn kmeans_profiles_are_deterministic_for_a_seed() {
    // Three well separated groups of 60 students in four dimensions.
    let mut points = Vec::new();
    for (g, centre) in [[650.0, 640.0, 660.0, 655.0], [500.0, 420.0, 510.0, 505.0], [380.0, 390.0, 370.0, 400.0]].iter().enumerate() {
        for k in 0..60 {
            let wobble = |d: usize| ((k * 7 + d * 13 + g * 5) % 21) as f64 - 10.0;
            points.push([centre[0] + wobble(0), centre[1] + wobble(1), centre[2] + wobble(2), centre[3] + wobble(3)]);
        }
    }
    let a = profiles::fit(&points, 7).expect("fits");
    let b = profiles::fit(&points, 7).expect("fits");
    assert_eq!(a, b);
    assert_eq!(a.k, 3, "the silhouette picks the three groups: {:?}", a.tried);
    // Canonical order: the highest profile first, whatever the initialisation.
    assert!(a.centroids[0][0] > 600.0 && a.centroids[2][0] < 420.0, "{:?}", a.centroids);
    assert_eq!(a.labels[0], 0);
    assert_eq!(a.labels[179], 2);
    let (name, _) = profiles::describe(Lang::Zh, &a.centroids[1]);
    assert!(name.contains("计算思维"), "the middle profile is weak in computational thinking: {name}");
    // On the region, the whole pipeline gives the same profiles twice.
    let x = json(&report(Lang::Zh, ReportLevel::Group(GroupLevel::City), None, Population::Students));
    let y = json(&report(Lang::Zh, ReportLevel::Group(GroupLevel::City), None, Population::Students));
    assert_eq!(x["profiles"], y["profiles"]);
    assert!(x["profiles"].as_array().unwrap().len() >= 2);
}

/// Whether PDFs can be rendered here; CI installs a font, so there it must.
fn pdf_font_available() -> bool {
    let found = qiming::fonts::find_font(None).is_some();
    assert!(found || std::env::var_os("CI").is_none(), "CI must have a CJK font (fonts-wqy-microhei)");
    found
}

#[test]
fn pdf_and_xlsx_are_written_and_reopened_in_both_languages() {
    use calamine::{DataType, Reader, Xlsx};
    for lang in [Lang::Zh, Lang::En] {
        for (level, id) in [
            (ReportLevel::Annual, None),
            (ReportLevel::Group(GroupLevel::Class), Some("示范市/西山区/西山实验小学/五年级(2)班".to_string())),
            (ReportLevel::Student, Some(student_with_everything())),
        ] {
            let r = report(lang, level, id.as_deref(), Population::Students);
            let doc = layout::doc(&r);
            let bytes = xlsx::render(&doc).expect("xlsx");
            // Charts are native Excel charts (calamine reads cells only: look into the package).
            let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("an XLSX is a zip");
            let charts = zip.file_names().filter(|n| n.starts_with("xl/charts/chart")).count();
            let drawn: usize = doc.sections.iter().flat_map(|s| &s.blocks).map(|b| if let layout::Block::Charts(c) = b { c.len() } else { 0 }).sum();
            assert_eq!(charts, drawn, "one native chart per chart of the document");
            assert!(charts >= 1);
            let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("calamine opens it");
            let names = book.sheet_names();
            assert_eq!(names.len(), doc.sections.len());
            let first = book.worksheet_range(&names[0]).expect("first sheet");
            assert_eq!(first.get_value((0, 0)).map(|v| v.to_string()), Some(doc.title.clone()));
            if level == ReportLevel::Annual {
                let expect = match lang {
                    Lang::Zh => ["学生·概况", "学生·水平分布", "教师·概况", "教师·各学校"],
                    Lang::En => ["Students · Summary", "Students · Levels", "Teachers · Summary", "Teachers · Schools"],
                };
                for e in expect {
                    assert!(names.iter().any(|n| n == e), "{e} in {names:?}");
                }
                // The summary table's means are numbers in the cells.
                let summary = book.worksheet_range(&names[1]).expect("summary");
                let mean = summary.get_value((6, 2)).and_then(|v| v.as_f64()).expect("a mean");
                assert!((300.0..700.0).contains(&mean), "{mean}");
            }
            if pdf_font_available() {
                let (pdf, missing) = pdf::render(&doc, None).expect("pdf");
                assert!(pdf.starts_with(b"%PDF"), "a PDF");
                assert!(missing.is_empty(), "every character has a glyph: {missing:?}");
                let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
                assert!(has(b"/FontFile") || has(b"/FontDescriptor") || has(b"/Type0"), "a font is embedded");
                assert!(pdf.len() > 5_000);
            }
        }
    }
}

#[test]
fn zh_cn_reports_have_no_english_for_learners_and_teachers() {
    // Ids, codes and the bank's own item text (which quotes program code) are not report text.
    // Lesson titles and lab feedback are the curriculum's own zh-CN text (which names Rhai and
    // quotes code such as `if`), not the report's.
    const NOT_TEXT: &[&str] = &[
        "id",
        "literacy",
        "item",
        "lab",
        "check",
        "population",
        "kind",
        "lang",
        "suppressed",
        "compared",
        "key",
        "stem",
        "answer",
        "correct_answer",
        "explanation",
        "lessons",
        "feedback",
    ];
    fn walk(v: &Value, key: &str, found: &mut Vec<String>) {
        if NOT_TEXT.contains(&key) {
            return;
        }
        match v {
            Value::String(s) => {
                let letters = s.chars().filter(char::is_ascii_alphabetic).count();
                if letters > 0 {
                    found.push(format!("{key}: {s}"));
                }
            }
            Value::Object(map) => map.iter().for_each(|(k, x)| walk(x, k, found)),
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, found)),
            _ => {}
        }
    }
    let id = student_with_everything();
    let mut found = Vec::new();
    for (level, id) in [
        (ReportLevel::Student, Some(id.as_str())),
        (ReportLevel::Group(GroupLevel::Class), Some("示范市/东湖区/东湖第一小学/五年级(1)班")),
        (ReportLevel::Group(GroupLevel::School), Some("北岭县山口教学点")),
        (ReportLevel::Annual, None),
    ] {
        walk(&json(&report(Lang::Zh, level, id, Population::Students)), "", &mut found);
        let doc = layout::doc(&report(Lang::Zh, level, id, Population::Students));
        for s in &doc.sections {
            for b in &s.blocks {
                if let layout::Block::Table(t) = b {
                    for h in &t.headers {
                        if h.chars().any(|c| c.is_ascii_alphabetic()) {
                            found.push(format!("header: {h}"));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "English in zh-CN reports: {found:#?}");
    // And the text table has every key used in both languages.
    for key in ["fewer_than_10", "complementary", "group_suppressed", "mistakes", "growth", "profiles"] {
        assert!(qiming::report::text::has(key));
    }
}

#[test]
fn bad_input_rows_are_refused_with_row_and_column() {
    let r = region();
    let dir = std::env::temp_dir().join(format!("qiming-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = Input { format_version: 1, takers: r.input.takers.iter().take(30).cloned().collect() };
    let (takers, responses, answers, labs) = to_csv(&small);
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (t, s, a, l) = (write("takers.csv", &takers), write("responses.csv", &responses), write("answers.csv", &answers), write("labs.csv", &labs));
    let read = qiming::report::input::read_csv(&t, &s, Some(&a), Some(&l), &r.catalogue.items).expect("the written files read back");
    let sorted = |input: &Input| {
        let mut takers = input.takers.clone();
        takers.iter_mut().for_each(|t| t.responses.sort_by(|a, b| a.item.cmp(&b.item)));
        takers
    };
    assert_eq!(sorted(&read), sorted(&small), "nothing accepted is lost");

    let mut lines: Vec<String> = takers.lines().map(str::to_string).collect();
    lines[2] = lines[2].replace(",urban,", ",city,").replace(",rural,", ",city,");
    let bad = write("bad-takers.csv", &(lines.join("\n") + "\n"));
    let e = qiming::report::input::read_csv(&bad, &s, None, None, &r.catalogue.items).unwrap_err().to_string();
    assert!(e.contains("row 3, column locality") && e.contains("\"city\""), "{e}");

    let mut rows: Vec<String> = responses.lines().map(str::to_string).collect();
    let header: Vec<&str> = rows[0].split(',').collect();
    let item = header[1].to_string();
    let mut cells: Vec<String> = rows[3].split(',').map(str::to_string).collect();
    cells[1] = "7".into();
    rows[3] = cells.join(",");
    let bad = write("bad-responses.csv", &(rows.join("\n") + "\n"));
    let e = qiming::report::input::read_csv(&t, &bad, None, None, &r.catalogue.items).unwrap_err().to_string();
    assert!(e.contains(&format!("row 4, column {item}")) && e.contains("above the item's most"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_command_writes_reports_from_simulated_csv_files() {
    let dir = std::env::temp_dir().join(format!("qiming-reports-cli-{}", std::process::id()));
    let exe = env!("CARGO_BIN_EXE_qiming");
    let out = std::process::Command::new(exe).args(["assess", "simulate-region"]).arg(&dir).args(["--years", "1"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = dir.join("school.json");
    let out = std::process::Command::new(exe)
        .args(["assess", "report", "--level", "school", "--id", "东湖实验小学", "--lang", "en"])
        .arg("--takers")
        .arg(dir.join("takers.csv"))
        .arg("--responses")
        .arg(dir.join("responses.csv"))
        .arg("--answers")
        .arg(dir.join("answers.csv"))
        .arg("--lab-failures")
        .arg(dir.join("lab-failures.csv"))
        .arg("--out")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["kind"], "school");
    assert_eq!(v["name"], "东湖实验小学");
    assert!(v["takers"].as_u64().is_some_and(|n| n >= 10), "{}", v["takers"]);
    let out = std::process::Command::new(exe)
        .args(["assess", "report", "--level", "school", "--id", "no-such-school"])
        .arg("--takers")
        .arg(dir.join("takers.csv"))
        .arg("--responses")
        .arg(dir.join("responses.csv"))
        .arg("--out")
        .arg(dir.join("x.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no school \"no-such-school\""), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn calibration_files_must_cover_every_answered_item() {
    let r = region();
    let file: qiming_grading::irt::CalibrationFile = serde_json::from_str(r#"{"model": "2pl", "items": [{"id": "ia-56-001", "a": 1.2, "b": -0.3}]}"#).unwrap();
    let e = score(&r.input, &r.catalogue.items, std::slice::from_ref(&file), &Levels::default(), 1).unwrap_err().to_string();
    assert!(e.contains("has no parameters in the calibration files"), "{e}");
    // With every item given, scores come from the file's parameters, not a new calibration.
    let mut full = file;
    full.items = r
        .input
        .takers
        .iter()
        .flat_map(|t| &t.responses)
        .map(|x| x.item.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| serde_json::from_value(serde_json::json!({"id": id, "a": 1.0, "b": 0.0})).unwrap())
        .collect();
    full.model = qiming_grading::irt::Model::Gpcm;
    let scored = score(&r.input, &r.catalogue.items, &[full], &Levels::default(), 1).expect("scores");
    assert!(scored.dimensions.iter().all(|d| d.source == "calibration file"));
    assert_eq!(scored.scores.len(), r.input.takers.len());
}
