//! TestRail's multi-row case CSV: one row per step; the row that carries a Title starts a case,
//! the rows below it (Title empty) add steps. Import with "multiple rows per case", Title as the
//! column that starts a case. The headers are those of TestRail's own case export.

use crate::model::{CaseText, STEPS_TEMPLATE};

pub const HEADERS: [&str; 12] = [
    "ID",
    "Title",
    "Section",
    "Section Hierarchy",
    "Template",
    "Type",
    "Priority",
    "Estimate",
    "References",
    "Preconditions",
    "Steps (Step)",
    "Steps (Expected Result)",
];

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot write CSV: {0}")]
    Write(#[from] csv::Error),
    #[error("cannot write CSV: {0}")]
    Flush(#[from] std::io::Error),
}

/// The whole file: a header row, then each case's rows.
pub fn write(cases: &[CaseText]) -> Result<String, CsvError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADERS)?;
    for case in cases {
        for row in rows(case) {
            writer.write_record(&row)?;
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| CsvError::Flush(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A case's rows: the first with every field and the first step, one more per further step.
fn rows(case: &CaseText) -> Vec<[String; 12]> {
    let step = |i: usize| {
        case.steps
            .get(i)
            .map(|s| (s.content.clone(), s.expected.clone()))
            .unwrap_or_default()
    };
    let (content, expected) = step(0);
    let first = [
        case.id.map(|id| format!("C{id}")).unwrap_or_default(),
        case.title.clone(),
        case.section.last().cloned().unwrap_or_default(),
        case.section.join(" > "),
        STEPS_TEMPLATE.to_string(),
        case.case_type.clone().unwrap_or_default(),
        case.priority.clone().unwrap_or_default(),
        case.estimate.clone().unwrap_or_default(),
        case.refs.join(", "),
        case.preconditions.clone(),
        content,
        expected,
    ];
    let mut out = vec![first];
    for i in 1..case.steps.len() {
        let (content, expected) = step(i);
        let mut row: [String; 12] = Default::default();
        row[10] = content;
        row[11] = expected;
        out.push(row);
    }
    out
}
