//! Grading a submission against a lab: run every case, evaluate its checks,
//! and build the grade report (stable JSON, hidden cases reveal nothing).
//!
//! Scoring: a lab is worth 100 points, split between cases by weight. A case's
//! fraction is the weighted mean of its checks' scores, minus collision
//! penalties, limited by the caps of failed checks; a run that ends in `error`
//! or `limit` is capped at half its points. Cases run in parallel, one per
//! thread; the result does not depend on the order they finish in.

use std::collections::BTreeMap;

use qiming_curriculum::{Lab, Text};
use qiming_runtime::{LimitKind, Limits, Outcome, Program};
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
}

/// How the run of a visible case ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSummary>,
    pub sim_time: f64,
    pub collisions: u64,
    pub output: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorSummary {
    pub kind: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
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

/// Grades `program` on every case of `lab`.
pub fn grade(lab: &Lab, program: &Program, options: &GradeOptions) -> GradeReport {
    let total_weight: f64 = lab.cases.iter().map(|c| c.weight).sum();
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
                            done.push((i, grade_case(lab, i, program, options, total_weight)));
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
    let graded: Vec<(CaseReport, f64)> = reports.into_iter().map(|r| r.expect("every case graded")).collect();
    // The total comes from unrounded case scores, so 5 × 33.333… is 100, not 99.99.
    let total = round2(graded.iter().map(|(_, exact)| exact).sum());
    let cases: Vec<CaseReport> = graded.into_iter().map(|(c, _)| c).collect();
    let cancelled = options.cancel.is_cancelled();
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
    }
}

/// What each limit means, for children, in Chinese (the runtime's own
/// messages, with the details, are in English).
fn limit_zh(limit: LimitKind) -> &'static str {
    match limit {
        LimitKind::ProgramSize => "程序太长了",
        LimitKind::Memory => "程序用的内存太多了",
        LimitKind::Table => "程序的函数表太大了",
        LimitKind::Instances => "程序创建的实例太多了",
        LimitKind::Stack => "程序的栈用完了——递归是不是忘了结束条件？",
        LimitKind::CallDepth => "函数调用的层数太深了——递归是不是忘了结束条件？",
        LimitKind::Variables => "同时存在的变量太多了",
        LimitKind::ExpressionDepth => "程序嵌套得太深了",
        LimitKind::StringSize => "字符串太长了",
        LimitKind::ArraySize => "数组太大了",
        LimitKind::MapSize => "对象映射太大了",
        LimitKind::Output => "打印的内容太多了",
        LimitKind::CpuTime => "程序用掉的计算时间太多了",
        LimitKind::WallClock => "程序运行的真实时间太长了",
    }
}

fn outcome_text(outcome: &Outcome) -> Option<Text> {
    match outcome {
        Outcome::Finished | Outcome::TimeUp => None,
        Outcome::Cancelled => Some(Text::new("这次运行被停止了。", "This run was stopped.")),
        Outcome::Limit { limit, message } => Some(Text::new(
            format!("程序被停止了：{}（{}：{message}）", limit_zh(*limit), limit.as_str()),
            format!("Your program was stopped by the {} limit: {message}", limit.as_str()),
        )),
        Outcome::Error(e) => {
            let at_zh = e.line.map_or(String::new(), |l| format!("第 {l} 行"));
            let at_en = e.line.map_or(String::new(), |l| format!(" at line {l}"));
            let kind_zh = match e.kind {
                qiming_runtime::ErrorKind::Compile => "程序有语法错误，无法运行",
                qiming_runtime::ErrorKind::Link => "程序使用了不存在的功能",
                qiming_runtime::ErrorKind::Runtime => "程序运行时出错了",
            };
            Some(Text::new(format!("{kind_zh}（{at_zh}）：{}", e.message).replace("（）", ""), format!("Your program stopped with an error{at_en}: {}", e.message)))
        }
    }
}

/// Grades one case: its report, and its unrounded score (for the total).
fn grade_case(lab: &Lab, index: usize, program: &Program, options: &GradeOptions, total_weight: f64) -> (CaseReport, f64) {
    let case = &lab.cases[index];
    let exact_max = 100.0 * case.weight / total_weight;
    let max_score = round2(exact_max);
    let seed = match (&options.hidden_secret, case.hidden) {
        (Some(secret), true) => hidden_seed(secret, &lab.id, &case.name, case.seed),
        _ => case.seed,
    };
    let run_options = RunOptions {
        seed,
        cancel: options.cancel.clone(),
        limits: lab_limits(lab, &options.limits),
        replay: (options.replay_dir.is_some() || options.keep_replays) && !case.hidden,
        settle: true,
        end_when: crate::run::end_triggers(&lab.end_when),
    };
    let run = run_program(program, &case.scenario, &run_options);
    let resolved = case.scenario.resolve(seed);
    let arena = Arena::new(&resolved);
    let evidence = Evidence {
        run: &run,
        scenario: &resolved,
        arena: &arena,
        expect_output: case.expect_output.as_deref(),
        expect_number: case.expect_number,
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
    let run_failed = matches!(run.report.outcome, Outcome::Error(_) | Outcome::Limit { .. });
    if run_failed {
        cap = cap.min(FAILED_RUN_CAP);
        all_passed = false;
    }
    let fraction = (base * (1.0 - penalty.min(1.0))).min(cap).clamp(0.0, 1.0);
    let exact = fraction * exact_max;
    let score = round2(exact);
    let passed = all_passed && fraction >= 0.999;

    if case.hidden {
        // Nothing about the run leaves the grader: no outcome, output, error,
        // measurements or check details — only whether it passed.
        let feedback = if passed { Text::new("隐藏测试通过。", "Hidden test passed.") } else { lab.hidden_hint.clone() };
        let report = CaseReport { name: case.name.clone(), hidden: true, passed, score, max_score, feedback: vec![feedback], run: None, checks: Vec::new(), replay: None, replay_bytes: None };
        return (report, exact);
    }

    let mut feedback: Vec<Text> = outcome_text(&run.report.outcome).into_iter().collect();
    for c in &checks {
        if !c.passed {
            feedback.push(c.feedback.clone());
            if let Some(h) = &c.hint {
                feedback.push(h.clone());
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
        (Some(dir), Some(replay)) => std::fs::write(dir.join(&name), replay.to_bytes()).ok().map(|_| name),
        (None, Some(_)) if replay_bytes.is_some() => Some(name),
        _ => None,
    };
    let r = &run.report;
    let (limit, error) = match &r.outcome {
        Outcome::Limit { limit, .. } => (Some(limit.as_str().to_string()), None),
        Outcome::Error(e) => (
            None,
            Some(ErrorSummary {
                kind: e.kind.as_str().to_string(),
                message: e.message.clone(),
                line: e.line,
                column: e.column,
            }),
        ),
        _ => (None, None),
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
            error,
            sim_time: round2(run.sim.sim_time),
            collisions: run.sim.collisions,
            output: r.output.clone(),
        }),
        checks,
        replay,
        replay_bytes,
    };
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
    base.tightened(&tight)
}
