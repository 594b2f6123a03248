//! `jspec testrail export`: run folders as one zip a TestRail user can attach or import from.
//!
//! The bundle holds `cases.xml` (the suite XML of the cases the runs ran, see [`cases_entry`]), `runs.csv`
//! (TestRail's run export columns, one row per case per run) and, per run, the JSON TestRail's
//! API would answer: `runs/R1/get_run.json`, `get_tests.json`, `get_results_for_run.json`.
//! Local runs have no TestRail ids: runs are numbered R1, R2, ... and tests T1, T2, ... in bundle
//! order; case ids are the cases' own.

mod api_json;
mod bundle;
mod csv;
mod status;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use bundle::{BundleError, write_bundle};

use crate::model::{CaseText, STEPS_TEMPLATE, StepText};
use crate::results::TestrailResult;
use crate::run_folder::{RecordedRun, RunFolderError, read_results, read_run};

/// A run folder read for the bundle, with its bundle numbers.
#[derive(Clone, Debug)]
pub struct ExportRun {
    /// R1, R2, ... in bundle order.
    pub run_id: u64,
    pub recorded: RecordedRun,
    /// `testrail-results.json` by case id (the comment with failure details), when present.
    pub results: BTreeMap<u64, TestrailResult>,
    /// The first test id (T...) of this run; its cases follow in order.
    pub first_test_id: u64,
}

/// Reads the run folders, numbering runs and tests.
pub fn read_runs(folders: &[PathBuf]) -> Result<Vec<ExportRun>, RunFolderError> {
    let mut runs = Vec::new();
    let mut next_test = 1;
    for (index, folder) in folders.iter().enumerate() {
        let recorded = read_run(folder)?;
        // A run interrupted before its first case has no results file: events suffice.
        let results = read_results(folder)
            .map(|body| body.results.into_iter().map(|r| (r.case_id, r)).collect())
            .unwrap_or_default();
        let count = recorded.cases.len() as u64;
        runs.push(ExportRun {
            run_id: index as u64 + 1,
            recorded,
            results,
            first_test_id: next_test,
        });
        next_test += count;
    }
    Ok(runs)
}

/// The cases the runs ran, once each (by id, else by title), as TestRail fields: what the runs
/// know of them (title, suite, section, step titles and expectations).
pub fn cases_of(runs: &[ExportRun]) -> Vec<CaseText> {
    let mut cases: Vec<CaseText> = Vec::new();
    for case in runs.iter().flat_map(|run| &run.recorded.cases) {
        let seen = cases.iter().any(|known| match case.case.id {
            Some(id) => known.id == Some(id),
            None => known.id.is_none() && known.title == case.case.title,
        });
        if seen {
            continue;
        }
        cases.push(CaseText {
            id: case.case.id,
            title: case.case.title.clone(),
            suite: case.case.suite.clone(),
            section: status::section_levels(case.case.section.as_deref()),
            steps: case
                .steps
                .iter()
                .filter(|step| step.kind == "step")
                .map(|step| StepText {
                    content: std::iter::once(step.title.as_str())
                        .chain(step.actions.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    expected: step.expected.join("\n"),
                })
                .collect(),
            ..CaseText::default()
        });
    }
    cases
}

/// The bundle's case file: the suite XML TestRail imports (`Export to XML`'s format), named
/// after the runs' suite.
pub fn cases_entry(cases: &[CaseText]) -> (&'static str, Vec<u8>) {
    let name = cases
        .iter()
        .find_map(|case| case.suite.clone())
        .unwrap_or_else(|| "jspec".to_string());
    let xml = crate::suite_xml::write(&crate::suite_xml::Suite::from_cases(&name, cases));
    ("cases.xml", xml.into_bytes())
}

/// The template name every exported row carries.
pub(crate) const TEMPLATE: &str = STEPS_TEMPLATE;
