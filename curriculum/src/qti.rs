//! QTI 3.0 export and import of items, so a bank moves to and from TAO and
//! other e-testing systems: one `qti-assessment-item` file per item plus an
//! IMS content-package `imsmanifest.xml` that carries Qiming's metadata.
//!
//! How each type maps, how both languages travel (`xml:lang` on a `div` or
//! `span` per language) and what QTI cannot say are documented in
//! docs/item-bank.md. XML is read and written with quick-xml through a small
//! element tree ([`El`]), never by string concatenation.

use std::path::Path;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::item::{Accepted, Block, Choice, Item, ItemKind, join_blocks, text_blocks};
use crate::meta::Text;

/// The QTI 3.0 assessment namespace.
pub const QTI_NS: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0";
/// The QTI 3.0 content-package (manifest) namespace.
pub const CP_NS: &str = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1";
/// Qiming's extension namespace for metadata QTI has no element for.
pub const QIMING_NS: &str = "urn:qiming:item-bank:1";
/// The resource type of a QTI 3.0 item in a manifest.
pub const ITEM_RESOURCE_TYPE: &str = "imsqti_item_xmlv3p0";
/// What a performance task's portable custom interaction is called.
pub const LAB_INTERACTION: &str = "urn:qiming:lab";

const SCHEMA_LOCATION: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0 https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd";

/// A QTI file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QtiError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The file is not well-formed XML.
    #[error("{path}: not well-formed XML near byte {position}: {message}")]
    Xml { path: String, position: u64, message: String },
    /// Well-formed XML that is not an item (or package) Qiming can read.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// An XML element: the tree both directions go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct El {
    /// The qualified name as written (`qti-value`, `xml:lang` stays in attrs).
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    El(El),
    Text(String),
}

impl El {
    pub fn new(name: &str) -> El {
        El { name: name.to_string(), attrs: Vec::new(), children: Vec::new() }
    }

    pub fn attr(mut self, key: &str, value: impl Into<String>) -> El {
        self.attrs.push((key.to_string(), value.into()));
        self
    }

    pub fn child(mut self, el: El) -> El {
        self.children.push(Node::El(el));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> El {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// The name without a namespace prefix.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Child elements (text between them, such as indentation, skipped).
    pub fn elements(&self) -> impl Iterator<Item = &El> {
        self.children.iter().filter_map(|n| if let Node::El(e) = n { Some(e) } else { None })
    }

    pub fn find(&self, local: &str) -> Option<&El> {
        self.elements().find(|e| e.local() == local)
    }

    /// The first element with this local name at any depth (self included).
    pub fn descendant(&self, local: &str) -> Option<&El> {
        if self.local() == local {
            return Some(self);
        }
        self.elements().find_map(|e| e.descendant(local))
    }

    /// The element's text, with `<br/>` as a line break.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::El(e) if e.local() == "br" => out.push('\n'),
                Node::El(e) => out.push_str(&e.text_content()),
            }
        }
        out
    }

    /// Writes the element as an XML document (declaration, two-space indent).
    pub fn to_document(&self) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        // Writing to a Vec cannot fail.
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        write_el(&mut w, self);
        let mut s = String::from_utf8(w.into_inner()).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses an XML document into its root element.
    pub fn parse(xml: &str) -> Result<El, (u64, String)> {
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<El> = Vec::new();
        let mut root: Option<El> = None;
        let err = |r: &Reader<&[u8]>, m: String| (r.buffer_position(), m);
        loop {
            let event = reader.read_event().map_err(|e| (reader.error_position(), e.to_string()))?;
            let push_text = |stack: &mut Vec<El>, t: String| {
                if let Some(top) = stack.last_mut() {
                    if let Some(Node::Text(prev)) = top.children.last_mut() {
                        prev.push_str(&t);
                    } else {
                        top.children.push(Node::Text(t));
                    }
                }
            };
            match event {
                Event::Start(e) | Event::Empty(e) if root.is_some() => {
                    return Err(err(&reader, format!("element <{}> after the root element", String::from_utf8_lossy(e.name().as_ref()))));
                }
                Event::Start(e) => stack.push(start_el(&e, reader.decoder()).map_err(|m| err(&reader, m))?),
                Event::Empty(e) => {
                    let el = start_el(&e, reader.decoder()).map_err(|m| err(&reader, m))?;
                    match stack.last_mut() {
                        Some(top) => top.children.push(Node::El(el)),
                        None => root = Some(el),
                    }
                }
                Event::End(_) => {
                    let Some(done) = stack.pop() else { return Err(err(&reader, "closing tag without an opening tag".into())) };
                    match stack.last_mut() {
                        Some(top) => top.children.push(Node::El(done)),
                        None => root = Some(done),
                    }
                }
                Event::Text(t) => {
                    let t = t.xml_content().map_err(|e| err(&reader, e.to_string()))?.into_owned();
                    push_text(&mut stack, t);
                }
                Event::CData(t) => {
                    let t = t.xml_content().map_err(|e| err(&reader, e.to_string()))?.into_owned();
                    push_text(&mut stack, t);
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().map_err(|e| err(&reader, e.to_string()))? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.decode().map_err(|e| err(&reader, e.to_string()))?;
                            quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(|| err(&reader, format!("unknown entity &{name};")))?.to_string()
                        }
                    };
                    push_text(&mut stack, resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err((reader.buffer_position(), format!("<{}> is never closed", stack[stack.len() - 1].name)));
        }
        root.ok_or((0, "no root element".into()))
    }
}

fn start_el(e: &BytesStart, decoder: quick_xml::encoding::Decoder) -> Result<El, String> {
    let mut el = El::new(&String::from_utf8_lossy(e.name().as_ref()));
    for a in e.attributes() {
        let a = a.map_err(|x| x.to_string())?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        // The decoder form works whether or not quick-xml's `encoding` feature is on
        // (another crate in the workspace turns it on).
        let value = a.decode_and_unescape_value(decoder).map_err(|x| x.to_string())?.into_owned();
        el.attrs.push((key, value));
    }
    Ok(el)
}

fn write_el(w: &mut Writer<Vec<u8>>, el: &El) {
    let mut start = BytesStart::new(el.name.as_str());
    for (k, v) in &el.attrs {
        start.push_attribute((k.as_str(), v.as_str()));
    }
    // Writing to a Vec cannot fail, so the results are ignored.
    if el.children.is_empty() {
        let _ = w.write_event(Event::Empty(start));
        return;
    }
    let _ = w.write_event(Event::Start(start));
    for c in &el.children {
        match c {
            Node::El(e) => write_el(w, e),
            Node::Text(t) => {
                // Only `<`, `>` and `&` need escaping in text; quotes stay readable in code.
                let _ = w.write_event(Event::Text(BytesText::from_escaped(quick_xml::escape::partial_escape(t.as_str()))));
            }
        }
    }
    let _ = w.write_event(Event::End(BytesEnd::new(el.name.as_str())));
}

// ---------------------------------------------------------------- export

const LANGS: [&str; 2] = ["zh-CN", "en"];

fn lang_of(t: &Text, lang: &str) -> String {
    if lang == "zh-CN" { t.zh.clone() } else { t.en.clone() }
}

/// A stem or explanation: one `div` per language, paragraphs as `p` (lines
/// joined by `br`), code as `pre class="language-rhai"`.
fn blocks_div(t: &Text, lang: &str) -> El {
    let mut div = El::new("div").attr("xml:lang", lang);
    // Stored texts are canonical (validated on load), so the split succeeds.
    for b in text_blocks(&lang_of(t, lang)).unwrap_or_default() {
        match b {
            Block::Para(p) => {
                let mut el = El::new("p");
                for (i, line) in p.split('\n').enumerate() {
                    if i > 0 {
                        el = el.child(El::new("br"));
                    }
                    el = el.text(line);
                }
                div = div.child(el);
            }
            Block::Code { lang: code_lang, code } => {
                let mut pre = El::new("pre");
                if !code_lang.is_empty() {
                    pre = pre.attr("class", format!("language-{code_lang}"));
                }
                div = div.child(pre.text(code));
            }
        }
    }
    div
}

/// Inline text in both languages: a `span` per language.
fn spans(mut el: El, t: &Text) -> El {
    for lang in LANGS {
        el = el.child(El::new("span").attr("xml:lang", lang).text(lang_of(t, lang)));
    }
    el
}

fn value(v: impl Into<String>) -> El {
    El::new("qti-value").text(v)
}

fn base(base_type: &str, v: impl Into<String>) -> El {
    El::new("qti-base-value").attr("base-type", base_type).text(v)
}

fn var(id: &str) -> El {
    El::new("qti-variable").attr("identifier", id)
}

fn set_outcome(id: &str, expr: El) -> El {
    El::new("qti-set-outcome-value").attr("identifier", id).child(expr)
}

fn num(x: f64) -> String {
    // Display writes the shortest text that parses back to the same f64.
    format!("{x}")
}

/// `if cond { SCORE = then } else { SCORE = 0 }`.
fn score_if(cond: El, then: El) -> El {
    El::new("qti-response-condition")
        .child(El::new("qti-response-if").child(cond).child(set_outcome("SCORE", then)))
        .child(El::new("qti-response-else").child(set_outcome("SCORE", base("float", "0"))))
}

/// One item as a `qti-assessment-item` element.
pub fn item_element(item: &Item) -> El {
    let max = item.max_points();
    let mut decl = El::new("qti-response-declaration").attr("identifier", "RESPONSE");
    let mut rules: Vec<El> = Vec::new();
    let matched = || El::new("qti-match").child(var("RESPONSE")).child(El::new("qti-correct").attr("identifier", "RESPONSE"));
    let max_value = || var("MAXSCORE");
    let mut body = El::new("qti-item-body");
    for lang in LANGS {
        body = body.child(blocks_div(&item.stem, lang));
    }
    let choice_list = |mut el: El, options: &[Choice], tag: &str| {
        for o in options {
            el = el.child(spans(El::new(tag).attr("identifier", o.id.as_str()), &o.text));
        }
        el
    };
    match &item.kind {
        ItemKind::Single { options, answer } => {
            decl = decl.attr("cardinality", "single").attr("base-type", "identifier").child(El::new("qti-correct-response").child(value(answer.as_str())));
            body = body.child(choice_list(
                El::new("qti-choice-interaction").attr("response-identifier", "RESPONSE").attr("max-choices", "1").attr("shuffle", "false"),
                options,
                "qti-simple-choice",
            ));
            rules.push(score_if(matched(), max_value()));
        }
        ItemKind::TrueFalse { answer } => {
            decl = decl.attr("cardinality", "single").attr("base-type", "identifier").child(El::new("qti-correct-response").child(value(answer.to_string())));
            let mut inter = El::new("qti-choice-interaction").attr("response-identifier", "RESPONSE").attr("max-choices", "1").attr("shuffle", "false");
            for (id, t) in [("true", Text::new("正确", "True")), ("false", Text::new("错误", "False"))] {
                inter = inter.child(spans(El::new("qti-simple-choice").attr("identifier", id), &t));
            }
            body = body.child(inter);
            rules.push(score_if(matched(), max_value()));
        }
        ItemKind::Multiple { options, answer } => {
            let mut correct = El::new("qti-correct-response");
            for a in answer {
                correct = correct.child(value(a.as_str()));
            }
            decl = decl.attr("cardinality", "multiple").attr("base-type", "identifier").child(correct);
            body = body.child(choice_list(
                El::new("qti-choice-interaction").attr("response-identifier", "RESPONSE").attr("max-choices", "0").attr("shuffle", "false"),
                options,
                "qti-simple-choice",
            ));
            // Qiming's rule: any wrong option scores 0, else one point per
            // right option chosen: the response must be a subset of the key.
            let cond = El::new("qti-and")
                .child(El::new("qti-not").child(El::new("qti-is-null").child(var("RESPONSE"))))
                .child(El::new("qti-contains").child(El::new("qti-correct").attr("identifier", "RESPONSE")).child(var("RESPONSE")));
            rules.push(score_if(cond, El::new("qti-container-size").child(var("RESPONSE"))));
        }
        ItemKind::Ordering { options, answer } => {
            let mut correct = El::new("qti-correct-response");
            for a in answer {
                correct = correct.child(value(a.as_str()));
            }
            decl = decl.attr("cardinality", "ordered").attr("base-type", "identifier").child(correct);
            body = body.child(choice_list(
                El::new("qti-order-interaction").attr("response-identifier", "RESPONSE").attr("shuffle", "false"),
                options,
                "qti-simple-choice",
            ));
            // QTI has no operator for adjacent pairs: the exported scoring is
            // all or nothing (Qiming's own scoring gives partial credit).
            rules.push(score_if(matched(), max_value()));
        }
        ItemKind::Matching { options, targets, answer } => {
            let mut correct = El::new("qti-correct-response");
            let mut mapping = El::new("qti-mapping").attr("default-value", "0");
            for (o, t) in answer {
                correct = correct.child(value(format!("{o} {t}")));
                mapping = mapping.child(El::new("qti-map-entry").attr("map-key", format!("{o} {t}")).attr("mapped-value", "1"));
            }
            decl = decl.attr("cardinality", "multiple").attr("base-type", "directedPair").child(correct).child(mapping);
            let inter = El::new("qti-match-interaction")
                .attr("response-identifier", "RESPONSE")
                .attr("max-associations", answer.len().to_string())
                .attr("shuffle", "false");
            let set = |list: &[Choice]| {
                let mut s = El::new("qti-simple-match-set");
                for c in list {
                    s = s.child(spans(El::new("qti-simple-associable-choice").attr("identifier", c.id.as_str()).attr("match-max", "1"), &c.text));
                }
                s
            };
            body = body.child(inter.child(set(options)).child(set(targets)));
            rules.push(
                El::new("qti-response-condition").child(
                    El::new("qti-response-if")
                        .child(El::new("qti-not").child(El::new("qti-is-null").child(var("RESPONSE"))))
                        .child(set_outcome("SCORE", El::new("qti-map-response").attr("identifier", "RESPONSE"))),
                ),
            );
        }
        ItemKind::Numeric { answer, tolerance, unit } => {
            decl = decl.attr("cardinality", "single").attr("base-type", "float").child(El::new("qti-correct-response").child(value(num(*answer))));
            let mut p = El::new("p").child(El::new("qti-text-entry-interaction").attr("response-identifier", "RESPONSE").attr("expected-length", "8"));
            if let Some(u) = unit {
                p = spans(p, u);
            }
            body = body.child(p);
            let equal = if *tolerance > 0.0 {
                El::new("qti-equal").attr("tolerance-mode", "absolute").attr("tolerance", format!("{} {}", num(*tolerance), num(*tolerance)))
            } else {
                El::new("qti-equal").attr("tolerance-mode", "exact")
            };
            let cond = El::new("qti-and")
                .child(El::new("qti-not").child(El::new("qti-is-null").child(var("RESPONSE"))))
                .child(equal.child(var("RESPONSE")).child(El::new("qti-correct").attr("identifier", "RESPONSE")));
            rules.push(score_if(cond, max_value()));
        }
        ItemKind::Text { accept } => {
            let mut mapping = El::new("qti-mapping").attr("default-value", "0").attr("upper-bound", "1");
            for a in accept.zh.iter().chain(&accept.en) {
                mapping = mapping.child(El::new("qti-map-entry").attr("map-key", a.as_str()).attr("mapped-value", "1").attr("case-sensitive", "false"));
            }
            let first = accept.zh.first().cloned().unwrap_or_default();
            decl = decl.attr("cardinality", "single").attr("base-type", "string").child(El::new("qti-correct-response").child(value(first))).child(mapping);
            body = body.child(El::new("p").child(El::new("qti-text-entry-interaction").attr("response-identifier", "RESPONSE").attr("expected-length", "20")));
            rules.push(
                El::new("qti-response-condition").child(
                    El::new("qti-response-if")
                        .child(El::new("qti-not").child(El::new("qti-is-null").child(var("RESPONSE"))))
                        .child(set_outcome("SCORE", El::new("qti-map-response").attr("identifier", "RESPONSE"))),
                ),
            );
        }
        ItemKind::Performance { lab, levels } => {
            decl = decl.attr("cardinality", "single").attr("base-type", "float");
            let levels_text = levels.iter().map(|l| num(*l)).collect::<Vec<_>>().join(" ");
            let markup = spans(El::new("qti-interaction-markup"), &Text::new(format!("Qiming 实验：{lab}"), format!("Qiming lab: {lab}")));
            body = body.child(
                El::new("qti-portable-custom-interaction")
                    .attr("response-identifier", "RESPONSE")
                    .attr("custom-interaction-type-identifier", LAB_INTERACTION)
                    .attr("module", "qiming-lab")
                    .attr("data-lab", lab.as_str())
                    .attr("data-levels", levels_text)
                    .child(
                        El::new("qti-interaction-modules")
                            .child(El::new("qti-interaction-module").attr("id", "qiming-lab").attr("primary-path", "qiming-lab.js")),
                    )
                    .child(markup),
            );
            // One point per level the lab score (a fraction) reaches.
            rules.push(set_outcome("SCORE", base("float", "0")));
            for l in levels {
                rules.push(
                    El::new("qti-response-condition").child(
                        El::new("qti-response-if")
                            .child(El::new("qti-gte").child(var("RESPONSE")).child(base("float", num(*l))))
                            .child(set_outcome("SCORE", El::new("qti-sum").child(var("SCORE")).child(base("float", "1")))),
                    ),
                );
            }
        }
    }
    rules.push(set_outcome("FEEDBACK", base("identifier", "EXPLANATION")));
    let mut rp = El::new("qti-response-processing");
    for r in rules {
        rp = rp.child(r);
    }
    let mut feedback_body = El::new("qti-content-body");
    for lang in LANGS {
        feedback_body = feedback_body.child(blocks_div(&item.explanation, lang));
    }
    El::new("qti-assessment-item")
        .attr("xmlns", QTI_NS)
        .attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
        .attr("xsi:schemaLocation", SCHEMA_LOCATION)
        .attr("identifier", item.id.as_str())
        .attr("title", item.id.as_str())
        .attr("adaptive", "false")
        .attr("time-dependent", "false")
        .attr("xml:lang", "zh-CN")
        .child(decl)
        .child(El::new("qti-outcome-declaration").attr("identifier", "SCORE").attr("cardinality", "single").attr("base-type", "float"))
        .child(
            El::new("qti-outcome-declaration")
                .attr("identifier", "MAXSCORE")
                .attr("cardinality", "single")
                .attr("base-type", "float")
                .child(El::new("qti-default-value").child(value(max.to_string()))),
        )
        .child(El::new("qti-outcome-declaration").attr("identifier", "FEEDBACK").attr("cardinality", "single").attr("base-type", "identifier"))
        .child(body)
        .child(rp)
        .child(
            El::new("qti-modal-feedback")
                .attr("outcome-identifier", "FEEDBACK")
                .attr("identifier", "EXPLANATION")
                .attr("show-hide", "show")
                .child(feedback_body),
        )
}

/// One item as a QTI 3.0 XML document.
pub fn item_to_xml(item: &Item) -> String {
    item_element(item).to_document()
}

/// Qiming's metadata for one item, kept in the manifest's resource metadata
/// (QTI has no place for literacy, grade band, IRT priors or review status).
pub fn metadata_element(item: &Item) -> El {
    let mut m = El::new("qiming:item").attr("population", item.population.as_str()).attr("literacy", item.literacy.as_str());
    if let Some(x) = &item.module {
        m = m.attr("module", x.as_str());
    }
    if let Some(x) = &item.grade_band {
        m = m.attr("grade-band", x.as_str());
    }
    m = m.attr("status", item.status.as_str()).attr("difficulty", num(item.difficulty));
    if let Some(a) = item.discrimination {
        m = m.attr("discrimination", num(a));
    }
    if let Some(c) = item.guessing {
        m = m.attr("guessing", num(c));
    }
    m = m.attr("exposure", item.exposure.to_string());
    for k in &item.knowledge {
        m = m.child(El::new("qiming:knowledge").text(k.as_str()));
    }
    // QTI's mapping lists accepted spellings without a language; this keeps it.
    if let ItemKind::Text { accept } = &item.kind {
        for (lang, list) in [("zh-CN", &accept.zh), ("en", &accept.en)] {
            for a in list {
                m = m.child(El::new("qiming:accept").attr("xml:lang", lang).text(a.as_str()));
            }
        }
    }
    m
}

/// The content-package manifest for a set of items in `items/<id>.xml`.
pub fn manifest_element(items: &[Item]) -> El {
    let mut resources = El::new("resources");
    for item in items {
        let href = format!("items/{}.xml", item.id);
        resources = resources.child(
            El::new("resource")
                .attr("identifier", item.id.as_str())
                .attr("type", ITEM_RESOURCE_TYPE)
                .attr("href", href.as_str())
                .child(El::new("metadata").child(metadata_element(item)))
                .child(El::new("file").attr("href", href.as_str())),
        );
    }
    El::new("manifest")
        .attr("xmlns", CP_NS)
        .attr("xmlns:qiming", QIMING_NS)
        .attr("identifier", "qiming-item-bank")
        .child(El::new("metadata").child(El::new("schema").text("QTI Package")).child(El::new("schemaversion").text("3.0.0")))
        .child(El::new("organizations"))
        .child(resources)
}

/// Writes `dir/items/<id>.xml` for every item and `dir/imsmanifest.xml`.
/// Returns the number of items written.
pub fn export_package(items: &[Item], dir: &Path) -> Result<usize, QtiError> {
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| QtiError::Io { path, source }
    };
    let items_dir = dir.join("items");
    std::fs::create_dir_all(&items_dir).map_err(io(&items_dir))?;
    for item in items {
        let p = items_dir.join(format!("{}.xml", item.id));
        std::fs::write(&p, item_to_xml(item)).map_err(io(&p))?;
    }
    let m = dir.join("imsmanifest.xml");
    std::fs::write(&m, manifest_element(items).to_document()).map_err(io(&m))?;
    Ok(items.len())
}

// ---------------------------------------------------------------- import

/// Reads `dir/imsmanifest.xml` and every item resource it lists.
pub fn import_package(dir: &Path) -> Result<Vec<Item>, QtiError> {
    let mpath = dir.join("imsmanifest.xml");
    let shown = mpath.display().to_string();
    let manifest = read_xml(&mpath)?;
    let invalid = |m: String| QtiError::Invalid { path: shown.clone(), message: m };
    if manifest.local() != "manifest" {
        return Err(invalid(format!("the root element is <{}>, not <manifest>", manifest.name)));
    }
    let resources = manifest.find("resources").ok_or_else(|| invalid("no <resources>".into()))?;
    let mut items = Vec::new();
    for r in resources.elements().filter(|r| r.local() == "resource" && r.get("type") == Some(ITEM_RESOURCE_TYPE)) {
        let href = r.get("href").ok_or_else(|| invalid(format!("resource {:?} has no href", r.get("identifier").unwrap_or(""))))?;
        // A package names files inside itself: no absolute paths, no `..`.
        let rel = Path::new(href);
        if rel.is_absolute() || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir)) {
            return Err(invalid(format!("resource href {href:?} points outside the package")));
        }
        let path = dir.join(rel);
        let root = read_xml(&path)?;
        let meta = r.find("metadata").and_then(|m| m.elements().find(|e| e.local() == "item" && e.name.contains(':')));
        let item = item_from_element(&root, meta).map_err(|message| QtiError::Invalid { path: path.display().to_string(), message })?;
        items.push(item);
    }
    Ok(items)
}

fn read_xml(path: &Path) -> Result<El, QtiError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| QtiError::Io { path: shown.clone(), source })?;
    El::parse(&text).map_err(|(position, message)| QtiError::Xml { path: shown, position, message })
}

/// Parses one item document; `meta` is its `qiming:item` metadata, if any.
pub fn item_from_xml(xml: &str, meta: Option<&El>) -> Result<Item, String> {
    let root = El::parse(xml).map_err(|(pos, m)| format!("not well-formed XML near byte {pos}: {m}"))?;
    item_from_element(&root, meta)
}

fn lang_children<'a>(el: &'a El, lang: &str) -> Option<&'a El> {
    el.elements().find(|e| e.get("xml:lang") == Some(lang))
}

/// Both languages of inline text (`span xml:lang`). Text without language
/// spans (an item from a one-language system) is used for both.
fn read_spans(el: &El) -> Text {
    match (lang_children(el, "zh-CN"), lang_children(el, "en")) {
        (Some(zh), Some(en)) => Text::new(zh.text_content(), en.text_content()),
        (Some(one), None) | (None, Some(one)) => Text::new(one.text_content(), one.text_content()),
        (None, None) => {
            let t = el.text_content().trim().to_string();
            Text::new(t.clone(), t)
        }
    }
}

fn read_blocks(div: &El) -> String {
    let mut blocks = Vec::new();
    for e in div.elements() {
        match e.local() {
            "pre" => {
                let lang = e.get("class").and_then(|c| c.split_whitespace().find_map(|x| x.strip_prefix("language-"))).unwrap_or("");
                blocks.push(Block::Code { lang: lang.to_string(), code: e.text_content() });
            }
            "qti-choice-interaction" | "qti-order-interaction" | "qti-match-interaction" | "qti-portable-custom-interaction" => {}
            _ => {
                let t = e.text_content();
                if !t.trim().is_empty() {
                    blocks.push(Block::Para(t.trim().to_string()));
                }
            }
        }
    }
    join_blocks(&blocks)
}

/// Both languages of block text: a `div xml:lang` per language.
fn read_block_text(el: &El) -> Text {
    match (lang_children(el, "zh-CN"), lang_children(el, "en")) {
        (Some(zh), Some(en)) => Text::new(read_blocks(zh), read_blocks(en)),
        (Some(one), None) | (None, Some(one)) => {
            let t = read_blocks(one);
            Text::new(t.clone(), t)
        }
        (None, None) => {
            let t = read_blocks(el);
            Text::new(t.clone(), t)
        }
    }
}

fn read_choices(el: &El, tag: &str) -> Vec<Choice> {
    el.elements().filter(|c| c.local() == tag).map(|c| Choice { id: c.get("identifier").unwrap_or("").to_string(), text: read_spans(c) }).collect()
}

fn parse_num(s: &str, what: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| format!("{what}: {s:?} is not a number"))
}

fn item_from_element(root: &El, meta: Option<&El>) -> Result<Item, String> {
    if root.local() != "qti-assessment-item" {
        return Err(format!("the root element is <{}>, not <qti-assessment-item>", root.name));
    }
    if let Some(ns) = root.get("xmlns")
        && ns != QTI_NS
    {
        return Err(format!("namespace {ns:?} is not QTI 3.0 ({QTI_NS})"));
    }
    let id = root.get("identifier").ok_or("qti-assessment-item has no identifier")?.to_string();
    let decl = root
        .elements()
        .find(|e| e.local() == "qti-response-declaration" && e.get("identifier") == Some("RESPONSE"))
        .ok_or("no qti-response-declaration for RESPONSE")?;
    let correct: Vec<String> =
        decl.find("qti-correct-response").map(|c| c.elements().filter(|v| v.local() == "qti-value").map(El::text_content).collect()).unwrap_or_default();
    let body = root.find("qti-item-body").ok_or("no qti-item-body")?;
    let stem = read_block_text(body);
    let explanation = root
        .elements()
        .find(|e| e.local() == "qti-modal-feedback")
        .map(|f| read_block_text(f.find("qti-content-body").unwrap_or(f)))
        .unwrap_or_else(|| Text::new("", ""));
    let rp = root.find("qti-response-processing");
    let find_interaction = |name: &str| body.descendant(name);

    let kind = if let Some(ci) = find_interaction("qti-choice-interaction") {
        let options = read_choices(ci, "qti-simple-choice");
        let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
        if decl.get("cardinality") == Some("multiple") {
            ItemKind::Multiple { options, answer: correct }
        } else if ids == ["true", "false"] {
            ItemKind::TrueFalse { answer: correct.first().map(String::as_str) == Some("true") }
        } else {
            ItemKind::Single { options, answer: correct.into_iter().next().ok_or("no correct response")? }
        }
    } else if let Some(oi) = find_interaction("qti-order-interaction") {
        ItemKind::Ordering { options: read_choices(oi, "qti-simple-choice"), answer: correct }
    } else if let Some(mi) = find_interaction("qti-match-interaction") {
        let sets: Vec<&El> = mi.elements().filter(|e| e.local() == "qti-simple-match-set").collect();
        let [left, right] = sets.as_slice() else { return Err("qti-match-interaction needs two qti-simple-match-set".into()) };
        let answer = correct
            .iter()
            .map(|p| p.split_once(' ').map(|(a, b)| (a.to_string(), b.trim().to_string())).ok_or(format!("directed pair {p:?} is not \"A B\"")))
            .collect::<Result<Vec<_>, _>>()?;
        ItemKind::Matching { options: read_choices(left, "qti-simple-associable-choice"), targets: read_choices(right, "qti-simple-associable-choice"), answer }
    } else if let Some(pci) = find_interaction("qti-portable-custom-interaction") {
        let lab = pci.get("data-lab").ok_or("a portable custom interaction without data-lab is not a Qiming lab")?.to_string();
        let levels = pci.get("data-levels").unwrap_or("1").split_whitespace().map(|l| parse_num(l, "data-levels")).collect::<Result<Vec<_>, _>>()?;
        ItemKind::Performance { lab, levels }
    } else if find_interaction("qti-text-entry-interaction").is_some() {
        if decl.get("base-type") == Some("float") || decl.get("base-type") == Some("integer") {
            let answer = parse_num(correct.first().ok_or("no correct response")?, "correct response")?;
            let tolerance = match rp.and_then(|r| r.descendant("qti-equal")).and_then(|e| e.get("tolerance")) {
                Some(t) => parse_num(t.split_whitespace().next().unwrap_or("0"), "tolerance")?,
                None => 0.0,
            };
            let unit = body.elements().find(|p| p.descendant("qti-text-entry-interaction").is_some()).and_then(|p| {
                let zh = lang_children(p, "zh-CN")?;
                let en = lang_children(p, "en")?;
                Some(Text::new(zh.text_content(), en.text_content()))
            });
            ItemKind::Numeric { answer, tolerance, unit }
        } else {
            let from_meta: Option<Accepted> = meta.map(|m| {
                let of =
                    |lang: &str| m.elements().filter(|e| e.local() == "accept" && e.get("xml:lang") == Some(lang)).map(El::text_content).collect::<Vec<_>>();
                Accepted { zh: of("zh-CN"), en: of("en") }
            });
            let accept = match from_meta {
                Some(a) if !a.zh.is_empty() || !a.en.is_empty() => a,
                _ => {
                    // A foreign item: its mapping's keys, by script (any Han
                    // character: Chinese), falling back to the correct response.
                    let mut keys: Vec<String> =
                        decl.find("qti-mapping").map(|m| m.elements().filter_map(|e| e.get("map-key").map(str::to_string)).collect()).unwrap_or_default();
                    if keys.is_empty() {
                        keys = correct.clone();
                    }
                    let han = |s: &String| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
                    let zh: Vec<String> = keys.iter().filter(|k| han(k)).cloned().collect();
                    let en: Vec<String> = keys.iter().filter(|k| !han(k)).cloned().collect();
                    Accepted { zh: if zh.is_empty() { en.clone() } else { zh }, en: if en.is_empty() { keys.clone() } else { en } }
                }
            };
            ItemKind::Text { accept }
        }
    } else {
        return Err("no interaction Qiming can read (choice, order, match, text entry, or a Qiming lab)".into());
    };

    let m = |k: &str| meta.and_then(|m| m.get(k)).map(str::to_string);
    let float = |k: &str| m(k).map(|v| parse_num(&v, k)).transpose();
    Ok(Item {
        id,
        population: m("population").unwrap_or_else(|| "student".into()),
        literacy: m("literacy").unwrap_or_default(),
        module: m("module"),
        grade_band: m("grade-band"),
        knowledge: meta.map(|me| me.elements().filter(|e| e.local() == "knowledge").map(El::text_content).collect()).unwrap_or_default(),
        status: m("status").unwrap_or_else(|| "draft".into()),
        difficulty: float("difficulty")?.unwrap_or(0.0),
        discrimination: float("discrimination")?,
        guessing: float("guessing")?,
        exposure: m("exposure").map(|v| v.parse::<u64>().map_err(|_| format!("exposure {v:?} is not a count"))).transpose()?.unwrap_or(0),
        stem,
        kind,
        explanation,
    })
}
