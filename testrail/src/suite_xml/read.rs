//! Reading a suite XML file (TestRail's export or ours) back into a [`Suite`]. Unknown elements
//! are ignored; `<sections>` may be the root, as TestRail's import guide allows.

use super::element::{Element, parse};
use super::{Section, Suite};
use crate::model::{CaseText, StepText};

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML (at byte {0}): {1}")]
    Syntax(u64, String),
    #[error("unknown entity `&{0};`")]
    Entity(String),
    #[error("the file has no root element")]
    Empty,
    #[error("the root element is <{0}>, not <suite> or <sections>")]
    Root(String),
}

/// Parses the file.
pub fn read(xml: &str) -> Result<Suite, XmlError> {
    let root = parse(xml)?;
    match root.name.as_str() {
        "suite" => Ok(Suite {
            id: root.text_of("id").and_then(|id| number(&id, 'S')),
            name: root.text_of("name").unwrap_or_default(),
            description: root.text_of("description").unwrap_or_default(),
            sections: sections(root.child("sections")),
        }),
        "sections" => Ok(Suite {
            sections: sections(Some(&root)),
            ..Suite::default()
        }),
        other => Err(XmlError::Root(other.to_string())),
    }
}

fn sections(element: Option<&Element>) -> Vec<Section> {
    element
        .map(|e| e.all("section").map(section).collect())
        .unwrap_or_default()
}

fn section(element: &Element) -> Section {
    Section {
        name: element.text_of("name").unwrap_or_default(),
        description: element.text_of("description").unwrap_or_default(),
        cases: element
            .child("cases")
            .map(|cases| cases.all("case").map(case).collect())
            .unwrap_or_default(),
        sections: sections(element.child("sections")),
    }
}

fn case(element: &Element) -> CaseText {
    let custom = element.child("custom");
    let field = |name: &str| custom.and_then(|c| c.text_of(name));
    let refs = element.text_of("references").unwrap_or_default();
    CaseText {
        id: element.text_of("id").and_then(|id| number(&id, 'C')),
        title: element.text_of("title").unwrap_or_default(),
        case_type: element.text_of("type").filter(|t| !t.is_empty()),
        priority: element.text_of("priority").filter(|p| !p.is_empty()),
        estimate: element.text_of("estimate").filter(|e| !e.is_empty()),
        refs: refs
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        preconditions: field("preconds").unwrap_or_default(),
        steps: custom
            .and_then(|c| c.child("steps_separated"))
            .map(|steps| steps.all("step").map(step).collect())
            .unwrap_or_default(),
        ..CaseText::default()
    }
}

fn step(element: &Element) -> StepText {
    StepText {
        content: element.text_of("content").unwrap_or_default(),
        expected: element.text_of("expected").unwrap_or_default(),
    }
}

/// `C123` (or `123`) -> 123.
fn number(text: &str, prefix: char) -> Option<u64> {
    let text = text.trim();
    text.strip_prefix(prefix).unwrap_or(text).parse().ok()
}
