//! `jspec testrail push`: a run folder's results into a TestRail run, through API v2.
//!
//! Order: resolve the project (`get_projects`, every page) unless given by id; find the "Step
//! Results" field (`get_result_fields`, type 11) for its system name; create the run
//! (`add_run`, only the run's cases) or, with an existing run, make sure it holds the cases:
//! `update_run` replaces a run's selection, so it is only called with the run's current cases
//! plus the missing ones; then `add_results_for_cases` in chunks of 250, each case's transcripts
//! with `add_attachment_to_result`, and `close_run` when asked.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::results::{DEFAULT_STEP_RESULTS_FIELD, TestrailResults};
use serde_json::{Value, json};

use crate::api::{ApiError, Request, Transport, id_text, next_page, page_items};
use crate::run_folder::transcripts;

/// Results per `add_results_for_cases` call (TestRail's bulk limit is 250).
const CHUNK: usize = 250;
/// TestRail's field type id of "Step Results".
const STEP_RESULTS_TYPE: u64 = 11;

/// The project, by id or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Project {
    Id(u64),
    Name(String),
}

impl Project {
    /// `12` or `P12` is an id; anything else a name.
    pub fn parse(text: &str) -> Self {
        let digits = text.strip_prefix('P').unwrap_or(text);
        match digits.parse() {
            Ok(id) => Project::Id(id),
            Err(_) => Project::Name(text.to_owned()),
        }
    }
}

/// Where the results go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A new run with this name.
    NewRun(String),
    /// An existing run.
    Run(u64),
}

/// What to push.
#[derive(Clone, Debug)]
pub struct PushPlan {
    pub run_folder: PathBuf,
    pub project: Project,
    pub suite_id: u64,
    pub target: Target,
    pub close: bool,
}

/// What the push did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushReport {
    pub run_id: String,
    pub results: usize,
    pub attachments: usize,
}

/// Why a push stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("TestRail has no project named {0:?} (the user may not see it)")]
    NoProject(String),
    #[error("TestRail's answer to {0} has no id")]
    NoId(&'static str),
    #[error("TestRail answered {results} results for {sent} sent")]
    Mismatch { sent: usize, results: usize },
}

/// Runs the push; `api` sends the requests (or prints them for a dry run).
pub fn push<T: Transport>(
    api: &mut T,
    plan: &PushPlan,
    body: &TestrailResults,
) -> Result<PushReport, PushError> {
    let project_id = match &plan.project {
        Project::Id(id) => id.to_string(),
        Project::Name(name) => find_project(api, name)?,
    };
    let step_field = step_results_field(api)?;
    let case_ids: Vec<u64> = body.results.iter().map(|r| r.case_id).collect();
    let run_id = match &plan.target {
        Target::NewRun(name) => {
            let run = api.call(Request::post(
                format!("add_run/{project_id}"),
                json!({
                    "suite_id": plan.suite_id,
                    "name": name,
                    "include_all": false,
                    "case_ids": case_ids,
                }),
            ))?;
            id_text(&run["id"]).ok_or(PushError::NoId("add_run"))?
        }
        Target::Run(id) => {
            include_cases(api, *id, &case_ids)?;
            id.to_string()
        }
    };
    let mut report = PushReport {
        run_id: run_id.clone(),
        ..PushReport::default()
    };
    for chunk in body.results.chunks(CHUNK) {
        let results: Vec<Value> = chunk
            .iter()
            .map(|result| result_json(result, step_field.as_deref()))
            .collect();
        let sent = results.len();
        let answer = api.call(Request::post(
            format!("add_results_for_cases/{run_id}"),
            json!({ "results": results }),
        ))?;
        // The answer lists the results in the order sent.
        let ids = page_items(&answer, "results");
        if ids.len() != sent {
            return Err(PushError::Mismatch {
                sent,
                results: ids.len(),
            });
        }
        report.results += sent;
        for (result, answer) in chunk.iter().zip(ids) {
            let result_id =
                id_text(&answer["id"]).ok_or(PushError::NoId("add_results_for_cases"))?;
            for file in transcripts(&plan.run_folder, result.case_id) {
                api.call(Request::attach(
                    format!("add_attachment_to_result/{result_id}"),
                    file,
                ))?;
                report.attachments += 1;
            }
        }
    }
    if plan.close {
        api.call(Request::post(format!("close_run/{run_id}"), json!({})))?;
    }
    Ok(report)
}

/// The id of the project named `name`, searching every page of `get_projects`.
fn find_project<T: Transport>(api: &mut T, name: &str) -> Result<String, PushError> {
    let mut path = Some("get_projects".to_owned());
    while let Some(current) = path {
        let page = api.call(Request::get(current))?;
        let found = page_items(&page, "projects")
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .and_then(|p| id_text(&p["id"]));
        if let Some(id) = found {
            return Ok(id);
        }
        path = next_page(&page);
    }
    Err(PushError::NoProject(name.to_owned()))
}

/// The system name of the active "Step Results" field, if the instance has one.
fn step_results_field<T: Transport>(api: &mut T) -> Result<Option<String>, PushError> {
    let fields = api.call(Request::get("get_result_fields"))?;
    let name = page_items(&fields, "result_fields")
        .iter()
        .find(|f| {
            f["type_id"].as_u64() == Some(STEP_RESULTS_TYPE)
                && f["is_active"].as_bool().unwrap_or(true)
        })
        .and_then(|f| f["system_name"].as_str())
        .map(str::to_owned);
    if name.is_none() {
        tracing::warn!("TestRail has no Step Results field: the results go without their steps");
    }
    Ok(name)
}

/// Adds the cases missing from an existing run. `update_run` replaces the selection, so the run's
/// own cases are sent along; a run with every case (`include_all`) needs nothing.
fn include_cases<T: Transport>(
    api: &mut T,
    run_id: u64,
    case_ids: &[u64],
) -> Result<(), PushError> {
    let run = api.call(Request::get(format!("get_run/{run_id}")))?;
    if run["include_all"].as_bool().unwrap_or(false) {
        return Ok(());
    }
    let mut selected = BTreeSet::new();
    let mut path = Some(format!("get_tests/{run_id}"));
    while let Some(current) = path {
        let page = api.call(Request::get(current))?;
        selected.extend(
            page_items(&page, "tests")
                .iter()
                .filter_map(|t| t["case_id"].as_u64()),
        );
        path = next_page(&page);
    }
    let missing = case_ids.iter().any(|id| !selected.contains(id));
    if missing {
        selected.extend(case_ids.iter().copied());
        api.call(Request::post(
            format!("update_run/{run_id}"),
            json!({ "include_all": false, "case_ids": selected }),
        ))?;
    }
    Ok(())
}

/// One result as the API takes it, with the step results under the instance's field name (or
/// without them when the instance has no such field).
fn result_json(result: &crate::results::TestrailResult, step_field: Option<&str>) -> Value {
    let mut value = serde_json::to_value(result).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        let steps = map
            .remove(DEFAULT_STEP_RESULTS_FIELD)
            .unwrap_or(Value::Array(Vec::new()));
        if let Some(field) = step_field {
            map.insert(field.to_owned(), steps);
        }
        if map.get("comment").and_then(Value::as_str) == Some("") {
            map.remove("comment");
        }
    }
    value
}
