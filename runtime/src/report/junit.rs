//! `junit.xml` in the shape TestRail's CLI accepts (`trcli parse_junit`): one `<testsuite>` per
//! section path (trcli maps a testsuite to a section), one `<testcase name="[C123] Title">` per
//! case, with the `test_id` property for `--case-matcher property` and one
//! `testrail_result_step` per TestRail step.
//!
//! Statuses: trcli maps a passing testcase to Passed (1), `<failure>` to Failed (5) and
//! `<skipped>` to Retest (4). JUnit has no "blocked", and trcli raises on a "blocked" step
//! status, so a blocked case is written as `<skipped message="blocked: reason"/>` with skipped
//! steps and reaches TestRail as Retest; TestRail's Blocked (2) only comes through our own
//! `testrail-results.json`. An interrupted case is `<skipped message="interrupted"/>` (Retest).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_xml::Writer;
use quick_xml::escape::{escape, partial_escape};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::event::{BlockKind, CaseResult, FailureKind, Reporter, RunEvent, Status};
use jspec_results::write_atomic;
use jspec_results::{case_comment, failure_text, first_failure};

/// The file name in the run folder.
pub const JUNIT_FILE: &str = "junit.xml";

/// Collects finished cases and writes `junit.xml` atomically when the run finishes.
#[derive(Debug)]
pub struct JunitReporter {
    path: PathBuf,
    version: Option<String>,
    results: Vec<CaseResult>,
    /// Results not written yet.
    dirty: bool,
}

impl JunitReporter {
    /// Writes `<run_dir>/junit.xml`.
    pub fn new(run_dir: &Path) -> Self {
        Self::at(run_dir.join(JUNIT_FILE))
    }

    /// Writes the given file.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            version: None,
            results: Vec::new(),
            dirty: false,
        }
    }
}

impl Reporter for JunitReporter {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted { jspec_version, .. } => {
                self.version = Some(jspec_version.clone());
            }
            // Rewritten after every burst of results (see `flush`), so a run that dies keeps
            // what it finished.
            RunEvent::CaseFinished { result } => {
                self.results.push(result.clone());
                self.dirty = true;
            }
            RunEvent::RunFinished { .. } => {
                self.dirty = false;
                write_junit(&self.results, &self.path, self.version.as_deref())?;
            }
            _ => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.dirty) {
            write_junit(&self.results, &self.path, self.version.as_deref())?;
        }
        Ok(())
    }
}

/// Writes `results` as JUnit XML to `path`, atomically (temporary file + rename). `version`, when
/// given, becomes the result field `version:<jspec version>`.
pub fn write_junit(results: &[CaseResult], path: &Path, version: Option<&str>) -> io::Result<()> {
    write_atomic(path, render_junit(results, version)?.as_bytes())
}

/// The JUnit XML document for `results`.
pub fn render_junit(results: &[CaseResult], version: Option<&str>) -> io::Result<String> {
    let mut groups: Vec<(Vec<&str>, Vec<&CaseResult>)> = Vec::new();
    for result in results {
        let levels = section_levels(result.case.section.as_deref());
        match groups.iter_mut().find(|(key, _)| *key == levels) {
            Some((_, members)) => members.push(result),
            None => groups.push((levels, vec![result])),
        }
    }

    let mut xml = Xml(Writer::new_with_indent(Vec::new(), b' ', 2));
    xml.0
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all = Counts::of(results.iter());
    xml.start("testsuites", &all.attributes("jspec"))?;
    for (levels, members) in &groups {
        let name = if levels.is_empty() {
            "jspec".to_owned()
        } else {
            levels.join(" > ")
        };
        let counts = Counts::of(members.iter().copied());
        xml.start("testsuite", &counts.attributes(&name))?;
        for result in members {
            write_case(&mut xml, result, levels, version)?;
        }
        xml.end("testsuite")?;
    }
    xml.end("testsuites")?;
    let mut bytes = xml.0.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(io::Error::other)
}

fn write_case(
    xml: &mut Xml,
    result: &CaseResult,
    levels: &[&str],
    version: Option<&str>,
) -> io::Result<()> {
    let case = &result.case;
    let name = match case.id {
        Some(id) => format!("[C{id}] {}", case.title),
        None => case.title.clone(),
    };
    let prefix = case.suite.clone().unwrap_or_else(|| {
        Path::new(&case.file)
            .file_stem()
            .map_or_else(|| "jspec".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    let classname = std::iter::once(prefix.as_str())
        .chain(levels.iter().copied())
        .collect::<Vec<_>>()
        .join(".");
    let time = seconds(result.elapsed);
    xml.start(
        "testcase",
        &[("classname", &classname), ("name", &name), ("time", &time)],
    )?;

    xml.start::<&str>("properties", &[])?;
    if let Some(id) = case.id {
        xml.property("test_id", &format!("C{id}"))?;
    }
    for step in result.steps.iter().filter(|s| s.kind == BlockKind::Step) {
        // trcli accepts passed|failed|skipped|untested and raises on "blocked".
        let status = match step.status {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Blocked | Status::Retest | Status::Skipped => "skipped",
            Status::Error => "untested",
        };
        xml.property("testrail_result_step", &format!("{status}:{}", step.title))?;
    }
    let comment = case_comment(result);
    if let Some(comment) = &comment {
        xml.property("testrail_result_comment", comment)?;
    }
    if let Some(version) = version {
        xml.property("testrail_result_field", &format!("version:{version}"))?;
    }
    xml.end("properties")?;

    let comment = comment.unwrap_or_default();
    match result.status {
        Status::Passed => {}
        Status::Failed | Status::Error => {
            let text = result
                .steps
                .iter()
                .filter_map(|step| step.failure.as_ref())
                .map(failure_text)
                .collect::<Vec<_>>()
                .join("\n\n");
            let first = first_failure(result);
            let message = first.map_or(comment.as_str(), |f| &f.message);
            let kind = match (first, result.status) {
                (Some(failure), _) => failure.kind,
                (None, Status::Error) => FailureKind::Harness,
                (None, _) => FailureKind::Expectation,
            };
            let element = match result.status {
                Status::Error => "error",
                _ => "failure",
            };
            let attrs = [("type", kind.as_str()), ("message", message)];
            xml.text_element(
                element,
                &attrs,
                if text.is_empty() { &comment } else { &text },
            )?;
        }
        Status::Blocked | Status::Retest | Status::Skipped => {
            xml.empty("skipped", &[("message", &comment)])?;
        }
    }
    xml.end("testcase")
}

/// A section path split into its levels: "PKI > Server to server" -> ["PKI", "Server to server"].
fn section_levels(section: Option<&str>) -> Vec<&str> {
    section
        .map(|s| {
            s.split('>')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.3}", elapsed.as_secs_f64())
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    elapsed: Duration,
}

impl Counts {
    fn of<'a>(results: impl Iterator<Item = &'a CaseResult>) -> Self {
        let mut counts = Counts::default();
        for result in results {
            counts.tests += 1;
            counts.elapsed += result.elapsed;
            match result.status {
                Status::Passed => {}
                Status::Failed => counts.failures += 1,
                Status::Error => counts.errors += 1,
                Status::Blocked | Status::Retest | Status::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    fn attributes(&self, name: &str) -> [(&'static str, String); 6] {
        [
            ("name", name.to_owned()),
            ("tests", self.tests.to_string()),
            ("failures", self.failures.to_string()),
            ("errors", self.errors.to_string()),
            ("skipped", self.skipped.to_string()),
            ("time", seconds(self.elapsed)),
        ]
    }
}

/// A thin layer over quick-xml's writer that escapes every attribute and text.
struct Xml(Writer<Vec<u8>>);

impl Xml {
    fn start<V: AsRef<str>>(&mut self, name: &str, attrs: &[(&str, V)]) -> io::Result<()> {
        self.0.write_event(Event::Start(element(name, attrs)))
    }

    fn empty<V: AsRef<str>>(&mut self, name: &str, attrs: &[(&str, V)]) -> io::Result<()> {
        self.0.write_event(Event::Empty(element(name, attrs)))
    }

    fn end(&mut self, name: &str) -> io::Result<()> {
        self.0.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text_element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.start(name, attrs)?;
        // Quotes need no escaping in text: keep the stanzas readable.
        let text = xml_chars(text);
        self.0
            .write_event(Event::Text(BytesText::from_escaped(partial_escape(&text))))?;
        self.end(name)
    }

    fn property(&mut self, name: &str, value: &str) -> io::Result<()> {
        self.empty("property", &[("name", name), ("value", value)])
    }
}

fn element<'a, V: AsRef<str>>(name: &'a str, attrs: &[(&str, V)]) -> BytesStart<'a> {
    let mut start = BytesStart::new(name);
    for (key, value) in attrs {
        // Escaped here rather than by quick-xml so that line breaks and tabs survive attribute
        // value normalization as character references.
        let value = escape(xml_chars(value.as_ref()))
            .replace('\n', "&#10;")
            .replace('\r', "&#13;")
            .replace('\t', "&#9;");
        start.push_attribute((key.as_bytes(), value.as_bytes()));
    }
    start
}

/// XML 1.0 cannot carry most control characters, even escaped: they become U+FFFD.
fn xml_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}
