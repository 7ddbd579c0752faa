//! Synthetic assessment data for a region (a city of districts, schools and classes, students and
//! teachers, one or two years), so the reports can be demonstrated and tested without real
//! pupils: abilities with school, urban/rural and year effects, responses drawn from the bank
//! items' own prior parameters, wrong answers to show in the mistake notebook and failed lab
//! checks. Seeded: the same options give the same files.

use qiming_curriculum::item::ItemKind;
use qiming_curriculum::meta::LITERACIES;
use qiming_curriculum::{Catalogue, Text};
use rand_core::{RngCore, SeedableRng};

use super::input::{INPUT_FORMAT_VERSION, Input, ItemResponse, LabFailure, Locality, Population, Taker};

/// What to simulate.
#[derive(Clone, Debug)]
pub struct RegionOptions {
    pub seed: u64,
    /// The latest year.
    pub year: i32,
    /// 1 or 2 years (the earlier one a year before, with lower abilities).
    pub years: u32,
    /// The students' grade band (items come from it).
    pub band: String,
    /// Items per literacy on the students' form.
    pub items_per_literacy: usize,
}

impl Default for RegionOptions {
    fn default() -> Self {
        RegionOptions { seed: 1, year: 2026, years: 2, band: "5-6".into(), items_per_literacy: 10 }
    }
}

struct Rng(rand_pcg::Pcg64Mcg);

impl Rng {
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

const CITY: &str = "示范市";
/// (district, urban?) — the county is rural.
const DISTRICTS: [(&str, bool); 4] = [("东湖区", true), ("西山区", true), ("南江区", true), ("北岭县", false)];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"];
const GIVEN: &[&str] = &[
    "子涵", "欣怡", "浩然", "梓轩", "雨桐", "宇航", "思源", "佳怡", "俊杰", "诗涵", "明轩", "一诺", "晨阳", "若曦", "博文", "雅琪", "天佑", "可馨", "子墨",
    "嘉懿",
];

/// The region's schools: (district index, school name, rural?, classes, students per class).
fn schools() -> Vec<(usize, String, bool, usize)> {
    let mut out = Vec::new();
    for (d, (district, urban)) in DISTRICTS.iter().enumerate() {
        let short: String = district.chars().take(2).collect();
        for (s, kind) in ["第一小学", "实验小学", "第二小学"].iter().enumerate() {
            // One school in each urban district is a rural school on its edge.
            let rural = !urban || s == 2;
            out.push((d, format!("{short}{kind}"), rural, 2));
        }
    }
    // A small rural teaching point: one class of 9 pupils, below the reporting threshold.
    out.push((3, "北岭县山口教学点".to_string(), true, 1));
    out
}

/// Simulates a region's takers and responses.
pub fn simulate_region(catalogue: &Catalogue, options: &RegionOptions) -> Input {
    let mut rng = Rng(rand_pcg::Pcg64Mcg::seed_from_u64(options.seed));
    let bank = &catalogue.items;
    let mut student_items = Vec::new();
    let mut teacher_items = Vec::new();
    for (lit, _, _) in LITERACIES {
        let mut s: Vec<&qiming_curriculum::Item> = bank
            .population("student")
            .filter(|i| i.literacy == *lit && i.grade_band.as_deref() == Some(options.band.as_str()) && i.status != "retired")
            .collect();
        s.sort_by(|a, b| a.id.cmp(&b.id));
        student_items.extend(s.into_iter().take(options.items_per_literacy));
        let mut t: Vec<&qiming_curriculum::Item> = bank.population("teacher").filter(|i| i.literacy == *lit && i.status != "retired").collect();
        t.sort_by(|a, b| a.id.cmp(&b.id));
        teacher_items.extend(t.into_iter().take(15));
    }
    let labs: Vec<&qiming_curriculum::Lab> = catalogue.labs.iter().filter(|l| !l.checks.is_empty()).collect();
    let school_list = schools();
    let school_effect: Vec<f64> = school_list.iter().map(|_| 0.3 * rng.normal()).collect();
    let mut takers = Vec::new();
    let first_year = options.year - options.years.clamp(1, 2) as i32 + 1;
    for year in first_year..=options.year {
        let year_effect = if year == options.year { 0.0 } else { -0.15 };
        let mut n = 0usize;
        for (k, (d, school, rural, classes)) in school_list.iter().enumerate() {
            let (district, _) = DISTRICTS[*d];
            let locality = if *rural { Locality::Rural } else { Locality::Urban };
            let base = school_effect[k] + if *rural { -0.25 } else { 0.1 } + year_effect;
            for c in 0..*classes {
                let class = format!("五年级({})班", c + 1);
                let size = if school.ends_with("教学点") { 9 } else { 24 + rng.below(17) };
                for _ in 0..size {
                    n += 1;
                    let g = base + 0.8 * rng.normal();
                    let theta: [f64; 4] = std::array::from_fn(|_| g + 0.55 * rng.normal());
                    let mut t = person(&mut rng, format!("{year}-s{n:04}"), class.clone(), school, district, locality, year, Population::Students);
                    t.responses = respond(&mut rng, &student_items, &theta);
                    // Pupils weak in computational thinking often fail a lab check.
                    if theta[1] < -0.6 && !labs.is_empty() && rng.uniform() < 0.6 {
                        let lab = labs[rng.below(labs.len())];
                        let check = &lab.checks[rng.below(lab.checks.len())];
                        let feedback = check.hint.clone().unwrap_or_else(|| {
                            Text::new(
                                "程序没有通过这一项检查：对照实验要求，逐步检查机器人的动作。",
                                "Your program did not pass this check: compare the robot's moves with the lab's task step by step.",
                            )
                        });
                        t.lab_failures.push(LabFailure { lab: lab.id.clone(), check: check.kind.code().to_string(), feedback });
                    }
                    takers.push(t);
                }
            }
            // Teachers: 10 to 15 per school (4 at the teaching point).
            let teachers = if school.ends_with("教学点") { 4 } else { 10 + rng.below(6) };
            for _ in 0..teachers {
                n += 1;
                let g = 0.5 * school_effect[k] + if *rural { -0.2 } else { 0.05 } + year_effect + 0.9 * rng.normal();
                let theta: [f64; 4] = std::array::from_fn(|_| g + 0.45 * rng.normal());
                let mut t = person(&mut rng, format!("{year}-t{n:04}"), String::new(), school, district, locality, year, Population::Teachers);
                t.responses = respond(&mut rng, &teacher_items, &theta);
                takers.push(t);
            }
        }
    }
    Input { format_version: INPUT_FORMAT_VERSION, takers }
}

#[allow(clippy::too_many_arguments)]
fn person(rng: &mut Rng, id: String, class: String, school: &str, district: &str, locality: Locality, year: i32, population: Population) -> Taker {
    let name = format!("{}{}", SURNAMES[rng.below(SURNAMES.len())], GIVEN[rng.below(GIVEN.len())]);
    let u = rng.uniform();
    let gender = if u < 0.03 {
        None
    } else if u < 0.515 {
        Some("f".to_string())
    } else {
        Some("m".to_string())
    };
    Taker {
        id,
        name,
        class,
        school: school.to_string(),
        district: district.to_string(),
        city: CITY.to_string(),
        locality,
        gender,
        year,
        population,
        responses: Vec::new(),
        lab_failures: Vec::new(),
    }
}

/// Draws a response to each item from its prior parameters (2PL, or GPCM steps around the
/// difficulty for partial-credit items) at the taker's θ on the item's literacy.
fn respond(rng: &mut Rng, items: &[&qiming_curriculum::Item], theta: &[f64; 4]) -> Vec<ItemResponse> {
    let mut out = Vec::new();
    for item in items {
        let l = LITERACIES.iter().position(|x| x.0 == item.literacy).unwrap_or(0);
        let max = item.max_points();
        let a = item.discrimination.unwrap_or(1.0);
        let steps: Vec<f64> = (0..max).map(|v| item.difficulty + 0.6 * (f64::from(v) - f64::from(max - 1) / 2.0)).collect();
        let irt = qiming_grading::irt::Item { a, steps, c: item.guessing.unwrap_or(0.0) };
        let mut p = vec![0.0; max as usize + 1];
        irt.probs(theta[l], &mut p);
        let u = rng.uniform();
        let mut acc = 0.0;
        let mut points = max;
        for (k, pk) in p.iter().enumerate() {
            acc += pk;
            if u < acc {
                points = k as u32;
                break;
            }
        }
        let answer = if points < max { wrong_answer(rng, &item.kind) } else { None };
        out.push(ItemResponse { item: item.id.clone(), points, max: None, answer });
    }
    out
}

/// A plausible wrong answer, as a learner would have given it.
fn wrong_answer(rng: &mut Rng, kind: &ItemKind) -> Option<String> {
    match kind {
        ItemKind::Single { options, answer } => {
            let wrong: Vec<&str> = options.iter().map(|o| o.id.as_str()).filter(|id| id != answer).collect();
            wrong.get(rng.below(wrong.len())).map(|s| s.to_string())
        }
        // A right option with a wrong one: no credit under the bank's rule.
        ItemKind::Multiple { options, answer } => {
            let wrong = options.iter().find(|o| !answer.contains(&o.id))?;
            Some(format!("{},{}", answer.first()?, wrong.id))
        }
        ItemKind::TrueFalse { answer } => Some((!answer).to_string()),
        ItemKind::Numeric { answer, .. } => Some(format!("{}", answer + 1.0 + rng.below(3) as f64)),
        ItemKind::Ordering { answer, .. } => Some(answer.iter().rev().cloned().collect::<Vec<_>>().join(",")),
        ItemKind::Text { .. } | ItemKind::Matching { .. } | ItemKind::Performance { .. } => None,
    }
}

/// The input as CSV files: takers, the response matrix (the `calibrate` format), answers and
/// lab failures.
pub fn to_csv(input: &Input) -> (String, String, String, String) {
    let mut takers = String::from("id,name,class,school,district,city,locality,gender,year,population\n");
    let mut items: Vec<&str> = input.takers.iter().flat_map(|t| t.responses.iter().map(|r| r.item.as_str())).collect();
    items.sort();
    items.dedup();
    let mut responses = String::from("student");
    for i in &items {
        responses.push(',');
        responses.push_str(i);
    }
    responses.push('\n');
    let mut answers = String::from("student,item,answer\n");
    let mut labs = String::from("student,lab,check,feedback_zh,feedback_en\n");
    let q = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    for t in &input.takers {
        let locality = match t.locality {
            Locality::Urban => "urban",
            Locality::Rural => "rural",
            Locality::Unknown => "unknown",
        };
        takers.push_str(&format!(
            "{},{},{},{},{},{},{locality},{},{},{}\n",
            q(&t.id),
            q(&t.name),
            q(&t.class),
            q(&t.school),
            q(&t.district),
            q(&t.city),
            t.gender.as_deref().unwrap_or(""),
            t.year,
            t.population.name()
        ));
        responses.push_str(&q(&t.id));
        for i in &items {
            responses.push(',');
            if let Some(r) = t.responses.iter().find(|r| r.item == *i) {
                responses.push_str(&r.points.to_string());
            }
        }
        responses.push('\n');
        for r in &t.responses {
            if let Some(a) = &r.answer {
                answers.push_str(&format!("{},{},{}\n", q(&t.id), q(&r.item), q(a)));
            }
        }
        for f in &t.lab_failures {
            labs.push_str(&format!("{},{},{},{},{}\n", q(&t.id), q(&f.lab), q(&f.check), q(&f.feedback.zh), q(&f.feedback.en)));
        }
    }
    (takers, responses, answers, labs)
}
