//! A case's timeline as inline SVG: its steps as bands, its faults as spans from the moment
//! they were applied until they were healed, and one row per actor with the stanzas it sent
//! (blue ticks) and received (green dots). Every mark has a tooltip (`<title>`).

use std::fmt::Write as _;
use std::time::Duration;

use super::escape;
use super::model::{CaseView, FaultMark};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 120.0;
const RIGHT: f64 = 12.0;
const ROW: f64 = 22.0;
const AXIS: f64 = 18.0;

/// A fault in force from `start` to `end` (`None`: until the case ended), or a moment.
#[derive(Debug, PartialEq)]
pub(crate) struct FaultSpan {
    pub(crate) start: Duration,
    pub(crate) end: Option<Duration>,
    pub(crate) label: String,
    /// Who applied it: `line 27`, `chaos seed 7, rule 1, +8.9s`.
    pub(crate) origin: String,
    /// A fault with no duration of its own (`restart`, `switch database`).
    pub(crate) instant: bool,
}

/// Pairs each fault with what undid it: `heal X` ends `partition X`, `heal isolation of X`
/// ends `isolate X`, `start`/`resume X` end `kill`/`stop`/`pause X`, `restore clock of X`
/// ends `skew clock`, `restore A -> B` ends the impairments of that flow; `heal everything`
/// and `restore everything` end every network fault.
pub(crate) fn fault_spans(faults: &[FaultMark]) -> Vec<FaultSpan> {
    let mut spans: Vec<(FaultSpan, String)> = Vec::new();
    for fault in faults {
        let target = fault.target.as_str();
        let everything = target.starts_with("everything");
        let close = |key: &dyn Fn(&str) -> bool, spans: &mut Vec<(FaultSpan, String)>| {
            for (span, span_key) in spans.iter_mut() {
                if span.end.is_none() && !span.instant && key(span_key) {
                    span.end = Some(fault.at);
                }
            }
        };
        let opened = |key: String| {
            (
                FaultSpan {
                    start: fault.at,
                    end: None,
                    label: format!("{} {}", fault.action, fault.target),
                    origin: fault.origin.clone(),
                    instant: false,
                },
                key,
            )
        };
        match fault.action.as_str() {
            "partition" => spans.push(opened(format!("net:{target}"))),
            "isolate" => spans.push(opened(format!("net:isolation of {target}"))),
            "impair" => spans.push(opened(format!("impair:{target}"))),
            "kill" | "stop" | "pause" => spans.push(opened(format!("process:{target}"))),
            "skew clock" => {
                let role = target.split(" by ").next().unwrap_or(target);
                spans.push(opened(format!("clock:{role}")));
            }
            "heal" if everything => close(&|k| k.starts_with("net:"), &mut spans),
            "heal" => close(&|k| k == format!("net:{target}"), &mut spans),
            "restore" if everything => close(
                &|k| k.starts_with("net:") || k.starts_with("impair:"),
                &mut spans,
            ),
            "restore" => {
                let flows = flows_of(target);
                close(
                    &|k| flows.iter().any(|f| k.starts_with(&format!("impair:{f} "))),
                    &mut spans,
                )
            }
            "start" | "resume" => close(&|k| k == format!("process:{target}"), &mut spans),
            "restore clock" => close(&|k| k == format!("clock:{target}"), &mut spans),
            _ => spans.push((
                FaultSpan {
                    start: fault.at,
                    end: Some(fault.at),
                    label: format!("{} {}", fault.action, fault.target),
                    origin: fault.origin.clone(),
                    instant: true,
                },
                String::new(),
            )),
        }
    }
    spans.into_iter().map(|(span, _)| span).collect()
}

/// `a <-> b` is the flows `a -> b` and `b -> a`; `a -> b` itself.
fn flows_of(link: &str) -> Vec<String> {
    match link.split_once(" <-> ") {
        Some((a, b)) => vec![format!("{a} -> {b}"), format!("{b} -> {a}")],
        None => vec![link.to_string()],
    }
}

/// The case's timeline, or nothing when nothing happened in it.
pub(crate) fn svg(case: &CaseView) -> String {
    let actors = case.actors();
    let spans = fault_spans(&case.faults);
    if case.steps.is_empty() && actors.is_empty() && spans.is_empty() {
        return String::new();
    }
    let span = case.span().as_secs_f64();
    let x = |at: Duration| LEFT + at.as_secs_f64() / span * (WIDTH - LEFT - RIGHT);
    let rows = 2 + actors.len();
    let height = AXIS + ROW * rows as f64 + 4.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="timeline of steps, faults and stanzas">"#
    );
    // Steps: alternating bands under everything, their titles in the first row.
    for (index, (start, title)) in case.steps.iter().enumerate() {
        let end = case.steps.get(index + 1).map_or(case.span(), |next| next.0);
        let (x0, x1) = (x(*start), x(end));
        let fill = if index % 2 == 0 { "#eef2f7" } else { "#f8fafc" };
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{AXIS}" width="{w:.1}" height="{h:.1}" fill="{fill}"><title>{t}</title></rect><text x="{tx:.1}" y="{ty:.1}" class="step">{t}</text>"#,
            w = (x1 - x0).max(1.0),
            h = ROW * rows as f64,
            t = escape(title),
            tx = x0 + 3.0,
            ty = AXIS + 15.0,
        );
    }
    row_label(&mut out, 0, "steps");
    row_label(&mut out, 1, "faults");
    let fault_y = AXIS + ROW + 4.0;
    for span in &spans {
        let x0 = x(span.start);
        if span.instant {
            let _ = write!(
                out,
                r#"<line x1="{x0:.1}" x2="{x0:.1}" y1="{AXIS}" y2="{y2:.1}" class="fault-moment"><title>{t} at {at:.1}s ({o})</title></line>"#,
                y2 = AXIS + ROW * rows as f64,
                t = escape(&span.label),
                at = span.start.as_secs_f64(),
                o = escape(&span.origin),
            );
            continue;
        }
        let x1 = x(span.end.unwrap_or(case.span()));
        let until = match span.end {
            Some(end) => format!(
                " ({:.1}s to {:.1}s, {})",
                span.start.as_secs_f64(),
                end.as_secs_f64(),
                span.origin
            ),
            None => format!(
                " (from {:.1}s, {}; not undone within the case)",
                span.start.as_secs_f64(),
                span.origin
            ),
        };
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{fault_y:.1}" width="{w:.1}" height="{h:.1}" class="fault"><title>{t}{u}</title></rect><line x1="{x0:.1}" x2="{x0:.1}" y1="{AXIS}" y2="{y2:.1}" class="fault-edge"/><text x="{tx:.1}" y="{ty:.1}" class="fault-label">{t}</text>"#,
            w = (x1 - x0).max(2.0),
            h = ROW - 8.0,
            y2 = AXIS + ROW * rows as f64,
            t = escape(&span.label),
            u = escape(&until),
            tx = x0 + 3.0,
            ty = fault_y + 10.0,
        );
    }
    for (index, actor) in actors.iter().enumerate() {
        let row = index + 2;
        row_label(&mut out, row, actor);
        let y = AXIS + ROW * row as f64 + ROW / 2.0;
        for mark in case.stanzas.iter().filter(|m| m.actor == *actor) {
            let at = x(mark.at);
            let (verb, shape) = match mark.sent {
                true => (
                    "sent",
                    format!(
                        r#"<rect x="{:.1}" y="{:.1}" width="2" height="10" class="sent">"#,
                        at - 1.0,
                        y - 5.0
                    ),
                ),
                false => (
                    "received",
                    format!(r#"<circle cx="{at:.1}" cy="{y:.1}" r="3" class="received">"#),
                ),
            };
            let closing = if mark.sent { "</rect>" } else { "</circle>" };
            let _ = write!(
                out,
                "{shape}<title>{:.3}s {actor} {verb} {}</title>{closing}",
                mark.at.as_secs_f64(),
                escape(&mark.label),
            );
        }
    }
    // The time axis.
    for quarter in 0..=4 {
        let at = Duration::from_secs_f64(span * f64::from(quarter) / 4.0);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="12" class="axis">{:.1}s</text>"#,
            x(at) - if quarter == 4 { 28.0 } else { 0.0 },
            at.as_secs_f64()
        );
    }
    out.push_str("</svg>");
    out
}

fn row_label(out: &mut String, row: usize, text: &str) {
    let _ = write!(
        out,
        r#"<text x="4" y="{:.1}" class="row">{}</text>"#,
        AXIS + ROW * row as f64 + 15.0,
        escape(text)
    );
}

/// Delivery latency quantiles (p50, p90, p99, max) as bars.
pub(crate) fn latency_svg(quantiles: [f64; 4]) -> String {
    let max = quantiles.iter().copied().fold(1.0_f64, f64::max);
    let mut out = String::from(
        r#"<svg class="latency" viewBox="0 0 420 96" width="420" role="img" aria-label="delivery latency">"#,
    );
    for (index, (name, value)) in ["p50", "p90", "p99", "max"]
        .iter()
        .zip(quantiles)
        .enumerate()
    {
        let y = 6.0 + index as f64 * 22.0;
        let width = value / max * 300.0;
        let _ = write!(
            out,
            r#"<text x="0" y="{:.1}" class="row">{name}</text><rect x="40" y="{y:.1}" width="{width:.1}" height="14" class="bar"><title>{name} {value:.1} ms</title></rect><text x="{:.1}" y="{:.1}" class="axis">{}</text>"#,
            y + 11.0,
            44.0 + width,
            y + 11.0,
            format_ms(value)
        );
    }
    out.push_str("</svg>");
    out
}

fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(at: u64, action: &str, target: &str) -> FaultMark {
        FaultMark {
            at: Duration::from_millis(at),
            action: action.into(),
            target: target.into(),
            origin: "line 1".into(),
        }
    }

    #[test]
    fn each_fault_ends_where_it_is_undone() {
        let spans = fault_spans(&[
            fault(100, "partition", "a | b"),
            fault(200, "kill", "database pg1"),
            fault(250, "impair", "a -> bob lag 300ms"),
            fault(300, "heal", "a | b"),
            fault(400, "start", "database pg1"),
            fault(450, "restart", "c1"),
            fault(500, "restore", "a <-> bob"),
            fault(600, "isolate", "c2"),
        ]);
        let ends: Vec<(&str, Option<u64>)> = spans
            .iter()
            .map(|s| (s.label.as_str(), s.end.map(|e| e.as_millis() as u64)))
            .collect();
        assert_eq!(
            ends,
            vec![
                ("partition a | b", Some(300)),
                ("kill database pg1", Some(400)),
                ("impair a -> bob lag 300ms", Some(500)),
                ("restart c1", Some(450)),
                ("isolate c2", None),
            ]
        );
        assert!(spans[3].instant);
    }

    #[test]
    fn heal_everything_ends_every_cut_but_not_a_killed_server() {
        let spans = fault_spans(&[
            fault(100, "isolate", "c1"),
            fault(150, "kill", "c2"),
            fault(200, "heal", "everything: isolation of c1"),
        ]);
        assert_eq!(spans[0].end, Some(Duration::from_millis(200)));
        assert_eq!(spans[1].end, None);
    }
}
