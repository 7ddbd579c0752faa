//! Scenario files: the shipped ones load, bad ones are rejected with file, line and reason.

use qiming_sim::{Scenario, ScenarioError};

use crate::support::repo;

fn invalid(text: &str) -> (usize, String) {
    match Scenario::parse(text, "bad.toml") {
        Err(ScenarioError::Invalid { path, line, message, .. }) => {
            assert_eq!(path, "bad.toml");
            (line, message)
        }
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("scenario should have been rejected:\n{text}"),
    }
}

const GOOD: &str = r#"format_version = 1
name = "t"
duration = 10.0

[arena]
size = [2.0, 2.0]

[robot]
x = 1.0
y = 1.0
"#;

#[test]
fn shipped_scenarios_load() {
    for stem in ["empty", "wall", "line-loop", "maze"] {
        let s = Scenario::load(repo().join(format!("sim/scenarios/{stem}.toml"))).unwrap();
        assert_eq!(s.name, stem);
    }
    let empty = Scenario::load(repo().join("sim/scenarios/empty.toml")).unwrap().resolve(0);
    assert_eq!(empty.duration, 30.0);
}

#[test]
fn unknown_keys_are_errors_with_their_line() {
    let (line, message) = invalid(&format!("{GOOD}speed = 3\n"));
    assert_eq!(line, 11);
    assert!(message.contains("speed"), "{message}");
    let (line, message) = invalid(&GOOD.replace("y = 1.0", "y = 1.0\nwheels = 3"));
    assert_eq!(line, 11, "{message}");
    assert!(message.contains("wheels"), "{message}");
}

#[test]
fn syntax_errors_name_the_line() {
    let (line, _) = invalid(&GOOD.replace("duration = 10.0", "duration = = 10.0"));
    assert_eq!(line, 3);
}

#[test]
fn semantic_errors_name_the_line_and_the_field() {
    let (line, message) = invalid(&GOOD.replace("duration = 10.0", "duration = -1.0"));
    assert_eq!(line, 3);
    assert!(message.contains("duration"), "{message}");

    let (line, message) = invalid(&GOOD.replace("format_version = 1", "format_version = 7"));
    assert_eq!(line, 1);
    assert!(message.contains("format_version"), "{message}");

    let bad_colour = format!("{GOOD}\n[[lines]]\npoints = [[0.0, 0.0], [1.0, 1.0]]\ncolor = \"mauve\"\n");
    let (line, message) = invalid(&bad_colour);
    assert_eq!(line, 12, "{message}");
    assert!(message.contains("mauve") && message.contains("black"), "{message}");

    let (_, message) = invalid(&format!("{GOOD}\n[[zones]]\nname = \"a\"\nrect = [0, 0, 1, 1]\n[[zones]]\nname = \"a\"\nrect = [1, 1, 2, 2]\n"));
    assert!(message.contains("duplicate"), "{message}");

    let (_, message) = invalid(&GOOD.replace("x = 1.0", "x = { min = 2.0, max = 1.0 }"));
    assert!(message.contains("min <= max"), "{message}");

    let (_, message) = invalid("format_version = 1\nname = \"t\"\nduration = 5.0\n[arena]\nsize = [1.0, 1.0]\n");
    assert!(message.contains("robot"), "{message}");
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let err = Scenario::load("/nonexistent/x.toml").unwrap_err();
    assert!(matches!(err, ScenarioError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/x.toml"));
}
