//! Every word an assessment report prints, in zh-CN and en: labels, level names and descriptors,
//! literacy names and the sentences reports are built from. Learners and teachers read these, so
//! no English may reach a zh-CN report (`tests/all/reports.rs` scans one).

use qiming_curriculum::meta::LITERACIES;
use qiming_grading::irt::score::LEVEL_NAMES;
use serde::Serialize;

/// The language of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// `zh-CN` (also `zh`) or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" | "zh-cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the text of this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The text of a bilingual curriculum string.
    pub fn of(self, text: &qiming_curriculum::Text) -> String {
        self.pick(&text.zh, &text.en).to_string()
    }
}

/// (key, zh-CN, en).
const TEXTS: &[(&str, &str, &str)] = &[
    ("student_report", "学生信息素养测评报告", "Student information-literacy report"),
    ("teacher_report", "教师信息素养测评报告", "Teacher information-literacy report"),
    ("class_report", "班级测评报告", "Class assessment report"),
    ("school_report", "学校测评报告", "School assessment report"),
    ("district_report", "区县测评报告", "District assessment report"),
    ("city_report", "市级测评报告", "City assessment report"),
    ("annual_report", "师生信息素养评价监测年度报告", "Annual monitoring report of teachers' and students' information literacy"),
    ("students", "学生", "Students"),
    ("teachers", "教师", "Teachers"),
    ("literacy", "素养", "Literacy"),
    ("score", "量表分", "Scale score"),
    ("se", "标准误", "Standard error"),
    ("level", "水平", "Level"),
    ("region_mean", "上级区域平均", "Region's mean"),
    ("mean", "平均分", "Mean"),
    ("sd", "标准差", "SD"),
    ("takers", "参测人数", "Takers"),
    ("participation", "参测情况", "Participation"),
    ("difference", "差值", "Difference"),
    ("scores_by_literacy", "各素养量表分", "Scale scores by literacy"),
    ("levels_by_literacy", "各素养水平分布（%）", "Levels by literacy (%)"),
    ("distribution", "量表分分布（%）", "Distribution of scale scores (%)"),
    ("strengths", "优势", "Strengths"),
    ("weaknesses", "待提高", "To work on"),
    (
        "no_strengths",
        "各素养发展较均衡，没有明显高出自身平均或区域平均的素养。",
        "Your literacies are balanced: none stands out above your own average or the region's.",
    ),
    ("no_weaknesses", "没有明显低于自身平均或区域平均的素养。", "No literacy is clearly below your own average or the region's."),
    ("mistakes", "错题本", "Mistake notebook"),
    ("no_mistakes", "本次测评没有答错的题目。", "You got every item right in this assessment."),
    ("question", "题目", "Question"),
    ("your_answer", "你的答案", "Your answer"),
    ("correct_answer", "正确答案", "Correct answer"),
    ("explanation", "解析", "Explanation"),
    ("revisit", "建议复习", "Lessons to revisit"),
    ("points", "得分", "Points"),
    ("no_answer", "（未作答）", "(no answer)"),
    ("lab_failures", "实验未通过的检查", "Lab checks not passed"),
    ("lab", "实验", "Lab"),
    ("check", "检查", "Check"),
    ("feedback", "反馈", "Feedback"),
    ("profile", "学生类型", "Profile"),
    ("profiles", "学生类型（k 均值聚类）", "Student profiles (k-means)"),
    ("share", "占比（%）", "Share (%)"),
    ("growth", "与上一年相比", "Change since last year"),
    ("previous_mean", "上一年平均分", "Last year's mean"),
    ("change", "变化", "Change"),
    ("urban", "城镇", "Urban"),
    ("rural", "乡村", "Rural"),
    ("locality", "城乡", "Urban and rural"),
    ("gender", "性别", "Gender"),
    ("female", "女", "Female"),
    ("male", "男", "Male"),
    ("gender_unknown", "未填写", "Not given"),
    ("locality_unknown", "未记录城乡", "Not recorded"),
    ("urban_rural_gap", "城乡差距（城镇减乡村）", "Urban–rural gap (urban minus rural)"),
    ("gender_gap", "性别差距（女减男）", "Gender gap (female minus male)"),
    ("classes", "各班级", "Classes"),
    ("schools", "各学校", "Schools"),
    ("districts", "各区县", "Districts"),
    ("student_list", "学生名单与成绩", "Students and their results"),
    ("name", "姓名", "Name"),
    ("group", "组别", "Group"),
    ("fewer_than_10", "少于10人，不予显示", "fewer than 10: not shown"),
    ("complementary", "为防止推算出少于10人的组而隐藏", "hidden so that a group of fewer than 10 cannot be worked out"),
    (
        "group_suppressed",
        "参测人数少于10人：为保护个人隐私，本组不报告任何统计结果。",
        "Fewer than 10 takers: to protect their privacy, no figures are reported for this group.",
    ),
    (
        "privacy_note",
        "为保护个人隐私，班级以上报告只给出汇总结果；少于10人的组不予显示，并对可能据此推算出的组一并隐藏。",
        "To protect privacy, reports above class level give only aggregates; groups of fewer than 10 are not shown, nor any group from which one could be worked out.",
    ),
    (
        "scale_note",
        "量表分以参照群体为准换算为平均500、标准差100；水平1至5由分界分数划分。",
        "Scale scores have mean 500 and SD 100 on the reference cohort; levels 1 to 5 are cut on that scale.",
    ),
    ("above_region", "高于区域平均", "above the region's mean"),
    ("below_region", "低于区域平均", "below the region's mean"),
    ("near_region", "与区域平均相当", "close to the region's mean"),
    ("above_own", "高于自身平均", "above your own average"),
    ("below_own", "低于自身平均", "below your own average"),
    ("not_taken", "未参测", "not taken"),
    ("overall_high", "整体较高", "High overall"),
    ("overall_mid", "整体中等", "Middle overall"),
    ("overall_low", "整体待提高", "Low overall"),
    ("balanced", "各素养均衡", "balanced across literacies"),
    ("relatively_strong", "相对突出", "relatively strong in"),
    ("relatively_weak", "相对薄弱", "relatively weak in"),
    ("year", "年度", "Year"),
    ("summary", "概况", "Summary"),
    ("levels", "水平分布", "Levels"),
    ("comparison", "分组比较", "Comparison"),
    ("no_previous_year", "输入中没有上一年的数据。", "The input has no data for the previous year."),
    ("full_marks_lab", "完成实验的全部检查", "pass every check of the lab"),
    ("true", "正确", "True"),
    ("false", "错误", "False"),
    ("of_region", "所在区域", "Region"),
    ("population", "对象", "Population"),
    ("schools_count", "学校数", "Schools"),
    ("districts_count", "区县数", "Districts"),
    ("p10", "第10百分位", "P10"),
    ("p50", "中位数", "Median"),
    ("p90", "第90百分位", "P90"),
    ("id", "编号", "ID"),
    ("level_1", "水平1", "Level 1"),
    ("level_2", "水平2", "Level 2"),
    ("level_3", "水平3", "Level 3"),
    ("level_4", "水平4", "Level 4"),
    ("level_5", "水平5", "Level 5"),
];

/// The text for `key` (the key itself when missing, which a test rules out).
pub fn t(lang: Lang, key: &str) -> &'static str {
    TEXTS.iter().find(|e| e.0 == key).map_or("?", |e| lang.pick(e.1, e.2))
}

/// Whether the table has `key`.
pub fn has(key: &str) -> bool {
    TEXTS.iter().any(|e| e.0 == key)
}

/// A literacy's name.
pub fn literacy_name(lang: Lang, index: usize) -> &'static str {
    let l = LITERACIES[index];
    lang.pick(l.1, l.2)
}

/// A level's name (1..=5).
pub fn level_name(lang: Lang, level: u8) -> &'static str {
    let (zh, en) = LEVEL_NAMES[usize::from(level.clamp(1, 5)) - 1];
    lang.pick(zh, en)
}

/// What a learner at `level` can do in a literacy (the level descriptors; the same five stages
/// for each literacy, with the literacy named).
pub fn level_descriptor(lang: Lang, level: u8, literacy: usize) -> String {
    let name = literacy_name(lang, literacy);
    match (lang, level.clamp(1, 5)) {
        (Lang::Zh, 1) => format!("在{name}方面刚刚起步：能在提示下识别熟悉情境中的简单问题，完成单一步骤的任务。"),
        (Lang::Zh, 2) => format!("在{name}方面正在发展：能在熟悉情境中运用基本概念，按照给定步骤解决简单问题。"),
        (Lang::Zh, 3) => format!("在{name}方面达到课程标准要求：能在常见情境中独立运用所学知识，解释自己的做法。"),
        (Lang::Zh, 4) => format!("在{name}方面表现良好：能在较陌生的情境中分析问题、比较方案，并迁移所学方法。"),
        (Lang::Zh, _) => format!("在{name}方面表现优秀：能在复杂、开放的情境中综合运用知识，提出并评价有创造性的方案。"),
        (Lang::En, 1) => format!("Emerging in {name}: recognises simple problems in familiar settings with prompts and completes single-step tasks."),
        (Lang::En, 2) => format!("Developing in {name}: applies basic ideas in familiar settings and solves simple problems by following given steps."),
        (Lang::En, 3) => {
            format!("Proficient in {name}: meets the curriculum standard; uses what was learnt on their own in common settings and explains the approach.")
        }
        (Lang::En, 4) => format!("Accomplished in {name}: analyses problems in less familiar settings, compares solutions and transfers methods."),
        (Lang::En, _) => format!("Advanced in {name}: combines knowledge in complex, open settings and proposes and evaluates creative solutions."),
    }
}

/// "fewer than 10" style note for a suppression reason.
pub fn suppression_note(lang: Lang, reason: &str) -> &'static str {
    t(lang, reason)
}
