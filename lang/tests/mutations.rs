//! Mutation tests: the realistic files of tests/examples, damaged in many small ways, must load,
//! check and render without panicking, and every diagnostic must point at text that exists.
//!
//! Deterministic: mutation number `n` uses `fastrand::Rng::with_seed(SEED + n)`, so a failure
//! names the mutation and seed that reproduce it. The fuzz target `parse_check` (fuzz/) does the
//! same without a fixed budget.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use jspec_lang::check::{CheckOptions, Report, check};
use jspec_lang::diagnostic::{Diagnostic, RenderOptions, render_all};
use jspec_lang::load::Program;
use jspec_lang::span::{SourceId, SourceMap};

/// Base seed of every mutation ("jspec-mu").
const SEED: u64 = 0x6a73_7065_632d_6d75;
/// Mutations per example file (6 files today: 480 mutated inputs).
const PER_FILE: usize = 80;
/// Truncation points per case block in the truncation test.
const CUTS_PER_CASE: usize = 12;

/// Keywords and punctuation of the grammar (lang/src/grammar.pest), inserted at random places.
const TOKENS: &[&str] = &[
    "suite",
    "section",
    "use",
    "procedure",
    "case",
    "priority",
    "low",
    "medium",
    "high",
    "critical",
    "type",
    "refs",
    "tags",
    "estimate",
    "requires",
    "preconditions",
    "servers",
    "databases",
    "with",
    "nodes",
    "user",
    "room",
    "on",
    "setup",
    "step",
    "teardown",
    "connect",
    "to",
    "starttls",
    "direct-tls",
    "auth",
    "scram",
    "plain",
    "external",
    "gssapi",
    "disconnect",
    "abruptly",
    "join",
    "as",
    "via",
    "leave",
    "from",
    "send",
    "wait",
    "expect",
    "receives",
    "nothing",
    "in",
    "order",
    "within",
    "fails",
    "archive",
    "of",
    "has",
    "messages",
    "message",
    "link",
    "authenticated",
    "by",
    "certificate",
    "dialback",
    "over",
    "set",
    "valid",
    "expired",
    "not-yet-valid",
    "revoked",
    "wrong-host",
    "self-signed",
    "revoke",
    "partition",
    "isolate",
    "heal",
    "impair",
    "restore",
    "lag",
    "jitter",
    "drop",
    "throttle",
    "duplicate",
    "reorder",
    "tamper",
    "bandwidth",
    "kill",
    "stop",
    "start",
    "restart",
    "pause",
    "resume",
    "database",
    "chaos",
    "seed",
    "for",
    "every",
    "one",
    "parallel",
    "repeat",
    "times",
    "check",
    "delivery",
    "no",
    "loss",
    "duplicates",
    "C123",
    "5s",
    "250ms",
    "2m",
    "1h",
    "10%",
    "64kbit",
    "2mbit",
    "{",
    "}",
    "(",
    ")",
    "\"",
    "\"\"\"",
    "${",
    "${alice.jid}",
    "${x",
    "\\",
    "\\q",
    "->",
    "<->",
    "|",
    "..",
    ",",
    ";",
    ":",
    "#",
    "\n",
    "\n}\n",
    "{\n",
    "\t",
    " ",
    "-",
    "_",
    "alice",
    "ops",
    "a",
    "b",
];

/// Characters outside ASCII, and control characters, inserted at random character boundaries.
const NON_ASCII: &[&str] = &[
    "é",
    "ß",
    "日本語",
    "🦀",
    "👩‍👩‍👧",
    "\u{FEFF}",
    "\u{200B}",
    "\u{0301}",
    "\u{202E}",
    "\u{2028}",
    "\u{10FFFF}",
    "𝔘",
    "\0",
    "\r",
    "\u{7F}",
    "\u{85}",
    "\u{A0}",
];

#[derive(Clone, Copy, Debug)]
enum Mutation {
    DeleteRange,
    DuplicateLine,
    SwapLines,
    InsertToken,
    Truncate,
    ReplaceDigit,
    RemoveDelimiter,
    InsertNonAscii,
    LineEndings,
    LongLine,
    /// Two to four of the others, one after another.
    Stacked,
}

const MUTATIONS: &[Mutation] = &[
    Mutation::DeleteRange,
    Mutation::DuplicateLine,
    Mutation::SwapLines,
    Mutation::InsertToken,
    Mutation::Truncate,
    Mutation::ReplaceDigit,
    Mutation::RemoveDelimiter,
    Mutation::InsertNonAscii,
    Mutation::LineEndings,
    Mutation::LongLine,
    Mutation::Stacked,
];

/// `(file name, text)` of every example, sorted by name.
fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/examples");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jspec"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the example files in {}, found {}",
        dir.display(),
        files.len()
    );
    files
}

/// What one load + check + render produced.
struct Outcome {
    program: Program,
    report: Report,
    rendered: String,
}

fn run(name: &str, text: &str) -> Outcome {
    let program = Program::from_text(name, text);
    let report = check(&program, &CheckOptions::default());
    let rendered = render_all(
        &report.diagnostics,
        &program.sources,
        RenderOptions::plain(),
    );
    Outcome {
        program,
        report,
        rendered,
    }
}

/// Runs one input, turning a panic or a broken invariant into a message.
fn run_guarded(name: &str, text: &str, twice: bool) -> Result<Outcome, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| run(name, text))).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".to_string());
        format!("panicked: {message}")
    })?;
    for diagnostic in &outcome.report.diagnostics {
        spans_valid(diagnostic, &outcome.program.sources)?;
    }
    if !outcome.report.diagnostics.is_empty() && outcome.rendered.is_empty() {
        return Err("diagnostics rendered to an empty string".to_string());
    }
    if twice {
        let again = catch_unwind(AssertUnwindSafe(|| run(name, text)))
            .map_err(|_| "panicked on the second run")?;
        if again.report.diagnostics != outcome.report.diagnostics
            || again.rendered != outcome.rendered
        {
            return Err("two runs on the same text gave different diagnostics".to_string());
        }
    }
    Ok(outcome)
}

/// Every label lies inside its diagnostic's file, on character boundaries.
fn spans_valid(diagnostic: &Diagnostic, sources: &SourceMap) -> Result<(), String> {
    let text = sources.get(diagnostic.file).text();
    for label in &diagnostic.labels {
        let (start, end) = (label.span.start as usize, label.span.end as usize);
        if !(start <= end
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end))
        {
            return Err(format!(
                "label {start}..{end} of `{}` ({}) is not a span of its {}-byte file",
                diagnostic.code.as_str(),
                diagnostic.message,
                text.len()
            ));
        }
    }
    diagnostic
        .related
        .iter()
        .try_for_each(|related| spans_valid(related, sources))
}

/// The input, escaped and shortened for an assertion message.
fn show(text: &str) -> String {
    const MAX: usize = 1500;
    if text.len() <= MAX {
        format!("{text:?}")
    } else {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{:?}... ({} bytes in all)", &text[..cut], text.len())
    }
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// A random character boundary in `0..=text.len()`.
fn boundary(rng: &mut fastrand::Rng, text: &str) -> usize {
    floor_boundary(text, rng.usize(0..=text.len()))
}

fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn mutate(rng: &mut fastrand::Rng, mutation: Mutation, text: &str) -> String {
    let mut out = text.to_string();
    match mutation {
        Mutation::DeleteRange => {
            let start = boundary(rng, text);
            let end = floor_boundary(text, start + rng.usize(1..=64));
            out.replace_range(start..end.max(start), "");
        }
        Mutation::DuplicateLine => {
            let mut lines = lines(text);
            if !lines.is_empty() {
                let i = rng.usize(..lines.len());
                lines.insert(i, lines[i]);
            }
            out = lines.concat();
        }
        Mutation::SwapLines => {
            let mut lines = lines(text);
            if !lines.is_empty() {
                let (i, j) = (rng.usize(..lines.len()), rng.usize(..lines.len()));
                lines.swap(i, j);
            }
            out = lines.concat();
        }
        Mutation::InsertToken => {
            let token = TOKENS[rng.usize(..TOKENS.len())];
            let token = match rng.u8(..4) {
                0 => format!(" {token} "),
                1 => format!(" {token}"),
                2 => format!("{token} "),
                _ => token.to_string(),
            };
            out.insert_str(boundary(rng, text), &token);
        }
        Mutation::Truncate => out.truncate(boundary(rng, text)),
        Mutation::ReplaceDigit => {
            let digits: Vec<usize> = text
                .bytes()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            let replacement = match rng.u8(..5) {
                0 => "99999999999999999999999999".to_string(),
                1 => "4294967296".to_string(),
                2 => "0".to_string(),
                3 => "1.5".to_string(),
                _ => rng.digit(10).to_string(),
            };
            if digits.is_empty() {
                out.insert_str(boundary(rng, text), &replacement);
            } else {
                let i = digits[rng.usize(..digits.len())];
                out.replace_range(i..i + 1, &replacement);
            }
        }
        Mutation::RemoveDelimiter => {
            let delimiters: Vec<usize> = text
                .bytes()
                .enumerate()
                .filter(|(_, b)| b"\"{}()".contains(b))
                .map(|(i, _)| i)
                .collect();
            if !delimiters.is_empty() {
                let i = delimiters[rng.usize(..delimiters.len())];
                out.remove(i);
            }
        }
        Mutation::InsertNonAscii => {
            let insert = NON_ASCII[rng.usize(..NON_ASCII.len())];
            if rng.u8(..4) == 0 {
                out.insert_str(0, insert);
            } else {
                out.insert_str(boundary(rng, text), insert);
            }
        }
        Mutation::LineEndings => {
            out = match rng.u8(..4) {
                0 => text.replace('\n', "\r\n"),
                1 => text.replace('\n', "\r"),
                2 => lines(text)
                    .into_iter()
                    .map(|line| {
                        if rng.bool() {
                            line.replace('\n', "\r\n")
                        } else {
                            line.to_string()
                        }
                    })
                    .collect(),
                _ => {
                    let mut out = text.to_string();
                    out.insert(boundary(rng, text), '\r');
                    out
                }
            };
        }
        Mutation::LongLine => {
            let n = rng.usize(5_000..=20_000);
            let line = match rng.u8(..6) {
                0 => format!("# {}\n", "x".repeat(n)),
                1 => format!("    send \"{}\" from alice to bob\n", "long ".repeat(n / 5)),
                2 => format!("  step \"{}\" {{\n  }}\n", "é".repeat(n / 2)),
                3 => format!("    {}\n", "a".repeat(n)),
                4 => format!(
                    "    expect bob receives {} within 5s\n",
                    vec!["\"m\""; n / 5].join(", ")
                ),
                _ => format!("    partition {{{}}} | b\n", vec!["n"; n / 3].join(", ")),
            };
            let lines = lines(text);
            let at = rng.usize(0..=lines.len());
            out = lines[..at].concat() + &line + &lines[at..].concat();
        }
        Mutation::Stacked => {
            for _ in 0..rng.usize(2..=4) {
                let next = MUTATIONS[rng.usize(..MUTATIONS.len() - 1)];
                out = mutate(rng, next, &out);
            }
        }
    }
    out
}

#[test]
fn mutated_examples_never_panic() {
    let examples = examples();
    let mut failures = Vec::new();
    let mut count = 0u64;
    let mut with_errors = 0usize;
    for (file_index, (name, text)) in examples.iter().enumerate() {
        for i in 0..PER_FILE {
            let n = (file_index * PER_FILE + i) as u64;
            let mutation = MUTATIONS[n as usize % MUTATIONS.len()];
            let seed = SEED.wrapping_add(n);
            let mut rng = fastrand::Rng::with_seed(seed);
            let mutated = mutate(&mut rng, mutation, text);
            count += 1;
            match run_guarded(name, &mutated, n.is_multiple_of(10)) {
                Ok(outcome) => with_errors += usize::from(outcome.report.errors() > 0),
                Err(error) => failures.push(format!(
                    "mutation #{n} ({mutation:?}, seed {seed:#x}) of {name}: {error}\n  input: {}",
                    show(&mutated)
                )),
            }
        }
    }
    assert!(count >= 400, "only {count} mutations");
    assert!(
        failures.is_empty(),
        "{} of {count} mutated inputs failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Most damage is a syntax error; if almost nothing is reported the mutations are not biting.
    assert!(
        with_errors * 2 > count as usize,
        "only {with_errors} of {count} mutated inputs had an error"
    );
}

#[test]
fn examples_check_without_errors() {
    let examples = examples();
    for (name, text) in &examples {
        let outcome = run(name, text);
        assert_eq!(
            outcome.report.errors(),
            0,
            "{name} has errors:\n{}",
            outcome.rendered
        );
    }
    let files: Vec<(&str, &str)> = examples
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let program = Program::from_texts(&files);
    let report = check(&program, &CheckOptions::default());
    assert_eq!(report.errors(), 0, "the examples together have errors");
    assert_eq!(report.files, examples.len());
}

/// Changes that keep a file valid: other line endings, a byte order mark, tabs, comments at the
/// ends of lines, no final newline.
#[test]
fn equivalent_forms_check_without_errors() {
    for (name, text) in examples() {
        let forms = [
            ("CRLF line endings", text.replace('\n', "\r\n")),
            ("byte order mark", format!("\u{FEFF}{text}")),
            ("tab indentation", text.replace("  ", "\t")),
            ("no final newline", text.trim_end().to_string()),
            ("comment on every line", text.replace('\n', " # note\n")),
        ];
        for (form, variant) in forms {
            let outcome = run_guarded(&name, &variant, false)
                .unwrap_or_else(|e| panic!("{name} with {form}: {e}"));
            assert_eq!(
                outcome.report.errors(),
                0,
                "{name} with {form} has errors:\n{}",
                outcome.rendered
            );
        }
    }
}

/// `(after the opening brace, at the closing brace)` of every `case` block: the closing brace is
/// the first `}` alone at the start of a line after the case line.
fn case_bodies(text: &str) -> Vec<(usize, usize)> {
    let mut bodies = Vec::new();
    let mut offset = 0;
    let mut open = None;
    for line in text.split_inclusive('\n') {
        if line.starts_with("case ") {
            let brace = line.rfind('{').expect("case line ends with `{`");
            open = Some(offset + brace + 1);
        } else if line.trim_end() == "}"
            && let Some(start) = open.take()
        {
            bodies.push((start, offset));
        }
        offset += line.len();
    }
    bodies
}

#[test]
fn files_cut_inside_a_case_report_an_error_in_the_text() {
    let mut rng = fastrand::Rng::with_seed(SEED ^ 0x7472_756e_6361_7465);
    let mut failures = Vec::new();
    let mut cuts = 0;
    for (name, text) in examples() {
        let bodies = case_bodies(&text);
        assert!(!bodies.is_empty(), "no case found in {name}");
        for (start, end) in bodies {
            for _ in 0..CUTS_PER_CASE {
                let cut = floor_boundary(&text, rng.usize(start..end));
                let truncated = &text[..cut];
                cuts += 1;
                let outcome = match run_guarded(&name, truncated, false) {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        failures.push(format!("{name} cut at {cut}: {error}"));
                        continue;
                    }
                };
                let root = outcome.program.roots[0];
                let located = outcome.report.diagnostics.iter().any(|d| {
                    d.is_error()
                        && d.file == root
                        && d.primary_span()
                            .is_some_and(|span| span.start <= span.end && span.end as usize <= cut)
                });
                if !located {
                    failures.push(format!(
                        "{name} cut at {cut}: no error with a label inside the text\n  input tail: {}\n{}",
                        show(&truncated[truncated.len().saturating_sub(200)..]),
                        outcome.rendered
                    ));
                }
            }
        }
    }
    assert!(cuts >= 50, "only {cuts} cuts");
    assert!(
        failures.is_empty(),
        "{} of {cuts} cuts failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A case of `depth` nested one-line `parallel { ... }` blocks.
fn nested(depth: usize) -> String {
    format!(
        "case C1 \"nested\" {{\n  servers a\n  step \"nest\" {{ {}wait 1s{} }}\n}}\n",
        "parallel { ".repeat(depth),
        " }".repeat(depth)
    )
}

#[test]
fn moderately_nested_blocks_check() {
    let text = nested(32);
    let outcome = run_guarded("nested.jspec", &text, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.report.errors(), 0, "{}", outcome.rendered);
    assert_eq!(outcome.program.sources.get(SourceId(0)).text(), text);
}

/// Found while writing these tests: the AST builder recursed once per nested block, so ~1,000 to
/// ~2,000 nested blocks overflowed the stack (an abort, which no `catch_unwind` stops). The parser
/// now refuses nesting deeper than `MAX_NESTING` with `jspec::too_deep`. This runs on an 8 MiB
/// thread (a main thread's stack), as the CLI does.
#[test]
fn deeply_nested_blocks_are_a_diagnostic_not_a_crash() {
    let worker = std::thread::Builder::new().stack_size(8 << 20).spawn(|| {
        for depth in [500, 1_000, 1_500, 2_000, 3_000] {
            // Getting past this is the test: accepted, or rejected with a located diagnostic.
            let outcome = run_guarded("nested.jspec", &nested(depth), false)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                outcome
                    .report
                    .diagnostics
                    .iter()
                    .all(|d| d.primary_span().is_some()),
                "{}",
                outcome.rendered
            );
            assert!(
                outcome.rendered.contains("jspec::too_deep"),
                "{}",
                outcome.rendered
            );
        }
    });
    worker
        .expect("spawn a thread")
        .join()
        .expect("nested inputs handled");
}
