//! The student (or teacher) report: score, level and descriptor per literacy, strengths and
//! weaknesses against the taker's own profile and the region, their profile, and the mistake
//! notebook (错题本): every item not fully right with their answer, the right answer, the
//! explanation and the lessons to revisit, and the lab checks they did not pass.

use qiming_curriculum::item::{ItemKind, join_blocks, text_blocks};
use qiming_curriculum::meta::LITERACIES;
use serde::Serialize;

use super::group::{mean_of, members_at};
use super::input::Taker;
use super::scoring::LITERACY_COUNT;
use super::text::{Lang, level_descriptor, level_name, literacy_name};
use super::{Context, GroupLevel, ReportError};

/// A literacy is a strength (weakness) when it is this many scale points above (below) the
/// taker's own mean over the literacies, or significantly above (below) the region's mean.
pub const OWN_MARGIN: f64 = 25.0;

#[derive(Clone, Debug, Serialize)]
pub struct StudentReport {
    pub kind: &'static str,
    pub lang: Lang,
    pub title: String,
    pub year: i32,
    pub population: &'static str,
    pub id: String,
    pub name: String,
    /// School / class, as the taker's teachers know them.
    pub school: String,
    pub class: String,
    pub literacies: Vec<StudentLiteracy>,
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileOf>,
    pub mistakes: Vec<Mistake>,
    pub lab_failures: Vec<LabFailureEntry>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StudentLiteracy {
    pub literacy: &'static str,
    pub name: &'static str,
    /// None when the taker answered no item of this literacy.
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<u8>,
    pub level_name: Option<&'static str>,
    pub descriptor: Option<String>,
    /// The city's mean for the same population and year.
    pub region_mean: Option<f64>,
    /// Score minus the taker's own mean over the literacies.
    pub vs_own: Option<f64>,
    /// Score minus the region's mean.
    pub vs_region: Option<f64>,
    /// `above_region`, `below_region` or `near_region` (difference beyond 1.96 SE).
    pub compared: Option<&'static str>,
    pub compared_text: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProfileOf {
    pub profile: usize,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Mistake {
    pub item: String,
    pub literacy: &'static str,
    pub points: u32,
    pub max: u32,
    pub stem: String,
    pub answer: String,
    pub correct_answer: String,
    pub explanation: String,
    pub lessons: Vec<LessonRef>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LessonRef {
    pub lesson: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabFailureEntry {
    pub lab: String,
    pub lab_title: String,
    pub check: String,
    pub feedback: String,
}

/// The report for taker `id` (of the context's year).
pub fn student_report(cx: &Context<'_>, id: &str) -> Result<StudentReport, ReportError> {
    let input = cx.input;
    let Some(i) = input.takers.iter().position(|t| t.id == id && t.year == cx.year) else {
        let known: Vec<&str> = input.takers.iter().filter(|t| t.year == cx.year).take(5).map(|t| t.id.as_str()).collect();
        return Err(ReportError::NotFound {
            level: "taker".into(),
            id: id.into(),
            population: "takers".into(),
            year: cx.year,
            known: known.join(", ") + ", …",
        });
    };
    let taker = &input.takers[i];
    let lang = cx.lang;
    let city = members_at(cx, GroupLevel::City, std::slice::from_ref(&taker.city), taker.population, cx.year);
    let scores = cx.scored.scores[i];
    let given: Vec<f64> = scores.iter().flatten().map(|s| s.scale).collect();
    let own_mean = (!given.is_empty()).then(|| given.iter().sum::<f64>() / given.len() as f64);
    let mut literacies = Vec::new();
    let (mut strengths, mut weaknesses) = (Vec::new(), Vec::new());
    for l in 0..LITERACY_COUNT {
        let name = literacy_name(lang, l);
        let region_mean = mean_of(cx, &city, l);
        let s = scores[l];
        let vs_own = s.and_then(|s| own_mean.map(|m| round1(s.scale - m)));
        let vs_region = s.and_then(|s| region_mean.map(|m| round1(s.scale - m)));
        let compared = s.and_then(|s| {
            vs_region.map(|d| {
                if d > 1.96 * s.scale_se {
                    "above_region"
                } else if d < -1.96 * s.scale_se {
                    "below_region"
                } else {
                    "near_region"
                }
            })
        });
        if s.is_some() {
            let strong_own = vs_own.is_some_and(|d| d >= OWN_MARGIN);
            let weak_own = vs_own.is_some_and(|d| d <= -OWN_MARGIN);
            let mut why = Vec::new();
            if strong_own {
                why.push(cx.t("above_own"));
            }
            if compared == Some("above_region") {
                why.push(cx.t("above_region"));
            }
            if !why.is_empty() {
                strengths.push(sentence(lang, name, &why));
            }
            let mut why = Vec::new();
            if weak_own {
                why.push(cx.t("below_own"));
            }
            if compared == Some("below_region") {
                why.push(cx.t("below_region"));
            }
            if !why.is_empty() {
                weaknesses.push(sentence(lang, name, &why));
            }
        }
        literacies.push(StudentLiteracy {
            literacy: LITERACIES[l].0,
            name,
            score: s.map(|s| s.scale),
            se: s.map(|s| s.scale_se),
            level: s.map(|s| s.level),
            level_name: s.map(|s| level_name(lang, s.level)),
            descriptor: s.map(|s| level_descriptor(lang, s.level, l)),
            region_mean,
            vs_own,
            vs_region,
            compared,
            compared_text: compared.map(|c| cx.t(c)),
        });
    }
    if strengths.is_empty() {
        strengths.push(cx.t("no_strengths").to_string());
    }
    if weaknesses.is_empty() {
        weaknesses.push(cx.t("no_weaknesses").to_string());
    }
    let profile = cx.profile_of[i].and_then(|p| {
        let profiles = cx.profiles.get(&taker.population)?;
        let (name, description) = super::profiles::describe(lang, &profiles.centroids[p]);
        Some(ProfileOf { profile: p + 1, name, description })
    });
    Ok(StudentReport {
        kind: "student",
        lang,
        title: cx.t(if taker.population == super::Population::Teachers { "teacher_report" } else { "student_report" }).to_string(),
        year: cx.year,
        population: taker.population.name(),
        id: taker.id.clone(),
        name: taker.name.clone(),
        school: taker.school.clone(),
        class: taker.class.clone(),
        literacies,
        strengths,
        weaknesses,
        profile,
        mistakes: mistakes(cx, taker),
        lab_failures: taker
            .lab_failures
            .iter()
            .map(|f| LabFailureEntry {
                lab: f.lab.clone(),
                lab_title: cx.catalogue.lab(&f.lab).map_or_else(|| f.lab.clone(), |l| lang.of(&l.title)),
                check: f.check.clone(),
                feedback: lang.of(&f.feedback),
            })
            .collect(),
        notes: vec![cx.t("scale_note").to_string()],
    })
}

fn sentence(lang: Lang, name: &str, why: &[&str]) -> String {
    match lang {
        Lang::Zh => format!("{name}：{}", why.join("，")),
        Lang::En => format!("{name}: {}", why.join("; ")),
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Every item not fully right, in literacy then item order.
fn mistakes(cx: &Context<'_>, taker: &Taker) -> Vec<Mistake> {
    let lang = cx.lang;
    let bank = &cx.catalogue.items;
    let mut out: Vec<(usize, Mistake)> = Vec::new();
    for r in &taker.responses {
        let Some(item) = bank.get(&r.item) else { continue };
        let max = item.max_points();
        if r.points >= max {
            continue;
        }
        let l = LITERACIES.iter().position(|x| x.0 == item.literacy).unwrap_or(0);
        // The item's knowledge points; an item without any points to lessons of its module, else of its literacy.
        let knowledge: Vec<String> = if item.knowledge.is_empty() {
            let lab_lessons = || cx.catalogue.lessons.iter().filter(|x| x.kind != "primer");
            let same_module: Vec<String> = lab_lessons().filter(|x| Some(&x.module) == item.module.as_ref()).take(2).map(|x| x.id.clone()).collect();
            if same_module.is_empty() {
                lab_lessons().filter(|x| x.literacies.contains(&item.literacy)).take(2).map(|x| x.id.clone()).collect()
            } else {
                same_module
            }
        } else {
            item.knowledge.clone()
        };
        let lessons = knowledge
            .iter()
            .map(|k| {
                let (lesson, anchor) = match k.split_once('#') {
                    Some((l, a)) => (l.to_string(), Some(a.to_string())),
                    None => (k.to_string(), None),
                };
                let title = cx.catalogue.lessons.iter().find(|x| x.id == lesson).map_or_else(|| lesson.clone(), |x| lang.of(&x.title));
                LessonRef { lesson, anchor, title }
            })
            .collect();
        out.push((
            l,
            Mistake {
                item: item.id.clone(),
                literacy: literacy_name(lang, l),
                points: r.points,
                max,
                stem: plain(&lang.of(&item.stem)),
                answer: r.answer.as_deref().map_or_else(|| cx.t("no_answer").to_string(), |a| shown_answer(lang, &item.kind, a)),
                correct_answer: correct_answer(cx, &item.kind),
                explanation: plain(&lang.of(&item.explanation)),
                lessons,
            },
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.item.cmp(&b.1.item)));
    out.into_iter().map(|(_, m)| m).collect()
}

/// A stem or explanation as plain text (code blocks kept, fences dropped).
fn plain(text: &str) -> String {
    text_blocks(text).map_or_else(|_| text.to_string(), |b| join_blocks(&b))
}

fn option_text(lang: Lang, options: &[qiming_curriculum::item::Choice], id: &str) -> String {
    options.iter().find(|o| o.id == id).map_or_else(|| id.to_string(), |o| format!("{}. {}", o.id, lang.of(&o.text)))
}

/// The taker's answer, with option ids spelled out when the answer is a list of them.
fn shown_answer(lang: Lang, kind: &ItemKind, answer: &str) -> String {
    let options = match kind {
        ItemKind::Single { options, .. } | ItemKind::Multiple { options, .. } | ItemKind::Ordering { options, .. } => options,
        ItemKind::TrueFalse { .. } => {
            return match answer.trim() {
                "true" => super::text::t(lang, "true").to_string(),
                "false" => super::text::t(lang, "false").to_string(),
                other => other.to_string(),
            };
        }
        _ => return answer.to_string(),
    };
    let ids: Vec<&str> = answer.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !ids.is_empty() && ids.iter().all(|id| options.iter().any(|o| o.id == *id)) {
        let sep = if matches!(kind, ItemKind::Ordering { .. }) { " → " } else { lang.pick("；", "; ") };
        ids.iter().map(|id| option_text(lang, options, id)).collect::<Vec<_>>().join(sep)
    } else {
        answer.to_string()
    }
}

/// The right answer, in words.
fn correct_answer(cx: &Context<'_>, kind: &ItemKind) -> String {
    let lang = cx.lang;
    match kind {
        ItemKind::Single { options, answer } => option_text(lang, options, answer),
        ItemKind::Multiple { options, answer } => answer.iter().map(|a| option_text(lang, options, a)).collect::<Vec<_>>().join(lang.pick("；", "; ")),
        ItemKind::TrueFalse { answer } => cx.t(if *answer { "true" } else { "false" }).to_string(),
        ItemKind::Numeric { answer, unit, .. } => format!("{answer}{}", unit.as_ref().map_or_else(String::new, |u| format!(" {}", lang.of(u)))),
        ItemKind::Text { accept } => match lang {
            Lang::Zh => accept.zh.join(" / "),
            Lang::En => accept.en.join(" / "),
        },
        ItemKind::Ordering { options, answer } => answer.iter().map(|a| option_text(lang, options, a)).collect::<Vec<_>>().join(" → "),
        ItemKind::Matching { options, targets, answer } => answer
            .iter()
            .map(|(o, tg)| format!("{} ↔ {}", option_text(lang, options, o), option_text(lang, targets, tg)))
            .collect::<Vec<_>>()
            .join(lang.pick("；", "; ")),
        ItemKind::Performance { lab, .. } => {
            let title = cx.catalogue.lab(lab).map_or_else(|| lab.clone(), |l| lang.of(&l.title));
            format!("{}{}{title}", cx.t("full_marks_lab"), lang.pick("：", ": "))
        }
    }
}
