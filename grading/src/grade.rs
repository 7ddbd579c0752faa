//! Grading a submission against a lab: run every case, evaluate its checks,
//! and build the grade report (stable JSON, hidden cases reveal nothing).
//!
//! Scoring: a lab is worth 100 points, split between cases by weight. A case's
//! fraction is the weighted mean of its checks' scores, minus collision
//! penalties, limited by the caps of failed checks; a run that ends in `error`
//! or `limit` is capped at half its points, and a program that never ran
//! (compile or link error) scores nothing. In a lab that does not grade
//! printed output, too much output is cut but neither ends the run nor costs
//! points. Cases run in parallel, one per thread; the result does not depend
//! on the order they finish in.
//!
//! Feedback: a program that never ran, or ran without ever moving, gets one
//! clear message per case instead of driving advice about a run that did not
//! happen; error messages come from the runtime's diagnostics, in the child's
//! language, never the engine's English.

use std::collections::BTreeMap;
use std::sync::Arc;

use qiming_ai::{Classifier, Model};
use qiming_curriculum::{CheckKind, Lab, ModelCase, ModelInputSpec, Text};
use qiming_runtime::{Diagnostic, ErrorKind, Language, LimitKind, Limits, Message, Outcome, Program};
use qiming_sim::arena::Arena;
use serde::Serialize;

use crate::checks::{Evidence, evaluate};
use crate::run::{RunOptions, run_program};

/// Stack for threads that run student code (see ARCHITECTURE.md).
pub const RUN_STACK: usize = 16 << 20;
/// The version of the grading engine, written into every report.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A run that ends in `error` or `limit` earns at most this fraction of a case.
pub const FAILED_RUN_CAP: f64 = 0.5;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GradeReport {
    pub lab: String,
    pub lab_version: u32,
    pub engine_version: String,
    pub language: String,
    pub program_sha256: String,
    pub score: f64,
    pub max_score: f64,
    pub passed: bool,
    pub cases: Vec<CaseReport>,
    /// Grading was cancelled before every case ran to its end: the report is
    /// not a grade and must be thrown away (never part of the JSON).
    #[serde(skip)]
    pub cancelled: bool,
    /// Mistakes in the program that are not errors (colour names in the wrong
    /// case, centimetres for metres…): read from the source, so the same for
    /// every case, and shown in visible cases that fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// SHA-256 of the model file handed in with the program, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_sha256: Option<String>,
    /// Its kind (`cnn`, `perceptron`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_kind: Option<String>,
}

impl GradeReport {
    /// The report with each hidden case's recorded evidence in its place
    /// (where grading recorded it, [`GradeOptions::record_hidden`]): what
    /// judges see; contestants only ever get the report itself.
    pub fn with_evidence(&self) -> GradeReport {
        let mut r = self.clone();
        r.cases = r.cases.into_iter().map(|mut c| c.evidence.take().map_or(c, |e| *e)).collect();
        r
    }
}

/// A diagnostic, as the report carries it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    pub code: String,
    pub explanation: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Text>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Note {
    fn of(d: &Diagnostic) -> Note {
        Note { code: d.code.to_string(), explanation: text(&d.explanation), suggestion: d.suggestion.as_ref().map(text), line: d.line, column: d.column }
    }
}

fn text(m: &Message) -> Text {
    Text::new(m.zh.clone(), m.en.clone())
}

/// One case. Hidden cases carry only `name`, `hidden`, `passed`, `score`,
/// `max_score` and a generic `feedback`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseReport {
    pub name: String,
    pub hidden: bool,
    pub passed: bool,
    pub score: f64,
    pub max_score: f64,
    pub feedback: Vec<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
    /// The replay itself (QMRPLY01 bytes), when [`GradeOptions::keep_replays`]
    /// asked for it; never part of the JSON report.
    #[serde(skip)]
    pub replay_bytes: Option<Vec<u8>>,
    /// A hidden case's full report (run, checks with their measurements,
    /// replay) when [`GradeOptions::record_hidden`] asked for it: evidence
    /// for judges, kept apart and never part of this report's JSON.
    #[serde(skip)]
    pub evidence: Option<Box<CaseReport>>,
    /// What a model case measured (also for hidden ones: the score is a
    /// linear function of it, so it tells no more than the score).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricReport>,
}

/// A model case's measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricReport {
    /// `accuracy`, `macro_f1` or `min_group_recall`.
    pub kind: String,
    /// The value, in [0, 1], rounded to 4 digits.
    pub value: f64,
    /// Full credit at or above this.
    pub full: f64,
    /// No credit at or below this.
    pub zero: f64,
}

/// How the run of a visible case ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The runtime's own words about the limit, for teachers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSummary>,
    pub sim_time: f64,
    pub collisions: u64,
    pub output: String,
    /// The output was cut at the output limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub output_truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorSummary {
    pub kind: String,
    /// The engine's original text, for teachers (Rhai's or wasmtime's English).
    pub message: String,
    /// Where the learner should look (for a missing `;`, the line that lacks it).
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Stable diagnostic code (`chinese_punctuation`, `unknown_function`…).
    pub code: String,
    /// What is wrong, for the learner.
    pub explanation: Text,
    /// What to try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    pub code: String,
    pub passed: bool,
    pub score: f64,
    pub max_score: f64,
    pub measured: BTreeMap<String, f64>,
    pub feedback: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
}

/// Options for grading.
#[derive(Clone, Debug, Default)]
pub struct GradeOptions {
    pub limits: Limits,
    /// Write `<case>.qreplay` for visible cases here.
    pub replay_dir: Option<std::path::PathBuf>,
    /// Keep visible cases' replays in the report ([`CaseReport::replay_bytes`]),
    /// for callers that store them elsewhere (the server's database).
    pub keep_replays: bool,
    /// Threads to spread cases over (0 = one per core).
    pub threads: usize,
    /// Stops the runs promptly (server shutdown, the studio's stop button).
    pub cancel: qiming_runtime::Cancel,
    /// The server's secret for hidden cases (see [`hidden_seed`]); `None`
    /// runs hidden cases on the seeds written in the lab.
    pub hidden_secret: Option<[u8; 32]>,
    /// Also record what hidden cases measured ([`CaseReport::evidence`], with
    /// replays when `keep_replays`): contest rounds keep it for judges
    /// deciding appeals. The report itself stays redacted.
    pub record_hidden: bool,
}

/// The seed a hidden case really runs on: derived from the server's secret,
/// the lab and the case, so hidden scenarios differ from the public
/// repository's and from other servers', yet stay the same on this server
/// (grading is still deterministic for a given secret).
pub fn hidden_seed(secret: &[u8; 32], lab: &str, case: &str, seed: u64) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"qiming-hidden-seed-v1\0");
    h.update(secret);
    h.update(lab.as_bytes());
    h.update([0]);
    h.update(case.as_bytes());
    h.update([0]);
    h.update(seed.to_le_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Processor-time budget per run for a lab: a tenth of its longest case's
/// simulated time, between 2 and 10 seconds. Honest programs use a few
/// percent of that (the virtual CPU bounds their work); the budget only ends
/// programs whose operations are cheap in virtual time and dear for the host,
/// so a hostile submission costs the queue seconds, not minutes.
pub fn cpu_budget(lab: &Lab) -> std::time::Duration {
    let longest = lab.cases.iter().map(|c| c.scenario.duration()).fold(0.0, f64::max);
    std::time::Duration::from_secs_f64((longest * 0.1).clamp(2.0, 10.0))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Grades `program` (without a model) on every case of `lab`.
pub fn grade(lab: &Lab, program: &Program, options: &GradeOptions) -> GradeReport {
    grade_parts(lab, program, None, options)
}

/// Grades a submission bundle: its program with its model deployed, and its
/// model on the lab's model cases.
pub fn grade_bundle(lab: &Lab, bundle: &crate::Bundle, options: &GradeOptions) -> GradeReport {
    grade_parts(lab, &bundle.program, bundle.model.as_ref(), options)
}

/// The model as a lab's `[model]` table describes it.
pub fn model_misfit(lab: &Lab, model: &Model) -> Option<qiming_ai::Misfit> {
    let spec = lab.model.as_ref()?;
    let input = match &spec.input {
        ModelInputSpec::Image => qiming_ai::model::Input::image(),
        ModelInputSpec::Sensors(names) => qiming_ai::model::Input::Sensors { names: names.clone() },
    };
    let kinds: Vec<qiming_ai::ModelKind> = spec.kinds.iter().filter_map(|k| qiming_ai::ModelKind::parse(k)).collect();
    model.fits_lab(&spec.labels, &input, &kinds).err()
}

/// Why every case scores nothing before anything runs: a model that does
/// not fit the lab, or none where the lab requires one.
fn refusal(lab: &Lab, model: Option<&Arc<Model>>) -> Option<Text> {
    match (model, &lab.model) {
        (Some(m), Some(_)) => model_misfit(lab, m)
            .map(|misfit| Text::new(format!("模型不适用于本实验：{}。", misfit.zh_cn()), format!("The model does not fit this lab: {}.", misfit.en()))),
        (None, Some(spec)) if spec.required => Some(no_model_text()),
        _ => None,
    }
}

fn no_model_text() -> Text {
    Text::new(
        "没有提交模型：把程序和 .qmodel 模型文件放在同一个文件夹或 zip 压缩包里一起提交。",
        "No model was handed in: hand in the program and the .qmodel model file together, in one folder or .zip file.",
    )
}

fn grade_parts(lab: &Lab, program: &Program, model: Option<&Arc<Model>>, options: &GradeOptions) -> GradeReport {
    let total_weight: f64 = lab.cases.iter().map(|c| c.weight).sum::<f64>() + lab.model_cases.iter().map(|c| c.weight).sum::<f64>();
    let refused = refusal(lab, model);
    let model = if refused.is_some() { None } else { model };
    let threads = if options.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { options.threads };
    let mut reports: Vec<Option<(CaseReport, f64)>> = vec![None; lab.cases.len()];
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(lab.cases.len()).max(1))
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(RUN_STACK)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if i >= lab.cases.len() {
                                break;
                            }
                            let graded = match &refused {
                                Some(why) => refused_case(&lab.cases[i].name, lab.cases[i].hidden, lab.cases[i].weight, total_weight, why),
                                None => grade_case(lab, i, program, model, options, total_weight),
                            };
                            done.push((i, graded));
                        }
                        done
                    })
                    .expect("spawn grading thread")
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().expect("grading thread panicked") {
                reports[i] = Some(r);
            }
        }
    });
    let mut graded: Vec<(CaseReport, f64)> = reports.into_iter().map(|r| r.expect("every case graded")).collect();
    for case in &lab.model_cases {
        graded.push(match &refused {
            Some(why) => refused_case(&case.name, case.hidden, case.weight, total_weight, why),
            None => grade_model_case(lab, case, model.map(|m| &**m), total_weight),
        });
    }
    // The total comes from unrounded case scores, so 5 × 33.333… is 100, not 99.99.
    let total = round2(graded.iter().map(|(_, exact)| exact).sum());
    let cases: Vec<CaseReport> = graded.into_iter().map(|(c, _)| c).collect();
    let cancelled = options.cancel.is_cancelled();
    let notes = program_notes(program).iter().map(Note::of).collect();
    GradeReport {
        lab: lab.id.clone(),
        lab_version: lab.version,
        engine_version: ENGINE_VERSION.to_string(),
        language: program.language.as_str().to_string(),
        program_sha256: program.sha256_hex(),
        score: total,
        max_score: 100.0,
        passed: cases.iter().all(|c| c.passed),
        cases,
        cancelled,
        notes,
        model_sha256: model.map(|m| sha256_hex(&m.to_bytes())),
        model_kind: model.map(|m| m.kind().name().to_string()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A case that scores nothing because the submission was refused as a whole.
fn refused_case(name: &str, hidden: bool, weight: f64, total_weight: f64, why: &Text) -> (CaseReport, f64) {
    let mut report = CaseReport::unscored(name, hidden, round2(100.0 * weight / total_weight));
    report.feedback.push(why.clone());
    (report, 0.0)
}

impl CaseReport {
    /// A case with no score yet and nothing run: the start of a model case's
    /// report, or the whole report of a case a refused submission never reached.
    fn unscored(name: &str, hidden: bool, max_score: f64) -> CaseReport {
        CaseReport {
            name: name.to_string(),
            hidden,
            passed: false,
            score: 0.0,
            max_score,
            feedback: Vec::new(),
            run: None,
            checks: Vec::new(),
            replay: None,
            replay_bytes: None,
            evidence: None,
            metric: None,
        }
    }
}

/// Why a model case could not measure the model (the student's model, or
/// the lab's data).
fn metric_of(case: &ModelCase, model: &Model) -> Result<f64, Text> {
    let mut evaluations = Vec::new();
    for dir in &case.datasets {
        let ds = qiming_ai::Dataset::open(dir).map_err(|e| {
            Text::new(format!("本实验的数据集无法读取，请告诉老师：{}", e.zh_cn()), format!("This lab's dataset cannot be read; tell your teacher: {e}"))
        })?;
        let ev = qiming_ai::eval::evaluate(model, &ds).map_err(|e| {
            Text::new(format!("这个模型不能在本实验的数据上评估：{}", e.zh_cn()), format!("This model cannot be evaluated on this lab's data: {e}"))
        })?;
        evaluations.push(ev);
    }
    let k = model.labels().len();
    let mut pooled = vec![vec![0u64; k]; k];
    for ev in &evaluations {
        for (t, row) in ev.confusion.iter().enumerate() {
            for (p, n) in row.iter().enumerate() {
                pooled[t][p] += n;
            }
        }
    }
    let total: u64 = pooled.iter().flatten().sum();
    let value = match case.metric.kind.as_str() {
        "accuracy" => (0..k).map(|j| pooled[j][j]).sum::<u64>() as f64 / total.max(1) as f64,
        "macro_f1" => {
            // The mean over labels that occur in the data of 2PR / (P + R).
            let f1s: Vec<f64> = (0..k)
                .filter(|&j| pooled[j].iter().sum::<u64>() > 0)
                .map(|j| {
                    let tp = pooled[j][j] as f64;
                    let predicted: u64 = (0..k).map(|t| pooled[t][j]).sum();
                    let support: u64 = pooled[j].iter().sum();
                    let (p, r) = (tp / predicted.max(1) as f64, tp / support.max(1) as f64);
                    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
                })
                .collect();
            if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 }
        }
        // The smallest recall of any label in any listed dataset.
        _ => evaluations.iter().flat_map(|ev| ev.per_class.values().filter(|c| c.support > 0).map(|c| c.recall)).fold(1.0, f64::min),
    };
    Ok(value)
}

fn metric_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "accuracy" => ("准确率", "accuracy"),
        "macro_f1" => ("宏平均 F1", "macro-averaged F1"),
        _ => ("最差一组的召回率", "worst-group recall"),
    }
}

/// Grades one model case: the submitted model measured on the lab's datasets.
fn grade_model_case(lab: &Lab, case: &ModelCase, model: Option<&Model>, total_weight: f64) -> (CaseReport, f64) {
    let exact_max = 100.0 * case.weight / total_weight;
    let mut report = CaseReport::unscored(&case.name, case.hidden, round2(exact_max));
    let Some(model) = model else {
        report.feedback.push(no_model_text());
        return (report, 0.0);
    };
    let value = match metric_of(case, model) {
        Ok(v) => v,
        Err(why) => {
            report.feedback.push(why);
            return (report, 0.0);
        }
    };
    let m = &case.metric;
    let fraction = ((value - m.zero) / (m.full - m.zero)).clamp(0.0, 1.0);
    let exact = fraction * exact_max;
    report.score = round2(exact);
    report.passed = value >= m.full;
    report.metric = Some(MetricReport { kind: m.kind.clone(), value: (value * 10_000.0).round() / 10_000.0, full: m.full, zero: m.zero });
    let (zh, en) = metric_words(&m.kind);
    let seen = if case.hidden { ("在没见过的数据上", "on data it has never seen") } else { ("在这组数据上", "on this data") };
    report.feedback.push(if report.passed {
        Text::new(
            format!("模型{}的{zh}是 {value:.2}，达到了 {} 的要求。", seen.0, m.full),
            format!("Your model's {en} {} is {value:.2}, meeting the {} required.", seen.1, m.full),
        )
    } else {
        Text::new(
            format!("模型{}的{zh}是 {value:.2}，满分需要 {}，低于 {} 不得分。", seen.0, m.full, m.zero),
            format!("Your model's {en} {} is {value:.2}; full marks need {}, and {} or less earns nothing.", seen.1, m.full, m.zero),
        )
    });
    if !report.passed && case.hidden {
        report.feedback.push(lab.hidden_hint.clone());
    }
    (report, exact)
}

/// Notes on the source of a Rhai program (WebAssembly has none).
fn program_notes(program: &Program) -> Vec<Diagnostic> {
    match (program.language, std::str::from_utf8(&program.source)) {
        (Language::Rhai, Ok(source)) => qiming_runtime::lint(source),
        _ => Vec::new(),
    }
}

/// Whether any of the lab's checks reads printed output.
fn grades_output(lab: &Lab) -> bool {
    lab.checks.iter().any(|c| {
        matches!(
            c.kind,
            CheckKind::OutputMatches { .. } | CheckKind::OutputNumber { .. } | CheckKind::OutputLinesFraction { .. } | CheckKind::LearningCurve { .. }
        )
    })
}

/// What each limit means, for children: (zh-CN, en). The runtime's own
/// message, with the details, goes to teachers in `run.limit_message`.
fn limit_words(limit: LimitKind) -> (&'static str, &'static str) {
    match limit {
        LimitKind::ProgramSize => ("程序太长了", "the program is too long"),
        LimitKind::Memory => ("程序用的内存太多了", "the program used too much memory"),
        LimitKind::Table => ("程序的函数表太大了", "the program's function table grew too large"),
        LimitKind::Instances => ("程序创建的实例太多了", "the program created too many instances"),
        LimitKind::Stack => ("程序的栈用完了——递归是不是忘了结束条件？", "the program ran out of stack — is a recursion missing its stopping condition?"),
        LimitKind::CallDepth => {
            ("函数调用的层数太深了——递归是不是忘了结束条件？", "functions called each other too deeply — is a recursion missing its stopping condition?")
        }
        LimitKind::Variables => ("同时存在的变量太多了", "too many variables existed at once"),
        LimitKind::ExpressionDepth => ("程序嵌套得太深了", "the program is nested too deeply"),
        LimitKind::StringSize => ("字符串太长了", "a piece of text grew too long"),
        LimitKind::ArraySize => ("数组太大了", "an array grew too large"),
        LimitKind::MapSize => ("对象映射太大了", "a map grew too large"),
        LimitKind::Output => ("打印的内容太多了，超出的部分被截掉了", "it printed too much, and the rest of the output was cut"),
        LimitKind::CpuTime => (
            "程序做的计算太多了，用完了这次运行的计算时间——是不是有很费时的操作（比如在循环里反复排序）？",
            "the program did so much work that it used up the run's processor time — is something expensive (like sorting again and again in a loop) inside a loop?",
        ),
        LimitKind::WallClock => ("程序运行的真实时间太长了", "the program took too long in real time"),
    }
}

/// A diagnostic as one sentence: where, what is wrong, what to try.
fn diagnostic_text(d: &Diagnostic, lead_zh: &str, lead_en: &str) -> Text {
    let (at_zh, at_en) = match (d.line, d.column) {
        (Some(l), Some(c)) => (format!("第 {l} 行第 {c} 列："), format!("Line {l}, column {c}: ")),
        (Some(l), None) => (format!("第 {l} 行："), format!("Line {l}: ")),
        _ => (String::new(), String::new()),
    };
    let mut zh = format!("{lead_zh}{at_zh}{}", d.explanation.zh);
    let mut en = format!("{lead_en}{at_en}{}", d.explanation.en);
    if let Some(s) = &d.suggestion {
        let ends = zh.chars().last().is_some_and(|c| "。！？）”".contains(c));
        zh.push_str(if ends { "" } else { "。" });
        zh.push_str(&s.zh);
        en.push(' ');
        en.push_str(&s.en);
    }
    Text::new(zh, en)
}

fn outcome_text(outcome: &Outcome) -> Option<Text> {
    match outcome {
        Outcome::Finished | Outcome::TimeUp => None,
        Outcome::Cancelled => Some(Text::new("这次运行被停止了。", "This run was stopped.")),
        Outcome::Limit { limit, .. } => {
            let (zh, en) = limit_words(*limit);
            let zh_end = if zh.ends_with('？') { "" } else { "。" };
            let en_end = if en.ends_with('?') { "" } else { "." };
            Some(Text::new(format!("程序被停止了：{zh}{zh_end}"), format!("Your program was stopped: {en}{en_end}")))
        }
        Outcome::Error(e) => Some(match e.kind {
            ErrorKind::Compile | ErrorKind::Link => diagnostic_text(&e.diagnostic, "程序没能运行。", "Your program did not run. "),
            ErrorKind::Runtime => diagnostic_text(&e.diagnostic, "程序运行时出错停下了。", "Your program stopped with an error. "),
        }),
    }
}

/// Whether the program never started: it did not compile or link, or was refused before running.
fn never_ran(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Error(e) => e.kind != ErrorKind::Runtime,
        Outcome::Limit { limit, .. } => matches!(limit, LimitKind::ProgramSize | LimitKind::ExpressionDepth),
        _ => false,
    }
}

/// How far the robot's centre travelled (m).
fn travelled(track: &[[f64; 3]]) -> f64 {
    track.windows(2).map(|w| libm::hypot(w[1][0] - w[0][0], w[1][1] - w[0][1])).sum()
}

/// Below this, the robot did not move at all (noise and settling aside).
const NOT_MOVED_M: f64 = 0.01;

/// How a program runs in a case of `lab`: the lab's limits tightening `base`,
/// the robot settling after the program ends, the lab's end triggers. The
/// studio's Run button uses the same options, so what a student watches is the
/// run that gets graded.
pub fn lab_run_options(lab: &Lab, base: &Limits, seed: u64, cancel: qiming_runtime::Cancel) -> RunOptions {
    RunOptions { seed, cancel, limits: lab_limits(lab, base), replay: false, settle: true, end_when: crate::run::end_triggers(&lab.end_when), model: None }
}

/// Grades one case: its report, and its unrounded score (for the total).
fn grade_case(lab: &Lab, index: usize, program: &Program, model: Option<&Arc<Model>>, options: &GradeOptions, total_weight: f64) -> (CaseReport, f64) {
    let case = &lab.cases[index];
    let exact_max = 100.0 * case.weight / total_weight;
    let max_score = round2(exact_max);
    let seed = match (&options.hidden_secret, case.hidden) {
        (Some(secret), true) => hidden_seed(secret, &lab.id, &case.name, case.seed),
        _ => case.seed,
    };
    let mut run_options = lab_run_options(lab, &options.limits, seed, options.cancel.clone());
    run_options.replay = (options.replay_dir.is_some() || options.keep_replays) && (!case.hidden || options.record_hidden);
    run_options.model = model.map(|m| m.clone() as Arc<dyn Classifier>);
    let output_limit = run_options.limits.output_bytes;
    let run = run_program(program, &case.scenario, &run_options);
    let resolved = case.scenario.resolve(seed);
    let arena = Arena::new(&resolved);
    let evidence = Evidence {
        run: &run,
        scenario: &resolved,
        arena: &arena,
        expect_output: case.expect_output.as_deref(),
        expect_number: case.expect_number,
        optimal_steps: case.optimal_steps,
        laps: Default::default(),
    };

    let weight_sum: f64 = lab.checks.iter().map(|c| c.weight).sum();
    let mut base = 0.0;
    let mut penalty = 0.0;
    let mut cap: f64 = 1.0;
    let mut all_passed = true;
    let mut checks = Vec::new();
    for check in &lab.checks {
        let out = evaluate(&check.kind, &evidence);
        base += check.weight * out.score / weight_sum;
        penalty += out.penalty;
        if !out.passed {
            all_passed = false;
            if let Some(c) = out.cap {
                cap = cap.min(c);
            }
        }
        checks.push(CheckReport {
            code: check.kind.code().to_string(),
            passed: out.passed,
            score: round2(max_score * check.weight * out.score / weight_sum),
            max_score: round2(max_score * check.weight / weight_sum),
            measured: out.measured,
            hint: if out.passed { None } else { check.hint.clone() },
            feedback: out.feedback,
        });
    }
    let outcome = &run.report.outcome;
    // Printing too much is a debugging habit, not a failure, where output is not graded.
    let output_cut_only = matches!(outcome, Outcome::Limit { limit: LimitKind::Output, .. }) && !grades_output(lab);
    let run_failed = matches!(outcome, Outcome::Error(_) | Outcome::Limit { .. }) && !output_cut_only;
    if run_failed {
        cap = cap.min(FAILED_RUN_CAP);
        all_passed = false;
    }
    let did_not_run = never_ran(outcome);
    if did_not_run {
        cap = 0.0;
    }
    let fraction = (base * (1.0 - penalty.min(1.0))).min(cap).clamp(0.0, 1.0);
    let exact = fraction * exact_max;
    let score = round2(exact);
    let passed = all_passed && fraction >= 0.999;

    let never_moved = !did_not_run && !passed && travelled(&run.sim.track) < NOT_MOVED_M;
    let mut feedback: Vec<Text> = Vec::new();
    if did_not_run || never_moved {
        // One clear message: why nothing happened. Check-by-check advice would
        // describe a drive that never took place.
        feedback.push(match outcome_text(outcome) {
            Some(t) if !output_cut_only => t,
            _ => {
                let finished = matches!(outcome, Outcome::Finished);
                diagnostic_text(&qiming_runtime::never_moved(&program.source, finished), "", "")
            }
        });
        let (zh, en) = if did_not_run {
            ("程序没有运行，这一项没有检查。", "Your program did not run, so this was not checked.")
        } else {
            ("机器人没有动，这一项没有完成。", "Your robot did not move, so this was not done.")
        };
        for c in checks.iter_mut().filter(|c| !c.passed || did_not_run) {
            c.feedback = Text::new(zh, en);
            c.hint = None;
        }
    } else {
        if output_cut_only {
            feedback.push(Text::new(
                format!("打印的内容太多，超过 {output_limit} 字节的部分被截掉了。这个实验不检查打印的内容，所以不影响得分。"),
                format!("Your program printed too much: the output was cut at {output_limit} bytes. This lab does not grade printed output, so the score is not affected."),
            ));
        } else {
            feedback.extend(outcome_text(outcome));
        }
        if !passed {
            feedback.extend(program_notes(program).iter().map(|n| diagnostic_text(n, "", "")));
        }
        for c in &checks {
            if !c.passed {
                feedback.push(c.feedback.clone());
                if let Some(h) = &c.hint {
                    feedback.push(h.clone());
                }
            }
        }
    }
    if feedback.is_empty() {
        feedback.push(Text::new("全部检查都通过了，做得好！", "Every check passed — well done!"));
    }
    let name = format!("{}-{}.qreplay", lab.id, case.name);
    let replay_bytes = run.replay.as_ref().filter(|_| options.keep_replays).map(|r| r.to_bytes());
    let replay = match (&options.replay_dir, &run.replay) {
        // A replay that cannot be written is not the student's problem; the report says so.
        (Some(dir), Some(replay)) if !case.hidden => std::fs::write(dir.join(&name), replay.to_bytes()).ok().map(|_| name),
        (None, Some(_)) if replay_bytes.is_some() => Some(name),
        _ => None,
    };
    let r = &run.report;
    let (limit, limit_message, error) = match &r.outcome {
        Outcome::Limit { limit, message } => (Some(limit.as_str().to_string()), Some(message.clone()), None),
        Outcome::Error(e) => (
            None,
            None,
            Some(ErrorSummary {
                kind: e.kind.as_str().to_string(),
                message: e.message.clone(),
                line: e.line,
                column: e.column,
                code: e.diagnostic.code.to_string(),
                explanation: text(&e.diagnostic.explanation),
                suggestion: e.diagnostic.suggestion.as_ref().map(text),
            }),
        ),
        _ => (None, None, None),
    };
    let report = CaseReport {
        name: case.name.clone(),
        hidden: false,
        passed,
        score,
        max_score,
        feedback,
        run: Some(RunSummary {
            outcome: r.outcome.as_str().to_string(),
            limit,
            limit_message,
            error,
            sim_time: round2(run.sim.sim_time),
            collisions: run.sim.collisions,
            output: r.output.clone(),
            output_truncated: r.output_truncated,
        }),
        checks,
        replay,
        replay_bytes,
        evidence: None,
        metric: None,
    };
    if case.hidden {
        // The full report becomes evidence (when asked for); the report's own case is redacted.
        let full = CaseReport { hidden: true, ..report };
        // Nothing about the run leaves the grader: no outcome, output, error,
        // measurements or check details — only whether it passed.
        // A program that never ran fails every case the same way, so saying so
        // reveals nothing about the hidden scenario; anything else gets the lab's hint.
        let feedback = if passed {
            Text::new("隐藏测试通过。", "Hidden test passed.")
        } else if did_not_run {
            Text::new(
                "程序没能运行（它有错误），所以这个隐藏测试也没有通过。先改正练习测试里指出的错误。",
                "Your program did not run (it has an error), so this hidden test did not pass either. Fix the error shown in the practice tests first.",
            )
        } else {
            lab.hidden_hint.clone()
        };
        let report = CaseReport {
            name: case.name.clone(),
            hidden: true,
            passed,
            score,
            max_score,
            feedback: vec![feedback],
            run: None,
            checks: Vec::new(),
            replay: None,
            replay_bytes: None,
            evidence: options.record_hidden.then(|| Box::new(full)),
            metric: None,
        };
        return (report, exact);
    }
    (report, exact)
}

/// The limits a lab's runs get: the caller's, tightened by the lab's `[limits]`.
pub fn lab_limits(lab: &Lab, base: &Limits) -> Limits {
    let mut tight = base.clone();
    for (name, &value) in &lab.limits {
        let v = usize::try_from(value).unwrap_or(usize::MAX);
        match name.as_str() {
            "program_size" => {
                tight.program_bytes = v;
                tight.script_bytes = v;
            }
            "memory" => tight.memory_bytes = v,
            "table" => tight.table_elements = v,
            "stack" => tight.wasm_stack_bytes = v,
            "call_depth" => tight.call_depth = v,
            "variables" => tight.variables = v,
            "expression_depth" => tight.expression_depth = v,
            "string_size" => tight.string_bytes = v,
            "array_size" => tight.array_len = v,
            "map_size" => tight.map_len = v,
            "output" => tight.output_bytes = v,
            _ => {}
        }
    }
    tight.cpu_time = cpu_budget(lab);
    let mut limits = base.tightened(&tight);
    // Where output is not graded, a print in a loop must not change the run.
    limits.output_ends_run = grades_output(lab);
    limits
}
