//! `qiming assess`: item calibration, simulated data, adaptive-test simulation, DIF and linking for the assessment (issue 10).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use qiming_grading::irt::{
    CalibrationFile, CalibrationOptions, CatOptions, Levels, LinkMethod, Model, ReportingScale, Responses, SimulationOptions, calibrate,
    file::{ItemEntry, PersonEntry, round},
    link, mantel_haenszel,
    score::LEVEL_NAMES,
    simulate, simulate_cat,
};

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    #[command(subcommand)]
    pub command: AssessCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AssessCommand {
    /// Calibrate items from a response matrix (CSV: student id, then one column per item; empty = not presented).
    Calibrate(CalibrateArgs),
    /// Simulate an adaptive test on a calibrated item bank (the JSON `calibrate --json` wrote).
    SimulateCat(SimulateCatArgs),
    /// Write a simulated response matrix with known parameters (for tests and benchmarks).
    Simulate(SimulateArgs),
    /// Differential item functioning between two groups (Mantel–Haenszel, ETS A/B/C).
    Dif(DifArgs),
    /// Put a new calibration on a base calibration's scale through their common (anchor) items.
    Link(LinkArgs),
    /// Assessment reports from student to city, teachers' reports and the annual monitoring report (JSON, PDF, XLSX).
    Report(Box<crate::report_cmd::ReportArgs>),
    /// Write a synthetic region (districts, schools, classes, students and teachers, one or two years) for the reports.
    SimulateRegion(crate::report_cmd::SimulateRegionArgs),
}

fn parse_model(s: &str) -> Result<Model, String> {
    Model::parse(s).ok_or_else(|| format!("unknown model {s:?}: use rasch, 2pl, 3pl or gpcm"))
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The response matrix (CSV with a header).
    pub responses: PathBuf,
    /// rasch (a = 1), 2pl, 3pl (Beta(5, 17) prior on c) or gpcm (items scored 0..k).
    #[arg(long, value_parser = parse_model)]
    pub model: Model,
    /// Print one JSON object: {"model", "items": [{"id", "a", "b", "c"?, "steps"?, "infit", "outfit", "n"}], "persons": [{"id", "theta", "se", "answered", "score", "level"}], "iterations", "converged", …}.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: every core); results are identical for any number.
    #[arg(long)]
    pub threads: Option<usize>,
    /// The four cut scores between the five proficiency levels on the reporting scale (mean 500, SD 100).
    #[arg(long, value_delimiter = ',', default_values_t = Levels::default().cuts)]
    pub cuts: Vec<f64>,
    /// Stop EM when no parameter moves more than this in a cycle.
    #[arg(long, default_value_t = 1e-4)]
    pub tolerance: f64,
    /// EM cycles at most.
    #[arg(long, default_value_t = 500)]
    pub max_iterations: usize,
    /// Quadrature points over ±6 for the EM.
    #[arg(long, default_value_t = 41)]
    pub quadrature: usize,
    /// Also compute item parameter standard errors (cross-product information, up to 400 parameters).
    #[arg(long)]
    pub item_se: bool,
}

#[derive(Debug, clap::Args)]
pub struct SimulateCatArgs {
    /// The item bank: a calibration JSON (items may carry a "category" for content balancing).
    #[arg(long)]
    pub bank: PathBuf,
    /// Simulated students, θ ~ N(0, 1).
    #[arg(long, default_value_t = 1000)]
    pub students: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop when the posterior SD reaches this.
    #[arg(long, default_value_t = 0.3)]
    pub se: f64,
    /// Stop after this many items.
    #[arg(long, default_value_t = 40)]
    pub max_items: usize,
    /// Randomesque exposure control: choose at random among the n most informative items.
    #[arg(long, default_value_t = 5)]
    pub randomesque: usize,
    /// A CSV of item id → content category (header, then `item,category` rows); overrides the bank's categories.
    #[arg(long)]
    pub content: Option<PathBuf>,
    /// Print one JSON object (the report, plus "mean_selection_latency_us").
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Where to write the response matrix (CSV).
    pub out: PathBuf,
    #[arg(long, value_parser = parse_model)]
    pub model: Model,
    #[arg(long)]
    pub students: usize,
    #[arg(long)]
    pub items: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the true parameters here (calibration-file JSON: items, and persons with their true θ).
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// GPCM: highest score of a polytomous item (every fourth item stays dichotomous).
    #[arg(long, default_value_t = 3)]
    pub max_score: usize,
    /// Share of cells left empty (items not presented), at random.
    #[arg(long, default_value_t = 0.0)]
    pub missing: f64,
    /// Mean of the students' θ (another cohort than the N(0, 1) reference, e.g. to try linking).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub ability_mean: f64,
    /// SD of the students' θ.
    #[arg(long, default_value_t = 1.0)]
    pub ability_sd: f64,
}

#[derive(Debug, clap::Args)]
pub struct DifArgs {
    /// The response matrix (CSV, as for calibrate).
    pub responses: PathBuf,
    /// CSV with a header: student id, group label (exactly two labels).
    #[arg(long)]
    pub groups: PathBuf,
    /// The reference group's label (default: the first label in sorted order).
    #[arg(long)]
    pub reference: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The base calibration (its scale is kept).
    pub base: PathBuf,
    /// The new calibration, moved onto the base scale.
    pub new: PathBuf,
    /// mean-sigma or stocking-lord.
    #[arg(long, default_value = "stocking-lord", value_parser = ["mean-sigma", "stocking-lord"])]
    pub method: String,
    /// Print {"link": {"method", "slope", "intercept", "anchors"}, "calibration": the new calibration on the base scale}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: AssessArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AssessCommand::Calibrate(a) => run_calibrate(a),
        AssessCommand::SimulateCat(a) => run_simulate_cat(a),
        AssessCommand::Simulate(a) => run_simulate(a),
        AssessCommand::Dif(a) => run_dif(a),
        AssessCommand::Link(a) => run_link(a),
        AssessCommand::Report(a) => crate::report_cmd::run_report(*a),
        AssessCommand::SimulateRegion(a) => crate::report_cmd::run_simulate_region(a),
    }
}

fn read_responses(path: &Path) -> anyhow::Result<Responses> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Responses::parse_csv(&bytes).with_context(|| path.display().to_string())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn threads(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

fn run_calibrate(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let responses = read_responses(&args.responses)?;
    let cuts: [f64; 4] = args.cuts.as_slice().try_into().context("--cuts takes four scores")?;
    let levels = Levels::new(cuts).context("--cuts must increase")?;
    let options = CalibrationOptions {
        threads: threads(args.threads),
        tolerance: args.tolerance,
        max_iterations: args.max_iterations,
        quadrature_points: args.quadrature,
        standard_errors: args.item_se,
        ..CalibrationOptions::new(args.model)
    };
    let cal = calibrate(&responses, &options).with_context(|| args.responses.display().to_string())?;
    let scale = ReportingScale::calibration_cohort();
    let file = CalibrationFile::from_calibration(&cal, &scale, &levels);
    if args.json {
        print_json(&file)?;
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", calibration_table(&file, &levels));
    Ok(ExitCode::SUCCESS)
}

/// Mean squares outside this band are flagged (a common rule for productive measurement).
const FIT_BAND: (f64, f64) = (0.7, 1.3);

fn calibration_table(file: &CalibrationFile, levels: &Levels) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let model = file.model;
    let _ = writeln!(
        s,
        "{} calibration: {} items, {} students; EM {} after {} cycles (log-likelihood {:.2})",
        model.name().to_uppercase(),
        file.items.len(),
        file.persons.len(),
        if file.converged == Some(true) { "converged" } else { "did NOT converge" },
        file.iterations.unwrap_or(0),
        file.log_likelihood.unwrap_or(f64::NAN)
    );
    let width = file.items.iter().map(|i| i.id.chars().count()).max().unwrap_or(4).max(4);
    let _ = write!(s, "\n{:<width$}  {:>7}  {:>7}  {:>7}", "item", "n", "a", "b");
    if model == Model::ThreePl {
        let _ = write!(s, "  {:>6}", "c");
    }
    let with_se = file.items.iter().any(|i| i.se.is_some());
    if with_se {
        let _ = write!(s, "  {:>6}  {:>6}", "se(a)", "se(b)");
        if model == Model::ThreePl {
            let _ = write!(s, "  {:>6}", "se(c)");
        }
    }
    let _ = write!(s, "  {:>6}  {:>6}", "infit", "outfit");
    if model == Model::Gpcm {
        let _ = write!(s, "  steps");
    }
    s.push('\n');
    let mut misfit = 0;
    for it in &file.items {
        let (infit, outfit) = (it.infit.unwrap_or(f64::NAN), it.outfit.unwrap_or(f64::NAN));
        let flag = !(FIT_BAND.0..=FIT_BAND.1).contains(&infit) || !(FIT_BAND.0..=FIT_BAND.1).contains(&outfit);
        misfit += usize::from(flag);
        let _ = write!(s, "{:<width$}  {:>7}  {:>7.3}  {:>7.3}", it.id, it.n.unwrap_or(0), it.a, it.b);
        if let Some(c) = it.c {
            let _ = write!(s, "  {c:>6.3}");
        }
        if let Some(se) = &it.se {
            let _ = write!(s, "  {:>6}  {:>6.3}", se.a.map_or("-".to_string(), |v| format!("{v:.3}")), se.b);
            if let Some(c) = se.c {
                let _ = write!(s, "  {c:>6.3}");
            }
        } else if with_se {
            let _ = write!(s, "  {:>6}  {:>6}", "-", "-");
        }
        let _ = write!(s, "  {infit:>6.2}  {outfit:>6.2}{}", if flag { "*" } else { " " });
        if let Some(steps) = &it.steps {
            let _ = write!(s, "  {}", steps.iter().map(|b| format!("{b:.2}")).collect::<Vec<_>>().join(" "));
        }
        s.push('\n');
    }
    if misfit > 0 {
        let _ = writeln!(s, "* mean square outside {:.1}–{:.1}: look at the item's content and distractors", FIT_BAND.0, FIT_BAND.1);
    }
    let n = file.persons.len().max(1) as f64;
    let mean = file.persons.iter().map(|p| p.theta).sum::<f64>() / n;
    let sd = (file.persons.iter().map(|p| (p.theta - mean) * (p.theta - mean)).sum::<f64>() / n).sqrt();
    let mean_se = file.persons.iter().filter_map(|p| p.se).sum::<f64>() / n;
    let _ = writeln!(
        s,
        "\n{} item parameters; AIC {:.1}, BIC {:.1} (smaller fits better, on the same data)",
        file.parameters.unwrap_or(0),
        file.aic.unwrap_or(f64::NAN),
        file.bic.unwrap_or(f64::NAN)
    );
    let _ = writeln!(
        s,
        "students: mean θ {mean:.3} (SD of EAPs {sd:.3}), mean SE {mean_se:.3}, marginal reliability {:.3}; reporting scale 500 + 100·θ",
        file.reliability.unwrap_or(f64::NAN)
    );
    let mut counts = [0usize; 5];
    for p in &file.persons {
        counts[usize::from(p.level.unwrap_or(1)) - 1] += 1;
    }
    for (l, ((zh, en), count)) in LEVEL_NAMES.iter().zip(counts).enumerate() {
        let range = match l {
            0 => format!("< {}", levels.cuts[0]),
            4 => format!("≥ {}", levels.cuts[3]),
            _ => format!("{}–{}", levels.cuts[l - 1], levels.cuts[l]),
        };
        let _ = writeln!(s, "  level {} {zh} {en:<12} {range:>11}  {count:>7} ({:.1}%)", l + 1, 100.0 * count as f64 / n);
    }
    for e in &file.excluded {
        let _ = writeln!(s, "excluded {}: {}", e.id, e.reason);
    }
    for w in &file.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let _ = writeln!(s, "(--json gives every student's θ, SE, scale score and level)");
    s
}

fn read_bank(path: &Path) -> anyhow::Result<CalibrationFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: CalibrationFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a calibration file (the JSON `qiming assess calibrate --json` writes)", path.display()))?;
    if file.items.is_empty() {
        bail!("{}: the calibration has no items", path.display());
    }
    for it in &file.items {
        let item = it.item(file.model);
        if !(item.a > 0.0 && item.a.is_finite()) || item.steps.iter().any(|b| !b.is_finite()) || !(0.0..1.0).contains(&item.c) {
            bail!("{}: item {}: parameters out of range (a must be positive, c in 0..1)", path.display(), it.id);
        }
    }
    Ok(file)
}

fn run_simulate_cat(args: SimulateCatArgs) -> anyhow::Result<ExitCode> {
    let file = read_bank(&args.bank)?;
    let mut bank = file.bank();
    if let Some(content) = &args.content {
        let text = std::fs::read(content).with_context(|| format!("cannot read {}", content.display()))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_slice());
        let mut map = std::collections::BTreeMap::new();
        for (n, record) in reader.records().enumerate() {
            let record = record.with_context(|| content.display().to_string())?;
            let (Some(id), Some(cat)) = (record.get(0), record.get(1)) else {
                bail!("{}: row {}: expected `item,category`", content.display(), n + 2);
            };
            map.insert(id.to_string(), cat.to_string());
        }
        for (id, _, cat) in &mut bank {
            *cat = Some(map.get(id).cloned().with_context(|| format!("{}: no category for item {id}", content.display()))?);
        }
    }
    anyhow::ensure!(args.se > 0.0, "--se must be positive");
    anyhow::ensure!(args.max_items > 0, "--max-items must be at least 1");
    let options = CatOptions {
        students: args.students,
        seed: args.seed,
        se_target: args.se,
        max_items: args.max_items,
        randomesque: args.randomesque,
        ..CatOptions::new()
    };
    let mut spent = Duration::ZERO;
    let report = simulate_cat(&bank, &options, |select| {
        let start = Instant::now();
        let chosen = select();
        spent += start.elapsed();
        chosen
    });
    let latency_us = spent.as_secs_f64() * 1e6 / report.selections.max(1) as f64;
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["model"] = serde_json::to_value(file.model)?;
        value["mean_selection_latency_us"] = serde_json::json!(round(latency_us, 3));
        print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "CAT on a {}-item {} bank, {} simulated students (seed {}): stop at SE ≤ {} or {} items, randomesque {}",
        report.bank_size,
        file.model.name().to_uppercase(),
        report.students,
        args.seed,
        report.se_target,
        report.max_items,
        report.randomesque
    );
    println!(
        "  test length: mean {:.2} (min {}, max {}); {:.1}% reached the SE target",
        report.mean_length,
        report.min_length,
        report.max_length,
        100.0 * report.reached_se_target
    );
    println!("  ability: RMSE {:.3}, bias {:+.3}, mean SE {:.3}", report.rmse, report.bias, report.mean_se);
    match (report.fixed_length_for_equal_se, report.fixed_rmse) {
        (Some(l), Some(r)) => println!("  a fixed form needs {l} items for the same mean SE (RMSE {r:.3})"),
        _ => println!("  no fixed form from this bank reaches the same mean SE"),
    }
    println!("  exposure: max {:.1}% ({}), {} items never used", 100.0 * report.max_exposure, report.max_exposure_item, report.unused_items);
    if report.content.len() > 1 {
        for c in &report.content {
            println!("  content {}: {:.1}% of items given (bank {:.1}%)", c.category, 100.0 * c.administered, 100.0 * c.target);
        }
    }
    println!("  item selection: {latency_us:.2} µs on average over {} selections", report.selections);
    Ok(ExitCode::SUCCESS)
}

fn run_simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.students > 0 && args.items > 0, "--students and --items must be at least 1");
    anyhow::ensure!((0.0..1.0).contains(&args.missing), "--missing must be in 0..1");
    anyhow::ensure!(args.ability_sd > 0.0 && args.ability_mean.is_finite(), "--ability-sd must be positive");
    let options = SimulationOptions {
        max_score: args.max_score,
        missing: args.missing,
        ability_mean: args.ability_mean,
        ability_sd: args.ability_sd,
        ..SimulationOptions::new(args.model, args.students, args.items, args.seed)
    };
    let (responses, items, thetas) = simulate(&options);
    std::fs::write(&args.out, responses.to_csv()).with_context(|| format!("cannot write {}", args.out.display()))?;
    if let Some(truth) = &args.truth {
        let file = CalibrationFile {
            model: args.model,
            items: responses.items.iter().zip(&items).map(|(id, it)| ItemEntry::new(id, args.model, it)).collect(),
            persons: responses
                .persons
                .iter()
                .zip(&thetas)
                .map(|(id, &t)| PersonEntry { id: id.clone(), theta: round(t, 6), se: None, answered: None, score: None, level: None })
                .collect(),
            iterations: None,
            converged: None,
            log_likelihood: None,
            parameters: None,
            aic: None,
            bic: None,
            reliability: None,
            excluded: Vec::new(),
            warnings: Vec::new(),
            scale: None,
        };
        std::fs::write(truth, serde_json::to_string_pretty(&file)? + "\n").with_context(|| format!("cannot write {}", truth.display()))?;
    }
    eprintln!("wrote {} students × {} items ({}) to {}", args.students, args.items, args.model.name(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn run_dif(args: DifArgs) -> anyhow::Result<ExitCode> {
    let responses = read_responses(&args.responses)?;
    let text = std::fs::read(&args.groups).with_context(|| format!("cannot read {}", args.groups.display()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(text.as_slice());
    let mut group_of = std::collections::BTreeMap::new();
    for record in reader.records() {
        let record = record.with_context(|| args.groups.display().to_string())?;
        let row = record.position().map_or(0, |p| p.line());
        let (Some(id), Some(group)) = (record.get(0), record.get(1)) else {
            bail!("{}: row {row}: expected `student,group`", args.groups.display());
        };
        if group.is_empty() {
            continue;
        }
        if group_of.insert(id.to_string(), group.to_string()).is_some() {
            bail!("{}: row {row}: student {id:?} appears twice", args.groups.display());
        }
    }
    let labels: std::collections::BTreeSet<&String> = group_of.values().collect();
    if labels.len() != 2 {
        bail!("{}: DIF compares exactly two groups; found {}: {:?}", args.groups.display(), labels.len(), labels);
    }
    let labels: Vec<String> = labels.into_iter().cloned().collect();
    let reference = args.reference.clone().unwrap_or_else(|| labels[0].clone());
    if !labels.contains(&reference) {
        bail!("--reference {reference:?} is not a group in {}: the groups are {:?}", args.groups.display(), labels);
    }
    let focal = labels.iter().find(|l| **l != reference).cloned().unwrap_or_default();
    let membership: Vec<Option<bool>> = responses.persons.iter().map(|id| group_of.get(id).map(|g| *g == focal)).collect();
    let report = mantel_haenszel(&responses, &membership, &reference, &focal);
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Mantel–Haenszel DIF, reference {:?} vs focal {:?}: {} students matched on total score ({} left out: no group or an item not presented)",
        report.reference, report.focal, report.students, report.left_out
    );
    let width = report.items.iter().map(|i| i.id.chars().count()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:>8}  {:>7}  {:>6}  {:>8}  {:>7}  class", "item", "odds", "delta", "se", "chi2", "p");
    let opt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
    for it in &report.items {
        println!(
            "{:<width$}  {:>8}  {:>7}  {:>6}  {:>8.2}  {:>7.4}  {}{}",
            it.id,
            opt(it.odds_ratio, 3),
            opt(it.delta, 2),
            opt(it.se, 2),
            it.chi_square,
            it.p_value,
            it.class,
            if it.favours == "neither" { String::new() } else { format!(" (favours {})", it.favours) }
        );
    }
    if !report.not_analysed.is_empty() {
        println!("not analysed (polytomous): {}", report.not_analysed.join(", "));
    }
    println!("A: negligible; B: moderate; C: large — review B and C items with content experts before dropping any.");
    Ok(ExitCode::SUCCESS)
}

fn run_link(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let base = read_bank(&args.base)?;
    let new = read_bank(&args.new)?;
    let method = if args.method == "mean-sigma" { LinkMethod::MeanSigma } else { LinkMethod::StockingLord };
    let strip = |f: &CalibrationFile| f.bank().into_iter().map(|(id, it, _)| (id, it)).collect::<Vec<_>>();
    let l = link(&strip(&base), &strip(&new), method)?;
    let mut moved = new.clone();
    for (entry, (_, it, _)) in moved.items.iter_mut().zip(new.bank()) {
        let linked = ItemEntry::new(&entry.id, new.model, &l.item(&it));
        (entry.a, entry.b, entry.c, entry.steps) = (linked.a, linked.b, linked.c, linked.steps);
        // Standard errors scale with their parameters (the linking constants are taken as known).
        if let Some(se) = &mut entry.se {
            se.a = se.a.map(|v| round(v / l.slope, 6));
            se.b = round(se.b * l.slope, 6);
            se.steps = se.steps.as_ref().map(|s| s.iter().map(|v| round(v * l.slope, 6)).collect());
        }
    }
    let scale = ReportingScale::calibration_cohort();
    let levels = new.scale.as_ref().and_then(|s| s.cuts.as_slice().try_into().ok()).and_then(Levels::new).unwrap_or_default();
    for p in &mut moved.persons {
        p.theta = round(l.theta(p.theta), 4);
        p.se = p.se.map(|se| round(se * l.slope, 4));
        if p.score.is_some() {
            let score = round(scale.score(p.theta), 1);
            p.score = Some(score);
            p.level = Some(levels.level(score));
        }
    }
    if args.json {
        print_json(&serde_json::json!({
            "link": { "method": l.method, "slope": round(l.slope, 6), "intercept": round(l.intercept, 6), "anchors": l.anchors },
            "calibration": moved,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} linking through {} anchor items: θ_base = {:.4} · θ_new {:+.4}", args.method, l.anchors.len(), l.slope, l.intercept);
    println!("anchors: {}", l.anchors.join(", "));
    if l.anchors.len() < 5 {
        println!("warning: fewer than 5 anchors; the constants rest on very few items");
    }
    println!("(--json gives the new calibration on the base scale)");
    Ok(ExitCode::SUCCESS)
}
