//! The studio's words in zh-CN and en: one dictionary (`studio/i18n.toml`), switchable at run time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use qiming_curriculum::Text;

/// The language the studio speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" | "zh" | "zh-Hans" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }
    /// Picks this language's half of a curriculum text.
    pub fn pick(self, text: &Text) -> &str {
        match self {
            Lang::Zh => &text.zh,
            Lang::En => &text.en,
        }
    }
    /// Picks from a runtime message (diagnostics).
    pub fn pick_msg(self, m: &qiming_runtime::Message) -> &str {
        match self {
            Lang::Zh => &m.zh,
            Lang::En => &m.en,
        }
    }
}

#[derive(serde::Deserialize)]
struct Entry {
    #[serde(rename = "zh-CN")]
    zh: String,
    en: String,
}

const SOURCE: &str = include_str!("../i18n.toml");

fn dictionary() -> &'static BTreeMap<String, Entry> {
    static DICT: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    DICT.get_or_init(|| toml::from_str(SOURCE).expect("studio/i18n.toml is valid (checked by the tests)"))
}

/// Every key of the dictionary, for the completeness test.
pub fn keys() -> impl Iterator<Item = &'static str> {
    dictionary().keys().map(String::as_str)
}

/// Whether the dictionary has the key with both texts non-empty.
pub fn has(key: &str) -> bool {
    dictionary().get(key).is_some_and(|e| !e.zh.trim().is_empty() && !e.en.trim().is_empty())
}

/// The text for `key`. A missing key shows itself (and fails the tests), never a panic.
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    match dictionary().get(key) {
        Some(e) => match lang {
            Lang::Zh => &e.zh,
            Lang::En => &e.en,
        },
        None => key,
    }
}

/// The text for `key` with `{name}` placeholders filled in.
pub fn tf(lang: Lang, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}
