//! The JSON TestRail's API answers for a run: `get_run`, `get_tests`, `get_results_for_run`
//! (the paginated form, one page), so tools written against the API can read a local run.

use serde_json::{Value, json};

use super::ExportRun;
use super::status::{status_id, unix_seconds};
use jspec_results::testrail_elapsed;

/// `get_run/{run_id}`.
pub(crate) fn get_run(run: &ExportRun) -> Value {
    let count = |id: u8| {
        run.recorded
            .cases
            .iter()
            .filter(|c| status_id(&c.status) == id)
            .count()
    };
    let finished = run.recorded.finished_at.as_deref().and_then(unix_seconds);
    json!({
        "id": run.run_id,
        "name": run.recorded.name,
        "description": format!("jspec {}", run.recorded.jspec_version.as_deref().unwrap_or("")),
        "suite_id": null,
        "milestone_id": null,
        "assignedto_id": null,
        "include_all": false,
        "is_completed": finished.is_some(),
        "completed_on": finished,
        "created_on": run.recorded.started_at.as_deref().and_then(unix_seconds),
        "passed_count": count(1),
        "blocked_count": count(2),
        "untested_count": 0,
        "retest_count": count(4),
        "failed_count": count(5),
        "refs": null,
        "url": null,
    })
}

/// `get_tests/{run_id}`.
pub(crate) fn get_tests(run: &ExportRun) -> Value {
    let tests: Vec<Value> = run
        .recorded
        .cases
        .iter()
        .enumerate()
        .map(|(offset, case)| {
            json!({
                "id": run.first_test_id + offset as u64,
                "case_id": case.case.id,
                "run_id": run.run_id,
                "status_id": status_id(&case.status),
                "title": case.case.title,
                "template_id": null,
                "custom_steps_separated": case.steps.iter().filter(|s| s.kind == "step")
                    .map(|s| json!({"content": s.title, "expected": s.expected.join("\n")}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    page("tests", tests)
}

/// `get_results_for_run/{run_id}`: one result per test, newest first as TestRail lists them.
pub(crate) fn get_results_for_run(run: &ExportRun) -> Value {
    let mut results: Vec<Value> = run
        .recorded
        .cases
        .iter()
        .enumerate()
        .map(|(offset, case)| {
            let sent = case.case.id.and_then(|id| run.results.get(&id));
            let steps: Vec<Value> = case
                .steps
                .iter()
                .filter(|s| s.kind == "step")
                .map(|s| {
                    json!({"content": s.title, "expected": s.expected.join("\n"),
                           "actual": s.actual, "status_id": status_id(&s.status)})
                })
                .collect();
            let test_id = run.first_test_id + offset as u64;
            json!({
                "id": test_id,
                "test_id": test_id,
                "status_id": status_id(&case.status),
                "comment": sent.map(|r| r.comment.clone()).or_else(|| case.reason.clone()),
                "version": run.recorded.jspec_version,
                "elapsed": testrail_elapsed(std::time::Duration::from_millis(case.elapsed_ms)),
                "defects": null,
                "created_by": null,
                "created_on": unix_seconds(&case.finished_at),
                "custom_step_results": steps,
            })
        })
        .collect();
    results.reverse();
    page("results", results)
}

fn page(key: &str, items: Vec<Value>) -> Value {
    json!({
        "offset": 0,
        "limit": 250,
        "size": items.len(),
        "_links": {"next": null, "prev": null},
        key: items,
    })
}
