//! Writing the suite XML, two spaces per level; text is escaped (`& " ' < >`) and multi-line
//! text keeps its newlines, as TestRail's import expects.

use quick_xml::escape::escape;

use super::{Section, Suite};
use crate::model::{CaseText, STEPS_TEMPLATE};

/// The whole file, with its XML declaration.
pub fn write(suite: &Suite) -> String {
    let mut out = Out::default();
    out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.open("suite");
    if let Some(id) = suite.id {
        out.leaf("id", &format!("S{id}"));
    }
    out.leaf("name", &suite.name);
    out.leaf("description", &suite.description);
    sections(&mut out, &suite.sections);
    out.close("suite");
    out.text
}

fn sections(out: &mut Out, sections: &[Section]) {
    if sections.is_empty() {
        return;
    }
    out.open("sections");
    for s in sections {
        section(out, s);
    }
    out.close("sections");
}

fn section(out: &mut Out, section: &Section) {
    out.open("section");
    out.leaf("name", &section.name);
    out.leaf("description", &section.description);
    if !section.cases.is_empty() {
        out.open("cases");
        for c in &section.cases {
            case(out, c);
        }
        out.close("cases");
    }
    sections(out, &section.sections);
    out.close("section");
}

fn case(out: &mut Out, case: &CaseText) {
    out.open("case");
    if let Some(id) = case.id {
        out.leaf("id", &format!("C{id}"));
    }
    out.leaf("title", &case.title);
    out.leaf("template", STEPS_TEMPLATE);
    optional(out, "type", case.case_type.as_deref());
    optional(out, "priority", case.priority.as_deref());
    optional(out, "estimate", case.estimate.as_deref());
    if !case.refs.is_empty() {
        out.leaf("references", &case.refs.join(", "));
    }
    out.open("custom");
    out.leaf("preconds", &case.preconditions);
    out.open("steps_separated");
    for (index, step) in case.steps.iter().enumerate() {
        out.open("step");
        out.leaf("index", &(index + 1).to_string());
        out.leaf("content", &step.content);
        out.leaf("expected", &step.expected);
        out.close("step");
    }
    out.close("steps_separated");
    out.close("custom");
    out.close("case");
}

fn optional(out: &mut Out, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.leaf(name, value);
    }
}

/// An indenting writer of elements.
#[derive(Default)]
struct Out {
    text: String,
    depth: usize,
}

impl Out {
    fn raw(&mut self, line: &str) {
        self.text.push_str(&"  ".repeat(self.depth));
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn open(&mut self, name: &str) {
        self.raw(&format!("<{name}>"));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.raw(&format!("</{name}>"));
    }

    /// `<name>text</name>`, or `<name/>` when empty.
    fn leaf(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.raw(&format!("<{name}/>"));
        } else {
            self.raw(&format!("<{name}>{}</{name}>", escape(value)));
        }
    }
}
