//! `qiming assemble`: automated test assembly (自动组卷) from a blueprint
//! over the item bank; prints the forms, or which constraint cannot be met
//! (exit code 2).

use std::path::PathBuf;
use std::process::ExitCode;

use qiming_curriculum::Catalogue;
use qiming_grading::assembly::{Assembly, Blueprint, Infeasible, Outcome, assemble};

#[derive(Debug, clap::Args)]
pub struct AssembleArgs {
    /// The blueprint (TOML; docs/assessment-assembly.md).
    pub blueprint: PathBuf,
    /// The catalogue whose item bank is used (default: the shipped curriculum).
    #[arg(long)]
    pub curriculum: Option<PathBuf>,
    /// Parallel forms to assemble (overrides the blueprint's `forms`).
    #[arg(long)]
    pub forms: Option<u32>,
    /// Print one JSON object (the forms or the infeasibility report).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: AssembleArgs) -> anyhow::Result<ExitCode> {
    let dir = args.curriculum.unwrap_or_else(qiming_curriculum::find_dir);
    let cat = Catalogue::open(&dir)?;
    let items = &cat.items.items;
    let mut bp = match Blueprint::from_file(&args.blueprint, items) {
        Ok(bp) => bp,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            anyhow::bail!("{} problem(s) in the blueprint {}", errors.len(), args.blueprint.display());
        }
    };
    if let Some(f) = args.forms {
        anyhow::ensure!(f >= 1, "--forms must be at least 1");
        bp.forms = f;
    }
    let outcome = assemble(&bp, items)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        match &outcome {
            Outcome::Assembled(a) => print_assembly(a),
            Outcome::Infeasible(i) => print_infeasible(i),
        }
    }
    Ok(match outcome {
        Outcome::Assembled(_) => ExitCode::SUCCESS,
        Outcome::Infeasible(_) => ExitCode::from(2),
    })
}

fn literacy_name(id: &str) -> String {
    qiming_curriculum::meta::LITERACIES.iter().find(|l| l.0 == id).map_or_else(|| id.to_string(), |l| format!("{} {}", l.1, l.0))
}

fn print_assembly(a: &Assembly) {
    println!(
        "pool / 题库: {} eligible of {} (status excluded {}, exposure excluded {}) / 可用 {} 题",
        a.pool.eligible, a.pool.considered, a.pool.excluded_status, a.pool.excluded_exposure, a.pool.eligible
    );
    println!("solver / 求解器: {}", qiming_grading::assembly::SOLVER);
    for f in &a.forms {
        let s = &f.summary;
        println!("\nform {} / 第 {} 卷: {} items / 题, {:.1} min / 分钟", f.form, f.form, s.length, f64::from(s.time_seconds) / 60.0);
        println!("  items / 题目 (easy → hard / 由易到难):");
        for chunk in f.items.chunks(5) {
            let marked: Vec<String> = chunk.iter().map(|id| if f.anchors.contains(id) { format!("{id}*") } else { id.clone() }).collect();
            println!("    {}", marked.join("  "));
        }
        let join = |m: &std::collections::BTreeMap<String, u32>, name: &dyn Fn(&str) -> String| {
            m.iter().map(|(k, n)| format!("{} {n}", name(k))).collect::<Vec<_>>().join(", ")
        };
        println!("  literacy / 素养: {}", join(&s.literacy, &literacy_name));
        println!("  module / 模块: {}", join(&s.module, &|k| k.to_string()));
        println!("  difficulty / 难度: {}", join(&s.difficulty, &|k| k.to_string()));
        println!("  type / 题型: {}", join(&s.kind, &|k| k.to_string()));
        let info: Vec<String> = s
            .information
            .iter()
            .map(|i| match i.min {
                Some(m) => format!("θ={}: {:.3} (≥ {m})", i.theta, i.value),
                None => format!("θ={}: {:.3}", i.theta, i.value),
            })
            .collect();
        println!("  information / 信息量: {}", info.join(", "));
    }
    if !a.anchors.is_empty() {
        println!("\nanchors / 锚题 (* above, on every form / 每份卷都有): {}", a.anchors.join(" "));
    }
}

fn print_infeasible(i: &Infeasible) {
    println!("cannot assemble / 无法组卷 (pool / 可用题: {} items / 题):", i.pool.eligible);
    for p in &i.problems {
        println!("  [{}] {}", p.code, p.constraint);
        println!("    {}", p.text.zh);
        println!("    {}", p.text.en);
    }
}
