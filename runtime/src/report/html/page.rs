//! report.html itself: one self-contained page (inline CSS and SVG, no network), readable
//! without JavaScript (cases are `<details>`; failed ones open) and with a status filter when
//! JavaScript runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape;
use super::model::{CaseView, RunView};
use super::timeline;
use crate::event::{BlockKind, Failure, Status};
use crate::report::{case_name, format_elapsed};

pub(crate) const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1040px;padding:0 16px 48px;color:#1f2933}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d9e2ec}
.muted{color:#627d98}table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #e4e7eb;text-align:left}
th{background:#f0f4f8}td.n{text-align:right}
.badge{display:inline-block;min-width:58px;text-align:center;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.badge.passed{background:#2f855a}.badge.failed{background:#c53030}.badge.blocked{background:#b7791f}.badge.retest,.badge.skipped{background:#718096}.badge.error{background:#6b46c1}.badge.running{background:#3182ce}
details.case{border:1px solid #d9e2ec;border-left-width:5px;border-radius:6px;margin:8px 0;padding:4px 10px}
details.case.passed{border-left-color:#2f855a}details.case.failed{border-left-color:#c53030}details.case.blocked{border-left-color:#b7791f}details.case.error{border-left-color:#6b46c1}
details.case>summary{cursor:pointer;padding:4px 0}details.case[open]>summary{border-bottom:1px solid #e4e7eb;margin-bottom:6px}
ol.steps{padding-left:20px}ol.steps li{margin:3px 0}
.failure{border-left:4px solid #c53030;background:#fff5f5;padding:6px 10px;margin:6px 0}
pre{background:#f7fafc;border:1px solid #e4e7eb;padding:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px;margin:4px 0}
svg.timeline{border:1px solid #e4e7eb;background:#fff;margin:6px 0}
svg text{font:11px system-ui,sans-serif;fill:#334e68}svg text.axis{fill:#829ab1}svg text.step{fill:#486581}
rect.fault{fill:#ed8936;fill-opacity:.35;stroke:#dd6b20}line.fault-edge{stroke:#dd6b20;stroke-dasharray:3 3}line.fault-moment{stroke:#9f7aea;stroke-width:2}
text.fault-label{fill:#7b341e}rect.sent{fill:#3182ce}circle.received{fill:#38a169}rect.bar{fill:#4299e1}
.filters label{margin-right:12px}
"#;

/// Hides the cases whose status is unticked; the page works without it.
const SCRIPT: &str = r#"
document.querySelectorAll('.filters input').forEach(function(box){
  box.addEventListener('change', function(){
    document.querySelectorAll('details.case.' + box.value).forEach(function(c){
      c.style.display = box.checked ? '' : 'none';
    });
  });
});
"#;

/// The whole page for the run so far.
pub(crate) fn render(run: &RunView) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("jspec run {}", run.run_id);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body>"#,
        escape(&title)
    );
    header(&mut out, run);
    summary(&mut out, run);
    out.push_str(r#"<h2 id="cases">Cases</h2><p class="filters">Show: "#);
    for status in ["passed", "failed", "blocked", "error", "retest", "running"] {
        let _ = write!(
            out,
            r#"<label><input type="checkbox" value="{status}" checked> {status}</label>"#
        );
    }
    out.push_str("</p>");
    // A small run shows every case; a large one only what did not pass.
    let open_all = run.cases.len() <= 3;
    for case in &run.cases {
        case_section(&mut out, case, open_all);
    }
    let _ = write!(
        out,
        r#"<p class="muted">Written by jspec {} as the run went; the run folder also holds events.jsonl, faults.jsonl, junit.xml, testrail-results.json and the transcripts.</p><script>{SCRIPT}</script></body></html>"#,
        escape(&run.version)
    );
    out
}

fn header(out: &mut String, run: &RunView) {
    let _ = write!(
        out,
        r#"<h1>jspec run {}</h1><p class="muted">started {} · seed {} (replay with <code>--seed {}</code>) · jspec {}</p>"#,
        escape(&run.run_id),
        escape(&run.started_at),
        run.seed,
        run.seed,
        escape(&run.version)
    );
    if !run.lab.is_empty() {
        out.push_str("<p>Lab: ");
        let servers: Vec<String> = run
            .lab
            .iter()
            .map(|s| {
                format!(
                    "<b>{}</b> {} ({}, {})",
                    escape(&s.role),
                    escape(&s.software),
                    escape(&s.domain),
                    escape(&s.address)
                )
            })
            .collect();
        out.push_str(&servers.join(" · "));
        if let Some(ready) = run.lab_ready {
            let _ = write!(out, " — ready in {}", format_elapsed(ready));
        }
        out.push_str("</p>");
    }
    if let Some(error) = &run.error {
        let _ = write!(
            out,
            r#"<div class="failure"><b>The run ended early:</b> {}</div>"#,
            escape(error)
        );
    }
}

/// Counts overall and per area (the first part of each case's section).
fn summary(out: &mut String, run: &RunView) {
    let mut areas: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    let mut total = [0usize; 5];
    for case in &run.cases {
        let area = case
            .case
            .section
            .as_deref()
            .and_then(|s| s.split(" > ").next())
            .unwrap_or("(no section)")
            .to_string();
        let column = match status_of(case) {
            "passed" => 0,
            "failed" => 1,
            "blocked" => 2,
            "running" => 4,
            _ => 3,
        };
        areas.entry(area).or_default()[column] += 1;
        total[column] += 1;
    }
    out.push_str(r#"<h2 id="summary">Summary</h2>"#);
    let elapsed = run
        .summary
        .as_ref()
        .map(|s| format!(" in {}", format_elapsed(s.elapsed)))
        .unwrap_or_else(|| " so far (the run is still going)".to_string());
    let _ = write!(
        out,
        "<p><b>{} cases</b>{elapsed}: {} passed, {} failed, {} blocked, {} other, {} running.</p>",
        run.cases.len(),
        total[0],
        total[1],
        total[2],
        total[3],
        total[4]
    );
    out.push_str("<table><tr><th>Area</th><th>Passed</th><th>Failed</th><th>Blocked</th><th>Other</th><th>Running</th></tr>");
    for (area, counts) in &areas {
        let _ = write!(out, "<tr><td>{}</td>", escape(area));
        for count in counts {
            let _ = write!(out, r#"<td class="n">{count}</td>"#);
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// The status word of a case (`running` until it finished).
fn status_of(case: &CaseView) -> &'static str {
    case.result
        .as_ref()
        .map_or("running", |r| status_word(r.status))
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Blocked => "blocked",
        Status::Retest => "retest",
        Status::Skipped => "skipped",
        Status::Error => "error",
    }
}

fn case_section(out: &mut String, case: &CaseView, open_all: bool) {
    let status = status_of(case);
    let open = if open_all || matches!(status, "failed" | "error") {
        " open"
    } else {
        ""
    };
    let elapsed = case
        .result
        .as_ref()
        .map(|r| format!(" · {}", format_elapsed(r.elapsed)))
        .unwrap_or_default();
    let section = case.case.section.as_deref().unwrap_or("");
    let _ = write!(
        out,
        r#"<details class="case {status}"{open} id="{id}"><summary><span class="badge {status}">{status}</span> <b>{name}</b> <span class="muted">{section}{elapsed}</span></summary>"#,
        id = escape(&case.case.label()),
        name = escape(&case_name(&case.case)),
        section = escape(section),
    );
    let tags = match case.case.tags.is_empty() {
        true => String::new(),
        false => format!(" · tags: {}", escape(&case.case.tags.join(", "))),
    };
    let _ = write!(
        out,
        r#"<p class="muted">{}:{}{tags}</p>"#,
        escape(&case.case.file),
        case.case.line
    );
    if let Some(result) = &case.result {
        if let Some(reason) = &result.reason {
            let _ = write!(out, "<p><b>Reason:</b> {}</p>", escape(reason));
        }
        out.push_str(r#"<ol class="steps">"#);
        for step in &result.steps {
            let title = match step.kind {
                BlockKind::Setup => "setup".to_string(),
                BlockKind::Teardown => "teardown".to_string(),
                BlockKind::Step => step.title.clone(),
            };
            let _ = write!(
                out,
                r#"<li><span class="badge {s}">{s}</span> {} <span class="muted">{}</span>"#,
                escape(&title),
                format_elapsed(step.elapsed),
                s = status_word(step.status),
            );
            if let Some(failure) = &step.failure {
                failure_block(out, failure);
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>");
    }
    let svg = timeline::svg(case);
    if !svg.is_empty() {
        out.push_str(r#"<p class="muted">Timeline: steps, faults (orange while in force), stanzas sent (blue) and received (green) per actor. Hover for details.</p>"#);
        out.push_str(&svg);
        if case.stanzas_dropped > 0 {
            let _ = write!(
                out,
                r#"<p class="muted">{} more stanzas are not drawn; the transcripts have them all.</p>"#,
                case.stanzas_dropped
            );
        }
    }
    for delivery in &case.deliveries {
        let _ = write!(
            out,
            "<p><b>Delivery in {}:</b> {}</p>",
            escape(&delivery.room),
            escape(&delivery.summary())
        );
        if let Some(quantiles) = delivery.latency_ms {
            out.push_str(&timeline::latency_svg(quantiles));
        }
    }
    let actors = case.actors();
    if !actors.is_empty() {
        let folder = crate::exec::transcript_folder(&case.case);
        out.push_str(r#"<p class="muted">Transcripts: "#);
        let links: Vec<String> = actors
            .iter()
            .map(|actor| {
                format!(
                    r#"<a href="transcripts/{}/{}.log">{}</a>"#,
                    escape(&folder),
                    escape(&crate::exec::transcript_stem(actor)),
                    escape(actor)
                )
            })
            .collect();
        out.push_str(&links.join(", "));
        out.push_str("</p>");
    }
    out.push_str("</details>");
}

fn failure_block(out: &mut String, failure: &Failure) {
    let _ = write!(
        out,
        r#"<div class="failure"><b>{}</b><br><span class="muted">{}:{}:{}</span> <code>{}</code>"#,
        escape(&failure.message),
        escape(&failure.file),
        failure.line,
        failure.column,
        escape(failure.source_line.trim())
    );
    for (what, text) in [
        ("expected", &failure.expected),
        ("actual", &failure.actual),
        ("closest received", &failure.closest),
    ] {
        if let Some(text) = text {
            let _ = write!(out, "<div>{what}:</div><pre>{}</pre>", escape(text));
        }
    }
    out.push_str("</div>");
}
