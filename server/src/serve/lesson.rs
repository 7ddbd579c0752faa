//! The lab page's lesson panel, read from the curriculum: the lesson's goals
//! and steps, the robot functions the lab uses (with units and ranges from
//! the lab's robot), a picture of its arena, and the program languages
//! offered by default for the class's grade band.
//!
//! Nothing here is written per lab: goals and steps come from the lesson's
//! sections, functions from the names the lesson, instructions and starter
//! program use, sensors and ranges from the first visible case's robot.

use qiming_curriculum::{Lab, Lesson};
use qiming_sim::RobotSpec;
use serde_json::{Value, json};

use super::org::Class;

// ---------------------------------------------------------------- grade bands

/// The school stages that decide which program languages a class sees by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// Grades 1–6 (小学): Rhai only.
    Primary,
    /// Grades 7–9 (初中): Rhai; WebAssembly under an "advanced" switch.
    Junior,
    /// Grades 10–12 (高中): every language of the lab.
    Senior,
}

impl Band {
    pub fn of_grade(grade: u8) -> Band {
        match grade {
            0..=6 => Band::Primary,
            7..=9 => Band::Junior,
            _ => Band::Senior,
        }
    }

    /// The band of a curriculum grade band (`"3-4"`, `"7-9"`, `"10-12"`…).
    pub fn of_lab(grade_band: &str) -> Band {
        let first: u8 = grade_band.split('-').next().and_then(|g| g.trim().parse().ok()).unwrap_or(1);
        Band::of_grade(first)
    }

    pub fn name(self) -> &'static str {
        match self {
            Band::Primary => "primary",
            Band::Junior => "junior",
            Band::Senior => "senior",
        }
    }
}

const CN_DIGITS: [(&str, u8); 12] =
    [("十二", 12), ("十一", 11), ("十", 10), ("一", 1), ("二", 2), ("三", 3), ("四", 4), ("五", 5), ("六", 6), ("七", 7), ("八", 8), ("九", 9)];

/// A grade number (1–12) written at the start of `s`: `5`, `12`, `五`, `十一`.
fn grade_at_start(s: &str) -> Option<u8> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        return digits.parse().ok().filter(|g| (1..=12).contains(g));
    }
    CN_DIGITS.iter().find(|(w, _)| s.starts_with(w)).map(|(_, g)| *g)
}

/// A grade number (1–12) written at the end of `s`.
fn grade_at_end(s: &str) -> Option<u8> {
    let digits: String = s.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    if !digits.is_empty() {
        return digits.parse().ok().filter(|g| (1..=12).contains(g));
    }
    CN_DIGITS.iter().find(|(w, _)| s.ends_with(w)).map(|(_, g)| *g)
}

/// The grade (1–12) a class's name states, as Chinese schools name classes:
/// `五年级（2）班`, `7年级3班`, `初二(1)班`, `高一 3 班`, `五(2)班`, or
/// `Grade 5 A`. None when the name does not say (`机器人社团`, `2023级1班`
/// — an intake year is not a grade).
pub fn grade_in_class_name(name: &str) -> Option<u8> {
    // Full-width digits and brackets as plain ones; no spaces.
    let s: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '（' => '(',
            _ => c,
        })
        .collect();
    if let Some(at) = s.find("年级") {
        return grade_at_end(&s[..at]);
    }
    for (stage, base) in [("初", 6), ("高", 9)] {
        if let Some(at) = s.find(stage)
            && let Some(n) = grade_at_start(&s[at + stage.len()..]).filter(|n| (1..=3).contains(n))
        {
            return Some(base + n);
        }
    }
    // `五(2)班`: a grade, then the class number in brackets.
    if let Some(at) = s.find('(')
        && at > 0
        && s.ends_with('班')
    {
        return grade_at_end(&s[..at]);
    }
    let lower = s.to_lowercase();
    if let Some(at) = lower.find("grade") {
        return grade_at_start(&lower[at + "grade".len()..]);
    }
    None
}

/// The band a class is taught in: from the grade its name states, else the
/// lab's own grade band (the class has no grade field; see docs/api.md).
pub fn band_of(class: &Class, lab: &Lab) -> (Band, &'static str) {
    match grade_in_class_name(&class.name) {
        Some(g) => (Band::of_grade(g), "class_name"),
        None => (Band::of_lab(&lab.grade_band), "lab"),
    }
}

/// The languages the editor offers at first, and those behind the
/// "advanced" switch. A teacher who chose the assignment's languages has
/// decided: all of them are offered.
pub fn offered(allowed: &[String], band: Band, teacher_chose: bool) -> (Vec<String>, Vec<String>) {
    if teacher_chose || band == Band::Senior {
        return (allowed.to_vec(), Vec::new());
    }
    let (beginner, other): (Vec<String>, Vec<String>) = allowed.iter().cloned().partition(|l| l == "rhai");
    if beginner.is_empty() {
        // A lab without Rhai: its languages are the only way to do it.
        return (other, Vec::new());
    }
    match band {
        Band::Junior => (beginner, other),
        _ => (beginner, Vec::new()),
    }
}

// ---------------------------------------------------------------- the lesson's outline

/// What a lesson section is for, by its heading (the lesson format's fixed sections).
const SECTION_ROLES: &[(&str, &str, &str)] = &[
    ("goals", "学习目标", "Goals"),
    ("steps", "动手做", "Do"),
    ("needs", "要用到的 Rhai 知识", "Rhai you need"),
    ("think", "想一想", "Think"),
    ("practice", "练一练", "Try it"),
    ("discuss", "讨论", "Discuss"),
];

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{2e80}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Joins a hard-wrapped line to the text before it: a space, except between Chinese characters.
fn join_line(text: &mut String, line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    if !text.is_empty() && !text.ends_with(is_cjk) && !line.starts_with(is_cjk) {
        text.push(' ');
    }
    text.push_str(line);
}

/// `[text](other-lesson.md#anchor)` → `text`: the panel has no lesson pages to link to.
fn without_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find("](").and_then(|close| after[close + 2..].find(')').map(|end| (close, close + 2 + end))) {
            Some((close, end)) if !after[..close].contains('[') => {
                out.push_str(&rest[..open]);
                out.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One language's body as `{"goals": [..], "steps": [..], "sections": [{"role", "heading", "text"}]}`.
fn outline_of(body: &str, lang: usize) -> Value {
    struct Section {
        heading: String,
        lines: Vec<String>,
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        }
        match line.strip_prefix("## ") {
            Some(h) if !fence => {
                // `## 变量 let {#let}`: the anchor is not part of the title.
                let h = h.split(" {#").next().unwrap_or(h).trim();
                sections.push(Section { heading: h.to_string(), lines: Vec::new() })
            }
            _ => {
                if let Some(s) = sections.last_mut() {
                    s.lines.push(line.to_string());
                }
            }
        }
    }
    let role_of = |heading: &str| SECTION_ROLES.iter().find(|r| if lang == 0 { r.1 == heading } else { r.2 == heading }).map(|r| r.0);
    let items = |lines: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in lines {
            let t = line.trim_start();
            let marker = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")).or_else(|| {
                let digits = t.chars().take_while(char::is_ascii_digit).count();
                (digits > 0).then(|| t[digits..].strip_prefix(". ")).flatten()
            });
            match marker {
                Some(item) => out.push(without_links(item.trim())),
                None if !t.is_empty() => {
                    if let Some(last) = out.last_mut() {
                        join_line(last, &without_links(t));
                    }
                }
                None => {}
            }
        }
        out
    };
    let mut goals = Vec::new();
    let mut steps = Vec::new();
    let mut others = Vec::new();
    for s in &sections {
        match role_of(&s.heading) {
            Some("goals") => goals = items(&s.lines),
            Some("steps") => steps = items(&s.lines),
            role => others.push(json!({"role": role, "heading": s.heading, "text": without_links(s.lines.join("\n").trim())})),
        }
    }
    json!({"goals": goals, "steps": steps, "sections": others})
}

/// The lesson as the panel shows it: `{"id","title","minutes","outline":{"zh-CN":…,"en":…}}`.
pub fn outline(lesson: &Lesson) -> Value {
    json!({
        "id": lesson.id, "title": lesson.title, "minutes": lesson.minutes,
        "outline": {"zh-CN": outline_of(&lesson.body.zh, 0), "en": outline_of(&lesson.body.en, 1)},
    })
}

// ---------------------------------------------------------------- robot functions

/// The functions a program calls on the robot, in the order of docs/programs.md.
pub const ROBOT_FUNCTIONS: [&str; 12] = ["motors", "stop", "wait", "forward", "turn", "distance", "line", "color", "bumper", "heading", "time", "print"];

/// The camera and model functions: listed only for labs that use them.
pub const AI_FUNCTIONS: [&str; 5] = ["camera", "pixel", "classify", "labels", "record"];

fn text(zh: impl Into<String>, en: impl Into<String>) -> Value {
    json!({"zh-CN": zh.into(), "en": en.into()})
}

/// An argument or result: its unit (a code the UI translates) and range.
fn quantity(name: Option<&str>, unit: &str, min: Option<f64>, max: Option<f64>) -> Value {
    let mut v = json!({"unit": unit, "min": min, "max": max});
    if let Some(n) = name {
        v["name"] = json!(n);
    }
    v
}

fn one_of(name: &str, unit: &str, values: Vec<String>) -> Value {
    json!({"name": name, "unit": unit, "values": values})
}

/// One robot function with its arguments and result, units and ranges for `robot`.
pub fn robot_function(name: &str, robot: &RobotSpec) -> Option<Value> {
    let names = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<String>>();
    let top = robot.top_speed;
    let (call, what, args, returns) = match name {
        "motors" => (
            "motors(left, right)",
            text(
                format!("设置左右轮的速度：1 是最快（{top} 米/秒），负数向后转；设置后马上返回"),
                format!("Sets the wheel speeds: 1 is full speed ({top} m/s), negative turns backwards; returns at once"),
            ),
            vec![quantity(Some("left"), "fraction", Some(-1.0), Some(1.0)), quantity(Some("right"), "fraction", Some(-1.0), Some(1.0))],
            Value::Null,
        ),
        "stop" => ("stop()", text("两个轮子都停下", "Stops both wheels"), vec![], Value::Null),
        "wait" => (
            "wait(seconds)",
            text("等待，让时间过去（机器人照旧在动）", "Lets time pass (the robot keeps moving)"),
            vec![quantity(Some("seconds"), "s", Some(0.0), None)],
            Value::Null,
        ),
        "forward" => (
            "forward(metres)",
            text("直行这么多米后停下（负数后退）", "Drives straight this far, then stops (negative: backwards)"),
            vec![quantity(Some("metres"), "m", Some(-10_000.0), Some(10_000.0))],
            Value::Null,
        ),
        "turn" => (
            "turn(degrees)",
            text("原地转这么多度后停下（正数向左转）", "Turns on the spot by this angle, then stops (positive: to the left)"),
            vec![quantity(Some("degrees"), "deg", Some(-1_000_000.0), Some(1_000_000.0))],
            Value::Null,
        ),
        "distance" => (
            "distance(name)",
            text("这个距离传感器到前方障碍物的距离", "How far the obstacle is in front of this distance sensor"),
            vec![one_of("name", "sensor", names(robot.distance.iter().map(|d| &d.name).collect()))],
            quantity(None, "m", Some(0.0), robot.distance.iter().map(|d| d.range).reduce(f64::max)),
        ),
        "line" => (
            "line(name)",
            text("这个巡线传感器下面地面有多黑：0 白，1 黑", "How dark the floor is under this line sensor: 0 white, 1 black"),
            vec![one_of("name", "sensor", names(robot.line.iter().map(|d| &d.name).collect()))],
            quantity(None, "darkness", Some(0.0), Some(1.0)),
        ),
        "color" => (
            "color(name)",
            text("这个颜色传感器下面地面的颜色（小写英文）", "The floor colour under this colour sensor (a lowercase English name)"),
            vec![one_of("name", "sensor", names(robot.color.iter().map(|d| &d.name).collect()))],
            json!({"unit": "colour", "values": qiming_sim::PaletteColor::names()}),
        ),
        "bumper" => (
            "bumper(name)",
            text("这个碰撞开关是不是正碰着东西", "Whether this bumper is touching something"),
            vec![one_of("name", "sensor", names(robot.bumpers.iter().map(|d| &d.name).collect()))],
            json!({"unit": "bool"}),
        ),
        "heading" => (
            "heading()",
            text("从开始到现在一共转了多少度（向左为正，不会绕回 0）", "Degrees turned since the start (left is positive; not wrapped)"),
            vec![],
            quantity(None, "deg", None, None),
        ),
        "time" => ("time()", text("从开始到现在过了多少秒", "Seconds since the start"), vec![], quantity(None, "s", Some(0.0), None)),
        "print" => ("print(value)", text("在输出里写一行", "Writes a line to the output"), vec![json!({"name": "value", "unit": "any"})], Value::Null),
        "camera" => (
            "camera()",
            text(
                "摄像头拍的 32×24 彩色图像（2304 个字节，每个像素红、绿、蓝），用 1 个 tick",
                "The camera's 32×24 colour image (2,304 bytes, red, green, blue per pixel); takes one tick",
            ),
            vec![],
            json!({"unit": "image"}),
        ),
        "pixel" => (
            "pixel(image, x, y)",
            text("图像里一个像素的颜色 [红, 绿, 蓝]，x 从左数，y 从上数", "One pixel's colour [r, g, b]; x from the left, y from the top"),
            vec![
                json!({"name": "image", "unit": "image"}),
                quantity(Some("x"), "pixel", Some(0.0), Some(31.0)),
                quantity(Some("y"), "pixel", Some(0.0), Some(23.0)),
            ],
            quantity(None, "rgb", Some(0.0), Some(255.0)),
        ),
        "classify" => (
            "classify(input)",
            text(
                "用部署的模型给图像或一组数分类，返回类别名；按模型的计算量用虚拟时间（每秒 1000 万次乘加）",
                "The label the deployed model gives an image or a list of numbers; takes virtual time for the model's work (10 million multiply-adds per second)",
            ),
            vec![json!({"name": "input", "unit": "image"})],
            json!({"unit": "label"}),
        ),
        "labels" => ("labels()", text("模型的所有类别名", "The model's labels"), vec![], json!({"unit": "label"})),
        "record" => (
            "record(label)",
            text(
                "把现在的摄像头图像和传感器读数连同类别名记进数据集，用 1 个 tick",
                "Keeps the camera image and sensor readings with this label in the dataset; takes one tick",
            ),
            vec![json!({"name": "label", "unit": "label"})],
            Value::Null,
        ),
        _ => return None,
    };
    // A sensor function on a robot without such sensors is of no use here.
    if args.first().is_some_and(|a| a["values"].as_array().is_some_and(Vec::is_empty)) {
        return None;
    }
    Some(json!({"name": name, "call": call, "what": what, "args": args, "returns": returns}))
}

/// Whether `text` calls `name(`: not as part of a longer name.
fn calls(text: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    text.match_indices(&pattern).any(|(at, _)| !text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The robot functions the lab uses: those its lesson, instructions or Rhai
/// starter program call (all of them when none is named).
pub fn functions_for(lab: &Lab, lesson: Option<&Lesson>, robot: &RobotSpec) -> Vec<Value> {
    let mut texts = vec![lab.instructions.zh.as_str(), lab.instructions.en.as_str()];
    if let Some(l) = lesson {
        texts.extend([l.body.zh.as_str(), l.body.en.as_str()]);
    }
    if let Some(s) = lab.starter.get("rhai") {
        texts.push(s.as_str());
    }
    let used: Vec<&str> = ROBOT_FUNCTIONS.iter().chain(&AI_FUNCTIONS).copied().filter(|f| texts.iter().any(|t| calls(t, f))).collect();
    let chosen = if used.is_empty() { ROBOT_FUNCTIONS.to_vec() } else { used };
    chosen.into_iter().filter_map(|f| robot_function(f, robot)).collect()
}

// ---------------------------------------------------------------- the panel

/// The lesson panel of a lab: lesson outline, robot functions, the arena of
/// its first visible case, and the languages offered for the class.
pub fn panel(catalogue: &qiming_curriculum::Catalogue, lab: &Lab, class: &Class, allowed: &[String], teacher_chose: bool) -> Value {
    let lesson = lab.lesson.as_deref().and_then(|id| catalogue.lessons.iter().find(|l| l.id == id));
    // Only a practice case's arena: a hidden case's layout is not shown.
    let case = lab.cases.iter().find(|c| !c.hidden);
    let world = case.map(|c| c.scenario.resolve(c.seed));
    let robot = world.as_ref().map_or_else(RobotSpec::starter, |w| w.robot.clone());
    let (band, source) = band_of(class, lab);
    let (default, advanced) = offered(allowed, band, teacher_chose);
    json!({
        "lesson": lesson.map(outline),
        "robot": {"model": robot.model, "radius": robot.radius, "top_speed": robot.top_speed, "functions": functions_for(lab, lesson, &robot)},
        "arena": world.as_ref().map(|w| qiming_sim::view::WorldView::of(w, robot.radius as f32)),
        "grade_band": band.name(),
        "grade_band_from": source,
        "offered_languages": {"default": default, "advanced": advanced},
    })
}
