//! Checks a lab against its own programs: references score 100, wrong and do-nothing programs below half.
//!
//! `qiming curriculum check` runs this over the whole catalogue, so a lab whose
//! grader cannot tell a right program from a wrong one never reaches a class.

use qiming_curriculum::{Lab, ProgramFile};
use qiming_runtime::{Language, Program};

use crate::Bundle;
use crate::grade::{GradeOptions, grade, grade_bundle};

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
    problems.extend(check_ai(lab, &options));
    problems
}

/// The AI parts of a lab: its model cases' datasets open and use only the
/// lab's labels; bundle references score 100 and carry a model whose
/// training dataset hash is recorded (models are committed, never retrained:
/// training is byte-identical only on the same machine and thread count);
/// bundle wrongs score below 50.
fn check_ai(lab: &Lab, options: &GradeOptions) -> Vec<String> {
    let mut problems = Vec::new();
    let toml = lab.dir.join("lab.toml").display().to_string();
    if let Some(spec) = &lab.model {
        for case in &lab.model_cases {
            for dir in &case.datasets {
                match qiming_ai::Dataset::open(dir) {
                    Err(e) => problems.push(format!("{toml}: model case {}: {e}", case.name)),
                    Ok(ds) => {
                        if let Some(extra) = ds.labels().iter().find(|l| !spec.labels.contains(l)) {
                            problems.push(format!(
                                "{toml}: model case {}: {} has the label {extra:?}, which [model] labels do not list",
                                case.name,
                                dir.display()
                            ));
                        }
                    }
                }
            }
        }
    }
    for dir in &lab.reference_bundles {
        let bundle = match Bundle::from_folder(dir) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{toml}: reference bundle {}: {e}", dir.display()));
                continue;
            }
        };
        match &bundle.model {
            None if !lab.model_cases.is_empty() || lab.model.is_some() => {
                problems.push(format!("{toml}: reference bundle {} has no model (.qmodel)", dir.display()));
            }
            Some(m) if !is_sha256(m.dataset_sha256()) => {
                problems.push(format!(
                    "{toml}: reference bundle {}: its model does not record its dataset's SHA-256 (train it with `qiming ai train`)",
                    dir.display()
                ));
            }
            _ => {}
        }
        let report = grade_bundle(lab, &bundle, options);
        if report.score < 100.0 {
            let failing: Vec<String> = report
                .cases
                .iter()
                .filter(|c| c.score < c.max_score)
                .map(|c| format!("{} ({}/{}: {})", c.name, c.score, c.max_score, c.feedback.first().map_or("", |f| f.en.as_str())))
                .collect();
            problems.push(format!("{toml}: reference bundle {} scores {} instead of 100; cases: {}", dir.display(), report.score, failing.join(", ")));
        }
    }
    for dir in &lab.wrong_bundles {
        match Bundle::from_folder(dir) {
            Err(e) => problems.push(format!("{toml}: known-wrong bundle {}: {e}", dir.display())),
            Ok(bundle) => {
                let report = grade_bundle(lab, &bundle, options);
                if report.score >= 50.0 {
                    problems.push(format!("{toml}: known-wrong bundle {} scores {} (must be below 50)", dir.display(), report.score));
                }
            }
        }
    }
    problems
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_curriculum_knows_every_model_kind() {
        let ours: Vec<&str> = qiming_ai::ModelKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(qiming_curriculum::lab::MODEL_KINDS, ours.as_slice());
        assert!(super::is_sha256(&"ab".repeat(32)) && !super::is_sha256(&"0".repeat(64)) && !super::is_sha256("abc"));
    }
}
