//! The check library: what each kind of check measures in a run, its partial
//! credit, and feedback a ten-year-old understands, in zh-CN and en.
//!
//! Every kind has a stable code (its snake_case name in `lab.toml`):
//!
//! | code | checks | partial credit |
//! |---|---|---|
//! | `rest_near_wall` | the robot ends at rest with its front `min`–`max` m from the wall ahead | by how far off it stopped |
//! | `no_collision` | it never touches a wall or obstacle | none; may cap the case (`cap`) or subtract per contact (`penalty_per_contact`) |
//! | `reach_zone` | its centre enters a zone in time | none |
//! | `maze_progress` | progress along the maze's shortest path to the exit | fraction of the path covered |
//! | `return_to_start` | it ends near its start position and heading, after really driving | none |
//! | `visit_points` | it passes given points (in its start frame) in order | fraction visited |
//! | `lap_progress` | it goes once round a closed line | fraction of the lap |
//! | `stay_on_line` | it keeps its centre near the line for most of the lap | scaled by the lap fraction |
//! | `checkpoints_in_order` | it reaches the scenario's checkpoints in order | fraction reached in order |
//! | `output_matches` | its printed output matches | none |
//! | `output_number` | the last number it printed is close enough to the answer | none |
//! | `stop_on_color` | every time it is on a colour (a red light) it comes to rest there and stays at least `seconds` | share of visits obeyed |
//! | `slow_on_color` | it stays slow while on a colour (a yellow light) | share of visits obeyed |
//! | `rest_near_sign` | it ends at rest with its front `min`–`max` m from the nearest sign of kind `sign` (`stop`, `left`…), never touching that sign | none |
//! | `output_lines_fraction` | its printed lines equal the expected ones, line by line | (share right − `zero_at`) / (1 − `zero_at`), so guessing earns nothing |
//! | `learning_curve` | its `episode <n> <steps> <return>` lines show learning: enough episodes, the last ones near the case's `optimal_steps` and shorter than the first | none |
//!
//! Checks read only the run's evidence (trajectory, events, output) and the
//! resolved scenario — never the wall clock — so grading is deterministic.

use std::collections::BTreeMap;

use qiming_curriculum::{CheckKind, Text};
use qiming_sim::arena::Arena;
use qiming_sim::lap::LapTracker;
use qiming_sim::world::angle_diff;
use qiming_sim::{ResolvedScenario, SimEvent, TICK_HZ};

use crate::run::RunResult;

/// The result of one check on one run.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckOutcome {
    pub passed: bool,
    /// Fraction of the check's credit earned, in [0, 1].
    pub score: f64,
    /// What was measured (shown only for visible cases).
    pub measured: BTreeMap<String, f64>,
    pub feedback: Text,
    /// Fraction taken off the whole case (collision penalties).
    pub penalty: f64,
    /// Upper bound on the whole case's fraction when this check fails.
    pub cap: Option<f64>,
}

impl CheckOutcome {
    fn new(passed: bool, score: f64, feedback: Text) -> Self {
        CheckOutcome { passed, score: score.clamp(0.0, 1.0), measured: BTreeMap::new(), feedback, penalty: 0.0, cap: None }
    }
    fn measure(mut self, name: &str, value: f64) -> Self {
        self.measured.insert(name.to_string(), (value * 1000.0).round() / 1000.0);
        self
    }
}

/// Everything a check may look at.
pub struct Evidence<'a> {
    pub run: &'a RunResult,
    pub scenario: &'a ResolvedScenario,
    pub arena: &'a Arena,
    /// The case's own expected output and number, when it gives them.
    pub expect_output: Option<&'a str>,
    pub expect_number: Option<f64>,
    /// The case's shortest route in steps, for `learning_curve`.
    pub optimal_steps: Option<f64>,
    /// Lap tracking per line, computed once and shared by the checks that need it.
    pub laps: std::cell::RefCell<Vec<(usize, std::rc::Rc<LapHistory>)>>,
}

/// A line's lap tracking over the whole run: after each tick, the distance
/// from the line and the lap fraction so far; and when the lap was completed.
/// A prefix of it is exactly what tracking only that prefix would give.
#[derive(Debug)]
pub struct LapHistory {
    offsets: Vec<f64>,
    fractions: Vec<f64>,
    completed_at: Option<usize>,
}

impl Evidence<'_> {
    fn lap_history(&self, line: usize) -> Option<std::rc::Rc<LapHistory>> {
        if let Some((_, h)) = self.laps.borrow().iter().find(|(l, _)| *l == line) {
            return Some(h.clone());
        }
        let l = self.scenario.lines.get(line)?;
        let mut tracker = LapTracker::new(l);
        let mut offsets = Vec::with_capacity(self.track().len());
        let mut fractions = Vec::with_capacity(self.track().len());
        for p in self.track() {
            offsets.push(tracker.update([p[0], p[1]]));
            fractions.push(tracker.fraction());
        }
        let history = std::rc::Rc::new(LapHistory { offsets, fractions, completed_at: tracker.completed_at });
        self.laps.borrow_mut().push((line, history.clone()));
        Some(history)
    }

    fn track(&self) -> &[[f64; 3]] {
        &self.run.sim.track
    }
    fn ticks_within(&self, within: Option<f64>) -> usize {
        let all = self.track().len();
        within.map_or(all, |w| ((w * TICK_HZ as f64).round() as usize + 1).min(all))
    }
}

fn secs(tick: u64) -> f64 {
    tick as f64 / TICK_HZ as f64
}

fn m(v: f64) -> String {
    format!("{v:.2}")
}

/// Evaluates one check.
pub fn evaluate(kind: &CheckKind, ev: &Evidence) -> CheckOutcome {
    match kind {
        CheckKind::RestNearWall { min, max, max_speed, within } => rest_near_wall(ev, *min, *max, *max_speed, *within),
        CheckKind::NoCollision { cap, penalty_per_contact, max_penalty } => no_collision(ev, *cap, *penalty_per_contact, *max_penalty),
        CheckKind::ReachZone { zone, within } => reach_zone(ev, zone, *within),
        CheckKind::MazeProgress { within } => maze_progress(ev, *within),
        CheckKind::ReturnToStart { distance, heading } => return_to_start(ev, *distance, *heading),
        CheckKind::VisitPoints { points, radius, either_hand } => visit_points(ev, points, *radius, *either_hand),
        CheckKind::LapProgress { line, within } => lap_progress(ev, *line, *within),
        CheckKind::StayOnLine { line, max_offset, min_fraction } => stay_on_line(ev, *line, *max_offset, *min_fraction),
        CheckKind::CheckpointsInOrder { names } => checkpoints_in_order(ev, names),
        CheckKind::OutputMatches { expected, mode } => output_matches(ev, ev.expect_output.unwrap_or(expected), mode),
        CheckKind::StopOnColor { color, seconds, max_speed } => stop_on_color(ev, color, *seconds, *max_speed),
        CheckKind::SlowOnColor { color, max_speed, grace } => slow_on_color(ev, color, *max_speed, *grace),
        CheckKind::OutputNumber { expected, tolerance } => output_number(ev, ev.expect_number.or(*expected).unwrap_or(f64::NAN), *tolerance),
        CheckKind::RestNearSign { sign, min, max, max_speed } => rest_near_sign(ev, sign, *min, *max, *max_speed),
        CheckKind::OutputLinesFraction { expected, zero_at } => output_lines_fraction(ev, ev.expect_output.unwrap_or(expected), *zero_at),
        CheckKind::LearningCurve { min_episodes, first, last, max_ratio } => {
            learning_curve(ev, *min_episodes as usize, *first as usize, *last as usize, *max_ratio, ev.optimal_steps.unwrap_or(f64::NAN))
        }
    }
}

/// Speed (m/s) over the last half second of the track.
fn final_speed(track: &[[f64; 3]]) -> f64 {
    let n = track.len();
    let window = (TICK_HZ / 2) as usize;
    if n <= window {
        return if n < 2 { 0.0 } else { f64::INFINITY };
    }
    let (a, b) = (track[n - 1 - window], track[n - 1]);
    libm::hypot(b[0] - a[0], b[1] - a[1]) / 0.5
}

/// The last tick at which the robot was still moving faster than `max_speed`.
fn came_to_rest_at(track: &[[f64; 3]], max_speed: f64) -> f64 {
    let mut last_moving = 0;
    for i in 1..track.len() {
        let (a, b) = (track[i - 1], track[i]);
        if libm::hypot(b[0] - a[0], b[1] - a[1]) * TICK_HZ as f64 > max_speed {
            last_moving = i;
        }
    }
    secs(last_moving as u64)
}

fn rest_near_wall(ev: &Evidence, min: f64, max: f64, max_speed: f64, within: f64) -> CheckOutcome {
    let [x, y, theta] = *ev.track().last().unwrap_or(&ev.scenario.start);
    let r = ev.scenario.robot.radius;
    let dir = [libm::cos(theta), libm::sin(theta)];
    let gap = ev.arena.cast_ray([x + dir[0] * r, y + dir[1] * r], dir, 10.0).map_or(10.0, |h| h.0);
    let speed = final_speed(ev.track());
    let rest_at = came_to_rest_at(ev.track(), max_speed);
    let at_rest = speed < max_speed && rest_at <= within;
    let error = if gap < min {
        min - gap
    } else if gap > max {
        gap - max
    } else {
        0.0
    };
    let (passed, score, feedback) = if at_rest && error == 0.0 {
        (true, 1.0, Text::new(format!("机器人停在离墙 {} 米的地方，正好！", m(gap)), format!("Your robot stopped {} m from the wall — just right!", m(gap))))
    } else if !at_rest {
        (
            false,
            0.3 * (1.0 - error).max(0.0),
            Text::new(
                "比赛结束时机器人还在动。看到墙近了就用 stop() 停下来，再等它停稳。",
                "Your robot was still moving at the end. Call stop() when the wall is near, and let it come to rest.",
            ),
        )
    } else if gap > max {
        (
            false,
            0.6 * (1.0 - error / 0.5).max(0.0),
            Text::new(
                format!("机器人停在离墙 {} 米处，太远了。distance(\"front\") 大于 {} 时继续前进。", m(gap), m(max)),
                format!("Your robot stopped {} m from the wall — too far. Keep driving while distance(\"front\") is more than {}.", m(gap), m(max)),
            ),
        )
    } else {
        (
            false,
            0.6 * (1.0 - error / 0.5).max(0.0),
            Text::new(
                format!("机器人停在离墙 {} 米处，太近了。早一点开始减速。", m(gap)),
                format!("Your robot stopped {} m from the wall — too close. Start slowing down earlier.", m(gap)),
            ),
        )
    };
    CheckOutcome::new(passed, score, feedback).measure("gap_m", gap).measure("final_speed_m_s", speed.min(99.0)).measure("rest_at_s", rest_at)
}

fn no_collision(ev: &Evidence, cap: Option<f64>, per: Option<f64>, max_penalty: Option<f64>) -> CheckOutcome {
    let contacts = ev.run.sim.collisions;
    let first = ev.run.sim.events.iter().find_map(|e| match e {
        SimEvent::Contact { tick, solid, .. } => Some((*tick, solid.clone())),
        _ => None,
    });
    let mut out = match first {
        // Not touching anything is only an achievement for a robot that moved.
        None if path_length(ev.track()) < 0.01 => {
            CheckOutcome::new(true, 1.0, Text::new("机器人没有移动，所以也没有碰到东西。", "Your robot did not move, so it touched nothing."))
        }
        None => CheckOutcome::new(true, 1.0, Text::new("机器人一次也没有碰到障碍物。", "Your robot never touched anything.")),
        Some((tick, solid)) => {
            let (what_zh, what_en) = if solid.starts_with("obstacle") { ("障碍物", "an obstacle") } else { ("墙", "a wall") };
            CheckOutcome::new(
                false,
                0.0,
                Text::new(
                    format!("机器人在第 {:.1} 秒碰到了{what_zh}（共 {contacts} 次）。靠近之前先减速、转向。", secs(tick)),
                    format!(
                        "Your robot touched {what_en} at {:.1} s ({contacts} time{} in all) — slow down and steer away before you get that close.",
                        secs(tick),
                        if contacts == 1 { "" } else { "s" }
                    ),
                ),
            )
        }
    };
    if contacts > 0 {
        out.cap = cap;
        if let Some(p) = per {
            out.penalty = (p * contacts as f64).min(max_penalty.unwrap_or(1.0));
        }
    }
    out.measure("contacts", contacts as f64)
}

fn first_enter(ev: &Evidence, zone: &str) -> Option<u64> {
    ev.run.sim.events.iter().find_map(|e| match e {
        SimEvent::ZoneEnter { tick, zone: z } if z == zone => Some(*tick),
        _ => None,
    })
}

/// A zone's name in the learner's words: (zh-CN, en). Zone ids in scenario
/// files are English identifiers; the usual ones have proper names.
fn zone_words(zone: &str) -> (String, String) {
    let known = match zone {
        "finish" | "end" => Some(("终点", "the finish")),
        "goal" => Some(("目标区", "the goal")),
        "exit" => Some(("出口", "the exit")),
        "parking" => Some(("停车位", "the parking space")),
        "station" => Some(("站点", "the station")),
        "start" => Some(("起点", "the start")),
        _ => None,
    };
    match known {
        Some((zh, en)) => (zh.to_string(), en.to_string()),
        None => (format!("“{zone}”区域"), format!("the {zone} zone")),
    }
}

fn reach_zone(ev: &Evidence, zone: &str, within: Option<f64>) -> CheckOutcome {
    let (zh, en) = zone_words(zone);
    match first_enter(ev, zone) {
        Some(t) if within.is_none_or(|w| secs(t) <= w) => CheckOutcome::new(
            true,
            1.0,
            Text::new(format!("机器人在第 {:.1} 秒到达了{zh}。", secs(t)), format!("Your robot reached {en} at {:.1} s.", secs(t))),
        )
        .measure("reached_at_s", secs(t)),
        Some(t) => CheckOutcome::new(
            false,
            0.0,
            Text::new(
                format!("机器人到达{zh}时已经超时（第 {:.1} 秒）。试着走得更快或路线更短。", secs(t)),
                format!("Your robot reached {en} too late ({:.1} s). Try a faster or shorter route.", secs(t)),
            ),
        )
        .measure("reached_at_s", secs(t)),
        None => CheckOutcome::new(false, 0.0, Text::new(format!("机器人没有到达{zh}。"), format!("Your robot did not reach {en}."))),
    }
}

fn maze_progress(ev: &Evidence, within: Option<f64>) -> CheckOutcome {
    let Some(maze) = &ev.scenario.maze else {
        return CheckOutcome::new(false, 0.0, Text::new("场地里没有迷宫。", "This arena has no maze."));
    };
    let dist = maze.distances_to(maze.exit);
    let cols = maze.spec.cols as usize;
    let d_of = |p: [f64; 2]| maze.cell_of(p).map(|[c, r]| dist[r as usize * cols + c as usize]);
    let start = d_of([ev.scenario.start[0], ev.scenario.start[1]]).unwrap_or(u32::MAX).max(1);
    let best = ev.track()[..ev.ticks_within(within)].iter().filter_map(|p| d_of([p[0], p[1]])).min().unwrap_or(start);
    let fraction = (start - best.min(start)) as f64 / start as f64;
    let feedback = if best == 0 {
        Text::new("机器人找到了迷宫的出口！", "Your robot found the way out of the maze!")
    } else {
        Text::new(
            format!("机器人走完了通往出口最短路线的 {:.0}%。用一个有条理的方法探索：比如一直沿着同一面墙走，或者记住走过的格子。", fraction * 100.0),
            format!(
                "Your robot covered {:.0}% of the shortest way to the exit. Explore systematically: for example keep following the same wall, or remember the cells you have visited.",
                fraction * 100.0
            ),
        )
    };
    CheckOutcome::new(best == 0, fraction, feedback).measure("cells_to_exit_at_start", start as f64).measure("closest_cells_to_exit", best as f64)
}

fn path_length(track: &[[f64; 3]]) -> f64 {
    track.windows(2).map(|w| libm::hypot(w[1][0] - w[0][0], w[1][1] - w[0][1])).sum()
}

fn return_to_start(ev: &Evidence, distance: f64, heading: f64) -> CheckOutcome {
    let s = ev.scenario.start;
    let e = *ev.track().last().unwrap_or(&s);
    let d = libm::hypot(e[0] - s[0], e[1] - s[1]);
    let h = angle_diff(e[2], s[2]).abs().to_degrees();
    // Standing still is not "coming back": require a real trip first.
    let travelled = path_length(ev.track());
    let trip = travelled >= 4.0 * distance;
    let passed = trip && d <= distance && h <= heading;
    let feedback = if passed {
        Text::new("机器人回到了出发点，方向也对。", "Your robot came back to where it started, facing the same way.")
    } else if !trip {
        Text::new("机器人几乎没有移动。", "Your robot hardly moved.")
    } else {
        Text::new(
            format!("机器人最后离出发点 {} 米，方向差 {:.0}°。检查每条边的长度和每次转弯的角度。", m(d), h),
            format!("Your robot ended {} m from its start, turned {:.0}° off. Check each side's length and each turn's angle.", m(d), h),
        )
    };
    CheckOutcome::new(passed, if passed { 1.0 } else { 0.0 }, feedback).measure("distance_m", d).measure("heading_error_deg", h)
}

fn visit_points(ev: &Evidence, points: &[[f64; 2]], radius: f64, either_hand: bool) -> CheckOutcome {
    let s = ev.scenario.start;
    let (sn, cs) = (libm::sin(s[2]), libm::cos(s[2]));
    let count = |mirror: f64| {
        let mut next = 0;
        for p in ev.track() {
            if next == points.len() {
                break;
            }
            let [lx, ly] = points[next];
            let ly = ly * mirror;
            let target = [s[0] + cs * lx - sn * ly, s[1] + sn * lx + cs * ly];
            if libm::hypot(p[0] - target[0], p[1] - target[1]) <= radius {
                next += 1;
            }
        }
        next
    };
    let visited = if either_hand { count(1.0).max(count(-1.0)) } else { count(1.0) };
    let n = points.len();
    let feedback = if visited == n {
        Text::new("机器人经过了所有的拐点。", "Your robot passed every corner.")
    } else {
        Text::new(
            format!("机器人按顺序经过了 {visited}/{n} 个拐点。检查前进的距离和转弯的角度。"),
            format!("Your robot passed {visited} of {n} corners in order. Check how far it drives and how much it turns."),
        )
    };
    CheckOutcome::new(visited == n, visited as f64 / n as f64, feedback).measure("visited", visited as f64)
}

/// How far round the loop the robot got (as a fraction, either direction),
/// the tick the lap was completed (if it was), and per-tick distances from the line.
fn lap(ev: &Evidence, line: usize, within: Option<f64>) -> (f64, Option<usize>, Vec<f64>) {
    let Some(history) = ev.lap_history(line) else { return (0.0, None, Vec::new()) };
    let n = ev.ticks_within(within);
    let fraction = if n == 0 { 0.0 } else { history.fractions[n - 1] };
    (fraction, history.completed_at.filter(|&t| t < n), history.offsets[..n].to_vec())
}

fn lap_progress(ev: &Evidence, line: usize, within: Option<f64>) -> CheckOutcome {
    let (fraction, done, _) = lap(ev, line, within);
    let feedback = match done {
        Some(t) => Text::new(format!("机器人用 {:.1} 秒跑完了一圈！", secs(t as u64)), format!("Your robot finished a lap in {:.1} s!", secs(t as u64))),
        None => Text::new(
            format!("机器人跑完了一圈的 {:.0}%。在弯道处要转得更急一些。", fraction * 100.0),
            format!("Your robot got {:.0}% of the way round. Steer harder in the curves.", fraction * 100.0),
        ),
    };
    let mut out = CheckOutcome::new(done.is_some(), fraction, feedback).measure("lap_fraction", fraction);
    if let Some(t) = done {
        out = out.measure("lap_time_s", secs(t as u64));
    }
    out
}

fn stay_on_line(ev: &Evidence, line: usize, max_offset: f64, min_fraction: f64) -> CheckOutcome {
    let (fraction, done, offsets) = lap(ev, line, None);
    let end = done.map_or(offsets.len(), |t| t + 1).max(1);
    let on = offsets[..end.min(offsets.len())].iter().filter(|&&d| d <= max_offset).count() as f64 / end as f64;
    let passed = on >= min_fraction && done.is_some();
    // Sitting still on the line is not following it: scale by lap progress.
    let score = if on >= min_fraction { 1.0 } else { 0.5 * on / min_fraction } * fraction;
    let feedback = if done.is_none() && fraction < 0.05 {
        // Sitting on the line is not following it: no praise for that.
        Text::new("机器人几乎没有沿着线前进，还谈不上巡线。", "Your robot hardly moved along the line, so it did not follow it yet.")
    } else if on >= min_fraction && done.is_none() {
        Text::new(
            format!("机器人走了一圈的 {:.0}%，这段路上 {:.0}% 的时间在线上。", fraction * 100.0, on * 100.0),
            format!("Your robot went {:.0}% of the way round and was on the line {:.0}% of that time.", fraction * 100.0, on * 100.0),
        )
    } else if on >= min_fraction {
        Text::new(format!("机器人 {:.0}% 的时间都在线上。", on * 100.0), format!("Your robot stayed on the line {:.0}% of the time.", on * 100.0))
    } else {
        Text::new(
            format!("机器人只有 {:.0}% 的时间在线上。偏离时及时修正方向。", on * 100.0),
            format!("Your robot was on the line only {:.0}% of the time. Correct the steering as soon as it drifts.", on * 100.0),
        )
    };
    CheckOutcome::new(passed, score, feedback).measure("on_line_fraction", on)
}

fn checkpoints_in_order(ev: &Evidence, names: &[String]) -> CheckOutcome {
    let reached: Vec<&str> = ev
        .run
        .sim
        .events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Checkpoint { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut next = 0;
    for r in reached {
        if next < names.len() && r == names[next] {
            next += 1;
        }
    }
    let n = names.len();
    CheckOutcome::new(
        next == n,
        next as f64 / n as f64,
        Text::new(format!("机器人按顺序到达了 {next}/{n} 个检查点。"), format!("Your robot reached {next} of {n} checkpoints in order.")),
    )
    .measure("reached_in_order", next as f64)
}

fn output_matches(ev: &Evidence, expected: &str, mode: &str) -> CheckOutcome {
    let out = ev.run.report.output.trim();
    let want = expected.trim();
    let passed = match mode {
        "contains" => out.contains(want),
        "lines" => {
            let mut lines = out.lines().map(str::trim);
            want.lines().map(str::trim).all(|w| lines.any(|l| l == w))
        }
        _ => out == want,
    };
    let feedback = if passed {
        Text::new("输出正确。", "The output is right.")
    } else {
        let mut t = Text::new("输出和要求的不一样。", "The output is not what the task asks for.");
        let (dz, de) = output_difference(out, want, mode);
        t.zh.push_str(&dz);
        t.en.push(' ');
        t.en.push_str(&de);
        t
    };
    CheckOutcome::new(passed, if passed { 1.0 } else { 0.0 }, feedback)
}

/// How many lines of output a message quotes, and how many characters of each.
const QUOTED_LINES: usize = 12;
const QUOTED_CHARS: usize = 60;

fn quote_lines(text: &str) -> (String, String) {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim())
        .take(QUOTED_LINES)
        .map(|l| {
            let mut q: String = l.chars().take(QUOTED_CHARS).collect();
            if l.chars().count() > QUOTED_CHARS {
                q.push('…');
            }
            q
        })
        .collect();
    let more = text.lines().count() > QUOTED_LINES;
    if lines.is_empty() {
        return ("（什么也没有打印）".into(), "(nothing printed)".into());
    }
    let joined = format!("{}{}", lines.join(" / "), if more { " / …" } else { "" });
    (joined.clone(), joined)
}

/// The first difference between the printed and the expected output, and both in full (for practice cases).
fn output_difference(out: &str, want: &str, mode: &str) -> (String, String) {
    let (wz, we) = quote_lines(want);
    let (oz, oe) = quote_lines(out);
    let first = match mode {
        "contains" => None,
        "lines" => {
            let mut lines = out.lines().map(str::trim);
            want.lines().map(str::trim).find(|w| !lines.any(|l| l == *w)).map(|w| (None, w))
        }
        _ => {
            let got: Vec<&str> = out.lines().map(str::trim).collect();
            let exp: Vec<&str> = want.lines().map(str::trim).collect();
            (0..exp.len().max(got.len())).find(|&i| exp.get(i) != got.get(i)).map(|i| (Some((i, got.get(i).copied())), exp.get(i).copied().unwrap_or("")))
        }
    };
    let (fz, fe) = match first {
        Some((Some((i, Some(g))), w)) if !w.is_empty() => {
            (format!("第 {} 行应该是“{w}”，你的程序打印的是“{g}”。", i + 1), format!("Line {} should be “{w}”, but your program printed “{g}”.", i + 1))
        }
        Some((Some((i, None)), w)) => (
            format!("第 {} 行应该是“{w}”，但你的程序没有打印这一行。", i + 1),
            format!("Line {} should be “{w}”, but your program printed no such line.", i + 1),
        ),
        Some((Some((i, Some(g))), _)) => (format!("你的程序多打印了第 {} 行“{g}”。", i + 1), format!("Your program printed an extra line {}: “{g}”.", i + 1)),
        Some((None, w)) => (format!("输出里少了一行“{w}”。"), format!("The line “{w}” is missing from the output.")),
        None => (String::new(), String::new()),
    };
    (format!("{fz}要求的输出：{wz}；你的输出：{oz}。"), format!("{fe} Expected: {we}; yours: {oe}.").trim_start().to_string())
}

/// Maximal runs of ticks `[start, end)` with the robot's centre on `color`.
fn visits(ev: &Evidence, color: &str) -> Vec<(usize, usize)> {
    let Some(c) = qiming_sim::PaletteColor::from_name(color) else { return Vec::new() };
    let mut runs = Vec::new();
    let mut start = None;
    let track = ev.track();
    for (i, p) in track.iter().enumerate() {
        let on = ev.arena.floor.color_at([p[0], p[1]]) == c;
        match (on, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, track.len()));
    }
    runs
}

/// Speed (m/s) at tick `i`, averaged over the previous 0.1 s.
fn speed_at(track: &[[f64; 3]], i: usize) -> f64 {
    let w = (TICK_HZ / 10) as usize;
    if i < w {
        return 0.0;
    }
    let (a, b) = (track[i - w], track[i]);
    libm::hypot(b[0] - a[0], b[1] - a[1]) * 10.0
}

fn stop_on_color(ev: &Evidence, color: &str, seconds: f64, max_speed: f64) -> CheckOutcome {
    let runs = visits(ev, color);
    let need = (seconds * TICK_HZ as f64).round() as usize;
    let track = ev.track();
    let obeyed = runs
        .iter()
        // Like a referee: it must come to rest on the colour and stay on it
        // for the whole time (braking included), not just slow down or roll through.
        .filter(|&&(s, e)| e - s >= need && (s..e).any(|i| speed_at(track, i) < max_speed))
        .count();
    let n = runs.len();
    let (passed, score) = obeyed_share(ev, color, obeyed, n);
    let feedback = if n == 0 {
        never_on(color, passed)
    } else if passed {
        Text::new(format!("每次遇到{}都停够了 {seconds} 秒。", color_zh(color)), format!("Every time on {color}, your robot stopped for {seconds} s."))
    } else {
        Text::new(
            format!("机器人在 {n} 次{}中只有 {obeyed} 次停够了 {seconds} 秒。看到{}就 stop()，再 wait({seconds})。", color_zh(color), color_zh(color)),
            format!("Your robot stopped for {seconds} s on only {obeyed} of {n} {color} cards. On {color}, call stop() and then wait({seconds})."),
        )
    };
    CheckOutcome::new(passed, score, feedback).measure("visits", n as f64).measure("obeyed", obeyed as f64)
}

fn slow_on_color(ev: &Evidence, color: &str, max_speed: f64, grace: f64) -> CheckOutcome {
    let runs = visits(ev, color);
    let track = ev.track();
    let skip = (grace * TICK_HZ as f64).round() as usize;
    let fastest = |&(s, e): &(usize, usize)| ((s + skip).min(e)..e).map(|i| speed_at(track, i)).fold(0.0, f64::max);
    let obeyed = runs.iter().filter(|r| fastest(r) <= max_speed).count();
    let top = runs.iter().map(fastest).fold(0.0, f64::max);
    let n = runs.len();
    let (passed, score) = obeyed_share(ev, color, obeyed, n);
    let feedback = if n == 0 {
        never_on(color, passed)
    } else if passed {
        Text::new(format!("在{}上机器人都开得很慢。", color_zh(color)), format!("Your robot drove slowly on every {color} card."))
    } else {
        Text::new(
            format!("在{}上机器人开得太快了（最快 {:.2} 米/秒，限速 {max_speed} 米/秒）。", color_zh(color), top),
            format!("Your robot drove too fast on {color} (up to {:.2} m/s; the limit is {max_speed} m/s).", top),
        )
    };
    CheckOutcome::new(passed, score, feedback).measure("visits", n as f64).measure("top_speed_m_s", top)
}

/// (passed, score) for a colour rule: every visit obeyed. A robot that never
/// reaches a colour painted on the floor has not obeyed anything; where the
/// colour is not on the floor at all, there is nothing to obey.
fn obeyed_share(ev: &Evidence, color: &str, obeyed: usize, visits: usize) -> (bool, f64) {
    if visits > 0 {
        return (obeyed == visits, obeyed as f64 / visits as f64);
    }
    let painted = qiming_sim::PaletteColor::from_name(color).is_some_and(|c| ev.scenario.paint.iter().any(|p| p.color == c));
    if painted { (false, 0.0) } else { (true, 1.0) }
}

/// A colour rule with nothing to judge: the robot never got onto the colour.
fn never_on(color: &str, passed: bool) -> Text {
    if passed {
        Text::new(format!("场地上没有{}，这一项不用检查。", color_zh(color)), format!("There is no {color} on this floor, so there was nothing to check."))
    } else {
        Text::new(
            format!("机器人没有开到{}上，所以这条规则没有机会遵守。", color_zh(color)),
            format!("Your robot never reached a {color} card, so it never got to follow this rule."),
        )
    }
}

fn color_zh(color: &str) -> String {
    let zh = match color {
        "white" => "白色",
        "black" => "黑色",
        "red" => "红色",
        "green" => "绿色",
        "blue" => "蓝色",
        "yellow" => "黄色",
        "orange" => "橙色",
        "purple" => "紫色",
        "gray" | "grey" => "灰色",
        "brown" => "棕色",
        "cyan" => "青色",
        "pink" => "粉色",
        other => other,
    };
    format!("{zh}区域")
}

/// The last number in the printed output (integers and decimals, with sign).
fn last_number(text: &str) -> Option<f64> {
    let mut last = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit() || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            last = text[start..i].trim_end_matches('.').parse::<f64>().ok().or(last);
        } else {
            i += 1;
        }
    }
    last
}

fn output_number(ev: &Evidence, expected: f64, tolerance: f64) -> CheckOutcome {
    match last_number(&ev.run.report.output) {
        Some(v) if (v - expected).abs() <= tolerance => {
            CheckOutcome::new(true, 1.0, Text::new(format!("答案 {v} 正确。"), format!("Your answer {v} is right."))).measure("answer", v)
        }
        Some(v) => CheckOutcome::new(
            false,
            0.0,
            Text::new(format!("答案 {v} 不对。再检查一下测量或计算的方法。"), format!("Your answer {v} is not right. Check how you measure or calculate it.")),
        )
        .measure("answer", v),
        None => CheckOutcome::new(
            false,
            0.0,
            Text::new("程序没有打印出数字答案。用 print() 打印答案。", "Your program did not print a number. Print your answer with print()."),
        ),
    }
}

/// Distance (m) from a point to an oriented box; 0 inside it.
fn distance_to_box(p: [f64; 2], b: &qiming_sim::scenario::BoxShape) -> f64 {
    let (dx, dy) = (p[0] - b.center[0], p[1] - b.center[1]);
    let (c, s) = (libm::cos(b.angle), libm::sin(b.angle));
    let (lx, ly) = ((dx * c + dy * s).abs() - b.half_extents[0], (-dx * s + dy * c).abs() - b.half_extents[1]);
    libm::hypot(lx.max(0.0), ly.max(0.0))
}

fn sign_zh(kind: &str) -> &'static str {
    match kind {
        "stop" => "停车标志",
        "go" => "通行标志",
        "left" => "左转标志",
        "right" => "右转标志",
        "slow" => "减速标志",
        _ => "标志",
    }
}

fn rest_near_sign(ev: &Evidence, kind: &str, min: f64, max: f64, max_speed: f64) -> CheckOutcome {
    let [x, y, _] = *ev.track().last().unwrap_or(&ev.scenario.start);
    let r = ev.scenario.robot.radius;
    let nearest = ev
        .scenario
        .solids
        .iter()
        .filter(|s| s.sign.is_some_and(|k| k.name() == kind))
        .filter_map(|s| match &s.shape {
            qiming_sim::scenario::SolidShape::Box(b) => Some((distance_to_box([x, y], b) - r, s.label.as_str())),
            qiming_sim::scenario::SolidShape::Circle { center, radius } => Some((libm::hypot(x - center[0], y - center[1]) - radius - r, s.label.as_str())),
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (zh, en) = (sign_zh(kind), format!("{kind} sign"));
    let Some((gap, label)) = nearest else {
        return CheckOutcome::new(false, 0.0, Text::new(format!("场地上没有{zh}。"), format!("There is no {en} in this arena.")));
    };
    let gap = gap.max(0.0);
    let touched = ev.run.sim.events.iter().any(|e| matches!(e, SimEvent::Contact { solid, .. } if solid == label));
    let speed = final_speed(ev.track());
    let at_rest = speed < max_speed;
    let (passed, feedback) = if touched {
        (false, Text::new(format!("机器人碰到了{zh}。在离它还有一段距离时就停下。"), format!("Your robot touched the {en}. Stop before you reach it.")))
    } else if !at_rest {
        (
            false,
            Text::new(
                format!("结束时机器人还在动。在{zh}前 stop()，再等它停稳。"),
                format!("Your robot was still moving at the end. Call stop() before the {en} and let it come to rest."),
            ),
        )
    } else if gap > max {
        (
            false,
            Text::new(
                format!("机器人停在离{zh} {} 米处，太远了（要在 {} 米以内）。", m(gap), m(max)),
                format!("Your robot stopped {} m from the {en} — too far (it must be within {} m).", m(gap), m(max)),
            ),
        )
    } else if gap < min {
        (false, Text::new(format!("机器人停在离{zh} {} 米处，太近了。", m(gap)), format!("Your robot stopped {} m from the {en} — too close.", m(gap))))
    } else {
        (true, Text::new(format!("机器人停在离{zh} {} 米的地方，正好！", m(gap)), format!("Your robot stopped {} m from the {en} — just right!", m(gap))))
    };
    CheckOutcome::new(passed, if passed { 1.0 } else { 0.0 }, feedback)
        .measure("gap_m", gap)
        .measure("final_speed_m_s", speed.min(99.0))
        .measure("touched", f64::from(u8::from(touched)))
}

fn output_lines_fraction(ev: &Evidence, expected: &str, zero_at: f64) -> CheckOutcome {
    let want: Vec<&str> = expected.trim().lines().map(str::trim).collect();
    let got: Vec<&str> = ev.run.report.output.trim().lines().map(str::trim).collect();
    let right = want.iter().enumerate().filter(|(i, w)| got.get(*i) == Some(*w)).count();
    let share = if want.is_empty() { 1.0 } else { right as f64 / want.len() as f64 };
    let score = ((share - zero_at) / (1.0 - zero_at)).clamp(0.0, 1.0);
    let passed = right == want.len();
    let feedback = if passed {
        Text::new("打印的每一行都对。", "Every printed line is right.")
    } else {
        Text::new(
            format!("{} 行里有 {right} 行打印对了。逐行对照要求的输出检查。", want.len()),
            format!("{right} of {} lines are right. Compare your output with the expected one line by line.", want.len()),
        )
    };
    CheckOutcome::new(passed, score, feedback).measure("lines_right", right as f64).measure("lines_expected", want.len() as f64).measure("share_right", share)
}

/// Steps of every `episode <n> <steps> <return>` line, in order.
fn episode_steps(output: &str) -> Vec<f64> {
    output
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            if parts.next() != Some("episode") {
                return None;
            }
            let _n: f64 = parts.next()?.parse().ok()?;
            let steps: f64 = parts.next()?.parse().ok()?;
            let _ret: f64 = parts.next()?.parse().ok()?;
            steps.is_finite().then_some(steps)
        })
        .collect()
}

fn learning_curve(ev: &Evidence, min_episodes: usize, first: usize, last: usize, max_ratio: f64, optimal: f64) -> CheckOutcome {
    let steps = episode_steps(&ev.run.report.output);
    let n = steps.len();
    let mean = |xs: &[f64]| if xs.is_empty() { f64::NAN } else { xs.iter().sum::<f64>() / xs.len() as f64 };
    let early = mean(&steps[..first.min(n)]);
    let late = mean(&steps[n.saturating_sub(last)..]);
    let limit = max_ratio * optimal;
    let (passed, feedback) = if n < min_episodes {
        (
            false,
            Text::new(
                format!("只找到 {n} 行 episode 输出，至少要 {min_episodes} 行（每个回合打印一行：episode 回合号 步数 总奖励）。"),
                format!("Found {n} episode lines; at least {min_episodes} are needed (print one line per episode: episode number steps total)."),
            ),
        )
    } else if late > limit || late.is_nan() {
        (
            false,
            Text::new(
                format!("最后 {last} 个回合平均走了 {late:.1} 步，最短路线只要 {optimal} 步：还没有学会。"),
                format!("The last {last} episodes took {late:.1} steps on average; the shortest route takes {optimal}: not learned yet."),
            ),
        )
    } else if early <= late {
        (
            false,
            Text::new(
                format!("前 {first} 个回合（平均 {early:.1} 步）并不比最后 {last} 个回合（{late:.1} 步）长：看不出学习的过程。"),
                format!("The first {first} episodes ({early:.1} steps on average) are no longer than the last {last} ({late:.1}): no learning shows."),
            ),
        )
    } else {
        (
            true,
            Text::new(
                format!("学习曲线很好：从平均 {early:.1} 步降到了 {late:.1} 步。"),
                format!("A good learning curve: from {early:.1} steps on average down to {late:.1}."),
            ),
        )
    };
    let out = CheckOutcome::new(passed, if passed { 1.0 } else { 0.0 }, feedback).measure("episodes", n as f64);
    let out = if early.is_finite() { out.measure("first_mean_steps", early) } else { out };
    if late.is_finite() { out.measure("last_mean_steps", late) } else { out }
}

#[cfg(test)]
mod tests {
    use qiming_runtime::{Outcome, RunReport};
    use qiming_sim::{FinalPose, Scenario, SimSummary};

    use super::*;

    /// A 3 × 2 m arena with a stop sign whose face is at x = 2.0 and a left sign far away.
    const SIGNS: &str = r#"
format_version = 1
name = "signs"
duration = 20
[arena]
size = [3.0, 2.0]
[robot]
x = 0.5
y = 1.0
heading = 0
[[signs]]
kind = "stop"
center = [2.01, 1.0]
facing = 180
[[signs]]
kind = "left"
center = [0.3, 0.3]
facing = 0
"#;

    /// A run that drives along y = 1 from x = 0.5 to `end_x` and then stands
    /// still for a second, printing `output`.
    fn run_to(end_x: f64, output: &str, events: Vec<SimEvent>) -> RunResult {
        let mut track: Vec<[f64; 3]> = (0..=100).map(|i| [0.5 + (end_x - 0.5) * i as f64 / 100.0, 1.0, 0.0]).collect();
        track.extend(std::iter::repeat_n([end_x, 1.0, 0.0], 100));
        let mut report = RunReport::new(Outcome::Finished);
        report.output = output.to_string();
        let sim = SimSummary {
            ticks: track.len() as u64,
            sim_time: track.len() as f64 / TICK_HZ as f64,
            collisions: events.iter().filter(|e| matches!(e, SimEvent::Contact { .. })).count() as u64,
            final_pose: FinalPose { x: end_x, y: 1.0, heading: 0.0 },
            events,
            track,
            state_digest: String::new(),
        };
        RunResult { report, sim, replay: None, samples: Vec::new() }
    }

    fn check(kind: &CheckKind, run: &RunResult, expect_output: Option<&str>, optimal_steps: Option<f64>) -> CheckOutcome {
        let scenario = Scenario::parse(SIGNS, "<test>").unwrap().resolve(0);
        let arena = Arena::new(&scenario);
        let ev = Evidence { run, scenario: &scenario, arena: &arena, expect_output, expect_number: None, optimal_steps, laps: Default::default() };
        evaluate(kind, &ev)
    }

    #[test]
    fn rest_near_sign_passes_at_the_right_gap_and_fails_too_far_or_touching() {
        let kind = CheckKind::RestNearSign { sign: "stop".into(), min: 0.05, max: 0.3, max_speed: 0.01 };
        let radius = Scenario::parse(SIGNS, "<test>").unwrap().resolve(0).robot.radius;
        // Front 0.15 m before the sign's face (x = 2.0).
        let good = check(&kind, &run_to(2.0 - 0.15 - radius, "", Vec::new()), None, None);
        assert!(good.passed && good.score == 1.0, "{good:?}");
        assert!((good.measured["gap_m"] - 0.15).abs() < 0.002, "{:?}", good.measured);
        let far = check(&kind, &run_to(1.0, "", Vec::new()), None, None);
        assert!(!far.passed && far.score == 0.0 && far.feedback.en.contains("too far"), "{far:?}");
        // At the right gap, but it touched the sign on the way (and backed off).
        let touched = vec![SimEvent::Contact { tick: 50, solid: "sign 1".into(), point: [2.0, 1.0] }];
        let out = check(&kind, &run_to(2.0 - 0.15 - radius, "", touched), None, None);
        assert!(!out.passed && out.feedback.zh.contains("碰到了停车标志"), "{out:?}");
        // Touching another sign does not count against the stop sign.
        let other = vec![SimEvent::Contact { tick: 50, solid: "sign 2".into(), point: [0.3, 0.3] }];
        assert!(check(&kind, &run_to(2.0 - 0.15 - radius, "", other), None, None).passed);
    }

    #[test]
    fn output_lines_fraction_gives_credit_above_guessing_only() {
        let kind = CheckKind::OutputLinesFraction { expected: String::new(), zero_at: 0.5 };
        let want = "left\nright\nleft\nstop";
        let all = check(&kind, &run_to(1.0, "left\nright\nleft\nstop\n", Vec::new()), Some(want), None);
        assert!(all.passed && all.score == 1.0, "{all:?}");
        let three = check(&kind, &run_to(1.0, "left\nright\nright\nstop", Vec::new()), Some(want), None);
        assert!(!three.passed && (three.score - 0.5).abs() < 1e-9, "{three:?}");
        let half = check(&kind, &run_to(1.0, "left\nleft\nleft\nleft", Vec::new()), Some(want), None);
        assert!(!half.passed && half.score == 0.0, "{half:?}");
        assert_eq!(half.measured["lines_right"], 2.0);
    }

    fn episodes(steps: impl Iterator<Item = u32>) -> String {
        steps.enumerate().map(|(i, s)| format!("episode {i} {s} -{s}.0\n")).collect()
    }

    #[test]
    fn learning_curve_wants_enough_episodes_that_get_shorter() {
        let kind = CheckKind::LearningCurve { min_episodes: 100, first: 10, last: 20, max_ratio: 1.5 };
        // 60 steps at first, falling to 10 on a 9-step optimum.
        let learned = episodes((0..150).map(|i| if i < 50 { 60 - i } else { 10 }));
        let out = check(&kind, &run_to(1.0, &format!("map\n{learned}q 0 1 2 3 4\n"), Vec::new()), None, Some(9.0));
        assert!(out.passed, "{out:?}");
        assert_eq!(out.measured["episodes"], 150.0);
        // Too few episodes.
        let few = check(&kind, &run_to(1.0, &episodes((0..50).map(|_| 9)), Vec::new()), None, Some(9.0));
        assert!(!few.passed && few.feedback.en.contains("Found 50 episode lines"), "{few:?}");
        // Short from the start (a memorised route): no learning shows.
        let flat = check(&kind, &run_to(1.0, &episodes((0..150).map(|_| 9)), Vec::new()), None, Some(9.0));
        assert!(!flat.passed && flat.feedback.en.contains("no learning shows"), "{flat:?}");
        // Never learned.
        let lost = check(&kind, &run_to(1.0, &episodes((0..150).map(|i| 100 - i / 3)), Vec::new()), None, Some(9.0));
        assert!(!lost.passed && lost.feedback.en.contains("not learned yet"), "{lost:?}");
    }
}
