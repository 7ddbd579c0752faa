//! The vocabulary labs and lessons are classified by: grade bands, curriculum
//! modules of the 2022 信息科技 standard, and the four core literacies.

use serde::{Deserialize, Serialize};

/// Text in both of Qiming's languages.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text { zh: zh.into(), en: en.into() }
    }
}

/// Grade bands, as the standard's stages group them (10–12 is senior high).
pub const GRADE_BANDS: &[&str] = &["1-2", "3-4", "5-6", "7-9", "10-12"];

/// Curriculum modules: (id, 中文名, English name, usual grade band).
pub const MODULES: &[(&str, &str, &str, &str)] = &[
    ("sharing", "信息交流与分享", "Sharing and communicating information", "1-2"),
    ("online-learning", "在线学习与生活", "Online learning and life", "3-4"),
    ("data-encoding", "数据与编码", "Data and encoding", "3-4"),
    ("algorithms", "身边的算法", "Algorithms around us", "5-6"),
    ("process-control", "过程与控制", "Process and control", "5-6"),
    ("internet", "互联网应用与创新", "Internet applications and innovation", "7-9"),
    ("iot", "物联网实践与探索", "Internet of Things practice", "7-9"),
    ("ai-society", "人工智能与智慧社会", "AI and the smart society", "7-9"),
    ("data-computation", "数据与计算", "Data and computation", "10-12"),
    ("ai-intro", "人工智能初步", "Introduction to AI", "10-12"),
    ("algorithms-intro", "算法初步", "Introduction to algorithms", "10-12"),
];

/// The four core literacies: (id, 中文名, English name).
pub const LITERACIES: &[(&str, &str, &str)] = &[
    ("information-awareness", "信息意识", "Information awareness"),
    ("computational-thinking", "计算思维", "Computational thinking"),
    ("digital-learning", "数字化学习与创新", "Digital learning and innovation"),
    ("social-responsibility", "信息社会责任", "Information social responsibility"),
];

pub fn module_name(id: &str) -> Option<(&'static str, &'static str)> {
    MODULES.iter().find(|m| m.0 == id).map(|m| (m.1, m.2))
}

pub fn is_literacy(id: &str) -> bool {
    LITERACIES.iter().any(|l| l.0 == id)
}
