//! What a tester watches during a run and reads afterwards: live progress per case and step,
//! failures with their source line and the expected stanza beside the closest one received, and
//! a summary with the failed and blocked cases and the run folder.

use std::fmt;
use std::io::{self, Write};

use crate::event::{BlockKind, CaseResult, Reporter, RunEvent, Status, StepResult, Summary};
use jspec_results::{case_comment, case_name, failure_details, first_failure};
use jspec_results::{format_elapsed, format_elapsed_tenths};

/// How much the console shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Failed cases with their failure, and the summary.
    Quiet,
    /// Live progress: cases, steps, failures, summary.
    #[default]
    Normal,
    /// Also each step and statement as it starts, and the lab's servers.
    Verbose,
}

/// Human output on a terminal (or any writer).
pub struct ConsoleReporter {
    out: Box<dyn Write + Send>,
    paint: Paint,
    verbosity: Verbosity,
    out_dir: Option<String>,
    /// Cases that did not pass, for the summary: (status, name, why).
    not_passed: Vec<(Status, String, String)>,
}

impl fmt::Debug for ConsoleReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleReporter")
            .field("color", &self.paint.0)
            .field("verbosity", &self.verbosity)
            .finish_non_exhaustive()
    }
}

impl ConsoleReporter {
    pub fn new(out: Box<dyn Write + Send>, color: bool, verbosity: Verbosity) -> Self {
        Self {
            out,
            paint: Paint(color),
            verbosity,
            out_dir: None,
            not_passed: Vec::new(),
        }
    }

    fn lines(&self, event: &RunEvent) -> Vec<String> {
        let (normal, verbose) = (
            self.verbosity >= Verbosity::Normal,
            self.verbosity >= Verbosity::Verbose,
        );
        let p = self.paint;
        match event {
            RunEvent::RunStarted(start) if normal => vec![format!(
                "jspec {}: {}, seed {}, run folder {}",
                start.jspec_version,
                plural(start.cases, "case"),
                start.seed,
                start.out_dir
            )],
            RunEvent::LabStarting { servers } if normal => {
                vec![p.dim(&format!("lab: starting {}", servers.join(", ")))]
            }
            RunEvent::LabReady { servers, elapsed } if normal => {
                let mut lines = vec![p.dim(&format!(
                    "lab: ready in {}",
                    format_elapsed_tenths(*elapsed)
                ))];
                if verbose {
                    lines.extend(servers.iter().map(|s| {
                        p.dim(&format!(
                            "  {}: {} at {} ({})",
                            s.role, s.domain, s.address, s.software
                        ))
                    }));
                }
                lines
            }
            RunEvent::CaseStarted { case } if normal => {
                vec![p.bold(&format!("▶ {}", case_name(case)))]
            }
            RunEvent::StepStarted { title, .. } if verbose => {
                vec![p.dim(&format!("  ▸ {title}"))]
            }
            RunEvent::Action { line, text, .. } if verbose => {
                vec![p.dim(&format!("    L{line} {text}"))]
            }
            RunEvent::Fault(fault) if verbose => vec![p.dim(&format!(
                "    ⚡ +{:.3}s {} {} ({})",
                fault.at.as_secs_f64(),
                fault.action,
                fault.target,
                fault.origin
            ))],
            RunEvent::Delivery { report, .. } if normal => {
                vec![p.dim(&format!("    delivery: {}", report.summary()))]
            }
            RunEvent::StepFinished { result, .. } if normal => self.step_lines(result),
            RunEvent::CaseFinished { result } => self.case_lines(result),
            RunEvent::RunFinished { summary, error } => {
                let mut lines = self.summary_lines(summary);
                if let Some(error) = error {
                    lines.insert(1, p.red(&format!("error: {error}")));
                }
                lines
            }
            _ => Vec::new(),
        }
    }

    fn step_lines(&self, step: &StepResult) -> Vec<String> {
        let p = self.paint;
        let title = match step.kind {
            BlockKind::Step => step.title.clone(),
            BlockKind::Setup | BlockKind::Teardown => {
                let kind = if step.kind == BlockKind::Setup {
                    "setup"
                } else {
                    "teardown"
                };
                if step.title.is_empty() || step.title.eq_ignore_ascii_case(kind) {
                    kind.to_owned()
                } else {
                    format!("{kind}: {}", step.title)
                }
            }
        };
        let elapsed = format_elapsed_tenths(step.elapsed);
        let mut lines = vec![match step.status {
            Status::Passed => format!("  {} {title} ({elapsed})", p.green("✓")),
            Status::Failed => format!("  {} {title} ({elapsed})", p.red("✗")),
            Status::Skipped => p.dim(&format!("  - {title} (skipped)")),
            Status::Blocked => format!("  {} {title} (blocked)", p.yellow("!")),
            Status::Retest => format!("  {} {title} (interrupted)", p.yellow("~")),
            Status::Error => format!("  {} {title} ({elapsed}, error)", p.red("E")),
        }];
        if let Some(failure) = &step.failure {
            lines.push(format!("    {}", p.red(&failure.message)));
            lines.extend(
                failure_details(failure)
                    .into_iter()
                    .map(|l| format!("    {l}")),
            );
        }
        lines
    }

    fn case_lines(&self, result: &CaseResult) -> Vec<String> {
        let p = self.paint;
        let quiet = self.verbosity == Verbosity::Quiet;
        if quiet && !matches!(result.status, Status::Failed | Status::Error) {
            return Vec::new();
        }
        let who = if quiet {
            case_name(&result.case)
        } else {
            result.case.label()
        };
        let elapsed = format_elapsed_tenths(result.elapsed);
        let comment = case_comment(result).unwrap_or_default();
        let mut lines = vec![match result.status {
            Status::Passed => format!("{} {who} passed ({elapsed})", p.green("✓")),
            Status::Failed => format!("{} {who} {} ({elapsed})", p.red("✗"), p.red("failed")),
            Status::Blocked => format!("{} {who} {}", p.yellow("!"), p.yellow(&comment)),
            Status::Retest => format!("{} {who} {} ({elapsed})", p.yellow("~"), p.yellow(&comment)),
            Status::Skipped => p.dim(&format!("- {who} {comment}")),
            Status::Error => format!("{} {who} {} ({elapsed})", p.red("E"), p.red("error")),
        }];
        if matches!(result.status, Status::Failed | Status::Error) {
            if quiet {
                for step in result.steps.iter().filter(|s| s.failure.is_some()) {
                    lines.extend(self.step_lines(step));
                }
            } else if first_failure(result).is_none() {
                lines.push(format!("    {}", p.red(&comment)));
            }
        }
        lines
    }

    fn summary_lines(&self, summary: &Summary) -> Vec<String> {
        let p = self.paint;
        let mut counts = vec![p.green(&format!("{} passed", summary.passed))];
        let failed = format!("{} failed", summary.failed);
        counts.push(if summary.failed > 0 {
            p.red(&failed)
        } else {
            failed
        });
        if summary.blocked > 0 {
            counts.push(p.yellow(&format!("{} blocked", summary.blocked)));
        }
        if summary.retest > 0 {
            counts.push(p.yellow(&format!("{} interrupted", summary.retest)));
        }
        if summary.errors > 0 {
            counts.push(p.red(&plural(summary.errors, "error")));
        }
        if summary.not_run > 0 {
            counts.push(format!("{} not run", summary.not_run));
        }
        let mut lines = vec![
            String::new(),
            format!(
                "{}: {} ({})",
                plural(summary.total(), "case"),
                counts.join(", "),
                format_elapsed(summary.elapsed)
            ),
        ];
        let groups = [
            (Status::Failed, "failed:", p.red("✗")),
            (
                Status::Error,
                "errors (the lab or jspec, not the server):",
                p.red("E"),
            ),
            (Status::Blocked, "blocked:", p.yellow("!")),
            (Status::Retest, "interrupted:", p.yellow("~")),
            (Status::Skipped, "not run:", "-".to_owned()),
        ];
        for (status, heading, glyph) in groups {
            let mut cases = self.not_passed.iter().filter(|(s, ..)| *s == status);
            if let Some(first) = cases.next() {
                lines.push(heading.to_owned());
                for (_, name, why) in std::iter::once(first).chain(cases) {
                    lines.push(format!("  {glyph} {name}: {why}"));
                }
            }
        }
        if let Some(out_dir) = &self.out_dir {
            lines.push(format!("run folder: {out_dir}"));
            lines.push(format!(
                "report: {}",
                std::path::Path::new(out_dir)
                    .join(super::REPORT_FILE)
                    .display()
            ));
        }
        lines
    }
}

impl Reporter for ConsoleReporter {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        let lines = self.lines(event);
        match event {
            RunEvent::RunStarted(start) => self.out_dir = Some(start.out_dir.clone()),
            RunEvent::CaseFinished { result } if result.status != Status::Passed => {
                self.not_passed
                    .push((result.status, case_name(&result.case), why(result)));
            }
            _ => {}
        }
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

/// Why a case did not pass, for the summary list.
fn why(result: &CaseResult) -> String {
    if let Some(failure) = first_failure(result).filter(|_| result.status == Status::Failed) {
        return format!(
            "{} ({}:{}:{})",
            failure.message, failure.file, failure.line, failure.column
        );
    }
    match &result.reason {
        Some(reason) if !reason.is_empty() => reason.clone(),
        _ => case_comment(result).unwrap_or_default(),
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Plain ANSI colours, only when enabled.
#[derive(Clone, Copy, Debug)]
struct Paint(bool);

impl Paint {
    fn style(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn green(self, text: &str) -> String {
        self.style("32", text)
    }

    fn red(self, text: &str) -> String {
        self.style("31", text)
    }

    fn yellow(self, text: &str) -> String {
        self.style("33", text)
    }

    fn bold(self, text: &str) -> String {
        self.style("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.style("2", text)
    }
}
