//! The export bundle of the checked-in sample run (tests/testrail/run-sample, see
//! tests/testrail/sample.jspec): its entries, runs.csv and the API-shaped JSON.

use std::io::Read;
use std::path::PathBuf;

use jspec_testrail::export::{read_runs, write_bundle};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/testrail/run-sample")
}

fn entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    let mut text = String::new();
    zip.by_name(name)
        .expect("entry")
        .read_to_string(&mut text)
        .expect("UTF-8");
    text
}

#[test]
fn two_runs_become_one_zip_with_csv_and_api_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bundle.zip");
    let runs = read_runs(&[sample(), sample()]).expect("readable runs");
    let names = write_bundle(&runs, &out).expect("written");
    assert_eq!(names[..2], ["cases.xml", "runs.csv"]);
    assert!(names.contains(&"runs/R2/get_results_for_run.json".to_owned()));

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("a zip");
    let csv = entry(&mut zip, "runs.csv");
    assert!(csv.starts_with(
        "ID,Title,Assigned To,Case ID,Comment,Defects,Expected Result,Preconditions,Priority,\
         References,Run,Run ID,Section,Section Hierarchy,Status,Steps,Steps (Step),\
         Steps (Expected Result),Steps (Status),Template,Tested By,Tested On,Type\r\n"
    ));
    // Four cases per run, two runs: eight rows, tests numbered across the bundle.
    assert_eq!(csv.matches(",run-sample,R").count(), 8);
    assert!(csv.contains("T6,A message that never comes,,C9602,\"bob did not receive"));
    assert!(csv.contains("\"1. Failed\n2. Retest\""));
    assert!(csv.contains(",Testrail > Sample,Blocked,"));

    let run: serde_json::Value =
        serde_json::from_str(&entry(&mut zip, "runs/R1/get_run.json")).expect("JSON");
    assert_eq!(run["passed_count"], 2);
    assert_eq!(run["failed_count"], 1);
    assert_eq!(run["blocked_count"], 1);
    let results: serde_json::Value =
        serde_json::from_str(&entry(&mut zip, "runs/R2/get_results_for_run.json")).expect("JSON");
    assert_eq!(results["size"], 4);
    let failed = &results["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["status_id"] == 5)
        .expect("the failed case")["custom_step_results"];
    assert_eq!(failed[0]["status_id"], 5);
    assert_eq!(failed[1]["status_id"], 4);
    let suite = jspec_testrail::suite_xml::read(&entry(&mut zip, "cases.xml")).expect("suite XML");
    let cases = suite.cases();
    assert_eq!(cases.len(), 4, "each case once");
    assert_eq!(cases[0].section, ["Testrail", "Sample"]);
}

#[test]
fn a_missing_run_folder_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = read_runs(&[dir.path().join("nowhere")]).expect_err("no events.jsonl");
    assert!(error.to_string().contains("events.jsonl"));
}
