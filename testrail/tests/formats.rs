//! The case files of every example and spec: the suite XML reads back to the same sections,
//! cases, fields and steps; the CSV has one row per step; the JSON one body per case.

use std::path::{Path, PathBuf};

use jspec_lang::load::Program;
use jspec_testrail::case_text::program_cases;
use jspec_testrail::model::{CaseText, StepText};
use jspec_testrail::{case_csv, case_json, suite_xml};

fn jspec_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            jspec_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "jspec") {
            out.push(path);
        }
    }
}

fn all_cases() -> Vec<CaseText> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    jspec_files(&root.join("tests/examples"), &mut files);
    jspec_files(&root.join("specs"), &mut files);
    let program = Program::load(&files);
    assert!(program.diagnostics.is_empty(), "{:?}", program.diagnostics);
    let cases = program_cases(&program);
    assert!(cases.len() > 20, "only {} cases", cases.len());
    cases
}

#[test]
fn the_suite_xml_reads_back_structurally() {
    let cases = all_cases();
    let suite = suite_xml::Suite::from_cases("JChat resilience", &cases);
    let xml = suite_xml::write(&suite);
    let read = suite_xml::read(&xml).expect("our XML reads back");
    assert_eq!(read, suite);
    // Flattening visits sections depth first: compare in a stable order.
    let key = |c: &CaseText| (c.id, c.title.clone());
    let mut expected = cases.clone();
    let mut actual = read.cases();
    expected.sort_by_key(key);
    actual.sort_by_key(key);
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(&expected) {
        assert_eq!(a, e);
        assert!(!a.section.is_empty(), "{}", a.title);
        assert!(a.steps.iter().all(|s| !s.content.is_empty()));
    }
}

#[test]
fn special_characters_are_escaped() {
    let case = CaseText {
        id: Some(7),
        title: "a & b < c > d \"e\" 'f'".into(),
        section: vec!["A".into(), "B".into()],
        preconditions: "line 1\nline 2".into(),
        steps: vec![StepText {
            content: "<iq type=\"get\"/>".into(),
            expected: String::new(),
        }],
        ..CaseText::default()
    };
    let suite = suite_xml::Suite::from_cases("S", std::slice::from_ref(&case));
    let xml = suite_xml::write(&suite);
    assert!(xml.contains("<title>a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;</title>"));
    let back = suite_xml::read(&xml).expect("reads").cases();
    assert_eq!(back[0].title, case.title);
    assert_eq!(back[0].preconditions, case.preconditions);
    assert_eq!(back[0].steps, case.steps);
}

#[test]
fn a_testrail_export_reads() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<sections>
  <section>
    <name>Top</name>
    <sections><section><name>Inner</name><cases><case>
      <id>C12</id><title>T</title><references>R1, R2</references>
      <custom><preconds><![CDATA[x < y]]></preconds><steps_separated>
        <step><index>1</index><content>do &#38; see</content><expected>ok</expected></step>
      </steps_separated></custom>
    </case></cases></section></sections>
  </section>
</sections>"#;
    let cases = suite_xml::read(xml).expect("reads").cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, Some(12));
    assert_eq!(cases[0].section, ["Top", "Inner"]);
    assert_eq!(cases[0].refs, ["R1", "R2"]);
    assert_eq!(cases[0].preconditions, "x < y");
    assert_eq!(cases[0].steps[0].content, "do & see");
    assert!(suite_xml::read("<suite><name>x</suite>").is_err());
    assert!(suite_xml::read("<suite><name>x</name>").is_err());
    assert!(suite_xml::read("").is_err());
}

#[test]
fn csv_has_a_row_per_step_and_json_a_body_per_case() {
    let cases = all_cases();
    let csv = case_csv::write(&cases).expect("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let steps: usize = cases.iter().map(|c| c.steps.len().max(1)).sum();
    assert_eq!(rows.len(), steps);
    let titled = rows.iter().filter(|r| !r[1].is_empty()).count();
    assert_eq!(titled, cases.len());
    let json: serde_json::Value =
        serde_json::from_str(&case_json::write(&cases).expect("json")).expect("valid JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(cases.len()));
}
