//! The resilience report as Markdown (for a wiki, a merge request, or TestRail's text fields).

use std::fmt::Write as _;

use super::model::{CaseHistory, Explanation, Report, outcome_counts};
use super::recovery::Outcome;
use super::{Meta, Render, outcome_text, seconds, status_symbol};
use crate::report::format_elapsed;

/// Renders the whole report.
pub fn render_markdown(report: &Report, meta: &Meta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", meta.title);
    let _ = writeln!(out, "{}\n", meta.subtitle(report));
    Markdown.sections(&mut out, report);
    let _ = writeln!(out, "## Method\n\n{}", super::METHOD);
    out
}

/// The Markdown rendering of each section.
struct Markdown;

impl Render for Markdown {
    fn summary(&self, out: &mut String, report: &Report) {
        let _ = writeln!(out, "## Summary\n\n{}\n", super::headline(report));
        let _ = writeln!(
            out,
            "| Component | Cases | Survived | Not survived | Blocked | Recovery (min / median / max) |\n|---|---:|---:|---:|---:|---|"
        );
        for view in &report.components {
            let recovery = view.recovery.map_or("–".to_string(), |r| {
                format!(
                    "{} / {} / {} ({} measured)",
                    seconds(r.min),
                    seconds(r.median),
                    seconds(r.max),
                    r.count
                )
            });
            let _ = writeln!(
                out,
                "| [{}](#{}) | {} | {} | {} | {} | {} |",
                view.component.title(),
                view.component.slug(),
                view.cases.len(),
                view.survived,
                view.not_survived,
                view.blocked,
                recovery
            );
        }
        out.push('\n');
    }

    fn components(&self, out: &mut String, report: &Report) {
        let _ = writeln!(out, "## Components\n");
        for view in &report.components {
            let _ = writeln!(out, "### {}\n", view.component.title());
            let _ = writeln!(
                out,
                "| Case | Latest | Passed in | Faults and recovery | Why it did not pass |\n|---|---|---|---|---|"
            );
            for &index in &view.cases {
                let case = &report.cases[index];
                let (passed, ran) = case.pass_rate();
                let _ = writeln!(
                    out,
                    "| {} | {} | {passed} of {ran} | {} | {} |",
                    cell(&case.name),
                    case.latest().map_or("–", |o| o.status.as_str()),
                    cell(&faults_text(case)),
                    cell(&why(case))
                );
            }
            out.push('\n');
        }
    }

    fn findings(&self, out: &mut String, report: &Report) {
        let listed: Vec<&CaseHistory> = report
            .cases
            .iter()
            .filter(|c| matches!(c.explanation, Explanation::Finding(_)))
            .collect();
        let _ = writeln!(out, "## Findings: faults not survived\n");
        if listed.is_empty() {
            let _ = writeln!(out, "None in the latest runs.\n");
        }
        for case in listed {
            let Explanation::Finding(summary) = &case.explanation else {
                continue;
            };
            let _ = writeln!(out, "- **{}**: {} (`{}`)", case.name, summary, case.file);
            for recovery in &case.recoveries {
                if matches!(recovery.outcome, Outcome::NotRecovered { .. }) {
                    let _ = writeln!(out, "  - {}: {}", recovery.fault(), outcome_text(recovery));
                }
            }
        }
        let unexplained: Vec<&CaseHistory> = report.unexplained().collect();
        if !unexplained.is_empty() {
            let _ = writeln!(out, "\n### Unexplained failures\n");
            for case in unexplained {
                let _ = writeln!(
                    out,
                    "- **{}** (`{}`): {}",
                    case.name,
                    case.file,
                    case.comment.as_deref().unwrap_or("failed")
                );
            }
        }
        out.push('\n');
    }

    fn areas(&self, out: &mut String, report: &Report) {
        let _ = writeln!(
            out,
            "## Areas of the statement of work\n\n| Area | Passed | Failed | Blocked | Unexplained |\n|---|---:|---:|---:|---:|"
        );
        for area in &report.areas {
            let numbers = area.numbers().map(|n| n.to_string());
            let _ = writeln!(out, "| {} | {} |", cell(&area.area), numbers.join(" | "));
        }
        out.push('\n');
    }

    fn trends(&self, out: &mut String, report: &Report) {
        let _ = writeln!(
            out,
            "## Trends across runs\n\n✓ passed, ✗ failed, ⊘ blocked, ↻ retest, ! error, · not in that run; the time is the slowest recovery the case measured.\n"
        );
        let labels: Vec<&str> = report.runs.iter().map(|r| r.label.as_str()).collect();
        let _ = writeln!(out, "| Case | {} | Passed |", labels.join(" | "));
        let _ = writeln!(out, "|---|{}---|", "---|".repeat(labels.len()));
        for case in &report.cases {
            let cells: Vec<String> = case
                .per_run
                .iter()
                .map(|o| match o {
                    None => "·".to_string(),
                    Some(o) => match o.slowest_recovery {
                        Some(t) => format!("{} {}", status_symbol(o.status), seconds(t)),
                        None => status_symbol(o.status).to_string(),
                    },
                })
                .collect();
            let (passed, ran) = case.pass_rate();
            let flaky = if case.is_flaky() { " (flaky)" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {} | {passed} of {ran}{flaky} |",
                cell(&case.name),
                cells.join(" | ")
            );
        }
        out.push('\n');
    }

    fn runs(&self, out: &mut String, report: &Report) {
        let _ = writeln!(
            out,
            "## Runs\n\n| Run | Started | Folder | Lab | Passed | Failed | Blocked | Time | Notes |\n|---|---|---|---|---:|---:|---:|---|---|"
        );
        for run in &report.runs {
            let counts = outcome_counts(&run.counts).map(|n| n.to_string());
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} | {} | {} |",
                run.label,
                run.started_at,
                cell(&run.dir),
                cell(&run.lab_text()),
                counts.join(" | "),
                format_elapsed(run.counts.elapsed),
                cell(&run.notes())
            );
        }
        out.push('\n');
    }
}

/// `|` and line breaks would break a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn faults_text(case: &CaseHistory) -> String {
    let mut parts: Vec<String> = case
        .recoveries
        .iter()
        .map(|r| format!("{}: {}", r.fault(), outcome_text(r)))
        .collect();
    if parts.is_empty() {
        parts.push("no fault injected".into());
    }
    parts.extend(case.deliveries.iter().map(|d| format!("delivery: {d}")));
    parts.join("; ")
}

fn why(case: &CaseHistory) -> String {
    let comment = case.comment.clone().unwrap_or_default();
    match &case.explanation {
        Explanation::None => comment,
        Explanation::Finding(summary) => format!("**finding**: {summary} — {comment}"),
        Explanation::KnownNotFinding(summary) => {
            format!("known, not the server: {summary} — {comment}")
        }
        Explanation::Unexplained => format!("**unexplained** — {comment}"),
    }
}
