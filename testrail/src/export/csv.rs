//! `runs.csv`: TestRail's run export columns, one row per case per run.

use super::ExportRun;
use super::status::{section_levels, status_id, status_label};

/// The header of TestRail's run CSV export, in its order.
pub(crate) const HEADERS: [&str; 23] = [
    "ID",
    "Title",
    "Assigned To",
    "Case ID",
    "Comment",
    "Defects",
    "Expected Result",
    "Preconditions",
    "Priority",
    "References",
    "Run",
    "Run ID",
    "Section",
    "Section Hierarchy",
    "Status",
    "Steps",
    "Steps (Step)",
    "Steps (Expected Result)",
    "Steps (Status)",
    "Template",
    "Tested By",
    "Tested On",
    "Type",
];

/// The whole CSV (RFC 4180: CRLF line ends, fields quoted when needed).
pub(crate) fn runs_csv(runs: &[ExportRun]) -> String {
    let mut out = row(HEADERS.iter().map(|h| (*h).to_owned()));
    for run in runs {
        for (offset, case) in run.recorded.cases.iter().enumerate() {
            let levels = section_levels(case.case.section.as_deref());
            let steps: Vec<_> = case.steps.iter().filter(|s| s.kind == "step").collect();
            let numbered = |text: &dyn Fn(&crate::run_folder::RecordedStep) -> String| {
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| format!("{}. {}", i + 1, text(step)).trim_end().to_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let comment = case
                .case
                .id
                .and_then(|id| run.results.get(&id))
                .map(|r| r.comment.clone())
                .or_else(|| case.reason.clone())
                .unwrap_or_default();
            out.push_str(&row([
                format!("T{}", run.first_test_id + offset as u64),
                case.case.title.clone(),
                String::new(),
                case.case.id.map(|id| format!("C{id}")).unwrap_or_default(),
                comment,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                run.recorded.name.clone(),
                format!("R{}", run.run_id),
                levels.last().cloned().unwrap_or_default(),
                levels.join(" > "),
                status_label(status_id(&case.status)).to_owned(),
                String::new(),
                numbered(&|s| s.title.clone()),
                numbered(&|s| s.expected.join("; ")),
                numbered(&|s| status_label(status_id(&s.status)).to_owned()),
                super::TEMPLATE.to_owned(),
                "jspec".to_owned(),
                case.finished_at.clone(),
                String::new(),
            ]));
        }
    }
    out
}

fn row(fields: impl IntoIterator<Item = String>) -> String {
    let mut line = fields
        .into_iter()
        .map(|f| quote(&f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote("say \"hi\"\nthen"), "\"say \"\"hi\"\"\nthen\"");
    }
}
