//! The simulated world on its own: motion, collisions, sensors, zones, replays.

use qiming_sim::{Blocking, Replay, Scenario, Sim, SimEvent, SimOptions};

use crate::support::scenario;

fn sim(stem: &str) -> Sim {
    Sim::new(&scenario(stem), 0, SimOptions::default())
}

#[test]
fn driving_straight_covers_top_speed_times_time_after_acceleration() {
    let mut s = sim("empty");
    s.set_motors(1.0, 1.0);
    s.wait(1.0);
    let p = s.pose();
    // 0.5 m/s top speed, 2 m/s² acceleration: 0.25 s to reach it, losing 0.0625 m.
    assert!((p.x - (1.5 + 0.5 - 0.0625)).abs() < 0.01, "x = {}", p.x);
    assert!((p.y - 1.5).abs() < 1e-9);
}

#[test]
fn the_robot_cannot_pass_through_a_wall_and_contacts_are_recorded() {
    let mut s = sim("wall");
    s.set_motors(1.0, 1.0);
    assert_eq!(s.wait(10.0), Blocking::Done);
    let p = s.pose();
    // Wall face at x = 2.09; body radius 0.09.
    assert!(p.x <= 2.0 + 1e-6, "robot went into the wall: x = {}", p.x);
    assert!(p.x > 1.99, "robot should be pressed against the wall: x = {}", p.x);
    assert!(s.bumper("front").unwrap());
    let summary = s.summary();
    assert_eq!(summary.collisions, 1, "one contact that lasts is one collision");
    assert!(matches!(&summary.events[0], SimEvent::Contact { solid, .. } if solid == "wall 1"));
    assert!(s.distance("front").unwrap() < 0.001);
}

#[test]
fn distance_sensor_measures_from_the_body_edge() {
    let s = sim("wall");
    let d = s.distance("front").unwrap();
    assert!((d - 1.5).abs() < 1e-9, "front distance {d}");
    assert!((s.distance("left").unwrap() - 0.91).abs() < 1e-9, "the boundary wall is 0.91 m to the left");
    let open = Scenario::parse(
        "format_version = 1\nname = \"open\"\nduration = 1.0\n[arena]\nsize = [2.0, 2.0]\nboundary = false\n[robot]\nx = 1.0\ny = 1.0\n",
        "open.toml",
    )
    .unwrap();
    let o = Sim::new(&open, 0, SimOptions::default());
    assert_eq!(o.distance("front").unwrap(), 3.0, "nothing in range reads the maximum range");
    let err = s.distance("nose").unwrap_err().to_string();
    assert!(err.contains("front") && err.contains("left") && err.contains("right"), "{err}");
}

#[test]
fn line_sensors_see_the_line_and_colour_sensor_sees_zones() {
    let s = sim("line-loop");
    assert!(s.line("center").unwrap() > 0.9, "centre sensor starts over the line");
    assert!(s.line("left").unwrap() < 0.2);
    assert!(s.line("right").unwrap() < 0.2);
    assert_eq!(s.color("floor").unwrap(), "black");

    let mut m = sim("maze");
    assert_eq!(m.color("floor").unwrap(), "white");
    // Teleport-free check of the exit zone: build the maze with the robot starting in the exit.
    let text = std::fs::read_to_string(crate::support::repo().join("sim/scenarios/maze.toml")).unwrap();
    let moved = text.replace("x = 0.25\ny = 0.25", "x = 1.75\ny = 1.25");
    let sc = Scenario::parse(&moved, "maze-moved.toml").unwrap();
    let s2 = Sim::new(&sc, 0, SimOptions::default());
    assert_eq!(s2.color("floor").unwrap(), "green");
    assert!(s2.summary().events.iter().any(|e| matches!(e, SimEvent::ZoneEnter { zone, .. } if zone == "exit")));
    m.set_motors(0.0, 0.0);
}

#[test]
fn forward_and_turn_use_encoders_and_gyro() {
    let mut s = sim("empty");
    assert_eq!(s.forward(0.5), Blocking::Done);
    let p = s.pose();
    assert!((p.x - 2.0).abs() < 0.01, "forward 0.5 m ended at x = {}", p.x);
    assert_eq!(s.turn(90.0), Blocking::Done);
    assert!((s.heading() - 90.0).abs() < 1.0, "heading {}", s.heading());
    assert_eq!(s.turn(-180.0), Blocking::Done);
    assert!((s.heading() + 90.0).abs() < 1.0, "heading {}", s.heading());
}

#[test]
fn blocking_calls_stop_at_the_end_of_the_scenario() {
    let mut s = sim("empty");
    assert_eq!(s.wait(100.0), Blocking::TimeUp);
    assert_eq!(s.tick(), s.max_ticks());
    assert!(!s.step());
}

#[test]
fn camera_sees_the_wall_ahead() {
    let s = sim("wall");
    let img = s.camera();
    assert_eq!((img.width, img.height, img.rgb.len()), (32, 24, 32 * 24 * 3));
    // The middle row looks at the gray wall, the bottom row at the white floor.
    let px = |row: usize, col: usize| &img.rgb[(row * 32 + col) * 3..][..3];
    assert_ne!(px(12, 16), &[255, 255, 255]);
    assert_eq!(px(23, 16), &[255, 255, 255]);
}

#[test]
fn replays_round_trip_and_reject_garbage() {
    let mut s = Sim::new(&scenario("wall"), 3, SimOptions { record_replay: true });
    s.set_motors(0.5, 0.4);
    s.wait(2.0);
    s.record_output("hello\n");
    let (summary, replay) = s.finish(Some("abc".into()));
    let replay = replay.expect("recording was on");
    assert_eq!(replay.frames.len() as u64, summary.ticks + 1);
    let bytes = replay.to_bytes();
    assert_eq!(Replay::from_bytes(&bytes).unwrap(), replay);
    assert!(Replay::from_bytes(b"not a replay").is_err());
    let mut corrupt = bytes.clone();
    corrupt.truncate(bytes.len() / 2);
    assert!(Replay::from_bytes(&corrupt).is_err());
}

#[test]
fn seeded_ranges_vary_with_the_seed_and_repeat_for_the_same_seed() {
    let text = r#"
format_version = 1
name = "ranged"
duration = 5.0
[arena]
size = [3.0, 2.0]
[robot]
x = { min = 0.3, max = 0.8 }
y = 1.0
[[walls]]
from = [2.0, 0.2]
to = [2.0, 1.8]
"#;
    let sc = Scenario::parse(text, "ranged.toml").unwrap();
    let a = sc.resolve(1).start;
    let b = sc.resolve(2).start;
    assert_eq!(a, sc.resolve(1).start);
    assert_ne!(a, b);
    assert!((0.3..=0.8).contains(&a[0]) && (0.3..=0.8).contains(&b[0]));
}

#[test]
fn motor_noise_is_seeded() {
    let text = std::fs::read_to_string(crate::support::repo().join("sim/scenarios/empty.toml"))
        .unwrap()
        .replace("heading = 0.0", "heading = 0.0\nmotor_noise = 0.1\ndistance_noise = 0.01");
    let sc = Scenario::parse(&text, "noisy.toml").unwrap();
    let drive = |seed| {
        let mut s = Sim::new(&sc, seed, SimOptions::default());
        s.set_motors(0.8, 0.8);
        s.wait(2.0);
        s.summary().state_digest
    };
    assert_eq!(drive(7), drive(7));
    assert_ne!(drive(7), drive(8));
}

#[test]
fn seeded_mazes_are_perfect_reproducible_and_have_an_exit_zone() {
    let text = r#"
format_version = 1
name = "gen"
duration = 60.0
[arena]
size = [3.0, 2.0]
[robot]
x = 0.25
y = 0.25
[maze]
cols = 6
rows = 4
cell = 0.5
"#;
    let sc = Scenario::parse(text, "gen.toml").unwrap();
    let a = sc.resolve(1).maze.unwrap();
    let b = sc.resolve(2).maze.unwrap();
    assert_eq!(a, sc.resolve(1).maze.unwrap(), "same seed, same maze");
    assert_ne!(a.walls(), b.walls(), "different seeds, different mazes");
    // A perfect maze on 24 cells has 23 passages: 4 outline walls + (38 - 23) interior walls.
    let interior = 5 * 4 + 6 * 3;
    assert_eq!(a.walls().len(), 4 + interior - 23);
    let d = a.distances_to(a.exit);
    assert!(d.iter().all(|&x| x != u32::MAX), "every cell reaches the exit");
    assert_eq!(d[0], *d.iter().max().unwrap(), "by default the exit is the cell farthest from the start");
    let sim = Sim::new(&sc, 1, SimOptions::default());
    assert_eq!(sim.color("floor").unwrap(), "white");
    let resolved = sim.scenario();
    assert!(resolved.zones.iter().any(|z| z.name == "exit"));
    assert!(resolved.solids.iter().any(|s| s.label.starts_with("maze wall")));
    let bad = text.replace("cell = 0.5", "cell = 0.1");
    assert!(Scenario::parse(&bad, "gen.toml").unwrap_err().to_string().contains("cell"));
}

#[test]
fn end_triggers_stop_the_world_a_second_after_the_task_is_done() {
    use qiming_sim::EndTrigger;
    let mut s = sim("maze");
    s.set_end_triggers(vec![EndTrigger::Zone { zone: "nowhere".into() }]);
    assert_eq!(s.max_ticks(), 12_000, "an unmet trigger changes nothing");
    let text = std::fs::read_to_string(crate::support::repo().join("sim/scenarios/maze.toml")).unwrap();
    let near_exit = text.replace("x = 0.25\ny = 0.25", "x = 1.75\ny = 0.85\nheading = 90.0").replacen("heading = 0.0\n", "", 1);
    let sc = Scenario::parse(&near_exit, "maze-near.toml").unwrap();
    let mut s = Sim::new(&sc, 0, SimOptions::default());
    s.set_end_triggers(vec![EndTrigger::Zone { zone: "exit".into() }]);
    s.set_motors(0.5, 0.5);
    assert_eq!(s.wait(30.0), Blocking::TimeUp, "the run ends early");
    let entered = s.summary().events.iter().find_map(|e| match e {
        SimEvent::ZoneEnter { tick, zone } if zone == "exit" => Some(*tick),
        _ => None,
    });
    assert_eq!(s.tick(), entered.expect("entered the exit") + qiming_sim::world::END_GRACE_TICKS);
}

/// The world as clients draw it (the web player, the studio): its JSON shape is
/// an API, so a change to it shows up here.
#[test]
fn world_view_json_keeps_its_shape() {
    let sc = Scenario::load(crate::support::repo().join("curriculum/labs/checkpoint-tour/scenarios/tour-a.toml")).unwrap();
    let world = sc.resolve(0);
    let view = serde_json::to_value(qiming_sim::view::WorldView::of(&world, 0.09)).unwrap();
    insta::with_settings!({ snapshot_path => crate::support::repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!("world-view-tour-a", view);
    });
}
