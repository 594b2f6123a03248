//! `jspec report`: the resilience report across runs, as HTML, Markdown or PDF.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use jspec_runtime::report::{rfc3339_millis, write_atomic};
use jspec_runtime::resilience::{Meta, build_report, render_html, render_markdown};

use crate::exit;

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run folders (as `jspec run` writes them), their events.jsonl, or folders of run folders;
    /// the default is every run under `runs/`.
    #[arg(value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where to write the report; `-` writes it to standard output. The format follows the
    /// extension (.html, .md, .pdf) unless --format says otherwise.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "resilience-report.html"
    )]
    output: PathBuf,
    /// html, md or pdf (pdf prints the HTML page through headless Chromium).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Shorthand for --format pdf.
    #[arg(long, conflicts_with = "format")]
    pdf: bool,
    /// The project's findings (docs/findings.md by default, when it exists): failures listed
    /// there are documented findings; a failure listed nowhere is reported as unexplained.
    #[arg(long, value_name = "FILE")]
    findings: Option<PathBuf>,
    /// The report's title.
    #[arg(long, default_value = "Resilience of the architecture's components")]
    title: String,
    /// The Chromium (or Chrome) binary for PDF; default: chromium, chromium-browser or
    /// google-chrome on PATH.
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Html,
    #[value(alias = "markdown")]
    Md,
    Pdf,
}

/// How long Chromium may take to print the report.
const PRINT_DEADLINE: Duration = Duration::from_secs(120);

pub(crate) fn run(args: ReportArgs) -> u8 {
    match report(&args) {
        Ok(()) => exit::OK,
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::SPEC_ERROR
        }
    }
}

fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let runs = if args.runs.is_empty() {
        vec![PathBuf::from("runs")]
    } else {
        args.runs.clone()
    };
    let findings = match &args.findings {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from("docs/findings.md")).filter(|p| p.is_file()),
    };
    let report = build_report(&runs, findings.as_deref()).map_err(|e| {
        anyhow::anyhow!("{e}\nhint: pass run folders (runs/2026-...), or a folder of them (runs/)")
    })?;
    let meta = Meta {
        title: args.title.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: rfc3339_millis(time::OffsetDateTime::now_utc()),
    };
    let format = if args.pdf {
        Format::Pdf
    } else {
        args.format.unwrap_or_else(|| format_of(&args.output))
    };
    let to_stdout = args.output.as_os_str() == "-";
    match format {
        Format::Html | Format::Md => {
            let text = match format {
                Format::Md => render_markdown(&report, &meta),
                _ => render_html(&report, &meta),
            };
            if to_stdout {
                print!("{text}");
                return Ok(());
            }
            write_atomic(&args.output, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
        }
        Format::Pdf => {
            anyhow::ensure!(!to_stdout, "a PDF is written to a file: give -o FILE.pdf");
            let page = tempfile::Builder::new().suffix(".html").tempfile()?;
            std::fs::write(page.path(), render_html(&report, &meta))?;
            print_pdf(args.chromium.as_deref(), page.path(), &args.output)?;
        }
    }
    let unexplained = report.unexplained().count();
    let plural = |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
    eprintln!(
        "report: {} ({}, {}{})",
        args.output.display(),
        plural(report.runs.len(), "run"),
        plural(report.cases.len(), "case"),
        match unexplained {
            0 => String::new(),
            n => format!(", {n} unexplained failure{}", if n == 1 { "" } else { "s" }),
        }
    );
    Ok(())
}

fn format_of(output: &Path) -> Format {
    match output.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => Format::Md,
        Some("pdf") => Format::Pdf,
        _ => Format::Html,
    }
}

/// Prints `page` to `output` with headless Chromium, within [`PRINT_DEADLINE`].
fn print_pdf(chromium: Option<&Path>, page: &Path, output: &Path) -> anyhow::Result<()> {
    let binary = match chromium {
        Some(path) => path.to_path_buf(),
        None => find_chromium().ok_or_else(|| {
            anyhow::anyhow!(
                "--pdf needs Chromium, and none was found on PATH (chromium, chromium-browser, google-chrome)\nhint: `apt-get install chromium` (scripts/deps.sh does), or write HTML and print it from a browser"
            )
        })?,
    };
    let profile = tempfile::tempdir()?;
    let output = std::path::absolute(output)?;
    let mut child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", output.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", binary.display()))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > PRINT_DEADLINE {
            // Our own child, by its PID.
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "{} did not print the report within {}s",
                binary.display(),
                PRINT_DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let printed = output.metadata().map(|m| m.len() > 0).unwrap_or(false);
    if !status.success() || !printed {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        let last: Vec<&str> = stderr.lines().rev().take(5).collect();
        anyhow::bail!(
            "{} could not print the report ({status}): {}",
            binary.display(),
            last.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}
