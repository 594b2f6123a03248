//! TestRail's suite XML: the file "Export to XML" writes and the case import reads. The root
//! `<suite>` holds `<id>`, `<name>`, `<description>` and nested `<sections>`; each `<section>`
//! holds `<cases>` and more `<sections>` (docs/testrail.md, "Cases").

mod element;
mod read;
mod write;

pub use read::{XmlError, read};
pub use write::write;

use crate::model::CaseText;

/// A suite as the XML file holds it: sections nested by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suite {
    /// `S12` -> 12, when the file came from TestRail.
    pub id: Option<u64>,
    pub name: String,
    pub description: String,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub description: String,
    pub cases: Vec<CaseText>,
    pub sections: Vec<Section>,
}

impl Suite {
    /// Nests cases by their section paths, in the order sections are first met. Cases without a
    /// section go to a section named after the suite (TestRail keeps cases in sections).
    pub fn from_cases(name: &str, cases: &[CaseText]) -> Suite {
        let mut suite = Suite {
            name: name.to_string(),
            ..Suite::default()
        };
        for case in cases {
            let path = if case.section.is_empty() {
                vec![name.to_string()]
            } else {
                case.section.clone()
            };
            // Where a case sits in the tree is its section and suite.
            let placed = CaseText {
                suite: None,
                section: Vec::new(),
                ..case.clone()
            };
            insert(&mut suite.sections, &path, &placed);
        }
        suite
    }

    /// Every case, depth first, with its section path and the suite's name.
    pub fn cases(&self) -> Vec<CaseText> {
        let mut out = Vec::new();
        for section in &self.sections {
            section.collect(&mut Vec::new(), &self.name, &mut out);
        }
        out
    }
}

impl Section {
    fn collect(&self, path: &mut Vec<String>, suite: &str, out: &mut Vec<CaseText>) {
        path.push(self.name.clone());
        for case in &self.cases {
            out.push(CaseText {
                section: path.clone(),
                suite: (!suite.is_empty()).then(|| suite.to_string()),
                ..case.clone()
            });
        }
        for section in &self.sections {
            section.collect(path, suite, out);
        }
        path.pop();
    }
}

/// Puts a case in the section at `path`, creating the sections it lacks.
fn insert(sections: &mut Vec<Section>, path: &[String], case: &CaseText) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let index = match sections.iter().position(|s| &s.name == first) {
        Some(index) => index,
        None => {
            sections.push(Section {
                name: first.clone(),
                ..Section::default()
            });
            sections.len() - 1
        }
    };
    let section = &mut sections[index];
    if rest.is_empty() {
        section.cases.push(case.clone());
    } else {
        insert(&mut section.sections, rest, case);
    }
}
