//! The resilience report as one self-contained HTML page (inline CSS and SVG, no script, no
//! network), in the same style as each run's report.html, printable to PDF.

use std::fmt::Write as _;

use super::model::{CaseHistory, ComponentView, Explanation, Report, outcome_counts};
use super::recovery::Outcome;
use super::{Meta, Render, outcome_text, seconds, status_symbol};
use crate::event::Status;
use crate::report::format_elapsed;
use crate::report::html::escape;
use crate::report::html::page::STYLE;

const EXTRA_STYLE: &str = r#"
td.cell{text-align:center;font-weight:600;min-width:34px}td.cell.passed{background:#c6f6d5;color:#22543d}td.cell.failed{background:#fed7d7;color:#822727}
td.cell.blocked{background:#fefcbf;color:#744210}td.cell.error{background:#e9d8fd}td.cell.retest,td.cell.skipped{background:#edf2f7}
td.cell small{display:block;font-weight:400;font-size:11px}.tag{font-size:12px;border-radius:3px;padding:0 4px;margin-left:4px}
.tag.finding{background:#feebc8;color:#7b341e}.tag.unexplained{background:#c53030;color:#fff}.tag.known{background:#e2e8f0}.tag.flaky{background:#bee3f8;color:#2a4365}
ul.faults{margin:2px 0;padding-left:18px}ul.faults li{margin:1px 0}.bad{color:#c53030}.good{color:#2f855a}
@media print{details{display:block}body{max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"#;

/// Renders the whole report.
pub fn render_html(report: &Report, meta: &Meta) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title><style>{STYLE}{EXTRA_STYLE}</style></head><body>"#,
        escape(&meta.title)
    );
    let _ = write!(
        out,
        r#"<h1>{}</h1><p class="muted">{}</p>"#,
        escape(&meta.title),
        escape(&meta.subtitle(report))
    );
    out.push_str(r##"<p><a href="#summary">Summary</a> · <a href="#components">Components</a> · <a href="#findings">Findings</a> · <a href="#areas">Areas</a> · <a href="#trends">Trends</a> · <a href="#runs">Runs</a> · <a href="#method">Method</a></p>"##);
    Html.sections(&mut out, report);
    let _ = write!(
        out,
        r#"<h2 id="method">Method</h2><p>{}</p></body></html>"#,
        escape(super::METHOD)
    );
    out
}

/// The Html rendering of each section.
struct Html;

impl Render for Html {
    fn summary(&self, out: &mut String, report: &Report) {
        let _ = write!(
            out,
            r#"<h2 id="summary">Summary</h2><p>{}</p><table><tr><th>Component</th><th>Cases</th><th>Survived</th><th>Not survived</th><th>Blocked</th><th>Recovery min / median / max</th></tr>"#,
            escape(&super::headline(report))
        );
        for view in &report.components {
            let recovery = view.recovery.map_or("–".to_string(), |r| {
                format!(
                    "{} / {} / {} <span class=\"muted\">({} measured)</span>",
                    seconds(r.min),
                    seconds(r.median),
                    seconds(r.max),
                    r.count
                )
            });
            let _ = write!(
                out,
                r##"<tr><td><a href="#{}">{}</a></td><td class="n">{}</td><td class="n good">{}</td><td class="n bad">{}</td><td class="n">{}</td><td>{recovery}</td></tr>"##,
                view.component.slug(),
                view.component.title(),
                view.cases.len(),
                view.survived,
                view.not_survived,
                view.blocked
            );
        }
        out.push_str("</table>");
    }

    fn components(&self, out: &mut String, report: &Report) {
        out.push_str(r#"<h2 id="components">Components</h2>"#);
        for view in &report.components {
            let _ = write!(
                out,
                r#"<h3 id="{}">{}</h3>"#,
                view.component.slug(),
                view.component.title()
            );
            recovery_chart(out, report, view);
            out.push_str("<table><tr><th>Case</th><th>Latest</th><th>Passed in</th><th>Faults and recovery</th><th>Why it did not pass</th></tr>");
            for &index in &view.cases {
                case_row(out, &report.cases[index]);
            }
            out.push_str("</table>");
        }
    }

    fn findings(&self, out: &mut String, report: &Report) {
        out.push_str(r#"<h2 id="findings">Findings: faults not survived</h2>"#);
        let listed: Vec<&CaseHistory> = report
            .cases
            .iter()
            .filter(|c| matches!(c.explanation, Explanation::Finding(_)))
            .collect();
        if listed.is_empty() {
            out.push_str("<p>None in the latest runs.</p>");
        } else {
            out.push_str("<ul>");
            for case in listed {
                if let Explanation::Finding(summary) = &case.explanation {
                    let _ = write!(
                        out,
                        r#"<li><b>{}</b>: {} <span class="muted">({})</span></li>"#,
                        escape(&case.name),
                        escape(summary),
                        escape(&case.file)
                    );
                }
            }
            out.push_str("</ul>");
        }
        let unexplained: Vec<&CaseHistory> = report.unexplained().collect();
        if !unexplained.is_empty() {
            out.push_str(r#"<div class="failure"><b>Unexplained failures</b> — not a documented finding: investigate, then fix the case or record the finding.<ul>"#);
            for case in unexplained {
                let _ = write!(
                    out,
                    "<li><b>{}</b> ({}): {}</li>",
                    escape(&case.name),
                    escape(&case.file),
                    escape(case.comment.as_deref().unwrap_or("failed"))
                );
            }
            out.push_str("</ul></div>");
        }
    }

    fn areas(&self, out: &mut String, report: &Report) {
        out.push_str(r#"<h2 id="areas">Areas of the statement of work</h2><table><tr><th>Area</th><th>Passed</th><th>Failed</th><th>Blocked</th><th>Unexplained</th></tr>"#);
        for area in &report.areas {
            let _ = write!(out, "<tr><td>{}</td>", escape(&area.area));
            for number in area.numbers() {
                let _ = write!(out, r#"<td class="n">{number}</td>"#);
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }

    fn trends(&self, out: &mut String, report: &Report) {
        out.push_str(r#"<h2 id="trends">Trends across runs</h2><p class="muted">Each column is a run (oldest first); the time under a result is the slowest recovery the case measured in that run.</p><table><tr><th>Case</th>"#);
        for run in &report.runs {
            let _ = write!(
                out,
                r#"<th title="{}">{}</th>"#,
                escape(&run.started_at),
                escape(&run.label)
            );
        }
        out.push_str("<th>Passed</th></tr>");
        for case in &report.cases {
            let _ = write!(out, "<tr><td>{}</td>", escape(&case.name));
            for outcome in &case.per_run {
                match outcome {
                    None => out.push_str(r#"<td class="cell muted">·</td>"#),
                    Some(o) => {
                        let time = o
                            .slowest_recovery
                            .map_or(String::new(), |t| format!("<small>{}</small>", seconds(t)));
                        let _ = write!(
                            out,
                            r#"<td class="cell {}" title="{}">{}{time}</td>"#,
                            o.status.as_str(),
                            o.status.as_str(),
                            status_symbol(o.status)
                        );
                    }
                }
            }
            let (passed, ran) = case.pass_rate();
            let flaky = if case.is_flaky() {
                r#"<span class="tag flaky">flaky</span>"#
            } else {
                ""
            };
            let _ = write!(out, r#"<td class="n">{passed} of {ran}{flaky}</td></tr>"#);
        }
        out.push_str("</table>");
    }

    fn runs(&self, out: &mut String, report: &Report) {
        out.push_str(r#"<h2 id="runs">Runs</h2><table><tr><th>Run</th><th>Started</th><th>Folder</th><th>Lab</th><th>Passed</th><th>Failed</th><th>Blocked</th><th>Time</th><th>Notes</th></tr>"#);
        for run in &report.runs {
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td><code>{}</code> (<a href="{}/report.html">report</a>)</td><td>{}</td>"#,
                escape(&run.label),
                escape(&run.started_at),
                escape(&run.dir),
                escape(&run.dir),
                escape(&run.lab_text()),
            );
            for number in outcome_counts(&run.counts) {
                let _ = write!(out, r#"<td class="n">{number}</td>"#);
            }
            let _ = write!(
                out,
                "<td>{}</td><td>{}</td></tr>",
                format_elapsed(run.counts.elapsed),
                escape(&run.notes())
            );
        }
        out.push_str("</table>");
    }
}

fn case_row(out: &mut String, case: &CaseHistory) {
    let status = case.latest().map_or(Status::Skipped, |o| o.status);
    let (passed, ran) = case.pass_rate();
    let flaky = if case.is_flaky() {
        r#"<span class="tag flaky">flaky</span>"#
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<tr><td>{}<br><span class="muted">{}</span></td><td><span class="badge {}">{}</span></td><td class="n">{passed} of {ran}{flaky}</td><td>"#,
        escape(&case.name),
        escape(&case.file),
        status.as_str(),
        status.as_str()
    );
    if case.recoveries.is_empty() {
        out.push_str(r#"<span class="muted">no fault injected</span>"#);
    } else {
        out.push_str(r#"<ul class="faults">"#);
        for recovery in &case.recoveries {
            let class = match recovery.outcome {
                Outcome::Recovered { .. } | Outcome::HeldUp { .. } => "good",
                Outcome::NotRecovered { .. } => "bad",
                Outcome::Unmeasured | Outcome::NoTimes => "muted",
            };
            let _ = write!(
                out,
                r#"<li><b>{}</b> at {}: <span class="{class}">{}</span></li>"#,
                escape(&recovery.fault()),
                seconds(recovery.fault_at),
                escape(&outcome_text(recovery))
            );
        }
        out.push_str("</ul>");
    }
    for delivery in &case.deliveries {
        let _ = write!(
            out,
            r#"<div class="muted">delivery: {}</div>"#,
            escape(delivery)
        );
    }
    out.push_str("</td><td>");
    let comment = escape(case.comment.as_deref().unwrap_or(""));
    match &case.explanation {
        Explanation::None => out.push_str(&comment),
        Explanation::Finding(summary) => {
            let _ = write!(
                out,
                r#"<span class="tag finding">finding</span> {}<br><span class="muted">{comment}</span>"#,
                escape(summary)
            );
        }
        Explanation::KnownNotFinding(summary) => {
            let _ = write!(
                out,
                r#"<span class="tag known">known, not the server</span> {}<br><span class="muted">{comment}</span>"#,
                escape(summary)
            );
        }
        Explanation::Unexplained => {
            let _ = write!(
                out,
                r#"<span class="tag unexplained">unexplained</span> {comment}"#
            );
        }
    }
    out.push_str("</td></tr>");
}

/// One bar per recovery the component's cases measured, longest scale first.
fn recovery_chart(out: &mut String, report: &Report, view: &ComponentView) {
    let bars: Vec<(String, f64)> = view
        .cases
        .iter()
        .flat_map(|&index| {
            let case = &report.cases[index];
            let label = case.id.map_or(case.name.clone(), |id| format!("C{id}"));
            case.recoveries.iter().filter_map(move |r| match r.outcome {
                Outcome::Recovered { after, .. } => {
                    Some((format!("{label} {}", r.action), after.as_secs_f64()))
                }
                _ => None,
            })
        })
        .collect();
    if bars.is_empty() {
        return;
    }
    let max = bars.iter().map(|b| b.1).fold(0.001_f64, f64::max);
    let (width, left, row) = (640.0, 170.0, 16.0);
    let height = row * bars.len() as f64 + 8.0;
    let _ = write!(
        out,
        r#"<svg class="timeline" role="img" aria-label="recovery times" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    for (i, (label, secs)) in bars.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let w = ((width - left - 60.0) * secs / max).max(1.0);
        let _ = write!(
            out,
            r#"<text x="4" y="{:.1}">{}</text><rect class="bar" x="{left}" y="{:.1}" width="{w:.1}" height="11"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            y + 10.0,
            escape(label),
            y + 1.0,
            left + w + 4.0,
            y + 10.0,
            seconds(std::time::Duration::from_secs_f64(*secs))
        );
    }
    out.push_str("</svg>");
}
