//! `qiming assess report` (assessment reports from student to city as JSON, PDF or XLSX) and
//! `qiming assess simulate-region` (a synthetic region to demonstrate and test them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use qiming_curriculum::Catalogue;
use qiming_grading::irt::{CalibrationFile, Levels};

use crate::report::input::{self, Input, Population};
use crate::report::simulate::{RegionOptions, simulate_region, to_csv};
use crate::report::{Context, Lang, ReportLevel, build, layout, pdf, score, xlsx};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// student, class, school, district, city or annual.
    #[arg(long, value_parser = ["student", "class", "school", "district", "city", "annual"])]
    pub level: String,
    /// The input as one JSON file (docs/assessment-reports.md).
    #[arg(long, conflicts_with_all = ["takers", "responses"])]
    pub input: Option<PathBuf>,
    /// Takers CSV: id,name,class,school,district,city,locality,gender,year,population.
    #[arg(long, requires = "responses")]
    pub takers: Option<PathBuf>,
    /// Scores CSV in the `qiming assess calibrate` format (student id, then one column per item).
    #[arg(long, requires = "takers")]
    pub responses: Option<PathBuf>,
    /// Answers CSV (student,item,answer) for the mistake notebook.
    #[arg(long, requires = "takers")]
    pub answers: Option<PathBuf>,
    /// Failed lab checks CSV (student,lab,check,feedback_zh,feedback_en).
    #[arg(long, requires = "takers")]
    pub lab_failures: Option<PathBuf>,
    /// Last year's input as one JSON file (or give two years in the input itself).
    #[arg(long)]
    pub previous_input: Option<PathBuf>,
    /// Last year's takers CSV (with --previous-responses).
    #[arg(long, requires = "previous_responses")]
    pub previous_takers: Option<PathBuf>,
    /// Last year's scores CSV.
    #[arg(long, requires = "previous_takers")]
    pub previous_responses: Option<PathBuf>,
    /// Item parameters (`qiming assess calibrate --json` output; repeat for several files).
    /// Without it every literacy is calibrated on the input.
    #[arg(long)]
    pub calibration: Vec<PathBuf>,
    /// The taker id (student) or the group: its full path `city/district/school[/class]` or its
    /// last part when unique. Optional for city and annual when the input has one city.
    #[arg(long)]
    pub id: Option<String>,
    /// students or teachers (group reports; a student report follows the taker).
    #[arg(long, default_value = "students", value_parser = ["students", "teachers"])]
    pub population: String,
    /// The report year (default: the latest in the input); growth is against the year before.
    #[arg(long)]
    pub year: Option<i32>,
    #[arg(long, default_value = "zh-CN", value_parser = ["zh-CN", "en"])]
    pub lang: String,
    /// json, pdf or xlsx (default: from --out's extension).
    #[arg(long, value_parser = ["json", "pdf", "xlsx"])]
    pub format: Option<String>,
    /// Where to write the report (`-` for JSON on standard output).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the k-means profiles.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The four cut scores between the five levels.
    #[arg(long, value_delimiter = ',', default_values_t = Levels::default().cuts)]
    pub cuts: Vec<f64>,
    /// A font with Chinese characters for the PDF (default: the first one found).
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// The catalogue whose item bank and lessons are used (default: the shipped curriculum).
    #[arg(long)]
    pub curriculum: Option<PathBuf>,
    /// Worker threads for calibration (results are identical for any number).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct SimulateRegionArgs {
    /// The folder to write into: input.json, or takers.csv, responses.csv, answers.csv, lab-failures.csv.
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The latest year.
    #[arg(long, default_value_t = 2026)]
    pub year: i32,
    /// 1 or 2 years.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
    pub years: u32,
    /// json (one input.json) or csv (four files).
    #[arg(long, default_value = "csv", value_parser = ["json", "csv"])]
    pub format: String,
    /// The catalogue whose item bank is used (default: the shipped curriculum).
    #[arg(long)]
    pub curriculum: Option<PathBuf>,
}

fn catalogue(dir: Option<&Path>) -> anyhow::Result<Catalogue> {
    let dir = dir.map_or_else(qiming_curriculum::find_dir, Path::to_path_buf);
    Ok(Catalogue::open(&dir)?)
}

fn read_input(
    json: Option<&Path>,
    takers: Option<&Path>,
    responses: Option<&Path>,
    answers: Option<&Path>,
    labs: Option<&Path>,
    cat: &Catalogue,
) -> anyhow::Result<Option<Input>> {
    Ok(match (json, takers, responses) {
        (Some(j), _, _) => Some(input::read_json(j, &cat.items)?),
        (None, Some(t), Some(r)) => Some(input::read_csv(t, r, answers, labs, &cat.items)?),
        _ => None,
    })
}

pub fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let cat = catalogue(args.curriculum.as_deref())?;
    let Some(mut data) =
        read_input(args.input.as_deref(), args.takers.as_deref(), args.responses.as_deref(), args.answers.as_deref(), args.lab_failures.as_deref(), &cat)?
    else {
        bail!("give the input: --input FILE.json, or --takers FILE.csv --responses FILE.csv");
    };
    if let Some(previous) = read_input(args.previous_input.as_deref(), args.previous_takers.as_deref(), args.previous_responses.as_deref(), None, None, &cat)? {
        data.takers.extend(previous.takers);
        input::validate(&data, &cat.items, "the input and last year's input together")?;
    }
    let mut calibrations = Vec::new();
    for path in &args.calibration {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file: CalibrationFile = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a calibration file (the JSON `qiming assess calibrate --json` writes)", path.display()))?;
        calibrations.push(file);
    }
    let cuts: [f64; 4] = args.cuts.as_slice().try_into().context("--cuts takes four scores")?;
    let levels = Levels::new(cuts).context("--cuts must increase")?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let scored = score(&data, &cat.items, &calibrations, &levels, threads)?;
    let lang = Lang::parse(&args.lang).unwrap_or(Lang::Zh);
    let cx = Context::new(&data, &cat, &scored, lang, args.year, args.seed);
    let level = ReportLevel::parse(&args.level).context("unknown --level")?;
    let population = Population::parse(&args.population).unwrap_or(Population::Students);
    let report = build(&cx, level, args.id.as_deref(), population)?;
    let format = match &args.format {
        Some(f) => f.clone(),
        None => match args.out.extension().and_then(|e| e.to_str()) {
            Some("pdf") => "pdf".into(),
            Some("xlsx") => "xlsx".into(),
            _ => "json".into(),
        },
    };
    let bytes = match format.as_str() {
        "pdf" => {
            let (bytes, missing) = pdf::render(&layout::doc(&report), args.font.as_deref())?;
            if !missing.is_empty() {
                eprintln!("warning: no font has {:?}; printed as □", missing.iter().collect::<String>());
            }
            bytes
        }
        "xlsx" => xlsx::render(&layout::doc(&report))?,
        _ => report.to_json().into_bytes(),
    };
    if args.out.as_os_str() == "-" {
        if format != "json" {
            bail!("only JSON goes to standard output; give --out FILE.{format}");
        }
        print!("{}", String::from_utf8_lossy(&bytes));
    } else {
        std::fs::write(&args.out, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
        eprintln!("wrote {} ({format}, {} bytes)", args.out.display(), bytes.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_simulate_region(args: SimulateRegionArgs) -> anyhow::Result<ExitCode> {
    let cat = catalogue(args.curriculum.as_deref())?;
    let options = RegionOptions { seed: args.seed, year: args.year, years: args.years, ..RegionOptions::default() };
    let data = simulate_region(&cat, &options);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let write = |name: &str, text: &str| -> anyhow::Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    if args.format == "json" {
        write("input.json", &(serde_json::to_string_pretty(&data)? + "\n"))?;
    } else {
        let (takers, responses, answers, labs) = to_csv(&data);
        write("takers.csv", &takers)?;
        write("responses.csv", &responses)?;
        write("answers.csv", &answers)?;
        write("lab-failures.csv", &labs)?;
    }
    let students = data.takers.iter().filter(|t| t.population == Population::Students).count();
    eprintln!(
        "wrote {} takers ({students} students, {} teachers) of {} year(s) to {}",
        data.takers.len(),
        data.takers.len() - students,
        args.years,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
