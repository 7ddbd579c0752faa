//! Checks a lab against its own programs: references score 100, wrong and do-nothing programs below half.
//!
//! `qiming curriculum check` runs this over the whole catalogue, so a lab whose
//! grader cannot tell a right program from a wrong one never reaches a class.

use qiming_curriculum::{Lab, ProgramFile};
use qiming_runtime::{Language, Program};

use crate::grade::{GradeOptions, grade};

fn program_of(file: &ProgramFile) -> Program {
    Program { language: Language::from_name(&file.language).unwrap_or(Language::Rhai), source: file.source.clone() }
}

/// Runs the grader over a lab's own programs; returns the problems found,
/// each naming the lab file and the program.
pub fn check_lab(lab: &Lab) -> Vec<String> {
    let mut problems = Vec::new();
    let options = GradeOptions::default();
    let toml = lab.dir.join("lab.toml").display().to_string();
    for r in &lab.reference {
        let report = grade(lab, &program_of(r), &options);
        if report.score < 100.0 {
            let failing: Vec<String> =
                report.cases.iter().filter(|c| c.score < c.max_score).map(|c| format!("{} ({}/{})", c.name, c.score, c.max_score)).collect();
            problems.push(format!("{toml}: reference solution {} scores {} instead of 100; cases: {}", r.path.display(), report.score, failing.join(", ")));
        }
    }
    for lang in &lab.languages {
        let Some(language) = Language::from_name(lang) else { continue };
        let report = grade(lab, &Program::do_nothing(language), &options);
        if report.score >= 50.0 {
            problems.push(format!("{toml}: a do-nothing {lang} program scores {} (must be below 50)", report.score));
        }
    }
    for w in &lab.wrong {
        let report = grade(lab, &program_of(w), &options);
        if report.score >= 50.0 {
            problems.push(format!("{toml}: known-wrong solution {} scores {} (must be below 50)", w.path.display(), report.score));
        }
    }
    problems
}
