//! The assessment item bank: the shipped bank loads and meets the issue's
//! counts, broken bank files are refused at the right file:line, each item
//! type scores as documented, every item survives QTI 3.0 export and import,
//! and the Rhai programs in stems run (or fail, when tagged `rhai,error`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qiming_curriculum::item::{Accepted, Block, Choice, ITEM_TYPES, ItemBank, STUDENT_BANDS, normalize_answer, text_blocks, to_toml};
use qiming_curriculum::meta::{LITERACIES, Text};
use qiming_curriculum::{Catalogue, Item, ItemKind, Response, qti};
use qiming_runtime::Outcome;

use crate::support::{repo, rhai};

fn catalogue() -> Catalogue {
    Catalogue::open(&repo().join("curriculum")).expect("the shipped catalogue loads")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qiming-bank-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_shipped_bank_meets_the_issue_counts() {
    let cat = catalogue();
    let students: Vec<&Item> = cat.items.population("student").collect();
    let teachers: Vec<&Item> = cat.items.population("teacher").collect();
    assert!(students.len() >= 240, "only {} student items", students.len());
    assert!(teachers.len() >= 60, "only {} teacher items", teachers.len());
    for (lit, zh, _) in LITERACIES {
        let n = students.iter().filter(|i| i.literacy == *lit).count();
        assert!(n >= 50, "{zh} ({lit}) has {n} student items; at least 50 are needed");
        for band in STUDENT_BANDS {
            let cell = students.iter().filter(|i| i.literacy == *lit && i.grade_band.as_deref() == Some(*band)).count();
            assert!(cell >= 15, "{lit} × {band} has only {cell} items");
        }
    }
    let used: BTreeSet<&str> = students.iter().map(|i| i.kind.name()).collect();
    for t in ITEM_TYPES {
        assert!(used.contains(t), "no student item of type {t}");
    }
    for i in cat.items.items.iter() {
        for t in [&i.stem, &i.explanation] {
            assert!(!t.zh.trim().is_empty() && !t.en.trim().is_empty(), "{}: both languages needed", i.id);
        }
        // Chinese texts are written in Chinese: they contain Han characters
        // (a stem that is only code and numbers would fail this, and none is).
        assert!(i.stem.zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)), "{}: the zh-CN stem has no Chinese", i.id);
        assert!(i.explanation.zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)), "{}: the zh-CN explanation has no Chinese", i.id);
    }
    // Computational thinking is assessed on what the lessons teach: every such
    // student item names the lessons (and primer sections) it checks.
    for i in students.iter().filter(|i| i.literacy == "computational-thinking") {
        assert!(!i.knowledge.is_empty(), "{}: a computational-thinking item links its lessons", i.id);
    }
    // Performance tasks use the labs; a good share of CT items read programs.
    let perf = students.iter().filter(|i| matches!(i.kind, ItemKind::Performance { .. })).count();
    assert!(perf >= 10, "only {perf} performance tasks");
    let with_code = students.iter().filter(|i| i.literacy == "computational-thinking" && i.stem.en.contains("```rhai")).count();
    assert!(with_code >= 15, "only {with_code} computational-thinking items show a Rhai program");
}

#[test]
fn answer_keys_are_spread_over_option_positions() {
    // A test-wise pupil must gain nothing from always choosing "a", or from
    // assuming the last options of a multiple-choice item are the wrong ones.
    let cat = catalogue();
    let mut single_keys = std::collections::BTreeMap::<usize, usize>::new();
    let (mut multiple, mut wrong_last) = (0, 0);
    for i in &cat.items.items {
        match &i.kind {
            ItemKind::Single { options, answer } => {
                *single_keys.entry(options.iter().position(|o| &o.id == answer).expect("key is an option")).or_default() += 1;
            }
            ItemKind::Multiple { options, answer } => {
                multiple += 1;
                let wrong: Vec<usize> = (0..options.len()).filter(|k| !answer.contains(&options[*k].id)).collect();
                if wrong.iter().all(|k| *k >= options.len() - wrong.len()) {
                    wrong_last += 1;
                }
            }
            _ => {}
        }
    }
    let singles: usize = single_keys.values().sum();
    for (position, n) in &single_keys {
        assert!(*n * 100 <= singles * 40, "option {} is the key of {n} of {singles} single-choice items", position + 1);
    }
    assert!(single_keys.len() >= 4, "keys use only positions {single_keys:?}");
    assert!(wrong_last * 2 < multiple, "{wrong_last} of {multiple} multiple-choice items put every wrong option last");
}

#[test]
fn difficulty_priors_are_centred_within_each_band() {
    // Priors are on the scale of the band's own pupils (0: a typical pupil of
    // the band answers half the time), so each literacy × band averages about
    // 0 and spreads over easy and hard items.
    let cat = catalogue();
    for (lit, _, _) in LITERACIES {
        for band in STUDENT_BANDS {
            let b: Vec<f64> =
                cat.items.population("student").filter(|i| i.literacy == *lit && i.grade_band.as_deref() == Some(*band)).map(|i| i.difficulty).collect();
            let n = b.len() as f64;
            let mean = b.iter().sum::<f64>() / n;
            let sd = (b.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            assert!(mean.abs() <= 0.3, "{lit} {band}: priors average {mean:.2}");
            assert!(sd >= 0.35, "{lit} {band}: priors spread only {sd:.2}");
            assert!(b.iter().any(|x| *x <= -0.5) && b.iter().any(|x| *x >= 0.5), "{lit} {band}: no easy or no hard items");
        }
    }
}

/// A text's prose: paragraphs without code blocks or `inline code`.
fn prose(text: &str) -> String {
    let paras: Vec<String> = text_blocks(text).expect("canonical").into_iter().filter_map(|b| if let Block::Para(p) = b { Some(p) } else { None }).collect();
    paras.join("\n").split('`').step_by(2).collect()
}

#[test]
fn texts_speak_their_language() {
    // Each language reads as itself: no Chinese in the English prose, and
    // Chinese prose punctuated the Chinese way (full-width ，。？：；！).
    let han = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
    let mut problems = Vec::new();
    for i in &catalogue().items.items {
        let mut texts = vec![("stem", &i.stem), ("explanation", &i.explanation)];
        let opts: Vec<&Choice> = match &i.kind {
            ItemKind::Matching { options, targets, .. } => options.iter().chain(targets).collect(),
            _ => i.options().iter().collect(),
        };
        texts.extend(opts.iter().map(|o| ("option", &o.text)));
        for (what, t) in texts {
            let en = prose(&t.en);
            if en.chars().any(han) {
                problems.push(format!("{} {what}: Chinese in the English text: {en}", i.id));
            }
            let zh: Vec<char> = prose(&t.zh).chars().collect();
            if zh.windows(2).any(|w| (han(w[0]) && ",?!;:".contains(w[1])) || (",?!;:".contains(w[0]) && han(w[1]))) {
                problems.push(format!("{} {what}: ASCII punctuation in the Chinese text: {}", i.id, t.zh));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn ids_are_prefixed_by_literacy_and_band() {
    // The id says where an item lives, so a result file is readable on its own.
    let prefix = |lit: &str| match lit {
        "information-awareness" => "ia",
        "computational-thinking" => "ct",
        "digital-learning" => "dl",
        _ => "sr",
    };
    for i in catalogue().items.population("student") {
        let band = i.grade_band.as_deref().unwrap_or_default().replace('-', "");
        assert!(i.id.starts_with(&format!("{}-{band}-", prefix(&i.literacy))), "{} is filed as {} {band}", i.id, i.literacy);
    }
}

#[test]
fn rhai_programs_in_stems_run_as_tagged() {
    let cat = catalogue();
    let mut ran = 0;
    let mut problems = Vec::new();
    for item in &cat.items.items {
        for (lang, text) in [("zh-CN", &item.stem.zh), ("en", &item.stem.en)] {
            for block in text_blocks(text).expect("stored stems are canonical") {
                let Block::Code { lang: tag, code } = block else { continue };
                if !tag.starts_with("rhai") {
                    continue;
                }
                let result = rhai(&code, "wall");
                ran += 1;
                let failed = matches!(result.report.outcome, Outcome::Error(_));
                match (tag.as_str(), failed) {
                    ("rhai", false) | ("rhai,error", true) => {}
                    (tag, _) => problems.push(format!("{} ({lang}): a `{tag}` block ended with {}", item.id, result.report.outcome.as_str())),
                }
            }
        }
    }
    assert!(ran >= 30, "only {ran} programs found in stems");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------ broken files

/// Writes one student bank file into a fresh catalogue folder and loads it
/// against the shipped lessons and labs; returns the errors as text.
fn load_broken(name: &str, literacy: &str, band: &str, body: &str) -> Vec<String> {
    let dir = temp_dir(name);
    let file_dir = dir.join("assessment/items").join(literacy);
    std::fs::create_dir_all(&file_dir).unwrap();
    std::fs::write(file_dir.join(format!("{band}.toml")), body).unwrap();
    let cat = catalogue();
    let (_, errors) = ItemBank::load_dir(&dir, &cat.lessons, &cat.labs);
    errors.iter().map(|e| e.to_string()).collect()
}

const GOOD: &str = r#"format_version = 1

[[item]]
id = "ct-56-900"
type = "single"
literacy = "computational-thinking"
module = "algorithms"
grade_band = "5-6"
knowledge = ["primer-2#let"]
status = "draft"
difficulty = 0.0
stem = { zh-CN = "题目", en = "Question" }
options = [
  { id = "a", zh-CN = "甲", en = "A" },
  { id = "b", zh-CN = "乙", en = "B" },
]
answer = "b"
explanation = { zh-CN = "解析", en = "Why" }
"#;

fn assert_refused(errors: &[String], line_col: &str, words: &str) {
    assert!(
        errors.iter().any(|e| e.contains(&format!("5-6.toml:{line_col}:")) && e.contains(words)),
        "expected an error at 5-6.toml:{line_col} mentioning {words:?}, got {errors:#?}"
    );
}

#[test]
fn a_good_fixture_loads() {
    assert_eq!(load_broken("good", "computational-thinking", "5-6", GOOD), Vec::<String>::new());
}

#[test]
fn broken_bank_files_are_refused_at_the_right_line() {
    let lit = "computational-thinking";
    // An unknown key (a typo) is refused where it is written.
    let e = load_broken("typo", lit, "5-6", &GOOD.replace("answer = \"b\"", "anser = \"b\""));
    assert_refused(&e, "17:1", "unknown field `anser`");
    // An answer that is not one of the options.
    let e = load_broken("answer", lit, "5-6", &GOOD.replace("answer = \"b\"", "answer = \"c\""));
    assert_refused(&e, "17:10", "answer \"c\" is not one of the options");
    // A knowledge point whose anchor the lesson does not have.
    let e = load_broken("anchor", lit, "5-6", &GOOD.replace("primer-2#let", "primer-2#loops"));
    assert_refused(&e, "9:14", "has no anchor {#loops}");
    // A lesson that does not exist.
    let e = load_broken("lesson", lit, "5-6", &GOOD.replace("primer-2#let", "no-such-lesson"));
    assert_refused(&e, "9:14", "there is no lesson \"no-such-lesson\"");
    // An item filed under the wrong literacy.
    let e = load_broken("folder", "digital-learning", "5-6", GOOD);
    assert_refused(&e, "6:12", "this file holds digital-learning items");
    // A missing explanation: the item's `[[item]]` header is pointed at.
    let no_expl = GOOD.replace("explanation = { zh-CN = \"解析\", en = \"Why\" }\n", "");
    let e = load_broken("explanation", lit, "5-6", &no_expl);
    assert_refused(&e, "3:1", "missing field `explanation`");
    // An English text left empty.
    let e = load_broken("empty-en", lit, "5-6", &GOOD.replace("en = \"Why\"", "en = \" \""));
    assert_refused(&e, "18:15", "explanation needs non-empty zh-CN and en text");
    // A duplicate id: the second definition is reported, naming the first.
    let twice = format!("{GOOD}{}", &GOOD["format_version = 1\n".len()..]);
    let e = load_broken("duplicate", lit, "5-6", &twice);
    assert_refused(&e, "20:1", "duplicate item id \"ct-56-900\" (first defined at");
    // A performance task needs a lab that exists.
    let perf = GOOD.replace("type = \"single\"", "type = \"performance\"").replace(
        "options = [\n  { id = \"a\", zh-CN = \"甲\", en = \"A\" },\n  { id = \"b\", zh-CN = \"乙\", en = \"B\" },\n]\nanswer = \"b\"",
        "lab = \"no-such-lab\"\nlevels = [1.0]",
    );
    let e = load_broken("lab", lit, "5-6", &perf);
    assert_refused(&e, "13:7", "lab \"no-such-lab\" does not exist");
    // Keys of another type are refused rather than ignored.
    let e = load_broken("stray", lit, "5-6", &GOOD.replace("answer = \"b\"", "answer = \"b\"\ntolerance = 0.5"));
    assert_refused(&e, "18:13", "`tolerance` is not used by single items");
    // An ordering whose answer is missing an option.
    let ordering = GOOD
        .replace("type = \"single\"", "type = \"ordering\"")
        .replace(
            "  { id = \"b\", zh-CN = \"乙\", en = \"B\" },\n",
            "  { id = \"b\", zh-CN = \"乙\", en = \"B\" },\n  { id = \"c\", zh-CN = \"丙\", en = \"C\" },\n",
        )
        .replace("answer = \"b\"", "answer = [\"b\", \"a\"]");
    let e = load_broken("ordering", lit, "5-6", &ordering);
    assert_refused(&e, "18:10", "lists every option id exactly once");
    // A numeric item with a negative tolerance.
    let numeric = GOOD.replace("type = \"single\"", "type = \"numeric\"").replace(
        "options = [\n  { id = \"a\", zh-CN = \"甲\", en = \"A\" },\n  { id = \"b\", zh-CN = \"乙\", en = \"B\" },\n]\nanswer = \"b\"",
        "answer = 3\ntolerance = -1",
    );
    let e = load_broken("numeric", lit, "5-6", &numeric);
    assert_refused(&e, "14:13", "tolerance must be a number >= 0");
    // A code fence that is never closed.
    let fence = GOOD.replace("stem = { zh-CN = \"题目\", en = \"Question\" }", "stem = { zh-CN = \"题目\", en = \"Question\\n\\n```rhai\\nstop();\" }");
    let e = load_broken("fence", lit, "5-6", &fence);
    assert_refused(&e, "12:8", "never closed");
    // A file named after no grade band.
    let e = load_broken("band", lit, "5-7", GOOD);
    assert!(e.iter().any(|m| m.contains("5-7.toml") && m.contains("<grade-band>.toml")), "{e:#?}");
}

// ------------------------------------------------------------ scoring

fn choices(ids: &[&str]) -> Vec<Choice> {
    ids.iter().map(|id| Choice { id: id.to_string(), text: Text::new(format!("选项{id}"), format!("option {id}")) }).collect()
}

fn item(kind: ItemKind) -> Item {
    Item {
        id: "t".into(),
        population: "student".into(),
        literacy: "computational-thinking".into(),
        module: Some("algorithms".into()),
        grade_band: Some("5-6".into()),
        knowledge: vec![],
        status: "draft".into(),
        difficulty: 0.0,
        discrimination: None,
        guessing: None,
        exposure: 0,
        stem: Text::new("题", "Q"),
        kind,
        explanation: Text::new("解", "A"),
    }
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn single_true_false_and_numeric_are_right_or_wrong() {
    let single = item(ItemKind::Single { options: choices(&["a", "b", "c"]), answer: "b".into() });
    assert_eq!(single.score(&Response::Choices(ids(&["b"]))), (1, 1));
    assert_eq!(single.score(&Response::Choices(ids(&["a"]))), (0, 1));
    assert_eq!(single.score(&Response::Choices(ids(&["a", "b"]))), (0, 1), "two choices on a single-choice item");
    assert_eq!(single.score(&Response::Bool(true)), (0, 1), "a response of the wrong shape");

    let tf = item(ItemKind::TrueFalse { answer: false });
    assert_eq!(tf.score(&Response::Bool(false)), (1, 1));
    assert_eq!(tf.score(&Response::Bool(true)), (0, 1));

    let num = item(ItemKind::Numeric { answer: 0.72, tolerance: 0.005, unit: None });
    assert_eq!(num.score(&Response::Number(0.72)), (1, 1));
    assert_eq!(num.score(&Response::Number(0.724)), (1, 1));
    assert_eq!(num.score(&Response::Number(0.725)), (1, 1), "the tolerance is inclusive");
    assert_eq!(num.score(&Response::Number(0.73)), (0, 1));
    assert_eq!(num.score(&Response::Number(f64::NAN)), (0, 1));
    let exact = item(ItemKind::Numeric { answer: 14.0, tolerance: 0.0, unit: None });
    assert_eq!(exact.score(&Response::Number(14.0)), (1, 1));
    assert_eq!(exact.score(&Response::Number(14.5)), (0, 1));
}

#[test]
fn multiple_choice_follows_the_chinese_exam_rule() {
    let m = item(ItemKind::Multiple { options: choices(&["a", "b", "c", "d", "e"]), answer: ids(&["a", "c", "e"]) });
    assert_eq!(m.max_points(), 3);
    assert_eq!(m.score(&Response::Choices(ids(&["a", "c", "e"]))), (3, 3));
    assert_eq!(m.score(&Response::Choices(ids(&["e", "a"]))), (2, 3), "right options only: one point each");
    assert_eq!(m.score(&Response::Choices(ids(&["a", "c", "e", "b"]))), (0, 3), "any wrong option scores nothing");
    assert_eq!(m.score(&Response::Choices(ids(&["a", "a", "a"]))), (1, 3), "repeats count once");
    assert_eq!(m.score(&Response::Choices(vec![])), (0, 3));
}

#[test]
fn ordering_credits_adjacent_pairs() {
    let o = item(ItemKind::Ordering { options: choices(&["a", "b", "c", "d", "e"]), answer: ids(&["b", "d", "a", "c", "e"]) });
    assert_eq!(o.max_points(), 4);
    assert_eq!(o.score(&Response::Order(ids(&["b", "d", "a", "c", "e"]))), (4, 4));
    // b-d and c-e stand together; d-a and a-c do not.
    assert_eq!(o.score(&Response::Order(ids(&["a", "b", "d", "c", "e"]))), (2, 4));
    // Reversed: no pair in the right order.
    assert_eq!(o.score(&Response::Order(ids(&["e", "c", "a", "d", "b"]))), (0, 4));
    // Not an arrangement of all the options.
    assert_eq!(o.score(&Response::Order(ids(&["b", "d", "a", "c"]))), (0, 4));
    assert_eq!(o.score(&Response::Order(ids(&["b", "d", "a", "c", "c"]))), (0, 4));
}

#[test]
fn matching_counts_right_pairs() {
    let m = item(ItemKind::Matching {
        options: choices(&["a", "b", "c"]),
        targets: choices(&["1", "2", "3", "4"]),
        answer: vec![("a".into(), "3".into()), ("b".into(), "1".into()), ("c".into(), "2".into())],
    });
    let pairs = |v: &[(&str, &str)]| Response::Pairs(v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
    assert_eq!(m.score(&pairs(&[("a", "3"), ("b", "1"), ("c", "2")])), (3, 3));
    assert_eq!(m.score(&pairs(&[("a", "3"), ("b", "4"), ("c", "2")])), (2, 3));
    assert_eq!(m.score(&pairs(&[("a", "3"), ("a", "1")])), (0, 3), "an option paired twice earns neither pair");
    assert_eq!(m.score(&pairs(&[])), (0, 3));
}

#[test]
fn text_answers_are_normalised() {
    let t = item(ItemKind::Text { accept: Accepted { zh: ids(&["阈值", "门限"]), en: ids(&["threshold"]) } });
    for given in ["阈值", " 阈值 ", "阈值。", "门限", "threshold", "Threshold", "ＴＨＲＥＳＨＯＬＤ", "threshold.", "\u{3000}threshold\u{3000}"]
    {
        assert_eq!(t.score(&Response::Text(given.into())), (1, 1), "{given:?}");
    }
    for given in ["", "   ", "阀值", "thresholds", "the threshold"] {
        assert_eq!(t.score(&Response::Text(given.into())), (0, 1), "{given:?}");
    }
    assert_eq!(normalize_answer("Ｃｔｒｌ＋Ｃ"), "ctrl+c");
    assert_eq!(normalize_answer("filter   bubble"), "filter bubble");
}

#[test]
fn performance_tasks_earn_a_point_per_level() {
    let p = item(ItemKind::Performance { lab: "wall-stop".into(), levels: vec![0.4, 0.7, 1.0] });
    assert_eq!(p.max_points(), 3);
    for (lab_score, points) in [(0.0, 0), (0.39, 0), (0.4, 1), (0.69, 1), (0.7, 2), (0.99, 2), (1.0, 3)] {
        assert_eq!(p.score(&Response::LabScore(lab_score)), (points, 3), "lab score {lab_score}");
    }
    let pass = item(ItemKind::Performance { lab: "wall-stop".into(), levels: vec![1.0] });
    assert_eq!(pass.score(&Response::LabScore(1.0)), (1, 1));
    assert_eq!(pass.score(&Response::LabScore(0.95)), (0, 1));
}

#[test]
fn shipped_answer_keys_score_full_marks() {
    // Each item's own key, given as a response, earns every point: the key
    // and the scoring rules agree for all 300-odd items.
    for i in &catalogue().items.items {
        let key = match &i.kind {
            ItemKind::Single { answer, .. } => Response::Choices(vec![answer.clone()]),
            ItemKind::Multiple { answer, .. } => Response::Choices(answer.clone()),
            ItemKind::TrueFalse { answer } => Response::Bool(*answer),
            ItemKind::Numeric { answer, .. } => Response::Number(*answer),
            ItemKind::Text { accept } => Response::Text(accept.en[0].clone()),
            ItemKind::Ordering { answer, .. } => Response::Order(answer.clone()),
            ItemKind::Matching { answer, .. } => Response::Pairs(answer.clone()),
            ItemKind::Performance { .. } => Response::LabScore(1.0),
        };
        let (points, max) = i.score(&key);
        assert!(max >= 1 && points == max, "{}: its own key scores {points}/{max}", i.id);
    }
}

// ------------------------------------------------------------ QTI

#[test]
fn every_shipped_item_survives_qti_export_and_import() {
    let cat = catalogue();
    assert!(cat.items.items.len() >= 300);
    for item in &cat.items.items {
        let xml = qti::item_to_xml(item);
        assert!(xml.contains(qti::QTI_NS), "{}: no QTI 3.0 namespace", item.id);
        let back = qti::item_from_xml(&xml, Some(&qti::metadata_element(item))).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", item.id));
        assert_eq!(&back, item, "{} changed on the way through QTI", item.id);
    }
}

#[test]
fn a_content_package_round_trips_through_the_filesystem() {
    let cat = catalogue();
    let dir = temp_dir("package");
    let n = qti::export_package(&cat.items.items, &dir).expect("export");
    assert_eq!(n, cat.items.items.len());
    let manifest = std::fs::read_to_string(dir.join("imsmanifest.xml")).unwrap();
    assert!(manifest.contains(qti::ITEM_RESOURCE_TYPE) && manifest.contains(qti::CP_NS));
    let back = qti::import_package(&dir).expect("import");
    assert_eq!(back, cat.items.items);
    // And the imported items written as a bank file read back the same.
    let file = dir.join("imported.toml");
    std::fs::write(&file, to_toml(&back)).unwrap();
    let bank = ItemBank::load_file(&file, &cat.lessons, &cat.labs).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(bank.items, cat.items.items);
}

#[test]
fn every_interaction_type_is_exported() {
    let cat = catalogue();
    let xml_of = |t: &str| qti::item_to_xml(cat.items.items.iter().find(|i| i.kind.name() == t).expect("the bank uses every type"));
    for (t, element) in [
        ("single", "qti-choice-interaction"),
        ("multiple", "qti-choice-interaction"),
        ("true_false", "qti-choice-interaction"),
        ("numeric", "qti-text-entry-interaction"),
        ("text", "qti-text-entry-interaction"),
        ("ordering", "qti-order-interaction"),
        ("matching", "qti-match-interaction"),
        ("performance", "qti-portable-custom-interaction"),
    ] {
        let xml = xml_of(t);
        for needed in [element, "qti-response-declaration", "qti-assessment-item", "xml:lang=\"zh-CN\"", "xml:lang=\"en\"", "qti-modal-feedback"] {
            assert!(xml.contains(needed), "{t}: no {needed}");
        }
        if t != "performance" {
            assert!(xml.contains("qti-correct-response"), "{t}: no qti-correct-response");
        }
    }
}

#[test]
fn an_item_from_another_system_imports_with_defaults() {
    // A one-language item as another e-testing system writes it: no Qiming
    // metadata, no language spans, the answer key only in the declaration.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="ext-1" title="Capital" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>B</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body>
    <p>Which city is the capital of China?</p>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-simple-choice identifier="A">Shanghai</qti-simple-choice>
      <qti-simple-choice identifier="B">Beijing &amp; <![CDATA[<more>]]></qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>"#;
    let item = qti::item_from_xml(xml, None).expect("imports");
    assert_eq!(item.id, "ext-1");
    assert_eq!(item.status, "draft");
    assert_eq!(item.literacy, "", "left for a reviewer to fill in");
    assert_eq!(item.stem, Text::new("Which city is the capital of China?", "Which city is the capital of China?"));
    let ItemKind::Single { options, answer } = &item.kind else { panic!("{:?}", item.kind) };
    assert_eq!(answer, "B");
    assert_eq!(options[1].text.en, "Beijing & <more>");
    // A manifest may only name files inside its package.
    let dir = temp_dir("escape");
    std::fs::write(
        dir.join("imsmanifest.xml"),
        r#"<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"><resources><resource identifier="x" type="imsqti_item_xmlv3p0" href="../../etc/passwd"/></resources></manifest>"#,
    )
    .unwrap();
    let err = qti::import_package(&dir).unwrap_err().to_string();
    assert!(err.contains("points outside the package"), "{err}");
    // Malformed XML and non-QTI documents are refused with a reason.
    assert!(qti::item_from_xml("<qti-assessment-item identifier=\"x\">", None).unwrap_err().contains("never closed"));
    assert!(qti::item_from_xml("<html/>", None).unwrap_err().contains("not <qti-assessment-item>"));
}

#[test]
fn truncated_or_foreign_qti_is_refused_with_a_reason() {
    // Import reads files from other systems: a document cut short anywhere,
    // or in another namespace, is an error, never a panic or a half item.
    let cat = catalogue();
    let mut tried = 0;
    for item in cat.items.items.iter().step_by(7) {
        let xml = qti::item_to_xml(item);
        let meta = qti::metadata_element(item);
        let whole = xml.trim_end().len();
        for end in (1..whole).step_by(61).filter(|e| xml.is_char_boundary(*e)) {
            assert!(qti::item_from_xml(&xml[..end], Some(&meta)).is_err(), "{} cut at byte {end} was accepted", item.id);
            tried += 1;
        }
        let qti2 = xml.replace(qti::QTI_NS, "http://www.imsglobal.org/xsd/imsqti_v2p2");
        assert!(qti::item_from_xml(&qti2, Some(&meta)).unwrap_err().contains("is not QTI 3.0"), "{}", item.id);
    }
    assert!(tried > 500, "only {tried} truncations tried");
}

#[test]
fn exported_qti_item_snapshot() {
    let cat = catalogue();
    let item = cat.items.get("ct-56-013").expect("a matching item with both languages");
    insta::assert_snapshot!("qti-item-ct-56-013", qti::item_to_xml(item));
    let numeric = cat.items.get("ct-34-004").expect("a numeric item with a program in its stem");
    insta::assert_snapshot!("qti-item-ct-34-004", qti::item_to_xml(numeric));
}

#[test]
fn the_cli_exports_and_imports_a_package() {
    let dir = temp_dir("cli");
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).current_dir(repo()).output().expect("run qiming");
    let out_dir = dir.join("pkg");
    let out = run(&["bank", "export-qti", out_dir.to_str().unwrap(), "--population", "teacher"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let teachers = catalogue().items.population("teacher").count();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("exported {teachers} items")));
    let file = dir.join("teachers.toml");
    let out = run(&["bank", "import-qti", out_dir.to_str().unwrap(), "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(Path::new(&file).is_file());
    let cat = catalogue();
    let bank = ItemBank::load_file(&file, &cat.lessons, &cat.labs).expect("the imported file is a valid bank");
    assert_eq!(bank.items.len(), teachers);
    // `curriculum list` reports the bank per literacy and band.
    let out = run(&["curriculum", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("student items / 学生题目") && text.contains("teacher items / 教师题目") && text.contains("计算思维"), "{text}");
}
