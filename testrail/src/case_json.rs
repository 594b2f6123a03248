//! Bodies for the REST API's `add_case/{section_id}`, one per case, with the section path to
//! resolve to an id. Template, type and priority are written as labels (`template`, `type`,
//! `priority`), not as `template_id`/`type_id`/`priority_id`: the ids differ per TestRail
//! instance (get_templates, get_case_types, get_priorities), so whoever sends a body maps the
//! labels first and drops these three keys.

use serde::Serialize;

use crate::model::{CaseText, STEPS_TEMPLATE};

/// One case to add: where it goes and what to send.
#[derive(Debug, Serialize)]
pub struct AddCase {
    /// The section path, `"PKI > Server to server"`.
    pub section: String,
    /// The jspec case id (`C123`), when the case has one: the case to update instead of add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub body: AddCaseBody,
}

/// `add_case`'s fields (TestRail's names), labels in place of per-instance ids.
#[derive(Debug, Serialize)]
pub struct AddCaseBody {
    pub title: String,
    pub template: &'static str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub case_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub refs: String,
    pub custom_preconds: String,
    pub custom_steps_separated: Vec<Step>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub content: String,
    pub expected: String,
}

impl AddCase {
    pub fn new(case: &CaseText) -> AddCase {
        AddCase {
            section: case.section.join(" > "),
            case_id: case.id.map(|id| format!("C{id}")),
            body: AddCaseBody {
                title: case.title.clone(),
                template: STEPS_TEMPLATE,
                case_type: case.case_type.clone(),
                priority: case.priority.clone(),
                estimate: case.estimate.clone(),
                refs: case.refs.join(", "),
                custom_preconds: case.preconditions.clone(),
                custom_steps_separated: case
                    .steps
                    .iter()
                    .map(|s| Step {
                        content: s.content.clone(),
                        expected: s.expected.clone(),
                    })
                    .collect(),
            },
        }
    }
}

/// A JSON array of [`AddCase`], pretty-printed, ending in a newline.
pub fn write(cases: &[CaseText]) -> Result<String, serde_json::Error> {
    let bodies: Vec<AddCase> = cases.iter().map(AddCase::new).collect();
    let mut text = serde_json::to_string_pretty(&bodies)?;
    text.push('\n');
    Ok(text)
}
